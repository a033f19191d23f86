"""Byte exactness: spans address the file as stored (BOM, CRLF, multibyte text, containers)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kbunit import check_span, position, span_text

from kbmine.model import Link
from kbmine.parse import parse_note

BOM = b"\xef\xbb\xbf"


def links(data: bytes, dialect: str = "obsidian") -> tuple[Link, ...]:
    note = parse_note("note.md", data, dialect)
    assert note.problems == ()
    for link in note.links:
        check_span(data, link)
    return note.links


def test_utf8_bom_shifts_bytes_not_columns() -> None:
    data = BOM + b"[[a]] [b](c.md)"
    first, second = links(data)
    assert (first.span.start, first.span.end) == (3, 8)
    assert position(data, first.span) == (1, 1, 1, 6)
    assert (second.span.start, second.span.end) == (9, 18)
    assert second.span.column == 7
    assert parse_note("n.md", data).encoding == "utf-8"


def test_bom_with_frontmatter_and_crlf() -> None:
    data = BOM + b"---\r\nup: '[[x]]'\r\n---\r\n# T\r\n[[a]]\r\n"
    note = parse_note("n.md", data)
    assert note.has_frontmatter
    assert note.frontmatter == {"up": "[[x]]"}
    assert note.title == "T"
    fm, body = note.links
    for link in note.links:
        check_span(data, link)
    assert fm.in_frontmatter and fm.span.line == 2 and fm.span.column == 6
    assert body.span.line == 5 and body.span.column == 1
    assert data[note.body_start :].startswith(b"# T")


def test_crlf_line_endings() -> None:
    data = b"line1\r\nline2 [[a]]\r\n\r\n[t](b.md)\r\n"
    first, second = links(data)
    assert (first.span.start, first.span.end) == (13, 18)
    assert position(data, first.span) == (2, 7, 2, 12)
    assert (second.span.start, second.span.end) == (22, 31)
    assert position(data, second.span) == (4, 1, 4, 10)


def test_mixed_line_endings() -> None:
    data = b"l1\rl2 [[a]]\n l3\r\nl4 [b](c.md)\r\r[[z]]"
    a, b, z = links(data)
    assert position(data, a.span)[:2] == (2, 4)
    assert position(data, b.span)[:2] == (4, 4)
    assert position(data, z.span)[:2] == (6, 1)
    assert span_text(data, z.span) == "[[z]]"


def test_multibyte_characters_before_a_link() -> None:
    text = "héllo 日本 😀 [[a]] [b](c.md)"
    data = text.encode()
    a, b = links(data)
    # columns count code points, offsets count bytes
    assert a.span.column == text.index("[[a]]") + 1 == 12
    assert a.span.start == data.index(b"[[a]]") == 19
    assert b.span.column == text.index("[b]") + 1
    assert b.span.start == data.index(b"[b]")


def test_multibyte_on_previous_line_and_in_link() -> None:
    text = "日本\n😀😀 [ü](ö.md) [[é|ß]]"
    data = text.encode()
    md, wiki = links(data)
    assert position(data, md.span) == (2, 4, 2, 13)
    assert md.target == "ö.md"
    assert wiki.target == "é" and wiki.label == "ß"
    assert wiki.span.column == 14


def test_multibyte_with_crlf_and_bom() -> None:
    data = BOM + "ä\r\n€ [[x]]\r\n".encode()
    (link,) = links(data)
    assert position(data, link.span) == (2, 3, 2, 8)
    assert link.span.start == data.index(b"[[x]]")


def test_link_split_across_lines() -> None:
    data = b"see [a\nlong label](x.md) and [[b]]"
    md, wiki = links(data)
    assert md.raw == "[a\nlong label](x.md)"
    assert position(data, md.span) == (1, 5, 2, 18)
    assert md.label == "a\nlong label"
    assert wiki.span.line == 2 and wiki.span.column == 23


def test_link_split_across_crlf_lines_with_destination_on_its_own_line() -> None:
    data = b"see [a\r\nlong label](\r\nx.md) [[c]]"
    md, wiki = links(data)
    assert md.raw == "[a\r\nlong label](\r\nx.md)"
    assert position(data, md.span) == (1, 5, 3, 6)
    assert md.target_span is not None
    assert span_text(data, md.target_span) == "x.md"
    assert position(data, wiki.span) == (3, 7, 3, 12)


def test_links_in_block_quotes() -> None:
    data = b"> quote [[a]]\n> more [b](c.md)\n>> nested [[d]]\n"
    a, b, d = links(data)
    assert (a.span.line, a.span.column) == (1, 9)
    assert (b.span.line, b.span.column) == (2, 8)
    assert (d.span.line, d.span.column) == (3, 11)


def test_lazy_continuation_in_block_quote() -> None:
    data = b"> first line\nlazy [[a]]\n"
    (link,) = links(data)
    assert (link.span.line, link.span.column) == (2, 6)


def test_links_in_nested_list_items() -> None:
    data = b"- item\n  - nested [[a]]\n    - deeper [b](c.md)\n1. num [[e]]\n"
    a, b, e = links(data)
    assert (a.span.line, a.span.column) == (2, 12)
    assert (b.span.line, b.span.column) == (3, 14)
    assert (e.span.line, e.span.column) == (4, 8)


def test_list_in_quote_in_list() -> None:
    data = b"- a\n  > - [[deep]] and [x](y.md)\n"
    deep, x = links(data)
    assert (deep.span.line, deep.span.column) == (2, 7)
    assert x.span.column == 20


def test_tabs_after_container_markers() -> None:
    data = b"-\t[[tab]]\n\n>\t[[q]]\n\na\t[[b]]\tc [d](e.md)\n"
    tab, q, b, d = links(data)
    assert (tab.span.line, tab.span.column) == (1, 3)
    assert (q.span.line, q.span.column) == (3, 3)
    assert (b.span.line, b.span.column) == (5, 3)
    assert d.span.column == 11


def test_link_in_heading_with_closing_hashes() -> None:
    data = b"## foo [[a]] ##\n"
    (link,) = links(data)
    assert link.span.column == 8


def test_same_text_repeated_on_a_line() -> None:
    data = b"[[a]] [[a]] [[a]]\n"
    spans = [link.span.column for link in links(data)]
    assert spans == [1, 7, 13]


def test_hard_line_breaks_and_trailing_spaces() -> None:
    data = b"one [[a]]  \ntwo [[b]]\\\nthree [[c]]\n"
    a, b, c = links(data)
    assert [l.span.line for l in (a, b, c)] == [1, 2, 3]
    assert c.span.column == 7


def test_multibyte_in_table_cells_with_escaped_pipes() -> None:
    data = "| 日本 | [[é\\|x]] |\n|--|--|\n| [[é\\|y]] | 😀 [[é\\|z]] |\n".encode()
    x, y, z = links(data)
    assert [l.label for l in (x, y, z)] == ["x", "y", "z"]
    assert (x.span.line, x.span.column) == (1, 8)
    assert (y.span.line, y.span.column) == (3, 3)
    assert (z.span.line, z.span.column) == (3, 16)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_positions_are_independent_of_newline_style(newline: bytes) -> None:
    lines = [b"# Title", b"", b"text [[one]] more", b"", b"> [two](2.md)", b"", b"- [[three|3]]"]
    data = newline.join(lines) + newline
    one, two, three = links(data)
    assert [(l.span.line, l.span.column) for l in (one, two, three)] == [(3, 6), (5, 3), (7, 3)]


def test_blank_lines_with_whitespace_and_crlf() -> None:
    data = b"a\r\n   \r\n\t\r\n[[x]]\r\n"
    (link,) = links(data)
    assert link.span.line == 4


def test_utf16_note_with_bom_maps_to_exact_bytes() -> None:
    data = "\ufeffab [[x]]\nü [y](z.md)\n".encode("utf-16-le")
    note = parse_note("n.md", data)
    assert note.encoding == "utf-16-le"
    x, y = note.links
    assert data[x.span.start : x.span.end].decode("utf-16-le") == "[[x]]"
    assert data[y.span.start : y.span.end].decode("utf-16-le") == "[y](z.md)"
    assert (y.span.line, y.span.column) == (2, 3)


def test_body_start_and_size() -> None:
    data = b"---\na: 1\n---\nbody\n"
    note = parse_note("n.md", data)
    assert note.body_start == data.index(b"body")
    assert note.size == len(data)
    assert parse_note("n.md", BOM + data).body_start == data.index(b"body") + 3


def test_char_offsets_match_char_offset_one_by_one() -> None:
    """The vectorised translation agrees with the per-offset one on every byte (BOM, multibyte, CRLF)."""
    from kbmine.parse.text import decode_note

    for data in (b"\xef\xbb\xbfcaf\xc3\xa9 \xe2\x80\x94 x\r\n\xf0\x9f\x98\x80 end", b"plain ascii\nline"):
        source = decode_note(data)
        # Every character boundary of the stored bytes (what spans hold).
        offsets = [source.byte_offset(char) for char in range(len(source.text) + 1)]
        assert source.char_offsets(offsets).tolist() == [source.char_offset(byte) for byte in offsets]
        assert source.char_offsets(offsets).tolist() == list(range(len(source.text) + 1))


def test_byte_table_agrees_with_encoding_slices() -> None:
    """A short note dense in wide characters gets the per-character table: same bytes as encoding the prefix."""
    from kbmine.parse.text import decode_note

    data = "\ufeffcafé — ☃ 😀 x\r\nsecond — line\n".encode("utf-8")
    source = decode_note(data)
    expected = [source.bom + len(source.text[:char].encode("utf-8")) for char in range(len(source.text) + 1)]
    for _ in range(3):  # the first lookup builds the table, the rest read it
        assert [source.byte_offset(char) for char in range(len(source.text) + 1)] == expected


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab \n\r—é☃😀中"), max_size=60),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    data=st.data(),
)
def test_byte_ranges_agree_with_encoding_slices(text: str, encoding: str, data: st.DataObject) -> None:
    """Ranges translated all at once hold the bytes of encoding each prefix, whatever the
    encoding, BOM and density of wide characters (sparse lists or the per-character table)."""
    from kbmine.parse.text import decode_note

    source = decode_note(text.encode(encoding))
    size = len(source.text)
    offsets = data.draw(st.lists(st.integers(0, size), max_size=12))
    ranges = list(zip(offsets[0::2], offsets[1::2]))
    expected = [source.bom + len(source.text[:char].encode(source.encoding)) for pair in ranges for char in pair]
    assert list(source.byte_ranges(ranges).flat) == expected
    assert [source.byte_offset(char) for pair in ranges for char in pair] == expected


_NOTE_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("ab \n\r\t—é☃"),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(text=_NOTE_TEXT, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_every_offset_translates_as_encoding_the_prefix(text: str, encoding: str) -> None:
    """The wide-character index (and the dense table it falls back to) agree with encoding every prefix."""
    from kbmine.parse.text import DecodeError, decode_note

    data = text.encode(encoding)
    try:
        source = decode_note(data)
    except DecodeError:  # a NUL byte in a note without BOM reads as binary
        return
    codec = source.encoding
    expected = [source.bom + len(source.text[:char].encode(codec)) for char in range(len(source.text) + 1)]
    assert [source.byte_offset(char) for char in range(len(source.text) + 1)] == expected
    ranges = [(start, end) for start in range(len(source.text) + 1) for end in (start, len(source.text))]
    assert source.byte_ranges(ranges) == tuple((expected[start], expected[end]) for start, end in ranges)
    assert [source.char_offset(byte) for byte in expected] == list(range(len(source.text) + 1))


def test_sparse_and_dense_byte_translation() -> None:
    """A mostly-ASCII note bisects its few wide characters; a CJK note gets the per-character table."""
    from kbmine.parse.text import decode_note

    for text, dense in (("x" * 200 + "— é 😀" + "y" * 200 + "\r\n☃", False), ("漢字かな😀 ab\n" * 20, True)):
        source = decode_note(text.encode("utf-8"))
        expected = [len(text[:char].encode("utf-8")) for char in range(len(text) + 1)]
        assert [source.byte_offset(char) for char in range(len(text) + 1)] == expected
        assert (source._char_bytes is not None) is dense


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab \n—é☃😀中"), max_size=60),
    bom=st.booleans(),
    data=st.data(),
)
def test_char_offsets_of_any_byte_offset(text: str, bom: bool, data: st.DataObject) -> None:
    """Any byte offset of the file, inside a character too, counts the characters that start
    before it, as a count over the encoded bytes does (sparse and dense wide characters)."""
    import numpy as np

    from kbmine.parse.text import decode_note

    encoded = text.encode("utf-8")
    skip = len(BOM) if bom else 0
    source = decode_note((BOM if bom else b"") + encoded)
    offsets = data.draw(st.lists(st.integers(0, skip + len(encoded)), min_size=1, max_size=12))
    starts = np.concatenate(([0], np.cumsum((np.frombuffer(encoded, dtype=np.uint8) & 0xC0) != 0x80)))
    expected = [int(starts[min(max(offset - skip, 0), len(encoded))]) for offset in offsets]
    assert source.char_offsets(offsets).tolist() == expected
