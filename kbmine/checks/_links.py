"""Helpers shared by the link rules: a finding at a link, with a stable fingerprint."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from kbmine.model import Finding, Link, Note, Severity
from kbmine.resolve import Resolution

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["link_findings", "describe"]


def describe(link: Link) -> str:
    """How a link reads in a message: its raw text, shortened."""
    raw = link.raw if len(link.raw) <= 80 else link.raw[:77] + "..."
    return raw.replace("\n", " ")


def link_findings(
    kb: KB, code: str, rule: str, severity: Severity, wanted: Any, judged: Collection[str] | None = None
) -> Iterator[tuple[Note, Link, Resolution, Finding]]:
    """Yield a base finding for each link for which ``wanted(link, resolution)`` returns a message.

    The fingerprint covers the rule, the note and the link's text plus its
    occurrence number among identical links, not its line. ``judged``: the
    notes to judge (``None``: all), their links resolved alone (see
    :mod:`kbmine.checks.reuse`).
    """
    notes = kb.judged_notes(judged)
    # All links resolved at once (and cached), or only the judged notes' ones.
    resolutions = kb.resolutions if judged is None else {path: kb.resolutions_of(path) for path in notes}
    for path, note in notes.items():
        seen: Counter[str] = Counter()
        for link, resolution in zip(note.links, resolutions[path]):
            outcome = wanted(link, resolution)
            if outcome is None:
                continue
            message, data = outcome
            seen[link.raw] += 1
            data = {"target": link.target, "anchor": link.anchor, "kind": link.kind, **data}
            finding = Finding(code, rule, severity, path, link.span, message, data)
            yield note, link, resolution, finding.with_fingerprint(link.raw, str(seen[link.raw]))
