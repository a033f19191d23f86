"""Passage signatures: MinHash over word shingles, computed in bulk, that estimate Jaccard similarity."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kbmine.parse.passages import (
    NUM_PERM,
    minus_ranges,
    passage_signatures,
    passage_words,
    shingle_hashes,
    signatures,
)


def _estimate(a: bytes, b: bytes) -> float:
    return float(np.mean(np.frombuffer(a, dtype=np.uint32) == np.frombuffer(b, dtype=np.uint32)))


def test_signatures_estimate_jaccard_similarity() -> None:
    """Over many pairs, agreeing slots track the true shingle Jaccard within sampling error."""
    rng = random.Random(3)
    vocabulary = [f"w{index}" for index in range(400)]
    errors = []
    for _ in range(60):
        base = [rng.choice(vocabulary) for _ in range(60)]
        edited = list(base)
        for _ in range(rng.randint(0, 30)):
            edited[rng.randrange(len(edited))] = rng.choice(vocabulary)
        first, second = signatures([base, edited])
        left, right = set(shingle_hashes(base)), set(shingle_hashes(edited))
        errors.append(_estimate(first, second) - len(left & right) / len(left | right))
    assert abs(float(np.mean(errors))) < 0.03, "biased estimate"
    assert float(np.max(np.abs(errors))) < 0.2, "an estimate far off (expected error ~0.04 with 128 slots)"


def test_signatures_are_deterministic_and_sized() -> None:
    words = passage_words("The quick brown fox jumps over the lazy dog " * 3)
    assert signatures([words]) == signatures([list(words)])
    assert len(signatures([words])[0]) == NUM_PERM * 4
    assert signatures([["alpha"]])[0] != signatures([["beta"]])[0]


def test_long_passages_are_signed_in_chunks_with_the_same_result() -> None:
    words = [f"w{index}" for index in range(40_000)]
    [whole] = signatures([words])
    [again] = signatures([words[:]])
    assert whole == again and len(whole) == NUM_PERM * 4


def test_passage_words_drop_link_destinations() -> None:
    assert passage_words("See [the note](../a/b.md#x) and [[target|label]] now") == ["see", "the", "note", "and", "label", "now"]


def test_minus_ranges() -> None:
    assert minus_ranges([(0, 10), (20, 30)], [(2, 4), (8, 22), (25, 26)]) == [(0, 2), (4, 8), (22, 25), (26, 30)]
    assert minus_ranges([(0, 10)], []) == [(0, 10)]
    assert minus_ranges([(0, 10)], [(0, 10)]) == []


def test_estimates_agree_with_datasketch() -> None:
    """The reference implementation (datasketch, a dev dependency) and ours estimate the same similarity."""
    from datasketch import MinHash

    rng = random.Random(5)
    vocabulary = [f"v{index}" for index in range(300)]
    gaps = []
    for _ in range(30):
        base = [rng.choice(vocabulary) for _ in range(80)]
        edited = [word if rng.random() > 0.2 else rng.choice(vocabulary) for word in base]
        references = []
        for words in (base, edited):
            reference = MinHash(num_perm=NUM_PERM, seed=1)
            reference.update_batch([str(h).encode() for h in shingle_hashes(words)])
            references.append(reference)
        first, second = signatures([base, edited])
        gaps.append(_estimate(first, second) - references[0].jaccard(references[1]))
    assert abs(float(np.mean(gaps))) < 0.03


def test_a_shared_common_phrase_does_not_make_candidates_but_a_light_edit_does() -> None:
    """LSH bands built from one borrowed shingle would pair every passage saying "in order to".

    LSH is probabilistic, so the test is over 20 random KBs: the lightly edited copy
    (4 of 28 words changed, shingle Jaccard about 0.37) must be a candidate in most,
    and the 300 unrelated passages sharing one phrase must make almost no pairs.
    """
    from kbmine.band_index import build

    found = extra = 0
    for seed in range(20):
        rng = random.Random(seed)
        vocabulary = [f"w{index}" for index in range(5000)]
        passages = []
        for _ in range(300):
            words = [rng.choice(vocabulary) for _ in range(28)]
            words[10:13] = ["in", "order", "to"]
            passages.append(words)
        edited = list(passages[0])
        for position in (2, 9, 17, 25):
            edited[position] = rng.choice(vocabulary)
        passages.append(edited)
        matrix = np.frombuffer(b"".join(signatures(passages)), dtype=np.uint32).reshape(len(passages), -1)
        ids = np.arange(len(passages), dtype=np.uint64)
        pairs = {(a, b) for a, b in build(ids, matrix).pairs.tolist()}
        found += (0, len(passages) - 1) in pairs
        extra += len(pairs - {(0, len(passages) - 1)})
    assert found >= 16
    assert extra <= 20


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab_1 .,-[]()|\n\tİßé中ǅ٣\u0301\U0001f600")), max_size=60), max_size=6))
def test_vectorised_words_are_the_regex_words(texts: list[str]) -> None:
    """passage_signatures counts exactly the words passage_words finds (unicode \\w, casefolding that
    changes lengths, link syntax), and its signatures are those of the same words."""
    counted = passage_signatures(texts, 1)
    for text, result in zip(texts, counted):
        words = passage_words(text)
        if not words:
            assert result is None
            continue
        assert result is not None and result[0] == len(words)
        assert result[1] == signatures([words])[0]


def _reference_word_hash(word: str) -> int:
    """The word hash written out one character at a time (what the vectorised ``_word_hashes`` must give)."""
    from kbmine.parse.passages import _BASE, _WORD_SPAN, MIXERS

    mask = (1 << 64) - 1
    value = sum(ord(char) * pow(_BASE, index % _WORD_SPAN, 1 << 64) for index, char in enumerate(word)) & mask
    value ^= (len(word) * MIXERS[3]) & mask
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & mask
    return value ^ (value >> 29)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.sampled_from(list("ab_1 .,-\n\tßé中٣\u0301\U0001f600")), max_size=40),
            st.integers(1000, 2100).map(lambda size: "x" * size + " é" + "y" * (size // 2)),
        ),
        max_size=5,
    )
)
def test_word_hashes_match_the_per_character_definition(texts: list[str]) -> None:
    """Every word's hash equals the polynomial over its code points, including words longer than the
    weights (positions wrap every ``_WORD_SPAN`` characters), and the per-text counts are the words'."""
    import re

    from kbmine.parse.passages import _word_hashes

    hashes, lengths = _word_hashes(texts)
    words = [re.findall(r"\w+", text) for text in texts]
    assert lengths.tolist() == [len(found) for found in words]
    assert hashes.tolist() == [_reference_word_hash(word) for found in words for word in found]
