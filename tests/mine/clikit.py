"""Run the kbmine CLI in this process: the same entry point, exit codes and output as
``python -m kbmine``, without an interpreter start-up per call (specs tests make dozens)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``kbmine ARGS`` through :func:`kbmine.cli.main`, its exit code and captured output."""
    from kbmine.cli import main

    raw, err = io.BytesIO(), io.StringIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    argv, sys.argv = sys.argv, ["kbmine", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
    finally:
        sys.argv = argv
    out.flush()
    return subprocess.CompletedProcess(["kbmine", *args], code, raw.getvalue().decode("utf-8"), err.getvalue())
