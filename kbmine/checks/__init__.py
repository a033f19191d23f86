"""The rule registry: one module per rule in this package, registered on import.

A rule is a function ``(kb, options) -> Iterable[Finding]`` decorated with
:func:`rule`, which records its stable code, kebab-case name, default
severity and one-line summary; its docstring is its documentation
(``kbmine explain``). Rules only read the KB: they never write.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib
import pkgutil
from collections.abc import Callable, Iterable
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kbmine.errors import ConfigError
from kbmine.model import Finding, Severity

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["Rule", "RULES", "rule", "all_rules", "run_checks", "select_rules"]

CheckFunction = Callable[["KB", dict[str, Any]], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A registered rule: identity, default severity, documentation and the check itself."""

    code: str
    name: str
    severity: Severity
    summary: str
    check: CheckFunction
    options: tuple[str, ...] = ()
    #: Whether findings depend on git history and today's date (part of the cache key).
    uses_git: bool = False

    @property
    def doc(self) -> str:
        return (self.check.__doc__ or self.summary).strip()


RULES: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    options: tuple[str, ...] = (),
    uses_git: bool = False,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as rule ``name`` with code ``code``."""

    def register(check: CheckFunction) -> CheckFunction:
        if name in RULES or any(r.code == code for r in RULES.values()):
            raise RuntimeError(f"rule {code}/{name} registered twice")
        RULES[name] = Rule(code, name, severity, summary, check, options, uses_git)
        return check

    return register


def all_rules() -> dict[str, Rule]:
    """Every rule, importing each module of this package once."""
    if not getattr(all_rules, "_loaded", False):
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        setattr(all_rules, "_loaded", True)
    return dict(sorted(RULES.items(), key=lambda item: item[1].code))


def rule_doc(token: str) -> str:
    """The documentation of rule ``token`` (name or code), as ``kbmine explain`` prints it."""
    (name,) = _lookup(token, all_rules())[:1]
    rule = all_rules()[name]
    options = ", ".join(rule.options) if rule.options else "none"
    body = "\n".join(line[4:] if line.startswith("    ") else line for line in rule.doc.splitlines())
    return (
        f"{rule.code} {rule.name} (default severity: {rule.severity})\n\n{rule.summary}.\n\n{body}\n\n"
        f"Options ([tool.kbmine.rules.{rule.name}]): {options}\n"
    )


def _lookup(token: str, rules: dict[str, Rule]) -> list[str]:
    if token in rules:
        return [token]
    matches = [name for name, r in rules.items() if r.code == token.upper() or r.code.startswith(token.upper()) and token[:2].upper() == "KB"]
    if not matches:
        raise ConfigError(f"unknown rule {token!r}; `kbmine rules` lists them")
    return matches


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    """The rules to run: all (or ``select``), minus ``ignore``; names or codes (``KB1`` prefixes)."""
    rules = all_rules()
    chosen = [n for token in select for n in _lookup(token, rules)] if select else list(rules)
    dropped = {n for token in ignore for n in _lookup(token, rules)}
    return [rules[n] for n in dict.fromkeys(chosen) if n not in dropped]


def run_checks(kb: KB, rules: list[Rule] | None = None, *, report_unused_suppressions: bool = False) -> list[Finding]:
    """Run ``rules`` (default: per the KB's config) and return findings sorted by place.

    Suppressed findings are dropped (see :mod:`kbmine.suppress`). The result
    is cached under the KB's fingerprint and the rule selection: a run on an
    unchanged KB returns it without parsing a single note.
    """
    config = kb.config
    if rules is None:
        rules = select_rules(config.select, config.ignore)
    known = all_rules()
    codes = {r.code for r in known.values()}
    for name in config.rules:
        if name not in known:
            raise ConfigError(f"rules.{name}: unknown rule; `kbmine rules` lists them")
    for name in config.severity:
        if name not in known and name.upper() not in codes:
            raise ConfigError(f"severity.{name}: unknown rule; `kbmine rules` lists them")
    key = kb.fingerprint + ":" + ",".join(r.name for r in rules) + f":{report_unused_suppressions}"
    if any(r.uses_git for r in rules):
        from kbmine.gitops import head_commit

        key += f":{head_commit(kb.root)}:{datetime.date.today().isoformat()}"
    if kb.cache is not None:
        cached = kb.cache.get_blob("findings", key)
        if isinstance(cached, tuple) and len(cached) == 2 and isinstance(cached[0], list):
            for notice in cached[1]:
                kb.notice(notice)
            return cached[0]
    from kbmine.suppress import apply_suppressions

    findings = apply_suppressions(kb, _run(kb, rules), known, report_unused_suppressions)
    if kb.cache is not None:
        kb.cache.put_blob("findings", key, (findings, list(kb.notices)))
    return findings


def _run(kb: KB, rules: list[Rule]) -> list[Finding]:
    config = kb.config
    findings: list[Finding] = []
    for chosen in rules:
        level = config.severity.get(chosen.name) or config.severity.get(chosen.code)
        if level == "off":
            continue
        options = config.rule_options(chosen.name)
        unknown = sorted(set(options) - set(chosen.options))
        if unknown:
            raise ConfigError(f"rules.{chosen.name}: unknown option {unknown[0]!r}")
        for finding in chosen.check(kb, options):
            if level and level != finding.severity:
                finding = finding.with_severity(level)  # type: ignore[arg-type]
            findings.append(finding)
    findings.sort(key=lambda f: (f.path, f.span.start, f.code))
    return _unique_fingerprints(findings)


def _unique_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Number repeated fingerprints (the same text twice in a note) so each stays unique."""
    seen: Counter[str] = Counter()
    unique: list[Finding] = []
    for finding in findings:
        seen[finding.fingerprint] += 1
        count = seen[finding.fingerprint]
        if count > 1:
            finding = dataclasses.replace(
                finding,
                fingerprint=hashlib.sha1(f"{finding.fingerprint}#{count}".encode()).hexdigest()[:16],
                identity=hashlib.sha1(f"{finding.identity}#{count}".encode()).hexdigest()[:16],
            )
        unique.append(finding)
    return unique
