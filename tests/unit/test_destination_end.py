"""The fast destination scan agrees with markdown-it's parseLinkDestination on every input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it.helpers import parseLinkDestination

from kbmine.parse.markdown import destination_end

_PIECES = st.sampled_from(["a", "b.md", " ", "(", ")", "<", ">", "\\", "\n", "\t", "\x00", "\x7f", "#", "%20", "é", "\\ ", "\\(", "\\>"])


def _reference(src: str) -> int | None:
    result = parseLinkDestination(src, 0, len(src))
    return result.pos if result.ok else None


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_destination_end_matches_markdown_it(src: str) -> None:
    assert destination_end(src, 0) == _reference(src)


def test_destination_end_examples() -> None:
    for src, end in [
        ("a.md)", 4),
        ("<a b.md>)", 8),
        ("a(b)c.md rest", 8),
        ("a\\ b", 1),
        ("", None),
        (")", None),
        ("<a\nb>", None),
        ("a((b)", None),
    ]:
        assert destination_end(src, 0) == end, src
