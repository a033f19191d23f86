"""required_section: every note of a scope has a section with the same heading."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, kind, shares
from kbmine.mine.spec import MineSettings, Scope
from kbmine.model import Note


def section_names(note: Note) -> set[str]:
    """The note's section headings (level 2 and deeper), compared without case."""
    return {heading.text.strip().casefold() for heading in note.headings if heading.level >= 2}


@kind
class RequiredSection(Kind):
    """A closing "Relevant Notes" section, a "Context / Decision / Consequences" trio:
    a heading almost every note of a kind has is a template the others skipped.

    Headings are matched without regard to case; the title (level 1) is not a
    section.
    """

    name = "required_section"
    summary = "every note of a scope has a section with a given heading"
    priority = 70
    parameters = {"heading": None}

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        counts: Counter[str] = Counter()
        texts: dict[str, Counter[str]] = {}
        for note in notes:
            for heading in note.headings:
                folded = heading.text.strip().casefold()
                if heading.level >= 2 and folded:
                    texts.setdefault(folded, Counter())[heading.text.strip()] += 1
            counts.update(section_names(note) - {""})
        for folded in shares(counts, len(notes), settings.min_confidence):
            yield {"heading": texts[folded].most_common(1)[0][0]}

    def holds(self, note: Note, params: Params) -> bool:
        return str(params["heading"]).casefold() in section_names(note)

    def statement(self, scope: Scope, params: Params) -> str:
        return f"{scope.describe()} has a \"{params['heading']}\" section"

    def fix(self, note: Note, params: Params) -> str:
        return f"add a `## {params['heading']}` section"

    def anchor_key(self, params: Params) -> str | None:
        return None
