"""kbmine mutate and review under interruption and odd git states: nothing half-made, nothing lost.

Ctrl-C at random points of a mutate run leaves the repository valid (git
fsck clean), the user's branch, index and working tree unchanged, no
temporary worktree behind, and the review branch either absent or at a
complete commit. A shallow clone still gets its fixes. The other odd git
states (an operation stopped mid-way, locks, detached HEAD, worktrees...)
are in test_git_edges.py.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import git_env, run_kbmine
from tests.mutate.test_mutate import git, make_repo, user_state


def _many_fixes(tmp_path: Path) -> Path:
    files = {f"notes/topic-{index:02d}.md": f"# Topic {index:02d}\n\n[[index]]\n" for index in range(30)}
    files["index.md"] = "# Index\n\n" + "".join(f"See topic {index:02d} here.\n\n" for index in range(30)) + "[[topic-00]]\n"
    return make_repo(tmp_path / "repo", files)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ctrl_c_during_mutate_leaves_everything_valid(tmp_path: Path, seed: int) -> None:
    root = _many_fixes(tmp_path)
    before = user_state(root)
    delay = random.Random(seed).uniform(0.3, 2.5)
    process = subprocess.Popen(
        [sys.executable, "-m", "kbmine", "mutate", str(root)],
        env=git_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert b"Traceback" not in stderr
    # 130 once kbmine handles the interrupt; killed by the signal if it lands during start-up.
    assert process.returncode in (0, 130, -signal.SIGINT), stderr
    assert user_state(root) == before
    fsck = subprocess.run(["git", "fsck", "--no-progress"], cwd=root, env=git_env(), capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert git(root, "worktree", "list").count("\n") == 0
    assert not any((root / ".git" / "kbmine" / "worktrees").glob("*/tree"))
    tip = subprocess.run(["git", "rev-parse", "--verify", "-q", "kbmine/review"], cwd=root, env=git_env(), capture_output=True, text=True)
    if tip.returncode == 0:
        # Every commit on the branch is a whole fix, with its trailers.
        for message in git(root, "log", "--format=%B%x00", "main..kbmine/review").split("\0"):
            assert not message.strip() or "Kbmine-Fingerprint:" in message
    # The next run completes what was left.
    finished = run_kbmine("mutate", str(root), env=git_env())
    assert finished.returncode == 0, finished.stderr
    assert run_kbmine("mutate", str(root), "--format", "json", env=git_env()).stdout.count('"committed": []') == 1


def test_shallow_clone_still_gets_fixes(tmp_path: Path) -> None:
    origin = _many_fixes(tmp_path)
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], env=git_env(), check=True, capture_output=True
    )
    result = run_kbmine("mutate", str(clone), "--limit", "2", "--format", "json", env=git_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"action": "link-mention"') == 2


def test_mutate_outside_a_work_tree_and_in_a_bare_repo(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], env=git_env(), check=True)
    result = run_kbmine("mutate", str(bare), env=git_env())
    assert result.returncode == 2 and result.stderr.startswith("kbmine: error:")
    assert len(result.stderr.strip().splitlines()) == 1
