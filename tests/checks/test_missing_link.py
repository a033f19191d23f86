"""missing-link's evidence that a phrase names a note: entries, title capitals, link votes, left-behind definitions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kbmine.checks import run_checks, select_rules
from kbmine.checks.missing_link import (
    FULL_NOTE,
    NAMED,
    ORDINARY,
    SENTENCE_START,
    WRITTEN,
    MentionMatcher,
    MentionTable,
    _entry,
    fold_name,
    limit_of_common,
    prose_bytes,
)
from kbmine.config import load_config
from kbmine.kb import load
from kbmine.model import Finding

#: Three notes write "tool loop" unlinked and min_common is 2: the phrase is a common word there.
COMMON = {
    "kbmine.toml": "[rules.missing-link]\nmin_common = 2\nmax_share = 0.0\n",
    "tool-loop.md": "# Tool loop\n",
    "a.md": "The tool loop runs. [B](b.md)\n",
    "b.md": "# B\n\nA tool loop again.\n",
    "c.md": "Every tool loop ends.\n",
}


def _findings(root: Path) -> list[Finding]:
    kb = load(root, load_config(root), use_cache=False)
    return run_checks(kb, select_rules(["missing-link"]))


def _found(root: Path) -> set[tuple[str, str]]:
    return {(f.path, f.data["target"]) for f in _findings(root)}


@pytest.mark.parametrize(
    ("line", "entry"),
    [
        ("- Tool loop - where the agent runs", True),
        ("- Tool loop", True),
        ("1. **Tool loop**: the loop", True),
        ("- [ ] Tool loop (open)", True),
        ("| Tool loop | runs |", True),
        ("| x | Tool loop |", True),
        ("- The Tool loop runs", False),  # not the item's opening
        ("- Tool loop systems are many", False),  # the name is part of a longer phrase
        ("Tool loop - a paragraph, not a list", False),
        ("- Tool loop, the loop", False),  # a comma reads as prose, not a description
    ],
)
def test_an_entry_opens_a_list_item_or_cell_and_ends_or_turns_to_its_description(line: str, entry: bool) -> None:
    start = line.index("Tool loop")
    assert _entry(line, start, start + len("Tool loop")) is entry


def _hows(root: Path, path: str, keys: list[str], titles: dict[str, set[str]], words: dict[str, set[str]] | None = None) -> list[tuple[str, int]]:
    kb = load(root, load_config(root), use_cache=False)
    source = kb.source(path)
    assert source is not None
    matcher = MentionMatcher.build(keys, words or {}, titles)
    return [(mention, how) for _, how, _, mention in matcher.mentions(kb.notes[path], source)]


def test_a_many_word_name_in_its_titles_capitals_mid_sentence_is_named_not_at_a_start_or_after_a_quote(
    make_kb: Callable[..., Path],
) -> None:
    root = make_kb({"a.md": 'As Tool loop shows. Tool loop again. A "Tool loop spec". tool loop.\n'})
    hows = _hows(root, "a.md", ["tool loop"], {"tool loop": {"Tool loop"}})
    assert hows == [("Tool loop", NAMED), ("Tool loop", WRITTEN), ("Tool loop", WRITTEN), ("tool loop", WRITTEN)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("We use schema-and-lint daily.", ["schema-and-lint"]),  # joiners between words read as spaces
        ("We use schema_and.lint daily.", ["schema_and.lint"]),
        ("We use schema and lint daily.", ["schema and lint"]),
        ("We use schema -and lint daily.", []),  # a joiner beside a space is not a space
        ("We use schema- and lint daily.", []),
        ("Per e.g. foo it is.", ["e.g. foo"]),  # the name keeps a joiner before a space
        ("Per e.g foo it is.", []),
        ("Per e g. foo it is.", ["e g. foo"]),  # the key itself
        ("Per e.g._foo it is.", []),
        ("Per e.g.-foo it is.", []),
        ("On .net itself.", [".net"]),
        ("On a.net itself.", []),  # the tail of a dotted token
    ],
)
def test_joiners_fold_as_in_names_only_between_word_characters(make_kb: Callable[..., Path], text: str, found: list[str]) -> None:
    root = make_kb({"a.md": text + "\n"})
    keys = [fold_name("Schema and lint"), fold_name("e.g. foo"), fold_name(".net")]
    assert keys == ["schema and lint", "e g. foo", ".net"]
    assert [mention for mention, _ in _hows(root, "a.md", keys, {})] == found


def test_first_keeps_the_first_mention_of_each_name_written_each_way(make_kb: Callable[..., Path]) -> None:
    root = make_kb({"a.md": "Memory is here. The memory and memory. Then Memory, once more memory.\n"})
    kb = load(root, load_config(root), use_cache=False)
    source = kb.source("a.md")
    assert source is not None
    matcher = MentionMatcher.build(["memory"], {"memory": {"Memory"}})
    every = matcher.mentions(kb.notes["a.md"], source)
    first = matcher.mentions(kb.notes["a.md"], source, first=True)
    assert [(how, mention) for _, how, _, mention in every] == [
        (SENTENCE_START, "Memory"), (ORDINARY, "memory"), (ORDINARY, "memory"), (WRITTEN, "Memory"), (ORDINARY, "memory"),
    ]
    assert first == [every[0], every[1], every[3]]


def test_a_one_word_title_opening_a_quote_is_capitalised_by_its_place(make_kb: Callable[..., Path]) -> None:
    root = make_kb({"a.md": 'The note ("Constraining and more") and Constraining here (Constraining, too).\n'})
    hows = _hows(root, "a.md", ["constraining"], {}, {"constraining": {"Constraining"}})
    assert hows == [("Constraining", SENTENCE_START), ("Constraining", WRITTEN), ("Constraining", WRITTEN)]


def test_a_common_phrase_counts_as_a_list_entry_or_in_title_capitals_but_not_in_plain_prose(
    make_kb: Callable[..., Path],
) -> None:
    root = make_kb({**COMMON, "hub.md": "- Tool loop - runs\n", "d.md": "Then, as Tool loop shows, it yields.\n"})
    assert _found(root) == {("hub.md", "tool-loop.md"), ("d.md", "tool-loop.md")}


def test_a_phrase_many_notes_write_as_an_entry_is_a_template_field_not_a_name(make_kb: Callable[..., Path]) -> None:
    """Three notes share the form's field "- **Tool loop:** ...": written as an entry as often as in prose."""
    fields = {f"form-{index}.md": f"- **Tool loop:** value {index}\n" for index in range(3)}
    root = make_kb({**COMMON, **fields})
    assert _found(root) == set()


#: Two notes titled alike; x.md links one of them by that title, z.md writes the title unlinked.
SHARED = {
    "reviews/awm.md": "# Agent Workflow Memory\n",
    "sources/awm.md": "# Agent Workflow Memory\n",
    "x.md": "See [Agent Workflow Memory](reviews/awm.md).\n",
    "z.md": "Compare Agent Workflow Memory with others. [X](x.md)\n",
}


def test_link_votes_choose_among_notes_sharing_a_title_when_two_notes_agree(make_kb: Callable[..., Path]) -> None:
    assert _found(make_kb({**SHARED, "y.md": "Also [Agent Workflow Memory](reviews/awm.md).\n"})) == {
        ("z.md", "reviews/awm.md")
    }


def test_link_votes_from_one_note_choose_nothing(make_kb: Callable[..., Path]) -> None:
    assert _found(make_kb(SHARED)) == set()


def test_link_votes_do_not_choose_between_two_files_of_one_name(tmp_path: Path) -> None:
    """Two ``link-vocabulary.md`` files titled otherwise: the phrase is neither's title."""
    root = tmp_path / "kb"
    files = {
        "reference/link-vocabulary.md": "# Link vocabulary and approach\n",
        "reports/link-vocabulary.md": "# Link vocabulary audit\n",
        "x.md": "See [link vocabulary](reference/link-vocabulary.md).\n",
        "y.md": "Also [link vocabulary](reference/link-vocabulary.md).\n",
        "z.md": "Normalise the link vocabulary first. [X](x.md)\n",
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    assert _found(root) == set()


def test_a_short_name_counts_only_as_its_capitalised_title_mid_sentence(make_kb: Callable[..., Path]) -> None:
    root = make_kb({
        "exo.md": "# Exo\n",
        "mcp.md": "# foam mcp\n",
        "a.md": "It runs on Exo today. [B](b.md)\n",
        "b.md": "# B\n\nExo is small. An exo skeleton.\n",
        "c.md": "Run mcp or MCP. [B](b.md)\n",
    })
    assert _found(root) == {("a.md", "exo.md")}


def test_a_definition_left_behind_declares_the_link_unless_the_note_still_links_there(
    make_kb: Callable[..., Path],
) -> None:
    root = make_kb({
        "cli.md": "# Foam CLI\n\nRun mcp to serve agents.\n\n[mcp]: mcp.md 'foam mcp'\n",
        "linked.md": "Run mcp, see [[mcp]].\n\n[mcp]: mcp.md 'foam mcp'\n",
        "used.md": "Run mcp, see [the server][mcp].\n\n[mcp]: mcp.md\n",
        "quiet.md": "Run mcp.\n\n[tpl]: templates.md\n",
        "mcp.md": "# foam mcp\n",
        "templates.md": "---\nkbmine:\n  mention: false\n---\n# Templates\n",
    })
    findings = _findings(root)
    assert [(f.path, f.data["target"], f.span.line, f.span.column) for f in findings] == [("cli.md", "mcp.md", 3, 5)]
    assert findings[0].edits[0].new == b"[mcp](mcp.md)"


def test_a_one_word_file_name_as_a_table_or_list_entry_names_its_note_but_not_as_a_column_header(
    make_kb: Callable[..., Path],
) -> None:
    root = make_kb({
        "outline.md": "# foam outline\n",
        "cli.md": "# CLI\n\n| Command | Does |\n| --- | --- |\n| outline | Show the headings |\n\n[[other]]\n",
        "items.md": "- outline - the headings\n\n[[other]]\n",
        "field.md": "- outline: the headings (a field, not a list of notes)\n\n[[other]]\n",
        "header.md": "| outline | size |\n| --- | --- |\n| a | b |\n\n[[other]]\n",
        "prose.md": "An outline of the plan. [[other]]\n",
        "other.md": "# Other\n",
    })
    assert _found(root) == {("cli.md", "outline.md"), ("items.md", "outline.md")}


@pytest.mark.parametrize(("linking", "found"), [(3, True), (2, False)])
def test_a_generic_name_counts_as_an_entry_once_enough_notes_link_it_by_that_word_never_in_prose(
    make_kb: Callable[..., Path], linking: int, found: bool
) -> None:
    notes = {f"link-{index}.md": "Start from [[templates]].\n" for index in range(linking)}
    root = make_kb({
        **notes,
        "templates.md": "# Note Templates\n",
        "hub.md": "- templates - start here\n- [[other]]\n",
        "a.md": "Use templates often. [[other]]\n",
        "other.md": "# Other\n",
    })
    assert _found(root) == ({("hub.md", "templates.md")} if found else set())


#: A paragraph of exactly 2,000 bytes of prose that names no note: a quarter of a whole note.
FILLER = ("Plain words fill this paragraph and name nothing at all. " * 36)[:1999] + "."


def _common_limit(root: Path) -> int:
    kb = load(root, load_config(root), use_cache=False)
    table = MentionTable.build(kb, kb.config.rule_options("missing-link"))
    assert table is not None
    return table.common


def test_the_common_word_limit_counts_each_note_by_its_prose_up_to_a_whole_note(make_kb: Callable[..., Path]) -> None:
    assert len(FILLER.encode()) == 2_000 and FULL_NOTE == 8_000
    root = make_kb({
        "kbmine.toml": "[rules.missing-link]\nmin_common = 0\nmax_share = 1.0\n",
        "long.md": "# Long\n\n" + "\n\n".join([FILLER] * 12) + "\n",  # three notes' worth: counts as one
        **{f"short-{index}.md": f"# Short {index}\n\n{FILLER}\n" for index in range(4)},  # a quarter each
        "empty.md": "# Empty\n\n```\ncode is not prose\n```\n",
    })
    assert _common_limit(root) == 2
    kb = load(root, load_config(root), use_cache=False)
    assert limit_of_common({"min_common": 0, "max_share": 0.5}, prose_bytes(kb.notes.values())) == 1
    assert limit_of_common({"max_share": 0.5}, prose_bytes(kb.notes.values())) == 10  # min_common's default floor


def test_splitting_notes_does_not_change_which_names_are_common(make_kb: Callable[..., Path]) -> None:
    """Eight notes of two paragraphs each, then each split in two: the same prose in twice the notes.

    "tool loop" is written unlinked in three notes, "vector store" in two;
    the limit is 60% of four whole notes' prose, 2 notes. Counted one per
    note it would have gone from 6 to 10 notes (10 notes, then 18). By
    prose nothing moves: "tool loop" stays common, "vector store" a mention.
    """
    def paragraph(index: int) -> str:
        name = "tool loop" if index < 3 else "vector store" if index < 5 else "plain prose"
        return f"Here the {name} runs. " + FILLER[: 2_000 - len(f"Here the {name} runs. ")]

    whole = {
        "kbmine.toml": "[rules.missing-link]\nmin_common = 1\nmax_share = 0.6\n",
        "tool-loop.md": "# Tool loop\n",
        "vector-store.md": "# Vector store\n",
        **{f"n{index}.md": f"{paragraph(index)}\n\n{FILLER}\n" for index in range(8)},
    }
    root = make_kb(whole)
    before = (_common_limit(root), _found(root))
    assert before == (2, {("n3.md", "vector-store.md"), ("n4.md", "vector-store.md")})
    split = {
        **{f"n{index}.md": f"{paragraph(index)}\n\n[[n{index}-rest]]\n" for index in range(8)},
        **{f"n{index}-rest.md": f"{FILLER}\n" for index in range(8)},
    }
    make_kb(split)
    assert (_common_limit(root), _found(root)) == before

