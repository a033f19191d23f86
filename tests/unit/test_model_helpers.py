"""model helpers: ByteRanges (a note's ranges held flat, read back as their pairs) and relative_path."""

from __future__ import annotations

import pickle
import posixpath

from hypothesis import given
from hypothesis import strategies as st

from kbmine.model import ByteRanges, Note, relative_path

pairs = st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 2**40)), max_size=50)


@given(pairs)
def test_ranges_read_back_as_their_pairs(given_pairs: list[tuple[int, int]]) -> None:
    ranges = ByteRanges(given_pairs)
    assert list(ranges) == given_pairs and len(ranges) == len(given_pairs)
    assert ranges == tuple(given_pairs) and tuple(given_pairs) == ranges and ranges == given_pairs
    assert ByteRanges.from_bytes(ranges.to_bytes()) == ranges
    assert pickle.loads(pickle.dumps(ranges)) == ranges
    assert hash(ByteRanges(given_pairs)) == hash(ranges)
    assert ranges.covered() == sum(end - start for start, end in given_pairs)
    assert bool(ranges) == bool(given_pairs)


def test_unequal_ranges_and_other_types() -> None:
    assert ByteRanges([(1, 2)]) != ByteRanges([(1, 3)])
    assert ByteRanges([(1, 2)]) != ((1, 2), (3, 4))
    assert ByteRanges() != "nothing"
    assert repr(ByteRanges([(1, 2)])) == "ByteRanges([(1, 2)])"


def test_a_note_built_with_pairs_holds_byte_ranges() -> None:
    note = Note("a.md", "A", {}, (), (), (), (), 0, 10, "h", code_ranges=((0, 4),), mention_ranges=[(5, 9)])
    assert isinstance(note.code_ranges, ByteRanges) and isinstance(note.mention_ranges, ByteRanges)
    assert note.code_ranges == ((0, 4),) and note.prose_ranges == () and note.mention_ranges.covered() == 4


folder_names = st.sampled_from(["a", "b", "notes", "x y", "é"])


@given(st.lists(folder_names, max_size=4), st.lists(folder_names, max_size=4), st.sampled_from(["n.md", "a", "b"]))
def test_relative_path_is_what_posixpath_relpath_gives(folder: list[str], target: list[str], name: str) -> None:
    path = "/".join([*target, name])
    here = "/".join(folder)
    assert relative_path(path, here) == posixpath.relpath(path, here or ".")
    assert relative_path(here or ".", here) == posixpath.relpath(here or ".", here or ".")
