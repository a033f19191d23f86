"""Formatters: findings → text for people, JSON for tools, GitHub annotations, SARIF and JUnit for CI.

Each formatter is a function ``(findings, context) -> str`` registered in
``FORMATTERS``; nothing here prints or exits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from kbmine.model import Finding

__all__ = ["FORMATTERS", "ReportContext", "format_findings", "summary"]


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
    #: Report lines written ahead of time for some findings (see :class:`kbmine.report.json.JsonLines`).
    lines: Any = field(default=None, repr=False, compare=False)


Formatter = Callable[[Sequence[Finding], ReportContext], str]


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    """Finding counts per rule name, sorted by name."""
    return dict(sorted(Counter(f.rule for f in findings).items()))


#: Format name → the module that writes it and its function, imported only when asked for
#: (all five together were a twentieth of a warm check's imports).
_FORMATTERS: dict[str, tuple[str, str]] = {
    "text": ("kbmine.report.text", "format_text"),
    "json": ("kbmine.report.json", "format_json"),
    "github": ("kbmine.report.github", "format_github"),
    "sarif": ("kbmine.report.sarif", "format_sarif"),
    "junit": ("kbmine.report.junit", "format_junit"),
}

FORMATTERS: tuple[str, ...] = tuple(_FORMATTERS)


def format_findings(fmt: str, findings: Sequence[Finding], context: ReportContext) -> str:
    module, name = _FORMATTERS[fmt]
    formatter: Formatter = getattr(import_module(module), name)
    return formatter(findings, context)
