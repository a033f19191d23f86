"""Large cache blobs live in checked files beside the database; damage is a miss, never a wrong answer."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kbmine import cache as cache_module
from kbmine.cache import ParseCache, blob_folder, remove_cache

BIG = list(range(400_000))  # pickles to about 2 MB: past the file threshold


def _files(path: Path) -> list[Path]:
    folder = blob_folder(path)
    return sorted(p for p in folder.iterdir() if p.suffix == ".pickle") if folder.is_dir() else []


def test_a_large_blob_round_trips_through_a_file(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ParseCache(path, "k")
    cache.put_blob("report", "a", BIG)
    cache.put_blob("small", "a", {"x": 1})
    assert len(_files(path)) == 1
    cache.close()
    reopened = ParseCache(path, "k")
    assert reopened.get_blob("report", "a") == BIG
    assert reopened.get_blob("small", "a") == {"x": 1}


def test_a_damaged_or_missing_blob_file_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ParseCache(path, "k")
    cache.put_blob("report", "a", BIG)
    (file,) = _files(path)
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    assert cache.get_blob("report", "a") is None
    file.unlink()
    assert cache.get_blob("report", "a") is None
    cache.put_blob("report", "a", BIG)  # written again
    assert cache.get_blob("report", "a") == BIG


def test_a_symlinked_blob_file_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ParseCache(path, "k")
    cache.put_blob("report", "a", BIG)
    (file,) = _files(path)
    elsewhere = tmp_path / "elsewhere.pickle"
    elsewhere.write_bytes(file.read_bytes())
    file.unlink()
    file.symlink_to(elsewhere)
    assert cache.get_blob("report", "a") is None


def test_files_no_row_refers_to_are_removed_once_old(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ParseCache(path, "k")
    cache.put_blob("report", "a", BIG)
    (first,) = _files(path)
    cache.put_blob("report", "a", BIG[:-1])  # replaces the row: the first file is an orphan
    assert len(_files(path)) == 2  # too young to remove: a concurrent run may be about to record it
    old = time.time() - 2 * cache_module._ORPHAN_SECONDS
    os.utime(first, (old, old))
    cache.put_blob("other", "a", {"y": 2})
    assert first not in _files(path) and len(_files(path)) == 1
    assert cache.get_blob("report", "a") == BIG[:-1]


def test_remove_cache_takes_the_blob_files_too(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ParseCache(path, "k")
    cache.put_blob("report", "a", BIG)
    cache.close()
    assert remove_cache(path)
    assert not path.exists() and not blob_folder(path).exists()
    assert not remove_cache(path)


def test_notes_parsed_by_other_code_are_dropped_but_other_parse_keys_of_this_code_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.sqlite"
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "old")
    ParseCache(path, "obsidian").put_many([("h1", b"old note")])
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "new")
    light = ParseCache(path, "light")
    light.put_many([("h2", b"light note")])
    assert light.get_many({"h1", "h2"}) == {"h2": b"light note"}
    current = ParseCache(path, "obsidian")
    current.put_many([("h3", b"new note")])
    assert current.get_many({"h1", "h3"}) == {"h3": b"new note"}
    assert light.get_many({"h2"}) == {"h2": b"light note"}
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "old")
    assert ParseCache(path, "obsidian").get_many({"h1"}) == {}
