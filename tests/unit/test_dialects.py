"""Dialects: Dendron (label first, dotted names, vaults, ranges, wildcards) and Foam."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from kbmine.config import Config
from kbmine.kb import load
from kbmine.parse.wikilinks import split_wikilink

from kbunit import check_span, parse, resolve_all, to_bytes


@pytest.mark.parametrize(
    "inner, dialect, parts",
    [
        ("target|label", "obsidian", ("target", None, "label", None)),
        ("target|label", "foam", ("target", None, "label", None)),
        ("label|target", "dendron", ("target", None, "label", None)),
        ("a|b|c", "obsidian", ("a", None, "b|c", None)),
        ("a|b|c", "dendron", ("c", None, "a|b", None)),
        ("t\\|l", "obsidian", ("t", None, "l", None)),
        ("t#h|l", "obsidian", ("t", "h", "l", None)),
        ("l|t#h", "dendron", ("t", "h", "l", None)),
        ("dendron://vault/a.b#h", "dendron", ("a.b", "h", None, "vault")),
        ("lbl|dendron://vault/a.b", "dendron", ("a.b", None, "lbl", "vault")),
        ("note#h1:#h2", "dendron", ("note", "h1:#h2", None, None)),
        ("  spaced  #  anchor  |  label ", "obsidian", ("spaced", "anchor", "label", None)),
    ],
)
def test_split_wikilink(inner: str, dialect: str, parts: tuple[str, str | None, str | None, str | None]) -> None:
    got = split_wikilink(inner, dialect)
    assert (got.target, got.anchor, got.label, got.vault) == parts


def test_dendron_label_first_in_body() -> None:
    text = "see [[The Label|a.b.c]]"
    note = parse(text, dialect="dendron")
    (link,) = note.links
    check_span(to_bytes(text), link)
    assert (link.target, link.label) == ("a.b.c", "The Label")


def test_dendron_vault_link_keeps_the_vault_in_the_target() -> None:
    (link,) = parse("[[dendron://vault/note.child]]", dialect="dendron").links
    assert link.target == "dendron://vault/note.child"
    assert not link.external


def test_dendron_range_and_wildcard_embeds() -> None:
    rng, wild = parse("![[note#h1:#h2]] ![[note.*]]", dialect="dendron").links
    assert rng.is_embed and (rng.target, rng.anchor) == ("note", "h1:#h2")
    assert wild.is_embed and wild.target == "note.*"


DENDRON_KB = {
    "root.md": (
        "[[Label|a.b.c]] [[a.b]] [[A.B.C]] ![[a.b.c#H1:#H2]] ![[a.b.c#H1:#Nope]] "
        "![[a.b.*]] ![[zz.*]] [[a.b.c#^blk:#^blk2]] [[a.b.c#^blk:#^gone]] [[missing.child]]"
    ),
    "a.b.c.md": "# H1\n## H2\npara ^blk\n\npara2 ^blk2\n",
    "a.b.md": "",
}


def test_dendron_resolution() -> None:
    got = resolve_all(DENDRON_KB, "root.md", dialect="dendron")
    summary = {raw: (r.status, r.path, r.anchor_ok) for raw, r in got.items()}
    assert summary == {
        "[[Label|a.b.c]]": ("note", "a.b.c.md", None),
        "[[a.b]]": ("note", "a.b.md", None),
        "[[A.B.C]]": ("note", "a.b.c.md", None),
        "![[a.b.c#H1:#H2]]": ("note", "a.b.c.md", True),
        "![[a.b.c#H1:#Nope]]": ("note", "a.b.c.md", False),
        "![[a.b.*]]": ("note", "a.b.c.md", None),
        "![[zz.*]]": ("broken", "zz.*", None),
        "[[a.b.c#^blk:#^blk2]]": ("note", "a.b.c.md", True),
        "[[a.b.c#^blk:#^gone]]": ("note", "a.b.c.md", False),
        "[[missing.child]]": ("broken", "missing.child", None),
    }
    assert got["![[a.b.*]]"].candidates == ("a.b.c.md",)


def test_dendron_wildcard_lists_every_match() -> None:
    files = {"root.md": "![[proj.*]]", "proj.a.md": "", "proj.b.md": "", "proj.md": "", "other.md": ""}
    res = resolve_all(files, "root.md", dialect="dendron")["![[proj.*]]"]
    assert res.status == "note"
    assert res.candidates == ("proj.a.md", "proj.b.md")


def test_dendron_vault_restricts_candidates() -> None:
    files = {
        "root.md": "[[dendron://v1/n.x]] [[dendron://v2/n.x]] [[n.x]] [[dendron://v3/n.x]]",
        "v1/n.x.md": "",
        "v2/n.x.md": "",
    }
    got = resolve_all(files, "root.md", dialect="dendron")
    assert got["[[dendron://v1/n.x]]"].path == "v1/n.x.md"
    assert got["[[dendron://v2/n.x]]"].path == "v2/n.x.md"
    assert got["[[n.x]]"].status == "ambiguous"
    assert got["[[dendron://v3/n.x]]"].status == "broken"


def test_dendron_through_load_with_config(make_kb: Callable[[Mapping[str, str | bytes]], Path]) -> None:
    root = make_kb({"root.md": "[[Child|proj.child]] [[proj.child#Top]]", "proj.child.md": "# Top\n"})
    kb = load(root, Config(dialect="dendron"), use_cache=False)
    got = [(l.target, l.label, r.status, r.path, r.anchor_ok) for n, l, r in kb.links()]
    assert got == [
        ("proj.child", "Child", "note", "proj.child.md", None),
        ("proj.child", None, "note", "proj.child.md", True),
    ]


def test_dendron_config_file_selects_the_dialect(make_kb: Callable[[Mapping[str, str | bytes]], Path]) -> None:
    root = make_kb({"kbmine.toml": 'dialect = "dendron"\n', "root.md": "[[Label|a.b]]", "a.b.md": ""})
    kb = load(root, use_cache=False)
    assert kb.config.dialect == "dendron"
    ((_, link, res),) = list(kb.links())
    assert (link.target, res.path) == ("a.b", "a.b.md")


def test_foam_unique_basename() -> None:
    files = {
        "root.md": "[[note]] [[Note]] [[other]] [[sub/note]] [[twin]] [[er/note]]",
        "deep/er/note.md": "",
        "other.md": "",
        "p/twin.md": "",
        "q/twin.md": "",
    }
    got = resolve_all(files, "root.md", dialect="foam")
    assert got["[[note]]"].path == "deep/er/note.md"
    assert got["[[Note]]"].path == "deep/er/note.md"
    assert got["[[other]]"].path == "other.md"
    assert got["[[sub/note]]"].status == "broken"
    assert got["[[twin]]"].status == "ambiguous"
    assert got["[[er/note]]"].path == "deep/er/note.md"


def test_foam_link_reference_definitions_are_not_extra_links() -> None:
    text = "See [[note]].\n\n[note]: note.md \"Note\"\n"
    note = parse(text, dialect="foam")
    assert [(l.kind, l.target) for l in note.links] == [("wikilink", "note")]


def test_foam_label_order_is_target_first() -> None:
    (link,) = parse("[[target|label]]", dialect="foam").links
    assert (link.target, link.label) == ("target", "label")


def test_dendron_hashtags_and_user_mentions() -> None:
    text = "a #tag and @user, (#paren) x#no `#code` #tag.sub. [t](x.md#frag) [[n#h]]"
    data = to_bytes(text)
    note = parse(text, dialect="dendron")
    for link in note.links:
        check_span(data, link)
    got = [(l.kind, l.raw, l.target) for l in note.links]
    assert got == [
        ("hashtag", "#tag", "tags.tag"),
        ("hashtag", "@user", "user.user"),
        ("hashtag", "#paren", "tags.paren"),
        ("hashtag", "#tag.sub", "tags.tag.sub"),
        ("markdown", "[t](x.md#frag)", "x.md"),
        ("wikilink", "[[n#h]]", "n"),
    ]


def test_hashtags_are_dendron_only() -> None:
    assert parse("a #tag and @user").links == ()
    assert parse("a #tag and @user", dialect="foam").links == ()


def test_dendron_headings_are_not_hashtags() -> None:
    note = parse("# Title\n\n## Sub #tag\n", dialect="dendron")
    assert [l.raw for l in note.links] == ["#tag"]
    assert [(h.level, h.text) for h in note.headings][0] == (1, "Title")
    assert len(note.headings) == 2


def test_dendron_hashtag_resolution() -> None:
    files = {"s.md": "#tag @user #missing", "tags.tag.md": "", "user.user.md": ""}
    got = resolve_all(files, "s.md", dialect="dendron")
    assert {raw: (r.status, r.path) for raw, r in got.items()} == {
        "#tag": ("note", "tags.tag.md"),
        "@user": ("note", "user.user.md"),
        "#missing": ("broken", "tags.missing"),
    }
