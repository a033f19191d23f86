"""folder_implies_value: where a note lives decides a frontmatter value."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, key_label, kind, scope_keys, single_value
from kbmine.mine.spec import MineSettings, Scope, Spec
from kbmine.model import Note


@kind
class FolderImpliesValue(Kind):
    """``notes/`` holds notes of ``type: note``: a note filed in the folder with another
    value (or none) is misfiled or mislabelled, and either is worth a look.

    Only folder scopes are mined; a note missing the key counts against the spec.
    """

    name = "folder_implies_value"
    summary = "notes in a folder carry the same value of a frontmatter key"
    priority = 10
    parameters = {"key": None, "value": None}

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        if not scope.folder:
            return
        for key in scope_keys(notes, scope):
            values = Counter(single_value(note, key) for note in notes)
            values.pop(None, None)
            if not values:
                continue
            value, count = values.most_common(1)[0]
            if count >= settings.min_confidence * len(notes):
                yield {"key": key, "value": value}

    def holds(self, note: Note, params: Params) -> bool:
        return single_value(note, params["key"]) == str(params["value"])

    def statement(self, scope: Scope, params: Params) -> str:
        return f"{scope.describe()} has {key_label(params['key'])} set to `{params['value']}`"

    def fix(self, note: Note, params: Params) -> str:
        key, value = params["key"], params["value"]
        if key not in note.frontmatter:
            return f"add `{key}: {value}` to the frontmatter, or move the note out of the folder"
        return f"set `{key}` to `{value}` (it is {note.frontmatter[key]!r}), or move the note out of the folder"

    def implies(self, params: Params, other: Spec) -> bool:
        if super().implies(params, other):
            return True
        theirs = other.parameters
        if theirs.get("key") != params["key"]:
            return False
        if other.kind == "enum_values":
            return tuple(theirs["values"]) == (params["value"],)
        return other.kind in ("required_key", "value_type")
