"""The word hash's power tables give the same hashes however they were built, kept or not.

``_word_hashes`` weighs the word characters of a whole call by their running
position and divides each word's first position back out; the tables of
powers are kept between calls up to a size, grown on demand, and built for
the one call beyond it. Every path must give the per-character definition.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _reference_shingles(hashes: list[int]) -> list[int]:
    """The shingle hashes of one passage written out (a passage under SHINGLE words has one shingle)."""
    mask = (1 << 64) - 1
    shingles = []
    for first in range(max(1, len(hashes) - passages.SHINGLE + 1)):
        mixed = 0
        for position, multiplier in enumerate(passages.MIXERS[: passages.SHINGLE]):
            if position < len(hashes):
                mixed = ((mixed ^ (hashes[first + position] * multiplier & mask)) * 0x9E3779B97F4A7C15) & mask
        shingles.append((mixed >> 29) & 0xFFFFFFFF)
    return shingles


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**64 - 1), min_size=0, max_size=12), min_size=1, max_size=6))
def test_shingles_match_the_per_passage_definition(words: list[list[int]]) -> None:
    """Batches of passages all long enough (the signed ones) and batches with short ones agree with the definition."""
    import numpy as np

    hashes = np.array([value for passage in words for value in passage], dtype=np.uint64)
    lengths = np.array([len(passage) for passage in words], dtype=np.int64)
    shingled, counts = passages._shingles(hashes, lengths)
    expected = [_reference_shingles(passage) for passage in words]
    assert counts.tolist() == [len(found) for found in expected]
    assert shingled.tolist() == [value for found in expected for value in found]
