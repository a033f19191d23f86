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

__all__ = ["unignored_files", "clean_git_env"]


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
