"""links_via_index: notes outside a folder reach its notes only through the folder's index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kbmine.mine.context import folder_of
from kbmine.mine.kinds import Kind, Params, kind
from kbmine.mine.spec import MineSettings, Scope
from kbmine.model import Note, relative_path


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder + "/")


@kind
class LinksViaIndex(Kind):
    """``see [the ADRs](adr/README.md)``, never ``adr/0007-...md`` from elsewhere: a KB whose
    folders are entered through their index keeps working when a folder's notes are
    renamed, split or retired, since only the index has to follow. A note outside
    the folder that links straight to one of its notes bypasses that contract.

    The folder's index is found as for ``index_coverage``. A note counts towards
    the spec when it sits outside the folder (not in it, nor in a subfolder of
    it) and links to the folder's index or to a note directly in the folder; it
    holds when every such link goes to the index. Only the whole-KB scope
    proposes it, once per folder whose index the outside linkers mostly use.
    """

    name = "links_via_index"
    summary = "notes outside a folder link to its notes only through the folder's index"
    priority = 60
    parameters = {"index": None}
    uses_context = True

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        if scope.folder or scope.key or not notes:
            return
        for folder in sorted({folder_of(note.path) for note in notes} - {""}):
            index = self.context.index_of(folder)
            if index is None:
                continue
            params = {"index": index}
            linkers = [note for note in notes if self.applies(note, params)]
            members = sum(folder_of(path) == folder and path != index for path in self.context.notes)
            if members >= 2 and linkers and sum(self.holds(n, params) for n in linkers) >= settings.min_confidence * len(linkers):
                yield params

    def _into(self, note: Note, index: str) -> set[str]:
        """The notes directly in ``index``'s folder (the index included) that ``note`` links to."""
        folder = folder_of(index)
        return {target for target in self.context.targets(note.path) if folder_of(target) == folder}

    def applies(self, note: Note, params: Params) -> bool:
        index = str(params["index"])
        return not _inside(note.path, folder_of(index)) and bool(self._into(note, index))

    def holds(self, note: Note, params: Params) -> bool:
        index = str(params["index"])
        return self._into(note, index) <= {index}

    def statement(self, scope: Scope, params: Params) -> str:
        index = str(params["index"])
        return f"a note outside {folder_of(index)}/ links to that folder's notes only through its index `{index}`"

    def fix(self, note: Note, params: Params) -> str:
        index = str(params["index"])
        bypassed = sorted(self._into(note, index) - {index})
        relative = relative_path(index, folder_of(note.path))
        shown = ", ".join(f"`{path}`" for path in bypassed[:3])
        return f"link the index `{index}` (`{relative}`) instead of {shown}"

    def anchor_key(self, params: Params) -> str | None:
        return None
