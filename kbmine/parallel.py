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
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

from kbmine.heap import frozen_heap

__all__ = ["PARALLEL_MIN_BYTES", "Background", "before_fork", "fork_map", "shared"]

T = TypeVar("T")
R = TypeVar("R")

#: Below this much note text the work is done in-process: workers would cost more than they save.
PARALLEL_MIN_BYTES = 3_000_000

_SHARED: Any = None
#: The call a :class:`Background` child runs: set just before the fork, which hands it over.
_CALL: tuple[Callable[[], Any], Callable[[], Any]] | None = None


#: What the workers of a pool (parsing notes, scanning them for mentions) use, imported before
#: the fork so they inherit it: each worker imported them itself (a fifth of a second each).
_INHERITED = ("numpy", "kbmine.parse.notes")


def before_fork() -> None:
    """Import what forked workers and children will use (see :data:`_INHERITED`), once, here."""
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
    are raised by :meth:`result` either way. ``in_child`` runs first in the
    child only (e.g. to open its own database connection).
    """

    def __init__(self, work: Callable[[], R], *, size: int, in_child: Callable[[], Any] = lambda: None) -> None:
        self._work = work
        self._pool: ProcessPoolExecutor | None = None
        self._future: Any = None
        if size < PARALLEL_MIN_BYTES or "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
            return
        # No before_fork(): the child imports what it uses. Importing numpy and the parser here
        # cost the run 0.07 s before the fork of a cache writer, which needs neither.
        global _CALL
        _CALL = (in_child, work)
        try:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
            self._future = self._pool.submit(_call)  # forks now: the child has the call
        finally:
            _CALL = None

    @property
    def apart(self) -> bool:
        """Whether ``work`` runs in a child (else it runs here, in :meth:`result`)."""
        return self._pool is not None

    def result(self) -> R:
        if self._pool is None:
            return self._work()
        try:
            value: R = self._future.result()
            return value
        except BrokenProcessPool:  # the child died (killed, out of memory): do the work here
            return self._work()
        finally:
            self._pool.shutdown()


def _call() -> Any:
    """A :class:`Background` child's work. What the child inherited goes to the collector's
    permanent generation first: a collection walking the parent's heap writes to every
    object's header and so copies every page of it. The cache writer, encoding a run's
    findings, took three to six times as long in its child as in the parent before."""
    assert _CALL is not None
    gc.freeze()
    in_child, work = _CALL
    in_child()
    return work()
