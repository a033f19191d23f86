"""Titles, first sentences and plain text for the notes extract and synthesise write (golden cases)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbmine.mutate.prose import (
    block_marker,
    first_sentence,
    plain_text,
    title_from,
    without_label,
)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("One claim here. Another one.", "One claim here."),
        ("Packer et al. (2023) wrote it. Then more.", "Packer et al. (2023) wrote it."),
        ("See J. Smith on this, e.g. Fig. 2 and more. Next.", "See J. Smith on this, e.g. Fig. 2 and more."),
        ("61. Charles Packer wrote MemGPT. In 2023.", "61. Charles Packer wrote MemGPT."),
        ("Rules vary. `kb/notes/` is one.", "Rules vary."),
        ("[The lesson](../a.md) has two modes. [The reading](b.md) says so.", "[The lesson](../a.md) has two modes."),
        ("no capital after. the period", "no capital after. the period"),
        ("Only one sentence", "Only one sentence"),
        ("**`--index` semantics preserved.** When it is given.", "**`--index` semantics preserved.**"),
        ('He said "stop." Then left.', 'He said "stop."'),
    ],
)
def test_first_sentence(text: str, sentence: str) -> None:
    assert first_sentence(text) == sentence


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("**Actionable** is the term", "Actionable is the term"),
        ("[Reach](./definitions/reach.md) is *not* `code`", "Reach is not code"),
        ("[[target|the label]] and [[other#Part]] and [ref][1]", "the label and other and ref"),
        ("- a list\n  item", "a list item"),
        ("12. numbered", "numbered"),
        ("snake_case_name stays", "snake_case_name stays"),
    ],
)
def test_plain_text(markdown: str, plain: str) -> None:
    assert plain_text(markdown) == plain


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        ("Short claims stay whole.", "Short claims stay whole"),
        (
            "A retained theory is worth more than an equivalent pile of cases because one revision changes many.",
            "A retained theory is worth more than an equivalent pile of cases",
        ),
        (
            "Retrieval quality depends less on the embedding model than on how the notes are cut into passages.",
            "Retrieval quality depends less on the embedding model",
        ),
        (
            "Continual learning requires governing behaviour-changing writes, not just storing them, so it holds.",
            "Continual learning requires governing behaviour-changing writes, not just storing them",
        ),
        ("Reach is not intrinsically an LLM-only capability; it is general.", "Reach is not intrinsically an LLM-only capability"),
        (
            "Summary gets a one-line lint count (e.g. Schema: 5 errors and 2 warnings in the report header).",
            "Summary gets a one-line lint count",
        ),
        ("By section (top 10 of the sections in the knowledge base by their count of notes)", "By section top 10 of the sections in the knowledge base"),
        (
            "one two three four five six seven eight nine ten of the twelve thirteen fourteen",
            "One two three four five six seven eight nine ten",
        ),
    ],
)
def test_title_is_cut_at_a_clause_boundary_and_never_dangles(sentence: str, title: str) -> None:
    assert title_from(sentence) == title


def test_block_marker() -> None:
    assert [block_marker(t) for t in ("- item", "  12. item", "> > quote", "* [x] done", "plain")] == [
        "- ",
        "  12. ",
        "> > ",
        "* [x] ",
        "",
    ]


@given(st.text(max_size=200))
def test_title_is_at_most_twelve_words_and_one_line(text: str) -> None:
    title = title_from(first_sentence(plain_text(text)))
    assert len(title.split()) <= 12 and "\n" not in title


@pytest.mark.parametrize(
    ("markdown", "title"),
    [
        ("**Why:** Fields like `style` are parser internals. More.", "Fields like style are parser internals"),
        ("*Note*: this holds.", "This holds"),
        ("Plain: not a label.", "Plain: not a label"),
        (
            (
                "Missing: `a/one.md`, `b/two-long-name.md`, `c/three-longer-name.md`, `d/four-much-longer-name.md`, "
                "`e/five-even-longer-name.md`, `f/six.md`."
            ),
            "Missing: a/one.md, b/two-long-name.md, c/three-longer-name.md, d/four-much-longer-name.md",
        ),
    ],
)
def test_labels_are_dropped_and_long_titles_are_capped(markdown: str, title: str) -> None:
    assert title_from(plain_text(first_sentence(without_label(markdown)))) == title
