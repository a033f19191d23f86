"""Resolution rules: where each link points, whether its anchor exists, what escapes the root."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from kbmine.kb import KB, load
from kbmine.model import Link, Span
from kbmine.resolve import Resolution, Resolver

from kbunit import FIXTURES, resolve_all, resolver_for

#: Every link of tests/fixtures/resolve_kb/a/src.md: (status, path, anchor_ok).
EXPECTED: dict[str, tuple[str, str | None, bool | None]] = {
    # markdown links: relative, ../, root-absolute, extensionless, spaces, %20
    "[rel](sib.md)": ("note", "a/sib.md", None),
    "[up](../top.md)": ("note", "top.md", None),
    "[root](/a/sib.md)": ("note", "a/sib.md", None),
    "[noext](sib)": ("note", "a/sib.md", None),
    "[spaces](<with space.md>)": ("note", "a/with space.md", None),
    "[pct](with%20space.md)": ("note", "a/with space.md", None),
    # other files are checked against the file system; folders too
    "[img](../img/pic.png)": ("file", "img/pic.png", None),
    "[pdf](/img/doc.pdf)": ("file", "img/doc.pdf", None),
    "[missing](../img/none.png)": ("broken", "img/none.png", None),
    "[dir](../img)": ("dir", "img", None),
    "[dirslash](../b/)": ("dir", "b", None),
    "[nonote](nope.md)": ("broken", "a/nope.md", None),
    "![embed](../img/pic.png)": ("file", "img/pic.png", None),
    "![gone](../img/gone.png)": ("broken", "img/gone.png", None),
    # escapes
    "[esc](../../../etc/passwd)": ("escapes", None, None),
    "[encesc](%2e%2e%2f%2e%2e%2fetc%2fpasswd)": ("escapes", None, None),
    "[absesc](/../outside.md)": ("escapes", None, None),
    "[nul](x%00y.md)": ("escapes", None, None),
    # external
    "[url](https://example.com/x)": ("external", None, None),
    "<https://example.com/auto>": ("external", None, None),
    "[mail](mailto:me@example.com)": ("external", None, None),
    # wikilinks: path from root with/without .md, suffix, basename (case-insensitive), alias
    "[[top]]": ("note", "top.md", None),
    "[[top.md]]": ("note", "top.md", None),
    "[[a/sib]]": ("note", "a/sib.md", None),
    "[[/a/sib]]": ("note", "a/sib.md", None),
    "[[b/deep/leaf]]": ("note", "b/deep/leaf.md", None),
    "[[deep/leaf]]": ("note", "b/deep/leaf.md", None),
    "[[LEAF]]": ("note", "b/deep/leaf.md", None),
    "[[Alias One]]": ("note", "b/deep/leaf.md", None),
    "[[top alias]]": ("note", "top.md", None),
    "[[dup]]": ("ambiguous", None, None),
    "[[./sib]]": ("note", "a/sib.md", None),
    "[[../top]]": ("note", "top.md", None),
    "[[nothere]]": ("broken", "nothere", None),
    "[[pic.png]]": ("file", "img/pic.png", None),
    "[[img/doc.pdf]]": ("file", "img/doc.pdf", None),
    "[[../../../escape]]": ("escapes", None, None),
    "[[https://example.com]]": ("external", None, None),
    # anchors of markdown links: slugs (case-insensitive), duplicates, explicit ids, blocks
    "[slug](../top.md#section-one)": ("note", "top.md", True),
    "[slugcase](../top.md#Section-One)": ("note", "top.md", True),
    "[dup1](../top.md#dup-1)": ("note", "top.md", True),
    "[dup2](../top.md#dup-2)": ("note", "top.md", False),
    "[badslug](../top.md#missing)": ("note", "top.md", False),
    "[explicit](../top.md#custom-id)": ("note", "top.md", True),
    "[blockmd](../top.md#^blk)": ("note", "top.md", True),
    # anchors of wikilinks: heading text (case/whitespace-insensitive), nesting, blocks, ids
    "[[top#Section One]]": ("note", "top.md", True),
    "[[top#  section   ONE ]]": ("note", "top.md", True),
    "[[top#Parent#Child]]": ("note", "top.md", True),
    "[[top#Child#Parent]]": ("note", "top.md", False),
    "[[top#^blk]]": ("note", "top.md", True),
    "[[top#^nope]]": ("note", "top.md", False),
    "[[top#custom-id]]": ("note", "top.md", True),
    "[[top#Nope]]": ("note", "top.md", False),
    # same-note anchors
    "[[#Local]]": ("note", "a/src.md", True),
    "[[#local two]]": ("note", "a/src.md", True),
    "[[#Absent]]": ("note", "a/src.md", False),
    "[same](#local-two)": ("note", "a/src.md", True),
    "[same2](#absent)": ("note", "a/src.md", False),
    # cross-note anchors
    "[[sib#Sibling]]": ("note", "a/sib.md", True),
    "[[sib#Other]]": ("note", "a/sib.md", False),
}


@pytest.fixture(scope="module")
def fixture_kb(tmp_path_factory: pytest.TempPathFactory) -> KB:
    root = tmp_path_factory.mktemp("resolve") / "kb"
    shutil.copytree(FIXTURES / "resolve_kb", root)
    return load(root, use_cache=False)


def test_fixture_kb_inventory(fixture_kb: KB) -> None:
    assert "a/src.md" in fixture_kb.notes
    assert {"img/pic.png", "img/doc.pdf"} <= fixture_kb.files
    assert {"a", "b", "b/deep", "img", "empty-dir"} <= fixture_kb.dirs


def test_every_link_of_the_fixture_resolves_as_expected(fixture_kb: KB) -> None:
    got = {
        link.raw: (res.status, res.path, res.anchor_ok)
        for note, link, res in fixture_kb.links()
        if note.path == "a/src.md"
    }
    assert got == EXPECTED


def test_ambiguous_links_list_candidates_and_never_resolve(fixture_kb: KB) -> None:
    (res,) = [r for n, l, r in fixture_kb.links() if l.raw == "[[dup]]"]
    assert res.candidates == ("x/dup.md", "y/dup.md")
    assert res.path is None
    assert not res.resolved


def test_external_links_are_never_broken(fixture_kb: KB) -> None:
    for _, link, res in fixture_kb.links():
        if link.external:
            assert res.status in ("external", "escapes")
            assert res.status != "broken"


def test_resolutions_are_aligned_with_note_links(fixture_kb: KB) -> None:
    for path, note in fixture_kb.notes.items():
        assert len(fixture_kb.resolutions[path]) == len(note.links)


# ---------------------------------------------------------------------------
# in-memory KBs through the Resolver


def test_markdown_link_with_case_difference_explains_itself() -> None:
    got = resolve_all({"a/src.md": "[x](Sib.md)", "a/sib.md": ""}, "a/src.md", dialect="foam")
    res = got["[x](Sib.md)"]
    assert res.status == "broken"
    assert "a/sib.md" in res.reason


def test_obsidian_shortest_path_markdown_links() -> None:
    files = {
        "a/src.md": "[x](top.md) [y](leaf.md) [z](dup.md) [w](./top.md) [v](sub/leaf.md) [p](pic.png)",
        "top.md": "",
        "b/c/leaf.md": "",
        "x/dup.md": "",
        "y/dup.md": "",
        "img/pic.png": "",
    }
    got = resolve_all(files, "a/src.md")
    assert got["[x](top.md)"].path == "top.md"  # falls back to the vault root
    assert got["[y](leaf.md)"].path == "b/c/leaf.md"  # then to a unique file name
    assert got["[z](dup.md)"].status == "ambiguous"
    assert got["[w](./top.md)"].status == "broken"  # explicit ./ is strictly relative
    assert got["[v](sub/leaf.md)"].status == "broken"
    assert (got["[p](pic.png)"].status, got["[p](pic.png)"].path) == ("file", "img/pic.png")


@pytest.mark.parametrize("dialect", ["foam", "dendron"])
def test_other_dialects_resolve_markdown_links_strictly(dialect: str) -> None:
    got = resolve_all({"a/src.md": "[x](top.md) [y](leaf.md)", "top.md": "", "b/leaf.md": ""}, "a/src.md", dialect)
    assert got["[x](top.md)"] == Resolution("broken", "a/top.md")
    assert got["[y](leaf.md)"] == Resolution("broken", "a/leaf.md")


def test_markdown_extension_variants() -> None:
    got = resolve_all({"src.md": "[a](other) [b](long)", "other.md": "", "long.markdown": ""}, "src.md")
    assert got["[a](other)"].path == "other.md"
    assert got["[b](long)"].path == "long.markdown"


def test_wikilink_basename_ambiguity_is_case_insensitive() -> None:
    got = resolve_all({"s.md": "[[Note]]", "a/note.md": "", "b/NOTE.md": ""}, "s.md")
    assert got["[[Note]]"].status == "ambiguous"
    assert got["[[Note]]"].candidates == ("a/note.md", "b/NOTE.md")


def test_wikilink_path_from_root_beats_basename() -> None:
    got = resolve_all({"s.md": "[[note]] [[b/note]]", "note.md": "", "b/note.md": ""}, "s.md")
    assert got["[[note]]"].path == "note.md"
    assert got["[[b/note]]"].path == "b/note.md"


def test_wikilink_path_suffix_ambiguity() -> None:
    got = resolve_all({"s.md": "[[c/n]]", "a/c/n.md": "", "b/c/n.md": ""}, "s.md")
    assert got["[[c/n]]"].status == "ambiguous"


def test_wikilink_alias_ambiguity() -> None:
    files = {"s.md": "[[Shared]]", "a.md": "---\naliases: [Shared]\n---\n", "b.md": "---\naliases: shared\n---\n"}
    assert resolve_all(files, "s.md")["[[Shared]]"].status == "ambiguous"


def test_a_note_name_beats_an_alias() -> None:
    files = {"s.md": "[[thing]]", "thing.md": "", "other.md": "---\naliases: [thing]\n---\n"}
    assert resolve_all(files, "s.md")["[[thing]]"].path == "thing.md"


def test_relative_wikilink_missing_and_escaping() -> None:
    files = {"a/s.md": "[[./missing]] [[../../x]] [[./sub/n]]", "a/sub/n.md": ""}
    got = resolve_all(files, "a/s.md")
    assert got["[[./missing]]"] == Resolution("broken", "a/missing")
    assert got["[[../../x]]"].status == "escapes"
    assert got["[[./sub/n]]"].path == "a/sub/n.md"


def test_wikilink_to_a_folder_is_not_the_folder() -> None:
    got = resolve_all({"s.md": "[[topic]]", "topic/index.md": ""}, "s.md")
    assert got["[[topic]]"].status == "broken"


def test_wikilink_with_embed_and_label_resolves_the_target() -> None:
    got = resolve_all({"s.md": "![[pic.png|200]] [[t|label]]", "i/pic.png": "", "t.md": ""}, "s.md")
    assert got["![[pic.png|200]]"].path == "i/pic.png"
    assert got["[[t|label]]"].path == "t.md"


def test_markdown_anchor_in_obsidian_may_be_heading_text() -> None:
    files = {"s.md": "[a](t.md#Some%20Heading) [b](t.md#some-heading)", "t.md": "## Some Heading\n"}
    got = resolve_all(files, "s.md")
    assert got["[a](t.md#Some%20Heading)"].anchor_ok is True
    assert got["[b](t.md#some-heading)"].anchor_ok is True
    got = resolve_all(files, "s.md", dialect="foam")
    assert got["[a](t.md#Some%20Heading)"].anchor_ok is False
    assert got["[b](t.md#some-heading)"].anchor_ok is True


def test_anchor_of_reference_link_and_definition() -> None:
    files = {"s.md": "[x][r]\n\n[r]: t.md#nope\n[u]: t.md#head\n", "t.md": "# Head\n"}
    resolver, notes = resolver_for(files)
    results = [(l.kind, resolver.resolve("s.md", l).anchor_ok) for l in notes["s.md"].links]
    assert results == [("reference", False), ("definition", True)]


def test_nested_wikilink_anchor_any_depth() -> None:
    files = {"s.md": "[[t#A#C]] [[t#B#A]] [[t#A#B#C]]", "t.md": "# A\n## B\n### C\n# D\n## C2\n"}
    got = resolve_all(files, "s.md")
    assert got["[[t#A#C]]"].anchor_ok is True
    assert got["[[t#B#A]]"].anchor_ok is False
    assert got["[[t#A#B#C]]"].anchor_ok is True


def test_nested_anchor_does_not_cross_sections() -> None:
    files = {"s.md": "[[t#A#X]]", "t.md": "# A\n## B\n# Other\n## X\n"}
    assert resolve_all(files, "s.md")["[[t#A#X]]"].anchor_ok is False


def test_label_before_colon_heading_convention() -> None:
    files = {"s.md": "[[log#DEC-067]]", "log.md": "## DEC-067: choose a parser\n"}
    assert resolve_all(files, "s.md")["[[log#DEC-067]]"].anchor_ok is True


def test_anchor_is_not_checked_on_files_or_broken_links() -> None:
    got = resolve_all({"s.md": "[a](p.pdf#page=2) [[gone#x]]", "p.pdf": ""}, "s.md")
    assert got["[a](p.pdf#page=2)"] == Resolution("file", "p.pdf")
    assert got["[[gone#x]]"].anchor_ok is None


def make_link(target: str, kind: str = "markdown", external: bool = False) -> Link:
    span = Span(0, 0, 1, 1, 1, 1)
    return Link(kind=kind, raw=target, target=target, anchor=None, label=None, span=span, external=external)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "link, status",
    [
        (make_link("file:///etc/passwd", external=True), "escapes"),
        (make_link("FILE:///etc/passwd", external=True), "escapes"),
        (make_link("a\x00b.md"), "escapes"),
        (make_link("a\x00b", kind="wikilink"), "escapes"),
        (make_link("../../etc/passwd"), "escapes"),
        (make_link("/../../x.md"), "escapes"),
        (make_link("https://example.com", external=True), "external"),
        (make_link("https://example.com", kind="autolink", external=True), "external"),
    ],
)
def test_escape_and_external_classification(link: Link, status: str) -> None:
    resolver = Resolver({}, (), ())
    assert resolver.resolve("a/s.md", link).status == status


def test_file_urls_escape_whatever_their_syntax() -> None:
    text = "[f](file:///etc/passwd) <file:///etc/passwd> [g](FILE:///x) [[file:///etc/shadow]]\n\n[r]: file:///etc/hosts\n"
    got = resolve_all({"s.md": text}, "s.md")
    assert len(got) == 5
    assert {raw: res.status for raw, res in got.items()} == dict.fromkeys(got, "escapes")


def test_empty_target_is_the_same_note() -> None:
    resolver = Resolver({}, (), ())
    assert resolver.resolve("a/s.md", make_link("")) == Resolution("note", "a/s.md")


def test_root_absolute_slash_alone_is_the_root_folder() -> None:
    resolver = Resolver({}, (), ())
    assert resolver.resolve("a/s.md", make_link("/")).status == "dir"


# ---------------------------------------------------------------------------
# through kbmine.kb.load on a make_kb folder


def test_load_resolves_a_small_kb(make_kb: Callable[[Mapping[str, str | bytes]], Path]) -> None:
    root = make_kb(
        {
            "index.md": "[[notes/one]] [two](notes/two.md#part) [[missing]] ![[pic.png]]\n",
            "notes/one.md": "# One\n",
            "notes/two.md": "## Part\n",
            "assets/pic.png": b"\x89PNG",
            "bad.md": b"\xff\xfe\x00binary",
        }
    )
    kb = load(root, use_cache=False)
    assert set(kb.notes) == {"index.md", "notes/one.md", "notes/two.md", "bad.md"}
    assert [p.rule for p in kb.notes["bad.md"].problems] == ["unreadable-note"]
    got = {l.raw: (r.status, r.path, r.anchor_ok) for n, l, r in kb.links() if n.path == "index.md"}
    assert got == {
        "[[notes/one]]": ("note", "notes/one.md", None),
        "[two](notes/two.md#part)": ("note", "notes/two.md", True),
        "[[missing]]": ("broken", "missing", None),
        "![[pic.png]]": ("file", "assets/pic.png", None),
    }


def test_names_in_either_unicode_normalisation_resolve_to_the_note() -> None:
    import unicodedata

    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    stored_nfd = {f"notes/{nfd}.md": "# Café\n", "a.md": f"[[{nfc}]] [x](notes/{nfc}.md) [y](notes/caf%C3%A9.md) [[{nfc.upper()}]]\n"}
    found = resolve_all(stored_nfd, "a.md")
    assert {raw: (r.status, r.path) for raw, r in found.items()} == {
        f"[[{nfc}]]": ("note", f"notes/{nfd}.md"),
        f"[x](notes/{nfc}.md)": ("note", f"notes/{nfd}.md"),
        "[y](notes/caf%C3%A9.md)": ("note", f"notes/{nfd}.md"),
        f"[[{nfc.upper()}]]": ("note", f"notes/{nfd}.md"),
    }
    both = {f"{nfc}.md": "# NFC\n", f"{nfd}.md": "# NFD\n", "a.md": f"[[{nfc}]] [[{nfd}]]\n"}
    found = resolve_all(both, "a.md")
    assert found[f"[[{nfc}]]"].path == f"{nfc}.md" and found[f"[[{nfd}]]"].path == f"{nfd}.md"  # as written wins
