"""links_to_kind: every note of a scope links to at least one note of another kind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kbmine.errors import ConfigError
from kbmine.mine.kinds import Kind, Params, kind
from kbmine.mine.spec import MineSettings, Scope, Spec, value_tokens
from kbmine.model import Note

#: A kind of target holding more than this share of the KB says little ("links to some note").
MAX_TARGET_SHARE = 0.5
#: Two targets sharing this share of their notes (Jaccard) say the same; the better one is kept.
NEAR_SAME = 0.8
#: At most this many target kinds per scope: the strongest, so one busy scope cannot flood the list.
MAX_PER_SCOPE = 2


@kind
class LinksToKind(Kind):
    """Every ADR links to the requirement it answers, every source summary to the source
    note it summarises: when the notes of one kind always point at a note of
    another, a note that does not is missing its reason to exist, or points at
    the wrong kind of note.

    The target kind is a folder (``folder:kb/sources``) or a frontmatter value
    (``where:type=adr``) and any link counts (body or frontmatter, embeds
    too) once it resolves to such a note; index notes are left out. Proposed only for targets that are
    a minority of the KB and do not mostly hold the scope's own notes
    (linking to "some note" or "a peer" says nothing); of two targets one
    inside the other only the narrower, which says more; of two naming
    nearly the same notes (a folder and its type) one; and at most
    :data:`MAX_PER_SCOPE` per scope, the best supported.
    """

    name = "links_to_kind"
    summary = "every note of a scope links to at least one note of a given folder or frontmatter value"
    priority = 70
    parameters = {"target": None}
    uses_context = True

    def validate(self, params: Params) -> str | None:
        problem = super().validate(params)
        if problem is not None:
            return problem
        try:
            target = Scope.parse(str(params["target"]))
        except ConfigError as exc:
            return f"parameter 'target': {exc}"
        return "parameter 'target' must be a folder or a frontmatter value, not the whole KB" if target == Scope() else None

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        notes = [note for note in notes if self.applies(note, {})]
        if not notes:
            return
        counts: Counter[str] = Counter()
        for note in notes:
            counts.update(self._kinds_linked(note, settings.scope_keys))
        own = {note.path for note in notes}
        most = MAX_TARGET_SHARE * len(self.context.notes)
        qualifying: dict[str, frozenset[str]] = {}
        for target, count in counts.items():
            members = self._members(target)
            if count < settings.min_confidence * len(notes) or len(members) > most:
                continue
            if len(own & members) * 2 >= len(own):
                continue  # the scope's notes are most of the target's: "links to a peer"
            qualifying[target] = members
        narrowest = [
            target
            for target, members in qualifying.items()
            if not any(theirs < members for theirs in qualifying.values())
        ]
        narrowest.sort(key=lambda target: (-counts[target], len(qualifying[target]), target))
        chosen: list[frozenset[str]] = []
        for target in narrowest:
            members = qualifying[target]
            if any(len(members & other) >= NEAR_SAME * len(members | other) for other in chosen):
                continue  # a folder and a value naming nearly the same notes: one statement
            chosen.append(members)
            yield {"target": target}
            if len(chosen) == MAX_PER_SCOPE:
                return

    def applies(self, note: Note, params: Params) -> bool:
        """Index notes list the scope's notes; what they link to is not what the scope's notes do."""
        return not self.context.is_index(note.path)

    def holds(self, note: Note, params: Params) -> bool:
        members = self._members(str(params["target"]))
        return not members.isdisjoint(self.context.targets(note.path))

    def statement(self, scope: Scope, params: Params) -> str:
        return f"{scope.describe()} links to at least one note {_describe(str(params['target']))}"

    def fix(self, note: Note, params: Params) -> str:
        return f"link the note to the note {_describe(str(params['target']))} it builds on (it links to none)"

    def anchor_key(self, params: Params) -> str | None:
        return None

    def implies(self, params: Params, other: Spec) -> bool:
        """Linking to a note of ``a/b`` is linking to a note of ``a``."""
        if other.kind != self.name:
            return False
        mine, theirs = str(params["target"]), str(other.parameters["target"])
        return mine == theirs or (mine.startswith("folder:") and theirs.startswith("folder:") and mine.startswith(theirs + "/"))

    def _kinds_linked(self, note: Note, keys: Sequence[str]) -> set[str]:
        """Every target kind (the folders holding them, their scope-key values) ``note`` links to."""
        kinds: set[str] = set()
        notes = self.context.notes
        for target in self.context.targets(note.path):
            parts = target.split("/")[:-1]
            kinds.update("folder:" + "/".join(parts[: depth + 1]) for depth in range(len(parts)))
            for key in keys:
                tokens = value_tokens(notes[target].frontmatter.get(key))
                if tokens is not None and len(tokens) == 1:
                    kinds.add(str(Scope(key=key, value=tokens[0])))
        return kinds

    def _members(self, target: str) -> frozenset[str]:
        """The paths of the KB's notes of kind ``target``."""

        def compute() -> frozenset[str]:
            scope = Scope.parse(target)
            return frozenset(path for path, note in self.context.notes.items() if scope.contains(note))

        return self.context.derived((self.name, target), compute)


def _describe(target: str) -> str:
    scope = Scope.parse(target)
    return f"under {scope.folder}/" if scope.folder else f"with {scope.key}: {scope.value}"
