"""Lifecycle from git history: which status values occur, how notes move between them,
and after which ones notes stop changing.

A status vocabulary at HEAD says what values exist; only history says which
follow which (``draft -> current -> superseded``) and which are terminal.
One ``git log --raw`` pass lists every version of every note (renames
followed), one ``git cat-file --batch`` reads those blobs, and only the
frontmatter's status line of each is looked at: nothing is checked out and
the working tree is never touched. Git is run read-only through subprocess.

The same reading serves replaying specs over the past (:mod:`kbmine.mine.replay`):
``snapshots`` lists the notes of sampled commits from one first-parent log,
``iter_blobs`` streams their contents from one ``cat-file`` process, and
``parse_blobs`` parses each distinct blob once (through the parse cache).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from kbmine.config import DEFAULT_EXCLUDE, Config
from kbmine.errors import InputError
from kbmine.files import glob_matcher
from kbmine.gitops import clean_git_env
from kbmine.model import Note, content_hash, note_title

__all__ = [
    "Lifecycle",
    "Snapshot",
    "iso_date",
    "iter_blobs",
    "kb_paths",
    "lifecycle",
    "note_versions",
    "notes_at",
    "parse_blobs",
    "read_statuses",
    "snapshots",
]

_NULL_BLOB = "0" * 40
#: How far into a blob the frontmatter may reach.
_HEAD_BYTES = 16_384
_FRONTMATTER = re.compile(rb"\A(?:\xef\xbb\xbf)?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)


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
    log = _git(root, "log", "-z", "--reverse", "--no-merges", "-M", "--raw", "--no-abbrev", "--format=%x01%H",
               "--relative", "--", ".")
    if log is None:
        return None
    versions: dict[str, list[str]] = {}
    commits = 0
    tokens = iter(log.decode("utf-8", "surrogateescape").split("\0"))
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
    line = re.compile(rb"^" + re.escape(key.encode()) + rb"[ \t]*:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
    found: dict[str, str | None] = {}
    for blob, data in iter_blobs(root, sorted(blobs)):
        block = _FRONTMATTER.match(data[:_HEAD_BYTES])
        match = line.search(block.group(1)) if block else None
        found[blob] = _scalar(match.group(1)) if match else None
    return found


def _git(root: Path, *args: str) -> bytes | None:
    """The output of a read-only ``git -C root ARGS``; ``None`` when git is missing or fails (outside git)."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, env=clean_git_env(), timeout=300, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout if completed.returncode == 0 else None


def iter_blobs(root: Path, ids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """``(id, content)`` of each blob of ``ids`` that exists, streamed from one ``git cat-file --batch``.

    Streamed because a KB's history holds far more text than is worth keeping
    in memory at once (commonplace: 10,000 versions, 150 MB).
    """
    with tempfile.TemporaryFile() as listing:
        listing.write("".join(f"{blob}\n" for blob in ids).encode())
        listing.seek(0)
        try:
            process = subprocess.Popen(
                ["git", "-C", str(root), "cat-file", "--batch"],
                stdin=listing, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=clean_git_env(),
            )
        except OSError:
            return
        with process:
            assert process.stdout is not None
            while header := process.stdout.readline():
                fields = header.split()
                if len(fields) < 3:  # "<id> missing"
                    continue
                data = process.stdout.read(int(fields[2]) + 1)[:-1]
                if fields[1] == b"blob":
                    yield fields[0].decode(), data


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
        for before, after in pairwise(values):
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


@dataclass(frozen=True)
class Snapshot:
    """The notes of the KB at one commit: ``path → (blob id, lineage)``.

    A lineage is one note followed across renames (the number of the commit
    change that created it), so a note fixed under a new name is still the
    note that was flagged under its old one.
    """

    commit: str
    time: int
    notes: dict[str, tuple[str, int]]


def snapshots(root: Path, samples: int, keep: Callable[[str], bool]) -> tuple[list[Snapshot], int] | None:
    """The KB's notes (paths ``keep`` accepts) at up to ``samples`` first-parent commits evenly
    spaced over its history, the first and HEAD included; and how many commits there are.

    One ``git log --first-parent`` pass: each commit's changes (merges against
    their first parent, renames detected) are applied to the tree of the one
    before, so every sampled tree is exact without listing it. ``None``
    outside git.
    """
    log = _git(root, "log", "-z", "--reverse", "--first-parent", "--diff-merges=first-parent", "-M", "--raw",
               "--no-abbrev", "--format=%x01%H %ct", "--relative", "--", ".")
    if log is None:
        return None
    commits: list[tuple[str, int, list[list[str]]]] = []
    tokens = iter(log.decode("utf-8", "surrogateescape").split("\0"))
    for token in tokens:
        token = token.lstrip("\n")
        if token.startswith("\x01"):
            sha, _, stamp = token[1:].partition(" ")
            commits.append((sha, int(stamp or 0), []))
        elif token.startswith(":") and commits:
            fields = token.split()
            change = [fields[3], fields[4][0], next(tokens, "")]
            if change[1] in "RC":
                change.append(next(tokens, ""))
            commits[-1][2].append(change)
    count = len(commits)
    wanted = {round(index * (count - 1) / (samples - 1)) for index in range(samples)} if samples > 1 else {count - 1}
    state: dict[str, tuple[str, int]] = {}
    lineages = 0
    taken: list[Snapshot] = []
    for position, (sha, when, changes) in enumerate(commits):
        for blob, status, path, *renamed in changes:
            if status == "D":
                state.pop(path, None)
                continue
            lineage = state.pop(path)[1] if status == "R" and path in state else None
            target = renamed[0] if renamed else path
            if lineage is None and status in "MT" and target in state:
                lineage = state[target][1]
            if lineage is None:
                lineage, lineages = lineages, lineages + 1
            state[target] = (blob, lineage)
        if position in wanted:
            taken.append(Snapshot(sha, when, {path: entry for path, entry in state.items() if keep(path)}))
    return taken, count


def kb_paths(config: Config) -> Callable[[str], bool]:
    """Whether a path (relative to the KB root) names a note the KB's scan would read:
    the configured extensions, excludes and includes, no hidden folder or file."""
    exclude = glob_matcher(DEFAULT_EXCLUDE + config.exclude)
    include = glob_matcher(config.include)
    extensions = config.extensions

    def keep(path: str) -> bool:
        return (
            path.lower().endswith(extensions)
            and not any(part.startswith(".") for part in path.split("/"))
            and (exclude is None or not exclude.match(path))
            and (include is None or include.match(path) is not None)
        )

    return keep


#: The shortest passage for parsing history: longer than any note, so no passage is signed.
_NO_PASSAGES = 1 << 30


def parse_blobs(contents: Mapping[str, bytes], config: Config, cache: Any = None, jobs: int | None = None) -> dict[str, Note]:
    """``blob id → note`` (its path left empty) parsed with the KB's own parser, each distinct
    content once, in forked workers, through the parse cache.

    Mining reads headings, links and frontmatter, never the passages
    duplicate-claim signs (a third of the parse time), so a blob the cache
    does not hold fully parsed (a note at HEAD is) is parsed without them and
    cached under its own parse key: a past version of a note is only ever
    parsed for mining, and the next replay finds it there.
    """
    from kbmine.codec import decode_note, encode_note
    from kbmine.parallel import fork_map

    light = dataclasses.replace(config, rules={**config.rules, "duplicate-claim": {**config.rule_options("duplicate-claim"), "min_words": _NO_PASSAGES}})
    caches = [] if cache is None else [cache, _variant(cache, light.parse_key())]
    digests = {blob: content_hash(data) for blob, data in contents.items()}
    parsed: dict[str, Note] = {}
    for store in caches:
        wanted = {digest for blob, digest in digests.items() if blob not in parsed}
        stored: dict[str, bytes] = store.get_many(wanted) if wanted else {}
        for blob, digest in digests.items():
            if blob in parsed or digest not in stored:
                continue
            note = decode_note(stored[digest], "")
            if note is not None:
                parsed[blob] = note
    todo = sorted((blob for blob in contents if blob not in parsed), key=lambda blob: -len(contents[blob]))
    state = (contents, light.dialect, light.parse_timeout, light.passage_min_words)
    fresh = fork_map(_parse_shared, todo, state, size=sum(len(contents[blob]) for blob in todo), jobs=jobs)
    parsed.update(zip(todo, fresh))
    if caches:
        caches[-1].put_many((note.content_hash, encode_note(note)) for note in fresh)
        caches[-1].close()
    return parsed


def _variant(cache: Any, parse_key: str) -> Any:
    """The parse cache of the same file under another parse key."""
    from kbmine.cache import ParseCache

    return ParseCache(cache.path, parse_key)


def _parse_shared(blobs: Iterable[str]) -> list[Note]:
    from kbmine.parallel import shared
    from kbmine.parse import parse_note

    contents, dialect, timeout, words = shared()
    return [parse_note("", contents[blob], dialect, timeout, words) for blob in blobs]


def notes_at(root: Path, rev: str, config: Config, cache: Any = None, jobs: int | None = None) -> dict[str, Note]:
    """The KB's notes as they were at commit ``rev``, read from git (never checked out).

    Raises :class:`InputError` when ``root`` is not in git or ``rev`` names no commit there.
    """
    commit = _git(root, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
    if commit is None:
        raise InputError(f"--at {rev}: no such commit (or {root} is not in a git repository)")
    listing = _git(root, "ls-tree", "-r", "-z", commit.decode().strip())
    if listing is None:
        raise InputError(f"--at {rev}: cannot list its tree")
    keep = kb_paths(config)
    paths: dict[str, str] = {}
    for entry in listing.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, path = entry.partition("\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == "blob" and keep(path):
            paths[path] = fields[2]
    contents = {blob: data for blob, data in iter_blobs(root, set(paths.values())) if len(data) <= config.max_note_size}
    parsed = parse_blobs(contents, config, cache, jobs)
    return {
        path: dataclasses.replace(note, path=path, title=note_title(note.frontmatter, note.h1, path))
        for path, blob in sorted(paths.items())
        if (note := parsed.get(blob)) is not None
    }


def iso_date(epoch: int) -> str:
    """A commit time as its UTC calendar date."""
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.UTC).date().isoformat()
