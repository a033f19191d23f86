"""The stored LSH band index: an update gives exactly the pairs a fresh build would."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kbmine.band_index import BandIndex, build, is_index, passage_ids, update
from kbmine.parse.passages import signatures, sorted_unique

VOCABULARY = [f"w{index}" for index in range(60)]


def _passages(rng: np.random.Generator, count: int) -> list[list[str]]:
    """Random passages over a small vocabulary, a third of them light edits of earlier ones (real buckets)."""
    passages: list[list[str]] = []
    for index in range(count):
        if passages and index % 3 == 0:
            words = list(passages[int(rng.integers(len(passages)))])
            words[int(rng.integers(len(words)))] = VOCABULARY[int(rng.integers(len(VOCABULARY)))]
        else:
            words = [VOCABULARY[int(rng.integers(len(VOCABULARY)))] for _ in range(int(rng.integers(3, 30)))]
        passages.append(words)
    return passages


def _matrix(passages: list[list[str]]) -> np.ndarray:
    return np.frombuffer(b"".join(signatures(passages)), dtype=np.uint32).reshape(len(passages), -1)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), removed=st.floats(0, 0.15), added=st.integers(0, 12))
def test_an_update_equals_a_fresh_build(seed: int, removed: float, added: int) -> None:
    rng = np.random.default_rng(seed)
    passages = _passages(rng, 80)
    matrix = _matrix(passages)
    ids = rng.integers(0, 2**63, size=len(passages), dtype=np.uint64)
    old = build(ids, matrix)

    keep = rng.random(len(passages)) >= removed
    fresh = _passages(rng, added) if added else []
    new_matrix = np.concatenate((matrix[keep], _matrix(fresh))) if fresh else matrix[keep]
    new_ids = np.concatenate((ids[keep], rng.integers(0, 2**63, size=len(fresh), dtype=np.uint64)))
    order = rng.permutation(len(new_ids))
    new_matrix, new_ids = new_matrix[order], new_ids[order]

    asked: list[int] = []

    def signatures_of(rows: np.ndarray) -> np.ndarray:
        asked.extend(rows.tolist())
        return new_matrix[rows]

    updated = update(old, new_ids, signatures_of)
    expected = build(new_ids, new_matrix)
    assume(updated is not None)  # else too much changed: the caller builds afresh
    assert updated is not None
    assert np.array_equal(updated.pairs, expected.pairs)
    assert np.array_equal(updated.keys, expected.keys)
    assert sorted(asked) == sorted(np.flatnonzero(~np.isin(new_ids, ids)).tolist())
    assert is_index(updated)


def test_an_unchanged_kb_reuses_the_stored_pairs() -> None:
    rng = np.random.default_rng(7)
    matrix = _matrix(_passages(rng, 40))
    ids = rng.integers(0, 2**63, size=40, dtype=np.uint64)
    old = build(ids, matrix)
    assert len(old.pairs)

    def never(rows: np.ndarray) -> np.ndarray:
        raise AssertionError("no signature is needed when nothing changed")

    same = update(old, ids, never)
    assert same is not None and same.pairs is old.pairs


def test_a_large_change_asks_for_a_fresh_build() -> None:
    rng = np.random.default_rng(3)
    matrix = _matrix(_passages(rng, 50))
    old = build(rng.integers(0, 2**63, size=50, dtype=np.uint64), matrix)
    assert update(old, rng.integers(0, 2**63, size=50, dtype=np.uint64), lambda rows: matrix[rows]) is None


def test_a_damaged_index_is_not_trusted() -> None:
    rng = np.random.default_rng(5)
    matrix = _matrix(_passages(rng, 30))
    index = build(rng.integers(0, 2**63, size=30, dtype=np.uint64), matrix)
    assert is_index(index)
    assert not is_index({"pairs": index.pairs})
    assert not is_index(BandIndex(index.ids, index.keys[::-1].copy(), index.rows, index.pairs))
    assert not is_index(BandIndex(index.ids[:1], index.keys, index.rows, index.pairs))
    assert not is_index(BandIndex(index.ids, index.keys, index.rows.astype(np.int64), index.pairs))


def test_passage_ids_follow_the_path_and_the_bytes_not_the_place() -> None:
    first = passage_ids(["a.md", "b.md"], [0, 0, 1], [11, 22, 11])
    assert len(set(first.tolist())) == 3  # the same bytes in two notes: two passages
    moved = passage_ids(["a.md", "b.md"], [0, 0, 0, 1], [33, 11, 22, 11])  # one passage added above the others
    assert moved[1:].tolist() == first.tolist()
    edited = passage_ids(["a.md", "b.md"], [0, 0, 1], [11, 23, 11])
    assert edited[0] == first[0] and edited[2] == first[2] and edited[1] != first[1]
    renamed = passage_ids(["c.md", "b.md"], [0, 0, 1], [11, 22, 11])
    assert renamed[2] == first[2] and not set(renamed[:2].tolist()) & set(first.tolist())
    twice = passage_ids(["a.md"], [0, 0, 0], [11, 22, 11])  # the same bytes twice in one note
    assert len(set(twice.tolist())) == 3 and twice[0] == first[0] and twice[1] == first[1]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=60), st.sampled_from(["uint64", "int64", "uint32"]))
def test_sorted_unique_is_numpys_unique_without_numpy_ma(values: list[int], dtype: str) -> None:
    array = np.array(values, dtype=dtype)
    expected, first = np.unique(array, return_index=True)
    assert np.array_equal(sorted_unique(array), expected) and sorted_unique(array).dtype == expected.dtype
    found, index = sorted_unique(array, first_index=True)
    assert np.array_equal(found, expected) and np.array_equal(index, first)
