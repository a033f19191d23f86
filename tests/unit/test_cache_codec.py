"""The parse cache's note format (kbmine.codec): exact round trips, and anything else is a miss."""

from __future__ import annotations

import datetime as dt
import pickle
import sqlite3
from dataclasses import FrozenInstanceError, dataclass, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbmine.codec import decode_note, encode_note
from kbmine.config import Config
from kbmine.kb import load
from kbmine.model import (
    Block,
    Edit,
    Finding,
    Heading,
    Link,
    Note,
    Problem,
    Span,
    _Compact,
    note_title,
)
from kbmine.parse import parse_note


class _Named(str):
    """A ``str`` subclass, as a YAML library may hand out: marshal refuses it."""


@dataclass(frozen=True, slots=True)
class _Single(_Compact):
    """A record of one field: ``attrgetter`` of one name returns the value, not a tuple."""

    only: str


def _span(seed: int) -> Span:
    return Span(seed, seed + 7, seed // 10 + 1, 3, seed // 10 + 2, 9)


def _full_note(frontmatter: dict[str, object], problem_data: tuple[tuple[str, object], ...] = (("size", 12),)) -> Note:
    """A note with every field set to something other than its default."""
    return Note(
        path="",
        title="",
        frontmatter=frontmatter,
        aliases=("First alias", "Zweiter Alias"),
        headings=(Heading(1, "Title", "title", _span(0)), Heading(2, "Part é", "part-e", _span(40), explicit_id="p1")),
        blocks=(Block("blk", _span(90)),),
        links=(
            Link("markdown", "[a](b.md#c)", "b.md", "c", "a", _span(100), _span(104), False, False, False, None),
            Link("wikilink", "![[d|e]]", "d", None, "e", _span(120), None, True, True, False, "related"),
            Link("autolink", "<https://x.org>", "https://x.org", None, None, _span(140), external=True),
        ),
        body_start=17,
        size=4096,
        content_hash="0123456789abcdef0123456789abcdef",
        encoding="utf-8-sig",
        has_frontmatter=True,
        h1="Title",
        code_ranges=((200, 240), (300, 310)),
        prose_ranges=((17, 199),),
        tasks_open=2,
        problems=(Problem("invalid-frontmatter", "bad key", _span(1), "warning", problem_data),),
        mention_ranges=((20, 60), (70, 199)),
        passages=((20, 199, 31),),
    )


def _placed(note: Note, path: str) -> Note:
    return replace(note, path=path, title=note_title(note.frontmatter, note.h1, path))


def _assert_identical(decoded: Note | None, expected: Note) -> None:
    assert decoded == expected
    assert decoded is not None
    assert repr(decoded.frontmatter) == repr(expected.frontmatter)  # types too: a date stays a date
    with pytest.raises(FrozenInstanceError):
        decoded.size = 1  # type: ignore[misc]
    for link in decoded.links:
        with pytest.raises(AttributeError):  # a span is a named tuple: never changed either
            link.span.start = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "frontmatter",
    [
        {},
        {"title": "Own title", "tags": ["a", "b"], "n": 3, "x": 1.5, "nested": {"k": [1, {"z": None}]}, "ok": True},
        {"created": dt.date(2024, 1, 2), "at": dt.datetime(2024, 1, 2, 3, 4, 5), "tags": ["a"]},
        {"odd": _Named("a str subclass")},
    ],
    ids=["empty", "plain", "dates", "subclass"],
)
def test_a_note_round_trips_exactly_at_its_new_path(frontmatter: dict[str, object]) -> None:
    note = _full_note(frontmatter)
    blob = encode_note(note)
    _assert_identical(decode_note(blob, "folder/renamed.md"), _placed(note, "folder/renamed.md"))


def test_a_value_marshal_cannot_hold_outside_the_frontmatter_still_round_trips() -> None:
    note = _full_note({"a": 1}, problem_data=(("when", dt.date(2020, 5, 6)),))
    _assert_identical(decode_note(encode_note(note), "n.md"), _placed(note, "n.md"))


def test_parsed_fixture_notes_round_trip() -> None:
    texts = [
        b"---\ntitle: T\ndate: 2024-03-01\naliases: [x]\n---\n# H\n\nSee [[y#^b]] and [z](z.md). ^b\n\n```\n[[no]]\n```\n",
        "# Über\n\n- [ ] task\n- [x] done\n\n[ref][r]\n\n[r]: a.md#x\n".encode(),
        b"\xef\xbb\xbf# BOM\r\n\r\ntext [[a]]\r\n",
        b"no heading, no links\n",
    ]
    for index, data in enumerate(texts):
        note = parse_note("", data)
        path = f"dir/n{index}.md"
        _assert_identical(decode_note(encode_note(note), path), _placed(note, path))


def test_spans_pickle_to_equal_frozen_spans() -> None:
    span = _span(5)
    copy = pickle.loads(pickle.dumps(span, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy == span and hash(copy) == hash(span) and type(copy) is Span
    with pytest.raises(AttributeError):
        copy.line = 2  # type: ignore[misc]


def test_records_pickle_to_equal_records() -> None:
    edit = Edit("a.md", 3, 9, b"old", b"new", "why")
    finding = Finding("KB101", "broken-link", "error", "a.md", _span(3), "msg", {"k": [1]}, "f" * 16, (edit,), "i" * 16)
    for record in (edit, finding, _Single("x"), _full_note({"t": 1})):
        copy = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        assert copy == record and type(copy) is type(record)


def test_anything_but_an_encoded_note_is_a_miss() -> None:
    blob = encode_note(_full_note({"a": [1, 2]}))
    assert all(decode_note(blob[:cut], "n.md") is None for cut in range(0, len(blob), 7))
    foreign = [
        b"",
        b"garbage",
        pickle.dumps(_full_note({})),  # an older kbmine's entry: a bare pickle
        pickle.dumps({"not": "a note"}),
        blob[:15] + b"\x00" * 40,
    ]
    assert all(decode_note(data, "n.md") is None for data in foreign)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([b"kbmine-note-m1:", b"kbmine-note-p1:", b""]))
def test_decoding_damaged_bytes_never_raises(noise: bytes, prefix: bytes) -> None:
    decoded = decode_note(prefix + noise, "n.md")
    assert decoded is None or isinstance(decoded, Note)


def test_a_damaged_cache_row_is_parsed_again(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    (root / "a.md").write_text("# A\n\n[[b]]\n", encoding="utf-8")
    (root / "b.md").write_text("---\ndate: 2024-01-01\n---\n# B\n", encoding="utf-8")
    fresh = load(root, Config(), use_cache=False).notes
    assert load(root, Config()).notes == fresh  # fills the cache
    warm = load(root, Config())
    assert warm.notes == fresh and warm.stats.cached == 2
    database = sqlite3.connect(root / ".kbmine" / "cache.sqlite")
    with database:
        database.execute("UPDATE notes SET data = substr(data, 1, length(data) / 2)")
    database.close()
    damaged = load(root, Config())
    assert damaged.notes == fresh
    assert damaged.stats.cached == 0 and damaged.stats.parsed == 2


def _finding(path: str, data: dict[str, object], edits: tuple[Edit, ...] = ()) -> Finding:
    return Finding("KB202", "duplicate-claim", "warning", path, _span(3), "repeats x", data, edits=edits).with_fingerprint("w")


def test_findings_round_trip_exactly_whatever_their_data_holds() -> None:
    from kbmine.codec import decode_findings, encode_findings

    edit = Edit("a.md", 3, 10, b"old \xff", "new é".encode(), "link it")
    findings = [
        _finding("a.md", {"others": [{"path": "b.md", "line": 3, "similarity": 0.91}], "words": 40}, (edit, edit)),
        _finding("b.md", {"status": "draft", "since": dt.date(2024, 5, 1)}),  # a date: pickled on its own
        _finding("c\udcff.md", {"title": _Named("Named"), "nan": float("nan")}),
        _finding("d.md", {}),
    ]
    decoded = decode_findings(encode_findings(findings))
    assert decoded is not None
    assert [repr(f) for f in decoded] == [repr(f) for f in findings]
    assert type(decoded[2].data["title"]) is _Named and decoded[1].data["since"] == dt.date(2024, 5, 1)
    with pytest.raises(FrozenInstanceError):
        decoded[0].path = "x"  # type: ignore[misc]
    assert decode_findings(encode_findings([])) == []


@pytest.mark.parametrize("blob", [b"", b"kbmine-findings-m1:", b"kbmine-findings-m1:\x00garbage", pickle.dumps([1]), "text"])
def test_anything_else_is_no_findings(blob: object) -> None:
    from kbmine.codec import decode_findings

    assert decode_findings(blob) is None  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=8),
            st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.floats(allow_nan=False), st.none()), max_size=3),
            st.integers(0, 1000),
        ),
        max_size=6,
    )
)
def test_any_findings_round_trip(rows: list[tuple[str, dict[str, object], int]]) -> None:
    from kbmine.codec import decode_findings, encode_findings

    findings = [
        Finding("KB101", "broken-link", "error", path, _span(start), f"m{start}", data, edits=(Edit(path, start, start + 1, b"a", b"b"),))
        for path, data, start in rows
    ]
    assert decode_findings(encode_findings(findings)) == findings
