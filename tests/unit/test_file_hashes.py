"""A note whose file is as an earlier run read it keeps its stored content hash and is read
only when a rule asks (see ``kbmine.kb._settled``): never at the price of a wrong answer."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

import kbmine.kb
from kbmine.checks import run_checks
from kbmine.config import load_config
from kbmine.errors import InputError
from kbmine.kb import NoteBytes, load

MakeKB = Callable[[Mapping[str, str | bytes]], Path]

FILES: dict[str, str | bytes] = {
    "README.md": "# Home\n\n[A](a.md) [B](b.md)\n",
    "a.md": "# A\n\nAbout B here. [gone](gone.md)\n",
    "b.md": "# B\n\n<!-- kbmine: ignore[broken-link] -->\n[x](nowhere.md)\n",
    ("caf\udce9.md".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")): "# Café\n\nA name that is not UTF-8.\n",
}


def _age(root: Path, seconds: float = 3600) -> None:
    """Date every note back: written well before the next run reads it."""
    then = time.time() - seconds
    for path in root.rglob("*.md"):
        os.utime(path, (then, then))


def _findings(root: Path, *, use_cache: bool = True) -> list[tuple[str, str, int, str]]:
    kb = load(root, load_config(root), use_cache=use_cache, jobs=1)
    return [(f.rule, f.path, f.span.line, f.message) for f in run_checks(kb)]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The note files read, by name."""
    seen: list[str] = []
    real = kbmine.kb._read

    def counted(absolute: str, limit: int) -> bytes:
        seen.append(os.path.basename(absolute))
        return real(absolute, limit)

    monkeypatch.setattr(kbmine.kb, "_read", counted)
    return seen


def test_settled_notes_are_not_read_again(make_kb: MakeKB, reads: list[str]) -> None:
    root = make_kb(FILES)
    _age(root)
    first = _findings(root)
    assert len(reads) == 4
    reads.clear()
    kb = load(root, load_config(root), jobs=1)
    assert reads == [] and isinstance(kb.contents, NoteBytes)
    assert kb.stats.notes == len(kb.hashes) == 4  # counted, though none was read
    assert run_checks(kb) and reads == []  # a warm run: the stored findings, no note read
    (root / "a.md").write_text("# A\n\nAbout B here. [gone](gone.md) [also gone](gone-too.md)\n", encoding="utf-8")
    after = _findings(root)
    assert "a.md" in reads and "README.md" not in reads
    assert after == _findings(root, use_cache=False) != first


def test_a_note_read_late_is_the_note_hashed(make_kb: MakeKB) -> None:
    root = make_kb(FILES)
    _age(root)
    _findings(root)
    kb = load(root, load_config(root), jobs=1)
    assert kb.read_bytes("README.md") == (root / "README.md").read_bytes()
    (root / "a.md").write_text("# A\n\nChanged after the load.\n", encoding="utf-8")
    with pytest.raises(InputError, match="a.md: changed while kbmine was running"):
        kb.read_bytes("a.md")


def test_a_rewrite_that_puts_size_and_times_back_is_still_seen(make_kb: MakeKB) -> None:
    """The change time moves with every write, whatever the modification time says."""
    root = make_kb(FILES)
    _age(root)
    _findings(root)
    note = root / "a.md"
    info = note.stat()
    time.sleep(0.01)
    note.write_bytes(note.read_bytes().replace(b"gone.md", b"gome.md"))  # same size
    os.utime(note, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert note.stat().st_size == info.st_size and note.stat().st_mtime_ns == info.st_mtime_ns
    found = _findings(root)
    assert found == _findings(root, use_cache=False)
    assert any("gome.md" in message for *_, message in found)


def test_a_note_written_just_before_it_was_read_is_read_again(make_kb: MakeKB, reads: list[str]) -> None:
    """Timestamps are coarse: a second write in the same tick would leave no trace in them."""
    root = make_kb(FILES)
    _age(root)
    _findings(root)
    os.utime(root / "a.md")  # written now: the run below reads it within the settling time
    _findings(root)
    reads.clear()
    _findings(root)
    assert reads == ["a.md"]  # read again, though nothing about it changed
