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

    def wanted(link: Link, resolution: Resolution) -> tuple[str, dict[str, Any]] | None:
        if resolution.anchor_ok is not False:
            return None
        note = kb.notes.get(resolution.path or "")
        anchors = [h.text if link.kind == "wikilink" else h.slug for h in note.headings] if note else []
        close = difflib.get_close_matches(link.anchor or "", anchors, n=1, cutoff=0.6)
        where = "this note" if not link.target else repr(resolution.path)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return (
            f"broken anchor in {describe(link)}: no heading, id or block {link.anchor!r} in {where}{hint}",
            {"resolved": resolution.path, "suggestion": close[0] if close else None},
        )

    for _, _, _, finding in link_findings(kb, "KB102", "broken-anchor", "error", wanted):
        yield finding
