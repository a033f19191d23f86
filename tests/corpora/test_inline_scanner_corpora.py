"""On the real corpora the parser's fast paths agree with markdown-it: the block rule dispatch on every
note, the inline scanner on every paragraph (which it rarely declines)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))

from inline_differential import block_tokens_differ, differs, paragraph_contents  # noqa: E402
from kbmine.parse.inline import scan_inline  # noqa: E402
from kbmine.parse.text import DecodeError, decode_note  # noqa: E402


def _check(root: Path, dialect: str) -> None:
    checked = declined = 0
    disagreements: list[str] = []
    block_disagreements: list[str] = []
    for path in sorted(root.rglob("*.md")):
        if ".git" in path.parts or not path.is_file():
            continue
        try:
            text = decode_note(path.read_bytes()).normalized
        except DecodeError:
            continue
        if block_tokens_differ(text, dialect):
            block_disagreements.append(str(path.relative_to(root)))
        contents, references = paragraph_contents(text, dialect)
        for content in contents:
            checked += 1
            if scan_inline(content, references, dialect) is None:
                declined += 1
            elif differs(content, references, dialect) is not None:
                disagreements.append(f"{path.relative_to(root)}: {content[:120]!r}")
    assert not block_disagreements, block_disagreements[:5]
    assert not disagreements, disagreements[:5]
    assert checked > 100
    assert declined <= checked * 0.05, (declined, checked)


@pytest.mark.parametrize("corpus", ["hyalo", "foam"])
def test_small_corpora(corpus: str, request: pytest.FixtureRequest) -> None:
    _check(request.getfixturevalue(corpus), "foam" if corpus == "foam" else "obsidian")


def test_commonplace(commonplace: Path) -> None:
    _check(commonplace, "obsidian")
