"""Suppressions: the places where a person said "this finding is known and fine".

Three forms, checked in this order:

- inline, an HTML comment that readers never see:
  ``<!-- kbmine: ignore[missing-link] -->`` silences the named rules (names or
  codes, comma-separated; none means every rule) on its own line and the next
  one; ``<!-- kbmine: ignore-file[orphan-note] -->`` silences them in the
  whole note;
- frontmatter: ``kbmine: {ignore: [orphan-note, KB201]}`` (or ``ignore: all``)
  silences them in the whole note;
- configuration: ``per_path_ignores = {"templates/**" = ["orphan-note"]}``.

A suppression that silences nothing is itself reported (rule
``unused-suppression``) when asked, so stale ones do not pile up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kbmine.errors import ConfigError
from kbmine.files import glob_matcher
from kbmine.model import Finding, Span

if TYPE_CHECKING:
    from kbmine.checks import Rule
    from kbmine.kb import KB

__all__ = ["apply_suppressions", "Suppression"]

_INLINE = re.compile(r"<!--\s*kbmine:\s*(ignore(?:-file)?)\s*(?:\[([^\]]*)\])?\s*-->")
_ZERO = Span(0, 0, 1, 1, 1, 1)


@dataclass
class Suppression:
    """One suppression and the rules it names (empty: all rules)."""

    path: str
    rules: frozenset[str]
    span: Span
    first_line: int = 0
    last_line: int = 0  # 0 = whole note
    where: str = "inline"
    used: bool = False

    def covers(self, finding: Finding) -> bool:
        if finding.path != self.path and self.where != "config":
            return False
        if self.rules and finding.rule not in self.rules and finding.code not in self.rules:
            return False
        if self.last_line and not (self.first_line <= finding.span.line <= self.last_line):
            return False
        return True


def _rule_names(text: str | None, rules: dict[str, Rule]) -> frozenset[str]:
    if not text or not text.strip():
        return frozenset()
    names: set[str] = set()
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        names.add(token)
        for rule in rules.values():
            if token.upper() == rule.code:
                names.add(rule.name)
    return frozenset(names)


def _refuse_unknown(pattern: str, listed: tuple[str, ...], rules: dict[str, Rule]) -> None:
    """A name in ``per_path_ignores`` that no rule answers to is a typo that would silently
    suppress nothing: refused like an unknown key (an inline comment only ever covers its note)."""
    known = set(rules) | {rule.code for rule in rules.values()}
    for token in listed:
        if token.strip() not in known and token.strip().upper() not in known:
            raise ConfigError(f"per_path_ignores.{pattern}: unknown rule {token!r}; `kbmine rules` lists them")


def collect(kb: KB, rules: dict[str, Rule]) -> list[Suppression]:
    """Every inline, frontmatter and config suppression of the KB."""
    found: list[Suppression] = []
    for path, note in kb.notes.items():
        settings = note.frontmatter.get("kbmine")
        if isinstance(settings, dict) and "ignore" in settings:
            value = settings["ignore"]
            # ``ignore: [1, {a: b}]`` is not a list of names, but must not stop the run either.
            written = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            names = frozenset() if value in (True, "all", "*") else _rule_names(written, rules)
            found.append(Suppression(path, names, _ZERO, where="frontmatter"))
        if not note.kbmine_comments:
            continue
        source = kb.source(path)
        if source is None:
            continue
        html = [(source.char_offset(a), source.char_offset(b)) for a, b in note.code_ranges]
        for match in _INLINE.finditer(source.normalized):
            if not any(a <= match.start() < b and source.normalized.startswith("<", a) for a, b in html):
                continue  # inside a code block, not a real comment
            line = source.line_of(match.start()) + 1
            whole = match.group(1) == "ignore-file"
            found.append(
                Suppression(
                    path,
                    _rule_names(match.group(2), rules),
                    source.span(match.start(), match.end()),
                    first_line=line,
                    last_line=0 if whole else line + 1,
                )
            )
    for pattern, listed in kb.config.per_path_ignores.items():
        _refuse_unknown(pattern, listed, rules)
        matcher = glob_matcher((pattern,))
        if matcher is None:
            continue
        for path in kb.notes:
            if matcher.match(path):
                found.append(Suppression(path, _rule_names(",".join(listed), rules), _ZERO, where="config"))
    return found


def apply_suppressions(
    kb: KB, findings: Iterable[Finding], rules: dict[str, Rule], report_unused: bool = False
) -> list[Finding]:
    """The findings no suppression covers, plus (if asked) one finding per unused suppression."""
    suppressions = collect(kb, rules)
    by_path: dict[str, list[Suppression]] = {}
    for suppression in suppressions:
        by_path.setdefault(suppression.path, []).append(suppression)
    kept: list[Finding] = []
    for finding in findings:
        covering = [s for s in by_path.get(finding.path, ()) if s.covers(finding)]
        for suppression in covering:
            suppression.used = True
        if not covering:
            kept.append(finding)
    if report_unused:
        for suppression in suppressions:
            if suppression.used or suppression.where == "config":
                continue
            named = ", ".join(sorted(suppression.rules)) or "all rules"
            message = f"this {suppression.where} suppression ({named}) silences no finding: remove it"
            finding = Finding("KB001", "unused-suppression", "warning", suppression.path, suppression.span, message, {"rules": sorted(suppression.rules)})
            kept.append(finding.with_fingerprint(suppression.where, named))
    kept.sort(key=lambda f: (f.path, f.span.start, f.code))
    return kept
