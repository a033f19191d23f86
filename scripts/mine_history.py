#!/usr/bin/env python3
"""Do mined specs hold later at the rate their holdout predicted?

Usage::

    python scripts/mine_history.py                       # the commonplace bundle, mined at 50% and 80% of its history
    python scripts/mine_history.py --at HEAD~500 --at HEAD~100 --top 20
    python scripts/mine_history.py --source REPO_OR_BUNDLE --json

The source is cloned into a temporary folder (the source itself is never touched).
For each past commit REV, the notes as they were at REV are read from git (no
checkout: ``kbmine.mine.history.notes_at``) and mined with the default settings
(30% of the notes held out). Each spec is then tested on the notes at HEAD (the
clone's tree) in its own scope. Printed per spec:

``held-out``  its confidence on the notes held out at REV: the holdout's prediction;
``HEAD``      its confidence on every note of its scope at HEAD;
``new``       its confidence on the notes of its scope at HEAD that did not exist at REV
              (by path): the notes it truly never saw.

and, per REV, the mean absolute gap between prediction and HEAD over all specs,
over the top ones, and the share of specs still at or above the mining threshold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import scriptkit

import kbmine.kb
from kbmine.mine import evaluate, mine
from kbmine.mine.history import notes_at
from kbmine.mine.kinds import all_kinds
from kbmine.mine.spec import MineSettings, Spec
from kbmine.model import Note

DEFAULT_SOURCE = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "commonplace-kb.bundle"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=scriptkit.git_env(), check=True).stdout


def default_revisions(root: Path) -> list[str]:
    """The first-parent commits at 50% and 80% of the history."""
    commits = _git(root, "rev-list", "--first-parent", "--reverse", "HEAD").split()
    return [commits[int(len(commits) * share)] for share in (0.5, 0.8)]


def measure(spec: Spec, notes: list[Note]) -> tuple[int, float | None]:
    figures = evaluate(all_kinds()[spec.kind], spec.params, [note for note in notes if spec.scope.contains(note)])
    return figures.support, figures.confidence if figures.support else None


def compare(kb: kbmine.kb.KB, rev: str, head: dict[str, Note], settings: MineSettings, top: int) -> dict[str, Any]:
    root = kb.root
    started = time.perf_counter()
    past = notes_at(kb.root, rev, kb.config, kb.cache)
    mining = mine(past, settings)
    seconds = time.perf_counter() - started
    fresh = [note for path, note in head.items() if path not in past]
    everyone = list(head.values())
    rows: list[dict[str, Any]] = []
    for spec in mining.specs:
        predicted = spec.holdout.tested_confidence if spec.holdout else None
        support, confidence = measure(spec, everyone)
        new_support, new_confidence = measure(spec, fresh)
        rows.append(
            {
                "id": spec.id,
                "statement": spec.statement,
                "mined_confidence": round(spec.holdout.mined_confidence, 4) if spec.holdout else None,
                "held_out": None if predicted is None else round(predicted, 4),
                "held_out_notes": spec.holdout.tested_on if spec.holdout else 0,
                "head": None if confidence is None else round(confidence, 4),
                "head_notes": support,
                "new": None if new_confidence is None else round(new_confidence, 4),
                "new_notes": new_support,
            }
        )

    def gap(chosen: list[dict[str, Any]], column: str) -> float | None:
        gaps = [abs(row["held_out"] - row[column]) for row in chosen if row["held_out"] is not None and row[column] is not None]
        return round(statistics.fmean(gaps), 4) if gaps else None

    judged = [row for row in rows if row["head"] is not None]
    return {
        "rev": rev,
        "commit": _git(root, "rev-parse", rev).strip(),
        "date": _git(root, "log", "-1", "--format=%cs", rev).strip(),
        "notes_then": len(past),
        "notes_now": len(head),
        "new_notes": len(fresh),
        "seconds": round(seconds, 2),
        "specs": len(rows),
        "mean_gap_head": gap(rows, "head"),
        "mean_gap_new": gap(rows, "new"),
        "mean_gap_head_top": gap(rows[:top], "head"),
        "still_holding": round(sum(row["head"] >= settings.min_confidence for row in judged) / len(judged), 4) if judged else None,
        "rows": rows,
    }


def _pct(value: float | None) -> str:
    return "    -" if value is None else f"{value:6.1%}"


def report(result: dict[str, Any], top: int) -> None:
    print(
        f"mined at {result['rev']} ({result['commit'][:10]}, {result['date']}): {result['notes_then']} notes, "
        f"{result['specs']} specs in {result['seconds']} s; HEAD has {result['notes_now']} notes ({result['new_notes']} new)"
    )
    print("  held-out    HEAD     new   statement")
    for row in result["rows"][:top]:
        print(
            f"  {_pct(row['held_out'])} {_pct(row['head'])} {_pct(row['new'])}   "
            f"{row['statement'][:110]} (HEAD {row['head_notes']} notes, new {row['new_notes']})"
        )
    print(
        f"  mean |held-out - HEAD| = {_pct(result['mean_gap_head'])} over all specs, {_pct(result['mean_gap_head_top'])} "
        f"over the top {top}; |held-out - new| = {_pct(result['mean_gap_new'])}; "
        f"{_pct(result['still_holding'])} of the specs still reach the mining threshold at HEAD"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="a git bundle or repository (cloned, never touched)")
    parser.add_argument("--at", action="append", default=[], help="a past commit to mine at (repeatable; default: 50%% and 80%% of the history)")
    parser.add_argument("--top", type=int, default=20, help="specs printed per commit")
    parser.add_argument("--json", action="store_true", help="everything as JSON on stdout")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.source.exists():
        print(f"mine_history: error: {args.source}: no such bundle or repository", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="kbmine-mine-history-") as temp:
        root = Path(temp) / "kb"
        cloned = subprocess.run(["git", "clone", "-q", str(args.source), str(root)], capture_output=True, text=True, env=scriptkit.git_env(), check=False)
        if cloned.returncode != 0:
            print(f"mine_history: error: cannot clone {args.source}: {cloned.stderr.strip()}", file=sys.stderr)
            return 2
        kb = kbmine.kb.load(root)
        head = {path: note for path, note in kb.notes.items() if note.content_hash}
        revisions = args.at or default_revisions(root)
        results = [compare(kb, rev, head, MineSettings(), args.top) for rev in revisions]
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for result in results:
            report(result, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
