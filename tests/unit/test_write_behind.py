"""ParseCache.write_behind: large writes land from a forked child, and every later read waits for them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import kbmine.parallel
from kbmine.cache import _BEHIND, ParseCache


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

    cache.write_behind(write, size=1, writes=("notes",))
    other = ParseCache(tmp_path / "cache.sqlite", "k")  # as a second load in the same process opens it
    found = other.get_many({"h0", "h199", "missing"})
    assert found == {"h0": b"", "h199": b"x" * 199}
    assert writers.read_text(encoding="utf-8") != str(os.getpid())
    other.close()
    cache.close()


def test_a_small_write_is_done_before_write_behind_returns(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "cache.sqlite", "k")
    cache.write_behind(lambda: cache.put_many([("h", b"note")]), size=10, writes=("notes",))
    assert _rows(tmp_path / "cache.sqlite") == {"h"}
    cache.close()


def test_close_waits_for_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    cache = ParseCache(tmp_path / "cache.sqlite", "k")
    cache.write_behind(lambda: cache.put_many([(f"h{index}", b"n") for index in range(50)]), size=1, writes=("notes",))
    cache.close()
    assert len(_rows(tmp_path / "cache.sqlite")) == 50


def test_a_read_waits_only_for_writers_of_what_it_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    cache = ParseCache(tmp_path / "cache.sqlite", "k")
    cache.write_behind(lambda: cache.put_blob("findings", "key", ["a finding"]), size=1, writes=("blobs:findings",))
    assert cache.get_many({"h"}) == {}
    assert cache.get_blob("report", "key") is None  # another blob: no wait either
    assert [writes for _, writes, _ in _BEHIND[cache.path]] == [frozenset({"blobs:findings"})]
    assert cache.get_blob("findings", "key") == ["a finding"]
    assert cache.path not in _BEHIND
    cache.close()


def test_a_busy_database_is_a_miss_not_a_corrupt_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another run holding the database (past the wait) costs this run its hits, never the cache itself."""
    cache = ParseCache(tmp_path / "cache.sqlite", "k")
    cache.put_many([("h", b"note")])

    def busy(*args: object) -> None:
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
        raise error

    with monkeypatch.context() as patch:
        patch.setattr(ParseCache, "_by_hash", busy)
        assert cache.get_many({"h"}) == {}
    assert cache.get_many({"h"}) == {"h": b"note"}
    cache.close()
    with monkeypatch.context() as patch:
        patch.setattr(ParseCache, "_connect", busy)
        assert ParseCache(tmp_path / "cache.sqlite", "k").get_many({"h"}) == {}  # run uncached
    assert _rows(tmp_path / "cache.sqlite") == {"h"}


def test_a_failed_background_write_costs_only_its_hits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    cache = ParseCache(tmp_path / "cache.sqlite", "k")

    def fail() -> None:
        raise MemoryError("no room to pickle the findings")

    cache.write_behind(fail, size=1, writes=("blobs:findings",))
    assert cache.get_blob("findings", "key") is None
    cache.close()  # waits for nothing more, raises nothing


def test_a_process_that_never_closes_its_cache_still_lands_its_writes(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import kbmine.parallel\n"
        "kbmine.parallel.PARALLEL_MIN_BYTES = 0\n"
        "from kbmine.cache import ParseCache\n"
        "cache = ParseCache(Path(sys.argv[1]), 'k')\n"
        "cache.write_behind(lambda: cache.put_many([('h', b'note')]), size=1, writes=('notes',))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "cache.sqlite")], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert _rows(tmp_path / "cache.sqlite") == {"h"}
