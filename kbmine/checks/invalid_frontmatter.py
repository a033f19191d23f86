"""KB105 invalid-frontmatter."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.checks._problems import problem_findings
from kbmine.model import Finding

if TYPE_CHECKING:
    from kbmine.kb import KB


@rule("KB105", "invalid-frontmatter", "error", "frontmatter that does not load as a mapping", scope="note")
def invalid_frontmatter(kb: KB, options: dict[str, Any], *, judged: Collection[str] | None = None) -> Iterator[Finding]:
    """Frontmatter that tools cannot read.

    Invalid YAML or TOML, a list or scalar where a mapping of keys belongs,
    an unclosed ``---`` fence, an alias bomb or absurd nesting (refused, not
    expanded), and duplicate keys (a warning: YAML silently keeps the last).
    The note's body is still checked. Fix: correct the YAML at the line shown.
    """
    yield from problem_findings(kb, "KB105", "invalid-frontmatter", judged)
