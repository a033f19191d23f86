"""Lifecycle from git history: which status values occur, how notes move between them,
and after which ones notes stop changing.

A status vocabulary at HEAD says what values exist; only history says which
follow which (``draft -> current -> superseded``) and which are terminal.
One ``git log --raw`` pass lists every version of every note (renames
followed), one ``git cat-file --batch`` reads those blobs, and only the
frontmatter's status line of each is looked at: nothing is checked out and
the working tree is never touched. Git is run read-only through subprocess.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kbmine.gitops import clean_git_env

__all__ = ["Lifecycle", "note_versions", "read_statuses", "lifecycle"]

_NULL_BLOB = "0" * 40
#: How far into a blob the frontmatter may reach.
_HEAD_BYTES = 16_384
_FRONTMATTER = re.compile(rb"\A(?:\xef\xbb\xbf)?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


@dataclass(frozen=True)
class Lifecycle:
    """What history shows about one status key."""

    key: str
    #: Notes whose history has each value at some point.
    seen: dict[str, int]
    #: Notes at each value at HEAD.
    current: dict[str, int]
    #: ``(from, to)`` → notes that made that change.
    transitions: dict[tuple[str, str], int]
    #: Value → (notes whose status changed to it last, share of them never changed again afterwards).
    quiet: dict[str, tuple[int, float]]
    #: Values notes change to and (nearly) never leave.
    terminal: tuple[str, ...]
    notes: int
    commits: int


def note_versions(root: Path, extensions: tuple[str, ...] = (".md", ".markdown")) -> tuple[dict[str, list[str]], int] | None:
    """``path at HEAD (or last path) → blob ids of its versions, oldest first``, and the commit count.

    Renames hand a note's older versions to its new path. ``None`` outside git.
    """
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "log", "-z", "--reverse", "--no-merges", "-M", "--raw", "--no-abbrev",
             "--format=%x01%H", "--relative", "--", "."],
            capture_output=True, env=clean_git_env(), timeout=300, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    versions: dict[str, list[str]] = {}
    commits = 0
    tokens = iter(completed.stdout.decode("utf-8", "surrogateescape").split("\0"))
    for token in tokens:
        token = token.lstrip("\n")
        if token.startswith("\x01"):
            commits += 1
            continue
        if not token.startswith(":"):
            continue
        fields = token.split()
        blob, status = fields[3], fields[4]
        path = next(tokens, "")
        if status[0] in "RC":
            new = next(tokens, "")
            history = versions.pop(path, []) if status[0] == "R" else list(versions.get(path, []))
            path = new
            versions[path] = history
        if not path.lower().endswith(extensions):
            continue
        if blob != _NULL_BLOB:
            versions.setdefault(path, []).append(blob)
    return versions, commits


def read_statuses(root: Path, blobs: set[str], key: str) -> dict[str, str | None]:
    """``blob id → the value of frontmatter key`` (``None`` when absent), in one cat-file pass."""
    if not blobs:
        return {}
    ordered = sorted(blobs)
    completed = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch"],
        input="\n".join(ordered).encode() + b"\n", capture_output=True, env=clean_git_env(), timeout=300, check=False,
    )
    line = re.compile(rb"^" + re.escape(key.encode()) + rb"[ \t]*:[ \t]*(.*?)[ \t]*$", re.M)
    found: dict[str, str | None] = {}
    for blob, data in _batch(completed.stdout):
        block = _FRONTMATTER.match(data[:_HEAD_BYTES])
        match = line.search(block.group(1)) if block else None
        found[blob] = _scalar(match.group(1)) if match else None
    return found


def _batch(output: bytes) -> Iterator[tuple[str, bytes]]:
    """The ``(id, content)`` records of ``git cat-file --batch`` output."""
    position = 0
    while position < len(output):
        end = output.index(b"\n", position)
        header = output[position:end].split()
        position = end + 1
        if len(header) < 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        yield header[0].decode(), output[position : position + size]
        position += size + 1


def _scalar(raw: bytes) -> str | None:
    text = raw.decode("utf-8", "replace")
    if text[:1] not in ("'", '"'):
        text = text.split(" #", 1)[0]
    text = text.strip().strip("'\"").strip()
    return text or None


def lifecycle(root: Path, key: str = "status", min_notes: int = 5, max_exits: float = 0.1) -> Lifecycle | None:
    """The lifecycle of ``key`` over the history of the KB at ``root`` (``None`` outside git).

    A value is terminal when at least ``min_notes`` notes changed to it and
    changes away from it number at most ``max_exits`` of those. ``quiet``
    adds the stronger evidence: of the notes whose status last changed to a
    value, the share whose content never changed again.
    """
    listed = note_versions(root)
    if listed is None:
        return None
    versions, commits = listed
    statuses = read_statuses(root, {blob for blobs in versions.values() for blob in blobs}, key)
    seen: Counter[str] = Counter()
    current: Counter[str] = Counter()
    transitions: Counter[tuple[str, str]] = Counter()
    reached: Counter[str] = Counter()
    stayed: Counter[str] = Counter()
    for path, blobs in versions.items():
        values = [statuses.get(blob) for blob in blobs]
        seen.update({value for value in values if value is not None})
        if (root / path).is_file() and values and values[-1] is not None:
            current[values[-1]] += 1
        changes: set[tuple[str, str]] = set()
        for before, after in zip(values, values[1:]):
            if before is not None and after is not None and before != after:
                changes.add((before, after))
        transitions.update(changes)
        # the change that set the note's last status, and whether anything changed afterwards;
        # a note created with its status and never re-labelled says nothing about terminality
        last = values[-1] if values else None
        if last is None:
            continue
        first_at = len(values) - 1
        while first_at > 0 and values[first_at - 1] == last:
            first_at -= 1
        if first_at == 0:
            continue
        reached[last] += 1
        if first_at == len(blobs) - 1:
            stayed[last] += 1
    quiet = {value: (count, stayed[value] / count) for value, count in reached.items()}
    into: Counter[str] = Counter()
    out: Counter[str] = Counter()
    for (before, after), count in transitions.items():
        out[before] += count
        into[after] += count
    terminal = tuple(sorted(v for v, count in into.items() if count >= min_notes and out[v] <= max_exits * count))
    return Lifecycle(
        key=key,
        seen=dict(seen.most_common()),
        current=dict(current.most_common()),
        transitions=dict(transitions.most_common()),
        quiet=dict(sorted(quiet.items(), key=lambda item: -item[1][0])),
        terminal=terminal,
        notes=len(versions),
        commits=commits,
    )
