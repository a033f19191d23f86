"""ParseCache.write_behind: large writes land from a forked child, and every later read waits for them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import kbmine.parallel
from kbmine.cache import ParseCache


def _rows(path: Path) -> set[str]:
    """The note hashes in the database, read with a connection of its own (no waiting)."""
    with sqlite3.connect(path) as db:
        return {digest for (digest,) in db.execute("SELECT hash FROM notes")}


def test_a_large_write_runs_in_a_child_and_a_fresh_cache_on_the_file_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    writers = tmp_path / "writers.txt"
    cache = ParseCache(tmp_path / "cache.sqlite", "k")

    def write() -> None:
        writers.write_text(str(os.getpid()), encoding="utf-8")
        cache.put_many([(f"h{index}", b"x" * index) for index in range(200)])

    cache.write_behind(write, size=1)
    other = ParseCache(tmp_path / "cache.sqlite", "k")  # as a second load in the same process opens it
    found = other.get_many({"h0", "h199", "missing"})
    assert found == {"h0": b"", "h199": b"x" * 199}
    assert writers.read_text(encoding="utf-8") != str(os.getpid())
    other.close()
    cache.close()


def test_a_small_write_is_done_before_write_behind_returns(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "cache.sqlite", "k")
    cache.write_behind(lambda: cache.put_many([("h", b"note")]), size=10)
    assert _rows(tmp_path / "cache.sqlite") == {"h"}
    cache.close()


def test_close_waits_for_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    cache = ParseCache(tmp_path / "cache.sqlite", "k")
    cache.write_behind(lambda: cache.put_many([(f"h{index}", b"n") for index in range(50)]), size=1)
    cache.close()
    assert len(_rows(tmp_path / "cache.sqlite")) == 50
