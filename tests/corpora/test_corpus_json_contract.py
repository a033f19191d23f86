"""The JSON contract of ``kbmine check --format json``, on real corpora.

Top-level keys ``kbmine``, ``root``, ``findings``, ``summary``; every finding
has a code ``KBnnn``, a kebab-case rule, a severity, a posix path relative to
the root, 1-based integer positions, byte offsets, a message, a fingerprint
unique in the report and a ``data`` object (link rules: with ``target``,
``anchor``, ``kind``); ``summary`` counts the findings per rule; the exit
code is 1 when there are findings, 0 when there are none.

Fingerprint uniqueness is asserted here for the KB1xx rules (links and parse
problems); across every rule it is in test_corpus_regressions.py (stale-status
and duplicate-claim repeat fingerprints).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from corpus_support import cli_json, show

CODE = re.compile(r"^KB\d{3}$")
RULE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
POSITIONS = ("line", "column", "end_line", "end_column")
LINK_RULES = ("broken-link", "broken-anchor", "ambiguous-link", "link-escapes-root")
LINK_KINDS = ("markdown", "reference", "definition", "autolink", "wikilink", "hashtag")


def contract_problems(report: dict, root: Path) -> list[str]:
    """Every way ``report`` departs from the contract (fingerprint uniqueness aside)."""
    problems = []
    if set(report) != {"kbmine", "root", "findings", "summary"}:
        problems.append(f"top-level keys {sorted(report)}")
    if not isinstance(report.get("kbmine"), str) or not report["kbmine"]:
        problems.append(f"kbmine version {report.get('kbmine')!r}")
    if report.get("root") != str(root.resolve()):
        problems.append(f"root {report.get('root')!r} is not {str(root.resolve())!r}")
    findings = report.get("findings")
    if not isinstance(findings, list):
        return problems + ["findings is not a list"]
    codes: dict[str, set[str]] = {}
    for index, finding in enumerate(findings):
        where = f"finding {index} ({finding.get('rule')} {finding.get('path')}:{finding.get('line')})"
        for key in ("code", "rule", "severity", "path", *POSITIONS, "message", "fingerprint", "data"):
            if key not in finding:
                problems.append(f"{where}: no {key!r}")
        if not CODE.match(str(finding.get("code"))):
            problems.append(f"{where}: code {finding.get('code')!r}")
        if not RULE.match(str(finding.get("rule"))):
            problems.append(f"{where}: rule {finding.get('rule')!r} is not kebab-case")
        codes.setdefault(str(finding.get("rule")), set()).add(str(finding.get("code")))
        if finding.get("severity") not in ("error", "warning", "info"):
            problems.append(f"{where}: severity {finding.get('severity')!r}")
        path = finding.get("path")
        if (
            not isinstance(path, str)
            or not path
            or path.startswith(("/", "./"))
            or "\\" in path
            or ".." in path.split("/")
            or not (root / path).exists()
        ):
            problems.append(f"{where}: path {path!r}")
        for key in POSITIONS:
            value = finding.get(key)
            if type(value) is not int or value < 1:
                problems.append(f"{where}: {key} {value!r}")
        if (finding.get("end_line"), finding.get("end_column")) < (finding.get("line"), finding.get("column")):
            problems.append(f"{where}: ends before it starts")
        start, end = finding.get("start_byte"), finding.get("end_byte")
        if type(start) is not int or type(end) is not int or not 0 <= start <= end:
            problems.append(f"{where}: bytes {start!r}:{end!r}")
        if not isinstance(finding.get("message"), str) or not finding["message"].strip():
            problems.append(f"{where}: message {finding.get('message')!r}")
        if not isinstance(finding.get("fingerprint"), str) or not finding["fingerprint"]:
            problems.append(f"{where}: fingerprint {finding.get('fingerprint')!r}")
        data = finding.get("data")
        if not isinstance(data, dict):
            problems.append(f"{where}: data {data!r}")
        elif finding.get("rule") in LINK_RULES and (
            not {"target", "anchor", "kind"} <= set(data) or data["kind"] not in LINK_KINDS
        ):
            problems.append(f"{where}: link data {data!r}")
    problems += [f"rule {rule} has several codes {sorted(c)}" for rule, c in codes.items() if len(c) > 1]
    expected = dict(Counter(f.get("rule") for f in findings))
    if report.get("summary") != expected:
        problems.append(f"summary {report.get('summary')} is not the count per rule {expected}")
    return problems


def repeated_fingerprints(findings: list[dict]) -> list[tuple[str, str, str, int]]:
    """(fingerprint, rule, path, line) of every finding whose fingerprint another finding shares."""
    counts = Counter(f["fingerprint"] for f in findings)
    return [(f["fingerprint"], f["rule"], f["path"], f["line"]) for f in findings if counts[f["fingerprint"]] > 1]


def _kb1(findings: list[dict]) -> list[dict]:
    return [f for f in findings if str(f.get("code", "")).startswith("KB1")]


@pytest.mark.parametrize("corpus", ["hyalo", "foam"])
def test_cli_report(corpus: str, request: pytest.FixtureRequest) -> None:
    root: Path = request.getfixturevalue(corpus)
    report, exit_code = request.getfixturevalue(f"{corpus}_check")
    assert report["findings"], "these corpora have findings"
    assert exit_code == 1
    problems = contract_problems(report, root)
    assert problems == [], show(problems)
    assert repeated_fingerprints(_kb1(report["findings"])) == []


def test_in_process_report_on_commonplace(commonplace: Path, commonplace_report: dict) -> None:
    """The same formatter on 588 findings: fingerprints stay unique at scale."""
    assert len(commonplace_report["findings"]) > 500
    problems = contract_problems(commonplace_report, commonplace)
    assert problems == [], show(problems)
    assert repeated_fingerprints(commonplace_report["findings"]) == []


def test_exit_code_is_zero_without_findings(foam: Path, cli_cwd: Path) -> None:
    """foam-docs has no ambiguous link: exit 0 and an empty, well-formed report."""
    report, exit_code = cli_json("check", foam, "--dialect", "foam", "--select", "ambiguous-link", cwd=cli_cwd)
    assert report["findings"] == [] and report["summary"] == {}
    assert exit_code == 0
    assert contract_problems(report, foam) == []
