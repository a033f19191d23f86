"""A persistent cache of parsed notes, keyed by content hash.

A note's parse depends only on its bytes, the kbmine version and the
settings that change parsing (the dialect), so those make the key and a
renamed or reverted note is a cache hit. The store is one sqlite file in
``.kbmine/cache.sqlite`` under the KB root (or the user cache folder when the
root is read-only). sqlite's WAL mode keeps concurrent runs safe; a file that
is not a valid cache is deleted and rebuilt, never trusted.

Large derived results (a run's findings, duplicate-claim's band table) live
in files beside the database, named by their content's SHA-256, which the
database row records and every read checks: sqlite reads a large blob page
by page through its write-ahead log (13 MB took a quarter of a second; the
file takes a few milliseconds).
"""

from __future__ import annotations

import atexit
import hashlib
import marshal
import os
import pickle
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from kbmine import __version__

if TYPE_CHECKING:
    from kbmine.files import FileStatus
    from kbmine.parallel import Background

__all__ = ["DB_SUFFIXES", "ParseCache", "default_cache_path", "remove_cache"]

_SCHEMA = 8
#: Derived results kept per name (e.g. findings for a few rule selections).
_BLOB_SLOTS = 8
#: Blobs larger than this are stored in a file (see the module's docstring).
_FILE_BLOB_BYTES = 1 << 20
#: What a blob row holds instead of the data when the data is in a file: this, then the file's SHA-256.
_FILE_MARK = b"kbmine-file-blob:"
#: A file no row refers to is removed once this old (a concurrent run may not have recorded it yet).
_ORPHAN_SECONDS = 60.0


#: Per database: the writes left to forked children (see ParseCache.write_behind), each with the
#: process that started it and what it writes.
_BEHIND: dict[Path, list[tuple[int, frozenset[str], Background[None]]]] = {}


def _settle_writes(path: Path, what: str | None = None) -> None:
    """Wait for the writes to database ``path`` (of ``what``, see :meth:`ParseCache.write_behind`,
    or of anything) that this process left to children, whichever :class:`ParseCache` started them."""
    waiting = []
    for owner, writes, writer in _BEHIND.pop(path, []):
        if what is not None and what not in writes:
            waiting.append((owner, writes, writer))
        elif owner == os.getpid():  # a forked child leaves its parent's writers alone
            try:
                writer.result()
            except Exception:  # noqa: BLE001 -- a failed write only costs a later run its hits
                pass
    if waiting:
        _BEHIND[path] = waiting


@atexit.register
def _settle_all_writes() -> None:
    """At exit, wait for every write left to a child (a library caller may never close its cache):
    while the interpreter still has its modules, so the children's pools wind down cleanly."""
    for path in list(_BEHIND):
        _settle_writes(path)


def _busy(error: sqlite3.Error) -> bool:
    """Whether ``error`` says another connection holds the database (busy or locked), which is
    no reason to discard it: concurrent runs (an editor's and a pre-commit hook's) must not
    wipe each other's cache."""
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def code_fingerprint() -> str:
    """A digest of kbmine's own source files (size and mtime), so an upgraded or edited
    kbmine never reuses results computed by different code under the same version."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=8)
    for file in sorted(package.rglob("*.py")):
        try:
            stat = file.stat()
        except OSError:
            continue
        digest.update(f"{file.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _writable(folder: Path) -> bool:
    """Writable *and* not marked read-only: root may write anywhere, but a folder
    without write bits says its owner wants nothing written there."""
    try:
        return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)
    except OSError:
        return False


#: The files sqlite keeps for one database.
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _local_usable(local: Path) -> bool:
    """Whether kbmine may keep its cache in ``local`` (``<root>/.kbmine``).

    Not when any of it is a symlink: the repository under check chose where
    those point (outside the KB, or at its own notes), and sqlite would
    write there. Not when something other than a folder has the name.
    """
    if local.is_symlink():
        return False
    if not local.exists():
        return _writable(local.parent)
    if not local.is_dir():
        return False
    if any((local / f"cache.sqlite{suffix}").is_symlink() for suffix in DB_SUFFIXES):
        return False
    return _writable(local)


def default_cache_path(root: Path) -> Path:
    """``<root>/.kbmine/cache.sqlite`` if that is safe to write, else a per-root file in the user cache."""
    local = root / ".kbmine"
    if _local_usable(local):
        return local / "cache.sqlite"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kbmine"
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
    return base / f"{digest}.sqlite"


def blob_folder(path: Path) -> Path:
    """Where the large blobs of the cache database ``path`` live."""
    return Path(str(path) + ".blobs")


def remove_cache(path: Path) -> bool:
    """Delete the cache database ``path`` with its blob files; whether there was anything to delete."""
    _settle_writes(path)
    removed = False
    for suffix in DB_SUFFIXES:
        candidate = Path(str(path) + suffix)
        if candidate.exists() or candidate.is_symlink():
            candidate.unlink()
            removed = True
    folder = blob_folder(path)
    if folder.is_symlink():
        folder.unlink()
        return True
    if folder.is_dir():
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()
        removed = True
    return removed


def _write_gitignore(path: Path) -> None:
    """Create ``path`` (``*``: git ignores the cache folder), never following a symlink placed there."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        return
    with open(descriptor, "w", encoding="utf-8") as handle:
        handle.write("*\n")


class ParseCache:
    """Parsed notes (encoded by :mod:`kbmine.codec`) by ``(content hash, parse key)``; every failure degrades to a miss."""

    def __init__(self, path: Path, parse_key: str) -> None:
        self.path = path
        #: Keys of this kbmine's code start with this; rows of other code can never be read again.
        #: The interpreter is part of it: marshal's format (kbmine.codec) may change between versions.
        self.code_key = f"{__version__}:{_SCHEMA}:{sys.implementation.cache_tag}:{code_fingerprint()}:"
        self.key = f"{self.code_key}{parse_key}"
        self._db: sqlite3.Connection | None = None
        self._inherited: sqlite3.Connection | None = None
        self._open()

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.parent.name == ".kbmine":
                _write_gitignore(self.path.parent / ".gitignore")
            self._db = self._connect()
        except sqlite3.Error as exc:
            if _busy(exc):
                self._db = None  # another run holds it longer than we wait: run uncached, keep it
            else:
                self._discard()
        except OSError:
            self._discard()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS notes (hash TEXT, key TEXT, data BLOB, PRIMARY KEY (hash, key))")
        db.execute("CREATE TABLE IF NOT EXISTS blobs (name TEXT, key TEXT, data BLOB, stamp REAL, PRIMARY KEY (name, key))")
        db.execute(
            "CREATE TABLE IF NOT EXISTS derived (kind TEXT, key TEXT, hash TEXT, data BLOB, PRIMARY KEY (kind, key, hash))"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS file_hashes (path BLOB PRIMARY KEY, key TEXT, status BLOB, hash TEXT, seen INTEGER)"
        )
        db.execute("SELECT count(*) FROM notes WHERE 0").fetchall()
        return db

    def detach_after_fork(self) -> None:
        """In a forked child: open a connection of its own, leaving the parent's untouched.

        sqlite connections must not cross a fork. The inherited one is kept
        referenced, never used nor closed: closing it here could make sqlite
        believe it holds the last connection and checkpoint the parent's log.
        """
        self._inherited = self._db
        if self._db is not None:
            try:
                self._db = self._connect()
            except (OSError, sqlite3.Error):
                self._db = None

    def write_behind(self, write: Callable[[], None], *, size: int, writes: Iterable[str]) -> None:
        """Run ``write`` (calls of this cache's ``put_*`` methods, writing ``writes``: ``notes``,
        ``derived:<kind>``, ``blobs:<name>``) in a forked child, so the run goes on while a large
        write of fresh results lands; small ones are written here and now.

        A cold check of commonplace wrote 45 MB of parsed notes and passage
        signatures (a quarter of a second) while the second core sat idle,
        and every check after an edit pickles its 5,700 findings (60 ms) on
        its way out. Reads of what such a write stores (:meth:`get_many`,
        :meth:`get_derived` of its kind, :meth:`get_blob` of its name) and
        :meth:`close` wait for it first, so this process never misses its own
        writes, and other reads go on (missing-link's read of its scans waited
        for the parsed notes, 0.2 s of a cold run); the child has its own
        connection.
        """
        from kbmine.parallel import Background

        if self._db is None:
            return
        writer: Background[None] = Background(write, size=size, in_child=self.detach_after_fork)
        if writer.apart:
            _BEHIND.setdefault(self.path, []).append((os.getpid(), frozenset(writes), writer))
        else:
            writer.result()

    def _discard(self) -> None:
        """Drop a corrupt cache file and start an empty one; without a usable file, run uncached."""
        self._db = None
        try:
            for suffix in DB_SUFFIXES:
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            self._db = self._connect()
        except (OSError, sqlite3.Error):
            self._db = None

    def _by_hash(self, query: str, params: tuple[str, ...], hashes: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """Rows ``(hash, data)`` of ``query`` (ending in ``hash IN``) for ``hashes``, a few
        hundred per statement (sqlite caps the parameters of one)."""
        assert self._db is not None
        wanted = list(hashes)
        for offset in range(0, len(wanted), 500):
            chunk = wanted[offset : offset + 500]
            yield from self._db.execute(f"{query} ({','.join('?' * len(chunk))})", (*params, *chunk))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a database error rolls it back and is swallowed (the cache
        is an optimisation: a write that fails only costs a later run its hit)."""
        assert self._db is not None
        try:
            self._db.execute("BEGIN")
            yield self._db
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def get_many(self, hashes: Iterable[str]) -> dict[str, bytes]:
        """The encoded notes stored for these content hashes (misses are simply absent)."""
        _settle_writes(self.path, "notes")
        if self._db is None:
            return {}
        try:
            return dict(self._by_hash("SELECT hash, data FROM notes WHERE key = ? AND hash IN", (self.key,), hashes))
        except sqlite3.DatabaseError as exc:
            if not _busy(exc):
                self._discard()
            return {}

    def file_hashes(self) -> dict[str, tuple[FileStatus, str, int]]:
        """The content hash of each note file the last runs read, with its file status then and
        when it was read (ns since the epoch): see :func:`kbmine.kb.load`."""
        _settle_writes(self.path, "file_hashes")
        if self._db is None:
            return {}
        found: dict[str, tuple[FileStatus, str, int]] = {}
        try:
            rows = self._db.execute("SELECT path, status, hash, seen FROM file_hashes WHERE key = ?", (self.code_key,))
            for path, status, digest, seen in rows:
                try:
                    values = marshal.loads(status)
                    name = path.decode("utf-8", "surrogateescape")
                except (ValueError, EOFError, TypeError, AttributeError):
                    continue  # a damaged entry is a miss
                if type(values) is tuple and len(values) == 6 and isinstance(digest, str) and isinstance(seen, int):
                    found[name] = (values, digest, seen)
        except sqlite3.DatabaseError as exc:
            if not _busy(exc):
                self._discard()
            return {}
        return found

    def put_file_hashes(self, rows: Iterable[tuple[str, FileStatus, str, int]], keep: Iterable[str]) -> None:
        """Store ``(path, file status, content hash, when read)`` rows (see :meth:`file_hashes`)
        and drop the rows of paths not in ``keep`` (the KB's notes now)."""
        if self._db is None:
            return
        # Paths as bytes: a file name that is not UTF-8 (kept as surrogates) is no valid TEXT.
        fresh = [
            (path.encode("utf-8", "surrogateescape"), self.code_key, marshal.dumps(status), digest, seen)
            for path, status, digest, seen in rows
        ]
        current = {path.encode("utf-8", "surrogateescape") for path in keep}
        with self._transaction() as db:
            db.execute("DELETE FROM file_hashes WHERE key != ?", (self.code_key,))
            db.executemany("INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?, ?)", fresh)
            stored = [path for (path,) in db.execute("SELECT path FROM file_hashes")]
            db.executemany("DELETE FROM file_hashes WHERE path = ?", [(path,) for path in stored if path not in current])

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        if self._db is None:
            return
        rows = [(digest, self.key, data) for digest, data in items]
        if not rows:
            return
        with self._transaction() as db:
            # Notes parsed by another kbmine (an upgrade, or an edited checkout) are dead weight:
            # each version's parse of a KB is as big as the KB. Other parse keys of this code
            # (another dialect, history mining's light parse) stay.
            db.execute("DELETE FROM notes WHERE substr(key, 1, ?) != ?", (len(self.code_key), self.code_key))
            db.executemany("INSERT OR REPLACE INTO notes VALUES (?, ?, ?)", rows)

    def get_derived(self, kind: str, variant: str, hashes: Iterable[str]) -> dict[str, object]:
        """Per-note results of a graph-wide rule (``kind``) by content hash, computed under
        ``variant`` (what else they depend on, e.g. the set of note names searched for).

        This is what makes a one-note change cheap for rules that look at every
        note: the others' results come from here instead of being recomputed.
        """
        _settle_writes(self.path, f"derived:{kind}")
        if self._db is None:
            return {}
        from kbmine.heap import paused_gc

        found: dict[str, object] = {}
        query = "SELECT hash, data FROM derived WHERE kind = ? AND key = ? AND hash IN"
        try:
            with paused_gc():  # thousands of acyclic results: see kbmine.heap
                for digest, data in self._by_hash(query, (kind, f"{self.key}:{variant}"), hashes):
                    try:
                        found[digest] = pickle.loads(data)
                    except Exception:  # a damaged entry is a miss, whatever pickle raises
                        continue
        except sqlite3.DatabaseError:
            return {}
        return found

    def put_derived(self, kind: str, variant: str, items: Iterable[tuple[str, object]], keep: Iterable[str]) -> None:
        """Store per-note results (see :meth:`get_derived`) and drop this kind's entries for
        other variants and for content no longer in ``keep`` (the KB's current hashes)."""
        if self._db is None:
            return
        key = f"{self.key}:{variant}"
        try:
            rows = [(kind, key, digest, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) for digest, value in items]
        except (pickle.PicklingError, TypeError):
            return
        current = set(keep)
        with self._transaction() as db:
            db.execute("DELETE FROM derived WHERE kind = ? AND key != ?", (kind, key))
            db.executemany("INSERT OR REPLACE INTO derived VALUES (?, ?, ?, ?)", rows)
            stored = db.execute("SELECT hash FROM derived WHERE kind = ? AND key = ?", (kind, key)).fetchall()
            stale = [(kind, key, digest) for (digest,) in stored if digest not in current]
            db.executemany("DELETE FROM derived WHERE kind = ? AND key = ? AND hash = ?", stale)

    def get_blob(self, name: str, key: str) -> object | None:
        """A derived result (e.g. a whole run's findings) stored under ``name`` for ``key``."""
        _settle_writes(self.path, f"blobs:{name}")
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT data FROM blobs WHERE name = ? AND key = ?", (name, f"{self.key}:{key}")
            ).fetchone()
            if row is None:
                return None
            data = row[0]
            if isinstance(data, bytes) and data.startswith(_FILE_MARK):
                data = self._read_blob_file(data[len(_FILE_MARK) :].decode("ascii", "replace"))
                if data is None:
                    return None
            value: object = pickle.loads(data)
            return value
        except (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError):
            return None

    def put_blob(self, name: str, key: str, value: object) -> None:
        if self._db is None:
            return
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            if len(data) > _FILE_BLOB_BYTES:
                digest = self._write_blob_file(data)
                if digest is not None:
                    data = _FILE_MARK + digest.encode("ascii")
            self._db.execute(
                "INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)", (name, f"{self.key}:{key}", data, time.time())
            )
            self._db.execute(
                "DELETE FROM blobs WHERE name = ? AND key NOT IN "
                "(SELECT key FROM blobs WHERE name = ? ORDER BY stamp DESC LIMIT ?)",
                (name, name, _BLOB_SLOTS),
            )
            self._remove_orphan_blob_files()
        except (sqlite3.DatabaseError, pickle.PicklingError, TypeError):
            pass

    def _blob_folder(self) -> Path | None:
        """The folder of blob files, made if need be; ``None`` if it is unusable (a symlink, not a folder)."""
        folder = blob_folder(self.path)
        try:
            if folder.is_symlink():
                return None
            folder.mkdir(exist_ok=True)
            return folder if folder.is_dir() and not folder.is_symlink() else None
        except OSError:
            return None

    def _write_blob_file(self, data: bytes) -> str | None:
        """Store ``data`` in a file named by its SHA-256 (written aside, then renamed into place)."""
        folder = self._blob_folder()
        if folder is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        target = folder / f"{digest}.pickle"
        if target.is_file() and not target.is_symlink():
            return digest
        temporary = folder / f".{digest}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            with open(descriptor, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
        except OSError:
            temporary.unlink(missing_ok=True)
            return None
        return digest

    def _read_blob_file(self, digest: str) -> bytes | None:
        """The bytes of blob file ``digest``, or ``None`` if it is missing or not what the row recorded."""
        folder = blob_folder(self.path)
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest) or folder.is_symlink():
            return None
        try:
            descriptor = os.open(folder / f"{digest}.pickle", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with open(descriptor, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == digest else None

    def _remove_orphan_blob_files(self) -> None:
        """Delete blob files no row refers to (older than a minute: a concurrent run may be about to record one)."""
        assert self._db is not None
        folder = blob_folder(self.path)
        if folder.is_symlink() or not folder.is_dir():
            return
        mark = len(_FILE_MARK)
        rows = self._db.execute(
            "SELECT substr(data, ?, 64) FROM blobs WHERE length(data) = ? AND substr(data, 1, ?) = ?",
            (mark + 1, mark + 64, mark, _FILE_MARK),
        ).fetchall()
        referenced = {f"{bytes(digest).decode('ascii', 'replace')}.pickle" for (digest,) in rows}
        now = time.time()
        try:
            for file in folder.iterdir():
                if file.name in referenced:
                    continue
                try:
                    if now - file.lstat().st_mtime > _ORPHAN_SECONDS:
                        file.unlink()
                except OSError:
                    continue
        except OSError:
            return

    def clear(self) -> None:
        _settle_writes(self.path)
        if self._db is not None:
            try:
                self._db.execute("DELETE FROM notes")
                self._db.execute("DELETE FROM blobs")
                self._db.execute("DELETE FROM derived")
                self._db.execute("VACUUM")
                self._remove_orphan_blob_files()
            except sqlite3.DatabaseError:
                self._discard()

    def close(self) -> None:
        _settle_writes(self.path)
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:  # what was committed stays; sqlite recovers its log on the next open
                pass
            self._db = None
