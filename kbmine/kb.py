"""Load a KB: find its notes, parse each once (in parallel, through the cache), index them.

``kbmine.load(path)`` is the library entry point; the CLI is a thin layer on
top of it. A :class:`KB` holds the notes, the single :class:`Resolver`, the
resolution of every link (computed once, shared by all rules) and, on
demand, the networkx graph.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import stat
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kbmine.config import Config, load_config
from kbmine.errors import InputError
from kbmine.files import FileStatus, ScanProblem, scan_kb
from kbmine.model import Link, Note, Problem, Span, content_hash, note_face, note_title, path_stem
from kbmine.resolve import Resolution, Resolver, name_key, strip_note_extension

if TYPE_CHECKING:
    from concurrent.futures import Future

    from kbmine.gitops import WorkTreeFiles
    from kbmine.parallel import Background

    import networkx as nx

    from kbmine.parse.text import SourceText

__all__ = ["KB", "load", "LoadStats"]

#: Below this many bytes to parse, worker start-up costs more than it saves.
PARALLEL_MIN_BYTES = 3_000_000
#: Note bytes whose decoded sources :meth:`KB.source` keeps (least recently used dropped first).
SOURCE_CACHE_BYTES = 64_000_000
_ZERO = Span(0, 0, 1, 1, 1, 1)

Progress = Callable[[int, int], None]
#: The cache's name for passage signatures (see KB.passage_signatures).
_SIGNATURES = "signatures"
#: The cache's name for the resolutions of every link (see KB.resolutions).
_RESOLUTIONS = "resolutions"
#: A parsed file: path, content hash, the note (encoded by kbmine.codec when it comes from a worker), passage signatures, error.
_Parsed = tuple[str, str, Note | bytes | None, bytes, str | None]


@dataclass(slots=True)
class LoadStats:
    """How a load went (for benchmarks and ``--verbose``)."""

    notes: int = 0
    parsed: int = 0
    cached: int = 0
    workers: int = 1
    seconds: float = 0.0


@dataclass
class KB:
    """A knowledge base: its files, and (parsed on first use) its notes, resolver and graph.

    Loading only reads and hashes the files; notes are parsed or taken from the
    cache when first needed, so a run whose result is cached whole (nothing
    changed since the last one) never touches a parse.
    """

    root: Path
    config: Config
    files: frozenset[str] = frozenset()
    dirs: frozenset[str] = frozenset()
    scan_problems: tuple[ScanProblem, ...] = ()
    stats: LoadStats = field(default_factory=LoadStats)
    cache: Any = None
    #: Each note's bytes (read on first use when the load could trust a stored hash: see :class:`NoteBytes`).
    contents: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    hashes: dict[str, str] = field(default_factory=dict, repr=False)
    read_errors: dict[str, str] = field(default_factory=dict, repr=False)
    #: Notes larger than ``config.max_note_size``, never read: path → size in bytes.
    oversize: dict[str, int] = field(default_factory=dict, repr=False)
    #: What git says of the files (``None`` outside git): which are untracked, which tracked ones are missing.
    git_files: WorkTreeFiles | None = field(default=None, repr=False)
    #: Symlinks named like notes → the path each points at (links to one reach that note).
    symlinked: dict[str, str] = field(default_factory=dict, repr=False)
    jobs: int | None = None
    progress: Progress | None = None
    notices: list[str] = field(default_factory=list)
    _sources: dict[str, SourceText | None] = field(default_factory=dict, repr=False)
    _source_bytes: int = field(default=0, repr=False)
    #: Passage signatures of the notes parsed in this run, or fetched since (see passage_signatures).
    _signatures: dict[str, bytes] = field(default_factory=dict, repr=False)
    #: The process that started it, HEAD and the git dates being read in a thread (see prefetch_git_dates).
    _git_dates_job: tuple[int, str, Future[dict[str, tuple[int, int]] | None]] | None = field(default=None, repr=False)
    #: The process that started it and the wait for the changed files git is listing (see prefetch_git_dates).
    _dirty_files_job: tuple[int, Callable[[], set[str] | None]] | None = field(default=None, repr=False)

    @cached_property
    def fingerprint(self) -> str:
        """A digest of everything the findings depend on: the notes' contents, the
        other files and folders, and the configuration."""
        return self._digest(contents=True)

    @cached_property
    def frame(self) -> str:
        """:attr:`fingerprint` without the notes' contents: the same for two versions of the
        KB that differ only inside their notes (see :func:`~kbmine.model.note_face`)."""
        return self._digest(contents=False)

    def _digest(self, *, contents: bool) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for path in sorted(self.hashes):
            digest.update(f"n\0{path}\0{self.hashes[path] if contents else ''}\n".encode("utf-8", "surrogateescape"))
        for path in sorted(self.read_errors):
            digest.update(f"e\0{path}\0{self.read_errors[path]}\n".encode("utf-8", "surrogateescape"))
        for path in sorted(self.oversize):
            digest.update(f"o\0{path}\0{self.oversize[path]}\n".encode("utf-8", "surrogateescape"))
        for path in sorted(self.files):
            digest.update(f"f\0{path}\n".encode("utf-8", "surrogateescape"))
        for path in sorted(self.dirs):
            digest.update(f"d\0{path}\n".encode("utf-8", "surrogateescape"))
        for problem in self.scan_problems:
            digest.update(f"p\0{problem.path}\0{problem.message}\n".encode("utf-8", "surrogateescape"))
        for path, target in sorted(self.symlinked.items()):
            digest.update(f"s\0{path}\0{target}\n".encode("utf-8", "surrogateescape"))
        if self.git_files is not None:  # an uncommitted move is read as one (see moved_notes) until committed
            for path in sorted(self.git_files.untracked):
                digest.update(f"u\0{path}\n".encode("utf-8", "surrogateescape"))
            for path in sorted(self.git_files.missing):
                digest.update(f"m\0{path}\n".encode("utf-8", "surrogateescape"))
        digest.update(repr(dataclasses.replace(self.config, source=None)).encode())
        return digest.hexdigest()

    @cached_property
    def notes(self) -> dict[str, Note]:
        """Every note by path, parsed once (in parallel on big KBs) or taken from the cache."""
        from kbmine.heap import paused_gc

        started = time.perf_counter()
        with paused_gc(freeze=True):  # millions of acyclic objects, kept for the run: see kbmine.heap
            notes = _materialise(self)
        self.stats.seconds += time.perf_counter() - started
        return notes

    def passage_signatures(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The MinHash signatures of the passages of notes ``paths`` (concatenated, in passage order).

        Kept apart from the notes (see :func:`kbmine.parse.signed_notes`):
        those parsed in this run have them in memory, the others are fetched
        from the cache, and a note whose entry is missing or damaged is parsed
        again.
        """
        from kbmine.parse.passages import NUM_PERM

        notes, known = self.notes, self._signatures
        width = NUM_PERM * 4
        paths = list(dict.fromkeys(paths))
        wanted = [path for path in paths if path not in known and notes[path].passages]
        if wanted and self.cache is not None:
            stored = self.cache.get_derived(_SIGNATURES, "", {self.hashes[path] for path in wanted})
            for path in wanted:
                blob = stored.get(self.hashes[path])
                if isinstance(blob, bytes) and len(blob) == width * len(notes[path].passages):
                    known[path] = blob
        missing = [path for path in wanted if path not in known]
        if missing:
            from kbmine.parse import signed_notes

            config = self.config
            parsed = signed_notes(
                [(path, self.contents[path]) for path in missing],
                config.dialect,
                config.parse_timeout,
                config.passage_min_words,
            )
            for path, (_, signature) in zip(missing, parsed):
                known[path] = signature
            _store_signatures(self, [(self.hashes[path], known[path]) for path in missing])
        return {path: known.get(path, b"") for path in paths}

    @cached_property
    def resolver(self) -> Resolver:
        return Resolver(self.notes, self.files, self.dirs, self.config.dialect, self.symlinked)

    @cached_property
    def resolutions(self) -> dict[str, tuple[Resolution, ...]]:
        """The resolution of every link, aligned with ``note.links``, computed once.

        Cached under the resolver's identity (what resolutions depend on
        besides the link): after an edit that renames, retitles or re-heads
        nothing, only the edited notes' links are resolved again.
        """
        resolver = self.resolver
        resolve = resolver.resolve
        if self.cache is None:
            return {path: tuple(resolve(path, link) for link in note.links) for path, note in self.notes.items()}
        identity = resolver.identity()
        stored = self.cache.get_blob(_RESOLUTIONS, identity)
        known: dict[str, tuple[str, tuple[Resolution, ...]]] = stored if isinstance(stored, dict) else {}
        result: dict[str, tuple[Resolution, ...]] = {}
        fresh = 0
        for path, note in self.notes.items():
            hit = known.get(path)
            if isinstance(hit, tuple) and len(hit) == 2 and hit[0] == note.content_hash and len(hit[1]) == len(note.links):
                result[path] = hit[1]
                continue
            result[path] = tuple(resolve(path, link) for link in note.links)
            fresh += 1
        if fresh or len(known) != len(result):
            # Equal resolutions stored once (pickle shares repeated objects): most links
            # point at a note with no anchor, or outside the KB.
            interned: dict[Resolution, Resolution] = {}
            table = {
                path: (self.notes[path].content_hash, tuple(interned.setdefault(r, r) for r in resolutions))
                for path, resolutions in result.items()
            }
            self.cache.put_blob(_RESOLUTIONS, identity, table)
        return result

    @cached_property
    def missing_notes(self) -> dict[str, bytes]:
        """The notes git tracks that are missing from the work tree (deleted, or moved away, not
        committed yet), with their bytes as git's index has them: where untracked notes may come from."""
        git_files = self.git_files
        if git_files is None:
            return {}
        extensions = self.config.extensions
        gone = sorted(path for path in git_files.missing if path.lower().endswith(extensions) and path not in self.hashes)
        if not gone:
            return {}
        from kbmine import gitops

        versions = gitops.file_versions(self.root, [("", path) for path in gone]) or {}
        return {path: data for (_, path), data in versions.items()}

    @cached_property
    def moved_notes(self) -> dict[str, str]:
        """Notes renamed or moved since the last commit, not committed yet: old path → path now.

        git sees such a move as a tracked note missing from the work tree and
        an untracked one, until both are staged; when the untracked note holds
        exactly the missing one's bytes (see :attr:`missing_notes`), it is that
        note, moved. Links still written with the old path are broken, and
        reported so, but they say which note their writer meant.
        """
        git_files = self.git_files
        if git_files is None or not git_files.missing or not git_files.untracked:
            return {}
        here = {self.hashes[path]: path for path in sorted(git_files.untracked) if path in self.hashes}
        if not here:
            return {}
        moved = {path: here.get(content_hash(data)) for path, data in self.missing_notes.items()}
        return {old: new for old, new in moved.items() if new is not None}

    def moved_target(self, path: str, link: Link, resolution: Resolution) -> str | None:
        """The note a broken ``link`` of note ``path`` meant, when a move not committed yet broke it
        (see :attr:`moved_notes`): the moved note, when the link looked for its old path, or its old
        file name alone (as a wikilink names a note) where no other moved note had that name; or,
        when ``path`` is the note that moved, the note the link reaches from its old place."""
        if resolution.status != "broken" or not self.moved_notes:
            return None
        if resolution.path is not None:
            target = self._moved_by_old_name.get(name_key(strip_note_extension(resolution.path)))
            if target is not None:
                return target
        old = self._moved_from.get(path)
        if old is None:
            return None
        before = self.resolver.resolve(old, link)
        return before.path if before.status == "note" else None

    @cached_property
    def _moved_by_old_name(self) -> dict[str, str]:
        by_path = {name_key(strip_note_extension(old)): new for old, new in self.moved_notes.items()}
        names: dict[str, set[str]] = {}
        for old, new in self.moved_notes.items():
            names.setdefault(name_key(strip_note_extension(old).rsplit("/", 1)[-1]), set()).add(new)
        return {name: next(iter(news)) for name, news in names.items() if len(news) == 1} | by_path

    @cached_property
    def _moved_from(self) -> dict[str, str]:
        return {new: old for old, new in self.moved_notes.items()}

    def edited_since(self, hashes: Mapping[str, str], limit: int) -> dict[str, Note] | None:
        """The notes edited since the KB's notes had the content ``hashes``, each with its version
        then (from the cache); ``None`` unless the same notes exist, at most ``limit`` of them
        were edited and every one kept its face (see :func:`~kbmine.model.note_face`).

        Then the KB differs from that version only inside those notes: a rule
        that reads of the other notes no more than their faces judges every
        other note as it did, and can update its findings instead of
        recomputing them (missing-link, and the rules that judge notes one at
        a time: see :mod:`kbmine.checks.reuse`).
        """
        cache = self.cache
        if cache is None or hashes.keys() != self.hashes.keys():
            return None
        before = {path: hashes[path] for path, digest in self.hashes.items() if hashes[path] != digest}
        if len(before) > limit:
            return None
        from kbmine.codec import decode_note

        stored = cache.get_many(set(before.values()))
        old_notes: dict[str, Note] = {}
        for path, digest in before.items():
            old = decode_note(stored[digest], path) if digest in stored else None
            if old is None or note_face(old) != note_face(self.notes[path]):
                return None
            old_notes[path] = old
        return old_notes

    def judged_notes(self, judged: Collection[str] | None) -> Mapping[str, Note]:
        """The notes a rule judges: all of them (``None``), or those of ``judged`` that exist, in
        path order (a rule of scope ``"note"`` after an edit: see :mod:`kbmine.checks.reuse`)."""
        if judged is None:
            return self.notes
        return {path: self.notes[path] for path in sorted(judged) if path in self.notes}

    def resolutions_of(self, path: str) -> tuple[Resolution, ...]:
        """The resolutions of note ``path``'s links: from :attr:`resolutions` once they are
        computed, else resolved here (for a rule that needs a few notes' only, such as
        duplicate-claim, which runs in a child forked before them)."""
        known = self.__dict__.get("resolutions")
        if known is not None:
            return known[path]  # type: ignore[no-any-return]
        resolve = self.resolver.resolve
        return tuple(resolve(path, link) for link in self.notes[path].links)

    def links(self) -> Iterator[tuple[Note, Link, Resolution]]:
        """Every link occurrence with its resolution, in path order."""
        resolutions = self.resolutions
        for path, note in self.notes.items():
            yield from ((note, link, res) for link, res in zip(note.links, resolutions[path]))

    def prefetch_git_dates(self) -> None:
        """Start reading :attr:`git_dates` (in a thread) and :attr:`dirty_files` from git, so
        that git works while the notes are parsed.

        On a cold run in a repository, ``git log`` with rename detection took
        a quarter of a second, waited for at the end by stale-status and again
        by duplicate-claim's child; after a one-note edit, duplicate-claim's
        child waited 0.07 s for ``git status`` (started here by
        :func:`~kbmine.gitops.start_dirty_files`). Only git and the reading of
        its output run in the dates' thread (whose modules are all imported
        already): the cache's connection belongs to this thread, which reads
        and writes it.
        """
        from concurrent.futures import ThreadPoolExecutor

        from kbmine import gitops

        if "dirty_files" not in self.__dict__ and self._dirty_files_job is None and self.git_files is not None:
            self._dirty_files_job = (os.getpid(), gitops.start_dirty_files(self.root))
        if "git_dates" in self.__dict__ or self._git_dates_job is not None:
            return
        head, stored = self._stored_git_dates()
        if head is None or stored is not None:
            self.__dict__["git_dates"] = stored  # no history, or the dates are cached: the property's value
            return
        pool = ThreadPoolExecutor(1, thread_name_prefix="kbmine-git-dates")
        self._git_dates_job = (os.getpid(), head, pool.submit(gitops.file_dates, self.root))
        pool.shutdown(wait=False)

    def _stored_git_dates(self) -> tuple[str | None, dict[str, tuple[int, int]] | None]:
        """HEAD (``None`` outside git) and the git dates cached under it, if any."""
        head = self.head
        stored = self.cache.get_blob("git-dates", head) if head is not None and self.cache is not None else None
        return head, stored if isinstance(stored, dict) else None

    @cached_property
    def head(self) -> str | None:
        """The commit id of HEAD of the repository the KB is in (``None`` outside git or before a first commit)."""
        from kbmine import gitops

        return gitops.head_commit(self.root)

    def settle_git_dates(self) -> None:
        """Take in a prefetch of :attr:`git_dates` and :attr:`dirty_files` now, if one runs:
        before a fork, so the child has them."""
        if self._git_dates_job is not None and self._git_dates_job[0] == os.getpid():
            self.git_dates  # a cached property, computed here for its effect
        if self._dirty_files_job is not None and self._dirty_files_job[0] == os.getpid():
            self.dirty_files  # the same

    @cached_property
    def dirty_files(self) -> set[str] | None:
        """The files under the root that differ from HEAD or are untracked (``None`` outside git)."""
        from kbmine import gitops

        job = self._dirty_files_job
        if job is not None and job[0] == os.getpid():
            return job[1]()
        return gitops.dirty_files(self.root)  # not prefetched, or a forked child (the reading thread is not in it)

    @cached_property
    def git_dates(self) -> dict[str, tuple[int, int]] | None:
        """``note path → (created, last modified)`` from one git log pass (``None`` outside git).

        Cached under the HEAD commit, since history only changes with it.
        """
        from kbmine import gitops

        job = self._git_dates_job
        head: str | None
        if job is not None and job[0] == os.getpid():
            head, dates = job[1], job[2].result()
        else:  # not prefetched, or a forked child: the thread that would finish the job is not in this process
            head, stored = self._stored_git_dates()
            if head is None or stored is not None:
                return stored
            dates = gitops.file_dates(self.root)
        if dates is not None and head is not None and self.cache is not None:
            self.cache.put_blob("git-dates", head, dates)
        return dates

    def notice(self, message: str) -> None:
        """Record a one-time notice for the user (printed on stderr by the CLI, once)."""
        if message not in self.notices:
            self.notices.append(message)

    @cached_property
    def note_bytes(self) -> int:
        """The bytes of the KB's notes: what decides whether work is worth a forked process."""
        return sum(note.size for note in self.notes.values())

    @cached_property
    def graph(self) -> nx.MultiDiGraph[str]:
        from kbmine.graph import build_graph

        return build_graph(self)

    def read_bytes(self, path: str) -> bytes:
        """The bytes of note ``path`` as :func:`load` read or hashed them; empty for a note it could not read.

        Read once at most, and only bytes with the hash the load took (see
        :class:`NoteBytes`): every rule sees the bytes the parse saw, and a
        note left unread (a symlink out of the KB, ``/dev/zero``, a FIFO, a
        50 MB file) is never opened behind the scan's back.
        """
        return self.contents.get(path, b"")

    def source(self, path: str) -> SourceText | None:
        """The decoded text of note ``path`` with its offset maps (``None`` if unread or undecodable)."""
        sources = self._sources
        if path in sources:
            cached = sources.pop(path)
            sources[path] = cached  # most recently used last
            return cached
        from kbmine.parse.text import DecodeError, decode_note

        data = self.contents.get(path)
        try:
            cached = decode_note(data) if data is not None else None
        except DecodeError:
            cached = None
        sources[path] = cached
        self._source_bytes += len(data or b"")
        # Bounded: a decoded note with its offset tables takes several times its
        # bytes, and on a KB of hundreds of megabytes keeping every one was
        # gigabytes. Rules visit notes mostly in order, so recent ones suffice.
        while self._source_bytes > SOURCE_CACHE_BYTES and len(sources) > 1:
            oldest = next(iter(sources))
            del sources[oldest]
            self._source_bytes -= len(self.contents.get(oldest) or b"")
        return cached


class NoteBytes(Mapping[str, bytes]):
    """The bytes of each note: those the load read, and the others read when first asked for.

    A note whose file status is the one it had when an earlier run read it
    (see :func:`load`) keeps the content hash read then, and its bytes stay
    unread until a rule needs them: after a one-note edit of commonplace the
    run reads one file instead of 31 MB. A note read late must still have the
    bytes its hash says; if it changed in the meantime the run stops with a
    clear error rather than mix two versions of it.
    """

    def __init__(self, base: str, hashes: Mapping[str, str], read: dict[str, bytes], limit: int) -> None:
        self._base, self._hashes, self._read, self._limit = base, hashes, read, limit

    def __getitem__(self, path: str) -> bytes:
        data = self._read.get(path)
        if data is not None:
            return data
        expected = self._hashes[path]  # KeyError: not a note read or known
        try:
            data = _read(self._base + path, self._limit)
        except (OSError, NoteTooLarge) as exc:
            raise InputError(f"{path}: changed while kbmine was running ({exc}); run it again") from None
        if content_hash(data) != expected:
            raise InputError(f"{path}: changed while kbmine was running; run it again")
        self._read[path] = data
        return data

    def __iter__(self) -> Iterator[str]:
        return iter(self._hashes)

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, path: object) -> bool:
        return path in self._hashes


class NoteTooLarge(Exception):
    """A note file holds more than ``max_note_size`` bytes; it is left unread."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def _parse_batch(
    batch: list[tuple[str, str]], dialect: str, timeout: float, min_words: int, max_size: int
) -> list[_Parsed]:
    """Worker: read and parse files, return ``(path, hash, encoded note, signatures, error)`` per file."""
    from kbmine.codec import encode_note
    from kbmine.parse import signed_notes

    out: list[_Parsed] = []
    readable: list[tuple[str, bytes]] = []
    for path, absolute in batch:
        try:
            readable.append((path, _read(absolute, max_size)))
        except NoteTooLarge:
            out.append((path, "", None, b"", "it grew past max_note_size during the run"))
        except OSError as exc:
            out.append((path, "", None, b"", exc.strerror or str(exc)))
    # In groups: a group's decoded texts stay in memory until its passages are signed.
    for start in range(0, len(readable), _SIGNED_TOGETHER):
        group = readable[start : start + _SIGNED_TOGETHER]
        signed = signed_notes([("", data) for _, data in group], dialect, timeout, min_words)
        for (path, _), (note, signature) in zip(group, signed):
            out.append((path, note.content_hash, encode_note(note), signature, None))
    return out


def _read(absolute: str, limit: int) -> bytes:
    """The bytes of the regular file at ``absolute``, refusing anything bigger than ``limit``.

    Opened non-blocking and checked after opening, so a note swapped for a
    FIFO or a device since the scan cannot hang or flood the run, and a file
    still growing is cut off at ``limit``.
    """
    descriptor = os.open(absolute, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", absolute)
        if info.st_size > limit:
            raise NoteTooLarge(info.st_size)
        # Ask for the size fstat gives (plus one byte, to see growth): asking for
        # ``limit`` would make Python allocate the whole limit for every note.
        data = handle.read(min(info.st_size, limit) + 1)
        if len(data) > info.st_size:
            data += handle.read(limit + 1 - len(data))
    if len(data) > limit:
        raise NoteTooLarge(len(data))
    return data


#: How long a file must have been left alone before a run read it for its stored hash to be trusted.
_SETTLE_NS = 3_000_000_000


def _settled(status: FileStatus, entry: tuple[FileStatus, str, int], limit: int) -> bool:
    """Whether a note whose file now has ``status`` still holds the bytes of ``entry``
    (the file status, content hash and time of an earlier read: see ParseCache.file_hashes).

    As git trusts its index: the same device, inode, mode, size and
    modification and change times. A write changes the change time, even one
    that puts the modification time back. Timestamps are coarse (a second or
    two on some file systems), so a file written within :data:`_SETTLE_NS`
    before the read could be written again without its times moving: such an
    entry is not trusted, and the file is read again until a run reads it
    settled.
    """
    return status == entry[0] and status[4] < entry[2] - _SETTLE_NS and status[3] <= limit


def _unreadable(path: str, message: str) -> Note:
    problem = Problem("unreadable-note", message, _ZERO)
    return Note(path, path.rsplit("/", 1)[-1], {}, (), (), (), (), 0, 0, "", problems=(problem,))


def _too_large(path: str, size: int, limit: int) -> Note:
    """The stand-in for a note over ``max_note_size``: it exists (links to it resolve), nothing more."""
    problem = Problem(
        "parse-timeout",
        f"note is larger than max_note_size ({limit:,} bytes) and was not parsed; its links and "
        "headings were not checked: split it, or raise max_note_size",
        _ZERO,
        severity="warning",
        data=(("size", size), ("max_note_size", limit)),
    )
    return Note(path, path_stem(path), {}, (), (), (), (), 0, size, "", problems=(problem,))


def load(
    path: str | os.PathLike[str],
    config: Config | None = None,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> KB:
    """Read the KB at ``path``; raises :class:`InputError` if the path is unusable.

    Notes are parsed lazily (see :attr:`KB.notes`); ``jobs`` caps the worker
    processes and ``progress(done, total)`` is called while parsing.
    """
    started = time.perf_counter()
    root = Path(path)
    if not root.exists():
        raise InputError(f"{root}: no such folder")
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (kbmine checks a folder of notes)")
    root = root.resolve()
    if config is None:
        config = load_config(root)
    scan = scan_kb(root, config)
    cache = None
    if use_cache:
        from kbmine.cache import ParseCache, default_cache_path

        cache = ParseCache(default_cache_path(root), config.parse_key())
    contents: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    read_errors: dict[str, str] = {}
    oversize: dict[str, int] = {}
    base = str(root) + os.sep  # string joins: a Path per note was a tenth of a warm run
    known = cache.file_hashes() if cache is not None else {}
    started_ns = time.time_ns()  # before any read: see _settled
    fresh: list[tuple[str, FileStatus, str, int]] = []
    for note_path in scan.notes:
        status = scan.stats.get(note_path)
        entry = known.get(note_path)
        if status is not None and entry is not None and _settled(status, entry, config.max_note_size):
            hashes[note_path] = entry[1]  # unchanged since a run read it: read only if a rule asks
            continue
        try:
            data = contents[note_path] = _read(base + note_path, config.max_note_size)
        except NoteTooLarge as exc:
            oversize[note_path] = exc.size
            continue
        except OSError as exc:
            read_errors[note_path] = f"cannot read: {exc.strerror or exc}"
            continue
        hashes[note_path] = content_hash(data)
        if status is not None:
            fresh.append((note_path, status, hashes[note_path], started_ns))
    if cache is not None and fresh:
        notes_now = list(hashes)
        cache.write_behind(
            lambda: cache.put_file_hashes(fresh, keep=notes_now),
            size=sum(len(contents[path]) for path, *_ in fresh),
            writes=("file_hashes",),
        )
    for problem in scan.problems:
        if problem.path.lower().endswith(config.extensions) and problem.path not in hashes:
            read_errors.setdefault(problem.path, problem.message)
    kb = KB(
        root=root,
        config=config,
        files=frozenset(scan.files),
        dirs=frozenset(scan.dirs),
        scan_problems=tuple(p for p in scan.problems if p.path not in read_errors),
        stats=LoadStats(notes=len(hashes) + len(read_errors) + len(oversize)),
        cache=cache,
        contents=NoteBytes(base, hashes, contents, config.max_note_size),
        hashes=hashes,
        read_errors=read_errors,
        oversize=oversize,
        git_files=scan.git,
        symlinked=scan.symlinked,
        jobs=jobs,
        progress=progress,
    )
    kb.stats.seconds = time.perf_counter() - started
    return kb


#: Notes parsed together (their passages signed in one go): enough to pay for numpy's per-call
#: cost, few enough that their decoded texts, held until then, stay small.
_SIGNED_TOGETHER = 64


def _materialise(kb: KB) -> dict[str, Note]:
    """Parse or fetch from the cache every note of ``kb``."""
    from kbmine.codec import decode_note, encode_note

    stats, config, cache, contents = kb.stats, kb.config, kb.cache, kb.contents
    notes: dict[str, Note] = {path: _unreadable(path, message) for path, message in kb.read_errors.items()}
    notes.update((path, _too_large(path, size, config.max_note_size)) for path, size in kb.oversize.items())
    stored: dict[str, bytes] = cache.get_many(set(kb.hashes.values())) if cache is not None else {}
    missed = [path for path, digest in kb.hashes.items() if digest not in stored]
    total_bytes = sum(len(contents[p]) for p in missed)
    workers = min(kb.jobs or os.cpu_count() or 1, max(1, len(missed) // 8))
    parallel = workers > 1 and total_bytes >= PARALLEL_MIN_BYTES
    aside = _parse_aside(missed, contents, config, sum(map(len, stored.values()))) if missed and not parallel else None
    todo: list[str] = []
    for path, digest in kb.hashes.items():
        blob = stored.get(digest)
        if blob is None:
            continue
        note = decode_note(blob, path)
        if note is None:
            todo.append(path)
            continue
        notes[path] = note
        stats.cached += 1
    fresh: list[tuple[str, bytes]] = []
    results: Iterable[_Parsed]
    if parallel:
        stats.workers = workers
        results = _parse_parallel(kb.root, missed + todo, contents, config, workers, kb.progress)
    elif aside is not None:
        import numpy  # noqa: F401 -- the rules, and the children they fork, use it: imported while the child parses

        results = chain(aside.result(), _parse_here(todo, contents, config, None))
    else:
        results = _parse_here(missed + todo, contents, config, kb.progress)
    signatures: list[tuple[str, bytes]] = []
    # Each batch is taken in as it arrives: decoding it here overlaps the workers' parsing of the next.
    for path, digest, outcome, signature, error in results:
        if isinstance(outcome, Note):
            parsed: Note | None = replace(outcome, path=path, title=note_title(outcome.frontmatter, outcome.h1, path))
        else:
            parsed = decode_note(outcome, path) if outcome is not None else None
        if parsed is None:
            notes[path] = _unreadable(path, f"cannot read: {error}")
            continue
        notes[path] = parsed
        stats.parsed += 1
        if parsed.passages:
            kb._signatures[path] = signature
            signatures.append((digest, signature))
        if cache is not None:
            fresh.append((digest, outcome if isinstance(outcome, bytes) else encode_note(parsed)))
    if cache is not None and fresh:

        def write() -> None:
            cache.put_many(fresh)
            _store_signatures(kb, signatures)

        cache.write_behind(write, size=total_bytes, writes=("notes", f"derived:{_SIGNATURES}"))
    return dict(sorted(notes.items()))


def _parse_aside(todo: list[str], contents: Mapping[str, bytes], config: Config, decoding: int) -> Background[list[_Parsed]] | None:
    """Parse the few notes ``todo`` in a forked child while this process decodes the cached
    notes (``decoding`` bytes of them); ``None`` where that would not pay.

    After a one-note edit the parse of that note is mostly importing the parser and numpy
    (0.07 s), and decoding commonplace's other notes takes as long: side by side, not one
    after the other.
    """
    from kbmine.parallel import Background

    def parse() -> list[_Parsed]:
        from kbmine.codec import encode_note

        return [(path, note.content_hash, encode_note(note), signature, None) for path, note, signature in _signed_here(todo, contents, config)]

    if decoding < PARALLEL_MIN_BYTES:
        return None
    return Background(parse, size=decoding)


def _parse_parallel(
    root: Path,
    todo: list[str],
    contents: Mapping[str, bytes],
    config: Config,
    workers: int,
    progress: Progress | None,
) -> Iterator[_Parsed]:
    """Parse ``todo`` in a pool of ``workers`` processes, yielding each batch's notes as it is done
    (in the order the batches finish: the caller sorts the notes)."""
    from concurrent.futures import ProcessPoolExecutor, as_completed  # multiprocessing: only when it pays

    from kbmine.parallel import before_fork

    before_fork()

    # Largest first, in many small batches, so no worker is left with the one huge note at the end.
    ordered = sorted(todo, key=lambda p: len(contents[p]), reverse=True)
    batches: list[list[tuple[str, str]]] = [[] for _ in range(workers * 8)]
    for index, path in enumerate(ordered):
        batches[index % len(batches)].append((path, str(root / path)))
    done = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(
                _parse_batch, batch, config.dialect, config.parse_timeout, config.passage_min_words, config.max_note_size
            )
            for batch in batches
            if batch
        ]
        for future in as_completed(futures):
            batch_results = future.result()
            done += len(batch_results)
            yield from batch_results
            if progress is not None:
                progress(done, len(todo))


def _parse_here(todo: list[str], contents: Mapping[str, bytes], config: Config, progress: Progress | None) -> Iterator[_Parsed]:
    """Parse ``todo`` in this process, a batch of notes at a time (see :data:`_SIGNED_TOGETHER`)."""
    for done, (path, note, signature) in enumerate(_signed_here(todo, contents, config), 1):
        yield path, note.content_hash, note, signature, None
        if progress is not None and (done % _SIGNED_TOGETHER == 0 or done == len(todo)):
            progress(done, len(todo))


def _signed_here(todo: list[str], contents: Mapping[str, bytes], config: Config) -> Iterator[tuple[str, Note, bytes]]:
    """Each note of ``todo`` parsed here with its passage signatures, a batch at a time."""
    if not todo:
        return
    from kbmine.parse import signed_notes

    for start in range(0, len(todo), _SIGNED_TOGETHER):
        paths = todo[start : start + _SIGNED_TOGETHER]
        signed = signed_notes([("", contents[path]) for path in paths], config.dialect, config.parse_timeout, config.passage_min_words)
        yield from ((path, note, signature) for path, (note, signature) in zip(paths, signed))


def _store_signatures(kb: KB, signatures: list[tuple[str, bytes]]) -> None:
    """Cache passage signatures by content hash (dropping those of content the KB no longer has)."""
    if kb.cache is not None and signatures:
        kb.cache.put_derived(_SIGNATURES, "", signatures, keep=kb.hashes.values())
