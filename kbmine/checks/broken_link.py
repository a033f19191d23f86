"""KB101 broken-link."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.checks._links import describe, link_findings
from kbmine.model import Finding, Link
from kbmine.resolve import Resolution

if TYPE_CHECKING:
    from kbmine.kb import KB


@rule(
    "KB101",
    "broken-link",
    "error",
    "a link points at a note or file that does not exist",
    options=("hashtags",),
    scope="note",
)
def broken_link(kb: KB, options: dict[str, Any], *, judged: Collection[str] | None = None) -> Iterator[Finding]:
    """A link whose target is not in the KB.

    A reader who follows it lands nowhere. Markdown links resolve relative to
    the linking note (``/x`` from the root); wikilinks by path from the root,
    by unique file name or by alias. External URLs are never fetched and never
    reported. Fix: point the link at the note's current path (``kbmine mutate
    --kind relink`` repairs links broken by renames), or remove it.

    Dendron ``#tag`` / ``@user`` links to missing ``tags.*`` / ``user.*`` notes
    are only reported with the option ``hashtags = true`` (Dendron creates
    those notes on demand).

    Fail: ``[setup](../guides/setup.md)`` when ``guides/setup.md`` was renamed.
    Pass: ``[setup](../guides/installation.md)``.
    """
    report_hashtags = bool(options.get("hashtags", False))

    def wanted(link: Link, resolution: Resolution) -> tuple[str, dict[str, Any]] | None:
        if resolution.status != "broken" or (link.kind == "hashtag" and not report_hashtags):
            return None
        where = f" (looked for {resolution.path!r})" if resolution.path and resolution.path != link.target else ""
        hint = f"; {resolution.reason}" if resolution.reason else ""
        return (
            f"broken link {describe(link)}: {link.target!r} does not exist{where}{hint}",
            {"resolved": resolution.path},
        )

    for _, _, _, finding in link_findings(kb, "KB101", "broken-link", "error", wanted, judged):
        yield finding
