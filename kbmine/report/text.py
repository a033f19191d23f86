"""Findings for people: grouped by file, ``path:line:col``, coloured on a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from kbmine.model import Finding
from kbmine.report import ReportContext, summary

__all__ = ["format_text"]

_COLOURS = {"error": "\x1b[31m", "warning": "\x1b[33m", "info": "\x1b[36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def format_text(findings: Sequence[Finding], context: ReportContext) -> str:
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if context.color else text

    lines: list[str] = []
    for path, group in groupby(findings, key=lambda f: f.path):
        lines.append(paint(path, _BOLD))
        for finding in group:
            where = f"{path}:{finding.span.line}:{finding.span.column}"
            severity = paint(finding.severity, _COLOURS.get(finding.severity, ""))
            lines.append(f"  {where}: {severity} {paint(finding.code, _DIM)} {finding.message} [{finding.rule}]")
        lines.append("")
    counts = summary(findings)
    if findings:
        detail = ", ".join(f"{rule} {count}" for rule, count in counts.items())
        lines.append(f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in {context.notes} notes ({detail})")
    else:
        lines.append(f"no findings in {context.notes} notes")
    return "\n".join(lines) + "\n"
