"""The JSON contract of ``kbmine check --format json`` (documented in the README)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kbmine.model import Finding
from kbmine.report import ReportContext, summary
from kbmine.report.portable import dumps

__all__ = ["JsonLines", "finding_dict", "format_json"]


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "rule": finding.rule,
        "severity": finding.severity,
        "path": finding.path,
        "line": finding.span.line,
        "column": finding.span.column,
        "end_line": finding.span.end_line,
        "end_column": finding.span.end_column,
        "start_byte": finding.span.start,
        "end_byte": finding.span.end,
        "message": finding.message,
        "fingerprint": finding.fingerprint,
        "data": finding.data,
    }


class JsonLines:
    """Findings' report lines written ahead of time, while the run still waits for others.

    A check after an edit waits at its end for duplicate-claim's child
    (see :func:`kbmine.checks.run_checks`, ``while_waiting``); encoding the
    findings it already has meanwhile takes a part of the report off the
    path to the exit. A line is used only for the very finding object it
    was written for.
    """

    def __init__(self) -> None:
        self._lines: dict[int, tuple[Finding, str]] = {}

    def add(self, findings: Sequence[Finding]) -> None:
        for finding in findings:
            self._lines[id(finding)] = (finding, dumps(finding_dict(finding)))

    def line(self, finding: Finding) -> str:
        known = self._lines.get(id(finding))
        return known[1] if known is not None and known[0] is finding else dumps(finding_dict(finding))


def format_json(findings: Sequence[Finding], context: ReportContext) -> str:
    """The report document, one finding per line: a diff or ``grep`` shows whole
    findings, and each line goes through the C encoder (a pretty-printed report
    of 5,000 findings took longer to write than a warm check took to run)."""
    head = f'{{\n  "kbmine": {dumps(context.version)},\n  "root": {dumps(context.root)},\n'
    tail = f'  "summary": {dumps(summary(findings))}\n}}\n'
    if not findings:
        return f'{head}  "findings": [],\n{tail}'
    # One join over the whole document: building each line, then the list, then the document
    # copied the report's megabytes three times over.
    parts = [head, '  "findings": [\n    ']
    lines: JsonLines = context.lines if isinstance(context.lines, JsonLines) else JsonLines()
    for finding in findings:
        parts.append(lines.line(finding))
        parts.append(",\n    ")
    parts[-1] = "\n  ],\n"
    parts.append(tail)
    return "".join(parts)
