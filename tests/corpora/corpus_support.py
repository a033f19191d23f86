"""Helpers for the corpus tests (imported as ``corpus_support``; see ``conftest.py``)."""

from __future__ import annotations

import importlib.util
import json
import re
from bisect import bisect_left
from functools import cache
from pathlib import Path
from typing import Any

from kbmine.config import load_config
from kbmine.kb import KB, load
from kbmine.model import Span

TESTS = Path(__file__).resolve().parent.parent


@cache
def _root_conftest() -> Any:
    """``tests/conftest.py`` under a name of its own (every conftest is ``conftest`` to pytest)."""
    spec = importlib.util.spec_from_file_location("kbmine_tests_root_conftest", TESTS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_kbmine(*args: str, cwd: Path):  # type: ignore[no-untyped-def]
    """The shared ``run_kbmine`` helper: the real CLI in a subprocess."""
    return _root_conftest().run_kbmine(*args, cwd=cwd)


def cli_json(command: str, path: Path, *extra: str, cwd: Path, expect_exit: int | None = None) -> tuple[dict[str, Any], int]:
    """Run ``kbmine COMMAND PATH --format json --no-cache ...`` and return (document, exit code)."""
    done = run_kbmine(command, str(path), "--format", "json", "--no-cache", *extra, cwd=cwd)
    assert done.returncode in (0, 1), f"kbmine {command} failed ({done.returncode}): {done.stderr}"
    if expect_exit is not None:
        assert done.returncode == expect_exit, done.stderr
    return json.loads(done.stdout), done.returncode


def load_kb(path: Path, dialect: str | None = None) -> KB:
    """``kbmine.load`` without the cache (nothing is ever written into a corpus)."""
    config = load_config(path, {"dialect": dialect}) if dialect else None
    return load(path, config, use_cache=False)


class Positions:
    """Independent line/column arithmetic over one file's bytes (UTF-8, ``\\n`` newlines)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.newlines = [m.start() for m in re.finditer(b"\n", data)]

    def line_column(self, offset: int) -> tuple[int, int]:
        """1-based line (newlines before ``offset`` + 1) and column (code points since the line start + 1)."""
        before = bisect_left(self.newlines, offset)
        line_start = self.newlines[before - 1] + 1 if before else 0
        if line_start == 0 and self.data.startswith(b"\xef\xbb\xbf"):
            line_start = 3
        return before + 1, len(self.data[line_start:offset].decode("utf-8")) + 1

    def problems(self, span: Span, what: str) -> list[str]:
        """Why ``span`` does not address this file consistently (empty when it does)."""
        size = len(self.data)
        if not 0 <= span.start <= span.end <= size:
            return [f"{what}: bytes {span.start}:{span.end} outside the file (size {size})"]
        out = []
        try:
            start = self.line_column(span.start)
            end = self.line_column(span.end)
        except UnicodeDecodeError:
            return [f"{what}: bytes {span.start}:{span.end} cut a UTF-8 character"]
        if start != (span.line, span.column):
            out.append(f"{what}: start byte {span.start} is line/column {start}, span says {(span.line, span.column)}")
        if end != (span.end_line, span.end_column):
            out.append(f"{what}: end byte {span.end} is line/column {end}, span says {(span.end_line, span.end_column)}")
        return out


def show(items: list[Any], limit: int = 20) -> str:
    """The first few items, one per line, for an assertion message."""
    lines = [str(item) for item in items[:limit]]
    if len(items) > limit:
        lines.append(f"... and {len(items) - limit} more")
    return "\n".join(lines)
