"""kbmine mutate and kbmine review in throwaway git repositories (isolated from user git config).

Each test builds a small repository, runs the real CLI, and checks the
review branch, the commits' bytes, and that the user's working tree, index
and current branch were left exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.conftest import git_env, run_kbmine

BRANCH = "kbmine/review"


def git(root: Path, *args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=git_env(), check=True)
    return completed.stdout.strip()


def make_repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial notes")
    return root


def write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def user_state(root: Path, *, raw_index: bool = True) -> str:
    """HEAD, the current branch, the index and every working-tree byte (``.git`` excluded).

    ``raw_index`` hashes the index file itself (never rewritten); otherwise
    its entries (git may rewrite the file with fresh stat data, same content).
    """
    digest = hashlib.sha256()
    digest.update(git(root, "rev-parse", "HEAD").encode())
    digest.update(git(root, "symbolic-ref", "-q", "HEAD").encode())
    digest.update((root / ".git" / "index").read_bytes() if raw_index else git(root, "ls-files", "-s").encode())
    for path in sorted(p for p in root.rglob("*") if ".git" not in p.relative_to(root).parts and p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def mutate(root: Path, *args: str, env: Mapping[str, str] | None = None) -> dict:
    result = run_kbmine("mutate", str(root), "--format", "json", *args, env=env or git_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def branch_file(root: Path, path: str) -> bytes:
    return subprocess.run(["git", "show", f"{BRANCH}:{path}"], cwd=root, capture_output=True, env=git_env(), check=True).stdout


@pytest.fixture
def renamed_repo(tmp_path: Path) -> Path:
    root = make_repo(
        tmp_path / "repo",
        {
            "README.md": "# Home\r\n\r\nSee [setup](notes/setup.md#install), [[setup#Install|the setup]] and [again](<notes/setup.md>).\r\n",
            "notes/setup.md": "# Setup\n\n## Install\n\nBack [home](../README.md).\n",
        },
    )
    return renamed(root, "notes/setup.md", "notes/installation.md")


def renamed(root: Path, old: str, new: str) -> Path:
    """``root`` with note ``old`` renamed to ``new`` in a commit of its own, no link updated."""
    git(root, "mv", old, new)
    git(root, "commit", "-q", "-m", f"rename {old}")
    return root


def test_relink_follows_renames_keeping_form_anchor_label_and_bytes(renamed_repo: Path) -> None:
    before = user_state(renamed_repo)
    run = mutate(renamed_repo)
    assert user_state(renamed_repo) == before, "the working tree, index or branch changed"
    assert [c["action"] for c in run["committed"]] == ["follow-rename"] * 3
    fixed = branch_file(renamed_repo, "README.md")
    assert fixed == (
        b"# Home\r\n\r\nSee [setup](notes/installation.md#install), [[installation#Install|the setup]] "
        b"and [again](<notes/installation.md>).\r\n"
    )
    log = git(renamed_repo, "log", "--format=%B%x00", f"main..{BRANCH}").split("\0")
    assert all("Kbmine-Mutation: relink/follow-rename" in m and "Kbmine-Fingerprint:" in m for m in log if m.strip())
    assert git(renamed_repo, "worktree", "list").count("\n") == 0, "the temporary worktree was left behind"


def test_second_run_proposes_nothing_and_dry_run_commits_nothing(renamed_repo: Path) -> None:
    dry = mutate(renamed_repo, "--dry-run")
    assert len(dry["diffs"]) == 3 and not dry["committed"]
    assert "+See [setup](notes/installation.md#install)" in dry["diffs"][0]["diff"]
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", BRANCH], check=False, cwd=renamed_repo, env=git_env()).returncode != 0
    assert len(mutate(renamed_repo)["committed"]) == 3
    again = mutate(renamed_repo)
    assert again["proposed"] == 0 and not again["committed"]


def test_missing_link_mention_becomes_a_link_in_the_notes_style(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {
            "index.md": "# Index\n\n[[b]] and spreading activation, later Spreading Activation.\n",
            "b.md": "# B\n\n[[index]]\n",
            "spreading-activation.md": "# Spreading activation\n\n[[index]]\n",
        },
    )
    run = mutate(root)
    assert [c["action"] for c in run["committed"]] == ["link-mention"]
    assert branch_file(root, "index.md") == (
        b"# Index\n\n[[b]] and [[spreading-activation|spreading activation]], later Spreading Activation.\n"
    )


def test_a_mention_of_a_dead_note_is_not_linked_from_a_live_one(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {
            "index.md": "# Index\n\n[[b]] and spreading activation.\n",
            "b.md": "# B\n\n[[index]]\n",
            "spreading-activation.md": "---\nstatus: archived\n---\n# Spreading activation\n\n[[index]]\n",
        },
    )
    run = mutate(root)
    assert not run["committed"], "linking the archived note would be a new stale-status finding"
    assert [s["action"] for s in run["skipped"]] == ["link-mention"] and "dead" in run["skipped"][0]["reason"]


def test_foam_definitions_move_with_their_wikilinks(tmp_path: Path) -> None:
    """Foam writes ``[name]: path "Title"`` for each ``[[name]]``: a fix must not leave it behind, broken."""
    root = make_repo(
        tmp_path / "repo",
        {
            "index.md": (
                "# Index\n\nFirst [[sync-notes]], again [[sync-notes]]. See the frequently-asked-questions.\n\n"
                "[sync-notes]: guides/sync-notes.md 'Sync Notes'\n"
                "[frequently-asked-questions]: frequently-asked-questions.md 'FAQ'\n"
            ),
            "guides/sync-notes.md": "# Sync Notes\n\nKeep notes in git, pull and push often.\n",
            "frequently-asked-questions.md": "# Frequently asked questions\n\n[[index]]\n",
        },
    )
    git(root, "mv", "guides/sync-notes.md", "guides/syncing.md")
    git(root, "commit", "-q", "-m", "rename")
    run = mutate(root)
    assert sorted(c["action"] for c in run["committed"]) == ["follow-rename", "follow-rename", "link-mention"], run["skipped"]
    assert branch_file(root, "index.md") == (
        b"# Index\n\nFirst [[syncing]], again [[syncing]]. See the [[frequently-asked-questions]].\n\n"
        b"[syncing]: guides/syncing.md 'Sync Notes'\n"
        b"[frequently-asked-questions]: frequently-asked-questions.md 'FAQ'\n"
    )
    git(root, "checkout", "-q", BRANCH)
    check = run_kbmine("check", str(root), "--select", "broken-link,missing-link", "--format", "json", env=git_env())
    assert json.loads(check.stdout)["findings"] == []


def test_fixes_made_out_of_order_in_one_note_all_land(tmp_path: Path) -> None:
    """Each fix's edits (on the original bytes) are shifted past those already made, wherever they sit.

    Here every fix edits the body and a definition at the end, so the edits
    of one note are made out of position order.
    """
    root = make_repo(
        tmp_path / "repo",
        {
            "index.md": "# Index\n\n[[a]], [[b]] and [[c]]\n\n[a]: a.md\n[b]: b.md\n[c]: c.md\n",
            "a.md": "# A\n\nThe first note, long enough to be recognised when renamed.\n",
            "b.md": "# B\n\nThe second note, also long enough to be recognised when renamed.\n",
            "c.md": "# C\n\nThe third note, again long enough to be recognised when renamed.\n",
        },
    )
    for name in "abc":
        git(root, "mv", f"{name}.md", f"{name}-renamed.md")
    git(root, "commit", "-q", "-m", "rename")
    run = mutate(root)
    assert [c["action"] for c in run["committed"]] == ["follow-rename"] * 3, run["skipped"]
    assert branch_file(root, "index.md") == (
        b"# Index\n\n[[a-renamed]], [[b-renamed]] and [[c-renamed]]\n\n"
        b"[a-renamed]: a-renamed.md\n[b-renamed]: b-renamed.md\n[c-renamed]: c-renamed.md\n"
    )


def test_a_link_that_now_points_down_follows_the_notes_dot_slash_habit(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {
            "adr/021.md": "# 021\n\nSee [014](./014.md), [design](../work/design.md) and [plain](../work/plain.md).\n",
            "adr/014.md": "# 014\n\n[[021]]\n",
            "work/design.md": "# Design space\n\nThe options we weighed for shipping the library.\n",
            "work/plain.md": "# Plain\n\nAnother note that moves next to the decision.\n",
        },
    )
    git(root, "mv", "work/design.md", "adr/021-design.md")
    git(root, "mv", "work/plain.md", "plain.md")
    git(root, "commit", "-q", "-m", "move the design space next to its decision")
    mutate(root)
    assert branch_file(root, "adr/021.md") == (
        b"# 021\n\nSee [014](./014.md), [design](./021-design.md) and [plain](../plain.md).\n"
    )


def test_links_read_from_the_vault_root_or_by_name_are_repaired_the_same_way(tmp_path: Path) -> None:
    """Obsidian reads ``notes/a.md`` from the vault root and ``c.md`` by unique name when the note has neither."""
    root = make_repo(
        tmp_path / "repo",
        {
            "work/deep/report.md": "# Report\n\nSee [a](notes/a.md) and [c](c.md).\n",
            "notes/a.md": "# A\n\nThe first note, long enough to be recognised when renamed.\n",
            "other/c.md": "# C\n\nThe other note, also long enough to be recognised when renamed.\n",
        },
    )
    git(root, "mv", "notes/a.md", "notes/alpha.md")
    git(root, "mv", "other/c.md", "other/gamma.md")
    git(root, "commit", "-q", "-m", "rename")
    run = mutate(root)
    assert [c["action"] for c in run["committed"]] == ["follow-rename"] * 2, run["skipped"]
    assert branch_file(root, "work/deep/report.md") == b"# Report\n\nSee [a](notes/alpha.md) and [c](gamma.md).\n"


def test_live_note_is_pointed_at_the_successor(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {
            "design.md": "---\nstatus: current\n---\n# Design\n\nBuilt on [the old plan](old.md).\n",
            "old.md": "---\nstatus: superseded\nsuperseded_by: new.md\n---\n# Old\n",
            "new.md": "---\nstatus: current\n---\n# New\n\n[[design]] replaces [[old]]\n",
        },
    )
    run = mutate(root)
    assert [c["action"] for c in run["committed"]] == ["successor"]
    assert b"Built on [the old plan](new.md)." in branch_file(root, "design.md")


def test_a_successor_that_is_dead_too_is_followed_to_the_live_one_or_refused(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {
            "design.md": "---\nstatus: current\n---\n# Design\n\nBuilt on [the old plan](old.md) and [the draft](draft.md).\n",
            "log.md": "---\nstatus: current\n---\n# Log\n\n[[mid]] [[design]]\n",
            "old.md": "---\nstatus: superseded\nsuperseded_by: mid.md\n---\n# Old\n",
            "mid.md": "---\nstatus: superseded\nsuperseded_by: new.md\n---\n# Mid\n",
            "new.md": "---\nstatus: current\n---\n# New\n\n[[design]] [[log]] [[old]]\n",
            "draft.md": "---\nstatus: archived\nsuperseded_by: gone.md\n---\n# Draft\n",
            "gone.md": "---\nstatus: archived\n---\n# Gone\n\n[[new]]\n",
        },
    )
    run = mutate(root)
    assert sorted(c["subject"] for c in run["committed"]) == [
        "relink: point design.md at new.md, the successor of old.md",
        "relink: point log.md at new.md, the successor of mid.md",
    ]
    assert b"Built on [the old plan](new.md) and [the draft](draft.md)." in branch_file(root, "design.md")
    reasons = [s["reason"] for s in run["skipped"]]
    assert "a live note would link to gone.md, whose status says it is dead (stale-status)" in reasons
    # Whatever a later round proposes, nothing that leans on a dead note is committed.
    assert all("whose status says it is dead" in reason for reason in reasons)


def test_broken_anchor_after_a_heading_was_reworded(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {
            "a.md": "# A\n\n[steps](guide.md#instalation-steps) and [[guide#Instalation steps]]\n",
            "guide.md": "# Guide\n\n## Installation steps\n\n[[a]]\n",
        },
    )
    run = mutate(root)
    assert sorted(c["action"] for c in run["committed"]) == ["anchor", "anchor"]
    assert branch_file(root, "a.md") == b"# A\n\n[steps](guide.md#installation-steps) and [[guide#Installation steps]]\n"


def test_no_guess_between_two_candidates(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {
            "a.md": "# A\n\n[x](notes/setup-guide.md)\n",
            "notes/setup-guides.md": "# One\n",
            "notes/setup-guidez.md": "# Two\n",
        },
    )
    assert mutate(root)["proposed"] == 0


def test_kb_in_a_subfolder_with_unicode_and_spaces(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {"code/main.py": "print()\n", "docs/kb/Übersicht.md": "# Übersicht\n\n[Plan](Alter%20Plan.md)\n", "docs/kb/Alter Plan.md": "# Plan\n"},
    )
    git(root, "mv", "docs/kb/Alter Plan.md", "docs/kb/Neuer Plan.md")
    git(root, "commit", "-q", "-m", "rename")
    run = mutate(root / "docs" / "kb")
    assert [c["action"] for c in run["committed"]] == ["follow-rename"]
    assert branch_file(root, "docs/kb/Übersicht.md") == "# Übersicht\n\n[Plan](Neuer%20Plan.md)\n".encode()


def test_review_list_show_accept_and_reject(renamed_repo: Path) -> None:
    mutate(renamed_repo)
    listed = json.loads(run_kbmine("review", "list", "-C", str(renamed_repo), "--format", "json", env=git_env()).stdout)
    assert len(listed) == 3
    first, second, _third = (c["id"] for c in listed)

    shown = run_kbmine("review", "show", first[:10], "-C", str(renamed_repo), env=git_env())
    assert shown.returncode == 0 and "Kbmine-Rule: broken-link" in shown.stdout

    rejected = run_kbmine("review", "reject", second[:10], "-C", str(renamed_repo), env=git_env())
    assert rejected.returncode == 0, rejected.stderr
    remaining = json.loads(run_kbmine("review", "list", "-C", str(renamed_repo), "--format", "json", env=git_env()).stdout)
    assert len(remaining) == 2
    assert mutate(renamed_repo)["proposed"] == 0, "a rejected fix was proposed again"

    accepted = run_kbmine("review", "accept", "--all", "-C", str(renamed_repo), env=git_env())
    assert accepted.returncode == 0, accepted.stderr
    readme = (renamed_repo / "README.md").read_bytes()
    assert b"[setup](notes/installation.md#install)" in readme and b"[[setup#Install|the setup]]" in readme
    assert json.loads(run_kbmine("review", "list", "-C", str(renamed_repo), "--format", "json", env=git_env()).stdout) == []


def test_accept_refuses_a_dirty_tree_and_undoes_a_conflict(renamed_repo: Path) -> None:
    mutate(renamed_repo)
    (renamed_repo / "README.md").write_text("# Home\n\nrewritten by hand\n", encoding="utf-8")
    dirty = run_kbmine("review", "accept", "--all", "-C", str(renamed_repo), env=git_env())
    assert dirty.returncode == 2 and "uncommitted changes" in dirty.stderr
    git(renamed_repo, "commit", "-qam", "edit by hand")
    before = user_state(renamed_repo, raw_index=False)
    conflict = run_kbmine("review", "accept", "--all", "-C", str(renamed_repo), env=git_env())
    assert conflict.returncode == 2 and "undone" in conflict.stderr
    assert len(conflict.stderr.strip().splitlines()) == 1
    assert user_state(renamed_repo, raw_index=False) == before
    assert git(renamed_repo, "status", "--porcelain") == ""
    assert not (renamed_repo / ".git" / "CHERRY_PICK_HEAD").exists()


def test_not_a_repository_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "a.md").write_text("# A\n", encoding="utf-8")
    result = run_kbmine("mutate", str(tmp_path / "kb"), env=git_env())
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "not inside a git repository" in result.stderr


def test_verification_refuses_an_edit_that_breaks_the_note(tmp_path: Path) -> None:
    from kbmine.kb import load
    from kbmine.mutate.model import Expectation, Mutation
    from kbmine.mutate.verify import NoteParser, verify_relink

    root = tmp_path / "kb"
    write(root, {"a.md": "# A\n\n[b](b.md) and c\n", "b.md": "# B\n", "c.md": "# C\n"})
    kb = load(root, use_cache=False)
    before = (root / "a.md").read_bytes()
    good = Mutation("relink", "link-mention", "missing-link", "f", (), Expectation("a.md", "c.md", None, True), "s", "b")
    after_good = before.replace(b"and c", b"and [c](c.md)")
    after_bad = before.replace(b"[b](b.md) and c", b"[b](nope.md) and [c](c.md)")
    parse = NoteParser(kb)
    assert verify_relink(kb, good, before, after_good, parse) is None
    assert verify_relink(kb, good, before, after_bad, parse) is not None
    assert verify_relink(kb, good, before, before, parse) is not None
