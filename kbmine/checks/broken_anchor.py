"""KB102 broken-anchor."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.checks._links import describe, link_findings
from kbmine.model import Finding, Link
from kbmine.resolve import Resolution

if TYPE_CHECKING:
    from kbmine.kb import KB


#: Headings compared for "did you mean" hints in one run. Each comparison is a difflib ratio
#: (about 8 µs between similar names), and thousands of links missing in a note of thousands
#: of headings took a minute; past the budget a finding simply has no hint.
HINT_BUDGET = 100_000


@rule("KB102", "broken-anchor", "error", "a link's #anchor names no heading, id or block in its target")
def broken_anchor(kb: KB, options: dict[str, Any]) -> Iterator[Finding]:
    """A link reaches its note, but the ``#anchor`` names nothing there.

    Markdown link anchors are matched against GitHub heading slugs
    (``## Set-up (Linux)`` is ``#set-up-linux``, a second ``## Notes`` is
    ``#notes-1``), explicit ``{#id}`` ids and ``^block`` ids; wikilink
    anchors against heading text (``[[note#Set-up (Linux)]]``), nested
    headings ``#A#B`` and ``#^block`` ids, in the same note and across notes.
    Fix: use the heading's current slug or text.

    Fail: ``[x](guide.md#instalation)`` when the heading is ``## Installation``.
    Pass: ``[x](guide.md#installation)``.
    """

    budget = [HINT_BUDGET]
    names: dict[tuple[str, bool], list[str]] = {}
    hints: dict[tuple[str, bool, str], str | None] = {}

    def suggestion(path: str, wikilink: bool, anchor: str) -> str | None:
        key = (path, wikilink, anchor)
        if key not in hints:
            if (path, wikilink) not in names:
                note = kb.notes.get(path)
                headings = note.headings if note else ()
                names[path, wikilink] = list(dict.fromkeys(h.text if wikilink else h.slug for h in headings))
            anchors = names[path, wikilink]
            close: list[str] = []
            if len(anchors) <= budget[0]:
                budget[0] -= len(anchors)
                close = difflib.get_close_matches(anchor, anchors, n=1, cutoff=0.6)
            hints[key] = close[0] if close else None
        return hints[key]

    def wanted(link: Link, resolution: Resolution) -> tuple[str, dict[str, Any]] | None:
        if resolution.anchor_ok is not False:
            return None
        hint_for = suggestion(resolution.path or "", link.kind == "wikilink", link.anchor or "")
        close = [hint_for] if hint_for else []
        where = "this note" if not link.target else repr(resolution.path)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return (
            f"broken anchor in {describe(link)}: no heading, id or block {link.anchor!r} in {where}{hint}",
            {"resolved": resolution.path, "suggestion": close[0] if close else None},
        )

    for _, _, _, finding in link_findings(kb, "KB102", "broken-anchor", "error", wanted):
        yield finding
