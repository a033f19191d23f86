"""Run a graph-wide rule's per-note work on all cores, sharing its state by fork.

A rule such as missing-link builds one big structure (an Aho-Corasick
automaton over every note name) and then scans each note with it. Pickling
that structure to worker processes costs more than the scan; forking after
it is built shares it for free (copy on write). Only the per-note results
travel back, and only on KBs big enough to pay for the processes.

:class:`Background` runs one whole call in a forked child the same way, so
that a rule can run while the others do (see :func:`kbmine.checks.run_checks`).
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Generic, TypeVar

from kbmine.heap import frozen_heap, reuse_freed_memory

__all__ = ["PARALLEL_MIN_BYTES", "Background", "before_fork", "fork_map", "shared"]

T = TypeVar("T")
R = TypeVar("R")

#: Below this much note text the work is done in-process: workers would cost more than they save.
PARALLEL_MIN_BYTES = 3_000_000

_SHARED: Any = None
#: What the workers of a pool (parsing notes, scanning them for mentions) use, imported before
#: the fork so they inherit it: each worker imported them itself (a fifth of a second each).
_INHERITED = ("numpy", "kbmine.parse.notes")


def before_fork() -> None:
    """Import what forked workers and children will use (see :data:`_INHERITED`), once, here,
    and let them reuse freed memory (:func:`~kbmine.heap.reuse_freed_memory`)."""
    reuse_freed_memory()
    for name in _INHERITED:
        importlib.import_module(name)


def shared() -> Any:
    """The state the parent handed to :func:`fork_map` (inside a worker, or in-process)."""
    return _SHARED


def fork_map(
    work: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    state: Any,
    *,
    size: int,
    jobs: int | None = None,
) -> list[R]:
    """``work`` over ``items`` in batches, in forked workers when ``size`` (bytes of text) is large.

    ``work`` reads ``state`` through :func:`shared`. Results keep the order of
    ``items``. Where fork is unavailable, or the work is small, it runs here.
    """
    global _SHARED
    workers = min(jobs or os.cpu_count() or 1, max(1, len(items) // 16))
    _SHARED = state
    try:
        if workers < 2 or size < PARALLEL_MIN_BYTES or "fork" not in multiprocessing.get_all_start_methods():
            return work(items)
        count = workers * 4
        batches = [items[index::count] for index in range(count)]
        context = multiprocessing.get_context("fork")
        before_fork()
        # Frozen before the fork: workers that collect would otherwise copy every shared page.
        with frozen_heap(), ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            parts = list(pool.map(work, batches))
        ordered: list[R | None] = [None] * len(items)
        for index, part in enumerate(parts):
            ordered[index::count] = part
        return [item for item in ordered if item is not None]
    finally:
        _SHARED = None


class Background(Generic[R]):
    """``work()`` running in a forked child while this process goes on; :meth:`result` waits for it.

    ``work`` is not pickled (the child inherits it), only its result is. Where
    fork is unavailable, or ``size`` (bytes of text) is too small to pay for
    a process, ``work`` runs here, when its result is asked for. Exceptions
    are raised by :meth:`result` either way; a child that dies without an
    answer (killed, out of memory) has its work done here. ``in_child`` runs
    first in the child only (e.g. to open its own database connection).

    A bare ``fork`` and a pipe: a one-worker process pool (its queues, its
    manager thread, its shutdown) cost the parent 15-20 ms per child, and a
    run after an edit forks three (duplicate-claim, two cache writers).
    """

    def __init__(self, work: Callable[[], R], *, size: int, in_child: Callable[[], Any] = lambda: None) -> None:
        self._work = work
        self._child: tuple[int, int] | None = None  # its pid and the pipe its answer comes through
        if size < PARALLEL_MIN_BYTES or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
            return
        reuse_freed_memory()
        reading, writing = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to spare: the work is done here
            os.close(reading)
            os.close(writing)
            return
        if pid == 0:
            os.close(reading)
            _answer(writing, in_child, work)  # never returns
        os.close(writing)
        self._child = (pid, reading)

    @property
    def apart(self) -> bool:
        """Whether ``work`` runs in a child (else it runs here, in :meth:`result`)."""
        return self._child is not None

    def result(self) -> R:
        """The work's result (raising what it raised); asked for once."""
        if self._child is None:
            return self._work()
        pid, reading = self._child
        self._child = None
        with os.fdopen(reading, "rb") as pipe:
            answer = pipe.read()
        os.waitpid(pid, 0)
        if not answer:  # the child died without answering: do the work here
            return self._work()
        succeeded, value = pickle.loads(answer)
        if succeeded:
            return value  # type: ignore[no-any-return]
        raise value


def _answer(writing: int, in_child: Callable[[], Any], work: Callable[[], Any]) -> None:
    """In a :class:`Background` child: do the work, send back its result (or what it raised), exit.

    What the child inherited goes to the collector's permanent generation
    first: a collection walking the parent's heap writes to every object's
    header and so copies every page of it. The cache writer, encoding a
    run's findings, took three to six times as long in its child as in the
    parent before.
    """
    try:
        gc.freeze()
        in_child()
        answer = pickle.dumps((True, work()), pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # noqa: BLE001 -- whatever the work raised is the parent's to raise
        try:
            answer = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 -- an exception that does not pickle still says what went wrong
            answer = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")), pickle.HIGHEST_PROTOCOL)
    try:
        with os.fdopen(writing, "wb") as pipe:
            pipe.write(answer)
    finally:
        os._exit(0)  # no atexit handlers, no flushing of the parent's buffers
