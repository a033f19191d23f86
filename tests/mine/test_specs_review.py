"""The enforce → drift → review → relax cycle, retiring a collapsed spec, and ``kbmine specs edit``, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clikit import run_cli as run_kbmine
from minekit import MakeKB, note

NAMES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]


def _accepted(make_kb: MakeKB) -> tuple[Path, str]:
    """Six notes whose `status` is `done` or `draft`, that spec mined and accepted."""
    files = {f"notes/{n}.md": note(f"# {n}\n", status="draft" if i % 2 else "done") for i, n in enumerate(NAMES)}
    files["README.md"] = "# Home\n\n" + "".join(f"- [[{n}]]\n" for n in NAMES)
    root = make_kb(files)
    mined = json.loads(run_kbmine("mine", str(root), "--min-support", "5", "--holdout", "0", "--format", "json").stdout)
    (spec,) = [s["id"] for s in mined["specs"] if s["kind"] == "enum_values" and s["scope"] == "folder:notes"]
    accepted = run_kbmine("specs", "accept", spec, "--path", str(root), "--format", "json")
    assert json.loads(accepted.stdout) == {"state": "accepted", "ids": [spec], "specs_file": str(root / "kbmine.specs.yaml")}
    return root, spec


def _review(root: Path, *args: str) -> dict[str, dict[str, object]]:
    result = run_kbmine("specs", "review", str(root), "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return {verdict["id"]: verdict for verdict in json.loads(result.stdout)["specs"]}


def test_enforce_drift_review_relax(make_kb: MakeKB) -> None:
    root, spec = _accepted(make_kb)
    assert _review(root)[spec]["action"] == "keep"
    # drift: three new notes use a status the vocabulary does not know
    for name in ("golf", "hotel", "india"):
        (root / "notes" / f"{name}.md").write_text(note(f"# {name}\n", status="archived"), encoding="utf-8")
    check = run_kbmine("check", str(root), "--select", "spec", "--format", "json")
    assert check.returncode == 1
    assert sorted(f["path"] for f in json.loads(check.stdout)["findings"]) == ["notes/golf.md", "notes/hotel.md", "notes/india.md"]
    verdict = _review(root)[spec]
    assert verdict["action"] == "relax"
    assert verdict["recorded"] == {"support": 6, "confidence": 1.0, "violations": 0}
    assert verdict["now"]["violations"] == 3 and verdict["now"]["support"] == 9
    assert verdict["reasons"] == [
        "violations grew from 0 of 6 (0.0%) to 3 of 9 (33.3%)",
        "the vocabulary gained `archived` (3 notes)",
    ]
    relaxed = verdict["relaxed"]
    assert isinstance(relaxed, dict) and relaxed["how"] == "widen the vocabulary with `archived`"
    assert relaxed["params"] == {"key": "status", "required": True, "values": ["archived", "done", "draft"]}
    assert relaxed["support"] == 9 and relaxed["confidence"] == 1.0
    text = run_kbmine("specs", "review", str(root)).stdout
    assert f"{spec}  relax " in text and f"apply with: kbmine specs review {root} --apply {spec}" in text
    applied = run_kbmine("specs", "review", str(root), "--apply", spec)
    assert applied.returncode == 0 and f"applied {spec}" in applied.stdout
    states = {s["id"]: s["state"] for s in json.loads(run_kbmine("specs", "list", str(root), "--format", "json").stdout)}
    assert states[spec] == "rejected" and states[relaxed["id"]] == "accepted"
    # the relaxed spec is enforced instead: the archived notes are fine, a typo is not
    assert run_kbmine("check", str(root), "--select", "spec").returncode == 0
    (root / "notes" / "golf.md").write_text(note("# golf\n", status="archivd"), encoding="utf-8")
    check = run_kbmine("check", str(root), "--select", "spec", "--format", "json")
    assert [f["rule"] for f in json.loads(check.stdout)["findings"]] == [f"spec/{relaxed['id']}"]
    # the old, stricter spec is remembered as rejected: mining never proposes it again
    mined = json.loads(run_kbmine("mine", str(root), "--min-support", "5", "--holdout", "0", "--format", "json").stdout)
    assert spec not in {s["id"] for s in mined["specs"]}
    assert run_kbmine("specs", "review", str(root), "--apply", spec).returncode == 2


def test_collapsed_spec_is_retired(make_kb: MakeKB) -> None:
    root, spec = _accepted(make_kb)
    for i, name in enumerate(NAMES[:5]):
        (root / "notes" / f"{name}.md").write_text(note(f"# {name}\n", status=f"state-{i}"), encoding="utf-8")
    verdict = _review(root)[spec]
    assert verdict["action"] == "retire" and verdict["relaxed"] is None
    assert verdict["reasons"][-1] == "its confidence is 16.7%"
    assert _review(root, "--apply", spec) == {spec: verdict}
    assert "retired: violations grew from 0 of 6 (0.0%) to 5 of 6 (83.3%)" in (root / "kbmine.specs.yaml").read_text(encoding="utf-8")
    assert run_kbmine("check", str(root), "--select", "spec").returncode == 0
    unknown = run_kbmine("specs", "review", str(root), "--apply", "nope")
    assert unknown.returncode == 2 and "--apply nope: no accepted spec" in unknown.stderr


def test_edit_validates_keeps_comments_and_measures_again(make_kb: MakeKB) -> None:
    root, spec = _accepted(make_kb)
    specs_file = root / "kbmine.specs.yaml"
    commented = specs_file.read_text(encoding="utf-8").replace(f"  - id: {spec}\n", f"  # agreed in the team meeting\n  - id: {spec}\n")
    specs_file.write_text(commented, encoding="utf-8")
    bad = {
        ("--set", "nope=1"): "enum_values specs have no parameter 'nope'",
        ("--set", "values="): "parameter 'values' must be a non-empty list of values",
        ("--set", "required=maybe"): "--set required: expected true or false, not 'maybe'",
        ("--set", "values"): "--set 'values': expected NAME=VALUE",
        ("--scope", "bogus"): "unknown scope 'bogus'",
        ("--scope", "folder:nots"): "scope folder:nots holds no note the spec applies to",
        ("--editor", "--scope", "all"): "--editor edits the whole spec: give it alone",
        (): "nothing to change",
    }
    for args, message in bad.items():
        result = run_kbmine("specs", "edit", spec, "--path", str(root), *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and specs_file.read_text(encoding="utf-8") == commented
    assert run_kbmine("specs", "edit", "nope", "--path", str(root), "--set", "values=a").returncode == 2
    result = run_kbmine("specs", "edit", spec, "--path", str(root), "--set", "values=done", "--format", "json")
    assert result.returncode == 0, result.stderr
    edited = json.loads(result.stdout)
    assert edited["changed"] and edited["spec"]["id"] == spec and edited["spec"]["params"]["values"] == ["done"]
    assert edited["spec"]["statement"] == "every note under notes/ has `status` set to `done`"
    assert edited["spec"]["support"] == 6 and edited["spec"]["counterexamples"] == ["notes/bravo.md", "notes/delta.md", "notes/foxtrot.md"]
    text = specs_file.read_text(encoding="utf-8")
    assert "# agreed in the team meeting" in text and "violations: 3" in text
    assert text.index("kbmine specs:") < text.index("# agreed") < text.index(f"id: {spec}") < text.index("state: accepted")
    check = run_kbmine("check", str(root), "--select", "spec", "--format", "json")
    assert len(json.loads(check.stdout)["findings"]) == 3


def test_edit_in_the_editor(make_kb: MakeKB, monkeypatch: pytest.MonkeyPatch) -> None:
    root, spec = _accepted(make_kb)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "sed -i -e 's/^scope: .*/scope: all/'")
    result = run_kbmine("specs", "edit", spec, "--path", str(root), "--editor")
    assert result.returncode == 0, result.stderr
    # the README has no status: it breaks the spec over the whole KB
    assert f"{spec}  accepted      7 notes  85.7%  every note has `status` set to one of `done`, `draft`" in result.stdout
    # a spec saying what another already says is refused
    monkeypatch.setenv("EDITOR", "sed -i 's/required: true/required: false/'")
    same = run_kbmine("specs", "edit", spec, "--path", str(root), "--editor")
    assert same.returncode == 2 and "already says this" in same.stderr
    before = (root / "kbmine.specs.yaml").read_bytes()
    monkeypatch.setenv("EDITOR", "sed -i 's/^params:/parameters:/'")
    bad = run_kbmine("specs", "edit", spec, "--path", str(root), "--editor")
    assert bad.returncode == 2 and "only scope and params can be edited, not 'parameters'" in bad.stderr
    monkeypatch.setenv("EDITOR", "false")
    failed = run_kbmine("specs", "edit", spec, "--path", str(root), "--editor")
    assert failed.returncode == 2 and "exited with status 1" in failed.stderr
    assert (root / "kbmine.specs.yaml").read_bytes() == before


def test_every_specs_command_has_help_and_json() -> None:
    for command in ("list", "show", "accept", "reject", "test", "review", "edit"):
        result = run_kbmine("specs", command, "--help")
        assert result.returncode == 0 and "--format" in result.stdout, command


def test_a_value_already_among_the_recorded_counterexamples_is_not_new(make_kb: MakeKB) -> None:
    root, spec = _accepted(make_kb)
    for name in ("golf", "hotel", "india"):
        (root / "notes" / f"{name}.md").write_text(note(f"# {name}\n", status="archived"), encoding="utf-8")
    # an edit measures the spec again: the three archived notes become recorded counterexamples
    edited = run_kbmine("specs", "edit", spec, "--path", str(root), "--set", "key=status")
    assert edited.returncode == 0 and edited.stdout.startswith(f"edited spec {spec}"), edited.stderr
    verdict = _review(root)[spec]
    assert verdict["action"] == "keep" and verdict["recorded"]["violations"] == 3
    (root / "notes" / "juliet.md").write_text(note("# juliet\n", status="archived"), encoding="utf-8")
    verdict = _review(root)[spec]
    assert verdict["action"] == "relax" and verdict["reasons"][-1] == "the vocabulary gained `archived` (4 notes)"
