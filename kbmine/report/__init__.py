"""Formatters: findings → text for people, JSON for tools, GitHub annotations, SARIF and JUnit for CI.

Each formatter is a function ``(findings, context) -> str`` registered in
``FORMATTERS``; nothing here prints or exits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kbmine.model import Finding

__all__ = ["ReportContext", "FORMATTERS", "format_findings", "summary"]


@dataclass(frozen=True)
class ReportContext:
    """What a formatter may need besides the findings."""

    root: str
    version: str
    color: bool = False
    rules: dict[str, Any] = field(default_factory=dict)
    notes: int = 0
    #: Prefix that makes a KB-relative path relative to the working folder (for CI annotations).
    prefix: str = ""


Formatter = Callable[[Sequence[Finding], ReportContext], str]


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    """Finding counts per rule name, sorted by name."""
    return dict(sorted(Counter(f.rule for f in findings).items()))


def _formatters() -> dict[str, Formatter]:
    from kbmine.report.github import format_github
    from kbmine.report.json import format_json
    from kbmine.report.junit import format_junit
    from kbmine.report.sarif import format_sarif
    from kbmine.report.text import format_text

    return {"text": format_text, "json": format_json, "github": format_github, "sarif": format_sarif, "junit": format_junit}


FORMATTERS: tuple[str, ...] = ("text", "json", "github", "sarif", "junit")


def format_findings(fmt: str, findings: Sequence[Finding], context: ReportContext) -> str:
    return _formatters()[fmt](findings, context)
