"""required_key: every note of a scope carries a frontmatter key."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, key_label, kind, scope_keys, shares
from kbmine.mine.spec import MineSettings, Scope
from kbmine.model import Note


@kind
class RequiredKey(Kind):
    """A key most notes of a scope already carry is one the rest forgot.

    Presence is all it asks: what the value may be is the business of
    ``enum_values`` and ``value_type``.
    """

    name = "required_key"
    summary = "a frontmatter key every note of a scope carries"
    priority = 40
    parameters = {"key": None}

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        counts = Counter(key for note in notes for key in note.frontmatter)
        present = {key: counts[key] for key in scope_keys(notes, scope)}
        return ({"key": key} for key in shares(present, len(notes), settings.min_confidence))

    def holds(self, note: Note, params: Params) -> bool:
        return params["key"] in note.frontmatter

    def statement(self, scope: Scope, params: Params) -> str:
        return f"{scope.describe()} has a {key_label(params['key'])} key in its frontmatter"

    def fix(self, note: Note, params: Params) -> str:
        return f"add `{params['key']}:` to the frontmatter"
