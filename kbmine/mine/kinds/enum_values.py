"""enum_values: a frontmatter key takes its values from a small vocabulary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, key_label, kind, scope_keys
from kbmine.mine.spec import MineSettings, Scope, Spec, value_tokens
from kbmine.model import Note


@kind
class EnumValues(Kind):
    """A key whose values repeat from a short list (``status``, ``type``) is a vocabulary;
    a value outside it is usually a typo or a state nobody agreed on.

    The vocabulary is the values used by at least two notes (at most
    ``max_vocabulary``, and at most half as many as the notes using the key,
    so free text never passes for an enum). When nearly every note of the
    scope has the key the spec also requires it, which makes a separate
    ``required_key`` spec on the same key redundant.
    """

    name = "enum_values"
    summary = "a frontmatter key's values come from a small vocabulary"
    priority = 20
    parameters = {"key": None, "values": None, "required": None}

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        for key in scope_keys(notes, scope):
            having = [note for note in notes if key in note.frontmatter]
            used: Counter[str] = Counter()
            for note in having:
                used.update(set(value_tokens(note.frontmatter[key]) or ()))
            vocabulary = sorted(value for value, count in used.most_common(settings.max_vocabulary) if count >= 2)
            if not vocabulary or len(vocabulary) * 2 > len(having):
                continue
            values = tuple(vocabulary)
            if len(having) >= settings.min_confidence * len(notes):
                yield {"key": key, "values": values, "required": True}
            yield {"key": key, "values": values, "required": False}

    def applies(self, note: Note, params: Params) -> bool:
        return bool(params["required"]) or params["key"] in note.frontmatter

    def holds(self, note: Note, params: Params) -> bool:
        if params["key"] not in note.frontmatter:
            return False
        tokens = value_tokens(note.frontmatter[params["key"]])
        return tokens is not None and all(token in params["values"] for token in tokens)

    def statement(self, scope: Scope, params: Params) -> str:
        values = _vocabulary(params)
        if params["required"]:
            return f"{scope.describe()} has {key_label(params['key'])} set to {values}"
        return f"{scope.describe()} that has {key_label(params['key'])} sets it to {values}"

    def fix(self, note: Note, params: Params) -> str:
        key = params["key"]
        if key not in note.frontmatter:
            return f"add `{key}:` with {_vocabulary(params)}"
        return f"set `{key}` to {_vocabulary(params)} (it is {note.frontmatter[key]!r}), or reject the spec if the value is legitimate"

    def implies(self, params: Params, other: Spec) -> bool:
        if super().implies(params, other):
            return True
        theirs = other.parameters
        if theirs.get("key") != params["key"]:
            return False
        if other.kind == "value_type":
            return True
        if not params["required"]:
            return False
        if other.kind == "required_key":
            return True
        if other.kind == "enum_values":
            return not theirs["required"] and theirs["values"] == params["values"]
        return other.kind == "folder_implies_value" and (theirs["value"],) == tuple(params["values"])


def _vocabulary(params: Params) -> str:
    values = [f"`{value}`" for value in params["values"]]
    return values[0] if len(values) == 1 else "one of " + ", ".join(values)
