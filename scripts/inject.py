#!/usr/bin/env python3
"""Defect injection: per-rule recall and precision of ``kbmine check`` against known defects.

Usage::

    python scripts/inject.py                          # the three corpora of ../shared/corpora
    python scripts/inject.py --corpus foam            # one of them (commonplace, hyalo, foam)
    python scripts/inject.py --path DIR               # any KB folder (copied first, never touched)
    python scripts/inject.py --kinds rename,unlink    # only some kinds
    python scripts/inject.py --count 10 --seed 7      # injections per kind, RNG seed
    python scripts/inject.py --commit                 # also commit the injection (git KBs)
    python scripts/inject.py --json                   # the results as JSON on stdout
    python scripts/inject.py --mutate                 # the repair benchmark (rename, unlink), below
    python scripts/inject.py --mutate --mutate-kinds relink   # ...with only some of kbmine's mutations

This is how the rules are judged: known defects are injected into a real KB and each rule
must find at least 90 % of them (recall) while at least 90 % of its *new* findings (the
findings after the injection minus those before it) are due to an injection (precision).

For each KB, ``kbmine check --format json --no-cache`` runs once on a pristine copy (the
baseline, shared by every kind), then for each kind a fresh copy gets the injections and
is checked again. The kinds, each in its own copy so they do not interfere (the rules
after each name must find its injections):

``rename`` (broken-link)
    A note with inbound links from other notes (a unique file name, so a bare
    ``[[name]]`` cannot fall back on a namesake) is renamed to a new kebab-case name in the
    same folder; no link is updated. Expected: a broken-link finding at every inbound link
    whose written target names the old file (links that resolve by alias keep working and
    are not expected). A new broken-link finding counts as correct when the link it sits on
    resolved to a renamed note before the injection.
``unlink`` (missing-link)
    A body link ``[text](x.md)`` / ``[[x]]`` / ``[[x|text]]`` (not in code, frontmatter or a
    heading, not an embed) whose visible text equals the target's title or file name
    (``-``, ``_``, ``.`` read as spaces; case-insensitive), in a note with no other link to
    that target, is replaced by its visible text. Expected: a missing-link finding in that
    note with ``data.target`` = the target. Links whose visible text is something else are
    counted (undetectable by definition) but not injected.
``duplicate`` (duplicate-claim)
    A plain paragraph of 30-80 words of note A (not already part of a baseline duplicate,
    not linking to A itself) gets 2-3 words changed (a synonym or a deletion) and is
    appended to an unrelated note B (no link between A and B either way; each note is an A
    or a B at most once). Expected: a duplicate-claim finding in the copy whose
    ``data.others`` lists A. Correct: a new finding on the copy, or on A naming B. New
    findings that only re-order a baseline duplicate (B became the newest note, so the
    finding moved from its old copy to B) are counted apart ("reordered").
``supersede`` (stale-status)
    A note with no status or a live one, with at least two inbound links from other live
    notes, gets ``status: superseded`` (a frontmatter line replaced or added, or a
    frontmatter block added; every other byte kept). Expected: a ``links-to-dead`` finding
    at every link to it from a note that is still live (frontmatter links under lineage
    keys such as ``supersedes`` excepted). A ``no-successor`` finding on such a note (kbmine
    leaves it to the links' findings when live notes link the note) is counted apart:
    precision is given with those findings left out and, as ``strict``, counting them as
    false positives.
``deprecate`` (stale-status)
    As ``supersede``, with another dead status drawn per note (deprecated, archived,
    obsolete, outdated, retired): a ``links-to-dead`` finding at every link to it from a
    live note; no ``no-successor`` finding is due (that one is about ``superseded``).
``anchor`` (broken-anchor)
    A note with a heading (not an explicit ``{#id}``, not repeated in the note) or a
    ``^block`` id that links name by anchor (``[x](note.md#slug)``, ``[[note#Heading]]``,
    ``[[note#A#Heading]]``, ``[x](#slug)`` in the note itself, ``[[note#^id]]``): the
    heading gets a word put in front (``## Setup`` -> ``## Tundra Setup``) or the block id
    is removed. A link names the heading when its anchor and the heading text agree in
    letters and digits, case aside (or the anchor names the part before a colon).
    Expected: a broken-anchor finding at each such link. Correct: a new broken-anchor
    finding on a link whose anchor worked into a changed note.
``delete`` (broken-link, orphan-note)
    Notes with inbound links from other notes are deleted. Expected: a broken-link
    finding at every link to them from a note that stays (embeds and frontmatter links
    included), and an orphan-note finding on every note that only deleted notes linked
    (index names such as ``README.md`` included: kbmine exempts the top-most index of a
    branch, the miss says so).
``orphan`` (orphan-note)
    A note linked from exactly one other note (body links only) loses all those links:
    each replaced by its visible text (an embed removed), an unused reference definition
    line removed. Expected: an orphan-note finding on it. The missing-link findings the
    visible text may leave are side effects.
``move`` (broken-link)
    A note with a unique file name moves to another folder of the KB (no link between
    two moved notes). Expected, as GitHub reads links: a broken-link finding at each
    relative markdown link out of it that no longer reaches a file from the new folder,
    at each markdown link into it, and at each wikilink into it written with a folder.
    Links kbmine keeps resolving by design in its Obsidian dialect (a bare file name
    unique in the KB, a path read from the root) are counted apart as ``kept``; bare
    wikilinks are unaffected. Correct: a new broken-link finding on a link out of a moved
    note or on a link that reached one.
``frontmatter`` (invalid-frontmatter)
    A note's frontmatter gets one hand-edit mistake: an unclosed quote or bracket on a
    value, a key indented under another, a key written twice, or the closing ``---``
    removed. Expected: an invalid-frontmatter finding in the note.
``namesake`` (ambiguous-link)
    A new note with an existing note's file name appears in another folder (not the
    root). Expected: an ambiguous-link finding at each link that found the original by
    its file name alone (a wikilink without a folder, a markdown link whose path does not
    reach it from its note's folder or the root).
``tasks`` (stale-status)
    A done note (completed, closed...) gets an open ``- [ ]`` task appended, or a live note
    with open tasks gets a done status. Expected: an ``open-tasks`` finding in the note.
``dated`` (stale-status; git KBs only)
    A note without a date field gets ``updated:`` a year before its last commit or a year
    from now. Expected: a ``date-mismatch`` finding in the note.

Subtracting the baseline: findings are matched first on (rule, path, bytes, key) and then
on (rule, path, key), where the key survives edits elsewhere in the note: broken-link
(target, kind, anchor), missing-link (target), duplicate-claim (words, preview),
stale-status (kind, target, field), broken-anchor (target, message without its "did you
mean" suggestion, which changes with the target's headings). Paths (and paths inside ``data``) of the baseline are
mapped through the renames first, so a renamed note's own findings are not "new".

The tables list per kind: injections, expected findings, expected found, new findings of
the rule, new findings due to an injection, recall and precision; then, per rule, the
precision a judge injecting every kind into one KB would see if it expected only what it
injected (each kind's side effects on other rules counted as false positives: see
:func:`together`); then examples of misses and false positives, the candidate counts and
the new findings of other rules (side effects). Runs take a while on the commonplace corpus (each check ~30 s on two cores).

The repair benchmark (``--mutate``, kinds ``rename`` and ``unlink``) judges ``kbmine
mutate`` instead. A plain-folder KB becomes a git repository first (its pristine state
committed), and the baseline is checked there. For each kind a copy gets the same
injections as above, committed as one commit; then ``kbmine mutate`` (the library call the
CLI makes; every mutation kind unless ``--mutate-kinds`` says otherwise) commits its fixes
on ``kbmine/review``, ``kbmine review accept --all`` cherry-picks them all, and the
accepted KB is read back:

- ``rename``: share of the injected broken links (one per inbound link that named the old
  file) whose link, at its place after kbmine's edits, resolves to the renamed note
  (goal >= 0.95); a link in a passage an extract moved into a note of its own counts when
  that note links the renamed note ("moved into an extracted note");
- ``unlink``: share of the removed links whose note links the right target again (goal
  >= 0.80; "in place" counts those where kbmine's link covers the text left behind);
- wrong: among kbmine's commits that touch an injected place (an edit overlapping it, or
  for unlink a link added in that note to the removed link's target), the share whose
  link points at another note than the injection expects (goal <= 0.02);
- ``kbmine check`` after accepting, against the baseline: injected findings left (goal 0)
  and new findings of any rule (goal 0). kbmine also fixes the KB's own findings; those
  that disappear are listed as "baseline findings fixed too". A duplicate-claim finding
  about a pair of notes the baseline already reported, now at the other copy (the rule
  reports the copy in the most recently changed note, and kbmine's commits change
  notes), is counted apart as "moved", not as new.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scriptkit  # noqa: E402

from kbmine.mine.mutants import NEW_NAME_WORDS, names_file  # shared with kbmine specs test

if TYPE_CHECKING:
    from kbmine.kb import KB
    from kbmine.model import Edit
    from kbmine.mutate.model import Mutation

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KBMINE_SHARED", REPO.parent / "shared"))
CORPORA = SHARED / "corpora"
KINDS = (
    "rename", "unlink", "duplicate", "supersede", "deprecate", "anchor", "delete", "orphan", "move", "frontmatter", "namesake",
    "tasks", "dated",
)
#: The rules each kind's injections must be found by (the first is the kind's own).
RULES_OF = {
    "rename": ("broken-link",), "unlink": ("missing-link",), "duplicate": ("duplicate-claim",),
    "supersede": ("stale-status",), "deprecate": ("stale-status",), "anchor": ("broken-anchor",),
    "delete": ("broken-link", "orphan-note"), "orphan": ("orphan-note",), "move": ("broken-link",),
    "frontmatter": ("invalid-frontmatter",), "namesake": ("ambiguous-link",), "tasks": ("stale-status",),
    "dated": ("stale-status",),
}
RULE_OF = {kind: rules[0] for kind, rules in RULES_OF.items()}
#: Dead statuses other than ``superseded`` the ``deprecate`` kind sets.
DEAD_VALUES = ("deprecated", "archived", "obsolete", "outdated", "retired")
CORPUS_NAMES = {
    "commonplace": "commonplace-kb.bundle",
    "hyalo": "hyalo-kb",
    "foam": "foam-docs",
}
AUTHOR = {
    "GIT_AUTHOR_NAME": "kbmine injector",
    "GIT_AUTHOR_EMAIL": "inject@example.invalid",
    "GIT_COMMITTER_NAME": "kbmine injector",
    "GIT_COMMITTER_EMAIL": "inject@example.invalid",
}

#: Words a light edit may swap; anything else is deleted instead.
SYNONYMS = {
    "important": "crucial", "often": "frequently", "because": "since", "shows": "demonstrates",
    "show": "demonstrate", "makes": "renders", "uses": "employs", "use": "employ", "large": "big",
    "small": "little", "help": "assist", "helps": "assists", "start": "begin", "starts": "begins",
    "different": "distinct", "many": "numerous", "example": "instance", "however": "yet",
    "also": "additionally", "quickly": "rapidly", "simple": "plain", "problem": "issue",
    "problems": "issues", "need": "require", "needs": "requires", "change": "alter", "changes": "alters",
    "build": "construct", "keep": "retain", "whole": "entire", "main": "primary", "only": "solely",
    "good": "sound", "each": "every", "method": "approach", "idea": "notion", "ideas": "notions",
    "answer": "response", "create": "produce", "creates": "produces", "get": "obtain", "gets": "obtains",
    "think": "believe", "find": "locate", "finds": "locates", "give": "provide", "gives": "provides",
    "about": "regarding", "before": "prior to", "after": "following", "enough": "sufficient",
    "usually": "typically", "whether": "if", "might": "may", "could": "would", "should": "ought to",
    "easy": "straightforward", "hard": "difficult", "fast": "quick", "slow": "sluggish",
    "clear": "obvious", "check": "verify", "checks": "verifies", "instead": "rather",
    "because of": "due to", "allows": "permits", "allow": "permit", "data": "information",
    "user": "person", "users": "people", "system": "setup", "systems": "setups", "task": "job",
    "tasks": "jobs", "works": "functions", "work": "function", "first": "initial", "final": "last",
    "goal": "aim", "goals": "aims", "common": "frequent", "specific": "particular", "several": "various",
    "later": "afterwards", "already": "previously", "directly": "straight", "every": "each",
    "current": "present", "possible": "feasible", "similar": "comparable", "rather": "instead",
}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_NOT_PARAGRAPH = re.compile(
    r"^(?: {0,3}(?:#{1,6}(?:\s|$)|>|[-*+](?:\s|$)|\d{1,9}[.)](?:\s|$)|\||<|\$\$|\[\^|\[[^\]]+\]:\s|={2,}\s*$|-{2,}\s*$|:::)"
    r"|\t| {4})"
)
_HEADING_LINE = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_PROTECTED = re.compile(r"\]\([^)\n]*\)|\[\[[^\]\n]*\]\]|`[^`\n]*`|<[^>\n]*>|https?://\S+|\[[^\]\n]*\]")
_EDITABLE_WORD = re.compile(r"(?<![\w/.#-])[A-Za-z]{3,}(?![\w/.-])")
_FRONTMATTER = re.compile(r"\A(\ufeff?)---[ \t]*(\r?\n)(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)


class InjectError(Exception):
    """A failure that makes the numbers meaningless: printed as one line, exit 2."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Running kbmine and git


def git_env() -> dict[str, str]:
    return scriptkit.git_env(AUTHOR["GIT_AUTHOR_NAME"], AUTHOR["GIT_AUTHOR_EMAIL"])


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, env=env or git_env(), check=False
    )
    if completed.returncode != 0:
        raise InjectError(f"git {' '.join(args)} failed in {root}: {completed.stderr.strip()}")
    return completed.stdout


def is_git_root(root: Path) -> bool:
    return (root / ".git").exists()


def run_check(root: Path, jobs: int | None) -> tuple[list[dict[str, Any]], float]:
    """``kbmine check ROOT --format json --no-cache``: its findings and the wall time."""
    command = [sys.executable, "-m", "kbmine", "check", str(root), "--format", "json", "--no-cache"]
    if jobs:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=git_env(), check=False)
    seconds = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        raise InjectError(f"kbmine check {root} exited {completed.returncode}: {completed.stderr.strip()[-2000:]}")
    try:
        document = json.loads(completed.stdout)
    except json.JSONDecodeError as exc:
        raise InjectError(f"kbmine check {root}: output is not JSON ({exc})") from exc
    return list(document["findings"]), seconds


# --------------------------------------------------------------------------------------
# Inventory of a pristine KB (kbmine's own parse: links with spans, titles, statuses)


@dataclass
class LinkInfo:
    source: str
    index: int
    kind: str
    raw: str
    target: str  # as written (decoded, anchor split off)
    anchor: str | None
    label: str | None
    start: int
    end: int
    line: int
    in_frontmatter: bool
    frontmatter_key: str | None
    is_embed: bool
    status: str  # resolution status
    resolved: str | None  # resolved note path
    anchor_ok: bool | None = None  # whether the anchor named something in the target


@dataclass
class NoteInfo:
    path: str
    title: str
    stem: str
    aliases: tuple[str, ...]
    status: str | None
    has_frontmatter: bool
    body_start: int
    headings: list[tuple[int, int]]
    data: bytes
    #: (text, byte start, byte end, has an explicit ``{#id}``) of each heading, in order.
    heading_texts: list[tuple[str, int, int, bool]] = field(default_factory=list)
    #: (id, byte start, byte end) of each ``^block`` id.
    blocks: list[tuple[str, int, int]] = field(default_factory=list)
    keys: tuple[str, ...] = ()  # frontmatter keys
    tasks_open: int = 0


@dataclass
class Inventory:
    notes: dict[str, NoteInfo]
    links: list[LinkInfo]
    live: frozenset[str]
    lineage_keys: frozenset[str]
    #: Every other path a link may reach: attachments and folders.
    files: frozenset[str] = frozenset()
    dirs: frozenset[str] = frozenset()
    #: path -> (first, last) commit time, epoch seconds; None outside git.
    git_dates: dict[str, tuple[int, int]] | None = None

    def outbound(self) -> dict[str, list[LinkInfo]]:
        result: dict[str, list[LinkInfo]] = defaultdict(list)
        for link in self.links:
            result[link.source].append(link)
        return result

    def inbound(self) -> dict[str, list[LinkInfo]]:
        result: dict[str, list[LinkInfo]] = defaultdict(list)
        for link in self.links:
            if link.resolved is not None and link.status == "note":
                result[link.resolved].append(link)
        return result

    def is_live(self, path: str) -> bool:
        status = self.notes[path].status
        return status is None or status.strip().lower() in self.live


def inventory(root: Path) -> Inventory:
    from kbmine.checks.stale_status import LIVE, LINEAGE_KEYS, SUCCESSOR_KEYS
    from kbmine.kb import load

    kb = load(root, use_cache=False)
    notes: dict[str, NoteInfo] = {}
    for path, note in kb.notes.items():
        if any(p.rule == "unreadable-note" for p in note.problems):
            continue
        status = note.frontmatter.get("status")
        notes[path] = NoteInfo(
            path=path,
            title=note.title,
            stem=note.stem,
            aliases=tuple(note.aliases),
            status=None if status is None else str(status),
            has_frontmatter=note.has_frontmatter,
            body_start=note.body_start,
            headings=[(h.span.start, h.span.end) for h in note.headings],
            data=kb.read_bytes(path),
            heading_texts=[(h.text, h.span.start, h.span.end, h.explicit_id is not None) for h in note.headings],
            blocks=[(b.id, b.span.start, b.span.end) for b in note.blocks],
            keys=tuple(str(k) for k in note.frontmatter),
            tasks_open=note.tasks_open,
        )
    links = []
    for path, note in kb.notes.items():
        if path not in notes:
            continue
        for index, (link, resolution) in enumerate(zip(note.links, kb.resolutions[path])):
            links.append(
                LinkInfo(
                    source=path, index=index, kind=link.kind, raw=link.raw, target=link.target, anchor=link.anchor,
                    label=link.label, start=link.span.start, end=link.span.end, line=link.span.line,
                    in_frontmatter=link.in_frontmatter, frontmatter_key=link.frontmatter_key, is_embed=link.is_embed,
                    status=resolution.status, resolved=resolution.path, anchor_ok=resolution.anchor_ok,
                )
            )
    lineage = frozenset(k.lower() for k in (*LINEAGE_KEYS, *SUCCESSOR_KEYS))
    dates = kb.git_dates
    return Inventory(notes, links, frozenset(LIVE), lineage, frozenset(kb.files), frozenset(kb.dirs), dict(dates) if dates else None)


# --------------------------------------------------------------------------------------
# Injections


@dataclass
class Expected:
    """One finding an injection must produce."""

    path: str
    line: int
    what: str
    match: Callable[[dict[str, Any]], bool] = field(repr=False)
    why_hard: str = ""
    rule: str = ""  # the rule that must find it ("": the kind's first rule)


@dataclass(frozen=True)
class Site:
    """One injected defect's place in the injected copy and the note its repair must reach."""

    path: str
    start: int
    end: int
    expect: str
    written: str  # the link's target as written (rename), or the text left in its place (unlink)
    raw: str


@dataclass
class Plan:
    """What one kind did to a copy: files to write/rename, what to expect, how to attribute."""

    kind: str
    injections: list[dict[str, Any]] = field(default_factory=list)
    writes: dict[str, bytes] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)
    #: new finding of the rule → "injected", "side" (expected side effect, counted apart) or "" (false positive)
    attribute: Callable[[dict[str, Any]], str] = field(default=lambda f: "", repr=False)
    stats: dict[str, Any] = field(default_factory=dict)
    #: Where each defect sits in the injected copy, for scoring repairs (``--mutate``): the
    #: note, the byte range (the broken link, or the text that replaced a link), the note
    #: a repair must point at, and the link as written before.
    sites: list[Site] = field(default_factory=list)

    def apply(self, root: Path) -> None:
        for path, data in self.writes.items():
            (root / path).write_bytes(data)
        for old, new in self.renames.items():
            os.rename(root / old, root / new)
        for path in self.deletes:
            (root / path).unlink()


def _norm(text: str, separators: bool = False) -> str:
    text = unicodedata.normalize("NFC", text).strip().lower()
    if separators:
        text = re.sub(r"[-_.\s]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _fence_ranges(text: str) -> tuple[list[tuple[int, int]], bool]:
    """Character ranges of fenced code blocks, and whether the last fence is left open."""
    ranges = []
    position = 0
    fence: str | None = None
    opened = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        match = _FENCE.match(stripped)
        if fence is None:
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                fence, opened = match.group(1), position
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) and not match.group(2).strip():
            ranges.append((opened, position + len(line)))
            fence = None
        position += len(line)
    if fence is not None:
        ranges.append((opened, position))
    return ranges, fence is not None


def plan_rename(inv: Inventory, rng: random.Random, count: int) -> Plan:
    plan = Plan("rename")
    stems = Counter(n.stem.lower() for n in inv.notes.values())
    taken = {p.lower() for p in inv.notes} | {n.stem.lower() for n in inv.notes.values()}
    taken |= {l.target.lower().rsplit("/", 1)[-1].removesuffix(".md") for l in inv.links}
    inbound = inv.inbound()
    candidates = []
    by_alias = 0
    for path, note in inv.notes.items():
        if stems[note.stem.lower()] != 1:
            continue
        breaking = [l for l in inbound.get(path, []) if l.source != path and _names_file(l, note)]
        by_alias += sum(1 for l in inbound.get(path, []) if l.source != path and not _names_file(l, note))
        if breaking:
            candidates.append(path)
    plan.stats = {"candidates": len(candidates), "inbound_by_alias_or_title_not_expected": by_alias}
    chosen = rng.sample(sorted(candidates), min(count, len(candidates)))
    for old in chosen:
        folder, _, name = old.rpartition("/")
        extension = name.rsplit(".", 1)[-1]
        while True:
            stem = "-".join(rng.sample(NEW_NAME_WORDS, 2)) + f"-{rng.randrange(10, 100)}"
            if stem not in taken:
                break
        taken.add(stem)
        plan.renames[old] = f"{folder}/{stem}.{extension}" if folder else f"{stem}.{extension}"
    moved = plan.renames
    old_of = {new: old for old, new in moved.items()}
    by_place = {(l.source, l.start): l for l in inv.links}

    for old, new in moved.items():
        note = inv.notes[old]
        links = [l for l in inbound.get(old, []) if l.source != old and _names_file(l, note)]
        plan.injections.append({"note": old, "renamed_to": new, "inbound_links": len(links)})
        for link in links:
            where = moved.get(link.source, link.source)

            def match(f: dict[str, Any], where: str = where, start: int = link.start) -> bool:
                return f["path"] == where and f["start_byte"] == start

            hint = "frontmatter link" if link.in_frontmatter else f"{link.kind} link"
            plan.expected.append(Expected(where, link.line, f"{hint} {link.raw} to renamed {old} → {new}", match))
            plan.sites.append(Site(where, link.start, link.end, new, link.target, link.raw))

    def attribute(f: dict[str, Any]) -> str:
        link = by_place.get((old_of.get(f["path"], f["path"]), f["start_byte"]))
        return "injected" if link is not None and link.resolved in moved else ""

    plan.attribute = attribute
    return plan


def _names_file(link: LinkInfo, note: NoteInfo) -> bool:
    """Whether a link's written target names the note's file (so a rename breaks it)."""
    return names_file(unquote(link.target), note.path)


def _visible_text(link: LinkInfo) -> str | None:
    if link.kind == "markdown":
        if not link.raw.startswith("[") or "](" not in link.raw:
            return None
        return link.label if link.label is not None else None
    if link.kind == "wikilink":
        if link.label is not None:
            return link.label
        inner = link.raw[2:-2] if link.raw.startswith("[[") and link.raw.endswith("]]") else None
        return inner
    return None


def plan_unlink(inv: Inventory, rng: random.Random, count: int) -> Plan:
    plan = Plan("unlink")
    outbound = inv.outbound()
    reasons: Counter[str] = Counter()
    eligible: list[tuple[LinkInfo, str, str]] = []
    mismatch_examples: list[str] = []
    for link in inv.links:
        if link.kind not in ("markdown", "wikilink") or link.in_frontmatter or link.is_embed:
            continue
        if link.status != "note" or link.resolved is None or link.resolved == link.source:
            continue
        reasons["body links to another note"] += 1
        note = inv.notes[link.source]
        target = inv.notes.get(link.resolved)
        if target is None:
            continue
        text = _decode(note.data)
        if text is None:
            reasons["skipped: note not utf-8"] += 1
            continue
        if any(a <= link.start < b for a, b in note.headings) or _in_heading_line(note.data, link.start):
            reasons["skipped: link in a heading"] += 1
            continue
        fences, _ = _fence_ranges(text)
        char_start = len(note.data[: link.start].decode("utf-8"))
        if any(a <= char_start < b for a, b in fences):
            reasons["skipped: link inside a code fence (kbmine parsed it!)"] += 1
            continue
        visible = _visible_text(link)
        if visible is None or not visible.strip():
            reasons["skipped: no visible text"] += 1
            continue
        if re.search(r"[`*\[\]<>|\\]|!\[", visible) or "\n" in visible:
            reasons["skipped: visible text has markup or a line break"] += 1
            continue
        others = [l for l in outbound[link.source] if l.resolved == link.resolved and l.index != link.index]
        if others:
            reasons["skipped: note has another link to the target"] += 1
            continue
        how = _name_kind(visible, target)
        if how is None:
            reasons["visible text != title/stem (undetectable, not injected)"] += 1
            if len(mismatch_examples) < 5:
                mismatch_examples.append(f"{link.source}:{link.line} {link.raw} (title {target.title!r})")
            continue
        reasons[f"eligible ({how})"] += 1
        eligible.append((link, visible, how))
    plan.stats = {"links": dict(sorted(reasons.items())), "not-title/stem examples": mismatch_examples}
    chosen = rng.sample(eligible, min(count, len(eligible)))
    plain = {path: _plain_prose(note) for path, note in inv.notes.items()} if chosen else {}
    edits: dict[str, list[tuple[int, int, bytes]]] = defaultdict(list)
    injected: set[tuple[str, str]] = set()
    for link, visible, how in chosen:
        edits[link.source].append((link.start, link.end, visible.encode("utf-8")))
        injected.add((link.source, link.resolved or ""))
        plan.injections.append({"note": link.source, "line": link.line, "link": link.raw, "text": visible, "target": link.resolved, "match": how})
        target = inv.notes[link.resolved or ""]

        def match(f: dict[str, Any], source: str = link.source, resolved: str = link.resolved or "") -> bool:
            return f["path"] == source and f["data"].get("target") == resolved

        plan.expected.append(
            Expected(link.source, link.line, f"{link.raw} → {visible!r} ({how} of {target.path})", match, _why_hard(visible, target, inv, inv.notes[link.source], plain))
        )
    for path, spans in edits.items():
        data = inv.notes[path].data
        for start, end, new in sorted(spans, reverse=True):
            data = data[:start] + new + data[end:]
        plan.writes[path] = data
    raw_of = {(l.source, l.start): l for l, _, _ in chosen}
    for path, spans in edits.items():
        shift = 0
        for start, end, new in sorted(spans):
            link = raw_of[(path, start)]
            plan.sites.append(Site(path, start + shift, start + shift + len(new), link.resolved or "", new.decode("utf-8"), link.raw))
            shift += len(new) - (end - start)
    plan.attribute = lambda f: "injected" if (f["path"], f["data"].get("target")) in injected else ""
    return plan


def _plain_prose(note: NoteInfo) -> str:
    """The note's body, lowercased, without code fences, links and link text (for mention counts)."""
    text = _decode(note.data[note.body_start :]) or ""
    for start, end in reversed(_fence_ranges(text)[0]):
        text = text[:start] + " " + text[end:]
    text = re.sub(r"!?\[\[[^\]\n]*\]\]|!?\[[^\]\n]*\]\([^)\n]*\)|`[^`\n]*`", " ", text)
    return text.lower()


def _in_heading_line(data: bytes, offset: int) -> bool:
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data[line_start : data.find(b"\n", offset) if data.find(b"\n", offset) >= 0 else len(data)]
    return bool(_HEADING_LINE.match(line.decode("utf-8", "replace")))


def _name_kind(visible: str, target: NoteInfo) -> str | None:
    if _norm(visible) == _norm(target.title):
        return "title"
    if _norm(visible, True) == _norm(target.title, True):
        return "title, separators differ"
    if _norm(visible) == _norm(target.stem):
        return "stem as written"
    if _norm(visible, True) == _norm(target.stem, True):
        return "stem, separators as spaces"
    return None


def _why_hard(visible: str, target: NoteInfo, inv: Inventory, note: NoteInfo, plain: dict[str, str]) -> str:
    """What may explain a miss (shown next to it): kbmine's documented limits and known gaps."""
    reasons = []
    name = _norm(visible, True)
    text = _decode(note.data) or ""
    for label in {visible, target.stem}:
        if re.search(rf"^ {{0,3}}\[{re.escape(label)}\]:[ \t]*\S", text, re.M | re.I):
            reasons.append(f"an unused link reference definition [{label}]: ... to the target stays behind")
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, name.split(" "))) + r"(?!\w)")
    mentioned = sum(1 for path, prose in plain.items() if path != target.path and pattern.search(prose))
    common = max(10, int(0.02 * len(inv.notes)))
    if mentioned > common:
        reasons.append(f"name in the plain prose of ~{mentioned} notes (kbmine's common-word limit: {common})")
    if len(name) < 4:
        reasons.append("name shorter than 4")
    if " " not in name:
        reasons.append("single word: in another case than its title only when at least half as many notes link it as write it unlinked")
    owners = [n.path for n in inv.notes.values() if name in (_norm(n.title, True), _norm(n.stem, True), *(_norm(a, True) for a in n.aliases))]
    if len(owners) > 1:
        reasons.append(f"name shared by {len(owners)} notes: {owners[:3]}")
    if re.search(r"[-_.]", visible.strip()):
        reasons.append("written with -/_/. separators")
    return "; ".join(reasons)


@dataclass
class Paragraph:
    path: str
    start: int  # bytes
    end: int
    line: int
    end_line: int
    text: str


def paragraphs(note: NoteInfo) -> list[Paragraph]:
    """Plain paragraphs of the body (no headings, lists, quotes, tables, code, HTML)."""
    text = _decode(note.data)
    if text is None:
        return []
    body_offset = len(note.data[: note.body_start].decode("utf-8", "replace"))
    fences, _ = _fence_ranges(text)
    found: list[Paragraph] = []
    block: list[tuple[int, str]] = []
    position = 0

    def flush() -> None:
        if block and not any(_NOT_PARAGRAPH.match(line) for _, line in block):
            start = block[0][0]
            end = block[-1][0] + len(block[-1][1])
            chunk = text[start:end]
            if not any(a < end and start < b for a, b in fences) and "$$" not in chunk and "<!--" not in chunk:
                start_byte = len(text[:start].encode("utf-8"))
                end_byte = start_byte + len(chunk.encode("utf-8"))
                found.append(Paragraph(note.path, start_byte, end_byte, text.count("\n", 0, start) + 1, text.count("\n", 0, end) + 1, chunk))
        block.clear()

    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if position < body_offset or not stripped.strip() or any(a <= position < b for a, b in fences):
            flush()
        else:
            block.append((position, stripped))
        position += len(line)
    flush()
    return found


def count_words(text: str) -> int:
    text = re.sub(r"\]\([^)\n]*\)", "] ", text)
    text = re.sub(r"!?\[\[(?:[^\]|\n]*\|)?([^\]\n]*)\]\]", r" \1 ", text)
    return len(re.findall(r"\w+", text))


def light_edit(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """Change 2-3 words: a synonym where one is known, else a deletion; never inside links or code."""
    protected = [(m.start(), m.end()) for m in _PROTECTED.finditer(text)]
    words = [m for m in _EDITABLE_WORD.finditer(text) if not any(a <= m.start() < b for a, b in protected)]
    wanted = rng.choice((2, 3))
    swappable = [m for m in words if m.group(0).lower() in SYNONYMS]
    rng.shuffle(swappable)
    picked = swappable[:wanted]
    rest = [m for m in words if m not in picked and len(m.group(0)) >= 4]
    rng.shuffle(rest)
    picked += rest[: wanted - len(picked)]
    changes = []
    for m in sorted(picked, key=lambda m: m.start(), reverse=True):
        word = m.group(0)
        swap = SYNONYMS.get(word.lower())
        if swap is not None:
            new = swap[0].upper() + swap[1:] if word[0].isupper() else swap
            text = text[: m.start()] + new + text[m.end() :]
            changes.append(f"{word}→{new}")
        else:
            start, end = m.start(), m.end()
            if end < len(text) and text[end] == " ":
                end += 1
            elif start > 0 and text[start - 1] == " ":
                start -= 1
            text = text[:start] + text[end:]
            changes.append(f"-{word}")
    return text, changes


def plan_duplicate(inv: Inventory, rng: random.Random, count: int, baseline: list[dict[str, Any]]) -> Plan:
    plan = Plan("duplicate")
    dup_lines: dict[str, set[int]] = defaultdict(set)
    for f in baseline:
        if f["rule"] != "duplicate-claim":
            continue
        dup_lines[f["path"]].update(range(f["line"], f["end_line"] + 1))
        for other in f["data"].get("others", []):
            dup_lines[other["path"]].add(other["line"])
    neighbours: dict[str, set[str]] = defaultdict(set)
    for link in inv.links:
        if link.resolved is not None:
            neighbours[link.source].add(link.resolved)
            neighbours[link.resolved].add(link.source)
    reasons: Counter[str] = Counter()
    pool: list[Paragraph] = []
    for path in sorted(inv.notes):
        for para in paragraphs(inv.notes[path]):
            words = count_words(para.text)
            if not 30 <= words <= 80:
                continue
            if any(line in dup_lines[path] for line in range(para.line, para.end_line + 1)):
                reasons["skipped: already a baseline duplicate"] += 1
                continue
            if any(l.source == path and l.resolved == path and para.start <= l.start < para.end for l in inv.links):
                reasons["skipped: links to its own note"] += 1
                continue
            pool.append(para)
    reasons["paragraphs of 30-80 words"] = len(pool)
    rng.shuffle(pool)
    sources_used: set[str] = set()
    targets_used: set[str] = set()
    hosts = []
    for path, note in inv.notes.items():
        text = _decode(note.data)
        if text is None or not path.lower().endswith(".md"):
            continue
        _, open_fence = _fence_ranges(text)
        if open_fence or text.rfind("<!--") > text.rfind("-->"):
            continue
        hosts.append(path)
    hosts.sort()
    appended: dict[str, tuple[int, int, str]] = {}
    for para in pool:
        if len(plan.injections) >= count:
            break
        if para.path in sources_used or para.path in targets_used:
            continue
        options = [h for h in hosts if h != para.path and h not in neighbours[para.path] and h not in sources_used and h not in targets_used]
        if not options:
            continue
        host = rng.choice(options)
        edited, changes = light_edit(para.text, rng)
        if len(changes) < 2:
            continue
        data = inv.notes[host].data
        newline = b"\r\n" if b"\r\n" in data else b"\n"
        block = edited.replace("\r\n", "\n").replace("\n", newline.decode()).encode("utf-8")
        if not data.endswith(b"\n"):
            data += newline
        data += newline
        start = len(data)
        data += block + newline
        plan.writes[host] = data
        sources_used.add(para.path)
        targets_used.add(host)
        appended[host] = (start, start + len(block), para.path)
        plan.injections.append({"from": para.path, "line": para.line, "to": host, "words": count_words(edited), "edits": changes})

        def match(f: dict[str, Any], host: str = host, span: tuple[int, int] = (start, start + len(block)), source: str = para.path) -> bool:
            return f["path"] == host and span[0] <= f["start_byte"] < span[1] and any(o["path"] == source for o in f["data"].get("others", []))

        line = _line_of(data, start)
        plan.expected.append(Expected(host, line, f"copy of {para.path}:{para.line} ({', '.join(changes)})", match))
    plan.stats = {"paragraphs": dict(sorted(reasons.items())), "hosts": len(hosts)}

    baseline_pairs = set()
    for f in baseline:
        if f["rule"] == "duplicate-claim":
            for other in f["data"].get("others", []):
                baseline_pairs.add(frozenset((f["path"], other["path"])))

    def attribute(f: dict[str, Any]) -> str:
        others = {o["path"] for o in f["data"].get("others", [])}
        place = appended.get(f["path"])
        if place is not None and place[0] <= f["start_byte"] < place[1]:
            return "injected"
        if any(host in others and source == f["path"] for host, (_, _, source) in appended.items()):
            return "injected"
        if others and all(frozenset((f["path"], o)) in baseline_pairs for o in others):
            return "reordered"
        return ""

    plan.attribute = attribute
    return plan


def plan_supersede(inv: Inventory, rng: random.Random, count: int, values: tuple[str, ...] = ("superseded",)) -> Plan:
    """Live notes marked dead (``values``, one drawn per note) while live notes still link them."""
    plan = Plan("supersede" if values == ("superseded",) else "deprecate")
    inbound = inv.inbound()

    def counted(link: LinkInfo) -> bool:
        return not (link.in_frontmatter and (link.frontmatter_key or "").lower() in inv.lineage_keys)

    reasons: Counter[str] = Counter()
    candidates = []
    for path, note in inv.notes.items():
        if not inv.is_live(path):
            continue
        reasons["live notes"] += 1
        live_in = [l for l in inbound.get(path, []) if l.source != path and inv.is_live(l.source) and counted(l)]
        if len(live_in) < 2:
            continue
        if _frontmatter_edit(note, values[0]) is None:
            reasons["skipped: frontmatter not editable"] += 1
            continue
        candidates.append(path)
    reasons["live notes with >= 2 live inbound links"] = len(candidates)
    order = sorted(candidates)
    rng.shuffle(order)
    chosen: list[str] = []
    for path in order:
        if len(chosen) >= count:
            break
        dead = set(chosen) | {path}
        ok = all(
            sum(1 for l in inbound.get(t, []) if l.source != t and l.source not in dead and inv.is_live(l.source) and counted(l)) >= 2
            for t in dead
        )
        if ok:
            chosen.append(path)
    dead = set(chosen)
    for path in chosen:
        value = rng.choice(values)
        plan.writes[path] = _frontmatter_edit(inv.notes[path], value) or b""
        links = [l for l in inbound.get(path, []) if l.source != path and l.source not in dead and inv.is_live(l.source) and counted(l)]
        plan.injections.append({"note": path, "was": inv.notes[path].status, "now": value, "live_inbound_links": len(links)})
        for link in links:

            def match(f: dict[str, Any], source: str = link.source, start: int = link.start, target: str = path) -> bool:
                return f["path"] == source and f["start_byte"] == start and f["data"].get("kind") == "links-to-dead" and f["data"].get("target") == target

            hint = "frontmatter link" if link.in_frontmatter else f"{link.kind} link"
            plan.expected.append(Expected(link.source, link.line, f"{hint} {link.raw} to {value} {path}", match))
    plan.stats = {"notes": dict(sorted(reasons.items()))}

    def attribute(f: dict[str, Any]) -> str:
        kind = f["data"].get("kind")
        if kind == "links-to-dead" and f["data"].get("target") in dead:
            return "injected"
        if kind == "no-successor" and f["path"] in dead:
            return "side"
        return ""

    plan.attribute = attribute
    return plan


def _frontmatter_edit(note: NoteInfo, value: str, key: str = "status") -> bytes | None:
    """The note's bytes with ``<key>: <value>`` (replacing or adding one line), or None."""
    text = _decode(note.data)
    if text is None:
        return None
    match = _FRONTMATTER.match(text)
    if match is None:
        if note.has_frontmatter or text.lstrip("\ufeff").startswith(("---", "+++")):
            return None
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        newline = "\r\n" if "\r\n" in text[:2000] else "\n"
        new = bom + f"---{newline}{key}: {value}{newline}---{newline}" + text[len(bom) :]
        return new.encode("utf-8")
    if not note.has_frontmatter:
        return None
    newline = match.group(2)
    body_start, body_end = match.start(3), match.end(3)
    inner = match.group(3)
    status_lines = list(re.finditer(rf"^{re.escape(key)}[ \t]*:.*$", inner, re.M))
    if len(status_lines) > 1:
        return None
    if status_lines:
        line = status_lines[0]
        rest = inner[line.end() :]
        if re.match(r"\r?\n[ \t]+\S", rest):  # a block value (list or mapping) under status:
            return None
        value_end = line.end() - (1 if line.group(0).endswith("\r") else 0)
        new = text[: body_start + line.start()] + f"{key}: {value}" + text[body_start + value_end :]
    else:
        new = text[:body_end] + f"{key}: {value}{newline}" + text[body_end:]
    return new.encode("utf-8")


def _anchor_key(text: str) -> str:
    """A heading or anchor reduced to its letters and digits, lowercased: how a reader matches them."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFC", text).casefold())


def _anchor_names(link: LinkInfo) -> str:
    """The heading a link's anchor names, as :func:`_anchor_key`: the last part of a nested ``#A#B``."""
    parts = [part for part in (link.anchor or "").split("#") if part]
    return _anchor_key(parts[-1]) if parts else ""


_ATX = re.compile(rb"^[ \t]{0,3}#{1,6}[ \t]+")


def plan_anchor(inv: Inventory, rng: random.Random, count: int) -> Plan:
    """Headings renamed (a word put in front) or ``^block`` ids removed while links still name them."""
    plan = Plan("anchor")
    reasons: Counter[str] = Counter()
    into: dict[str, list[LinkInfo]] = defaultdict(list)
    for link in inv.links:
        if link.anchor and link.anchor_ok and link.status == "note" and link.resolved in inv.notes:
            into[link.resolved or ""].append(link)
    reasons["links with a working anchor"] = sum(map(len, into.values()))
    candidates: list[tuple[str, list[tuple[str, int, list[LinkInfo]]]]] = []
    for path, links in sorted(into.items()):
        note = inv.notes[path]
        keys = Counter(_anchor_key(text) for text, _, _, _ in note.heading_texts)
        options: list[tuple[str, int, list[LinkInfo]]] = []
        for index, (heading, _, _, explicit) in enumerate(note.heading_texts):
            key = _anchor_key(heading)
            if explicit or not key or keys[key] > 1:
                continue
            prefix = _anchor_key(heading.split(":", 1)[0]) if ":" in heading else None
            hits = [l for l in links if not (l.anchor or "").startswith("^") and _anchor_names(l) in (key, prefix)]
            if hits:
                options.append(("heading", index, hits))
        for index, (block, _, _) in enumerate(note.blocks):
            hits = [l for l in links if l.anchor == "^" + block]
            if hits:
                options.append(("block", index, hits))
        if options:
            candidates.append((path, options))
    reasons["notes with a named heading or block"] = len(candidates)
    reasons["of them with a named block"] = sum(1 for _, options in candidates if any(o[0] == "block" for o in options))
    #: note → (byte offset of the edit, bytes it added): links after it in that note moved by so much.
    changed: dict[str, tuple[int, int]] = {}

    def moved(path: str, start: int) -> int:
        at, delta = changed.get(path, (len(inv.notes[path].data), 0))
        return start + delta if start >= at else start

    for path, options in rng.sample(candidates, min(count, len(candidates))):
        note = inv.notes[path]
        what, index, hits = rng.choice(options)
        data = note.data
        if what == "heading":
            heading, start, end, _ = note.heading_texts[index]
            marker = _ATX.match(data[start:end])
            at = start + (marker.end() if marker else len(data[start:end]) - len(data[start:end].lstrip(b" \t")))
            word = rng.choice(NEW_NAME_WORDS).capitalize()
            data = data[:at] + word.encode() + b" " + data[at:]
            changed[path] = (at, len(word.encode()) + 1)
            change = f"heading {heading!r} -> {word + ' ' + heading!r}"
        else:
            block, start, end = note.blocks[index]
            while start > 0 and data[start - 1 : start] in (b" ", b"\t"):
                start -= 1
            data = data[:start] + data[end:]
            changed[path] = (end, start - end)
            change = f"block id ^{block} removed"
        plan.writes[path] = data
        plan.injections.append({"note": path, "change": change, "links": len(hits)})
        for link in hits:

            def match(f: dict[str, Any], source: str = link.source, start: int = link.start) -> bool:
                return f["path"] == source and f["start_byte"] == moved(source, start)  # the note may change later

            plan.expected.append(Expected(link.source, link.line, f"{link.raw} after {change} in {path}", match))
    plan.stats = {"anchors": dict(sorted(reasons.items()))}
    by_place = {(l.source, moved(l.source, l.start)): l for l in inv.links}

    def attribute(f: dict[str, Any]) -> str:
        link = by_place.get((f["path"], f["start_byte"]))
        return "injected" if link is not None and link.resolved in changed and link.anchor_ok else ""

    plan.attribute = attribute
    return plan


def _is_root_name(path: str) -> bool:
    """Whether kbmine's orphan-note exempts the note by its name (its default ``roots``)."""
    from kbmine.checks.orphan_note import DEFAULT_ROOTS
    from kbmine.files import glob_matcher

    roots = glob_matcher(DEFAULT_ROOTS)
    return roots is not None and bool(roots.match(path))


def _sources(inbound: dict[str, list[LinkInfo]], path: str) -> set[str]:
    return {l.source for l in inbound.get(path, []) if l.source != path}


def _orphan_expected(plan: Plan, path: str, why: str) -> None:
    def match(f: dict[str, Any], path: str = path) -> bool:
        return f["path"] == path

    hard = "a root/index name (kbmine exempts the top-most index of a branch)" if _is_root_name(path) else ""
    plan.expected.append(Expected(path, 1, f"{path} {why}", match, hard, rule="orphan-note"))


def plan_delete(inv: Inventory, rng: random.Random, count: int) -> Plan:
    """Notes deleted: every link to them dangles, and notes only they linked become orphans."""
    plan = Plan("delete")
    inbound = inv.inbound()
    candidates = sorted(path for path in inv.notes if _sources(inbound, path))
    chosen = rng.sample(candidates, min(count, len(candidates)))
    dead = set(chosen)
    plan.deletes = chosen
    orphans: set[str] = set()
    for path in chosen:
        links = [l for l in inbound.get(path, []) if l.source not in dead]
        plan.injections.append({"note": path, "inbound_links": len(links)})
        for link in links:

            def match(f: dict[str, Any], source: str = link.source, start: int = link.start) -> bool:
                return f["path"] == source and f["start_byte"] == start

            hint = "frontmatter link" if link.in_frontmatter else "embed" if link.is_embed else f"{link.kind} link"
            plan.expected.append(Expected(link.source, link.line, f"{hint} {link.raw} to deleted {path}", match))
    for path in sorted(inv.notes):
        sources = _sources(inbound, path)
        if path not in dead and sources and sources <= dead:
            orphans.add(path)
            _orphan_expected(plan, path, f"was linked only from deleted {sorted(sources)}")
    plan.stats = {"notes with inbound links": len(candidates), "orphaned": len(orphans)}
    by_place = {(l.source, l.start): l for l in inv.links}

    def attribute(f: dict[str, Any]) -> str:
        if f["rule"] == "orphan-note":
            return "injected" if f["path"] in orphans else ""
        link = by_place.get((f["path"], f["start_byte"]))
        return "injected" if link is not None and link.resolved in dead else ""

    plan.attribute = attribute
    return plan


def _line_bounds(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The whole lines (with their newline) around ``start:end``."""
    line_start = data.rfind(b"\n", 0, start) + 1
    newline = data.find(b"\n", end)
    return line_start, len(data) if newline < 0 else newline + 1


def plan_orphan(inv: Inventory, rng: random.Random, count: int) -> Plan:
    """Notes linked from one other note only lose those links (replaced by their visible text)."""
    plan = Plan("orphan")
    inbound = inv.inbound()
    reasons: Counter[str] = Counter()
    candidates: list[tuple[str, list[LinkInfo]]] = []
    for path in sorted(inv.notes):
        sources = _sources(inbound, path)
        if len(sources) != 1:
            continue
        reasons["notes linked from one other note"] += 1
        links = [l for l in inbound[path] if l.source != path]
        text = _decode(inv.notes[links[0].source].data)
        if text is None or any(l.in_frontmatter for l in links):
            reasons["skipped: a frontmatter link or a note not utf-8"] += 1
            continue
        removable = all(
            l.kind == "definition" or (l.kind in ("markdown", "wikilink") and (l.is_embed or _visible_text(l) is not None))
            for l in links
        )
        if not removable:
            reasons["skipped: a link kind not removable by text (reference, hashtag...)"] += 1
            continue
        candidates.append((path, links))
    reasons["candidates"] = len(candidates)
    reasons["of them root/index names"] = sum(1 for path, _ in candidates if _is_root_name(path))
    chosen = rng.sample(candidates, min(count, len(candidates)))
    edits: dict[str, list[tuple[int, int, bytes]]] = defaultdict(list)
    for path, links in chosen:
        for link in links:
            data = inv.notes[link.source].data
            if link.kind == "definition":
                start, end = _line_bounds(data, link.start, link.end)
                edits[link.source].append((start, end, b""))
            else:
                visible = "" if link.is_embed else _visible_text(link) or ""
                edits[link.source].append((link.start, link.end, visible.encode("utf-8")))
        plan.injections.append({"note": path, "from": links[0].source, "links_removed": len(links)})
        _orphan_expected(plan, path, f"lost its {len(links)} link(s) from {links[0].source}")
    for source, spans in edits.items():
        data = inv.notes[source].data
        last = len(data) + 1
        for start, end, new in sorted(set(spans), reverse=True):
            if end > last:  # a definition line that holds another removed link: already gone
                continue
            data = data[:start] + new + data[end:]
            last = start
        plan.writes[source] = data
    plan.stats = {"notes": dict(sorted(reasons.items()))}
    orphans = {path for path, _ in chosen}
    plan.attribute = lambda f: "injected" if f["path"] in orphans else ""
    return plan


_PATH_KINDS = ("markdown", "reference", "definition")


def _exists(inv: Inventory, path: str) -> bool:
    return path in inv.notes or path in inv.files or path in inv.dirs or path + ".md" in inv.notes


def plan_move(inv: Inventory, rng: random.Random, count: int) -> Plan:
    """Notes moved to another folder: relative links out of them and path links into them break.

    Expected as GitHub reads links: a relative markdown link out of the moved
    note breaks unless the same relative path exists from its new folder; a
    markdown link into it, or a wikilink written with a folder, breaks. Links
    kbmine still resolves by design (Obsidian dialect: a bare file name that is
    unique in the KB, a path from the root) are counted apart, not expected.
    """
    plan = Plan("move")
    stems = Counter(n.stem.lower() for n in inv.notes.values())
    folders = sorted({posixpath.dirname(p) for p in inv.notes})
    outbound = inv.outbound()
    inbound = inv.inbound()
    names = Counter(p.rsplit("/", 1)[-1].lower() for p in (*inv.notes, *inv.files))
    reasons: Counter[str] = Counter()

    def breaks(link: LinkInfo, source_dir: str, new: str | None) -> str:
        """``"break"``, ``"kept"`` (kbmine still resolves it by design) or ``""`` (unaffected)."""
        target = link.target
        if link.kind == "wikilink":
            if target.startswith(("./", "../")):
                return "break" if new is not None or not _exists(inv, posixpath.normpath(posixpath.join(source_dir, target))) else ""
            return "break" if new is not None and "/" in target.strip("/") else ""
        if link.kind not in _PATH_KINDS or not target or link.status not in ("note", "file", "dir"):
            return ""
        if new is None:  # a link out of the moved note
            if target.startswith("/") or _exists(inv, posixpath.normpath(posixpath.join(source_dir, target))):
                return ""
        elif target.startswith("/") or "/" in target:
            return "break"
        if not target.startswith(("./", "../")) and (
            _exists(inv, posixpath.normpath(target)) or ("/" not in target and names[target.lower()] == 1)
        ):
            return "kept"
        return "break"

    candidates = []
    for path in sorted(inv.notes):
        if stems[inv.notes[path].stem.lower()] != 1 or len(folders) < 2:
            continue
        candidates.append(path)
    rng.shuffle(candidates)
    moving: dict[str, str] = {}
    taken = set(inv.notes) | set(inv.files)
    for path in candidates:
        if len(moving) >= count:
            break
        linked = {l.resolved for l in outbound[path]} | _sources(inbound, path)
        if linked & set(moving) or any(path in ({l.resolved for l in outbound[m]} | _sources(inbound, m)) for m in moving):
            continue
        folder = posixpath.dirname(path)
        others = [f for f in folders if f != folder]
        new_folder = rng.choice(others)
        name = path.rsplit("/", 1)[-1]
        new = f"{new_folder}/{name}" if new_folder else name
        if new in taken or posixpath.dirname(path) == new_folder:
            continue
        found = []
        for link in outbound[path]:
            how = breaks(link, new_folder, None)
            reasons[f"links out: {how or 'unaffected'}"] += 1
            if how == "break":
                found.append((new, link))
        for link in inbound.get(path, []):
            if link.source == path:
                continue
            how = breaks(link, posixpath.dirname(link.source), new)
            reasons[f"links in: {how or 'unaffected (bare wikilink)'}"] += 1
            if how == "break":
                found.append((link.source, link))
        if not found:
            continue
        moving[path] = new
        taken.add(new)
        plan.injections.append({"note": path, "moved_to": new, "links_broken": len(found)})
        for where, link in found:

            def match(f: dict[str, Any], where: str = where, start: int = link.start) -> bool:
                return f["path"] == where and f["start_byte"] == start

            direction = "out of" if where == new else "into"
            plan.expected.append(Expected(where, link.line, f"{link.kind} link {link.raw} {direction} moved {path} -> {new}", match))
    plan.renames = moving
    plan.stats = {"links": dict(sorted(reasons.items())), "folders": len(folders)}
    old_of = {new: old for old, new in moving.items()}
    by_place = {(l.source, l.start): l for l in inv.links}

    def attribute(f: dict[str, Any]) -> str:
        link = by_place.get((old_of.get(f["path"], f["path"]), f["start_byte"]))
        return "injected" if link is not None and (link.source in moving or link.resolved in moving) else ""

    plan.attribute = attribute
    return plan


#: Ways a hand edit breaks YAML frontmatter: (name, edit of one ``key: value`` line or ``None`` for the fence).
_YAML_BREAKS = ("unclosed quote", "unclosed bracket", "indented key", "duplicate key", "unclosed fence")
_SIMPLE_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]+([^\s\"'\[{>|&*!#%@`][^#\r\n]*?)[ \t]*\r?$", re.M)


def _break_frontmatter(note: NoteInfo, how: str) -> bytes | None:
    """The note's bytes with its frontmatter broken ``how`` (see :data:`_YAML_BREAKS`), or None."""
    text = _decode(note.data)
    match = _FRONTMATTER.match(text or "") if note.has_frontmatter else None
    if text is None or match is None:
        return None
    inner_start = match.start(3)
    lines = list(_SIMPLE_KEY.finditer(match.group(3)))
    if how == "unclosed fence":
        if "\n---" in text[match.end() :] or "\n***" in text[match.end() :]:
            return None  # a later thematic break would close it again
        return (text[: match.end(3)] + text[match.end() :]).encode("utf-8")
    if not lines:
        return None
    line = lines[0] if how == "duplicate key" else lines[-1]
    start, end = inner_start + line.start(), inner_start + line.end(2)
    key, value = line.group(1), line.group(2)
    if how == "unclosed quote":
        new = f'{key}: "{value}'
    elif how == "unclosed bracket":
        new = f"{key}: [{value}"
    elif how == "indented key":
        if len(lines) < 2 or line.start() == 0:
            return None
        new = f"   {key}: {value}"
    else:
        newline = match.group(2)
        new = f"{key}: {value}{newline}{key}: {value}"
    return (text[:start] + new + text[end:]).encode("utf-8")


def plan_frontmatter(inv: Inventory, rng: random.Random, count: int) -> Plan:
    """Frontmatter broken by a hand edit: an unclosed quote, bracket or fence, a stray indent, a key twice."""
    plan = Plan("frontmatter")
    candidates = sorted(path for path, note in inv.notes.items() if note.has_frontmatter)
    rng.shuffle(candidates)
    reasons: Counter[str] = Counter({"notes with frontmatter": len(candidates)})
    broken: set[str] = set()
    for path in candidates:
        if len(broken) >= count:
            break
        how = rng.choice(_YAML_BREAKS)
        data = _break_frontmatter(inv.notes[path], how)
        if data is None:
            reasons[f"skipped: cannot {how}"] += 1
            continue
        plan.writes[path] = data
        broken.add(path)
        plan.injections.append({"note": path, "break": how})

        def match(f: dict[str, Any], path: str = path) -> bool:
            return f["path"] == path

        plan.expected.append(Expected(path, 1, f"frontmatter of {path}: {how}", match))
    plan.stats = {"notes": dict(sorted(reasons.items()))}
    plan.attribute = lambda f: "injected" if f["path"] in broken else ""
    return plan


def plan_namesake(inv: Inventory, rng: random.Random, count: int) -> Plan:
    """A new note with an existing note's file name in another folder: bare links to it become ambiguous.

    The original sits in a folder and the namesake goes to another folder
    (never the root, where ``[[name]]`` would name it exactly). Expected: an
    ambiguous-link finding at each link into the original that found it by
    file name alone: a wikilink without a folder, or a markdown link whose path
    reaches it neither from its note's folder nor from the root. The new note's
    own orphan-note finding is not this kind's business.
    """
    plan = Plan("namesake")
    inbound = inv.inbound()
    stems = Counter(n.stem.lower() for n in inv.notes.values())
    folders = sorted({posixpath.dirname(p) for p in inv.notes} - {""})
    taken = {p.lower() for p in (*inv.notes, *inv.files)}

    def by_name(link: LinkInfo, path: str) -> bool:
        target = link.target.strip()
        if link.kind == "wikilink":
            return bool(target) and "/" not in target.strip("/") and not target.startswith(".")
        if link.kind not in _PATH_KINDS or not target or target.startswith(("/", "./", "../")) or "/" in target:
            return False
        relative = posixpath.normpath(posixpath.join(posixpath.dirname(link.source), target))
        return path not in (relative, relative + ".md", target, target + ".md")

    candidates = []
    for path in sorted(inv.notes):
        if "/" not in path or stems[inv.notes[path].stem.lower()] != 1:
            continue
        links = [l for l in inbound.get(path, []) if l.source != path and by_name(l, path)]
        if links:
            candidates.append((path, links))
    rng.shuffle(candidates)
    echoed: dict[str, str] = {}
    for path, links in candidates[:count]:
        name = path.rsplit("/", 1)[-1]
        options = [f for f in folders if f != posixpath.dirname(path) and f"{f}/{name}".lower() not in taken]
        if not options:
            continue
        new = f"{rng.choice(options)}/{name}"
        taken.add(new.lower())
        echoed[path] = new
        title = " ".join(rng.sample(NEW_NAME_WORDS, 2)).capitalize()
        plan.writes[new] = f"# {title}\n\nAnother note that happens to share the file name {name}.\n".encode()
        plan.injections.append({"note": path, "namesake": new, "links_by_name": len(links)})
        for link in links:

            def match(f: dict[str, Any], source: str = link.source, start: int = link.start) -> bool:
                return f["path"] == source and f["start_byte"] == start

            plan.expected.append(Expected(link.source, link.line, f"{link.kind} link {link.raw} to {path}, now also {new}", match))
    plan.stats = {"notes reached by file name alone": len(candidates)}
    by_place = {(l.source, l.start): l for l in inv.links}

    def attribute(f: dict[str, Any]) -> str:
        link = by_place.get((f["path"], f["start_byte"]))
        return "injected" if link is not None and link.resolved in echoed else ""

    plan.attribute = attribute
    return plan


def _status_class(inv: Inventory, path: str) -> str:
    from kbmine.checks.stale_status import DEAD, DONE

    status = (inv.notes[path].status or "").strip().lower()
    return "done" if status in DONE else "dead" if status in DEAD else "live" if inv.is_live(path) else "other"


def _stale_plan(kind: str, chosen: dict[str, tuple[bytes, str]], finding_kind: str) -> Plan:
    """A stale-status plan: ``chosen`` maps each note to its new bytes and what was done to it."""
    plan = Plan(kind)
    for path, (data, change) in chosen.items():
        plan.writes[path] = data
        plan.injections.append({"note": path, "change": change})

        def match(f: dict[str, Any], path: str = path) -> bool:
            return f["path"] == path and f["data"].get("kind") == finding_kind

        plan.expected.append(Expected(path, 1, f"{finding_kind} in {path}: {change}", match))
    plan.attribute = lambda f: "injected" if f["path"] in chosen and f["data"].get("kind") == finding_kind else ""
    return plan


def plan_tasks(inv: Inventory, rng: random.Random, count: int) -> Plan:
    """Done notes that get an open ``- [ ]`` task, or notes with open tasks marked done."""
    from kbmine.checks.stale_status import DONE

    reasons: Counter[str] = Counter()
    done = [p for p in sorted(inv.notes) if _status_class(inv, p) == "done" and not inv.notes[p].tasks_open]
    open_tasks = [p for p in sorted(inv.notes) if _status_class(inv, p) == "live" and inv.notes[p].tasks_open]
    reasons["done notes without open tasks"], reasons["live notes with open tasks"] = len(done), len(open_tasks)
    pool = [(p, "task") for p in done] + [(p, "status") for p in open_tasks]
    rng.shuffle(pool)
    chosen: dict[str, tuple[bytes, str]] = {}
    for path, how in pool:
        if len(chosen) >= count:
            break
        note = inv.notes[path]
        text = _decode(note.data)
        if text is None or _fence_ranges(text)[1] or text.rfind("<!--") > text.rfind("-->"):
            continue
        if how == "task":
            newline = "\r\n" if "\r\n" in text else "\n"
            word = rng.choice(NEW_NAME_WORDS)
            tail = "" if text.endswith("\n") else newline
            data = (text + tail + newline + f"- [ ] follow up on the {word} question" + newline).encode("utf-8")
            change = "an open task appended"
        else:
            value = rng.choice(sorted(DONE))
            edited = _frontmatter_edit(note, value)
            if edited is None:
                continue
            data, change = edited, f"status set to {value} with {note.tasks_open} open task(s)"
        chosen[path] = (data, change)
    plan = _stale_plan("tasks", chosen, "open-tasks")
    plan.stats = {"notes": dict(sorted(reasons.items()))}
    return plan


def plan_dated(inv: Inventory, rng: random.Random, count: int) -> Plan:
    """An ``updated:`` date far from the note's last commit (git KBs only): a year before it, or a year ahead."""
    from kbmine.checks.stale_status import DATE_KEYS

    dates = inv.git_dates or {}
    date_keys = {k.lower() for k in DATE_KEYS}
    candidates = [p for p in sorted(inv.notes) if p in dates and not date_keys & {k.lower() for k in inv.notes[p].keys}]
    rng.shuffle(candidates)
    chosen: dict[str, tuple[bytes, str]] = {}
    now = time.time()
    for path in candidates:
        if len(chosen) >= count:
            break
        when = dates[path][1] - 400 * 86400 if rng.random() < 0.5 else now + 400 * 86400
        value = time.strftime("%Y-%m-%d", time.gmtime(when))
        edited = _frontmatter_edit(inv.notes[path], value, key="updated")
        if edited is not None:
            chosen[path] = (edited, f"updated: {value}")
    plan = _stale_plan("dated", chosen, "date-mismatch")
    plan.stats = {"notes": {"in git without a date field": len(candidates), "git": inv.git_dates is not None}}
    return plan


#: The planners that need only the inventory (``duplicate`` also needs the baseline).
PLANNERS: dict[str, Callable[[Inventory, random.Random, int], Plan]] = {
    "rename": plan_rename,
    "unlink": plan_unlink,
    "supersede": plan_supersede,
    "deprecate": lambda inv, rng, count: plan_supersede(inv, rng, count, DEAD_VALUES),
    "anchor": plan_anchor,
    "delete": plan_delete,
    "orphan": plan_orphan,
    "move": plan_move,
    "frontmatter": plan_frontmatter,
    "namesake": plan_namesake,
    "tasks": plan_tasks,
    "dated": plan_dated,
}


# --------------------------------------------------------------------------------------
# Baseline subtraction and scoring


def loose_key(f: dict[str, Any]) -> tuple[Any, ...]:
    data = f.get("data") or {}
    rule = f["rule"]
    if rule == "broken-link":
        return (data.get("target"), data.get("kind"), data.get("anchor"))
    if rule == "missing-link":
        return (data.get("target"),)
    if rule == "duplicate-claim":
        # "this passage (31 words, "a reachable ...") repeats b.md:70 ...": the other copies
        # (their lines, and which of them are listed) change with edits elsewhere; the passage does not.
        preview = re.search(r'"(.*?)\.\.\."\)', f["message"])
        return (data.get("words"), preview.group(1) if preview else re.sub(r"\d+", "#", f["message"]))
    if rule == "stale-status":
        return (data.get("kind"), data.get("target"), data.get("field"))
    if rule == "broken-anchor":  # the suggestion may change with the target's headings
        return (data.get("resolved"), f["message"].split("; did you mean", 1)[0])
    return (re.sub(r"\d+", "#", f["message"]),)


def map_paths(findings: list[dict[str, Any]], moved: dict[str, str]) -> list[dict[str, Any]]:
    """The baseline as it reads after renames: paths (and note paths in ``data``) mapped."""
    if not moved:
        return findings
    out = []
    for f in findings:
        g = dict(f)
        g["path"] = moved.get(f["path"], f["path"])
        data = dict(f.get("data") or {})
        if f["rule"] in ("missing-link", "stale-status") and isinstance(data.get("target"), str):
            data["target"] = moved.get(data["target"], data["target"])
        if isinstance(data.get("others"), list):
            data["others"] = [{**o, "path": moved.get(o.get("path"), o.get("path"))} for o in data["others"]]
        g["data"] = data
        out.append(g)
    return out


def subtract(after: list[dict[str, Any]], before: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(findings new after the injection, baseline findings gone), as multisets."""
    exact: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    loose: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    used = [False] * len(before)
    for index, f in enumerate(before):
        key = loose_key(f)
        exact[(f["rule"], f["path"], f["start_byte"], f["end_byte"], key)].append(index)
        loose[(f["rule"], f["path"], key)].append(index)

    def take(slots: list[int]) -> bool:
        for index in slots:
            if not used[index]:
                used[index] = True
                return True
        return False

    pending = []
    for f in after:
        if not take(exact[(f["rule"], f["path"], f["start_byte"], f["end_byte"], loose_key(f))]):
            pending.append(f)
    new = [f for f in pending if not take(loose[(f["rule"], f["path"], loose_key(f))])]
    gone = [before[i] for i, u in enumerate(used) if not u]
    return new, gone


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def score(plan: Plan, new: list[dict[str, Any]], gone: list[dict[str, Any]], examples: int) -> list[dict[str, Any]]:
    """One result per rule the kind's injections must be found by (see :data:`RULES_OF`)."""
    rules = RULES_OF[plan.kind]
    return [_score_rule(plan, rule, new, gone, examples) for rule in rules]


def _score_rule(plan: Plan, rule: str, new: list[dict[str, Any]], gone: list[dict[str, Any]], examples: int) -> dict[str, Any]:
    mine = [f for f in new if f["rule"] == rule]
    labels = [plan.attribute(f) for f in mine]
    injected = labels.count("injected")
    side = labels.count("side")
    reordered = labels.count("reordered")
    false_positives = [f for f, label in zip(mine, labels) if not label]
    expected = [e for e in plan.expected if (e.rule or RULE_OF[plan.kind]) == rule]
    found = [e for e in expected if any(e.match(f) for f in mine)]
    misses = [e for e in expected if e not in found]
    result: dict[str, Any] = {
        "kind": plan.kind,
        "rule": rule,
        "injected": len(plan.injections),
        "expected": len(expected),
        "found": len(found),
        "new": len(mine),
        "attributed": injected,
        "recall": _ratio(len(found), len(expected)),
        "precision": _ratio(injected, len(mine) - side - reordered),
    }
    if plan.kind in ("supersede", "deprecate"):
        result["no_successor"] = side
        result["precision_strict"] = _ratio(injected, len(mine))
    if plan.kind == "duplicate":
        result["reordered"] = reordered
        result["precision_strict"] = _ratio(injected, len(mine))
    result["side_effects"] = dict(Counter(f["rule"] for f in new if f["rule"] not in RULES_OF[plan.kind]).most_common())
    result["gone"] = dict(Counter(f["rule"] for f in gone).most_common())
    result["candidates"] = plan.stats
    result["misses"] = [
        {"path": e.path, "line": e.line, "expected": e.what, **({"note": e.why_hard} if e.why_hard else {})} for e in misses[:examples]
    ]
    result["false_positives"] = [
        {"path": f["path"], "line": f["line"], "message": f["message"], "data": _short_data(f)} for f in false_positives[:examples]
    ]
    if plan.kind == "duplicate" and reordered:
        result["reordered_examples"] = [
            {"path": f["path"], "line": f["line"], "message": f["message"]}
            for f, label in zip(mine, labels)
            if label == "reordered"
        ][:examples]
    result["injections"] = plan.injections
    return result


def together(kinds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per rule: precision as a judge that injects every kind into one KB would see it, pessimistically.

    Each kind's new findings of *other* rules (a renamed note left an orphan, a link
    broken by a rename leaving a mention unlinked, a duplicate-claim finding moved
    to a note an injection touched) count as false positives there, as they would
    for a judge who expects only what it injected. Kinds run apart, so this sums
    them; interactions between kinds are not measured.
    """
    found: Counter[str] = Counter()
    new: Counter[str] = Counter()
    caused: dict[str, Counter[str]] = defaultdict(Counter)
    seen: set[str] = set()
    for r in kinds:
        found[r["rule"]] += r["attributed"]
        new[r["rule"]] += r["new"] - r.get("no_successor", 0) - r.get("reordered", 0)
        if r["kind"] not in seen:  # a kind's side effects are listed on each of its rules' rows
            seen.add(r["kind"])
            for rule, count in r["side_effects"].items():
                caused[rule][r["kind"]] += count
    return {
        rule: {"precision": _ratio(found[rule], new[rule] + sum(caused[rule].values())), "from_other_kinds": dict(caused[rule].most_common())}
        for rule in sorted(set(found) | set(caused))
    }


def _short_data(f: dict[str, Any]) -> dict[str, Any]:
    data = f.get("data") or {}
    keep = ("target", "kind", "mention", "status", "others")
    return {k: data[k] for k in keep if k in data}


# --------------------------------------------------------------------------------------
# Driving one KB


def copy_kb(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".kbmine"))


def prepare(name: str, source: Path, work: Path) -> Path:
    """A pristine copy of a corpus (a bundle is cloned) inside ``work``."""
    pristine = work / f"{name}-pristine"
    if source.is_file() and source.suffix == ".bundle":
        subprocess.run(["git", "clone", "-q", str(source), str(pristine)], check=True, env=git_env())
    elif source.is_dir():
        copy_kb(source, pristine)
    else:
        raise InjectError(f"{source}: not a folder or a git bundle")
    return pristine


def run_kb(name: str, source: Path, work: Path, kinds: Iterable[str], args: argparse.Namespace) -> dict[str, Any]:
    pristine = prepare(name, source, work)
    log(f"[{name}] inventory of {pristine}")
    inv = inventory(pristine)
    log(f"[{name}] {len(inv.notes)} notes, {len(inv.links)} links; baseline check")
    baseline, seconds = run_check(pristine, args.jobs)
    log(f"[{name}] baseline: {len(baseline)} findings in {seconds:.1f} s")
    git_kb = is_git_root(pristine)
    results = []
    for number, kind in enumerate(kinds):
        rng = random.Random(f"{args.seed}:{kind}")
        plan = PLANNERS[kind](inv, rng, args.count) if kind in PLANNERS else plan_duplicate(inv, rng, args.count, baseline)
        copy = work / f"{name}-{kind}"
        copy_kb(pristine, copy)
        plan.apply(copy)
        if args.commit and git_kb:
            env = git_env()
            git(copy, "add", "-A", env=env)
            git(copy, "commit", "-q", "--allow-empty", "-m", f"inject {kind} defects", env=env)
        after, seconds = run_check(copy, args.jobs)
        new, gone = subtract(after, map_paths(baseline, plan.renames))
        for result in score(plan, new, gone, args.examples):
            result["seconds"] = round(seconds, 1)
            results.append(result)
            log(
                f"[{name}] {kind} ({result['rule']}): {result['injected']} injected, recall {result['recall']}, "
                f"precision {result['precision']} ({seconds:.1f} s)"
            )
        if not args.keep:
            shutil.rmtree(copy, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(pristine, ignore_errors=True)
    return {
        "corpus": name,
        "notes": len(inv.notes),
        "links": len(inv.links),
        "git": git_kb,
        "committed": bool(args.commit and git_kb),
        "baseline": dict(Counter(f["rule"] for f in baseline).most_common()),
        "kinds": results,
        "together": together(results),
    }


# --------------------------------------------------------------------------------------
# Repair benchmark (--mutate): kbmine mutate, kbmine review accept --all, and the result


MUTATE_KINDS = ("rename", "unlink")
#: The bars of the hidden benchmark: repaired to the right note, restored, wrong links written.
GOALS = {"rename": 0.95, "unlink": 0.80, "wrong": 0.02}


def ensure_git(root: Path) -> None:
    """Make a plain folder a repository with one commit of its pristine state (kbmine mutate needs git)."""
    if is_git_root(root):
        return
    env = git_env()
    git(root, "init", "-q", "-b", "main", env=env)
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "--allow-empty", "-m", "pristine copy", env=env)


def run_kbmine_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kbmine", *args]
    completed = subprocess.run(command, capture_output=True, text=True, env=git_env(), check=False)
    if completed.returncode != 0:
        raise InjectError(f"kbmine {' '.join(args)} exited {completed.returncode}: {completed.stderr.strip()[-2000:]}")
    return completed


def _overlaps(edit: Edit, site: Site) -> bool:
    return edit.path == site.path and edit.start < site.end and site.start < edit.end


def _touches(mutation: Mutation, site: Site, kind: str) -> bool:
    """Whether a fix touches an injected place: an edit over it, or (unlink) a link to its target in its note."""
    if any(_overlaps(edit, site) for edit in mutation.edits):
        return True
    expect = mutation.expect
    return kind == "unlink" and expect is not None and expect.path == site.path and expect.target == site.expect


def _target(mutation: Mutation) -> str | None:
    """The note the link a fix writes must reach (``None`` for fixes that are not one link)."""
    return mutation.expect.target if mutation.expect is not None else None


@dataclass
class Trace:
    """Where an injected place went through kbmine's commits, and which commits touched it on the way."""

    site: Site  # at its place after the last commit
    places: list[Site]  # at its place before each commit that edited its note, and after the last
    touching: list[Mutation]
    #: The note an extract moved the place's passage into (its place there is not followed).
    moved_to: str | None = None


def trace(site: Site, committed: list[Mutation], kind: str) -> Trace:
    """Follow ``site`` through ``committed``, in commit order.

    Each mutation's edits are on the bytes the commit before it left (the
    engine keeps them so), which after a run's first round are no longer the
    injected bytes: a place is moved commit by commit, never by all the
    edits at once. A passage an extract moves into a new note takes the
    place with it (the extract runs after the relink that repaired the link
    in it): from there on the place is that note.
    """
    places = [site]
    touching: list[Mutation] = []
    for mutation in committed:
        edits = [edit for edit in mutation.edits if edit.path == site.path]
        if _touches(mutation, site, kind):
            touching.append(mutation)
        if not edits:
            continue
        if mutation.new_files and any(e.start <= site.start and site.end <= e.end for e in edits):
            return Trace(site, places, touching, mutation.new_files[0][0])
        start = site.start + sum(len(e.new) - (e.end - e.start) for e in edits if e.end <= site.start)
        end = site.end + sum(len(e.new) - (e.end - e.start) for e in edits if e.end <= site.end)
        site = replace(site, start=start, end=max(start, end))
        places.append(site)
    return Trace(site, places, touching)


def score_repairs(plan: Plan, committed: list[Mutation], skipped: list[tuple[Mutation, str]], final: KB) -> dict[str, Any]:
    """How the injected defects fared: repaired right, wrong, or not at all, read from the accepted KB.

    ``committed`` are kbmine's mutations in commit order (see :func:`trace`), ``final``
    the KB loaded after ``kbmine review accept --all``. A rename site counts as repaired
    when the link at its place (moved by kbmine's other edits in the note) resolves to the
    renamed note; an unlink site when its note links the target again (``in place`` when
    kbmine's link covers the text the injection left). A site whose passage an extract
    moved into a new note (``moved_by_extract``) counts when that note links the target.
    """
    in_note: dict[str, list[Mutation]] = defaultdict(list)
    for mutation in committed:
        for path in dict.fromkeys(edit.path for edit in mutation.edits):
            in_note[path].append(mutation)
    traces = {site: trace(site, in_note[site.path], plan.kind) for site in plan.sites}
    outcomes: Counter[str] = Counter()
    repaired: set[Site] = set()
    misses: list[dict[str, Any]] = []
    in_place = moved = 0
    for site in plan.sites:
        moved_to = traces[site].moved_to
        note = final.notes.get(moved_to or site.path)
        resolutions = final.resolutions.get(moved_to or site.path, ())
        got: str | None = None
        if note is not None and moved_to is not None:
            # Moved with its passage: the extracted note must link the target (its links are written anew there).
            moved += 1
            got = site.expect if any(r.path == site.expect for r in resolutions if r.resolved) else None
        elif note is not None and plan.kind == "rename":
            start = traces[site].site.start
            for link, resolution in zip(note.links, resolutions):
                if link.span.start == start:
                    got = resolution.path if resolution.resolved else None
                    break
        elif note is not None:
            # An unused reference definition (Foam writes one per [[name]]) is left behind when
            # the link goes: it still "links" the target, but is not a link anyone reads.
            reached = {r.path for link, r in zip(note.links, resolutions) if r.resolved and link.kind != "definition"}
            got = site.expect if site.expect in reached else None
            if got and any(
                m.action == "link-mention" and _target(m) == site.expect and any(_overlaps(e, place) for e in m.edits for place in traces[site].places)
                for m in traces[site].touching
            ):
                in_place += 1
        if got == site.expect:
            outcomes["right"] += 1
            repaired.add(site)
            continue
        outcomes["wrong" if got else "not repaired"] += 1
        # A skipped fix was computed on the bytes of some round: the place as it was at any commit.
        refused = [reason for m, reason in skipped if any(_touches(m, place, plan.kind) for place in traces[site].places)]
        misses.append(
            {
                "path": site.path, "link": site.raw, "expected": site.expect, "got": got,
                "why": f"kbmine's verification refused: {refused[0]}" if refused else "no proposal" if not got else "linked elsewhere",
            }
        )
    touching = 0
    wrong: list[dict[str, Any]] = []
    for mutation in committed:
        sites = [site for site in plan.sites if any(m is mutation for m in traces[site].touching)]
        if not sites:
            continue
        touching += 1
        written = _target(mutation)
        if written is None:
            # A fix with no one link to check (extract, synthesise): wrong unless the place ended right.
            is_wrong = not all(site in repaired for site in sites)
        else:
            is_wrong = all(written != site.expect for site in sites)
        if is_wrong:
            wrong.append({"subject": mutation.subject, "action": mutation.action, "expected": sorted({s.expect for s in sites})})
    result: dict[str, Any] = {
        "sites": len(plan.sites),
        "right": outcomes["right"],
        "wrong_target": outcomes["wrong"],
        "not_repaired": outcomes["not repaired"],
        "repaired_share": _ratio(outcomes["right"], len(plan.sites)),
        "commits_touching_sites": touching,
        "wrong_commits": len(wrong),
        "wrong_share": _ratio(len(wrong), touching),
        "misses": misses,
        "wrong": wrong,
    }
    result["moved_by_extract"] = moved
    if plan.kind == "unlink":
        result["restored_in_place"] = in_place
    return result


def injected_left(plan: Plan, new: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The new findings after accepting, split into injected defects still there and anything else.

    A rename defect is a broken link in its note with the target as written; an unlink
    defect a missing-link finding in its note naming the removed link's target.
    """
    rule = RULE_OF[plan.kind]
    if plan.kind == "rename":
        places = {(s.path, s.written) for s in plan.sites}
    else:
        places = {(s.path, s.expect) for s in plan.sites}
    left: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for f in new:
        injected = f["rule"] == rule and (f["path"], f["data"].get("target")) in places
        (left if injected else other).append(f)
    return left, other


def _reordered(finding: dict[str, Any], baseline: list[dict[str, Any]]) -> bool:
    """A duplicate-claim finding about a pair of notes the baseline already reported.

    The rule reports a duplicate at the copy in the most recently changed
    note; kbmine's commits change notes, so the finding may move to the other copy.
    """
    if finding["rule"] != "duplicate-claim":
        return False
    pairs = {
        frozenset((f["path"], o["path"]))
        for f in baseline
        if f["rule"] == "duplicate-claim"
        for o in f["data"].get("others", [])
    }
    others = [o["path"] for o in finding["data"].get("others", [])]
    return bool(others) and all(frozenset((finding["path"], o)) in pairs for o in others)


def run_kb_mutate(name: str, source: Path, work: Path, kinds: Iterable[str], args: argparse.Namespace) -> dict[str, Any]:
    """The repair benchmark on one KB: inject, commit, kbmine mutate, accept everything, score.

    Plain folders become repositories first (one commit of the pristine copy), so the
    baseline is checked in the same conditions (git dates, .gitignore) as the result.
    """
    from kbmine.gitops import Repository
    from kbmine.kb import load
    from kbmine.mutate.engine import mutate

    pristine = prepare(name, source, work)
    ensure_git(pristine)
    inv = inventory(pristine)
    log(f"[{name}] {len(inv.notes)} notes, {len(inv.links)} links; baseline check")
    baseline, seconds = run_check(pristine, args.jobs)
    log(f"[{name}] baseline: {len(baseline)} findings in {seconds:.1f} s")
    results = []
    for kind in kinds:
        rng = random.Random(f"{args.seed}:{kind}")
        plan = plan_rename(inv, rng, args.count) if kind == "rename" else plan_unlink(inv, rng, args.count)
        copy = work / f"{name}-{kind}-mutate"
        copy_kb(pristine, copy)
        plan.apply(copy)
        env = git_env()
        git(copy, "add", "-A", env=env)
        git(copy, "commit", "-q", "--allow-empty", "-m", f"inject {kind} defects", env=env)
        started = time.perf_counter()
        run = mutate(copy, args.mutate_kinds, jobs=args.jobs)
        mutate_seconds = time.perf_counter() - started
        committed = [m for m, _ in run.committed]
        log(f"[{name}] {kind}: {len(plan.sites)} defects; kbmine committed {len(committed)} fixes, skipped {len(run.skipped)} ({mutate_seconds:.0f} s)")
        started = time.perf_counter()
        run_kbmine_cli("review", "accept", "--all", "-C", str(copy))
        accept_seconds = time.perf_counter() - started
        repo = Repository(copy)
        tip = repo.branch_tip(run.branch)
        pending = repo.review_commits(repo.head(), tip) if tip else []
        final = load(copy, use_cache=False, jobs=args.jobs)
        result: dict[str, Any] = {"kind": kind, "injected": len(plan.injections)}
        result.update(score_repairs(plan, committed, run.skipped, final))
        after, check_seconds = run_check(copy, args.jobs)
        moved_baseline = map_paths(baseline, plan.renames)
        new, gone = subtract(after, moved_baseline)
        left, other = injected_left(plan, new)
        reordered = [f for f in other if _reordered(f, moved_baseline)]
        other = [f for f in other if not _reordered(f, moved_baseline)]
        result.update(
            {
                "committed": len(committed),
                "committed_by_action": dict(Counter(m.action for m in committed).most_common()),
                "skipped": len(run.skipped),
                "pending_after_accept": len(pending),
                "injected_findings_left": len(left),
                "new_findings": len(other),
                "new_findings_by_rule": dict(Counter(f["rule"] for f in other).most_common()),
                "reordered_duplicates": len(reordered),
                "reordered_examples": [{"path": f["path"], "line": f["line"], "message": f["message"]} for f in reordered[: args.examples]],
                "new_examples": [{"path": f["path"], "line": f["line"], "message": f["message"]} for f in other[: args.examples]],
                "baseline_findings_fixed": dict(Counter(f["rule"] for f in gone).most_common()),
                "seconds": {"mutate": round(mutate_seconds, 1), "accept": round(accept_seconds, 1), "check": round(check_seconds, 1)},
            }
        )
        result["misses"] = result["misses"][: args.examples]
        results.append(result)
        log(
            f"[{name}] {kind}: repaired {result['right']}/{result['sites']}, wrong {result['wrong_commits']}/"
            f"{result['commits_touching_sites']}, injected left {len(left)}, new findings {len(other)}"
        )
        if not args.keep:
            shutil.rmtree(copy, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(pristine, ignore_errors=True)
    return {
        "corpus": name,
        "notes": len(inv.notes),
        "links": len(inv.links),
        "baseline": dict(Counter(f["rule"] for f in baseline).most_common()),
        "kinds": results,
    }


def print_mutate_tables(document: dict[str, Any]) -> None:
    out = sys.stdout
    print(f"kbmine mutate --kind {','.join(document['mutate'])}", file=out)
    print(
        f"goals: rename repaired >= {GOALS['rename']}, unlink restored >= {GOALS['unlink']}, "
        f"wrong <= {GOALS['wrong']}; after accepting: injected left 0, new findings 0",
        file=out,
    )
    header = (
        f"{'corpus':<12} {'kind':<7} {'sites':>5} {'right':>5} {'wrong':>5} {'none':>5} {'share':>6} {'goal':>4}"
        f" {'touch':>5} {'wrongc':>6} {'w-share':>7} {'commits':>7} {'left':>4} {'new':>4}"
    )
    print(header, file=out)
    for corpus in document["corpora"]:
        for r in corpus["kinds"]:
            share_ok = r["repaired_share"] is not None and r["repaired_share"] >= GOALS[r["kind"]]
            wrong_ok = r["wrong_share"] is None or r["wrong_share"] <= GOALS["wrong"]
            print(
                f"{corpus['corpus']:<12} {r['kind']:<7} {r['sites']:>5} {r['right']:>5} {r['wrong_target']:>5} {r['not_repaired']:>5} "
                f"{_fmt(r['repaired_share']):>6} {'ok' if share_ok else 'MISS':>4} {r['commits_touching_sites']:>5} "
                f"{r['wrong_commits']:>6} {_fmt(r['wrong_share']):>7}{'' if wrong_ok else '!'} {r['committed']:>7} "
                f"{r['injected_findings_left']:>4} {r['new_findings']:>4}",
                file=out,
            )
    for corpus in document["corpora"]:
        for r in corpus["kinds"]:
            print(f"\n### {corpus['corpus']} / {r['kind']}: {r['injected']} injections, {r['sites']} defects", file=out)
            extra = f", {r['restored_in_place']} in place" if "restored_in_place" in r else ""
            extra += f", {r['moved_by_extract']} moved into an extracted note" if r.get("moved_by_extract") else ""
            print(f"commits by action: {r['committed_by_action']}; skipped {r['skipped']}; pending after accept {r['pending_after_accept']}{extra}", file=out)
            print(f"baseline findings fixed too: {r['baseline_findings_fixed']}; seconds {r['seconds']}", file=out)
            if r["new_findings"]:
                print(f"new findings: {r['new_findings_by_rule']}", file=out)
            if r["reordered_duplicates"]:
                print(f"duplicate-claim findings moved to the other copy of a baseline pair (not counted as new): {r['reordered_duplicates']}", file=out)
            for item in r["reordered_examples"]:
                print(f"  MOVED {item['path']}:{item['line']}: {item['message']}", file=out)
            for item in r["new_examples"]:
                print(f"  NEW   {item['path']}:{item['line']}: {item['message']}", file=out)
            for miss in r["misses"]:
                print(f"  MISS  {miss['path']}: {miss['link']} -> {miss['expected']} (got {miss['got']}; {miss['why']})", file=out)
            for item in r["wrong"]:
                print(f"  WRONG {item['action']}: {item['subject']} (expected {', '.join(item['expected'])})", file=out)


# --------------------------------------------------------------------------------------
# Output


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def print_tables(document: dict[str, Any]) -> None:
    out = sys.stdout
    header = f"{'corpus':<12} {'kind':<10} {'rule':<16} {'inj':>4} {'exp':>4} {'found':>5} {'new':>4} {'attr':>4} {'recall':>6} {'prec':>6}  notes"
    for corpus in document["corpora"]:
        print(f"\n## {corpus['corpus']}: {corpus['notes']} notes, {corpus['links']} links"
              f"{', git' + (' (injection committed)' if corpus['committed'] else ' (injection uncommitted)') if corpus['git'] else ''}", file=out)
        print(f"baseline findings: {corpus['baseline']}", file=out)
        print(header, file=out)
        for r in corpus["kinds"]:
            notes = []
            if "no_successor" in r:
                notes.append(f"+{r['no_successor']} no-successor; strict prec {_fmt(r['precision_strict'])}")
            if "reordered" in r:
                notes.append(f"+{r['reordered']} reordered; strict prec {_fmt(r['precision_strict'])}")
            print(
                f"{corpus['corpus']:<12} {r['kind']:<10} {r['rule']:<16} {r['injected']:>4} {r['expected']:>4} {r['found']:>5} "
                f"{r['new']:>4} {r['attributed']:>4} {_fmt(r['recall']):>6} {_fmt(r['precision']):>6}  {'; '.join(notes)}",
                file=out,
            )
        print("\nprecision per rule if all these kinds were injected at once, other kinds' side effects counted as false positives:", file=out)
        for rule, item in corpus["together"].items():
            print(f"  {rule:<20} {_fmt(item['precision'])}  from other kinds: {item['from_other_kinds']}", file=out)
        for r in corpus["kinds"]:
            print(f"\n### {corpus['corpus']} / {r['kind']} ({r['rule']}), check {r['seconds']} s", file=out)
            print(f"candidates: {json.dumps(r['candidates'], ensure_ascii=False)}", file=out)
            if r["side_effects"]:
                print(f"new findings of other rules: {r['side_effects']}", file=out)
            if r["gone"]:
                print(f"baseline findings gone: {r['gone']}", file=out)
            for miss in r["misses"]:
                extra = f"  [{miss['note']}]" if miss.get("note") else ""
                print(f"  MISS {miss['path']}:{miss['line']}: {miss['expected']}{extra}", file=out)
            for fp in r["false_positives"]:
                print(f"  FP   {fp['path']}:{fp['line']}: {fp['message']}", file=out)
            for item in r.get("reordered_examples", []):
                print(f"  REORDERED {item['path']}:{item['line']}: {item['message']}", file=out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", action="append", type=Path, default=[], help="a KB folder (copied first); repeatable")
    parser.add_argument("--corpus", action="append", default=[], help="commonplace, hyalo or foam (default: all three)")
    parser.add_argument(
        "--kinds", default=None, help=f"comma-separated, of {', '.join(KINDS)} (with --mutate: {', '.join(MUTATE_KINDS)}; the default)"
    )
    parser.add_argument("--count", type=int, default=20, help="injections per kind (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--commit", action="store_true", help="commit the injection in git KBs (fixed author)")
    parser.add_argument(
        "--mutate", action="store_true",
        help="the repair benchmark: commit the injection, run kbmine mutate, accept every fix, score the repairs",
    )
    parser.add_argument(
        "--mutate-kinds", default=None, help="with --mutate: kbmine's mutation kinds, comma-separated (default: all of them)"
    )
    parser.add_argument("--jobs", type=int, default=None, help="passed to kbmine check --jobs")
    parser.add_argument("--examples", type=int, default=8, help="misses and false positives shown per kind")
    parser.add_argument("--json", action="store_true", help="results as JSON on stdout")
    parser.add_argument("--keep", action="store_true", help="keep the copies (their folder is printed)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the copies go (default: a temp dir)")
    args = parser.parse_args(argv)
    allowed = MUTATE_KINDS if args.mutate else KINDS
    kinds = [k.strip() for k in (args.kinds or ",".join(allowed)).split(",") if k.strip()]
    unknown = [k for k in kinds if k not in allowed]
    if unknown:
        parser.error(f"unknown kind {unknown[0]!r}{' for --mutate' if args.mutate else ''}; choose from {', '.join(allowed)}")
    args.kinds = kinds
    if args.mutate:
        from kbmine.mutate.engine import KINDS as MUTATION_KINDS

        args.mutate_kinds = [k.strip() for k in (args.mutate_kinds or ",".join(MUTATION_KINDS)).split(",") if k.strip()]
        if set(args.mutate_kinds) - set(MUTATION_KINDS):
            parser.error(f"--mutate-kinds: choose from {', '.join(MUTATION_KINDS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    targets: list[tuple[str, Path]] = []
    for path in args.path:
        targets.append((path.resolve().name or "kb", path.resolve()))
    names = args.corpus or ([] if args.path else list(CORPUS_NAMES))
    for name in names:
        key = next((k for k, v in CORPUS_NAMES.items() if name in (k, v)), None)
        if key is None:
            print(f"inject: unknown corpus {name!r} (commonplace, hyalo, foam)", file=sys.stderr)
            return 2
        targets.append((key, CORPORA / CORPUS_NAMES[key]))
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kbmine-inject-", dir=args.workdir))
    document: dict[str, Any] = {"seed": args.seed, "count": args.count, "commit": args.commit, "corpora": []}
    if args.mutate:
        document = {"seed": args.seed, "count": args.count, "mutate": args.mutate_kinds, "goals": GOALS, "corpora": []}
    corpora: list[dict[str, Any]] = document["corpora"]
    try:
        for name, source in targets:
            if not source.exists():
                raise InjectError(f"{source} does not exist")
            run = run_kb_mutate if args.mutate else run_kb
            corpora.append(run(name, source, work, args.kinds, args))
    except InjectError as exc:
        print(f"inject: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            log(f"copies kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        json.dump(document, sys.stdout, indent=1, ensure_ascii=False)
        print()
    elif args.mutate:
        print_mutate_tables(document)
    else:
        print_tables(document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
