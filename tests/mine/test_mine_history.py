"""Lifecycle from git history: values, transitions (across renames) and terminal values."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from minekit import MakeKB, note

from kbmine.mine.history import lifecycle
from tests.conftest import git_env, run_kbmine


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=git_env())


def _commit(root: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", message)


def _history(make_kb: MakeKB) -> Path:
    root = make_kb({"README.md": "# Home\n"})
    _git(root, "init", "-q", "-b", "main")
    names = [f"adr/a{i}.md" for i in range(6)]
    _commit(root, {name: note(status="draft") for name in names}, "drafts")
    _commit(root, {name: note(status="current") for name in names}, "accepted")
    _git(root, "mv", "adr/a0.md", "adr/first.md")
    _commit(root, {}, "rename")
    superseded = ["adr/first.md", *names[1:5]]
    _commit(root, {name: note(status="superseded") for name in superseded}, "superseded")
    _commit(root, {"adr/a5.md": note("# Still edited\n", status="current")}, "edit the live one")
    return root


def test_values_transitions_and_terminal(make_kb: MakeKB) -> None:
    root = _history(make_kb)
    found = lifecycle(root, min_notes=5)
    assert found is not None and found.commits == 5
    assert found.seen == {"draft": 6, "current": 6, "superseded": 5}
    assert found.current == {"superseded": 5, "current": 1}
    # the rename keeps a0's history: its draft -> current -> superseded counts once
    assert found.transitions == {("draft", "current"): 6, ("current", "superseded"): 5}
    assert found.terminal == ("superseded",)
    assert found.quiet["superseded"] == (5, 1.0)


def test_outside_git_there_is_no_lifecycle(make_kb: MakeKB) -> None:
    assert lifecycle(make_kb({"a.md": note(status="draft")})) is None


def test_mine_history_through_the_cli(make_kb: MakeKB) -> None:
    root = _history(make_kb)
    result = run_kbmine("mine", str(root), "--history", "--dry-run", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)["lifecycle"]
    assert document["terminal"] == ["superseded"]
    assert {"from": "draft", "to": "current", "notes": 6} in document["transitions"]
