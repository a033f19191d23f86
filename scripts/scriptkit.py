"""What the scripts (and the tests that drive them) share: an isolated git environment."""

from __future__ import annotations

import os


def git_env(name: str = "kbmine", email: str = "kbmine@example.invalid") -> dict[str, str]:
    """The environment for git in scripts and tests.

    No inherited ``GIT_*`` redirection (a hook's ``GIT_DIR`` would point git at
    the wrong repository), no user or system config (signing, hooks, aliases),
    and a fixed identity so commits work on a fresh machine.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env
