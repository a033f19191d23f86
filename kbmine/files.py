"""Find the files of a KB without ever leaving its root.

Symlinked folders are never followed (they either point inside the root,
which is walked anyway, or outside it, which is not ours to read), symlinked
files are read only when they resolve inside the root, and hidden folders
(``.git``, ``.obsidian``...) are skipped as Obsidian skips them. With
``respect_gitignore`` the files git ignores are left out too.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kbmine import gitops
from kbmine.config import DEFAULT_EXCLUDE, Config

__all__ = ["FileStatus", "Scan", "ScanProblem", "file_status", "scan_kb", "glob_matcher"]


#: What says a file may have changed: device, inode, mode, size, modification and change times (ns).
FileStatus = tuple[int, int, int, int, int, int]


def file_status(info: os.stat_result) -> FileStatus:
    """The parts of ``info`` that change when a file's bytes may have (see :func:`kbmine.kb.load`)."""
    return (info.st_dev, info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """A file that looks like a note but cannot be read as one."""

    path: str
    message: str


@dataclass(slots=True)
class Scan:
    """The KB's notes (posix paths relative to the root), other files and folders."""

    notes: list[str] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    problems: list[ScanProblem] = field(default_factory=list)
    #: What git says of the files (``None`` outside git, or when the config ignores .gitignore).
    git: gitops.WorkTreeFiles | None = None
    #: Symlinks named like notes, to a file inside the root: link path → the path it points at.
    symlinked: dict[str, str] = field(default_factory=dict)
    #: Each note's file status as the scan saw it (see :func:`file_status`).
    stats: dict[str, FileStatus] = field(default_factory=dict)


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a gitignore-like glob (``**``, ``*``, ``?``) to a regex over posix paths."""
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.strip("/")
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}(?:/.*)?$")


def glob_matcher(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex matching any of ``patterns`` (``None`` when there are none)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_glob_regex(p).pattern})" for p in patterns))


def scan_kb(root: Path, config: Config) -> Scan:
    """Walk ``root`` and classify what is there; never raises for what it finds inside."""
    scan = Scan()
    exclude = glob_matcher(DEFAULT_EXCLUDE + config.exclude)
    include = glob_matcher(config.include)
    real_root = os.path.realpath(root)
    # git lists the files it tracks or would track while the folders are walked.
    listing = gitops.start_work_tree_files(root) if config.respect_gitignore else None
    extensions = config.extensions
    stack = [("", str(root))]
    while stack:
        relative, absolute = stack.pop()
        try:
            entries = list(os.scandir(absolute))
        except OSError as exc:
            scan.problems.append(ScanProblem(relative or ".", f"cannot list folder: {exc.strerror or exc}"))
            continue
        for entry in entries:
            name = entry.name
            path = f"{relative}/{name}" if relative else name
            if exclude is not None and exclude.match(path):
                continue
            is_link = False
            try:
                is_link = entry.is_symlink()
                info = entry.stat(follow_symlinks=True) if not is_link else os.stat(entry.path)
                mode = info.st_mode
            except OSError as exc:
                if is_link:
                    if name.lower().endswith(extensions):
                        what = "symlink loop" if exc.errno == errno.ELOOP else "dangling symlink (its target does not exist)"
                        scan.problems.append(ScanProblem(path, what))
                    continue
                # ENAMETOOLONG (past PATH_MAX), EACCES, or deleted since the listing: say which.
                reason = exc.strerror or type(exc).__name__
                scan.problems.append(ScanProblem(path, f"vanished or unreadable while scanning: {reason}"))
                continue
            if is_link:
                target = os.path.realpath(entry.path)
                inside = target == real_root or target.startswith(real_root + os.sep)
                if not inside:
                    if name.lower().endswith(extensions) or stat.S_ISDIR(mode):
                        scan.problems.append(
                            ScanProblem(path, "symlink points outside the KB root; not followed")
                        )
                    continue
            if stat.S_ISDIR(mode):
                if name.startswith("."):
                    continue
                if is_link:
                    scan.dirs.add(path)  # inside the root: walked through its real path
                    continue
                scan.dirs.add(path)
                if name.lower().endswith(extensions):
                    scan.problems.append(ScanProblem(path, "a folder named like a note; skipped as a note"))
                stack.append((path, entry.path))
                continue
            if not stat.S_ISREG(mode):
                if name.lower().endswith(extensions):
                    # Opening a FIFO would block the run; a device could stream forever.
                    scan.problems.append(ScanProblem(path, "not a regular file (a FIFO, socket or device); not read"))
                continue
            if name.lower().endswith(extensions) and not name.startswith("."):
                if is_link:
                    # Another name for the note it points at, which is checked under its own: read as a
                    # note of its own it was its own orphan and that note's duplicate. Links to it reach
                    # the note (kbmine.resolve).
                    scan.symlinked[path] = Path(os.path.relpath(os.path.realpath(entry.path), real_root)).as_posix()
                    scan.files.add(path)
                    continue
                if include is None or include.match(path):
                    scan.notes.append(path)
                    scan.stats[path] = file_status(info)
                    continue
            scan.files.add(path)
    scan.git = listing() if listing is not None else None
    if scan.git is not None:  # what git ignores is no part of the KB
        allowed = scan.git.unignored
        scan.notes = [path for path in scan.notes if path in allowed]
        scan.files = {path for path in scan.files if path in allowed}
        scan.symlinked = {path: target for path, target in scan.symlinked.items() if path in allowed}
        scan.stats = {path: status for path, status in scan.stats.items() if path in allowed}
    scan.notes.sort()
    return scan
