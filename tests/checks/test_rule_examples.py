"""Every rule's pass, fail and fix examples (``kbmine/checks/examples/``) run as tests.

Each case is built as a small KB in a temporary folder and checked with only
that rule; the findings must sit exactly at the listed positions. A fix case
then applies the findings' edits and compares the note with the expected
text, and checks again: the fixed KB must be clean for the rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kbmine.checks import all_rules, run_checks, select_rules
from kbmine.checks.examples import Example, load_examples
from kbmine.config import load_config
from kbmine.kb import load
from kbmine.model import Finding
from kbmine.mutate.edits import apply_edits

CASES = [
    pytest.param(name, example, id=f"{name}-{index}-{example.kind}")
    for name in all_rules()
    for index, example in enumerate(load_examples(name))
]


def _build(root: Path, example: Example) -> None:
    for relative, data in example.file_bytes().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _check(root: Path, rule: str) -> list[Finding]:
    kb = load(root, load_config(root), use_cache=False)
    return run_checks(kb, select_rules([rule]))


def test_every_rule_has_pass_and_fail_examples() -> None:
    for name in all_rules():
        kinds = {example.kind for example in load_examples(name)}
        assert "pass" in kinds, f"{name} has no pass example"
        assert kinds & {"fail", "fix"}, f"{name} has no fail example"
        assert kinds <= {"pass", "fail", "fix"}, f"{name}: unknown example kinds {kinds}"


def test_rules_with_edits_have_fix_examples() -> None:
    """A rule that suggests edits shows one applied (missing-link today)."""
    assert any(example.kind == "fix" for example in load_examples("missing-link"))


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_example(tmp_path: Path, rule: str, example: Example) -> None:
    _build(tmp_path, example)
    findings = _check(tmp_path, rule)
    positions = sorted((f.path, f.span.line, f.span.column) for f in findings)
    assert positions == sorted(example.expected), "\n".join(f.message for f in findings)
    if example.kind != "fix":
        return
    assert example.fixed, "a fix example must give the fixed text"
    by_path: dict[str, list] = {}
    for finding in findings:
        assert finding.edits, f"{finding.message} suggests no edit"
        for edit in finding.edits:
            by_path.setdefault(edit.path, []).append(edit)
    for relative, edits in by_path.items():
        path = tmp_path / relative
        path.write_bytes(apply_edits(path.read_bytes(), edits))
    for relative, text in example.fixed.items():
        assert (tmp_path / relative).read_text(encoding="utf-8") == text
    assert _check(tmp_path, rule) == []


def test_catalogue_in_the_kb_matches_the_code() -> None:
    """``kb/reference/rule-catalogue.md`` is generated; regenerate it with ``kbmine rules --format markdown``."""
    from kbmine.checks import rule_catalogue

    catalogue = Path(__file__).resolve().parents[2] / "kb" / "reference" / "rule-catalogue.md"
    assert catalogue.read_text(encoding="utf-8") == rule_catalogue(), (
        "kb/reference/rule-catalogue.md drifted: run `kbmine rules --format markdown > kb/reference/rule-catalogue.md`"
    )


def test_explain_prints_the_examples() -> None:
    from kbmine.checks import rule_doc

    for name in all_rules():
        text = rule_doc(name)
        for example in load_examples(name):
            assert example.title in text
