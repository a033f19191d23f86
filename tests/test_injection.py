"""Known defects injected into real corpora are found: recall and precision per rule.

``scripts/inject.py`` copies a corpus, injects defects of one kind at a time
(notes renamed without updating inbound links, links replaced by their
visible text, lightly edited paragraphs copied into unrelated notes, notes
marked superseded or otherwise dead while live notes link to them, headings
renamed under their anchors, notes deleted, notes orphaned, notes moved to
another folder, frontmatter broken, namesakes that make links ambiguous),
checks before and after, and scores the new findings of each rule. The bar is the one the rules are judged by: recall
and precision of at least 0.9 per rule, baseline findings subtracted.
Skipped when ../shared is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

INJECT = Path(__file__).resolve().parent.parent / "scripts" / "inject.py"
BAR = 0.9


def _inject(corpus: str, kinds: str) -> dict[tuple[str, str], dict]:
    completed = subprocess.run(
        [sys.executable, str(INJECT), "--corpus", corpus, "--kinds", kinds, "--json", "--seed", "11"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    [result] = json.loads(completed.stdout)["corpora"]
    return {(kind["kind"], kind["rule"]): kind for kind in result["kinds"]}


@pytest.mark.parametrize(
    ("corpus", "kinds"),
    [
        ("hyalo", "rename,unlink,duplicate,supersede"),
        ("foam", "rename,duplicate,supersede"),
        ("hyalo", "delete,orphan,move,namesake"),
        ("foam", "anchor,orphan,namesake"),
    ],
)
def test_injected_defects_are_found(corpora: Path, corpus: str, kinds: str) -> None:
    results = _inject(corpus, kinds)
    assert sorted({kind for kind, _ in results}) == sorted(kinds.split(","))
    for (kind, rule), result in results.items():
        assert result["injected"] >= 10, f"{corpus}/{kind}: too few injections to measure"
        if not result["expected"]:  # e.g. no note was left orphaned by the deletions
            assert result["new"] == 0, f"{corpus}/{kind} {rule}: findings where none were due: {result['false_positives'][:5]}"
            continue
        assert result["recall"] >= BAR, f"{corpus}/{kind} {rule} recall {result['recall']}: misses {result['misses'][:5]}"
        assert result["precision"] >= BAR, (
            f"{corpus}/{kind} {rule} precision {result['precision']}: false positives {result['false_positives'][:5]}"
        )
