#!/usr/bin/env python3
"""Real history: does ``kbmine mutate --kind relink`` repair rename-broken links as people did?

Usage::

    python scripts/relink_history.py                        # the commonplace bundle, 40 cases
    python scripts/relink_history.py --source REPO_OR_BUNDLE --max-cases 20 --seed 3
    python scripts/relink_history.py --json                 # everything as JSON on stdout

The source (a git bundle or repository) is cloned into a temporary folder; the source
itself is never touched. The whole repository is the KB (obsidian dialect).

How a case is identified
------------------------

1. *A rename*: a non-merge commit R whose diff against its first parent P shows renames
   (``git log -M --diff-filter=R``: old path → new path).
2. *A link it left broken*: a note N in R's tree (a file with a note extension, no hidden
   folder) whose text at R contains a link L (kbmine's own parser) such that

   - at R, L is broken: kbmine's resolver, built over R's tree, finds nothing for it;
   - at P, L pointed at a path R renamed: the same link, resolved over P's tree from N's
     path at P (its old path if R moved N too; its path at R if R created N), reaches
     ``old``. ``new`` is where R moved ``old``.

   One case per link occurrence (N, L). Only the notes whose text at R names the old file
   (``git grep`` for its name or stem) are parsed.
3. *A person's repair*: the commits after R that change N (``git log --ancestry-path
   --follow R..HEAD -- N``, oldest first) are replayed; links are matched from one version
   of N to the next by a diff of their written form (``difflib``): an unchanged link is
   the same link; in a replaced run of links they pair by position when the run keeps its
   length, else by label. The first commit F in which L's counterpart resolves (over F's
   tree) is the repair, and its resolved path the human's target. A counterpart that is
   still broken is followed further. Other endings are counted, not compared: the link
   deleted or rewritten beyond pairing, N deleted, L resolving again with its destination
   as written (a note was created at the old path), or still broken at HEAD.

The resolver here is kbmine's, fed with the file lists of the commit (``git ls-tree``) and
notes without frontmatter: a wikilink written as an alias does not resolve here. Such a
link is not "pointing at ``old``" at P, so it never makes a case. Anchors are ignored: a
case is about which note a link reaches.

Comparing with kbmine
---------------------

Cases are grouped by R; groups are taken in a seeded random order until ``--max-cases``
cases are reached (the last group trimmed). A clone is checked out at R (detached HEAD)
and ``kbmine.mutate.engine.mutate(..., dry_run=True)`` run once for the whole group, with
``rules={"broken-link"}``: only the fixes of broken links are proposed and verified (the
other repairs never edit a broken link's destination, and verifying the KB's thousand
linkable mentions would triple the run); ``--all-fixes`` runs every relink repair. A
proposal belongs to a case when one of its edits covers L's destination (``target_span``;
a shared reference definition serves all its links). Verdicts:

``equal``      kbmine's target, followed through the renames made between R and F, is the
               human's target (``same text``: the destination kbmine writes is byte for
               byte the one the person wrote);
``different``  kbmine proposed another note;
``missed``     no proposal, or a proposal kbmine's own verification refused (its reason is
               shown).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, OrderedDict, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scriptkit  # noqa: E402

from kbmine.config import DEFAULT_EXCLUDE  # noqa: E402
from kbmine.files import glob_matcher  # noqa: E402
from kbmine.model import Link, Note, path_stem  # noqa: E402
from kbmine.parse import parse_note  # noqa: E402
from kbmine.resolve import Resolver  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KBMINE_SHARED", REPO.parent / "shared"))
DEFAULT_SOURCE = SHARED / "corpora" / "commonplace-kb.bundle"
NOTE_EXTENSIONS = (".md", ".markdown")
LINK_KINDS = ("markdown", "reference", "wikilink")


class HistoryError(Exception):
    """A failure that makes the numbers meaningless: printed as one line, exit 2."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Reading history


class History:
    """Read-only access to one clone: commands, blobs (one ``cat-file --batch``) and per-commit resolvers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = scriptkit.git_env()
        self._batch = subprocess.Popen(
            ["git", "-C", str(root), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.env,
        )
        self._resolvers: OrderedDict[str, Resolver] = OrderedDict()
        self._hidden = glob_matcher(tuple(DEFAULT_EXCLUDE))

    def close(self) -> None:
        if self._batch.stdin:
            self._batch.stdin.close()
        self._batch.wait(timeout=30)

    def git(self, *args: str) -> str:
        completed = subprocess.run(
            ["git", "-C", str(self.root), *args], capture_output=True, env=self.env, check=False
        )
        if completed.returncode != 0:
            raise HistoryError(f"git {' '.join(args[:3])} failed: {completed.stderr.decode(errors='replace').strip()}")
        return completed.stdout.decode("utf-8", "surrogateescape")

    def blob(self, commit: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``commit`` (``None`` when it is not there)."""
        assert self._batch.stdin is not None and self._batch.stdout is not None
        self._batch.stdin.write(f"{commit}:{path}\n".encode("utf-8", "surrogateescape"))
        self._batch.stdin.flush()
        header = self._batch.stdout.readline().decode("utf-8", "surrogateescape").split()
        if len(header) != 3 or header[1] != "blob":
            return None
        data = self._batch.stdout.read(int(header[2]))
        self._batch.stdout.read(1)  # the newline after the content
        return data

    def paths(self, commit: str) -> list[str]:
        return [p for p in self.git("ls-tree", "-r", "-z", "--name-only", commit).split("\0") if p]

    def resolver(self, commit: str) -> Resolver:
        """kbmine's resolver over ``commit``'s tree (notes without frontmatter: no aliases, no headings)."""
        known = self._resolvers.get(commit)
        if known is not None:
            self._resolvers.move_to_end(commit)
            return known
        notes: dict[str, Note] = {}
        files: list[str] = []
        dirs: set[str] = set()
        for path in self.paths(commit):
            if any(part.startswith(".") for part in path.split("/")[:-1]):
                continue  # hidden folders are not part of a KB
            if self._hidden is not None and self._hidden.match(path):
                continue
            parts = path.split("/")
            dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
            name = parts[-1]
            if name.lower().endswith(NOTE_EXTENSIONS) and not name.startswith("."):
                notes[path] = Note(path, path_stem(path), {}, (), (), (), (), 0, 0, "")
            else:
                files.append(path)
        resolver = Resolver(notes, files, dirs)
        self._resolvers[commit] = resolver
        if len(self._resolvers) > 48:
            self._resolvers.popitem(last=False)
        return resolver

    def links(self, path: str, data: bytes) -> list[Link]:
        return list(parse_note(path, data).links)


def is_note(path: str) -> bool:
    return path.lower().endswith(NOTE_EXTENSIONS)


@dataclass
class RenameCommit:
    """A commit that renamed files: old path → new path, against its first parent."""

    sha: str
    parent: str
    subject: str
    moves: dict[str, str]


def rename_commits(history: History) -> list[RenameCommit]:
    """Non-merge commits with renames, oldest first."""
    out = history.git("log", "-z", "-M", "--no-merges", "--diff-filter=R", "--name-status", "--format=%x01%H%x02%P%x02%s")
    commits: list[RenameCommit] = []
    for chunk in out.split("\x01")[1:]:
        head, _, rest = chunk.partition("\0")
        sha, parents, subject = (head.split("\x02") + ["", ""])[:3]
        moves = dict(_moves(rest.split("\0")))
        if moves and parents:
            commits.append(RenameCommit(sha, parents.split()[0], subject.strip(), moves))
    commits.reverse()
    return commits


def _moves(tokens: list[str]) -> list[tuple[str, str]]:
    """(old, new) pairs of the ``R`` entries in ``--name-status -z`` tokens."""
    moves: list[tuple[str, str]] = []
    index = 0
    while index < len(tokens):
        status = tokens[index].lstrip("\n")
        if status[:1] in ("R", "C") and index + 2 < len(tokens):
            if status[0] == "R":
                moves.append((tokens[index + 1], tokens[index + 2]))
            index += 3
        elif status[:1] in ("A", "D", "M", "T") and index + 1 < len(tokens):
            index += 2
        else:
            index += 1
    return moves


# --------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    """One link a rename left broken: where it is, how it ended, and (when sampled) kbmine's verdict."""

    broken_commit: str
    subject: str
    note: str  # N's path at R
    line: int
    raw: str  # L as written at R
    kind: str
    target_start: int  # L's destination in N at R (bytes)
    target_end: int
    old: str
    new: str
    outcome: str = "still broken at HEAD"
    fix_commit: str | None = None
    fix_note: str | None = None  # N's path at F
    human_target: str | None = None  # resolved over F's tree
    human_written: str | None = None
    human_to_renamed: bool | None = None  # the human's target is ``new`` (followed to F)
    kbmine: str = ""  # equal / different / missed (filled for sampled cases)
    kbmine_target: str | None = None
    kbmine_written: str | None = None
    kbmine_action: str | None = None
    kbmine_confidence: str | None = None
    kbmine_reason: str | None = None
    same_text: bool | None = None


def find_broken(history: History, commit: RenameCommit) -> list[tuple[Case, Link]]:
    """The links ``commit`` left broken by its renames (step 2 of the module docstring)."""
    names = {path_stem(old) if is_note(old) else old.rsplit("/", 1)[-1] for old in commit.moves}
    names = {name for name in names if len(name) >= 2}
    if not names:
        return []
    patterns: list[str] = []
    for name in sorted(names):
        patterns += ["-e", name]
    try:
        out = history.git("grep", "-z", "-l", "-F", "-i", *patterns, commit.sha, "--", *(f"*{e}" for e in NOTE_EXTENSIONS))
    except HistoryError:
        return []  # git grep exits 1 when nothing matches
    prefix = f"{commit.sha}:"
    candidates = sorted({p[len(prefix) :] for p in out.split("\0") if p.startswith(prefix)})
    at_r = history.resolver(commit.sha)
    at_p = history.resolver(commit.parent)
    back = {new: old for old, new in commit.moves.items()}
    found: list[tuple[Case, Link]] = []
    for note in candidates:
        if note not in at_r.notes:
            continue
        data = history.blob(commit.sha, note)
        if data is None:
            continue
        source_at_p = back.get(note, note)
        for link in history.links(note, data):
            if link.kind not in LINK_KINDS or link.external or link.target_span is None:
                continue
            if at_r.resolve(note, link).status != "broken":
                continue
            before = at_p.resolve(source_at_p, link)
            if not before.resolved or before.path not in commit.moves:
                continue
            case = Case(
                commit.sha, commit.subject, note, link.span.line, link.raw, link.kind,
                link.target_span.start, link.target_span.end, before.path, commit.moves[before.path],
            )
            found.append((case, link))
    return found


def _pair(old_links: list[Link], new_links: list[Link], tracked: set[int]) -> dict[int, int | None]:
    """Where each tracked link of the old version went in the new one (``None``: gone)."""
    def key(link: Link) -> tuple[str, str]:
        return (link.kind, link.raw)

    matcher = difflib.SequenceMatcher(None, [key(l) for l in old_links], [key(l) for l in new_links], autojunk=False)
    where: dict[int, int | None] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for index in range(i1, i2):
            if index not in tracked:
                continue
            if tag == "equal":
                where[index] = j1 + index - i1
            elif tag == "replace" and i2 - i1 == j2 - j1:
                where[index] = j1 + index - i1
            elif tag == "replace":
                same_label = [j for j in range(j1, j2) if new_links[j].label == old_links[index].label and new_links[j].kind == old_links[index].kind]
                where[index] = same_label[0] if len(same_label) == 1 else None
            else:
                where[index] = None
    return where


def follow_repairs(history: History, group: list[tuple[Case, Link]]) -> None:
    """Step 3: replay the commits after R that change the note; record each case's ending."""
    first = group[0][0]
    out = history.git(
        "log", "--ancestry-path", "--follow", "-M", "-z", "--name-status", "--format=%x01%H",
        f"{first.broken_commit}..HEAD", "--", first.note,
    )
    steps: list[tuple[str, str, str]] = []  # (commit, status letter, the note's path after it)
    for chunk in out.split("\x01")[1:]:
        sha, _, rest = chunk.partition("\0")
        tokens = [t.lstrip("\n") for t in rest.split("\0")]
        tokens = [t for t in tokens if t]
        status = tokens[0][:1] if tokens else ""
        after = tokens[2] if status in ("R", "C") and len(tokens) > 2 else tokens[1] if len(tokens) > 1 else ""
        steps.append((sha.strip(), status, after))  # a merge shows no diff: status ""
    steps.reverse()
    path = first.note
    data = history.blob(first.broken_commit, path) or b""
    links = history.links(path, data)
    position = {id(case): [l.span.start for l in links].index(link.span.start) for case, link in group}
    pending = {id(case): case for case, _ in group}
    for sha, status, new_path in steps:
        if not pending:
            break
        if status == "D":
            for case in pending.values():
                case.outcome = "note deleted"
            pending.clear()
            break
        path = new_path or path
        data_after = history.blob(sha, path)
        if data_after is None or data_after == data:
            continue
        links_after = history.links(path, data_after)
        where = _pair(links, links_after, {position[key] for key in pending})
        resolver = history.resolver(sha)
        for key, case in list(pending.items()):
            index = where.get(position[key])
            if index is None:
                case.outcome = "link deleted or rewritten"
                del pending[key]
                continue
            link = links_after[index]
            resolution = resolver.resolve(path, link)
            if resolution.resolved:
                del pending[key]
                if link.target == links[position[key]].target:
                    case.outcome = "resolves again, destination not edited"
                    continue
                span = link.target_span
                case.outcome = "repaired"
                case.fix_commit, case.fix_note, case.human_target = sha, path, resolution.path
                case.human_written = data_after[span.start : span.end].decode("utf-8", "replace") if span else None
            position[key] = index
        links, data = links_after, data_after


def renames_between(history: History, start: str, end: str) -> list[tuple[str, str]]:
    """Renames made after ``start`` up to ``end`` (on paths from one to the other), oldest first."""
    out = history.git("log", "--ancestry-path", "-M", "--no-merges", "--diff-filter=R", "-z", "--name-status", "--format=%x01", f"{start}..{end}")
    moves: list[tuple[str, str]] = []
    for chunk in reversed(out.split("\x01")[1:]):
        moves += _moves(chunk.split("\0"))
    return moves


def follow(path: str, moves: list[tuple[str, str]]) -> str:
    for old, new in moves:
        if old == path:
            path = new
    return path


def discover(history: History) -> tuple[list[Case], dict[str, Any]]:
    """Every case in the history (steps 1-3), with counts of how the broken links ended."""
    commits = rename_commits(history)
    cases: list[Case] = []
    for number, commit in enumerate(commits, 1):
        broken = find_broken(history, commit)
        by_note: dict[str, list[tuple[Case, Link]]] = defaultdict(list)
        for case, link in broken:
            by_note[case.note].append((case, link))
        for group in by_note.values():
            follow_repairs(history, group)
        cases += [case for case, _ in broken]
        if number % 20 == 0:
            log(f"  {number}/{len(commits)} rename commits read, {len(cases)} broken links so far")
    moves_cache: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for case in cases:
        if case.outcome == "repaired" and case.fix_commit:
            span = (case.broken_commit, case.fix_commit)
            if span not in moves_cache:
                moves_cache[span] = renames_between(history, *span)
            case.human_to_renamed = follow(case.new, moves_cache[span]) == case.human_target
    stats = {
        "rename_commits": len(commits),
        "renames": sum(len(c.moves) for c in commits),
        "commits_leaving_broken_links": len({c.broken_commit for c in cases}),
        "broken_links": len(cases),
        "outcomes": dict(Counter(c.outcome for c in cases).most_common()),
        "repaired_to_the_renamed_note": sum(1 for c in cases if c.human_to_renamed),
        "repaired_elsewhere": sum(1 for c in cases if c.human_to_renamed is False),
    }
    return cases, stats


def sample(cases: list[Case], max_cases: int, seed: int) -> list[Case]:
    """Repaired cases grouped by broken commit, groups in a seeded order, up to ``max_cases``."""
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        if case.outcome == "repaired":
            groups[case.broken_commit].append(case)
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    chosen: list[Case] = []
    for commit in order:
        if len(chosen) >= max_cases:
            break
        chosen += groups[commit][: max_cases - len(chosen)]
    return chosen


# --------------------------------------------------------------------------------------
# kbmine at the broken commit


def compare_with_kbmine(
    history: History, clone: Path, cases: list[Case], jobs: int | None, all_fixes: bool = False
) -> list[dict[str, Any]]:
    """One dry run of ``kbmine mutate`` per broken commit; a verdict for each case."""
    from kbmine.mutate.engine import mutate

    by_commit: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_commit[case.broken_commit].append(case)
    runs: list[dict[str, Any]] = []
    for number, (commit, group) in enumerate(by_commit.items(), 1):
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", "-f", "--detach", commit], check=True, env=history.env)
        started = time.perf_counter()
        run = mutate(clone, ["relink"], dry_run=True, jobs=jobs, rules=None if all_fixes else {"broken-link"})
        seconds = time.perf_counter() - started
        runs.append({"commit": commit, "cases": len(group), "proposed": run.proposed, "diffs": len(run.diffs), "skipped": len(run.skipped), "seconds": round(seconds, 1)})
        log(f"  [{number}/{len(by_commit)}] {commit[:10]}: {len(group)} cases, kbmine proposed {run.proposed} fixes ({seconds:.0f} s)")
        moves: dict[str, list[tuple[str, str]]] = {}
        for case in group:
            covering = _covering(case, [m for m, _ in run.diffs]) + [
                (mutation, reason, edit)
                for mutation, reason in run.skipped
                for edit in mutation.edits
                if edit.path == case.note and edit.start <= case.target_start and case.target_end <= edit.end
            ]
            accepted = [item for item in covering if item[1] is None]
            if not accepted:
                case.kbmine = "missed"
                case.kbmine_reason = covering[0][1] if covering else "no proposal"
                continue
            mutation, _, edit = accepted[0]
            assert mutation.expect is not None
            case.kbmine_target = mutation.expect.target
            case.kbmine_written = edit.new.decode("utf-8", "replace")
            case.kbmine_action, case.kbmine_confidence = mutation.action, mutation.confidence
            assert case.fix_commit is not None
            if case.fix_commit not in moves:
                moves[case.fix_commit] = renames_between(history, commit, case.fix_commit)
            same = follow(mutation.expect.target, moves[case.fix_commit]) == case.human_target
            case.kbmine = "equal" if same else "different"
            case.same_text = same and case.kbmine_written == case.human_written
    return runs


def _covering(case: Case, made: list[Any]) -> list[tuple[Any, str | None, Any]]:
    """The edits of ``made`` (in the order they were made) that cover the case's link target.

    Each fix's edits are on the bytes the fixes before it left, so the
    target's place is moved past every earlier edit in its note first.
    """
    start, end = case.target_start, case.target_end
    found: list[tuple[Any, str | None, Any]] = []
    for mutation in made:
        edits = [edit for edit in mutation.edits if edit.path == case.note]
        found += [(mutation, None, edit) for edit in edits if edit.start <= start and end <= edit.end]
        start += sum(len(e.new) - (e.end - e.start) for e in edits if e.end <= start)
        end += sum(len(e.new) - (e.end - e.start) for e in edits if e.end <= end)
    return found


# --------------------------------------------------------------------------------------
# Driving and output


def clone_source(source: Path, target: Path) -> None:
    if not source.exists():
        raise HistoryError(f"{source} does not exist")
    completed = subprocess.run(["git", "clone", "-q", str(source), str(target)], capture_output=True, text=True, env=scriptkit.git_env(), check=False)
    if completed.returncode != 0:
        raise HistoryError(f"cannot clone {source}: {completed.stderr.strip()}")


def summary(stats: dict[str, Any], chosen: list[Case]) -> dict[str, Any]:
    verdicts = Counter(c.kbmine for c in chosen)
    proposed = verdicts["equal"] + verdicts["different"]
    return {
        **stats,
        "sampled": len(chosen),
        "sampled_commits": len({c.broken_commit for c in chosen}),
        "kbmine_proposed": proposed,
        "equal": verdicts["equal"],
        "different": verdicts["different"],
        "missed": verdicts["missed"],
        "same_text": sum(1 for c in chosen if c.same_text),
        "equal_share": round(verdicts["equal"] / len(chosen), 3) if chosen else None,
        "equal_share_of_proposed": round(verdicts["equal"] / proposed, 3) if proposed else None,
    }


def _tail(text: str | None, width: int) -> str:
    text = text or "-"
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def print_report(document: dict[str, Any]) -> None:
    s = document["summary"]
    print(f"rename commits: {s['rename_commits']} ({s['renames']} renames); {s['commits_leaving_broken_links']} left links broken")
    print(f"broken links left by renames: {s['broken_links']}; how they ended: {s['outcomes']}")
    print(f"repaired by a person: to the renamed note {s['repaired_to_the_renamed_note']}, elsewhere {s['repaired_elsewhere']}")
    print()
    print(f"{'commit':<10} {'note:line':<56} {'the human fix points at':<64} {'kbmine':<9} text")
    for c in document["cases"]:
        where = f"{c['note']}:{c['line']}"
        text = "" if c["same_text"] is None else "same" if c["same_text"] else "diff"
        print(f"{c['broken_commit'][:10]} {_tail(where, 56):<56} {_tail(c['human_target'], 64):<64} {c['kbmine']:<9} {text}")
        if c["kbmine"] == "different":
            print(f"{'':<11}kbmine: {c['kbmine_target']} ({c['kbmine_action']}, {c['kbmine_confidence']} confidence)")
        elif c["kbmine"] == "missed":
            print(f"{'':<11}kbmine: {c['kbmine_reason']}")
        if c["same_text"] is False and c["kbmine"] == "equal":
            print(f"{'':<11}wrote {c['kbmine_written']!r}, the person {c['human_written']!r}")
    print()
    print(
        f"cases found {s['broken_links']} (repaired by a person {s['outcomes'].get('repaired', 0)}); sampled {s['sampled']} "
        f"at {s['sampled_commits']} commits: kbmine proposed {s['kbmine_proposed']}, equal to the human fix {s['equal']} "
        f"(same text {s['same_text']}), different {s['different']}, missed {s['missed']}; "
        f"equal share {s['equal_share']}, of proposed {s['equal_share_of_proposed']}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="a git bundle or repository (cloned, never touched)")
    parser.add_argument("--max-cases", type=int, default=40, help="repaired cases compared with kbmine (default 40)")
    parser.add_argument("--seed", type=int, default=1, help="order in which broken commits are sampled")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes for kbmine's parse")
    parser.add_argument("--all-fixes", action="store_true", help="let kbmine propose every relink repair, not only broken links")
    parser.add_argument("--json", action="store_true", help="the results as JSON on stdout")
    parser.add_argument("--workdir", type=Path, default=None, help="where the clone goes (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kbmine-history-", dir=args.workdir))
    clone = work / "repo"
    history: History | None = None
    started = time.perf_counter()
    try:
        clone_source(args.source.resolve(), clone)
        history = History(clone)
        log(f"reading the history of {args.source}")
        cases, stats = discover(history)
        log(f"{stats['broken_links']} broken links at {stats['commits_leaving_broken_links']} commits; outcomes {stats['outcomes']}")
        chosen = sample(cases, args.max_cases, args.seed)
        runs = compare_with_kbmine(history, clone, chosen, args.jobs, args.all_fixes)
    except HistoryError as exc:
        print(f"relink_history: {exc}", file=sys.stderr)
        return 2
    finally:
        if history is not None:
            history.close()
        if args.keep:
            log(f"clone kept in {clone}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    document = {
        "source": str(args.source),
        "seed": args.seed,
        "max_cases": args.max_cases,
        "seconds": round(time.perf_counter() - started, 1),
        "summary": summary(stats, chosen),
        "runs": runs,
        "cases": [asdict(c) for c in chosen],
        "unsampled": [asdict(c) for c in cases if id(c) not in {id(x) for x in chosen}],
    }
    if args.json:
        json.dump(document, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        print_report(document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
