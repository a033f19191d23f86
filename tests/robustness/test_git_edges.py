"""kbmine mutate and review in odd git states: a clear one-line refusal or the right result, never a changed repo.

Each test builds a throwaway repository in the odd state (an operation
stopped on a conflict, a stale ``index.lock``, another kbmine holding the
lock, a detached HEAD, no commits, a shallow clone, the KB in a subfolder
or in a linked worktree, names with spaces and accents, no git program),
runs the commands, and checks the user's side of the repository (HEAD, the
index, every ref but the review branch, the git directory's markers and
every working-tree byte) is exactly as it was unless a fix was accepted,
and that ``git fsck`` is clean.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.conftest import git_env, run_kbmine
from tests.mutate.test_mutate import BRANCH, git, make_repo
from tests.robustness.test_mutate_safety import _many_fixes

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

#: Two notes that mention a third without linking it: mutate has two fixes to make.
NOTES = {
    "zebra-crossing.md": "# Zebra Crossing\n\nStripes on the road.\n",
    "walk.md": "# Walk\n\nWe stopped at the zebra crossing.\n",
    "drive.md": "# Drive\n\nWe drove past the zebra crossing.\n",
    "tracked.md": "# Tracked\n\nfirst\n",
}


def quiet_git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A git command that may fail (stopping on a conflict is the point)."""
    return subprocess.run(["git", *args], cwd=root, env=git_env(), capture_output=True, text=True, check=False)


def state(root: Path) -> dict[str, object]:
    """The user's side of the repository: refs (review branch aside), git-dir files, working-tree bytes."""
    gitdir = Path(quiet_git(root, "rev-parse", "--path-format=absolute", "--git-dir").stdout.strip())
    refs = quiet_git(root, "for-each-ref", "--format=%(refname) %(objectname)").stdout.splitlines()
    meta: dict[str, str] = {}
    for path in sorted(gitdir.rglob("*")):
        relative = path.relative_to(gitdir).as_posix()
        if path.is_file() and not relative.startswith(("objects/", "logs/", "kbmine/", "refs/heads/kbmine/", "worktrees/")):
            meta[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    tree = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }
    return {"refs": [r for r in refs if not r.startswith(f"refs/heads/{BRANCH} ")], "git": meta, "tree": tree}


def fsck_clean(root: Path) -> None:
    fsck = quiet_git(root, "fsck", "--no-progress", "--no-dangling")
    assert fsck.returncode == 0 and not fsck.stdout.strip(), fsck.stdout + fsck.stderr


def one_error_line(result: subprocess.CompletedProcess[str], *mentions: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kbmine: error:"), result.stderr
    for mention in mentions:
        assert mention in lines[0], lines[0]


def pending(root: Path) -> int:
    listed = run_kbmine("review", "list", "-C", str(root), env=git_env())
    assert listed.returncode == 0, listed.stderr
    return int(listed.stdout.strip().splitlines()[-1].split()[0])


def diverged(tmp_path: Path, files: Mapping[str, str] = NOTES) -> Path:
    """Branches ``main`` and ``side`` that changed the same line of tracked.md."""
    root = make_repo(tmp_path / "repo", files)
    git(root, "checkout", "-q", "-b", "side")
    (root / "tracked.md").write_text("# Tracked\n\nside\n", encoding="utf-8")
    git(root, "commit", "-qam", "side")
    git(root, "checkout", "-q", "main")
    (root / "tracked.md").write_text("# Tracked\n\nmain\n", encoding="utf-8")
    git(root, "commit", "-qam", "main")
    return root


@pytest.mark.parametrize(
    ("operation", "marker"),
    [
        ("merge", "MERGE_HEAD"),
        ("rebase", "rebase-merge"),
        ("rebase-apply", "rebase-apply"),
        ("cherry-pick", "CHERRY_PICK_HEAD"),
        ("revert", "REVERT_HEAD"),
    ],
)
def test_an_operation_stopped_on_a_conflict_gets_fixes_but_no_accept(tmp_path: Path, operation: str, marker: str) -> None:
    root = diverged(tmp_path)
    if operation == "merge":
        quiet_git(root, "merge", "side")
    elif operation.startswith("rebase"):
        git(root, "checkout", "-q", "side")
        quiet_git(root, "rebase", *(["--apply"] if operation == "rebase-apply" else []), "main")
    elif operation == "cherry-pick":
        quiet_git(root, "cherry-pick", "side")
    else:
        (root / "tracked.md").write_text("# Tracked\n\nmain again\n", encoding="utf-8")
        git(root, "commit", "-qam", "main again")
        quiet_git(root, "revert", "--no-edit", "HEAD~1")
    assert (root / ".git" / marker).exists()
    before = state(root)
    made = run_kbmine("mutate", str(root), env=git_env())
    assert made.returncode == 0, made.stderr
    assert pending(root) == 2
    accepted = run_kbmine("review", "accept", "--all", "-C", str(root), env=git_env())
    one_error_line(accepted, "in progress")
    assert state(root) == before
    assert (root / ".git" / marker).exists()
    fsck_clean(root)


def test_a_stale_index_lock_is_named_and_left_alone(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", NOTES)
    (root / ".git" / "index.lock").write_bytes(b"")
    before = state(root)
    made = run_kbmine("mutate", str(root), env=git_env())
    assert made.returncode == 0, made.stderr  # the user's index is never touched: its lock does not matter
    accepted = run_kbmine("review", "accept", "--all", "-C", str(root), env=git_env())
    one_error_line(accepted, "index.lock")
    assert state(root) == before and (root / ".git" / "index.lock").exists()
    assert pending(root) == 2
    fsck_clean(root)


def test_a_second_run_while_one_holds_the_lock_refuses_in_one_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", NOTES)
    assert run_kbmine("mutate", str(root), "--limit", "1", env=git_env()).returncode == 0
    before = state(root)
    tip = git(root, "rev-parse", BRANCH)
    (root / ".git" / "kbmine").mkdir(exist_ok=True)
    with open(root / ".git" / "kbmine" / "lock", "w", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        for args in (("mutate", str(root)), ("mutate", str(root), "--dry-run"), ("review", "accept", "--all", "-C", str(root))):
            one_error_line(run_kbmine(*args, env=git_env()), "another kbmine run")
    assert state(root) == before and git(root, "rev-parse", BRANCH) == tip
    # Once the other run ends, the next one carries on.
    assert run_kbmine("mutate", str(root), env=git_env()).returncode == 0
    assert pending(root) == 2
    fsck_clean(root)


def test_detached_head_gets_fixes_from_head_but_accepting_refuses(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", NOTES)
    (root / "later.md").write_text("# Later\n", encoding="utf-8")
    git(root, "add", "later.md")
    git(root, "commit", "-qm", "later")
    git(root, "checkout", "-q", "--detach", "HEAD~1")
    before = state(root)
    assert run_kbmine("mutate", str(root), env=git_env()).returncode == 0
    assert git(root, "merge-base", "HEAD", BRANCH) == git(root, "rev-parse", "HEAD")
    one_error_line(run_kbmine("review", "accept", "--all", "-C", str(root), env=git_env()), "detached")
    assert state(root) == before
    fsck_clean(root)


def test_a_branch_kbmine_must_not_move_is_refused_before_any_work(tmp_path: Path) -> None:
    """``--branch main`` committed the fixes onto the checked-out branch (the work tree then
    showed them all reverted); ``--branch dev`` reset the user's own commits away; ``HEAD``,
    ``-x`` and ``@`` became refs that confuse git ever after."""
    root = make_repo(tmp_path / "repo", NOTES)
    git(root, "checkout", "-q", "-b", "dev")
    (root / "tracked.md").write_text("# Tracked\n\nmine\n", encoding="utf-8")
    git(root, "commit", "-qam", "the user's own work")
    git(root, "checkout", "-q", "main")
    before = state(root)
    one_error_line(run_kbmine("mutate", str(root), "--branch", "main", env=git_env()), "--branch main: checked out in")
    one_error_line(run_kbmine("mutate", str(root), "--branch", "dev", env=git_env()), "--branch dev: has 1 commit(s)")
    for name in ("HEAD", "-x", "@", "a..b"):
        one_error_line(run_kbmine("mutate", str(root), "--branch", name, env=git_env()), "not a valid branch name")
    assert state(root) == before
    # The review branch checked out (here, or in a worktree to look at it): never moved under it.
    assert run_kbmine("mutate", str(root), env=git_env()).returncode == 0
    tip = git(root, "rev-parse", BRANCH)
    git(root, "checkout", "-q", BRANCH)
    one_error_line(run_kbmine("mutate", str(root), env=git_env()), f"--branch {BRANCH}: checked out in")
    git(root, "checkout", "-q", "main")
    look = tmp_path / "look"
    git(root, "worktree", "add", "-q", str(look), BRANCH)
    one_error_line(run_kbmine("review", "reject", tip, "-C", str(root), env=git_env()), f"checked out in {look}")
    assert git(root, "rev-parse", BRANCH) == tip and quiet_git(look, "status", "--porcelain").stdout == ""
    assert pending(root) == 2
    fsck_clean(root)


def test_the_users_hooks_run_only_for_the_users_own_branch(tmp_path: Path) -> None:
    """A failing reference-transaction hook stopped every mutate ("ref updates aborted by hook")
    and post-checkout ran in each throwaway worktree; those are kbmine's own operations now.
    Accepting onto the user's branch still runs the user's hooks, and one that refuses is obeyed."""
    root = make_repo(tmp_path / "repo", NOTES)
    ran = tmp_path / "ran"
    ran.mkdir()
    for hook in ("pre-commit", "commit-msg", "post-commit", "post-checkout", "reference-transaction"):
        script = root / ".git" / "hooks" / hook
        script.write_text(f'#!/bin/sh\ntouch "{ran}/{hook}"\nexit 1\n', encoding="utf-8")
        script.chmod(0o755)
    before = state(root)
    assert run_kbmine("mutate", str(root), env=git_env()).returncode == 0
    assert pending(root) == 2 and sorted(p.name for p in ran.iterdir()) == []
    one_error_line(run_kbmine("review", "accept", "--all", "-C", str(root), env=git_env()), "aborted by hook")
    assert "reference-transaction" in [p.name for p in ran.iterdir()]
    # Undone for real: the refused cherry-pick was left "in progress" when its abort was refused too.
    after = state(root)
    assert (after["refs"], after["tree"]) == (before["refs"], before["tree"])
    assert not {"sequencer", "CHERRY_PICK_HEAD", "MERGE_MSG"} & {p.name for p in (root / ".git").iterdir()}
    assert quiet_git(root, "status", "--porcelain").stdout == ""
    fsck_clean(root)


def test_head_on_a_branch_without_commits_says_which(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", NOTES)
    git(root, "checkout", "-q", "--orphan", "fresh")
    git(root, "rm", "-rq", "--cached", ".")
    one_error_line(run_kbmine("mutate", str(root), env=git_env()), "HEAD is on branch 'fresh', which has no commits yet")


def test_kbmines_state_in_the_git_directory_is_never_followed_out_of_it(tmp_path: Path) -> None:
    """A planted ``.git/kbmine/lock`` symlink was opened for writing and emptied its target; a
    ``.git/kbmine`` symlink put the throwaway worktrees outside; a damaged ``rejected`` file was
    an internal error."""
    root = make_repo(tmp_path / "repo", NOTES)
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("SECRET\n", encoding="utf-8")
    state_dir = root / ".git" / "kbmine"
    state_dir.mkdir()
    (state_dir / "lock").symlink_to(victim)
    one_error_line(run_kbmine("mutate", str(root), env=git_env()), "lock: is a symlink")
    (state_dir / "lock").unlink()
    state_dir.rmdir()
    state_dir.symlink_to(outside)
    one_error_line(run_kbmine("mutate", str(root), env=git_env()), "kbmine: is a symlink")
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"] and victim.read_text() == "SECRET\n"
    state_dir.unlink()
    state_dir.mkdir()
    (state_dir / "rejected").write_bytes(b"\xff\xfe\x00damaged\n")
    assert run_kbmine("mutate", str(root), env=git_env()).returncode == 0
    assert pending(root) == 2
    fsck_clean(root)


def test_run_from_a_git_hook_the_callers_index_is_never_touched(tmp_path: Path) -> None:
    """A hook (or ``git rebase --exec``) runs with GIT_DIR and GIT_INDEX_FILE set; GitPython adds
    the process environment to every git it runs, so ``git add`` in the throwaway worktree
    staged the fixes into the user's real index (``git status``: MM on every fixed note)."""
    root = make_repo(tmp_path / "repo", NOTES)
    before = state(root)
    index = (root / ".git" / "index").read_bytes()
    elsewhere = tmp_path / "other-index"
    hook_env = {**git_env(), "GIT_DIR": str(root / ".git"), "GIT_INDEX_FILE": str(root / ".git" / "index")}
    assert run_kbmine("mutate", str(root), env=hook_env).returncode == 0
    assert run_kbmine("mutate", str(root), env={**git_env(), "GIT_INDEX_FILE": str(elsewhere)}).returncode == 0
    assert (root / ".git" / "index").read_bytes() == index and not elsewhere.exists()
    assert quiet_git(root, "status", "--porcelain").stdout == "" and state(root) == before
    assert pending(root) == 2
    fsck_clean(root)


def test_a_note_that_is_a_symlink_is_never_fixed_through_the_link(tmp_path: Path) -> None:
    """Fixes of a tracked symlink note were written through it into the note it names; the commit
    then had nothing to commit and the whole run stopped ("git commit failed: 1"), with no fix made.
    The symlink is now no note of its own (another name for the note it points at): nothing of it
    is found, so nothing is fixed through it."""
    root = make_repo(tmp_path / "repo", NOTES)
    (root / "alias.md").symlink_to("walk.md")
    git(root, "add", "alias.md")
    git(root, "commit", "-qm", "alias")
    made = run_kbmine("mutate", str(root), "--format", "json", env=git_env())
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    assert not any("alias.md" in s["reason"] for s in report["skipped"])
    assert pending(root) == 2
    accepted = run_kbmine("review", "accept", "--all", "-C", str(root), env=git_env())
    assert accepted.returncode == 0, accepted.stderr
    assert os.readlink(root / "alias.md") == "walk.md" and "[zebra crossing](zebra-crossing.md)" in (root / "walk.md").read_text()
    fsck_clean(root)


def test_a_repository_that_logs_in_utf16_gets_its_fixes_accepted(tmp_path: Path) -> None:
    """``i18n.logOutputEncoding=UTF-16`` put NUL bytes into every commit id kbmine read from
    ``git log``: review accept was an internal error ("embedded null byte")."""
    root = make_repo(tmp_path / "repo", NOTES)
    git(root, "config", "i18n.logOutputEncoding", "UTF-16")
    assert run_kbmine("mutate", str(root), env=git_env()).returncode == 0
    assert pending(root) == 2
    accepted = run_kbmine("review", "accept", "--all", "-C", str(root), env=git_env())
    assert accepted.returncode == 0, accepted.stderr
    assert "[zebra crossing](zebra-crossing.md)" in (root / "walk.md").read_text()
    fsck_clean(root)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a repository owned by another user needs root")
def test_a_repository_git_refuses_is_named_by_every_command(tmp_path: Path) -> None:
    """A repository owned by another user ("dubious ownership"): GitPython opened it, then mutate
    ended with a silent exit 1 (a broken pipe to git's cat-file, taken for a closed stdout) or
    an error about for-each-ref, and review list and accept said "0 pending", "nothing to accept"."""
    root = make_repo(tmp_path / "repo", NOTES)
    for path in [root, *root.rglob("*")]:
        os.lchown(path, 65534, 65534)
    env = git_env()  # no user or system config: no safe.directory exception from anywhere
    for args in (("mutate", str(root)), ("mutate", str(root), "--dry-run"), ("review", "list", "-C", str(root)),
                 ("review", "accept", "--all", "-C", str(root))):
        one_error_line(run_kbmine(*args, env=env), "dubious ownership")


def test_an_empty_repository_has_nothing_to_mutate(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for name, text in NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
    before = state(root)
    for args in (("mutate", str(root)), ("mutate", str(root), "--dry-run")):
        one_error_line(run_kbmine(*args, env=git_env()), "no commits yet")
    assert pending(root) == 0
    accepted = run_kbmine("review", "accept", "--all", "-C", str(root), env=git_env())
    assert accepted.returncode == 0 and "nothing to accept" in accepted.stdout
    assert state(root) == before
    assert quiet_git(root, "for-each-ref").stdout == ""


def test_a_shallow_clone_accepts_its_fixes(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", NOTES)
    (origin / "later.md").write_text("# Later\n\nThe zebra crossing again.\n", encoding="utf-8")
    git(origin, "add", "later.md")
    git(origin, "commit", "-qm", "later")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    assert (clone / ".git" / "shallow").exists()
    head = git(clone, "rev-parse", "HEAD")
    assert run_kbmine("mutate", str(clone), env=git_env()).returncode == 0
    accepted = run_kbmine("review", "accept", "--all", "-C", str(clone), env=git_env())
    assert accepted.returncode == 0, accepted.stderr
    assert git(clone, "rev-list", "--count", f"{head}..HEAD") == "3"
    assert quiet_git(clone, "status", "--porcelain").stdout == ""
    assert pending(clone) == 0
    fsck_clean(clone)


def test_a_kb_in_a_subfolder_with_spaces_and_accents_changes_only_its_own_notes(tmp_path: Path) -> None:
    folder = "my notes/été"
    files = {f"{folder}/{name}": text for name, text in NOTES.items()}
    files[f"{folder}/sub dir/Zèbra Note.md"] = "# Zèbra Note\n\nAn accented name.\n"
    files[f"{folder}/sub dir/about.md"] = "# About\n\nSee the zèbra note and the zebra crossing.\n"
    files["outside.md"] = "# Outside\n\nThe zebra crossing, outside the KB.\n"
    root = make_repo(tmp_path / "the repo ü", files)
    kb = root / folder
    before = state(root)
    made = run_kbmine("mutate", str(kb), "--format", "json", env=git_env())
    assert made.returncode == 0, made.stderr
    assert state(root) == before
    changed = git(root, "diff", "--name-only", "-z", f"HEAD..{BRANCH}").split("\0")
    assert changed and all(path.startswith(folder + "/") for path in changed if path), changed
    assert f"{folder}/sub dir/about.md" in changed
    accepted = run_kbmine("review", "accept", "--all", "-C", str(kb), env=git_env())
    assert accepted.returncode == 0, accepted.stderr
    assert (root / "outside.md").read_text(encoding="utf-8") == files["outside.md"]
    # Both mentions in the accented, spaced folder are links now, and they resolve.
    checked = run_kbmine("check", str(kb), "--format", "json", "--select", "broken-link,missing-link", env=git_env())
    findings = json.loads(checked.stdout)["findings"]
    assert not [f for f in findings if f["rule"] == "broken-link" or f["path"] == "sub dir/about.md"], findings
    assert (kb / "sub dir" / "about.md").read_text(encoding="utf-8").count("](") == 2
    assert quiet_git(root, "status", "--porcelain").stdout == ""
    fsck_clean(root)


def test_a_kb_in_a_linked_worktree_of_another_repository(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", NOTES)
    worktree = tmp_path / "wt"
    git(origin, "worktree", "add", "-q", "-b", "wt-branch", str(worktree))
    main_tip = git(origin, "rev-parse", "main")
    before_origin = state(origin)
    assert run_kbmine("mutate", str(worktree), env=git_env()).returncode == 0
    assert pending(worktree) == 2
    accepted = run_kbmine("review", "accept", "--all", "-C", str(worktree), env=git_env())
    assert accepted.returncode == 0, accepted.stderr
    assert git(worktree, "rev-list", "--count", "main..wt-branch") == "2"
    assert git(origin, "rev-parse", "main") == main_tip and state(origin)["tree"] == before_origin["tree"]
    assert len(git(origin, "worktree", "list", "--porcelain").split("\n\n")) == 2  # no throwaway worktree left
    assert quiet_git(worktree, "status", "--porcelain").stdout == ""
    fsck_clean(origin)


def test_without_a_git_program_mutate_and_review_say_so(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", NOTES)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {**git_env(), "PATH": str(bin_dir)}
    env.pop("GIT_PYTHON_GIT_EXECUTABLE", None)
    for args in (("mutate", str(root)), ("review", "list", "-C", str(root)), ("review", "accept", "--all", "-C", str(root))):
        one_error_line(run_kbmine(*args, env=env), "git is not installed")
    assert not (root / ".git" / "kbmine").exists()
    assert os.listdir(root / ".git" / "refs" / "heads") == ["main"]


@pytest.mark.parametrize("delay", [0.6, 1.5])
def test_sigterm_during_mutate_cleans_up_like_ctrl_c(tmp_path: Path, delay: float) -> None:
    """A CI timeout or ``kill`` ends mutate with SIGTERM: its throwaway worktree must not stay registered."""
    root = _many_fixes(tmp_path)
    before = state(root)
    process = subprocess.Popen(
        [sys.executable, "-m", "kbmine", "mutate", str(root)], env=git_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(delay)
    process.terminate()
    _, stderr = process.communicate(timeout=60)
    assert b"Traceback" not in stderr
    # 130 once kbmine handles it; ended by the signal if it lands while python is starting.
    assert process.returncode in (0, 130, -signal.SIGTERM), stderr
    assert state(root) == before
    assert not list((root / ".git").glob("worktrees/*")), list((root / ".git").glob("worktrees/*"))
    assert len(git(root, "worktree", "list", "--porcelain").split("\n\n")) == 1
    fsck_clean(root)
