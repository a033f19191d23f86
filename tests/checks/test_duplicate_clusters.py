"""duplicate-claim groups its pairs in numpy: the same groups as a plain union-find, boilerplate dropped."""

from __future__ import annotations

import codecs
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kbmine.checks.duplicate_claim import _clusters, _PassageTable

MakeKB = Callable[[Mapping[str, str | bytes]], Path]


def _reference(pairs: list[tuple[int, int]], note_of: list[int], boilerplate: int) -> list[list[int]]:
    parent: dict[int, int] = {node: node for pair in pairs for node in pair}

    def find(node: int) -> int:
        while parent[node] != node:
            node = parent[node]
        return node

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for node in parent:
        groups[find(node)].append(node)
    kept = [sorted(group) for group in groups.values() if 2 <= len({note_of[i] for i in group}) < boilerplate]
    return sorted(kept, key=min)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(2, 40).flatmap(
        lambda size: st.tuples(
            st.just(size),
            st.lists(st.integers(0, 9), min_size=size, max_size=size),
            st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), min_size=1, max_size=80),
        )
    ),
    boilerplate=st.integers(2, 6),
)
def test_groups_are_union_find_groups(rows: tuple[int, list[int], list[tuple[int, int]]], boilerplate: int) -> None:
    size, note_of, pairs = rows
    pairs = [(a, b) for a, b in pairs if a != b]
    if not pairs:
        return
    zeros = np.zeros(size, dtype=np.int64)
    table = _PassageTable([f"n{i}.md" for i in range(10)], np.array(note_of, dtype=np.int64), zeros, zeros, zeros, zeros)
    first = np.array([a for a, _ in pairs], dtype=np.int64)
    second = np.array([b for _, b in pairs], dtype=np.int64)
    found = [sorted(group) for group in _clusters(table, first, second, boilerplate)]
    assert found == _reference(pairs, note_of, boilerplate)


def test_a_long_chain_settles() -> None:
    """Labels travel the whole length of a path of pairs given in the worst order."""
    size = 1000
    table = _PassageTable([f"n{i}.md" for i in range(size)], np.arange(size, dtype=np.int64), *([np.zeros(size, np.int64)] * 4))
    first = np.arange(size - 1, 0, -1, dtype=np.int64)
    found = _clusters(table, first, first - 1, boilerplate=size + 1)
    assert [sorted(group) for group in found] == [list(range(size))]


def test_scores_are_those_of_each_pair_compared_alone(make_kb: MakeKB) -> None:
    """Copies found by digest, and one ratio per pair of contents, give each pair the score
    that comparing its two passages alone gives (the same text in UTF-16 is no copy)."""
    from rapidfuzz import fuzz

    from kbmine.checks.duplicate_claim import _scores, _Words
    from kbmine.config import load_config
    from kbmine.kb import load

    claim = (
        "Retrieval quality depends less on the embedding model than on how the notes are cut into "
        "passages, because a passage that mixes two claims is retrieved for neither of them."
    )
    near = claim.replace("depends less", "depends far less")
    root = make_kb(
        {
            "a.md": f"# A\n\n{claim}\n",
            "b.md": f"# B\n\n{claim}\n",
            "c.md": f"# C\n\n{near}\n",
            "d.md": f"# D\n\n{near}\n",
            "e.md": codecs.BOM_UTF16_LE + f"# E\n\n{claim}\n".encode("utf-16-le"),
        }
    )
    kb = load(root, load_config(root), use_cache=False, jobs=1)
    table = _PassageTable.of(kb)
    rows = range(len(table.starts))
    pairs = np.array([(a, b) for a in rows for b in rows if a < b], dtype=np.int64)
    words = _Words(kb)
    values, same = _scores(kb, table, pairs, 0.8, words)

    def passage(row: int) -> tuple[str, int, int]:
        return table.notes[table.note[row]], int(table.starts[row]), int(table.ends[row])

    for (a, b), value, copy in zip(pairs.tolist(), values.tolist(), same.tolist()):
        alone = words.source(*passage(a)) == words.source(*passage(b))
        assert copy == alone
        expected = 1.0 if alone else fuzz.ratio(words.of(*passage(a)), words.of(*passage(b)), score_cutoff=80) / 100
        assert value == expected
    assert same.sum() == 2  # a~b and c~d; e holds a's text in other bytes
