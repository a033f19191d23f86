"""The inline scanner finds exactly the tokens markdown-it would (or declines): examples and generated input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inline_differential import block_tokens_differ, differs, paragraph_contents, read_tokens
from kbmine.parse.inline import scan_inline

REFERENCES = {"REF": {"href": "ref.md", "title": ""}, "A": {"href": "a.md", "title": ""}}

EXAMPLES = [
    "plain text with no syntax at all",
    "[a link](notes/a.md) and [[wiki]] and ![[embed.png|200]] and [[t|alias]]",
    "[outer [inner](x.md)](y.md)",  # the inner link wins; the outer brackets are text
    "[label [[wiki]] more](y.md)",  # a wikilink inside a label kills the outer link
    "[![img](i.png)](target.md)",  # an image inside a link
    "![alt [with](link.md)](img.png)",  # a link inside image alt text (not read)
    "[ref] and [text][ref] and [text][] and [missing] and [a][]",
    "`code [not](a link)` and ``double `tick` code`` and `unclosed [x](y.md)",
    "\\[not a link](x.md) and \\`not code` [yes](z.md)",
    "<https://example.com/a_b> <foo@example.com> <not a link> <a href='x'>tag</a> <!-- c [x](y.md) -->",
    "[multi\nline](a.md) [x](<angle dest.md> \"title\") [y](a.md 'single') [z](a(b)c.md)",
    "[a]( ) [b](   \n) [c](\n  d.md\n  \"t\"\n) [e](f.md \"unclosed)",
    "[[1]](https://doi.org/x) ![[alt]](x.png) [[unclosed and [x](y.md)",
    "[[a]] [[b]] [[[c]]] [[d\\|e]] [[ ]] [[x\n]]",
    "<a <b <c> [x](y.md)",
    "a [b] c [d [e] f](g.md) [h]]] [[i]]]",
    "[ref]([[](  [A](x y) [A](<z)[ref]",  # a failed (...) looks for [ref] one past where it stopped
]


@pytest.mark.parametrize("content", EXAMPLES)
def test_examples_agree_with_markdown_it(content: str) -> None:
    assert differs(content, REFERENCES) is None
    assert differs(content, None) is None


def test_examples_are_scanned_not_declined() -> None:
    for content in EXAMPLES:
        assert scan_inline(content, REFERENCES, "obsidian") is not None, content


def test_the_scanner_finds_what_it_should() -> None:
    tokens = read_tokens(scan_inline("see [a](a.md), [[b|B]] and `c`", None, "obsidian") or [])
    assert [kind for kind, *_ in tokens] == ["link_open", "wikilink", "code_inline"]
    link = dict(tokens[0][1])
    assert link["src"] == (4, 13) and link["dest"] == (8, 12) and link["label_range"] == (5, 6)


@pytest.mark.parametrize("content", ["price $5 and $x$", "a note^[inline footnote [x](y.md)]", "text[^1] more", "deep " + "[" * 12 + "x" + "]" * 12])
def test_unmodelled_syntax_is_declined(content: str) -> None:
    assert scan_inline(content, None, "obsidian") is None


def test_dendron_is_left_to_markdown_it() -> None:
    assert scan_inline("[[a.b]] #tag", None, "dendron") is None


_PIECES = st.sampled_from(
    [
        "[", "]", "(", ")", "!", "<", ">", "`", "``", "\\", "[[", "]]", "|", "#", "a", "b c", " ", "\n", "  \n",
        "x.md", "<x.md>", '"t"', "'t'", "http://e.org", "foo@ex.org", "<a>", "</a>", "<!--", "-->", "<?", "?>",
        "ref", "REF", "A", "][", "](", "![", "![[", "*", "_", "&amp;", "\t", "é", "<br/>", "<![CDATA[", "]]>",
    ]
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=40).map("".join), st.booleans())
def test_generated_content_agrees_with_markdown_it(content: str, with_references: bool) -> None:
    assert differs(content, REFERENCES if with_references else None) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_generated_documents_agree_with_markdown_it(text: str) -> None:
    """Whole documents: the block parse decides what inline content and which references the scanner sees."""
    contents, references = paragraph_contents(text, "obsidian")
    for content in contents:
        assert differs(content, references) is None


_LINE_STARTS = st.sampled_from(
    ["", "", "", " ", "  ", "    ", "\t", "> ", ">", "- ", "* ", "+ ", "1. ", "2) ", "# ", "## ", "```", "~~~", "$$", "<div>", "<!--",
     "[a]: x.md", "[^1]: note", "---", "***", "___", "===", "| a | b |", "-", "10. "]
)
_LINE_REST = st.sampled_from(["", "text", "more words", "[x](y.md)", "`code`", "-->", "</div>", "$$", "```", "a\\", "   "])


@settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(_LINE_STARTS, _LINE_STARTS, _LINE_REST), max_size=25))
def test_block_rule_dispatch_parses_as_markdown_it(lines: list[tuple[str, str, str]]) -> None:
    """Trying only the block rules a line's first character allows gives markdown-it's exact tokens."""
    text = "\n".join(a + b + c for a, b, c in lines)
    assert not block_tokens_differ(text)


@settings(max_examples=800, deadline=None)
@given(st.text(alphabet=" \t\na>-", max_size=40))
def test_line_tables_are_markdown_its(text: str) -> None:
    """The block state's line tables, built from str.split, equal markdown-it's own (tabs, blank last lines)."""
    from markdown_it.rules_block import StateBlock

    from kbmine.parse.markdown import _line_marks, markdown_parser

    state = StateBlock(text, markdown_parser("obsidian"), {}, [])
    assert _line_marks(text) == (state.bMarks, state.eMarks, state.tShift, state.sCount, state.bsCount)
