"""Headings, GitHub slugs, explicit ids and block ids."""

from __future__ import annotations

import pytest

from kbmine.slugs import SlugCounter, github_slug, heading_key

from kbunit import parse, span_text


@pytest.mark.parametrize(
    "text, slug",
    [
        ("Hello, World!", "hello-world"),
        ("What's (new)?", "whats-new"),
        ("CAPS Here", "caps-here"),
        ("Über Straße", "über-straße"),
        ("ÉTÉ", "été"),
        ("中文标题", "中文标题"),
        ("Emoji 🎉 party", "emoji--party"),
        ("🎉", ""),
        ("foo - bar", "foo---bar"),
        ("1.2.3", "123"),
        ("a_b-c  d", "a_b-c--d"),
        ("C++ & C#", "c--c"),
        ("already-slugged", "already-slugged"),
        ("Ünïcödé ñ", "ünïcödé-ñ"),
        ("Dots.and/slashes", "dotsandslashes"),
    ],
)
def test_github_slug(text: str, slug: str) -> None:
    assert github_slug(text) == slug


def test_slug_counter_numbers_duplicates() -> None:
    counter = SlugCounter()
    assert [counter.slug(t) for t in ["Dup", "Dup", "Dup", "Other"]] == ["dup", "dup-1", "dup-2", "other"]


def test_slug_counter_skips_slugs_already_taken() -> None:
    counter = SlugCounter()
    assert [counter.slug(t) for t in ["Dup", "Dup-1", "Dup"]] == ["dup", "dup-1", "dup-2"]
    counter = SlugCounter()
    assert [counter.slug(t) for t in ["Dup", "Dup", "Dup 1"]] == ["dup", "dup-1", "dup-1-1"]


def test_heading_key_is_lenient() -> None:
    assert heading_key("  Section   ONE ") == heading_key("section one")
    assert heading_key("Q: what?") == heading_key("Q what")
    assert heading_key("A|B") == "a b"


def test_headings_of_a_note() -> None:
    text = (
        "# Hello, World!\n"
        "## What's (new)?\n"
        "## Use `code` and [link](x.md) and *em* **strong**\n"
        "## with [[wiki]] inside\n"
        "## Dup\n"
        "## Dup\n"
        "### Dup\n"
        "## Custom {#my-id}\n"
        "###### Six\n"
        "####### not a heading\n"
    )
    data = text.encode()
    note = parse(text)
    got = [(h.level, h.text, h.slug, h.explicit_id) for h in note.headings]
    assert got == [
        (1, "Hello, World!", "hello-world", None),
        (2, "What's (new)?", "whats-new", None),
        (2, "Use code and link and em strong", "use-code-and-link-and-em-strong", None),
        (2, "with wiki inside", "with-wiki-inside", None),
        (2, "Dup", "dup", None),
        (2, "Dup", "dup-1", None),
        (3, "Dup", "dup-2", None),
        (2, "Custom", "custom", "my-id"),
        (6, "Six", "six", None),
    ]
    assert [h.span.line for h in note.headings] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert span_text(data, note.headings[1].span) == "## What's (new)?"
    # links inside headings are links too
    assert [l.raw for l in note.links] == ["[link](x.md)", "[[wiki]]"]


def test_closing_hashes_and_spacing() -> None:
    note = parse("## trailing ##\n#   spaced   out   \n")
    assert [(h.text, h.slug) for h in note.headings] == [("trailing", "trailing"), ("spaced   out", "spaced---out")]


def test_setext_headings() -> None:
    text = "Setext One\n==========\n\nSetext two\n----------\n"
    note = parse(text)
    assert [(h.level, h.text, h.slug, h.span.line) for h in note.headings] == [
        (1, "Setext One", "setext-one", 1),
        (2, "Setext two", "setext-two", 4),
    ]
    assert note.h1 == "Setext One"


def test_heading_in_code_is_not_a_heading() -> None:
    note = parse("```\n# not\n```\n\n    # not either\n\n<!--\n# nor this\n-->\n")
    assert note.headings == ()
    assert note.title == "note"


def test_hash_without_space_is_not_a_heading() -> None:
    assert parse("#tag\n").headings == ()


def test_explicit_id_variants() -> None:
    note = parse("## A {#a-1}\n## B { #b:c.d }\n## C {#}\n")
    assert [(h.text, h.explicit_id) for h in note.headings] == [("A", "a-1"), ("B", "b:c.d"), ("C {#}", None)]


def test_block_ids() -> None:
    text = "para one ^blk-1\n\n- item ^item2\n\nnot^ablock\n\nline\ncontinued ^last\n"
    data = text.encode()
    note = parse(text)
    assert [b.id for b in note.blocks] == ["blk-1", "item2", "last"]
    assert span_text(data, note.blocks[0].span) == "^blk-1"
    assert note.blocks[2].span.line == 8


def test_block_id_after_a_table_or_list_on_its_own_paragraph() -> None:
    note = parse("| a |\n|---|\n| b |\n\n^table-id\n")
    assert [b.id for b in note.blocks] == ["table-id"]


def test_block_id_inside_code_is_ignored() -> None:
    assert parse("```\ntext ^nope\n```\n").blocks == ()


def test_heading_positions_with_crlf_and_multibyte() -> None:
    data = "x\r\n## Ünï 😀\r\n".encode()
    note = parse(data)
    (heading,) = note.headings
    assert heading.span.line == 2
    assert span_text(data, heading.span).rstrip() == "## Ünï 😀"
    assert heading.slug == "ünï-"
