"""duplicate-claim groups its pairs in numpy: the same groups as a plain union-find, boilerplate dropped."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kbmine.checks.duplicate_claim import _clusters, _PassageTable


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
