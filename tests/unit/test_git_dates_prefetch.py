"""Git dates and changed files read in threads while the notes are parsed: the same
answers, and safe across a fork."""

from __future__ import annotations

import os
import pickle
import subprocess
import time
from pathlib import Path

import pytest

from kbmine import gitops
from kbmine.kb import load
from tests.conftest import git_env


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], env=git_env(), check=True)


def _repo(root: Path) -> Path:
    """A repository with two notes, committed one after the other."""
    root.mkdir()
    _git(root, "init", "-q")
    for name, text in [("a.md", "# A\n"), ("b.md", "# B\n[A](a.md)\n")]:
        (root / name).write_text(text, encoding="utf-8")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", f"add {name}")
    return root


def test_prefetched_dates_are_the_dates_read_directly(tmp_path: Path) -> None:
    root = _repo(tmp_path / "kb")
    direct = load(root, use_cache=False).git_dates
    kb = load(root, use_cache=False)
    kb.prefetch_git_dates()
    assert kb.git_dates == direct
    assert direct is not None and set(direct) == {"a.md", "b.md"}


def test_prefetched_changed_files_are_the_ones_git_status_gives(tmp_path: Path) -> None:
    root = _repo(tmp_path / "kb")
    (root / "a.md").write_text("# A\nedited\n", encoding="utf-8")
    (root / "c.md").write_text("# C\n", encoding="utf-8")
    kb = load(root, use_cache=False)
    kb.prefetch_git_dates()
    assert kb._dirty_files_job is not None  # started before anyone asked
    assert kb.dirty_files == gitops.dirty_files(root) == {"a.md", "c.md"}
    kb.settle_git_dates()
    assert "dirty_files" in kb.__dict__  # a child forked now has them


def test_prefetch_outside_git_gives_none(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "a.md").write_text("# A\n", encoding="utf-8")
    kb = load(root, use_cache=False)
    kb.prefetch_git_dates()
    assert kb.git_dates is None
    assert kb._dirty_files_job is None  # no git status to wait for


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_reads_the_dates_itself_instead_of_waiting_for_a_thread_it_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path / "kb")
    kb = load(root, use_cache=False)
    real = gitops.file_dates
    monkeypatch.setattr(gitops, "file_dates", lambda root: time.sleep(1) or real(root))
    kb.prefetch_git_dates()  # still reading (a slow git) when the fork comes
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the prefetching thread was not forked with it
        try:
            os.write(writing, pickle.dumps(kb.git_dates))
        finally:
            os._exit(0)
    os.close(writing)
    deadline = time.monotonic() + 30
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            pytest.fail("the forked child waited for the parent's thread")
        time.sleep(0.05)
    with os.fdopen(reading, "rb") as pipe:
        assert pickle.loads(pipe.read()) == kb.git_dates
