"""Passage signatures are datasketch's MinHash, computed in bulk."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash

from kbmine.parse.passages import NUM_PERM, minus_ranges, passage_words, permutations, shingle_hashes, signatures


def test_permutations_match_datasketch() -> None:
    a, b = MinHash(num_perm=NUM_PERM, seed=1, scheme="legacy").permutations
    ours_a, ours_b = permutations()
    assert np.array_equal(ours_a.ravel(), a) and np.array_equal(ours_b.ravel(), b)


def test_signatures_match_datasketch_minhash() -> None:
    passages = [passage_words("The quick brown fox jumps over the lazy dog " * 3), passage_words("alpha beta gamma delta")]
    ours = signatures(passages)
    for words, signature in zip(passages, ours):
        reference = MinHash(num_perm=NUM_PERM, seed=1, scheme="legacy", hashfunc=lambda v: v)
        reference.update_batch(shingle_hashes(words))
        assert np.array_equal(np.frombuffer(signature, dtype=np.uint32), reference.hashvalues.astype(np.uint32))


def test_passage_words_drop_link_destinations() -> None:
    assert passage_words("See [the note](../a/b.md#x) and [[target|label]] now") == ["see", "the", "note", "and", "label", "now"]


def test_minus_ranges() -> None:
    assert minus_ranges([(0, 10), (20, 30)], [(2, 4), (8, 22), (25, 26)]) == [(0, 2), (4, 8), (22, 25), (26, 30)]
    assert minus_ranges([(0, 10)], []) == [(0, 10)]
    assert minus_ranges([(0, 10)], [(0, 10)]) == []
