"""KB103 ambiguous-link."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.checks._links import describe, link_findings
from kbmine.model import Finding, Link
from kbmine.resolve import Resolution

if TYPE_CHECKING:
    from kbmine.kb import KB


@rule("KB103", "ambiguous-link", "error", "a link's target matches several notes", scope="note")
def ambiguous_link(kb: KB, options: dict[str, Any], *, judged: Collection[str] | None = None) -> Iterator[Finding]:
    """A wikilink (or bare file name) that matches more than one note.

    ``[[setup]]`` with both ``guides/setup.md`` and ``old/setup.md`` present
    depends on which one a tool happens to pick; kbmine never guesses.
    Fix: write enough of the path to make it unique, e.g. ``[[guides/setup]]``.
    """

    def wanted(link: Link, resolution: Resolution) -> tuple[str, dict[str, Any]] | None:
        if resolution.status != "ambiguous":
            return None
        shown = ", ".join(resolution.candidates[:5]) + (" ..." if len(resolution.candidates) > 5 else "")
        return (
            f"ambiguous link {describe(link)}: {len(resolution.candidates)} notes match ({shown}); "
            "write the path to say which",
            {"candidates": list(resolution.candidates)},
        )

    for _, _, _, finding in link_findings(kb, "KB103", "ambiguous-link", "error", wanted, judged):
        yield finding
