"""key_implies_key: a note with one key (or one value of it) also carries another key."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, key_label, kind, scope_keys, single_value
from kbmine.mine.spec import MineSettings, Scope, Spec
from kbmine.model import Note


@kind
class KeyImpliesKey(Kind):
    """``status: superseded`` without ``superseded_by``, a ``source`` without its
    ``accessed`` date: a key the KB only writes together with another is a
    pair, and a note with half of it is unfinished.

    The premise is a key being present (``if_value`` empty) or a key having one
    value. A conclusion the scope's notes carry anyway (as often as the
    ``required_key`` threshold) is not proposed: it says nothing about the
    premise, nor one as common without the premise as with it; of keys that
    always come together, only the rarest is a premise. A value premise on a
    scope key (``type``) is left to ``required_key`` over that value's scope.
    The plain "has A" form makes each "A is v" form redundant.
    """

    name = "key_implies_key"
    summary = "a note with a frontmatter key (or one value of it) also carries another key"
    priority = 45
    parameters = {"if_key": None, "if_value": None, "then_key": None}

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        keys = scope_keys(notes, scope)
        everywhere = Counter(key for note in notes for key in note.frontmatter)
        common = {key for key in keys if everywhere[key] >= settings.min_confidence * len(notes)}
        pairs = Counter((a, b) for note in notes for a in note.frontmatter for b in note.frontmatter)
        for if_key in keys:
            premises: dict[str, list[Note]] = {"": [note for note in notes if if_key in note.frontmatter]}
            if if_key not in settings.scope_keys:  # "type is x => B" is a required key of scope where:type=x
                for note in premises[""]:
                    value = single_value(note, if_key)
                    if value:
                        premises.setdefault(value, []).append(note)
            present = Counter(key for note in premises[""] for key in note.frontmatter)
            for if_value, having in sorted(premises.items()):
                if len(having) < settings.min_support or len(having) == len(notes):
                    continue
                if not if_value and any(_stands_for(other, if_key, everywhere, pairs, settings) for other in keys):
                    continue
                counts = Counter(key for note in having for key in note.frontmatter)
                others = len(notes) - len(having)
                for then_key in keys:
                    if then_key == if_key or then_key in common or counts[then_key] < settings.min_confidence * len(having):
                        continue
                    if if_value and present[then_key] >= settings.min_confidence * len(premises[""]):
                        continue  # holds for every value of the key: said once, without the value
                    if (everywhere[then_key] - counts[then_key]) > others / 2:
                        continue  # as common without the premise: a popular key, not a consequence
                    yield {"if_key": if_key, "if_value": if_value, "then_key": then_key}

    def applies(self, note: Note, params: Params) -> bool:
        if params["if_key"] not in note.frontmatter:
            return False
        return not params["if_value"] or single_value(note, params["if_key"]) == params["if_value"]

    def holds(self, note: Note, params: Params) -> bool:
        return params["then_key"] in note.frontmatter

    def statement(self, scope: Scope, params: Params) -> str:
        return f"{scope.describe()} that {_premise(params)} also has a {key_label(params['then_key'])} key"

    def fix(self, note: Note, params: Params) -> str:
        return (
            f"add `{params['then_key']}:` to the frontmatter (the note {_premise(params)}), "
            f"or remove `{params['if_key']}` if it does not belong"
        )

    def anchor_key(self, params: Params) -> str | None:
        return str(params["if_key"])

    def implies(self, params: Params, other: Spec) -> bool:
        if super().implies(params, other):
            return True
        theirs = other.parameters
        return (
            other.kind == self.name
            and not params["if_value"]
            and (theirs["if_key"], theirs["then_key"]) == (params["if_key"], params["then_key"])
        )


def _stands_for(
    key: str, other: str, everywhere: Counter[str], pairs: Counter[tuple[str, str]], settings: MineSettings
) -> bool:
    """Whether ``key`` and ``other`` come together both ways and ``key`` (the rarer, then the
    first by name) speaks for the pair: keys written as one group get one premise, not one each."""
    if key == other or (everywhere[key], key) >= (everywhere[other], other):
        return False
    together = pairs[(key, other)]
    return together >= settings.min_confidence * everywhere[key] and together >= settings.min_confidence * everywhere[other]


def _premise(params: Params) -> str:
    if params["if_value"]:
        return f"has {key_label(params['if_key'])} set to `{params['if_value']}`"
    return f"has a {key_label(params['if_key'])} key"
