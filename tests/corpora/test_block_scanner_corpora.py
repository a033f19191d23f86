"""On the real corpora the block scanner changes no note: every note parses to the same ``Note`` with and
without it, every document it reads gives markdown-it's block records, and it rarely declines."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))

from block_differential import markdown_it_reading

import kbmine.parse.markdown as markdown_module
from kbmine.parse import parse_notes
from kbmine.parse.block import scan_blocks

#: A passage length no prose range reaches.
_UNSIGNED = 10**9


def _check(root: Path, dialect: str, monkeypatch: pytest.MonkeyPatch) -> None:
    items = [
        (str(path.relative_to(root)), path.read_bytes())
        for path in sorted(root.rglob("*.md"))
        if ".git" not in path.parts and path.is_file()
    ]
    seen: list[tuple[str, Any]] = []

    def spy(text: str) -> Any:
        scanned = scan_blocks(text)
        # The walk's inline parses may add to env; the records are never changed.
        seen.append((text, None if scanned is None else (scanned[0], copy.deepcopy(scanned[1]))))
        return scanned

    monkeypatch.setattr(markdown_module, "scan_blocks", spy)
    monkeypatch.setattr(markdown_module, "USE_BLOCK_SCANNER", True)
    # Passages are signed from the prose ranges the notes are compared on: no need to sign them.
    scanned_notes = parse_notes(items, dialect, min_passage_words=_UNSIGNED)
    monkeypatch.setattr(markdown_module, "USE_BLOCK_SCANNER", False)
    plain_notes = parse_notes(items, dialect, min_passage_words=_UNSIGNED)

    different = [path for (path, _), ours, theirs in zip(items, scanned_notes, plain_notes, strict=True) if ours != theirs]
    assert not different, different[:5]
    declined = [text for text, scanned in seen if scanned is None]
    disagreements = [text[:80] for text, scanned in seen if scanned is not None and scanned != markdown_it_reading(text)]
    assert not disagreements, disagreements[:3]
    assert len(seen) > 50
    assert len(declined) <= 0.05 * len(seen), (len(declined), len(seen))
    assert sum(map(len, declined)) <= 0.05 * sum(len(text) for text, _ in seen)


@pytest.mark.parametrize("corpus", ["hyalo", "foam"])
def test_small_corpora(corpus: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    _check(request.getfixturevalue(corpus), "foam" if corpus == "foam" else "obsidian", monkeypatch)


def test_commonplace(commonplace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _check(commonplace, "obsidian", monkeypatch)
