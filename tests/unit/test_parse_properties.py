"""Property tests: random notes built from known pieces parse to exactly the links planted.

A note is assembled from blocks (paragraphs, headings, lists, quotes, tables,
fenced and indented code), each holding random unicode text and random link
forms (inline, angle-bracket, image, reference, autolink, wikilink, alias,
anchor, embed). Links planted outside code must all be found, with the exact
bytes as ``raw``; links planted inside code (fences, indented code, code
spans) must not be. Frontmatter, CRLF / CR / mixed line endings and a BOM are
optional; notes are generated for each dialect (Dendron's aliases label first).
Then: links split across lines inside containers, and random bytes / markdown
soup that must never make ``parse_note`` raise.
"""

from __future__ import annotations

import pickle
from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbmine.model import Note, Span
from kbmine.parse import parse_note

from kbunit import check_span

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Letters only (ASCII and not): safe at the start of a line and inside targets.
LETTERS = "abcxyzABQéßΩжкл日本語中文😀🎉"
#: Text may also hold spaces, tabs and no-break spaces between words.
WORD = st.text(alphabet=LETTERS, min_size=1, max_size=8)
GAP = st.sampled_from([" ", "  ", " \t ", "\u00a0 "])

#: Inline markup around plain words: none of it is a link, none of it hides one.
DECORATION = st.sampled_from(
    ["*{}*", "**{}**", "_{}_", "~~{}~~", "\\*{}", "&amp;{}", "&#35;{}", "<b>{}</b>", "<!-- {} -->", "$x$ {}", "{}\\"]
)
#: What may surround a link without changing that it is one.
WRAPPER = st.sampled_from(["{}", "{}", "{}", "*{}*", "**{}**", "_{}_", "~~{}~~", "<b>{}</b>", "({})", "\"{}\""])

Expected = tuple[str, str, str, str | None, bool]  # kind, raw, target, anchor, is_embed


@dataclass
class Context:
    """What the whole note's generation shares: the dialect and the reference labels used."""

    dialect: str
    refs: list[int] = field(default_factory=list)


@dataclass
class Doc:
    """What a block contributes: its lines, the links planted in prose, reference definitions."""

    lines: list[str] = field(default_factory=list)
    planted: list[Expected] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)


@st.composite
def text_run(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORD, min_size=1, max_size=4))
    return "".join(w + draw(GAP) for w in words[:-1]) + words[-1]


@st.composite
def link_form(draw: st.DrawFn, ctx: Context, in_table: bool = False) -> tuple[str, Expected | None, str | None]:
    """A random link: its text, what the parser must report, and a definition it needs."""
    target = draw(WORD)
    label = draw(text_run())
    anchor = draw(WORD)
    form = draw(
        st.sampled_from(
            [
                "inline",
                "inline-anchor",
                "angle",
                "image",
                "reference",
                "autolink",
                "wiki",
                "wiki-alias",
                "wiki-anchor",
                "wiki-block",
                "embed",
            ]
        )
    )
    if form == "inline":
        raw = f"[{label}]({target}.md)"
        return raw, ("markdown", raw, f"{target}.md", None, False), None
    if form == "inline-anchor":
        raw = f"[{label}]({target}.md#{anchor})"
        return raw, ("markdown", raw, f"{target}.md", anchor, False), None
    if form == "angle":
        raw = f"[{label}](<{target} {anchor}.md>)"
        return raw, ("markdown", raw, f"{target} {anchor}.md", None, False), None
    if form == "image":
        raw = f"![{label}]({target}.png)"
        return raw, ("markdown", raw, f"{target}.png", None, True), None
    if form == "reference":
        number = len(ctx.refs)
        ctx.refs.append(number)
        raw = f"[{label}][ref{number}]"
        return raw, ("reference", raw, f"{target}.md", None, False), f"[ref{number}]: {target}.md"
    if form == "autolink":
        raw = "<https://example.com/" + draw(st.text(alphabet="abc123", min_size=1, max_size=5)) + ">"
        return raw, ("autolink", raw, raw[1:-1], None, False), None
    if form == "wiki":
        raw = f"[[{target}]]"
        return raw, ("wikilink", raw, target, None, False), None
    if form == "wiki-alias":
        bar = "\\|" if in_table else "|"
        raw = f"[[{label}{bar}{target}]]" if ctx.dialect == "dendron" else f"[[{target}{bar}{label}]]"
        return raw, ("wikilink", raw, target, None, False), None
    if form == "wiki-anchor":
        raw = f"[[{target}#{anchor}]]"
        return raw, ("wikilink", raw, target, anchor, False), None
    if form == "wiki-block":
        raw = f"[[{target}#^{draw(st.text(alphabet='abc123', min_size=1, max_size=5))}]]"
        return raw, ("wikilink", raw, target, raw[len(target) + 3 : -2], False), None
    raw = f"![[{target}]]"
    return raw, ("wikilink", raw, target, None, True), None


@st.composite
def inline(draw: st.DrawFn, ctx: Context, in_table: bool = False) -> Doc:
    """One line of inline content: starts with a word, mixes text, links and code spans."""
    doc = Doc()
    parts = [draw(WORD)]
    for _ in range(draw(st.integers(0, 4))):
        choice = draw(st.sampled_from(["text", "decorated", "link", "link", "code"]))
        if choice == "text":
            parts.append(draw(text_run()))
        elif choice == "decorated":
            parts.append(draw(DECORATION).format(draw(WORD)))
        elif choice == "link":
            raw, expected, definition = draw(link_form(ctx, in_table))
            # links may sit inside emphasis, strikethrough or inline HTML
            parts.append(draw(WRAPPER).format(raw))
            if expected:
                doc.planted.append(expected)
            if definition:
                doc.definitions.append(definition)
        else:
            raw, _, definition = draw(link_form(ctx, in_table))
            # a link inside a code span is no link, and its definition (if any) is then unused
            parts.append(f"`{raw}`")
            if definition:
                doc.definitions.append(definition)
                target = definition.split(": ", 1)[1]
                doc.planted.append(("definition", definition, target, None, False))
    doc.lines.append(" ".join(parts))
    return doc


def merge(into: Doc, other: Doc, prefix: str = "") -> None:
    into.lines.extend(prefix + line for line in other.lines)
    into.planted.extend(other.planted)
    into.definitions.extend(other.definitions)


@st.composite
def block(draw: st.DrawFn, ctx: Context) -> Doc:
    kind = draw(st.sampled_from(["paragraph", "heading", "list", "quote", "table", "fence", "indented"]))
    doc = Doc()
    if kind == "paragraph":
        for _ in range(draw(st.integers(1, 3))):
            merge(doc, draw(inline(ctx)))
    elif kind == "heading":
        line = draw(inline(ctx))
        merge(doc, line, "#" * draw(st.integers(1, 6)) + " ")
    elif kind == "list":
        marker = draw(st.sampled_from(["- ", "* ", "1. "]))
        depth = 0
        for index in range(draw(st.integers(1, 3))):
            # each item nests at most one level deeper than the previous one
            depth = draw(st.integers(0, depth + 1)) if index else 0
            merge(doc, draw(inline(ctx)), " " * len(marker) * depth + marker)
    elif kind == "quote":
        for _ in range(draw(st.integers(1, 3))):
            merge(doc, draw(inline(ctx)), draw(st.sampled_from(["> ", ">", "> > "])))
    elif kind == "table":
        columns = draw(st.integers(1, 3))
        doc.lines.append("| " + " | ".join(draw(WORD) for _ in range(columns)) + " |")
        doc.lines.append("|" + "---|" * columns)
        for _ in range(draw(st.integers(1, 3))):
            cells = []
            for _ in range(columns):
                cell = draw(inline(ctx, in_table=True))
                cells.append(cell.lines[0])
                doc.planted.extend(cell.planted)
                doc.definitions.extend(cell.definitions)
            doc.lines.append("| " + " | ".join(cells) + " |")
    else:
        body: list[str] = []
        for _ in range(draw(st.integers(1, 3))):
            raw, _, definition = draw(link_form(ctx))
            body.append(draw(WORD) + " " + raw)
            if definition:
                # the reference in code is no use of the definition: it stays a link of its own
                doc.definitions.append(definition)
                doc.planted.append(("definition", definition, definition.split(": ", 1)[1], None, False))
        if kind == "fence":
            fence = draw(st.sampled_from(["```", "~~~", "````"]))
            doc.lines = [fence + draw(st.sampled_from(["", "python", "md"])), *body, fence]
        else:
            # an indented code block must not continue a list item: a paragraph goes first
            doc.lines = [draw(WORD), "", *("    " + line for line in body)]
    return doc


@st.composite
def note(draw: st.DrawFn, dialect: str = "obsidian") -> tuple[bytes, list[Expected]]:
    ctx = Context(dialect)
    doc = Doc()
    front: list[str] = []
    if draw(st.booleans()):
        front = ["---", f"title: {draw(WORD)}"]
        if draw(st.booleans()):
            target = draw(WORD)
            raw = f"[[{target}]]"
            front.append(f'up: "{raw}"')
            doc.planted.append(("wikilink", raw, target, None, False))
        if draw(st.booleans()):
            target = draw(WORD)
            front.append(f'# commented: "[[{target}]]"')
        front.append("---")
    blocks = draw(st.lists(block(ctx), min_size=0, max_size=6))
    body: list[str] = []
    for item in blocks:
        if body:
            body.append("")
        body.extend(item.lines)
        doc.planted.extend(item.planted)
        doc.definitions.extend(item.definitions)
    if doc.definitions:
        body.append("")
        body.extend(doc.definitions)
    lines = front + body
    style = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    out: list[str] = []
    for line in lines:
        newline = style
        if style == "mixed":
            # "\r" then an empty line ended by "\n" would read as one "\r\n": one newline, not two
            after_cr = bool(out) and out[-1] == "\r" and not line
            newline = draw(st.sampled_from(["\r\n", "\r"] if after_cr else ["\n", "\r\n", "\r"]))
        out.append(line)
        out.append(newline)
    if out and draw(st.booleans()):
        out.pop()  # no newline at the end of the file
    text = "".join(out)
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data, doc.planted


def summary(links: object) -> Counter[Expected]:
    return Counter((l.kind, l.raw, l.target, l.anchor, l.is_embed) for l in links)  # type: ignore[attr-defined]


@SETTINGS
@given(st.sampled_from(["obsidian", "foam", "dendron"]).flatmap(lambda d: st.tuples(st.just(d), note(d))))
def test_planted_links_are_found_exactly(sample: tuple[str, tuple[bytes, list[Expected]]]) -> None:
    dialect, (data, planted) = sample
    parsed = parse_note("gen/note.md", data, dialect)
    assert parsed.problems == ()
    # every link's raw text is its bytes, at the line and column its offset says
    for link in parsed.links:
        check_span(data, link)
    # every link planted outside code is found, none planted inside code is
    assert summary(parsed.links) == Counter(planted)
    # spans are inside the file, in file order (definitions come last here) and disjoint
    spans = [(l.span.start, l.span.end) for l in parsed.links]
    assert spans == sorted(spans)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end <= start
    for start, end in spans:
        assert 0 <= start < end <= len(data)
    # body links lie outside every code range
    for link in parsed.links:
        if link.in_frontmatter or link.kind == "definition":
            continue
        for start, end in parsed.code_ranges:
            assert not (start <= link.span.start < end), (link, parsed.code_ranges)
    # a parsed note survives the parse cache's pickling unchanged
    assert pickle.loads(pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)) == parsed


@SETTINGS
@given(st.binary(max_size=400))
def test_parse_never_raises_on_random_bytes(data: bytes) -> None:
    parsed = parse_note("rand.md", data)
    for link in parsed.links:
        assert 0 <= link.span.start <= link.span.end <= len(data)
    assert parsed.size == len(data)


MARKDOWN_ALPHABET = st.sampled_from(
    list("[]()<>!`$#^|\\*_-~:.\"' \t\n\r{}=+ab1é日😀") + ["[[", "]]", "](", "---\n", "```", "\r\n", "    ", "> ", "- "]
)


@SETTINGS
@given(st.lists(MARKDOWN_ALPHABET, max_size=80).map("".join), st.sampled_from(["obsidian", "foam", "dendron"]))
def test_parse_never_raises_and_raw_matches_bytes_on_markdown_soup(text: str, dialect: str) -> None:
    data = text.encode("utf-8")
    parsed = parse_note("soup.md", data, dialect)
    for link in parsed.links:
        assert 0 <= link.span.start <= link.span.end <= len(data)
        assert data[link.span.start : link.span.end].decode("utf-8") == link.raw


@st.composite
def split_link_note(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, str]]]:
    """A link whose label or destination runs onto the next line, inside a random container."""
    first, rest = draw(
        st.sampled_from([("", ""), ("> ", "> "), ("> ", ""), ("- ", "  "), ("1. ", "   "), ("> - ", ">   "), ("  ", "  ")])
    )
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    before, w1, w2, after = draw(text_run()), draw(WORD), draw(WORD), draw(WORD)
    target = draw(WORD)
    form = draw(st.sampled_from(["label", "destination", "reference", "image"]))
    expected: list[tuple[str, str]] = []
    definitions = ""
    if form == "label":
        link = f"[{w1}{newline}{rest}{w2}]({target}.md)"
        expected.append(("markdown", link))
    elif form == "destination":
        link = f"[{w1} {w2}]({newline}{rest}{target}.md)"
        expected.append(("markdown", link))
    elif form == "image":
        link = f"![{w1}{newline}{rest}{w2}]({target}.png)"
        expected.append(("markdown", link))
    else:
        link = f"[{w1}{newline}{rest}{w2}][r]"
        expected.append(("reference", link))
        definitions = f"{newline}{newline}[r]: {target}.md{newline}"
    trailing = f" {after} [[{after}]]"
    expected.append(("wikilink", f"[[{after}]]"))
    text = f"{draw(WORD)}{newline}{newline}{first}{before} {link}{trailing}{definitions}"
    return text.encode("utf-8"), expected


@SETTINGS
@given(split_link_note())
def test_links_split_across_lines_in_containers(sample: tuple[bytes, list[tuple[str, str]]]) -> None:
    data, expected = sample
    parsed = parse_note("split.md", data)
    for link in parsed.links:
        check_span(data, link)
    assert [(l.kind, l.raw) for l in parsed.links] == expected


def test_parsing_notes_together_gives_the_notes_parsed_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """parse_notes signs passages of many notes at once (in chunks); each note must come out as alone."""
    import kbmine.parse
    from kbmine.parse import parse_notes

    monkeypatch.setattr(kbmine.parse.notes, "_SIGN_CHUNK", 5000)  # many chunks, boundaries inside notes

    words = " ".join(f"word{i}" for i in range(60))
    notes = [
        ("a.md", f"# A\n\n{words}\n\n- short item\n\n{words} more [[b]]\n".encode()),
        ("b.md", b"no passages here\n"),
        ("bad.md", b"\xff\xfe\x00binary\x00"),
        ("c.md", ("---\ntitle: C\n---\n" + (words + "\n\n") * 300).encode()),
    ]
    together = parse_notes(notes)
    assert together == [parse_note(path, data) for path, data in notes]
    assert together[0].passages and len(together[3].passages) == 300


def _spans(note: Note) -> list[Span]:
    """The spans of a note's links (and their targets), headings and block ids."""
    spans = [span for link in note.links for span in (link.span, link.target_span) if span is not None]
    return spans + [heading.span for heading in note.headings] + [block.span for block in note.blocks]


def _byte_offsets(note: Note) -> list[int]:
    """Every byte offset a note records: its spans, ranges and passages."""
    offsets = [note.body_start] + [end for span in _spans(note) for end in (span.start, span.end)]
    for ranges in (note.code_ranges, note.prose_ranges, note.mention_ranges):
        offsets += [end for pair in ranges for end in pair]
    return offsets + [end for start, stop, *_ in note.passages for end in (start, stop)]


def _lines_and_columns(note: Note) -> list[tuple[int, int, int, int]]:
    return [(span.line, span.column, span.end_line, span.end_column) for span in _spans(note)]


@SETTINGS
@given(
    st.sampled_from(["obsidian", "foam", "dendron"]).flatmap(lambda d: st.tuples(st.just(d), note(d))),
    st.sampled_from(["utf-8-sig", "utf-16-le", "utf-16-be"]),
    st.integers(0, 3),
)
def test_every_byte_offset_is_the_encoded_length_of_the_text_before_it(
    sample: tuple[str, tuple[bytes, list[Expected]]], encoding: str, wide: int
) -> None:
    """The same note stored as UTF-8 and re-encoded (with a BOM, or as UTF-16) parses to the same
    links, headings, blocks, ranges and passages, at the same lines and columns, and every byte
    offset of either is the encoded length of the characters before it: the wide-character index
    (sparse, dense or UTF-16) agrees with encoding the prefix, offset by offset.

    ``wide`` prepends a paragraph of that many lines of CJK text, which makes a short note dense
    in wide characters (the per-character byte table) and pushes every offset past them.
    """
    dialect, (data, _) = sample
    text = data.decode("utf-8-sig")
    if wide:
        text = "漢字かな😀 ok\n" * wide * 20 + "\n" + text
    data = text.encode("utf-8")
    boms = {"utf-8-sig": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}
    other = boms[encoding] + text.encode(encoding)
    plain, reencoded = parse_note("a.md", data, dialect), parse_note("a.md", other, dialect)
    assert plain.problems == reencoded.problems == ()
    assert [(l.kind, l.raw, l.target, l.anchor, l.label) for l in plain.links] == [
        (l.kind, l.raw, l.target, l.anchor, l.label) for l in reencoded.links
    ]
    assert [(h.level, h.text, h.slug) for h in plain.headings] == [(h.level, h.text, h.slug) for h in reencoded.headings]
    assert [b.id for b in plain.blocks] == [b.id for b in reencoded.blocks]
    assert [p[2] for p in plain.passages] == [p[2] for p in reencoded.passages]
    assert _lines_and_columns(plain) == _lines_and_columns(reencoded)
    bom = len(other) - len(text.encode(encoding))
    characters = [len(data[:offset].decode("utf-8")) for offset in _byte_offsets(plain)]  # strict: on boundaries
    assert _byte_offsets(reencoded) == [bom + len(text[:char].encode(encoding)) for char in characters]
