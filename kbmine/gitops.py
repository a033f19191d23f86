"""The only module that talks to git.

Hot paths that run on every ``kbmine check`` (which files git ignores) call the
git binary directly: importing gitpython alone costs more than the whole
warm check is allowed to take. Repository work (history, commits) goes
through gitpython.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["unignored_files", "clean_git_env", "head_commit", "file_dates", "dirty_files", "changed_since"]


def clean_git_env() -> dict[str, str]:
    """The environment minus ``GIT_*`` variables that would redirect git to another repo."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    return env


def unignored_files(root: Path) -> set[str] | None:
    """Paths (relative to ``root``) git tracks or would track; ``None`` outside a work tree."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            env=clean_git_env(),
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    listed = completed.stdout.decode("utf-8", "surrogateescape").split("\0")
    return {path for path in listed if path}


def head_commit(root: Path) -> str | None:
    """The commit id of HEAD for the repository containing ``root`` (``None`` if none)."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True,
            env=clean_git_env(),
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = completed.stdout.decode().strip()
    return out if completed.returncode == 0 and out else None


def file_dates(root: Path) -> dict[str, tuple[int, int]] | None:
    """``path → (created, last modified)`` commit times (epoch seconds) for files under ``root``.

    One ``git log`` pass with rename detection, read newest first: a path's
    last modification is the first commit that touches it, its creation the
    last one, and a rename hands the older history to the file's current path.
    ``None`` when ``root`` is not in a git work tree or git fails.
    """
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "log", "-z", "--format=%x01%ct", "--name-status", "-M", "--no-merges", "--relative", "--", "."],
            capture_output=True,
            env=clean_git_env(),
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    tokens = completed.stdout.decode("utf-8", "surrogateescape").split("\0")
    dates: dict[str, tuple[int, int]] = {}
    current: dict[str, str] = {}  # historical path -> path it has today
    when = 0
    index = 0
    while index < len(tokens):
        token = tokens[index].lstrip("\n")
        index += 1
        if token.startswith("\x01"):
            when = int(token[1:] or 0)
            continue
        if not token:
            continue
        status = token[0]
        if status in "RC" and index + 1 < len(tokens):
            old, new = tokens[index], tokens[index + 1]
            index += 2
            path = current.get(new, new)
            dates[path] = (when, dates.get(path, (when, when))[1])
            if status == "R":
                current[old] = path
            continue
        if index >= len(tokens):
            break
        path = tokens[index]
        index += 1
        path = current.get(path, path)
        if path in dates:
            dates[path] = (when, dates[path][1])
        else:
            dates[path] = (when, when)
    return dates


def dirty_files(root: Path) -> set[str] | None:
    """Paths under ``root`` (relative to it) that differ from HEAD or are untracked."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "-z", "--untracked-files=all", "--", "."],
            capture_output=True,
            env=clean_git_env(),
            timeout=60,
            check=False,
        )
        prefix = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-prefix"],
            capture_output=True,
            env=clean_git_env(),
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0 or prefix.returncode != 0:
        return None
    base = prefix.stdout.decode("utf-8", "surrogateescape").strip()
    entries = completed.stdout.decode("utf-8", "surrogateescape").split("\0")
    dirty: set[str] = set()
    skip = False
    for entry in entries:
        if skip:
            skip = False
            continue
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        if "R" in status or "C" in status:
            skip = True  # the next entry is the rename's source
        if path.startswith(base):
            dirty.add(path[len(base) :])
    return dirty


def changed_since(root: Path, ref: str) -> tuple[set[str], set[str]] | None:
    """Files under ``root`` changed since ``ref`` (committed, staged, unstaged or untracked),
    and the old paths of files deleted or renamed since; ``None`` if ``ref`` is unknown."""
    env = clean_git_env()
    try:
        verify = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"],
            capture_output=True, env=env, timeout=30, check=False,
        )
        if verify.returncode != 0:
            return None
        diff = subprocess.run(
            ["git", "-C", str(root), "diff", "-z", "--name-status", "-M", "--relative", ref, "--", "."],
            capture_output=True, env=env, timeout=120, check=False,
        )
        untracked = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--others", "--exclude-standard"],
            capture_output=True, env=env, timeout=60, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if diff.returncode != 0:
        return None
    changed: set[str] = set()
    gone: set[str] = set()
    tokens = diff.stdout.decode("utf-8", "surrogateescape").split("\0")
    index = 0
    while index < len(tokens):
        status = tokens[index]
        index += 1
        if not status:
            continue
        if status[0] in "RC" and index + 1 < len(tokens):
            old, new = tokens[index], tokens[index + 1]
            index += 2
            changed.add(new)
            if status[0] == "R":
                gone.add(old)
        elif index < len(tokens):
            path = tokens[index]
            index += 1
            (gone if status[0] == "D" else changed).add(path)
    changed.update(p for p in untracked.stdout.decode("utf-8", "surrogateescape").split("\0") if p)
    return changed, gone
