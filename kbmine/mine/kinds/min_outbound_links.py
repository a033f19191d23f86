"""min_outbound_links: every note of a scope links out to at least N other notes or files."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, kind
from kbmine.mine.spec import MineSettings, Scope, Spec
from kbmine.model import Note

#: Ways of writing a link that a person follows to another note (not tags, not bare definitions).
_FOLLOWED = frozenset({"markdown", "reference", "wikilink"})


def outbound_targets(note: Note) -> int:
    """How many distinct targets the note's body links to (no embeds, URLs or frontmatter links)."""
    return len(
        {
            link.target
            for link in note.links
            if link.kind in _FOLLOWED and link.target and not (link.external or link.is_embed or link.in_frontmatter)
        }
    )


@kind
class MinOutboundLinks(Kind):
    """A KB where every note links to a few others is a web; a note with fewer links than
    its peers is an island a reader cannot leave, usually written in a hurry.

    ``min`` is the largest count that the required share of the scope's notes
    reaches (at least 1). Links are counted by distinct target; whether the
    targets exist is ``broken-link``'s business. A higher minimum over a scope
    makes a lower one over the same or a narrower scope redundant.
    """

    name = "min_outbound_links"
    summary = "every note of a scope links to at least N distinct notes or files"
    priority = 75
    parameters = {"min": None}

    def validate(self, params: Params) -> str | None:
        problem = super().validate(params)
        if problem is None and (not isinstance(params["min"], int) or isinstance(params["min"], bool) or params["min"] < 1):
            return f"parameter 'min' must be a whole number of at least 1, not {params['min']!r}"
        return problem

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        if not notes:
            return
        counts = sorted((outbound_targets(note) for note in notes), reverse=True)
        needed = max(1, math.ceil(round(settings.min_confidence * len(counts), 9)))  # notes that must reach it
        reached = counts[needed - 1]
        if reached >= 1:
            yield {"min": reached}

    def holds(self, note: Note, params: Params) -> bool:
        return outbound_targets(note) >= int(params["min"])

    def statement(self, scope: Scope, params: Params) -> str:
        count = int(params["min"])
        return f"{scope.describe()} links to at least {count} other note{'s' if count > 1 else ''} in its body"

    def fix(self, note: Note, params: Params) -> str:
        return f"link the note to the notes it builds on or relates to (it links to {outbound_targets(note)}, at least {params['min']} wanted)"

    def anchor_key(self, params: Params) -> str | None:
        return None

    def implies(self, params: Params, other: Spec) -> bool:
        return other.kind == self.name and int(other.parameters["min"]) <= int(params["min"])
