"""The JSON contract of ``kbmine check --format json`` (documented in the README)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kbmine.model import Finding
from kbmine.report import ReportContext, summary
from kbmine.report.portable import dumps

__all__ = ["finding_dict", "format_json"]


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
    for finding in findings:
        parts.append(dumps(finding_dict(finding)))
        parts.append(",\n    ")
    parts[-1] = "\n  ],\n"
    parts.append(tail)
    return "".join(parts)
