"""filename_pattern: the notes of a folder are named the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, kind, matcher, shares
from kbmine.mine.spec import MineSettings, Scope, Spec
from kbmine.model import Note

#: Each pattern: the test on the file name (without ``.md``) and how it reads.
PATTERNS = {
    "date-prefix": (matcher(r"\d{4}-\d{2}-\d{2}.*"), "starts with an ISO date (YYYY-MM-DD)"),
    "number-prefix": (matcher(r"\d+[-_ .].+"), "starts with a number (003-...)"),
    "dotted": (matcher(r"[^.\s]+(?:\.[^.\s]+)+"), "is a dotted hierarchy (area.topic.note)"),
    "kebab-case": (matcher(r"[a-z0-9]+(?:-[a-z0-9]+)*"), "is kebab-case (lowercase words joined by hyphens)"),
    "snake_case": (matcher(r"[a-z0-9]+(?:_[a-z0-9]+)*"), "is snake_case (lowercase words joined by underscores)"),
}
#: A name matching the key pattern also matches the value (a date prefix is a number prefix).
BROADER = {"date-prefix": "number-prefix"}
#: Index notes are named by convention, not by their folder's pattern.
INDEX_NAMES = frozenset({"readme", "index", "_index"})


@kind
class FilenamePattern(Kind):
    """File names are how people and wikilinks find notes; a folder whose notes are all
    kebab-case (or date-prefixed, or dotted) makes an odd one out hard to link and
    a sign of a note that skipped the usual way in. Index notes are exempt."""

    name = "filename_pattern"
    summary = "the notes of a scope have file names of one pattern (kebab-case, date prefix, dotted...)"
    priority = 60
    parameters = {"pattern": tuple(PATTERNS)}

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        named = [note.stem for note in notes if note.stem.lower() not in INDEX_NAMES]
        counts = {name: sum(1 for stem in named if test(stem)) for name, (test, _) in PATTERNS.items()}
        return ({"pattern": name} for name in shares(counts, len(named), settings.min_confidence))

    def applies(self, note: Note, params: Params) -> bool:
        return note.stem.lower() not in INDEX_NAMES

    def holds(self, note: Note, params: Params) -> bool:
        return PATTERNS[params["pattern"]][0](note.stem)

    def statement(self, scope: Scope, params: Params) -> str:
        return f"{scope.describe()} has a file name that {PATTERNS[params['pattern']][1]}"

    def fix(self, note: Note, params: Params) -> str:
        pattern = params["pattern"]
        if pattern == "kebab-case":
            suggestion = re.sub(r"[^a-z0-9]+", "-", note.stem.lower()).strip("-")
            if suggestion:
                return f"rename the note to `{suggestion}.md` (and relink it)"
        return f"rename the note so its name {PATTERNS[pattern][1]} (and relink it)"

    def anchor_key(self, params: Params) -> str | None:
        return None

    def implies(self, params: Params, other: Spec) -> bool:
        return super().implies(params, other) or (
            other.kind == self.name and BROADER.get(params["pattern"]) == other.parameters["pattern"]
        )
