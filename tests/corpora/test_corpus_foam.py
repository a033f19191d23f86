"""foam-docs (``--dialect foam``): generated link reference definitions are not extra links.

Foam appends ``[name]: name.md "Title"`` for each ``[[name]]`` of a note so
that other markdown tools can follow the wikilinks. Those definitions must not
be counted (or checked) a second time. The per-note expectations below were
counted by hand from the files (``[[`` outside code fences and code spans).
Only the ``.md`` files were copied, so the image links to ``assets/`` are
broken by the copy; every other broken link is listed explicitly.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from kbmine.kb import KB

#: note -> (wikilinks, markdown links incl. images, definitions, embeds), counted by hand.
HAND_COUNTED = {
    # 29 raw "[[": 23 inside code spans (lines 3, 7, 22, 31, 39, 57, 58, 62, 66, 76-83)
    # and 6 links (lines 12, 33, 70, 87-89); its 5 definitions (lines 91-95) are Foam's.
    "user/features/wikilinks.md": (6, 0, 0, 0),
    # 40 wikilinks (line 83 has two), no code at all; 12 table-of-contents anchors
    # plus 12 external links; 36 definitions, one per distinct wikilink target.
    "user/recipes/recipes.md": (40, 24, 0, 0),
    # Every "[[" and every definition is inside a ```markdown fence.
    "user/features/link-reference-definitions.md": (0, 0, 0, 0),
    # 11 raw "[[": lines 7, 8 and 52 are code spans ("![[note]]" there is no embed).
    # 21 markdown links: lines 3 (2), 35-45 (11 anchors), 72, 84, 97 (the one image,
    # an embed), 107, 295, 297 (2), 301; the <a href> of the HTML blocks are not links.
    "index.md": (8, 21, 0, 1),
}

#: Raw "[[" in those notes, for the record: a naive count is far off.
RAW_OPENERS = {
    "user/features/wikilinks.md": 29,
    "user/recipes/recipes.md": 40,
    "user/features/link-reference-definitions.md": 4,
    "index.md": 11,
}

#: Broken links that are broken in the original repository too.
GENUINELY_BROKEN = Counter(
    {
        ("dev/design/static-site-publishing-research.md", "markdown", "../../user/publishing/publishing.md"): 1,
        ("user/index.md", "wikilink", "publishing"): 1,
        ("user/tools/cli/search.md", "wikilink", "cli-grep"): 1,
    }
)


@pytest.mark.parametrize("path", sorted(HAND_COUNTED))
def test_hand_counted_notes(foam_kb: KB, foam: Path, path: str) -> None:
    links = foam_kb.notes[path].links
    kinds = Counter(link.kind for link in links)
    embeds = sum(link.is_embed for link in links)
    assert (kinds["wikilink"], kinds["markdown"], kinds["definition"], embeds) == HAND_COUNTED[path]
    assert kinds["reference"] == 0
    assert (foam / path).read_text(encoding="utf-8").count("[[") == RAW_OPENERS[path]


def test_recipes_definitions_exist_but_are_not_links(foam: Path, foam_kb: KB) -> None:
    text = (foam / "user/recipes/recipes.md").read_text(encoding="utf-8")
    labels = re.findall(r"(?m)^\[([^\]]+)\]: \S+\.md '", text)
    assert len(labels) == 36
    targets = {link.target for link in foam_kb.notes["user/recipes/recipes.md"].links if link.kind == "wikilink"}
    assert set(labels) == targets


def test_stats_totals(foam_stats: dict) -> None:
    assert foam_stats["notes"] == 86
    assert foam_stats["wikilinks"] == 199
    assert foam_stats["wikilinks_in_body"] == 199
    assert foam_stats["wikilinks_in_frontmatter"] == 0
    assert foam_stats["links_by_kind"]["markdown"] == 333
    assert foam_stats["links_by_kind"]["reference"] == 1
    assert foam_stats["embeds"] == 18


def test_stats_agree_with_the_library(foam_stats: dict, foam_kb: KB) -> None:
    kinds = Counter(link.kind for note in foam_kb.notes.values() for link in note.links)
    assert foam_stats["links_by_kind"] == dict(sorted(kinds.items()))
    assert foam_stats["links"] == sum(kinds.values())


def test_definitions_named_like_a_wikilink_target_are_not_links(foam_kb: KB) -> None:
    """``[name]: ...`` next to ``[[name]]`` (or ``[[name|alias]]``) is Foam's, not a second link.

    The label forms ``name#anchor`` and ``name|alias`` that older Foam versions
    write are covered by test_corpus_regressions.py.
    """
    doubled = []
    for note in foam_kb.notes.values():
        targets = {link.target.casefold() for link in note.links if link.kind == "wikilink"}
        doubled += [(note.path, link.raw) for link in note.links if link.kind == "definition" and (link.label or "").casefold() in targets]
    assert doubled == []


def test_a_reference_keeps_its_definition(foam_kb: KB) -> None:
    """The one real reference link (``[Contributor Covenant][homepage]``) is resolved through its definition."""
    (link,) = [link for link in foam_kb.notes["dev/code-of-conduct.md"].links if link.kind == "reference"]
    assert link.target == "https://www.contributor-covenant.org"
    assert link.external


def test_broken_links_are_missing_assets_or_known(foam_check: tuple[dict, int], foam_kb: KB) -> None:
    report, exit_code = foam_check
    assert exit_code == 1
    broken = [f for f in report["findings"] if f["rule"] == "broken-link"]
    assets = [f for f in broken if not f["data"]["target"].endswith(".md") and f["data"]["kind"] == "markdown"]
    others = Counter((f["path"], f["data"]["kind"], f["data"]["target"]) for f in broken if f not in assets)
    assert len(broken) == 23
    assert len(assets) == 20
    assert all(re.search(r"(^|/)assets/images/[^/]+\.(png|gif|svg)$", f["data"]["target"]) for f in assets)
    assert others == GENUINELY_BROKEN
    # 18 of the 20 are embedded images ![..](..); two are plain links to an image file.
    embeds = {(n.path, l.span.start) for n, l, r in foam_kb.links() if r.status == "broken" and l.is_embed}
    assert sum((f["path"], f["start_byte"]) in embeds for f in assets) == 18


def test_other_findings(foam_check: tuple[dict, int]) -> None:
    report, _ = foam_check
    summary = report["summary"]
    assert summary.get("ambiguous-link", 0) == 0
    # Two table-of-contents anchors to headings renamed since; one link to ../../CONTRIBUTING.md
    # (outside docs/, in the Foam repository).
    assert summary.get("broken-anchor") == 2
    assert summary.get("link-escapes-root") == 1
    anchors = sorted(f["data"]["anchor"] for f in report["findings"] if f["rule"] == "broken-anchor")
    assert anchors == ["further-customise-material-for-mkdocs", "publish-your-site"]
