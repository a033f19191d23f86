"""Every link syntax the parser knows, with exact byte spans and 1-based code-point positions."""

from __future__ import annotations

import pytest

from kbmine.model import Link
from kbmine.parse import parse_note

from kbunit import check_span, parse, position, span_text, to_bytes


def only_link(content: str | bytes, dialect: str = "obsidian") -> Link:
    data = to_bytes(content)
    note = parse_note("note.md", data, dialect)
    assert len(note.links) == 1, note.links
    link = note.links[0]
    check_span(data, link)
    return link


def links_of(content: str | bytes, dialect: str = "obsidian") -> tuple[Link, ...]:
    data = to_bytes(content)
    note = parse_note("note.md", data, dialect)
    for link in note.links:
        check_span(data, link)
    return note.links


# ---------------------------------------------------------------------------
# inline markdown links


def test_inline_link_with_anchor() -> None:
    text = "see [t](path.md#anchor) now"
    link = only_link(text)
    assert link.kind == "markdown"
    assert link.raw == "[t](path.md#anchor)"
    assert (link.span.start, link.span.end) == (4, 23)
    assert position(b"", link.span) == (1, 5, 1, 24)
    assert link.target == "path.md"
    assert link.anchor == "anchor"
    assert link.label == "t"
    assert not link.is_embed and not link.external
    assert link.target_span is not None
    assert span_text(text.encode(), link.target_span) == "path.md#anchor"


def test_inline_link_angle_brackets_with_spaces() -> None:
    text = "[t](<path with spaces.md>)"
    link = only_link(text)
    assert link.raw == text
    assert link.target == "path with spaces.md"
    assert link.anchor is None
    assert link.target_span is not None
    assert span_text(text.encode(), link.target_span) == "<path with spaces.md>"


def test_percent_encoding_is_decoded_in_target_and_anchor() -> None:
    link = only_link("[t](my%20note.md#some%20heading)")
    assert link.target == "my note.md"
    assert link.anchor == "some heading"


def test_title_is_not_part_of_the_target() -> None:
    text = '[t](x.md "the title")'
    link = only_link(text)
    assert link.raw == text
    assert link.target == "x.md"
    assert link.target_span is not None
    assert span_text(text.encode(), link.target_span) == "x.md"


def test_single_quoted_and_parenthesised_titles() -> None:
    a, b = links_of("[a](x.md 'one') [b](y.md (two))")
    assert (a.target, b.target) == ("x.md", "y.md")
    assert b.raw == "[b](y.md (two))"


def test_query_string_is_dropped_from_local_target() -> None:
    assert only_link("[t](x.md?plain=1#L3)").target == "x.md"


def test_balanced_parentheses_in_destination() -> None:
    link = only_link("[t](a(b).md)")
    assert link.target == "a(b).md"


def test_backslash_escape_in_destination_is_decoded() -> None:
    assert only_link(r"[t](a\_b.md)").target == "a_b.md"


def test_empty_destination_and_anchor_only() -> None:
    link = only_link("[t](#local-heading)")
    assert link.target == ""
    assert link.anchor == "local-heading"


def test_two_links_on_one_line_are_in_order() -> None:
    a, b = links_of("[a](a.md) and [b](b.md)")
    assert (a.span.column, b.span.column) == (1, 15)
    assert a.span.end <= b.span.start


# ---------------------------------------------------------------------------
# reference links and definitions


def test_full_reference_link_and_its_definition() -> None:
    text = "read [the doc][ref] here\n\n[ref]: docs/r.md#part\n"
    data = text.encode()
    (link,) = links_of(text)
    assert link.kind == "reference"
    assert link.raw == "[the doc][ref]"
    assert position(data, link.span) == (1, 6, 1, 20)
    assert link.target == "docs/r.md"
    assert link.anchor == "part"
    assert link.label == "the doc"
    # the target span points into the definition, which is what a repair edits
    assert link.target_span is not None
    assert span_text(data, link.target_span) == "docs/r.md#part"
    assert link.target_span.line == 3


def test_collapsed_reference_link() -> None:
    (link,) = links_of("[ref][]\n\n[ref]: r.md\n")
    assert link.kind == "reference"
    assert link.raw == "[ref][]"
    assert link.target == "r.md"


def test_shortcut_reference_link() -> None:
    (link,) = links_of("a [ref] b\n\n[ref]: r.md\n")
    assert link.kind == "reference"
    assert link.raw == "[ref]"
    assert link.span.column == 3
    assert link.target == "r.md"


def test_reference_labels_match_case_and_whitespace_insensitively() -> None:
    (link,) = links_of("[x][Foo  Bar]\n\n[foo bar]: f.md\n")
    assert link.kind == "reference"
    assert link.target == "f.md"


def test_a_used_definition_is_not_an_extra_link() -> None:
    links = links_of("[a][r] and [b][r]\n\n[r]: r.md\n")
    assert [l.kind for l in links] == ["reference", "reference"]
    assert links[0].target_span == links[1].target_span


def test_an_unused_definition_is_a_definition_link() -> None:
    text = "text\n\n[unused]: u.md#h \"Title\"\n"
    data = text.encode()
    (link,) = links_of(text)
    assert link.kind == "definition"
    assert link.target == "u.md"
    assert link.anchor == "h"
    assert link.label == "unused"
    assert link.span.line == 3 and link.span.column == 1
    assert link.target_span is not None
    assert span_text(data, link.target_span) == "u.md#h"


def test_first_definition_wins() -> None:
    (link,) = links_of("[a][r]\n\n[r]: first.md\n[r]: second.md\n")
    assert link.target == "first.md"


def test_undefined_reference_is_not_a_link() -> None:
    assert links_of("[a][nowhere] and [shortcut]") == ()


def test_definition_with_angle_brackets_inside_block_quote() -> None:
    text = "> [a][r]\n>\n> [r]: <q s.md>\n"
    (link,) = links_of(text)
    assert link.target == "q s.md"
    assert link.target_span is not None
    assert span_text(text.encode(), link.target_span) == "<q s.md>"


def test_reference_image() -> None:
    (link,) = links_of("![alt][img]\n\n[img]: pic.png\n")
    assert link.kind == "reference"
    assert link.is_embed
    assert link.target == "pic.png"


# ---------------------------------------------------------------------------
# images and autolinks


def test_image_is_an_embed() -> None:
    text = "x ![alt text](img/pic.png) y"
    link = only_link(text)
    assert link.kind == "markdown"
    assert link.is_embed
    assert link.raw == "![alt text](img/pic.png)"
    assert link.span.column == 3
    assert link.label == "alt text"
    assert link.target == "img/pic.png"


def test_autolink_is_external() -> None:
    link = only_link("go <https://example.com/a?b=c> now")
    assert link.kind == "autolink"
    assert link.raw == "<https://example.com/a?b=c>"
    assert link.target == "https://example.com/a?b=c"
    assert link.external
    assert link.span.column == 4


def test_email_autolink_is_external() -> None:
    link = only_link("<me@example.com>")
    assert link.kind == "autolink"
    assert link.external


def test_inline_url_link_is_external() -> None:
    link = only_link("[x](https://example.com/page#frag)")
    assert link.external
    assert link.target == "https://example.com/page"


# ---------------------------------------------------------------------------
# wikilinks


def test_plain_wikilink() -> None:
    text = "see [[wikilink]] there"
    link = only_link(text)
    assert link.kind == "wikilink"
    assert link.raw == "[[wikilink]]"
    assert position(b"", link.span) == (1, 5, 1, 17)
    assert link.target == "wikilink"
    assert link.anchor is None and link.label is None
    assert not link.is_embed and not link.external and not link.in_frontmatter
    assert link.target_span is not None
    assert span_text(text.encode(), link.target_span) == "wikilink"


def test_wikilink_with_alias() -> None:
    link = only_link("[[target|the alias]]")
    assert (link.target, link.label, link.anchor) == ("target", "the alias", None)


def test_wikilink_with_heading() -> None:
    link = only_link("[[target#Some Heading]]")
    assert (link.target, link.anchor) == ("target", "Some Heading")


def test_wikilink_with_nested_heading_and_alias() -> None:
    link = only_link("[[target#A#B|label]]")
    assert (link.target, link.anchor, link.label) == ("target", "A#B", "label")


def test_wikilink_with_block_reference() -> None:
    link = only_link("[[target#^block-1]]")
    assert (link.target, link.anchor) == ("target", "^block-1")


def test_same_note_heading_wikilink() -> None:
    link = only_link("[[#Local heading]]")
    assert link.target == ""
    assert link.anchor == "Local heading"


def test_embed_wikilink() -> None:
    text = "x ![[embed.png|200]]"
    link = only_link(text)
    assert link.is_embed
    assert link.raw == "![[embed.png|200]]"
    assert link.span.column == 3
    assert link.target == "embed.png"
    assert link.label == "200"


def test_wikilink_with_escaped_pipe_in_table_cell() -> None:
    text = "| a | b |\n|---|---|\n| [[t\\|alias]] | [[u]] |\n"
    data = text.encode()
    first, second = links_of(text)
    assert first.raw == "[[t\\|alias]]"
    assert (first.target, first.label) == ("t", "alias")
    assert position(data, first.span) == (3, 3, 3, 15)
    assert second.raw == "[[u]]"
    assert second.span.column == 18


def test_escaped_pipes_around_wikilinks_in_a_cell() -> None:
    text = "| h |\n|---|\n| x \\| [[a]] \\| y [[a\\|b]] |\n"
    first, second = links_of(text)
    assert first.raw == "[[a]]" and first.span.column == 8
    assert second.raw == "[[a\\|b]]" and second.span.column == 19
    assert (second.target, second.label) == ("a", "b")


def test_same_wikilink_twice_in_a_table_row() -> None:
    text = "| [[a]] | b [[a]] |\n|--|--|\n| [[a]] | [[a]] |\n"
    links = links_of(text)
    assert [(l.span.line, l.span.column) for l in links] == [(1, 3), (1, 13), (3, 3), (3, 11)]


def test_citation_style_double_bracket_is_a_markdown_link() -> None:
    link = only_link("as shown [[1]](https://example.com/paper)")
    assert link.kind == "markdown"
    assert link.raw == "[[1]](https://example.com/paper)"
    assert link.label == "[1]"
    assert link.external


def test_wikilink_never_spans_lines() -> None:
    assert [l.kind for l in links_of("[[not\na link]]")] == []


def test_empty_wikilink_is_not_a_link() -> None:
    assert links_of("[[]] and [[   ]]") == ()


def test_wikilink_inside_emphasis() -> None:
    first, second = links_of("**bold [[x]]** _it [[y]]_")
    assert (first.raw, first.span.column) == ("[[x]]", 8)
    assert (second.raw, second.span.column) == ("[[y]]", 20)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("[f](file:///etc/passwd)", "markdown"),
        ("<file:///etc/passwd>", "autolink"),
        ("[[file:///etc/passwd]]", "wikilink"),
        ("x\n\n[r]: file:///etc/passwd\n", "definition"),
        ("[j](javascript:alert(1))", "markdown"),
    ],
)
def test_dangerous_schemes_are_still_links(text: str, kind: str) -> None:
    # markdown-it would refuse to render these; kbmine must still see them to report them
    (link,) = links_of(text)
    assert link.kind == kind
    assert link.external


def test_url_wikilink_is_external() -> None:
    link = only_link("[[https://example.com]]")
    assert link.external


# ---------------------------------------------------------------------------
# nothing inside code, math, comments or HTML is a link

NOT_LINKS = {
    "backtick fence": "```\n[[a]] [b](c.md) <https://x.y>\n```\n",
    "backtick fence with info": "```python\nx = '[[a]]'  # [b](c.md)\n```\n",
    "tilde fence": "~~~\n[[a]] ![i](c.png)\n~~~\n",
    "long fence holding a short one": "````\n```\n[[a]]\n```\n[[b]]\n````\n",
    "unclosed fence": "```\n[[a]]\n\n[b](c.md)\n",
    "indented code": "para\n\n    [[a]] [b](c.md)\n    more [[c]]\n",
    "code span": "x `[[a]]` and `[b](c.md)` y",
    "double-backtick code span": "x ``a ` [[a]]`` y",
    "code span across lines": "x `[[a]]\n[b](c.md)` y",
    "html comment": "<!-- [[a]] [b](c.md) -->\n",
    "multi-line html comment": "<!--\n[[a]]\n\n[b](c.md)\n-->\n",
    "html block": "<div>\n[[a]] [b](c.md)\n</div>\n",
    "inline html comment": "x <!-- [[a]] --> y",
    "inline math": "x $[[a]]$ y",
    "double dollar inline math": "x $$[[a]]$$ y",
    "math block": "$$\n[[a]] [b](c.md)\n$$\n",
    "fence in list item": "- item\n\n  ```\n  [[a]]\n  ```\n",
    "fence in block quote": "> ```\n> [[a]]\n> ```\n",
}


@pytest.mark.parametrize("text", NOT_LINKS.values(), ids=NOT_LINKS.keys())
def test_nothing_inside_code_is_a_link(text: str) -> None:
    note = parse(text)
    assert note.links == (), note.links


@pytest.mark.parametrize("text", NOT_LINKS.values(), ids=NOT_LINKS.keys())
def test_code_regions_are_recorded(text: str) -> None:
    note = parse(text)
    data = text.encode()
    marker = data.find(b"[[")
    assert marker >= 0
    assert any(start <= marker < end for start, end in note.code_ranges), note.code_ranges


def test_links_around_code_are_still_found() -> None:
    text = "[[before]] `[[inside]]` [[after]]\n\n```\n[[fenced]]\n```\n\n[[last]]\n"
    assert [l.target for l in links_of(text)] == ["before", "after", "last"]


def test_inline_html_tags_do_not_hide_links_between_them() -> None:
    text = "<span>[[a]]</span> [b](c.md)"
    assert [l.raw for l in links_of(text)] == ["[[a]]", "[b](c.md)"]


def test_dollar_with_spaces_is_not_math() -> None:
    # allow_space=False: "$ x $" is plain text, so a link between the dollars counts
    assert [l.target for l in links_of("costs $ 5 [[a]] $ 6")] == ["a"]
