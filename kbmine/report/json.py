"""The JSON contract of ``kbmine check --format json`` (documented in the README)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kbmine.model import Finding
from kbmine.report import ReportContext, summary
from kbmine.report.portable import dumps

__all__ = ["format_json", "finding_dict"]


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
    document = {
        "kbmine": context.version,
        "root": context.root,
        "findings": [finding_dict(f) for f in findings],
        "summary": summary(findings),
    }
    return dumps(document, indent=2) + "\n"
