"""The word hash's power tables give the same hashes however they were built, kept or not.

``_word_hashes`` weighs the word characters of a whole call by their running
position and divides each word's first position back out; the tables of
powers are kept between calls up to a size, grown on demand, and built for
the one call beyond it. Every path must give the per-character definition.
"""

from __future__ import annotations

import re

import pytest

from kbmine.parse import passages
from tests.checks.test_passages import _reference_word_hash

TEXTS = [
    "Short words, a Ünïcode word, 分块 and ٣ digits.",
    "x" * 1500 + " é " + "y" * 700,  # longer than the weights: positions wrap
    "",
    "the same words again: short words",
]


def _expected(texts: list[str]) -> tuple[list[int], list[int]]:
    words = [re.findall(r"\w+", text) for text in texts]
    return [_reference_word_hash(word) for found in words for word in found], [len(found) for found in words]


@pytest.mark.parametrize("kept", [1 << 22, 64, 1])
def test_hashes_do_not_depend_on_the_kept_tables(monkeypatch: pytest.MonkeyPatch, kept: int) -> None:
    monkeypatch.setattr(passages, "_KEPT_POWERS", kept)
    monkeypatch.setattr(passages, "_TABLES", {})
    for texts in (TEXTS[:1], TEXTS, TEXTS[::-1], TEXTS[:1]):  # the tables grow, then serve a smaller call
        hashes, lengths = passages._word_hashes(texts)
        assert (hashes.tolist(), lengths.tolist()) == _expected(texts)
    assert ("powers" in passages._TABLES) == (kept > 1)
