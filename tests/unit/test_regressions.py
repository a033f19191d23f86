"""Regressions: bugs found in review of parsing and resolution, each pinned by a test."""

from __future__ import annotations

from kbmine.parse import parse_note

from kbunit import check_span, resolve_all, to_bytes


def links(text: str | bytes, dialect: str = "obsidian") -> list[tuple[str, str]]:
    data = to_bytes(text)
    note = parse_note("note.md", data, dialect)
    for link in note.links:
        check_span(data, link)
    return [(link.kind, link.raw) for link in note.links]


# 1. Footnote definitions are dropped whole: markdown-it's ``footnote_tail`` core rule
#    runs while inline parsing is still disabled, sees no footnote references and
#    removes every ``footnote_reference_open..close`` token, so nothing inside a
#    ``[^1]: ...`` definition is ever parsed.


def test_links_inside_footnote_definitions_are_found() -> None:
    text = "text[^1]\n\n[^1]: foot [[a]] and [b](c.md)\n    cont [[d]]\n"
    assert links(text) == [("wikilink", "[[a]]"), ("markdown", "[b](c.md)"), ("wikilink", "[[d]]")]


def test_links_inside_unreferenced_footnote_definitions_are_found() -> None:
    assert links("body\n\n[^note]: see [[target]]\n") == [("wikilink", "[[target]]")]


# 2. A block id alone on the last line of a multi-line paragraph is not recorded:
#    ``_BLOCK_ID.search(content, last_line_start)`` cannot match the ``(?:^|\s)``
#    alternative at ``pos`` (``^`` only matches at the real start of the string).


def test_block_id_on_its_own_last_line() -> None:
    note = parse_note("n.md", b"para\n^own\n")
    assert [b.id for b in note.blocks] == ["own"]


def test_block_id_on_continuation_line_of_list_item() -> None:
    note = parse_note("n.md", b"- item\n  ^item-id\n")
    assert [b.id for b in note.blocks] == ["item-id"]


# 3. Frontmatter wikilinks are located by text: the first occurrence of the same
#    ``[[...]]`` anywhere in the frontmatter text is taken, even in a YAML comment
#    or a key, so the span (and frontmatter_key) point at the wrong place.


def test_frontmatter_wikilink_repeated_in_an_earlier_comment() -> None:
    text = '---\n# old: [[x]]\nup: "[[x]]"\n---\n'
    note = parse_note("n.md", text.encode())
    (link,) = note.links
    assert (link.span.line, link.span.column) == (3, 6)
    assert link.frontmatter_key == "up"


def test_frontmatter_wikilink_repeated_in_an_earlier_key() -> None:
    text = '---\n"[[x]]": 1\nup: "[[x]]"\n---\n'
    note = parse_note("n.md", text.encode())
    (link,) = note.links
    assert (link.span.line, link.frontmatter_key) == (3, "up")


# 4. Dendron ``dendron://vault/name`` ignores the vault whenever a note ``name.md``
#    exists at the root: ``_wikilink`` returns the exact root match before the
#    vault filter (``_in_vault``) is applied.


def test_dendron_vault_is_respected_when_the_root_has_the_same_name() -> None:
    files = {"root.md": "[[dendron://v1/a.b]] [[dendron://v3/a.b]]", "a.b.md": "", "v1/a.b.md": ""}
    got = resolve_all(files, "root.md", dialect="dendron")
    assert (got["[[dendron://v1/a.b]]"].status, got["[[dendron://v1/a.b]]"].path) == ("note", "v1/a.b.md")
    assert got["[[dendron://v3/a.b]]"].status == "broken"  # there is no vault v3


# 5. An image whose alt text holds a link is dropped entirely (no link at all):
#    ``_link_shape`` re-parses the label with ``parseLinkLabel(..., disableNested=True)``,
#    which fails on a nested link, so neither ``dest`` nor ``ref`` is recorded.
#    CommonMark makes these images (alt text "a b d"), so a missing picture goes unreported.


def test_image_with_a_link_in_its_alt_text() -> None:
    assert ("markdown", "![a [b](c.md) d](p.png)") in links("![a [b](c.md) d](p.png)")


def test_image_with_a_wikilink_in_its_alt_text() -> None:
    assert ("markdown", "![a [[w]] b](p.png)") in links("![a [[w]] b](p.png)")


def test_image_with_a_reference_in_its_alt_text() -> None:
    found = links("![see [ref] here](fig.png)\n\n[ref]: r.md\n")
    assert ("markdown", "![see [ref] here](fig.png)") in found


# 6. A reference definition nested in a list item *and* a quote (or two list items)
#    is not found by ``_definition_destination`` (its prefix pattern allows
#    ``[ \t>]*`` then at most one list marker), so the reference link using it is
#    dropped silently, and an unused one is not reported.


def test_reference_defined_in_quote_inside_list_item() -> None:
    assert links("[a][r]\n\n- > [r]: x.md\n") == [("reference", "[a][r]")]


def test_reference_defined_in_nested_list_item() -> None:
    assert links("[a][r]\n\n- - [r]: x.md\n") == [("reference", "[a][r]")]


def test_unused_definition_in_quote_inside_list_item() -> None:
    assert [kind for kind, _ in links("x\n\n1. > [u]: unused.md\n")] == ["definition"]


# 7. Heading text drops every inline token that is not ``text``/code/math/wikilink:
#    backslash escapes and entities (``text_special``) and Dendron hashtags vanish,
#    so slugs and heading keys differ from GitHub's / Dendron's and valid anchors
#    are reported missing.


def test_escaped_characters_stay_in_heading_text_and_slug() -> None:
    (heading,) = parse_note("n.md", b"## my\\_function\n").headings
    assert heading.text == "my_function"
    assert heading.slug == "my_function"  # github-slugger keeps "_"


def test_entities_are_decoded_in_heading_text_and_slug() -> None:
    (heading,) = parse_note("n.md", "## Caf&eacute; au lait\n".encode()).headings
    assert heading.text == "Café au lait"
    assert heading.slug == "café-au-lait"


def test_anchor_to_heading_with_escaped_underscore_resolves() -> None:
    files = {"s.md": "[x](t.md#my_function) [[t#my_function]]", "t.md": "## my\\_function\n"}
    got = resolve_all(files, "s.md")
    assert got["[x](t.md#my_function)"].anchor_ok is True
    assert got["[[t#my_function]]"].anchor_ok is True


def test_dendron_hashtag_stays_in_heading_text() -> None:
    (heading,) = parse_note("n.md", b"## Sub #tag\n", "dendron").headings
    assert heading.slug == parse_note("n.md", b"## Sub #tag\n", "obsidian").headings[0].slug == "sub-tag"


# 8. (minor) A wikilink that normalises to exactly ``..`` climbs above the root but
#    is reported "broken" (path "..") instead of "escapes": ``_wikilink`` checks
#    ``normalized.startswith("../")`` but not ``normalized == ".."``.


def test_wikilink_to_parent_of_root_escapes() -> None:
    got = resolve_all({"a/s.md": "[[..]] [[a/../..]] [[/..]]"}, "a/s.md")
    assert {raw: res.status for raw, res in got.items()} == {
        "[[..]]": "escapes",
        "[[a/../..]]": "escapes",
        "[[/..]]": "escapes",
    }


# 9. (minor) A frontmatter wikilink whose YAML source differs from its value (YAML
#    escapes: '' in single quotes, \\u in double quotes) is not found: the loaded
#    string "[[Bob's note]]" is searched for verbatim in the raw text.


def test_frontmatter_wikilink_with_yaml_quote_escape() -> None:
    note = parse_note("n.md", b"---\nup: '[[Bob''s note]]'\n---\n")
    assert note.frontmatter == {"up": "[[Bob's note]]"}
    assert [link.target for link in note.links] == ["Bob's note"]


def test_missing_link_finds_unlinked_stems_written_with_joiners(make_kb) -> None:  # type: ignore[no-untyped-def]
    """An unlinked [[schema-and-lint]] leaves 'schema-and-lint' in prose: that is a mention."""
    from kbmine.checks import run_checks, select_rules
    from kbmine.kb import load

    root = make_kb(
        {
            "a.md": "Companion to schema-and-lint. Also test-driven development and guides/schema-and-lint/x.\n[[b]]\n",
            "b.md": "# B\n",
            "schema-and-lint.md": "# Schema and lint\n",
            "driven-development.md": "# Driven development\n",
        }
    )
    findings = run_checks(load(root, use_cache=False), select_rules(["missing-link"]))
    assert [(f.path, f.span.column, f.data["target"]) for f in findings] == [("a.md", 14, "schema-and-lint.md")]


def test_one_word_names_at_a_sentence_start_count_when_never_an_ordinary_word(make_kb) -> None:  # type: ignore[no-untyped-def]
    """'Synapptic' starting a sentence is the note's name; 'Memory' starting one may be the word."""
    from kbmine.checks import run_checks, select_rules
    from kbmine.kb import load

    root = make_kb(
        {
            "a.md": "Synapptic stores traces. Memory matters. [[b]]\n",
            "b.md": "# B\n\nour memory is short\n",
            "synapptic.md": "# Synapptic\n",
            "memory.md": "# Memory\n",
        }
    )
    findings = run_checks(load(root, use_cache=False), select_rules(["missing-link"]))
    assert [(f.path, f.data["target"]) for f in findings] == [("a.md", "synapptic.md")]


def test_missing_link_scan_is_linear_in_note_size(make_kb) -> None:  # type: ignore[no-untyped-def]
    """8,000 prose ranges in one note: one automaton pass, not one (string-copying) pass per range."""
    import time

    from kbmine.checks import run_checks, select_rules
    from kbmine.kb import load

    paragraphs = "\n\n".join(f"alpha beta gamma {index} spreading activation" for index in range(8000))
    root = make_kb({"a.md": paragraphs + "\n", "spreading-activation.md": "# Spreading activation\n"})
    kb = load(root, use_cache=False)
    kb.notes  # noqa: B018  (parse outside the timed part)
    started = time.process_time()
    findings = run_checks(kb, select_rules(["missing-link"]))
    assert time.process_time() - started < 5
    assert [(f.path, f.span.line) for f in findings] == [("a.md", 1)]
