"""The block scanner reads exactly what markdown-it's block parse gives the body walk (or declines):
hand-written edge cases and generated documents."""

from __future__ import annotations

import pytest
from block_differential import differs, markdown_it_reading
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kbmine.parse.markdown as markdown_module
from kbmine.parse import parse_note
from kbmine.parse.block import BlockRecord, scan_blocks

EXAMPLES = [
    "",
    "one line",
    "# Title\n\ntext [[link]]\n",
    "para\nlazy\n\n  indented para\n",
    "Setext\n===\n\nTwo\nlines\n---\n\n- item\n---\n",
    "text\n***\n\n___\n- - -\n",
    "```py\ncode [x](y.md)\n```\nafter\n\n~~~~\nunclosed fence\n",
    "```a`b\nnot a fence\n```\n\n  ```\n  indented fence\n   ```\n",
    "    code\n\n    more code\n\n  text\n    lazy code-looking line\n",
    "<div>\nhtml *x*\n\n</div>\n<!-- comment\n\nstill -->\nafter\n<span>inline start</span>\ntext\n",
    "para\n<div>\ninterrupts\n\n<custom-tag>\ndoes not interrupt a paragraph\n",
    "- a\n- b\n  - c\n    - d\n  lazy\n- e\n\n  loose\n+ other list\n",
    "1. one\n2) two\n3. three\n\ntext\n2. no interrupt\n\n10. ten\n   body\n",
    "text\n- interrupts\n\ntext\n-\n\ntext\n1. interrupts too\n",
    "-\n\n  foo\n\n-   \n  bar\n-     code item\n",
    " - one\n  - two\n   - three\n    - four\n     - five continues\n",
    "- [ ] task\n- [x] done\n  - [ ] nested\n* [ ]\n1. [ ] numbered\n\n> - [ ] quoted\n",
    "- # heading in item\n- ```\n  fence in item\n  ```\n- > quote in item\n  > more\n",
    "> quote\nlazy\n> > nested\n>\n> after blank\n\n>quote\n- list\n",
    "> para\n- - -\n> # h\n>     code\n> ```\n> fence\nunquoted\n",
    "- item\n  > quote in item\n  lazy\n- next\n> outer\n",
    "[ref]: dest.md\n[Ref Two]: <dest two.md> 'title'\n[multi]:\n  next.md\n  \"title\n  over lines\"\n",
    "[a]: x.md garbage\n[b]: y.md \"t\" garbage\n[c]:\n\n[d]: z.md\n\"title\"\n[a]: dup.md\n",
    "para\n[not]: a definition here\n\n> [q]: quoted.md\n- [l]: listed.md\n[e\\]sc]: e.md\n[x\n]: broken\n",
    "## closed ##\n#notaheading\n####### seven\n# \n#\n### trailing #s ###   \n## a # b\n",
    "   # indented heading\n    # code\n\\# escaped\n",
    "text  \nhard break\\\nmore\n\n\n\n   \n",
    "* a\n\n  * b\n\n\n* c\n",
    "1. a\n\n   1. b\n      1. c\n         1. d\n",
    "- a\n - b\n  - c\n   - d\n    - e\n",
    ">>> deep\n> > > quote\n>\n>> x\n",
    "a\n    b\n  c\n> d\ne\n",
    "- a\n> b\n- c\n",
    "> a\n    b\n> c\n",
    "<!--\n- not a list\n-->\n<?php x ?>\n<![CDATA[ x ]]>\n<!DOCTYPE html>\n",
    "<script>\n\nx\n</script>\ntext\n<pre>\n\n</pre>\n",
    "  - item\n\n    ```\n    code\n    ```\n\n  continuation\n",
    "Setext in list\n- a\n  ===\n- b\n  ---\n",
    "> Setext in quote\n> ===\n",
    "trailing spaces   \n   \n",
    "last line without newline",
    "- last item without newline",
    "> last quote line\n>",
    "text[^1]\n\n[^1]: a footnote\n    continued\n\n    second paragraph\n[^2]:\nafter\n",
    "text\n[^1]: interrupts the paragraph\n- [^x]: in a list\n> [^q]: not after a quote line\n[^a b]: no\n[^]: no\n",
    "$$\nx^2\n$$\n\n$$ y $$\n$$ z $$ (label)\n$$ a $$ b\n$$\nunclosed\n\n$$\n\n$$\n- $$\n  in item\n  $$\n",
    "text\n$$\nmath does not interrupt a paragraph\n$$\n",
]


@pytest.mark.parametrize("text", EXAMPLES)
def test_examples_agree_with_markdown_it(text: str) -> None:
    assert scan_blocks(text) is not None
    assert differs(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "a\tb",  # tabs: markdown-it's column arithmetic is not modelled
        "- a\n\t- b\n",
        "> " * 25 + "deeper than markdown-it's nesting limit",
    ],
)
def test_unmodelled_constructs_are_declined(text: str) -> None:
    assert scan_blocks(text) is None


def test_records_carry_what_the_walk_reads() -> None:
    scanned = scan_blocks("# Title\n\n- [ ] task\n  more\n\n```\ncode\n```\n[r]: x.md\n")
    assert scanned is not None
    records, env = scanned
    assert records == [
        BlockRecord("inline", 0, 1, "Title", heading=1),
        BlockRecord("inline", 2, 4, "[ ] task\nmore", first_in_item=True),
        BlockRecord("code", 5, 8),
        BlockRecord("definition", 8, 9, meta={"id": "R", "title": "", "url": "x.md", "label": "r"}),
    ]
    assert env == {"references": {"R": {"title": "", "href": "x.md", "map": [8, 9]}}}
    assert (records, env) == markdown_it_reading("# Title\n\n- [ ] task\n  more\n\n```\ncode\n```\n[r]: x.md\n")


@pytest.mark.parametrize("text", EXAMPLES[:12] + EXAMPLES[-4:] + ["a\tb [x](y.md)\n", "- " * 12 + "[[deep]]\n"])
def test_notes_are_the_same_with_and_without_the_scanner(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = ("---\ntitle: T\n---\n" + text).encode()
    monkeypatch.setattr(markdown_module, "USE_BLOCK_SCANNER", False)
    expected = parse_note("n.md", data)
    monkeypatch.setattr(markdown_module, "USE_BLOCK_SCANNER", True)
    assert parse_note("n.md", data) == expected


_PREFIXES = st.sampled_from(["", "", "", " ", "  ", "   ", "    ", "     ", "> ", ">", "> > ", "- ", "* ", "+ ", "1. ", "2) ", "-", "10. "])
_STARTS = st.sampled_from(
    ["", "", "", "# ", "## ", "#", "```", "~~~", "````", "<div>", "</div>", "<!--", "-->", "<span>", "[a]: x.md", "[b]:",
     "[c]: <y z> 'title", "---", "***", "___", "===", "- - -", "-", "| a | b |", "    ", "[x](y.md)", "\\", "$$", "[^1]: ", "[^a]:"]
)
_RESTS = st.sampled_from(["", "", "text", "more words", "[x](y.md)", "`code`", "-->", "</div>", "```", "'", "\"t\"", "#", "  ", "$$", "$$ (l)"])


def _document(lines: list[tuple[str, str, str, str]]) -> str:
    return "\n".join(a + b + c + d for a, b, c, d in lines)


_LINES = st.lists(st.tuples(_PREFIXES, _PREFIXES, _STARTS, _RESTS), max_size=25)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LINES)
def test_generated_documents_agree_with_markdown_it(lines: list[tuple[str, str, str, str]]) -> None:
    """Lists, quotes, fences, headings, HTML, definitions, footnotes, math, indents, blank and lazy lines, mixed."""
    text = _document(lines)
    assert scan_blocks(text) is not None
    assert differs(text) is None


@settings(max_examples=100, deadline=None)
@given(_LINES, st.sampled_from(["\t", "\t- x", ">\tq", "  \t"]))
def test_generated_documents_with_tabs_are_declined(lines: list[tuple[str, str, str, str]], extra: str) -> None:
    """The scanner never reads a tab as spaces: a document with one goes to markdown-it."""
    assert scan_blocks(_document(lines) + "\n" + extra) is None


@settings(max_examples=800, deadline=None)
@given(st.text(alphabet="ab #@-:=%+{}~>\\`*_[]!<&$^\n.()|'\"é", max_size=30), st.sampled_from(["obsidian", "dendron"]))
def test_heading_text_without_inline_syntax_is_its_own_plain_text(content: str, dialect: str) -> None:
    """The walk skips markdown-it's inline parse of such headings: it would give one text token, the content."""
    from kbmine.parse.markdown import _DENDRON_SYNTAX, _INLINE_SYNTAX, markdown_parser

    content = content.strip()
    if (_DENDRON_SYNTAX if dialect == "dendron" else _INLINE_SYNTAX).search(content):
        return
    md = markdown_parser(dialect)
    parsed: list = []
    md.inline.parse(content, md, {}, parsed)
    assert [(token.type, token.content) for token in parsed] == ([("text", content)] if content else [])
