"""hyalo-kb: wikilinks in bodies and frontmatter, counted exactly; one genuinely broken link.

The KB has about 1,300 raw ``[[`` of which only 804 are links: the rest sit in
code fences and code spans (hyalo documents its own wikilink syntax).
"""

from __future__ import annotations

import re
from pathlib import Path

from kbmine.kb import KB


def test_stats_count_real_wikilinks_only(hyalo_stats: dict) -> None:
    assert hyalo_stats["wikilinks"] == 804
    assert hyalo_stats["wikilinks_in_body"] == 544
    assert hyalo_stats["wikilinks_in_frontmatter"] == 260
    assert hyalo_stats["links_by_kind"]["wikilink"] == 804
    assert hyalo_stats["notes"] == 380


def test_a_naive_count_would_be_far_off(hyalo: Path) -> None:
    """The corpus still is what the numbers above assume: many more raw ``[[`` than links."""
    raw = sum(len(re.findall(rb"\[\[", p.read_bytes())) for p in hyalo.rglob("*.md"))
    assert 1200 <= raw <= 1400


def test_frontmatter_wikilinks_carry_their_key(hyalo_kb: KB) -> None:
    in_frontmatter = [link for note in hyalo_kb.notes.values() for link in note.links if link.in_frontmatter]
    assert len(in_frontmatter) == 260
    assert all(link.kind == "wikilink" and link.frontmatter_key for link in in_frontmatter)
    for note in hyalo_kb.notes.values():
        for link in note.links:
            if link.in_frontmatter:
                assert link.span.end <= note.body_start, (note.path, link.raw)


def test_check_reports_one_broken_link_to_a_non_markdown_file(hyalo_check: tuple[dict, int]) -> None:
    report, exit_code = hyalo_check
    assert exit_code == 1
    by_rule = report["summary"]
    assert by_rule.get("broken-link") == 1
    assert by_rule.get("broken-anchor", 0) == 0
    assert by_rule.get("ambiguous-link", 0) == 0
    (finding,) = [f for f in report["findings"] if f["rule"] == "broken-link"]
    assert finding["path"] == "research/setup-hyalo-action/README.md"
    assert finding["data"]["kind"] == "markdown"
    assert finding["data"]["target"] == "LICENSE"
    assert finding["data"]["resolved"] == "research/setup-hyalo-action/LICENSE"
    assert finding["line"] == 105


def test_the_broken_link_is_really_broken(hyalo: Path) -> None:
    note = hyalo / "research/setup-hyalo-action/README.md"
    lines = note.read_text(encoding="utf-8").splitlines()
    assert "[LICENSE](LICENSE)" in lines[104]
    assert not (note.parent / "LICENSE").exists()
    assert not (note.parent / "LICENSE.md").exists()


def test_every_wikilink_resolves(hyalo_kb: KB) -> None:
    unresolved = [
        (note.path, link.raw, resolution.status)
        for note, link, resolution in hyalo_kb.links()
        if link.kind == "wikilink" and not resolution.resolved
    ]
    assert unresolved == []
