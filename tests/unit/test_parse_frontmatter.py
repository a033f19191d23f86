"""Frontmatter: wikilinks in values, title and aliases, and every way it can be broken."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kbmine.model import Note
from kbmine.parse import parse_note

from kbunit import check_span, parse, span_text


def fm_problems(note: Note) -> list[tuple[str, str, int]]:
    return [(p.rule, p.severity, p.span.line) for p in note.problems]


# ---------------------------------------------------------------------------
# wikilinks in frontmatter values


def test_wikilinks_in_string_and_list_values() -> None:
    text = '---\nrelated: ["[[x]]", "[[w#h|lab]]"]\nup: "[[y]]"\n---\nbody [[b]]\n'
    data = text.encode()
    note = parse(text)
    assert note.has_frontmatter
    assert note.frontmatter == {"related": ["[[x]]", "[[w#h|lab]]"], "up": "[[y]]"}
    x, w, y, b = note.links
    for link in note.links:
        check_span(data, link)
    assert (x.target, x.in_frontmatter, x.frontmatter_key) == ("x", True, "related")
    assert (x.span.line, x.span.column) == (2, 12)
    assert (w.target, w.anchor, w.label, w.frontmatter_key) == ("w", "h", "lab", "related")
    assert (y.target, y.frontmatter_key, y.span.line, y.span.column) == ("y", "up", 3, 6)
    assert all(l.kind == "wikilink" for l in (x, w, y))
    assert (b.target, b.in_frontmatter, b.frontmatter_key) == ("b", False, None)


def test_block_list_and_nested_mapping_values() -> None:
    text = '---\nlist:\n  - "[[a]]"\n  - "![[emb]]"\nnested:\n  deep:\n    - "[[n]]"\n---\n'
    data = text.encode()
    note = parse(text)
    a, emb, n = note.links
    for link in note.links:
        check_span(data, link)
    assert (a.target, a.frontmatter_key) == ("a", "list")
    assert emb.is_embed and emb.raw == "![[emb]]" and emb.target == "emb"
    assert (n.target, n.frontmatter_key, n.span.line) == ("n", "nested", 7)


def test_wikilink_in_yaml_comment_is_not_a_link() -> None:
    note = parse('---\nup: "[[y]]"\n# down: "[[z]]"\nother: 1 # [[c]]\n---\n')
    assert [l.target for l in note.links] == ["y"]


def test_unquoted_wikilink_is_a_yaml_list_not_a_link() -> None:
    # YAML reads ``up: [[a]]`` as a nested list; there is no string holding a wikilink.
    note = parse("---\nup: [[a]]\n---\n")
    assert note.frontmatter == {"up": [["a"]]}
    assert note.links == ()


def test_frontmatter_is_not_parsed_as_markdown() -> None:
    note = parse('---\nurl: "[t](x.md)"\ncode: "`[[no]]`"\n---\n')
    # markdown syntax in frontmatter is not a link; wikilinks in values are, even in backticks
    assert [(l.kind, l.target) for l in note.links] == [("wikilink", "no")]


def test_frontmatter_in_dendron_is_label_first() -> None:
    note = parse('---\nup: "[[Parent|a.b]]"\n---\n', dialect="dendron")
    (link,) = note.links
    assert (link.target, link.label) == ("a.b", "Parent")


def test_toml_frontmatter() -> None:
    text = '+++\ntitle = "Toml Title"\ntags = ["a"]\nup = "[[t]]"\n+++\n# H\n'
    data = text.encode()
    note = parse(text)
    assert note.has_frontmatter
    assert note.frontmatter == {"title": "Toml Title", "tags": ["a"], "up": "[[t]]"}
    assert note.title == "Toml Title"
    (link,) = note.links
    check_span(data, link)
    assert link.in_frontmatter and link.target == "t" and link.span.line == 4
    assert note.body_start == data.index(b"# H")


def test_dot_dot_dot_closes_yaml_frontmatter() -> None:
    note = parse("---\ntitle: Dots\n...\n# H\n")
    assert note.has_frontmatter and note.title == "Dots"


def test_frontmatter_must_start_on_line_one() -> None:
    note = parse("\n---\ntitle: no\n---\n")
    assert not note.has_frontmatter
    assert note.frontmatter == {}


def test_empty_frontmatter() -> None:
    note = parse("---\n---\nbody\n")
    assert note.has_frontmatter
    assert note.frontmatter == {}
    assert note.problems == ()


# ---------------------------------------------------------------------------
# title and aliases


def test_title_from_frontmatter_beats_h1() -> None:
    note = parse("---\ntitle: '  FM Title '\n---\n# Heading\n")
    assert note.title == "FM Title"
    assert note.h1 == "Heading"


def test_title_from_first_h1() -> None:
    note = parse("intro\n\n## Sub\n\n# First\n\n# Second\n")
    assert note.title == "First"


def test_title_from_setext_h1() -> None:
    assert parse("Setext Title\n===\n").title == "Setext Title"


def test_title_falls_back_to_stem() -> None:
    note = parse_note("folder/my.note.md", b"## only h2\n")
    assert note.title == "my.note"
    assert note.stem == "my.note"


def test_non_string_or_blank_title_is_ignored() -> None:
    assert parse("---\ntitle: 5\n---\n# H\n").title == "H"
    assert parse("---\ntitle: '   '\n---\n").title == "note"


def test_aliases_list() -> None:
    note = parse("---\naliases: [A1, ' A2 ', 3, '']\n---\n")
    assert note.aliases == ("A1", "A2")


def test_aliases_string_and_comma_string() -> None:
    assert parse("---\naliases: solo\n---\n").aliases == ("solo",)
    assert parse("---\naliases: one, two\n---\n").aliases == ("one", "two")
    assert parse("---\nalias: [x]\n---\n").aliases == ("x",)
    assert parse("---\naliases: {a: 1}\n---\n").aliases == ()


# ---------------------------------------------------------------------------
# problems


def test_invalid_yaml_reports_the_right_line() -> None:
    note = parse("---\ntitle: ok\nkey: value: another\nz: 1\n---\n# Body\n")
    assert fm_problems(note) == [("invalid-frontmatter", "error", 3)]
    assert note.frontmatter == {}
    # the body is still parsed
    assert note.title == "Body"


def test_invalid_yaml_line_with_bom_and_crlf() -> None:
    data = b"\xef\xbb\xbf---\r\ntitle: ok\r\nkey: value: another\r\n---\r\n"
    note = parse_note("n.md", data)
    (problem,) = note.problems
    assert problem.rule == "invalid-frontmatter"
    assert problem.span.line == 3
    assert span_text(data, problem.span).rstrip("\r ") == "key: value: another"


def test_tab_indentation_error_line() -> None:
    note = parse("---\na: 1\n\tb: 2\n---\n")
    assert fm_problems(note) == [("invalid-frontmatter", "error", 3)]


@pytest.mark.parametrize(
    "yaml_text, kind",
    [("- a\n- b\n", "list"), ("just a scalar\n", "scalar")],
)
def test_frontmatter_that_is_not_a_mapping(yaml_text: str, kind: str) -> None:
    note = parse(f"---\n{yaml_text}---\n[[body]]\n")
    (problem,) = note.problems
    assert problem.rule == "invalid-frontmatter"
    assert problem.severity == "error"
    assert kind in problem.message
    assert note.frontmatter == {}
    assert [l.target for l in note.links] == ["body"]


def test_duplicate_keys_are_a_warning() -> None:
    note = parse("---\na: 1\nb: 2\na: 3\n---\n")
    assert fm_problems(note) == [("invalid-frontmatter", "warning", 4)]
    assert "'a'" in note.problems[0].message
    assert note.frontmatter == {"a": 3, "b": 2}


def test_duplicate_keys_in_nested_mapping_are_a_warning() -> None:
    note = parse("---\nouter:\n  k: 1\n  k: 2\n---\n")
    assert fm_problems(note) == [("invalid-frontmatter", "warning", 4)]


def test_unclosed_frontmatter_fence() -> None:
    text = "---\ntitle: never closed\n\n# body [[x]]\n"
    note = parse(text)
    (problem,) = note.problems
    assert problem.rule == "invalid-frontmatter"
    assert problem.span.line == 1
    assert (problem.span.start, problem.span.end) == (0, 3)
    assert not note.has_frontmatter
    assert note.frontmatter == {}
    # read as a note without frontmatter: the body link is still found
    assert [l.target for l in note.links] == ["x"]


def test_invalid_toml() -> None:
    note = parse("+++\ntitle = \n+++\n")
    assert fm_problems(note) == [("invalid-frontmatter", "error", 2)]
    assert "TOML" in note.problems[0].message


def test_python_tags_are_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        "---\n"
        f"x: !!python/object/apply:os.system ['touch {marker}']\n"
        f"y: !!python/object/apply:builtins.open ['{marker}', 'w']\n"
        "---\n"
    )
    note = parse(text)
    assert not marker.exists()
    assert [p.rule for p in note.problems] == ["invalid-frontmatter"]
    assert note.frontmatter == {}


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    text = "---\n" + "\n".join(lines) + "\n---\n[[after]]\n"
    started = time.perf_counter()
    note = parse(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert [p.rule for p in note.problems] == ["invalid-frontmatter"]
    assert "alias bomb" in note.problems[0].message
    assert note.frontmatter == {}
    assert [l.target for l in note.links] == ["after"]


def test_small_legitimate_aliases_are_fine() -> None:
    note = parse("---\nbase: &b {k: v}\nuse: *b\n---\n")
    assert note.problems == ()
    assert note.frontmatter == {"base": {"k": "v"}, "use": {"k": "v"}}


@pytest.mark.parametrize("depth", [70, 2000])
def test_deeply_nested_flow_frontmatter_is_refused(depth: int) -> None:
    started = time.perf_counter()
    note = parse("---\nx: " + "[" * depth + "]" * depth + "\n---\n")
    assert time.perf_counter() - started < 2.0
    assert [p.rule for p in note.problems] == ["invalid-frontmatter"]
    assert note.frontmatter == {}


def test_deeply_nested_block_frontmatter_is_refused() -> None:
    body = "".join("  " * i + f"k{i}:\n" for i in range(1, 80))
    note = parse("---\na:\n" + body + "---\n")
    assert [p.rule for p in note.problems] == ["invalid-frontmatter"]


def test_moderate_nesting_is_accepted() -> None:
    note = parse("---\nx: " + "[" * 10 + "1" + "]" * 10 + "\n---\n")
    assert note.problems == ()


def test_dates_and_other_values_become_plain_data() -> None:
    note = parse("---\ndate: 2024-01-02\nn: 1.5\nflag: true\nnone:\n---\n")
    assert note.problems == ()
    assert str(note.frontmatter["date"]) == "2024-01-02"
    assert note.frontmatter["n"] == 1.5 and note.frontmatter["flag"] is True
    assert note.frontmatter["none"] is None


# ---------------------------------------------------------------------------
# unreadable notes


@pytest.mark.parametrize(
    "data",
    [b"hello \xff\xfe world", b"caf\xe9 [[x]]", b"ok\n\xc3(", b"abc\x00def [[x]]", b"\x00\x01\x02\x03"],
    ids=["invalid-utf8", "latin1", "truncated-sequence", "nul", "binary"],
)
def test_unreadable_note_is_a_problem_not_an_exception(data: bytes) -> None:
    note = parse_note("bad.md", data)
    assert [p.rule for p in note.problems] == ["unreadable-note"]
    assert note.links == ()
    assert note.title == "bad"
    assert note.size == len(data)


def test_unreadable_message_names_the_offset() -> None:
    (problem,) = parse_note("bad.md", b"abc\xffdef").problems
    assert "offset 3" in problem.message


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n\n", b"   "])
def test_empty_file_parses_to_an_empty_note(data: bytes) -> None:
    note = parse_note("dir/empty.md", data)
    assert note.problems == ()
    assert note.links == ()
    assert note.headings == ()
    assert note.frontmatter == {}
    assert note.title == "empty"
    assert note.size == len(data)
