"""GitHub Actions workflow commands (``::error file=...,line=...::message``)."""

from __future__ import annotations

from collections.abc import Sequence

from kbmine.model import Finding
from kbmine.report import ReportContext

__all__ = ["format_github"]

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding], context: ReportContext) -> str:
    lines = []
    for finding in findings:
        span = finding.span
        file = _escape_property(context.prefix + finding.path)
        props = (
            f"file={file},line={span.line},col={span.column},endLine={span.end_line},"
            f"endColumn={span.end_column},title={_escape_property(f'{finding.code} {finding.rule}')}"
        )
        lines.append(f"::{_LEVEL[finding.severity]} {props}::{_escape_data(finding.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def step_summary(findings: Sequence[Finding], context: ReportContext, limit: int = 50) -> str:
    """A markdown summary for ``$GITHUB_STEP_SUMMARY``: GitHub shows only the first
    10 error and 10 warning annotations of a step, the summary carries the rest."""
    from collections import Counter

    counts = Counter((f.code, f.rule) for f in findings)
    lines = [f"### kbmine check: {len(findings)} finding{'s' if len(findings) != 1 else ''} in {context.notes} notes", ""]
    if counts:
        lines += ["| code | rule | findings |", "|---|---|---:|"]
        lines += [f"| {code} | `{rule}` | {count} |" for (code, rule), count in sorted(counts.items())]
        lines += ["", "| where | rule | message |", "|---|---|---|"]
        for finding in findings[:limit]:
            where = f"`{context.prefix}{finding.path}:{finding.span.line}:{finding.span.column}`"
            message = finding.message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {where} | {finding.rule} | {message} |")
        if len(findings) > limit:
            lines.append(f"| … | | {len(findings) - limit} more (use `--format sarif` for all) |")
    return "\n".join(lines) + "\n\n"
