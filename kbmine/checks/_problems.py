"""Turn parse problems recorded on notes (and scan problems) into findings."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING

from kbmine.model import Finding, Span

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["problem_findings"]


def problem_findings(kb: KB, code: str, rule: str, judged: Collection[str] | None = None) -> Iterator[Finding]:
    """The findings of the problems of rule ``rule`` recorded on the notes ``judged`` (``None``:
    all, and then also the problems of files the scan could not read as notes)."""
    for path, note in kb.judged_notes(judged).items():
        for problem in note.problems:
            if problem.rule == rule:
                finding = Finding(code, rule, problem.severity, path, problem.span, problem.message, dict(problem.data))
                yield finding.with_fingerprint(problem.message)
    if rule == "unreadable-note" and judged is None:
        for scanned in kb.scan_problems:
            if scanned.path in kb.notes:
                continue
            finding = Finding(code, rule, "warning", scanned.path, Span(0, 0, 1, 1, 1, 1), scanned.message)
            yield finding.with_fingerprint(scanned.message)
