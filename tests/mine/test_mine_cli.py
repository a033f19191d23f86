"""``kbmine mine``, ``kbmine specs`` and enforcement in ``kbmine check``, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from minekit import MakeKB, note

from tests.conftest import run_kbmine


def _kb(make_kb: MakeKB) -> Path:
    files = {f"notes/n{i:02}.md": note(f"# N{i}\n\n[[notes/n00]]\n", status="draft" if i % 2 else "current") for i in range(12)}
    files["notes/n00.md"] = note("# N0\n\n[[notes/n01]]\n", title="Zero", status="someday")
    files["README.md"] = "# Home\n\n" + "".join(f"- [[notes/n{i:02}]]\n" for i in range(12))
    return make_kb(files)


def _status_spec(root: Path) -> str:
    result = run_kbmine("mine", str(root), "--holdout", "0", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["notes"] == 13 and (root / "kbmine.specs.yaml").is_file()
    (spec,) = [s for s in document["specs"] if s["kind"] == "enum_values" and s["scope"] == "folder:notes"]
    assert spec["counterexamples"] == ["notes/n00.md"] and spec["state"] == "proposed"
    return str(spec["id"])


def test_accept_then_check_finds_the_violation_then_fix_is_clean(make_kb: MakeKB) -> None:
    root = _kb(make_kb)
    spec_id = _status_spec(root)
    # before accepting, the spec is not enforced (and this run fills the findings cache)
    assert run_kbmine("check", str(root), "--select", "spec").returncode == 0
    accepted = run_kbmine("specs", "accept", spec_id, "--path", str(root))
    assert accepted.returncode == 0, accepted.stderr
    # the notes did not change, the specs file did: the cache must not hide the finding
    result = run_kbmine("check", str(root), "--select", "spec", "--format", "json")
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["rule"] == f"spec/{spec_id}" and finding["code"] == "KB300"
    assert (finding["path"], finding["line"], finding["column"]) == ("notes/n00.md", 3, 1)
    assert "`current`, `draft`" in finding["message"] and "set `status`" in finding["message"]
    path = root / "notes" / "n00.md"
    path.write_text(path.read_text(encoding="utf-8").replace("someday", "draft"), encoding="utf-8")
    assert run_kbmine("check", str(root), "--select", "spec").returncode == 0


def test_reject_is_remembered_and_list_show_json(make_kb: MakeKB) -> None:
    root = _kb(make_kb)
    spec_id = _status_spec(root)
    assert run_kbmine("specs", "reject", spec_id, "--path", str(root)).returncode == 0
    again = run_kbmine("mine", str(root), "--holdout", "0", "--format", "json")
    assert spec_id not in {s["id"] for s in json.loads(again.stdout)["specs"]}
    listed = json.loads(run_kbmine("specs", "list", str(root), "--format", "json").stdout)
    assert {s["id"]: s["state"] for s in listed}[spec_id] == "rejected"
    rejected = run_kbmine("specs", "list", str(root), "--state", "rejected").stdout
    assert rejected.startswith(spec_id)
    shown = json.loads(run_kbmine("specs", "show", spec_id, "--path", str(root), "--format", "json").stdout)
    assert shown["id"] == spec_id and shown["support"] == 12 and shown["counterexamples"] == ["notes/n00.md"]
    text = run_kbmine("specs", "show", spec_id, "--path", str(root)).stdout
    assert "counterexamples" in text and "notes/n00.md" in text
    missing = run_kbmine("specs", "accept", "nope", "--path", str(root))
    assert missing.returncode == 2 and "no spec 'nope'" in missing.stderr


def test_mine_text_output_and_dry_run(make_kb: MakeKB) -> None:
    root = _kb(make_kb)
    result = run_kbmine("mine", str(root), "--holdout", "0", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("mined 13 notes") and "would write" in result.stdout
    assert not (root / "kbmine.specs.yaml").exists()


def test_every_mine_command_has_help() -> None:
    for command in [("mine",), ("specs",), ("specs", "list"), ("specs", "show"), ("specs", "accept"), ("specs", "reject")]:
        result = run_kbmine(*command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout, (command, result.stderr)
