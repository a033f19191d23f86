#!/usr/bin/env python3
"""How the graph-wide rules grow with the KB: missing-link and duplicate-claim at 1x, 2x, 4x.

Usage::

    python scripts/scaling.py                 # 2,000 / 4,000 / 8,000 synthetic notes
    python scripts/scaling.py --base 500      # smaller steps
    python scripts/scaling.py --json

Replicating a real KB would not do: every passage would then be duplicated in
every copy, so the number of duplicate pairs itself would grow with the
square of the factor. The KBs here are synthetic but shaped like a real one:
notes with titles of 2-5 words drawn from a 5,000-word vocabulary,
paragraphs of 30-120 words, markdown links to other notes, a mention of
another note's title in one note out of five, and one passage in fifty
copied (lightly edited) into another note. Every factor has the same
densities, so linear work shows as a constant time per note.

Each rule is timed in this process after the notes are parsed (the parse is
the same for every rule and is measured by ``scripts/bench.py``); the table
gives seconds, seconds per 1,000 notes, and the growth relative to 1x: a
quadratic rule would show 4x and 16x, a linear one 2x and 4x.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

WORDS = 5_000


def vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < WORDS:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 10))))
    return sorted(words)


def build(root: Path, notes: int, seed: int) -> None:
    """Write a synthetic KB of ``notes`` notes under ``root`` (same densities at every size)."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    titles = []
    seen: set[str] = set()
    while len(titles) < notes:
        title = " ".join(rng.choice(vocab) for _ in range(rng.randint(2, 5)))
        if title not in seen:
            seen.add(title)
            titles.append(title)
    paths = [f"folder-{index % 40}/{title.replace(' ', '-')}.md" for index, title in enumerate(titles)]
    paragraphs: list[list[str]] = []
    for index, path in enumerate(paths):
        body = []
        for _ in range(rng.randint(2, 6)):
            paragraph = " ".join(rng.choice(vocab) for _ in range(rng.randint(30, 120)))
            body.append(paragraph)
        if rng.random() < 0.2:
            other = rng.randrange(notes)
            body.append(f"This builds on {titles[other]} in a way.")
        if paragraphs and rng.random() < 0.02:
            copied = rng.choice(paragraphs[-200:])[0].split()
            copied[rng.randrange(len(copied))] = rng.choice(vocab)
            body.append(" ".join(copied))
        for _ in range(rng.randint(1, 4)):
            other = paths[rng.randrange(notes)]
            relative = Path("..") / other if other.split("/")[0] != path.split("/")[0] else Path(other.split("/")[1])
            body.append(f"See [this]({relative.as_posix()}).")
        paragraphs.append(body)
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"---\ntitle: {titles[index]}\n---\n# {titles[index]}\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")


def measure(root: Path) -> dict[str, float]:
    from kbmine.checks import all_rules
    from kbmine.kb import load

    kb = load(root, use_cache=False)
    started = time.perf_counter()
    kb.notes  # noqa: B018  (parse: not part of the rules' cost)
    kb.resolutions  # noqa: B018
    timings = {"parse+resolve": time.perf_counter() - started}
    for name in ("missing-link", "duplicate-claim"):
        rule = all_rules()[name]
        started = time.perf_counter()
        findings = list(rule.check(kb, kb.config.rule_options(name)))
        timings[name] = time.perf_counter() - started
        timings[f"{name} findings"] = len(findings)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=int, default=2_000, help="notes at 1x (default 2,000)")
    parser.add_argument("--factors", default="1,2,4", help="comma-separated factors (default 1,2,4)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    factors = [int(f) for f in args.factors.split(",")]
    work = Path(tempfile.mkdtemp(prefix="kbmine-scaling-"))
    rows = []
    try:
        for factor in factors:
            root = work / f"x{factor}"
            notes = args.base * factor
            print(f"building {notes} notes in {root}", file=sys.stderr)
            build(root, notes, args.seed)
            rows.append({"factor": factor, "notes": notes, **measure(root)})
            shutil.rmtree(root, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
        return 0
    first = rows[0]
    print(f"{'factor':>6} {'notes':>7}  {'rule':<16} {'seconds':>8} {'s/1k notes':>10} {'growth':>7} {'findings':>8}")
    for row in rows:
        for name in ("missing-link", "duplicate-claim"):
            growth = row[name] / first[name] if first[name] else float("nan")
            per = row[name] / row["notes"] * 1000
            print(
                f"{row['factor']:>6} {row['notes']:>7}  {name:<16} {row[name]:>8.2f} {per:>10.3f} "
                f"{growth:>6.2f}x {int(row[name + ' findings']):>8}"
            )
    print("linear growth is 2x and 4x; quadratic would be 4x and 16x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
