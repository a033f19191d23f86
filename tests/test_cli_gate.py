"""The CI-gate features of ``kbmine check`` through the real CLI.

Output formats (SARIF validated against the vendored 2.1.0 schema, JUnit,
GitHub annotations and step summary), suppressions, baselines that survive
edits and renames, ``--changed-since``, ``--help`` on every command, and
config errors that exit 2 with one line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import git_env, run_kbmine

SCHEMA = Path(__file__).resolve().parent / "report" / "sarif-2.1.0-rtm.5.json"

MakeKB = Callable[[Mapping[str, str | bytes]], Path]

DEFECTS = {
    "README.md": "# Home\n\n[Guide](guide.md) and [[lost]]\n",
    "guide.md": "# Guide\n\nSee [setup](setup.md#install) and [anchor](#nowhere).\n",
    "setup.md": "# Setup\n\n## Installation\n\nBack to [the guide](guide.md).\n",
}


def _json(root: Path, *args: str) -> dict:
    result = run_kbmine("check", str(root), "--format", "json", "--no-cache", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=git_env())


def test_sarif_validates_against_the_2_1_0_schema(make_kb: MakeKB) -> None:
    root = make_kb(DEFECTS)
    result = run_kbmine("check", str(root), "--format", "sarif", "--no-cache")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    run = document["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules, "the driver lists the rules with help text"
    assert all(r["help"]["text"] for r in rules.values())
    results = run["results"]
    assert {r["ruleId"] for r in results} >= {"KB101", "KB102"}
    for r in results:
        region = r["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert r["partialFingerprints"]


def test_junit_is_well_formed_with_one_failure_per_finding(make_kb: MakeKB) -> None:
    root = make_kb(DEFECTS)
    findings = _json(root)["findings"]
    result = run_kbmine("check", str(root), "--format", "junit", "--no-cache")
    tree = ElementTree.fromstring(result.stdout)
    failures = tree.findall(".//failure")
    assert len(failures) == len(findings) > 0


def test_github_annotations_and_step_summary(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb(DEFECTS)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    import os

    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    result = run_kbmine("check", str(root), "--format", "github", "--no-cache", env=env)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("::error file=guide.md,line=3,") for line in lines), lines
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and "| broken-link |" in text.replace("`", "")


def test_inline_frontmatter_and_config_suppressions(make_kb: MakeKB) -> None:
    root = make_kb(
        {
            "README.md": "# Home\n\n[A](a.md) [B](b.md)\n",
            "a.md": "# A\n\n<!-- kbmine: ignore[broken-link] -->\n[x](gone.md)\n\n[y](gone-too.md)\n",
            "b.md": "---\nkbmine: {ignore: [KB101]}\n---\n[x](gone.md)\n",
            "drafts/c.md": "[x](gone.md) [[README]]\n",
            "kbmine.toml": '[per_path_ignores]\n"drafts/**" = ["broken-link"]\n',
        }
    )
    findings = _json(root, "--select", "broken-link")["findings"]
    assert [(f["path"], f["line"]) for f in findings] == [("a.md", 6)]


def test_unused_suppressions_are_reported_when_asked(make_kb: MakeKB) -> None:
    root = make_kb({"README.md": "# Home\n\n<!-- kbmine: ignore[broken-link] -->\nnothing broken here\n"})
    assert _json(root)["findings"] == []
    findings = _json(root, "--report-unused-suppressions")["findings"]
    assert [(f["rule"], f["line"]) for f in findings] == [("unused-suppression", 3)]


def test_baseline_survives_edits_elsewhere_and_a_rename(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb(DEFECTS)
    baseline = tmp_path / "baseline.json"
    result = run_kbmine("check", str(root), "--no-cache", "--write-baseline", str(baseline))
    assert result.returncode == 0 and baseline.is_file(), result.stderr
    assert _json(root, "--baseline", str(baseline))["findings"] == []

    # Lines added above the old findings: their fingerprints do not move.
    guide = root / "guide.md"
    guide.write_text("# Guide\n\nA new paragraph.\n\nMore.\n" + guide.read_text(encoding="utf-8")[8:], encoding="utf-8")
    assert _json(root, "--baseline", str(baseline))["findings"] == []

    # A renamed note keeps its fingerprints (its inbound link is fixed with it).
    guide.rename(root / "handbook.md")
    for name in ("README.md", "setup.md"):
        note = root / name
        note.write_text(note.read_text(encoding="utf-8").replace("guide.md", "handbook.md"), encoding="utf-8")
    assert _json(root, "--baseline", str(baseline))["findings"] == []

    # A new defect is reported.
    (root / "setup.md").write_text("# Setup\n\n## Installation\n\n[x](new-gone.md) [h](handbook.md)\n", encoding="utf-8")
    new = _json(root, "--baseline", str(baseline))["findings"]
    assert [(f["path"], f["rule"]) for f in new] == [("setup.md", "broken-link")]


def test_changed_since_reports_changed_notes_and_notes_their_change_breaks(make_kb: MakeKB) -> None:
    root = make_kb(
        {
            "README.md": "# Home\n\n[A](a.md) [B](b.md) [C](c.md)\n",
            "a.md": "# A\n\n[old broken](nowhere.md)\n",
            "b.md": "# B\n\nSee [C](c.md).\n",
            "c.md": "# C\n",
        }
    )
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "start")
    _git(root, "mv", "c.md", "see.md")
    findings = _json(root, "--changed-since", "HEAD", "--select", "broken-link")["findings"]
    # b.md did not change but its link broke with the rename; a.md's old finding is out of scope.
    assert sorted(f["path"] for f in findings) == ["README.md", "b.md"]


def test_a_replayed_report_is_the_report_written_in_any_form(make_kb: MakeKB, tmp_path: Path) -> None:
    """A warm run replays the stored report (kept as the bytes written, or as text for a terminal):
    to a file, to stdout and as text, it is what a fresh run writes, byte for byte."""
    root = make_kb(DEFECTS | {"caf\u00e9.md": "# Caf\u00e9\n\n[x](n\u00f6where.md)\n"})
    fresh = run_kbmine("check", str(root), "--no-cache", "--format", "json", "-o", str(tmp_path / "fresh.json"))
    assert fresh.returncode == 1, fresh.stderr
    expected = (tmp_path / "fresh.json").read_bytes()
    for name in ("cold.json", "warm.json"):
        assert run_kbmine("check", str(root), "--format", "json", "-o", str(tmp_path / name)).returncode == 1
        assert (tmp_path / name).read_bytes() == expected
    to_stdout = subprocess.run(
        [sys.executable, "-m", "kbmine", "check", str(root), "--format", "json"], capture_output=True, check=False
    )
    assert to_stdout.stdout == expected
    texts = [run_kbmine("check", str(root), "--format", "text", *extra).stdout for extra in ((), (), ("--no-cache",))]
    assert texts[0] == texts[1] == texts[2] and "n\u00f6where.md" in texts[0]


def test_every_command_has_help() -> None:
    commands = [(), ("check",), ("stats",), ("graph",), ("rules",), ("explain",), ("cache",), ("cache", "clear"), ("cache", "path")]
    for command in commands:
        result = run_kbmine(*command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage" in result.stdout, command


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ("dialect = 'roam'\n", "dialect"),
        ("[severity]\nbroken-lnk = 'error'\n", "broken-lnk"),
        ("parse_timeout = -1\n", "parse_timeout"),
        ("this is not toml\n", "kbmine.toml"),
        ("[rules.missing-link]\nmin_lenght = 3\n", "min_lenght"),
    ],
)
def test_config_errors_exit_2_with_one_line(make_kb: MakeKB, config: str, needle: str) -> None:
    root = make_kb({"README.md": "# Home\n", "kbmine.toml": config})
    result = run_kbmine("check", str(root), "--no-cache")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kbmine: error:") and needle in lines[0], result.stderr


def test_explain_unknown_rule_exits_2() -> None:
    result = run_kbmine("explain", "no-such-rule")
    assert result.returncode == 2 and "kbmine rules" in result.stderr


def test_readme_config_example_is_valid(tmp_path: Path) -> None:
    """The configuration block in the README loads without error (unknown keys would exit 2)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n[tool.kbmine]\n", 1)[1].split("```", 1)[0]
    (tmp_path / "pyproject.toml").write_text("[tool.kbmine]\n" + block, encoding="utf-8")
    (tmp_path / "README.md").write_text("# Home\n", encoding="utf-8")
    result = run_kbmine("check", str(tmp_path), "--no-cache")
    assert result.returncode == 0, result.stderr
