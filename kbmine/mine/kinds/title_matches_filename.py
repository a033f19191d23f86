"""title_matches_filename: a note's title heading, slugified, is its file name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, kind
from kbmine.mine.kinds.filename_pattern import INDEX_NAMES
from kbmine.mine.spec import MineSettings, Scope
from kbmine.model import Note
from kbmine.slugs import github_slug


@kind
class TitleMatchesFilename(Kind):
    """``# Link Resolution`` in ``link-resolution.md``: when titles and file names agree,
    a note retitled without renaming (or renamed without retitling) is found
    under a name that no longer says what it is, and wikilinks by name drift.

    Both sides are compared as GitHub heading slugs (case, spaces and
    punctuation aside). Notes without a level-1 heading and index notes
    (README, index) are left out.
    """

    name = "title_matches_filename"
    summary = "a note's title heading, slugified, equals its file name"
    priority = 65
    parameters = {}

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        titled = [note for note in notes if self.applies(note, {})]
        if titled and sum(self.holds(note, {}) for note in titled) >= settings.min_confidence * len(titled):
            yield {}

    def applies(self, note: Note, params: Params) -> bool:
        return bool(note.h1) and note.stem.lower() not in INDEX_NAMES

    def holds(self, note: Note, params: Params) -> bool:
        return github_slug((note.h1 or "").strip()) == github_slug(note.stem)

    def statement(self, scope: Scope, params: Params) -> str:
        return f"{scope.describe()} has a title heading that, slugified, is its file name"

    def fix(self, note: Note, params: Params) -> str:
        return (
            f"rename the note to `{github_slug((note.h1 or '').strip())}.md` (relinking), "
            f"or retitle it `# {note.stem}`"
        )

    def anchor_key(self, params: Params) -> str | None:
        return None
