"""Shared fixtures: temporary KBs, the real corpora (skipped when ../shared is absent), CLI runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KBMINE_SHARED", REPO.parent / "shared"))
CORPORA = SHARED / "corpora"

sys.path.insert(0, str(REPO / "scripts"))
import scriptkit  # noqa: E402


def git_env() -> dict[str, str]:
    """An environment for git in tests: no inherited GIT_* redirection, a fixed author."""
    return scriptkit.git_env("Test", "test@example.invalid")


@pytest.fixture
def make_kb(tmp_path: Path) -> Callable[[Mapping[str, str | bytes]], Path]:
    """Write ``{relative path: text or bytes}`` into a fresh folder and return it."""

    def make(files: Mapping[str, str | bytes]) -> Path:
        root = tmp_path / "kb"
        root.mkdir(exist_ok=True)
        for relative, content in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_bytes(content.encode("utf-8"))
        return root

    return make


def run_kbmine(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (as a user would) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "kbmine", *args],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def corpora() -> Path:
    """``../shared/corpora``; tests using it skip cleanly on a fresh clone without it."""
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not present")
    return CORPORA


@pytest.fixture(scope="session")
def commonplace(corpora: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working clone of the commonplace KB bundle (full history), made once per session."""
    bundle = corpora / "commonplace-kb.bundle"
    if not bundle.is_file():
        pytest.skip("commonplace-kb.bundle is not present")
    target = tmp_path_factory.mktemp("commonplace") / "repo"
    subprocess.run(["git", "clone", "-q", str(bundle), str(target)], check=True, env=git_env())
    return target
