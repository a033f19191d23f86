"""Edit application: exact bytes, stale and overlapping edits refused, apply then invert is identity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbmine.model import Edit
from kbmine.mutate.edits import EditConflict, apply_edits, invert_edits


def test_applies_back_to_front_and_keeps_everything_else() -> None:
    data = b"\xef\xbb\xbfsee a and b\r\nno final newline"
    edits = [Edit("n.md", 7, 8, b"a", b"[[a]]"), Edit("n.md", 13, 14, b"b", b"[b](b.md)")]
    assert apply_edits(data, edits) == b"\xef\xbb\xbfsee [[a]] and [b](b.md)\r\nno final newline"


def test_refuses_an_edit_whose_bytes_changed() -> None:
    with pytest.raises(EditConflict, match="the note changed"):
        apply_edits(b"hello", [Edit("n.md", 0, 5, b"world", b"x")])


def test_refuses_overlaps_and_out_of_range() -> None:
    with pytest.raises(EditConflict, match="overlaps"):
        apply_edits(b"abcdef", [Edit("n.md", 0, 3, b"abc", b""), Edit("n.md", 2, 4, b"cd", b"")])
    with pytest.raises(EditConflict, match="outside"):
        apply_edits(b"abc", [Edit("n.md", 2, 9, b"c", b"")])


@st.composite
def data_and_edits(draw: st.DrawFn) -> tuple[bytes, list[Edit]]:
    data = draw(st.binary(max_size=200))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    edits = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        edits.append(Edit("n.md", start, end, data[start:end], draw(st.binary(max_size=20))))
    return data, draw(st.permutations(edits))


@given(data_and_edits())
def test_apply_then_invert_restores_the_bytes(case: tuple[bytes, list[Edit]]) -> None:
    data, edits = case
    changed = apply_edits(data, edits)
    assert apply_edits(changed, invert_edits(data, edits)) == data


@given(data_and_edits())
def test_bytes_outside_the_edits_are_untouched(case: tuple[bytes, list[Edit]]) -> None:
    data, edits = case
    changed = apply_edits(data, edits)
    first = min((e.start for e in edits), default=len(data))
    last = max((e.end for e in edits), default=len(data))
    assert changed[:first] == data[:first]
    assert changed[len(changed) - (len(data) - last) :] == data[last:]
