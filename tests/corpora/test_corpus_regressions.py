"""Bugs in kbmine found by the corpus tests; each test fails until its bug is fixed.

Move a test to its topic's file once it passes. Each has a minimal
reproduction next to the corpus evidence.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kbmine.kb import KB
from kbmine.parse import parse_note

# ---------------------------------------------------------------------------
# 1. Foam's link reference definitions for [[name#anchor]] and [[name|alias]]
#    are counted as extra links.
#
# kbmine/parse/markdown.py (parse_body, "Foam appends ..." branch) skips a
# definition when its label equals a wikilink *target* of the note; but the
# Foam versions that wrote these docs use the wikilink's whole inner text as
# the label: ``[templates#Metadata]: templates.md#Metadata "Note Templates"``
# for ``[[templates#Metadata]]`` and ``[list|foam list orphans]: cli/list.md``
# for ``[[list|foam list orphans]]``. The target set holds ``templates`` and
# ``list`` only, so both definitions come out as ``definition`` links:
# foam-docs stats say ``definition: 2`` where 0 is right.


@pytest.mark.parametrize(
    "wikilink, definition",
    [
        ("[[templates#Metadata]]", '[templates#Metadata]: templates.md#Metadata "Note Templates"'),
        ("[[list|foam list orphans]]", "[list|foam list orphans]: cli/list.md 'foam list'"),
    ],
)
def test_foam_definition_labelled_with_the_whole_wikilink_is_not_a_link(wikilink: str, definition: str) -> None:
    note = parse_note("a.md", f"See {wikilink}.\n\n{definition}\n".encode(), "foam")
    assert [link.kind for link in note.links] == ["wikilink"]


def test_foam_docs_has_no_definition_duplicating_a_wikilink(foam_kb: KB) -> None:
    """No ``definition`` link names or reaches what a wikilink of the same note reaches."""
    doubled = []
    for note, link, resolution in foam_kb.links():
        if link.kind != "definition":
            continue
        wikilinks = [(l, r) for l, r in zip(note.links, foam_kb.resolutions[note.path]) if l.kind == "wikilink"]
        label = (link.label or "").casefold()
        if any(label in (l.target.casefold(), l.raw[2:-2].casefold()) or (r.resolved and r.path == resolution.path) for l, r in wikilinks):
            doubled.append((note.path, link.raw))
    assert doubled == []


def test_foam_stats_have_no_definition_links(foam_stats: dict) -> None:
    """Every definition in foam-docs is Foam's own or used by a reference: none is a link of its own."""
    assert foam_stats["links_by_kind"].get("definition", 0) == 0


# ---------------------------------------------------------------------------
# 2. ``![[alt text]](https://...)`` is read as an embed wikilink, not an image.
#
# kbmine/parse/markdown.py, _wikilink_rule: ``[[1]](https://...)`` is left to
# the link rule (a markdown link whose text is "[1]"), but the check has
# ``and not embed``, so ``![[Uncaptioned image]](https://arxiv.org/.../x2.png)``
# (what arXiv's HTML pages become when saved as markdown) is an embed of a
# note "Uncaptioned image" followed by literal text. CommonMark (and GitHub)
# render an image with alt text "[Uncaptioned image]" and an external source.
# On commonplace this made 3 of the 19 broken wikilinks (the 5 in
# kb/sources/agent-optimizers-compound-terminal-bench.md are plain
# ``[[Uncaptioned image]]`` wikilinks in a table and stay broken).
# A judgement call (Obsidian may embed first), but the same reasoning as for
# ``[[1]](url)`` applies, and a wikilink embed never has a "(url)" after it.


def test_image_whose_alt_text_is_in_brackets_is_an_image() -> None:
    note = parse_note("a.md", b"![[Uncaptioned image]](https://arxiv.org/html/2605.30621v1/x2.png)\n")
    ((kind, target, external),) = [(l.kind, l.target, l.external) for l in note.links]
    assert (kind, target, external) == ("markdown", "https://arxiv.org/html/2605.30621v1/x2.png", True)


def test_commonplace_has_no_broken_uncaptioned_image_embeds(commonplace_report: dict) -> None:
    broken = [
        (f["path"], f["line"])
        for f in commonplace_report["findings"]
        if f["rule"] == "broken-link" and "![[Uncaptioned image]]" in f["message"]
    ]
    assert broken == []


# ---------------------------------------------------------------------------
# 3. As root, the parse cache is written into a KB folder whose mode is read-only.
#
# kbmine/cache.py, default_cache_path: ``os.access(root, os.W_OK)`` is always
# true for root (mode bits are not checked for uid 0), so ``kbmine check`` run
# as root (Docker, most CI containers) creates ``.kbmine/cache.sqlite`` inside
# a ``dr-xr-xr-x`` folder, e.g. ../shared/corpora/hyalo-kb, which these tests
# must never write to (they pass --no-cache). Expected: a root whose mode
# grants no write permission falls back to the user cache folder, as the
# docstring promises ("or the user cache folder when the root is read-only").


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="os.access is only wrong for root")
def test_cache_goes_elsewhere_for_a_read_only_folder_even_as_root(tmp_path: Path) -> None:
    from kbmine.cache import default_cache_path

    root = tmp_path / "kb"
    root.mkdir()
    (root / "a.md").write_text("# A\n", encoding="utf-8")
    root.chmod(0o555)
    try:
        assert not default_cache_path(root).is_relative_to(root)
    finally:
        root.chmod(0o755)


# ---------------------------------------------------------------------------
# 4. Fingerprints repeat within one report (stale-status, duplicate-claim).
#
# A fingerprint identifies one finding for baselines; link rules add an
# occurrence number (kbmine/checks/_links.py). kbmine/checks/stale_status.py
# (``with_fingerprint("links-to-dead", target, link.raw)``) gives every link
# from one live note to the same archived note the same fingerprint: on
# hyalo-kb, iterations/iteration-207-post-mdbook-lint-0160-followup.md links
# five times to docs/upstream-mdbook-lint-reports.md -> five findings, one
# fingerprint. kbmine/checks/duplicate_claim.py (``with_fingerprint(" ".join
# (passage.words))``) does the same for a passage repeated twice in one note
# (commonplace: kb/work/linking-contract-consistency/mechanism-label-direction-review.md
# lines 145/283 and 153/290). Both rules were uncommitted work in progress
# when this was written.


def test_fingerprints_are_unique_across_every_rule(hyalo_check: tuple[dict, int]) -> None:
    from collections import Counter

    report, _ = hyalo_check
    counts = Counter(f["fingerprint"] for f in report["findings"])
    repeated = sorted({(f["rule"], f["path"], f["fingerprint"]) for f in report["findings"] if counts[f["fingerprint"]] > 1})
    assert repeated == []
