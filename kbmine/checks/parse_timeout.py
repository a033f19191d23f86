"""KB107 parse-timeout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.checks._problems import problem_findings
from kbmine.model import Finding

if TYPE_CHECKING:
    from kbmine.kb import KB


@rule("KB107", "parse-timeout", "warning", "a note too pathological to parse in the time allowed")
def parse_timeout(kb: KB, options: dict[str, Any]) -> Iterator[Finding]:
    """A note whose markdown took longer than ``parse_timeout`` seconds (default 10)
    to parse, or nests deeper than the parser can follow, e.g. thousands of
    nested brackets or quotes. Its frontmatter is kept, its links are not
    checked. Fix: simplify the markup, or raise ``parse_timeout``.
    """
    yield from problem_findings(kb, "KB107", "parse-timeout")
