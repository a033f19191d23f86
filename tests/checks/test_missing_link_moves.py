"""A note moved without committing: the link still written with its old name is broken (broken-link
says so), and that is the one finding: the mention of its title is no missing link, the note no orphan."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kbmine.checks import run_checks, select_rules
from kbmine.config import load_config
from kbmine.kb import load
from tests.conftest import git_env


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=git_env(), capture_output=True, check=True)


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "graph-view.md").write_text("# Graph visualization\n\nNodes and edges.\n", encoding="utf-8")
    (root / "guide.md").write_text("# Guide\n\nOpen the Graph visualization to explore. See [[graph-view]].\n", encoding="utf-8")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "notes")
    return root


def _rules(root: Path) -> list[tuple[str, str, str]]:
    kb = load(root, load_config(root), use_cache=False)
    found = run_checks(kb, select_rules(["missing-link", "broken-link"]))
    return sorted((f.rule, f.path, str(f.data.get("target"))) for f in found)


def test_a_mention_of_a_note_moved_away_from_a_broken_link_to_it_is_not_a_second_finding(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    assert _rules(root) == []
    (root / "notes" / "graph-view.md").rename(root / "notes" / "graph.md")
    kb = load(root, load_config(root), use_cache=False)
    assert kb.moved_notes == {"notes/graph-view.md": "notes/graph.md"}
    assert _rules(root) == [("broken-link", "guide.md", "graph-view")]
    # Once the move is staged git no longer shows it as one: the link is broken and the mention unlinked.
    _git(root, "add", "-A")
    assert load(root, load_config(root), use_cache=False).moved_notes == {}
    assert _rules(root) == [("broken-link", "guide.md", "graph-view"), ("missing-link", "guide.md", "notes/graph.md")]


def test_an_edited_or_deleted_note_is_no_move(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "notes" / "graph-view.md").unlink()
    (root / "notes" / "graph.md").write_text("# Graph visualization\n\nNodes, edges and more.\n", encoding="utf-8")
    assert load(root, load_config(root), use_cache=False).moved_notes == {}
    assert ("missing-link", "guide.md", "notes/graph.md") in _rules(root)


def test_the_cached_report_follows_the_staging_of_a_move(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "notes" / "graph-view.md").rename(root / "notes" / "graph.md")
    assert len(run_checks(load(root, load_config(root)), select_rules(["missing-link"]))) == 0
    _git(root, "add", "-A")  # no file changed, but what git says of them did
    assert len(run_checks(load(root, load_config(root)), select_rules(["missing-link"]))) == 1


def test_a_note_moved_away_from_its_links_is_no_orphan(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "notes" / "graph-view.md").rename(root / "notes" / "graph.md")
    kb = load(root, load_config(root), use_cache=False)
    orphans = sorted(f.path for f in run_checks(kb, select_rules(["orphan-note"])))
    assert orphans == ["guide.md"]  # nothing links the guide; the moved note is still linked, brokenly


def test_links_out_of_a_moved_note_still_name_the_notes_they_reached_from_its_old_place(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "a.md").write_text("# A\n\nThe Bee topic matters; see [the bee](./b.md).\n", encoding="utf-8")
    (root / "notes" / "b.md").write_text("# Bee topic\n\nBack to [[a]].\n", encoding="utf-8")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "notes")
    (root / "archive").mkdir()
    (root / "notes" / "a.md").rename(root / "archive" / "a.md")
    kb = load(root, load_config(root), use_cache=False)
    found = sorted((f.rule, f.path, str(f.data.get("target"))) for f in run_checks(kb, select_rules(["missing-link", "broken-link", "orphan-note"])))
    # The relative link broke ([[a]] finds the moved note by name); nothing else is new.
    assert found == [("broken-link", "archive/a.md", "./b.md")]
