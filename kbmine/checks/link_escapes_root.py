"""KB104 link-escapes-root."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.checks._links import describe, link_findings
from kbmine.model import Finding, Link
from kbmine.resolve import Resolution

if TYPE_CHECKING:
    from kbmine.kb import KB


@rule("KB104", "link-escapes-root", "error", "a link points outside the KB (../ above the root, file: URL)", scope="note")
def link_escapes_root(kb: KB, options: dict[str, Any], *, judged: Collection[str] | None = None) -> Iterator[Finding]:
    """A link whose target lies outside the KB root.

    ``../../etc/passwd``, ``%2e%2e%2f`` tricks, ``file:///`` URLs and NUL
    bytes are reported and the file outside is never read: a KB must be
    readable on its own, wherever it is cloned. Fix: copy the target into the
    KB or link to it by a web URL.
    """

    def wanted(link: Link, resolution: Resolution) -> tuple[str, dict[str, Any]] | None:
        if resolution.status != "escapes":
            return None
        return f"link {describe(link)} escapes the KB root: {resolution.reason}", {}

    for _, _, _, finding in link_findings(kb, "KB104", "link-escapes-root", "error", wanted, judged):
        yield finding
