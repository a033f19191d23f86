"""KB107 parse-timeout."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.checks._problems import problem_findings
from kbmine.model import Finding

if TYPE_CHECKING:
    from kbmine.kb import KB


@rule("KB107", "parse-timeout", "warning", "a note too large or too pathological to parse in the time allowed", scope="note")
def parse_timeout(kb: KB, options: dict[str, Any], *, judged: Collection[str] | None = None) -> Iterator[Finding]:
    """A note whose parse took more than ``parse_timeout`` seconds of CPU time
    (default 10), or nests deeper than the parser can follow, e.g. thousands
    of nested brackets or quotes; or a note larger than ``max_note_size``
    bytes (default 4,000,000), which is not even read. Its links and headings
    are not checked (links to it still resolve); frontmatter parsed in time
    is kept. Fix: simplify or split the note, or raise the limit.
    """
    yield from problem_findings(kb, "KB107", "parse-timeout", judged)
