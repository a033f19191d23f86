#!/usr/bin/env python3
"""Measure ``kbmine mutate --kind extract`` and ``--kind synthesise`` on real KBs.

Usage::

    python scripts/mutate_bench.py                       # the three corpora in ../shared/corpora
    python scripts/mutate_bench.py --corpus hyalo-kb --kinds extract
    python scripts/mutate_bench.py --show 10 --show-to /tmp/diffs.txt   # commits to read by hand
    python scripts/mutate_bench.py --json
    python scripts/mutate_bench.py --workdir /tmp/bench   # keep the repositories for a closer look

For each corpus and each kind, on a throwaway git repository (the
commonplace bundle cloned, a plain folder copied and committed; nothing
under ``../shared`` is written):

1. ``kbmine check --format json`` on the base commit: the findings before.
2. ``kbmine mutate --kind KIND --format json``, timed: proposed, committed
   (verified) and skipped fixes, with the skip reasons (paths folded to ``P``
   so that reasons count together).
3. Every fix accepted at once (the main branch fast-forwarded to the review
   branch, which is what ``kbmine review accept --all`` reaches on a clean
   tree), then ``kbmine check`` again: duplicate-claim and orphan-note
   findings before and after, the net change per rule, and every finding
   whose fingerprint was not there before, counted by rule (the new ones a
   fix brought; a duplicate-claim finding that only moved to another copy of
   a passage already reported does not count), and how many of those sit
   in the notes the fixes created.

``--show N`` writes the first N commits of each kind (``git show``) to
``--show-to`` for reading by hand. kbmine runs as ``sys.executable -m
kbmine``, so ``PYTHONPATH`` picks which kbmine is measured (run it from
outside the repository, or ``-m`` finds the working tree's package first);
a row says ``source_changed`` when that package's source changed during
the run, as it may when others edit the working tree: then the before and
after checks ran different rules.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scriptkit

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KBMINE_SHARED", REPO.parent / "shared"))
CORPORA = ("commonplace-kb", "hyalo-kb", "foam-docs")
KINDS = ("extract", "synthesise")
BRANCH = "kbmine/review"
_PATH = re.compile(r"\S+\.md\b")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def git(root: Path, *args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=scriptkit.git_env(), check=True)
    return completed.stdout


def kbmine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kbmine", *args], capture_output=True, text=True, env=scriptkit.git_env(), check=False)


def make_repo(corpus: str, target: Path) -> None:
    """A git repository of the corpus at ``target``: the bundle cloned, or the folder copied and committed."""
    source = SHARED / "corpora" / corpus
    bundle = source.with_suffix(".bundle")
    if bundle.is_file():
        git(target.parent, "clone", "-q", str(bundle), str(target))
        return
    if not source.is_dir():
        raise SystemExit(f"mutate_bench: no corpus {corpus!r} under {SHARED / 'corpora'}")
    shutil.copytree(source, target)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "corpus")


def check(root: Path) -> list[dict[str, Any]]:
    result = kbmine("check", str(root), "--format", "json", "--no-cache")
    if result.returncode not in (0, 1):
        raise SystemExit(f"mutate_bench: kbmine check failed: {result.stderr.strip()}")
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


def source_digest() -> str:
    """A digest of the kbmine source the subprocesses run: the before and after checks must run the same code.

    Others may edit the working tree during a run of several minutes; a
    finding that is "new" only because the rule changed in between is no
    finding of the fixes.
    """
    located = subprocess.run(
        [sys.executable, "-c", "import kbmine, os; print(os.path.dirname(kbmine.__file__))"],
        capture_output=True, text=True, check=True,
    )
    package = Path(located.stdout.strip())
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def measure(corpus: str, kind: str, work: Path, show: int, examples: int) -> tuple[dict[str, Any], str]:
    source = source_digest()
    root = work / f"{corpus}-{kind}"
    make_repo(corpus, root)
    before = check(root)
    started = time.perf_counter()
    result = kbmine("mutate", str(root), "--kind", kind, "--format", "json")
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"mutate_bench: kbmine mutate failed on {corpus}: {result.stderr.strip()}")
    run = json.loads(result.stdout)
    reasons = Counter(_PATH.sub("P", s["reason"]) for s in run["skipped"])
    shown = ""
    if show and run["committed"]:
        shas = [c["sha"] for c in run["committed"][:show]]
        shown = "".join(git(root, "show", "--format=commit %h%n%B", sha) + "\n" for sha in shas)
    after = before
    created: set[str] = set()
    if run["committed"]:
        base = git(root, "rev-parse", "HEAD").strip()
        git(root, "merge", "-q", "--ff-only", BRANCH)
        after = check(root)
        created = set(git(root, "diff", "--name-only", "--diff-filter=A", base, "HEAD").split())
    # What the run saw, next to the repository (kept with --workdir) for a closer look.
    (work / f"{corpus}-{kind}.json").write_text(json.dumps({"before": before, "after": after, "run": run}), encoding="utf-8")
    known = {f["fingerprint"] for f in before}
    pairs = {pair for f in before for pair in _duplicate_pairs(f)}
    # A duplicate-claim finding moves to another copy when the earliest copy is edited (it is
    # reported at every copy but the least recently changed): new only if its notes were not
    # duplicates of each other before.
    fresh = [
        f
        for f in after
        if f["fingerprint"] not in known and not (f["rule"] == "duplicate-claim" and _duplicate_pairs(f) & pairs)
    ]
    new = Counter(f["rule"] for f in fresh)
    in_new_notes = Counter(f["rule"] for f in fresh if f["path"] in created)
    net = Counter(f["rule"] for f in after)
    net.subtract(Counter(f["rule"] for f in before))

    def count(findings: list[dict[str, Any]], rule: str) -> int:
        return sum(1 for f in findings if f["rule"] == rule)

    row = {
        "corpus": corpus,
        "kind": kind,
        "seconds": round(seconds, 1),
        "proposed": run["proposed"],
        "committed": len(run["committed"]),
        "skipped": len(run["skipped"]),
        "skip_reasons": dict(reasons.most_common()),
        "duplicate_claim": [count(before, "duplicate-claim"), count(after, "duplicate-claim")],
        "orphan_note": [count(before, "orphan-note"), count(after, "orphan-note")],
        "findings": [len(before), len(after)],
        "new_findings": dict(new.most_common()),
        "new_findings_in_new_notes": dict(in_new_notes.most_common()),
        "net_change": {rule: n for rule, n in sorted(net.items()) if n},
        "new_examples": [f"{f['rule']} {f['path']}:{f['line']}: {f['message']}" for f in fresh[:examples]],
        "source_changed": source_digest() != source,
    }
    return row, shown


def _duplicate_pairs(finding: dict[str, Any]) -> set[tuple[str, str]]:
    """The (note, note) pairs a duplicate-claim finding says repeat each other, both ways round."""
    if finding["rule"] != "duplicate-claim":
        return set()
    others = [str(o["path"]) for o in finding["data"].get("others", [])]
    return {(finding["path"], o) for o in others} | {(o, finding["path"]) for o in others}


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'corpus':<16}{'kind':<12}{'s':>7}{'proposed':>10}{'verified':>10}{'skipped':>9}  dup-claim  orphans  new findings")
    for row in rows:
        dup = "{} -> {}".format(*row["duplicate_claim"])
        orphans = "{} -> {}".format(*row["orphan_note"])
        created = row["new_findings_in_new_notes"]
        new = ", ".join(f"{rule} {n} ({created.get(rule, 0)} in new notes)" for rule, n in row["new_findings"].items()) or "none"
        net = ", ".join(f"{rule} {n:+d}" for rule, n in row["net_change"].items()) or "none"
        print(
            f"{row['corpus']:<16}{row['kind']:<12}{row['seconds']:>7}{row['proposed']:>10}{row['committed']:>10}"
            f"{row['skipped']:>9}  {dup:<9}  {orphans:<7}  {new} (net: {net})"
        )
    for row in rows:
        if row["source_changed"]:
            print(f"  WARNING {row['corpus']}/{row['kind']}: kbmine's source changed during the run; 'new' findings may be the rules' own changes")
        for reason, n in row["skip_reasons"].items():
            print(f"  skipped {row['corpus']}/{row['kind']}: {n} x {reason}")
        for example in row["new_examples"]:
            print(f"  NEW {row['corpus']}/{row['kind']}: {example}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=",".join(CORPORA), help="comma-separated corpora (default: all three)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds (default: extract,synthesise)")
    parser.add_argument("--show", type=int, default=0, help="write the first N commits of each run for reading")
    parser.add_argument("--show-to", type=Path, default=Path("mutate_bench_commits.txt"))
    parser.add_argument("--examples", type=int, default=0, help="list the first N new findings of each run")
    parser.add_argument("--json", action="store_true", help="rows as JSON on stdout")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the repositories here (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    rows = []
    shown = []
    with tempfile.TemporaryDirectory(prefix="kbmine-mutate-bench-") as temp:
        work = Path(temp)
        if args.workdir is not None:
            work = args.workdir
            work.mkdir(parents=True, exist_ok=True)
        for corpus in args.corpus.split(","):
            for kind in args.kinds.split(","):
                log(f"{corpus}: mutate --kind {kind}")
                row, text = measure(corpus, kind, work, args.show, args.examples)
                rows.append(row)
                if text:
                    shown.append(f"######## {corpus} {kind}\n{text}")
    if args.show:
        args.show_to.write_text("".join(shown), encoding="utf-8")
        log(f"commits written to {args.show_to}")
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
