"""What the scan, the reads and the cache do with hostile files: never leave the KB, never block."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import kbmine.kb
from kbmine.cache import ParseCache, default_cache_path
from kbmine.checks import run_checks
from kbmine.config import Config
from kbmine.files import scan_kb


def make(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def messages(kb: kbmine.kb.KB, rule: str) -> dict[str, str]:
    return {f.path: f.message for f in run_checks(kb) if f.rule == rule}


def test_unreadable_notes_are_findings_and_never_read_again(tmp_path: Path) -> None:
    """A rule asking for the bytes of a note the load could not read once re-read it:
    a symlink to /dev/zero filled memory, a symlink loop or a vanished file was exit 2."""
    secret = make(tmp_path / "outside", {"secret.md": "# Secret\nSECRET-TEXT\n"}) / "secret.md"
    root = make(tmp_path / "kb", {"a.md": "# A\n[[zero]] [[loop-a]] [[leak]] kbmine: ignore\n"})
    os.symlink("/dev/zero", root / "zero.md")
    os.symlink("loop-b.md", root / "loop-a.md")
    os.symlink("loop-a.md", root / "loop-b.md")
    os.symlink(secret, root / "leak.md")
    kb = kbmine.kb.load(root, Config(), use_cache=False)
    found = messages(kb, "unreadable-note")
    assert set(found) == {"zero.md", "loop-a.md", "loop-b.md", "leak.md"}
    assert found["loop-a.md"] == "symlink loop"
    assert "outside the KB" in found["leak.md"]
    for path in found:
        assert kb.read_bytes(path) == b"" and kb.source(path) is None


def test_a_note_deleted_after_the_scan_is_a_finding(tmp_path: Path) -> None:
    root = make(tmp_path / "kb", {"a.md": "[[b]]\n", "b.md": "# B\n"})
    original = kbmine.kb._read

    def vanish(absolute: str, limit: int) -> bytes:
        if absolute.endswith("b.md"):
            os.unlink(absolute)
        return original(absolute, limit)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kbmine.kb, "_read", vanish)
        kb = kbmine.kb.load(root, Config(), use_cache=False)
    assert "b.md" in messages(kb, "unreadable-note")


def test_the_cache_never_follows_a_symlink_out_of_the_kb(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.sqlite").write_bytes(b"")

    root = make(tmp_path / "kb1", {"a.md": "# A\n"})
    os.symlink(outside, root / ".kbmine")
    assert not str(default_cache_path(root)).startswith(str(root))

    root = make(tmp_path / "kb2", {"a.md": "# A\n"})
    (root / ".kbmine").mkdir()
    os.symlink(outside / "victim.sqlite", root / ".kbmine" / "cache.sqlite")
    assert default_cache_path(root) != root / ".kbmine" / "cache.sqlite"

    root = make(tmp_path / "kb3", {"a.md": "# A\n"})
    (root / ".kbmine").mkdir()
    os.symlink(outside / "planted", root / ".kbmine" / ".gitignore")
    ParseCache(root / ".kbmine" / "cache.sqlite", "key").close()
    assert not (outside / "planted").exists()

    assert sorted(p.name for p in outside.iterdir()) == ["victim.sqlite"]
    assert (outside / "victim.sqlite").read_bytes() == b""


def test_a_refused_local_cache_goes_to_the_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make(tmp_path / "kb", {"a.md": "# A\n", ".kbmine": "not a folder\n"})
    assert default_cache_path(root).parent == tmp_path / "cache" / "kbmine"


def test_a_folder_past_path_max_is_a_finding_that_says_why(tmp_path: Path) -> None:
    """Below PATH_MAX (4096 bytes) a path cannot be stat'ed by its absolute name: the scan names
    the folder and the reason instead of a bare "vanished" (and never raises)."""
    root = make(tmp_path / "kb", {"a.md": "# A\n"})
    here = os.getcwd()
    os.chdir(root)
    try:
        for _ in range(4096 // 200 + 1):
            os.mkdir("d" * 200)
            os.chdir("d" * 200)
        Path("deep.md").write_text("# Deep\n")
    finally:
        os.chdir(here)
    scan = scan_kb(root, Config())
    assert scan.notes == ["a.md"]
    [problem] = scan.problems
    assert problem.path.startswith("d" * 200 + "/")
    assert problem.message.endswith(": File name too long")


def test_a_symlinked_note_is_another_name_for_its_note(tmp_path: Path) -> None:
    """A symlink named like a note, to a note inside the KB, is not a second note (its own orphan,
    its note's 100% duplicate): links to it reach the note it points at."""
    root = tmp_path / "kb"
    root.mkdir()
    claim = " ".join(f"word{index}" for index in range(40))
    (root / "alpha.md").write_text(f"# Alpha\n\n{claim}\n\nSee [[beta]].\n", encoding="utf-8")
    (root / "beta.md").write_text("# Beta\n\n[[alias]] [by path](alias.md) [[alpha]]\n", encoding="utf-8")
    (root / "alias.md").symlink_to("alpha.md")
    kb = kbmine.kb.load(root, Config(), use_cache=False)
    assert sorted(kb.notes) == ["alpha.md", "beta.md"] and kb.symlinked == {"alias.md": "alpha.md"}
    assert [(r.status, r.path) for r in kb.resolutions["beta.md"]] == [("note", "alpha.md")] * 3
    assert run_checks(kb) == []
