"""index_coverage: every note directly in a folder is linked from the folder's index note."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from kbmine.mine.context import folder_of
from kbmine.mine.kinds import Kind, Params, kind
from kbmine.mine.spec import MineSettings, Scope
from kbmine.model import Note, relative_path


@kind
class IndexCoverage(Kind):
    """``adr/README.md`` lists every ADR: a folder whose index lists its notes is browsed
    through the index, so a note left off it is a note readers never find (it was
    added in a hurry, or renamed and relinked everywhere but there).

    The index of a folder is a note directly in it that the KB's index globs
    name (``orphan-note``'s ``roots``: ``README.md``, ``index.md`` and the
    like, in that order) or, failing those, the note named after the folder.
    The spec covers the notes directly in the folder (a subfolder has its own
    index); any link from the index counts. It is proposed only where the
    index exists and already lists most of the folder's notes.
    """

    name = "index_coverage"
    summary = "every note directly in a folder is linked from the folder's index note"
    priority = 55
    parameters = {"index": None}
    uses_context = True

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        if scope.key or not notes:
            return
        # The whole KB kept in one folder (``kb/``) has no folder scope of its own: its folder is the common one.
        folder = scope.folder or posixpath.commonpath([folder_of(note.path) for note in notes])
        index = self.context.index_of(folder)
        if index is None:
            return
        params = {"index": index}
        listed = [note for note in notes if self.applies(note, params)]
        if listed and sum(self.holds(note, params) for note in listed) >= settings.min_confidence * len(listed):
            yield params

    def applies(self, note: Note, params: Params) -> bool:
        index = str(params["index"])
        return note.path != index and folder_of(note.path) == folder_of(index)

    def holds(self, note: Note, params: Params) -> bool:
        index = str(params["index"])
        return index in self.context.notes and note.path in self.context.targets(index)

    def statement(self, scope: Scope, params: Params) -> str:
        index = str(params["index"])
        folder = folder_of(index)
        where = f"directly under {folder}/" if folder else "at the top of the KB"
        return f"every note {where} is linked from the folder's index `{index}`"

    def fix(self, note: Note, params: Params) -> str:
        index = str(params["index"])
        if index not in self.context.notes:
            return f"the index `{index}` is gone: restore it with a link to this note, or reject the spec"
        relative = relative_path(note.path, folder_of(index))
        relative = f"<{relative}>" if " " in relative else relative
        return f"add a link to this note to the index `{index}` (e.g. `[{note.title}]({relative})`)"

    def anchor_key(self, params: Params) -> str | None:
        return None
