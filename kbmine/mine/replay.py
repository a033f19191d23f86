"""Replay mined specs over the KB's past: is a spec a rule people keep, or an accident of today?

A spec that held for most of the history, and whose violations people fixed
by hand, is a rule the KB already enforces without a tool; one that only
became true last week may be a coincidence. For each spec, over commits
sampled evenly along the first-parent history (HEAD included):

- **since**: the first sampled commit from which it held (confidence at or
  above the mining threshold) at every later sample;
- **fixed**: how often a note that broke it satisfied it at a later sample
  (renames followed), i.e. how often someone repaired it;
- the **oracle figures**: had the spec been enforced, of the notes it would
  have flagged before HEAD, how many were later changed to satisfy it (true
  positives) and how many were never changed again (false alarms).

Cheap by construction: one ``git log`` pass gives every sampled tree, one
``git cat-file`` stream reads each distinct blob once, and nothing is checked
out. Kinds that read only the path and frontmatter get just the frontmatter
parsed (the same loader the full parse uses); kinds that read the body get
the full parse, only for the blobs in their scopes, through the parse cache.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kbmine.config import Config
from kbmine.mine.context import MineContext
from kbmine.mine.history import (
    Snapshot,
    iso_date,
    iter_blobs,
    kb_paths,
    parse_blobs,
    snapshots,
)
from kbmine.mine.kinds import Kind, all_kinds
from kbmine.mine.spec import Scope, Spec
from kbmine.model import Note, content_hash, note_title
from kbmine.parse.frontmatter import (
    FrontmatterError,
    find_frontmatter,
    load_frontmatter,
)
from kbmine.parse.text import DecodeError, decode_note

__all__ = ["VERDICTS", "Replay", "SpecHistory", "Verdict", "history_from_record", "history_line", "history_record", "replay"]

Verdict = Literal["strong", "stable", "recent", "weak", "not-holding"]
VERDICTS: dict[str, str] = {
    "strong": "its violations were fixed by hand again and again, and most notes it flagged were",
    "stable": "it has held over most of the history",
    "recent": "it has held only over the later part of the history",
    "weak": "it only became true recently",
    "not-holding": "it does not hold at HEAD",
}
#: Kinds that look at nothing but a note's path and frontmatter; the others get the full parse.
FRONTMATTER_KINDS = frozenset({"required_key", "enum_values", "value_type", "folder_implies_value", "filename_pattern", "key_implies_key", "link_value"})
#: Intervals between samples with fixes needed to call a spec strong, and the share of
#: flagged notes that must have been fixed.
STRONG_FIXES = 2
STRONG_PRECISION = 0.5
#: A spec that held over no more than this share of the sampled commits only became true recently.
RECENT_SHARE = 0.1
STABLE_SHARE = 0.5
_NOT_APPLICABLE, _HOLDS, _BREAKS = 0, 1, 2


@dataclass(frozen=True)
class SpecHistory:
    """What replaying one spec over the sampled commits showed."""

    #: Sampled commits replayed, and the last one (HEAD).
    commits: int
    head: str
    #: First sampled commit (id, commit time) from which the spec held at every later sample.
    since: str | None
    since_time: int | None
    #: Share of the sampled commits covered by that run.
    held: float
    #: Times a note broke the spec at one sample and satisfied it at a later one, and in how many
    #: of the intervals between samples that happened (one interval: a single sweep, not a habit).
    fixed: int
    fixed_in: int
    violations_now: int
    #: Notes flagged before HEAD: later changed to satisfy it / never changed again / changed or removed otherwise.
    true_positives: int
    false_alarms: int
    other: int
    verdict: Verdict

    @property
    def precision(self) -> float | None:
        judged = self.true_positives + self.false_alarms
        return self.true_positives / judged if judged else None


@dataclass(frozen=True)
class Replay:
    """The history of every replayed spec, and what it cost."""

    specs: dict[str, SpecHistory]
    commits: int
    sampled: int
    blobs: int
    parsed: int
    seconds: float


def replay(
    root: Path,
    specs: Sequence[Spec],
    config: Config,
    min_confidence: float,
    samples: int = 51,
    cache: Any = None,
    jobs: int | None = None,
) -> Replay | None:
    """Replay ``specs`` over up to ``samples`` commits of the KB at ``root``; ``None`` outside git
    or before the first commit."""
    started = time.perf_counter()
    taken = snapshots(root, samples, kb_paths(config))
    if taken is None or not taken[0]:
        return None
    shots, commits = taken
    table = _Table(shots)
    kinds = all_kinds()
    body = {spec.scope for spec in specs if spec.kind not in FRONTMATTER_KINDS}
    # a blob in a body scope by its path alone gets its frontmatter from the full parse (loaded
    # once, not twice); the others need it read here, to judge value scopes and frontmatter kinds
    by_path = {scope for scope in body if not scope.key}
    by_value = body - by_path
    light: dict[str, Note] = {}
    wanted: dict[str, bytes] = {}
    for blob, data in iter_blobs(root, table.blobs):
        bare = Note("", "", {}, (), (), (), (), 0, len(data), content_hash(data))
        if by_path and any(_in_any(bare, path, by_path) for path in table.paths[blob]):
            wanted[blob] = data
            continue
        note = light[blob] = dataclasses.replace(bare, frontmatter=_frontmatter(data))
        if by_value and any(_in_any(note, path, by_value) for path in table.paths[blob]):
            wanted[blob] = data
    full = parse_blobs(wanted, config, cache, jobs) if wanted else {}
    for blob, data in wanted.items():
        if blob not in light:
            parsed = full.get(blob)
            frontmatter = _frontmatter(data) if parsed is None else parsed.frontmatter
            light[blob] = Note("", "", frontmatter, (), (), (), (), 0, len(data), content_hash(data))
    notes = [_at(light.get(blob), path) for path, blob in table.pairs]
    full_notes = [_at(full.get(blob), path) for path, blob in table.pairs]
    members: dict[Scope, np.ndarray[Any, Any]] = {}
    figures: dict[str, SpecHistory] = {}
    contexts = _Contexts(table, [full or light for full, light in zip(full_notes, notes)], config)
    for spec in specs:
        if spec.scope not in members:
            members[spec.scope] = np.array(
                [index for index, note in enumerate(notes) if note is not None and spec.scope.contains(note)], dtype=np.int64
            )
        kind, params = kinds[spec.kind], spec.parameters
        source = notes if spec.kind in FRONTMATTER_KINDS else full_notes
        if kind.uses_context:
            grid = _codes_in_context(kind, params, set(members[spec.scope].tolist()), source, table, contexts)
            figures[spec.id] = _figures(grid, table, shots, min_confidence)
            continue
        codes = np.zeros(len(table.pairs) + 1, dtype=np.int8)  # the last: absent
        for index in members[spec.scope]:
            note = source[index]
            if note is not None and kind.applies(note, params):
                codes[index] = _HOLDS if kind.holds(note, params) else _BREAKS
        figures[spec.id] = _figures(codes[table.cells], table, shots, min_confidence)
    return Replay(figures, commits, len(shots), len(table.blobs), len(full), time.perf_counter() - started)


class _Contexts:
    """The KB at each sampled commit, for kinds that judge a note by the notes around it:
    a link in a past note is resolved against the notes of the same commit."""

    def __init__(self, table: _Table, notes: Sequence[Note | None], config: Config) -> None:
        self._table, self._notes, self._config = table, notes, config
        self._built: dict[int, MineContext] = {}

    def at(self, column: int) -> MineContext:
        if column not in self._built:
            present = self._table.cells[:, column]
            at = {note.path: note for pair in present[present < len(self._notes)] if (note := self._notes[pair]) is not None}
            self._built[column] = MineContext.of(at, self._config)
        return self._built[column]


def _codes_in_context(
    kind: Kind, params: Mapping[str, Any], members: set[int], source: Sequence[Note | None], table: _Table, contexts: _Contexts
) -> np.ndarray[Any, Any]:
    """Lineage × sample codes of a spec whose kind reads the KB around a note: a version of a
    note can hold at one commit and break at another (its index changed, its target went)."""
    grid = np.zeros(table.cells.shape, dtype=np.int8)
    for column in range(table.cells.shape[1]):
        bound = kind.bind(contexts.at(column))
        for row, pair in enumerate(table.cells[:, column].tolist()):
            note = source[pair] if pair in members else None
            if note is not None and bound.applies(note, params):
                grid[row, column] = _HOLDS if bound.holds(note, params) else _BREAKS
    return grid


class _Table:
    """The sampled trees as matrices: one row per note lineage, one column per sampled commit.

    ``cells`` holds the index of the note version (path, blob) there, or the
    index one past the last when the note is absent; ``versions`` the index of
    its blob (-1 absent), to tell an edited note from one left alone.
    """

    def __init__(self, shots: Sequence[Snapshot]) -> None:
        pair_index: dict[tuple[str, str], int] = {}
        blob_index: dict[str, int] = {}
        rows: dict[int, int] = {}
        placed: list[tuple[int, int, int, int]] = []
        for column, shot in enumerate(shots):
            for path, (blob, lineage) in shot.notes.items():
                pair = pair_index.setdefault((path, blob), len(pair_index))
                version = blob_index.setdefault(blob, len(blob_index))
                placed.append((rows.setdefault(lineage, len(rows)), column, pair, version))
        self.pairs = list(pair_index)
        self.blobs = list(blob_index)
        self.paths: dict[str, list[str]] = {}
        for path, blob in self.pairs:
            self.paths.setdefault(blob, []).append(path)
        self.cells = np.full((len(rows), len(shots)), len(self.pairs), dtype=np.int64)
        self.versions = np.full((len(rows), len(shots)), -1, dtype=np.int64)
        if placed:
            at_row, at_column, at_pair, at_version = (np.array(values, dtype=np.int64) for values in zip(*placed))
            self.cells[at_row, at_column] = at_pair
            self.versions[at_row, at_column] = at_version


def _figures(codes: np.ndarray[Any, Any], table: _Table, shots: Sequence[Snapshot], min_confidence: float) -> SpecHistory:
    """The history figures of one spec from its ``codes`` (lineage × sample: absent or
    not applicable, holds, breaks)."""
    samples = len(shots)
    support = (codes != _NOT_APPLICABLE).sum(axis=0)
    broken = (codes == _BREAKS).sum(axis=0)
    held = (support > 0) & ((support - broken) >= min_confidence * support - 1e-9)
    failing = np.flatnonzero(~held)
    start = int(failing[-1]) + 1 if failing.size else 0
    true_positives = false_alarms = other = 0
    fixes: list[int] = []  # the sample at which each fix is seen
    for row in np.flatnonzero((codes == _BREAKS).any(axis=1)):
        sequence = codes[row]
        seen = [(int(code), column) for column, code in enumerate(sequence) if code != _NOT_APPLICABLE]
        fixes += [column for (before, _), (after, column) in pairwise(seen) if before == _BREAKS and after == _HOLDS]
        first = int(np.argmax(sequence == _BREAKS))
        if first == samples - 1:
            continue  # flagged only at HEAD: too early to judge
        later = sequence[first + 1 :]
        versions = table.versions[row]
        if (later == _HOLDS).any():
            true_positives += 1
        elif (versions[first + 1 :] == versions[first]).all():
            false_alarms += 1
        else:
            other += 1
    since = shots[start] if start < samples else None
    share = (samples - start) / samples
    precision = true_positives / (true_positives + false_alarms) if true_positives + false_alarms else None
    verdict: Verdict
    if since is None:
        verdict = "not-holding"
    elif len(set(fixes)) >= STRONG_FIXES and precision is not None and precision >= STRONG_PRECISION:
        verdict = "strong"
    elif share <= RECENT_SHARE:
        verdict = "weak"
    elif share >= STABLE_SHARE:
        verdict = "stable"
    else:
        verdict = "recent"
    return SpecHistory(
        commits=samples,
        head=shots[-1].commit,
        since=None if since is None else since.commit,
        since_time=None if since is None else since.time,
        held=round(share, 4),
        fixed=len(fixes),
        fixed_in=len(set(fixes)),
        violations_now=int(broken[-1]),
        true_positives=true_positives,
        false_alarms=false_alarms,
        other=other,
        verdict=verdict,
    )


def _frontmatter(data: bytes) -> dict[str, Any]:
    """The note's frontmatter as the full parse loads it; empty where that parse records a problem."""
    try:
        text = decode_note(data).normalized
    except DecodeError:
        return {}
    block = find_frontmatter(text)
    if block is None or not block.closed:
        return {}
    try:
        return load_frontmatter(block, text)
    except FrontmatterError:
        return {}


def _in_any(note: Note, path: str, scopes: set[Scope]) -> bool:
    placed = dataclasses.replace(note, path=path)
    return any(scope.contains(placed) for scope in scopes)


def _at(note: Note | None, path: str) -> Note | None:
    return None if note is None else dataclasses.replace(note, path=path, title=note_title(note.frontmatter, note.h1, path))


def history_record(history: SpecHistory) -> dict[str, Any]:
    """The figures as plain data, for JSON output and the specs file."""
    precision = history.precision
    return {
        "verdict": history.verdict,
        "commits": history.commits,
        "head": history.head[:12],
        "since": None if history.since is None else history.since[:12],
        "since_date": None if history.since_time is None else iso_date(history.since_time),
        "held": history.held,
        "fixed": history.fixed,
        "fixed_in": history.fixed_in,
        "violations_now": history.violations_now,
        "true_positives": history.true_positives,
        "false_alarms": history.false_alarms,
        "other": history.other,
        "precision": None if precision is None else round(precision, 3),
    }


def history_line(history: SpecHistory) -> str:
    """The figures in one line of words."""
    since = (
        f"held since {iso_date(history.since_time)} ({history.held:.0%} of the sampled history)"
        if history.since_time is not None
        else "does not hold at HEAD"
    )
    precision = history.precision
    oracle = f"{history.true_positives} later fixed / {history.false_alarms} never changed"
    if precision is not None:
        oracle += f" (precision {precision:.0%})"
    fixed = f"{history.fixed} fixed by hand" + (f" (in {history.fixed_in} of the sampled intervals)" if history.fixed else "")
    return f"{history.verdict}: {since}; {fixed}; flagged {oracle}; {history.violations_now} now"


def history_from_record(record: Mapping[str, Any]) -> SpecHistory:
    """The inverse of :func:`history_record` (ids shortened as stored); raises ValueError/TypeError on bad data."""
    verdict = str(record.get("verdict"))
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    since_date = record.get("since_date")  # a date, or the string of one
    return SpecHistory(
        commits=int(record.get("commits") or 0),
        head=str(record.get("head") or ""),
        since=None if record.get("since") is None else str(record["since"]),
        since_time=None if since_date is None else _epoch(str(since_date)),
        held=float(record.get("held") or 0.0),
        fixed=int(record.get("fixed") or 0),
        fixed_in=int(record.get("fixed_in") or 0),
        violations_now=int(record.get("violations_now") or 0),
        true_positives=int(record.get("true_positives") or 0),
        false_alarms=int(record.get("false_alarms") or 0),
        other=int(record.get("other") or 0),
        verdict=verdict,  # type: ignore[arg-type]
    )


def _epoch(date: str) -> int:
    import datetime as dt

    return int(dt.datetime.combine(dt.date.fromisoformat(date), dt.time(), dt.UTC).timestamp())
