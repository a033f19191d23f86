"""The garbage collector around kbmine's big, long-lived, acyclic heap of parsed notes.

A KB's notes are millions of small objects (spans, links, tuples) that live
for the whole run and never form reference cycles. CPython's cyclic
collector does not know that: while they are unpickled it runs a pass every
few hundred allocations over an ever larger heap, and afterwards every full
collection walks all of them again. Worse, a forked worker that collects
writes to each object's header and so copies every page of the heap it
shares with its parent. On commonplace (2,000 notes) unpickling the cached
notes took 0.79 s with the collector and 0.30 s without, and the rules
phase 14 s wall with a shared, collected heap against 3 s with it frozen.

:func:`paused_gc` switches the collector off while a batch of notes is
built. Switching it back on is not free either: everything allocated
meanwhile waits in the youngest generation, so the next collections walk
it all (0.26 s after reading commonplace's notes from the cache, a fifth
of a one-note check); ``paused_gc(freeze=True)`` moves it to the permanent
generation instead, for a heap that lives until the run ends.
:func:`frozen_heap` moves everything alive into the permanent
generation (``gc.freeze``) for the duration of the rules, and back after,
so library users who load many KBs in one process still get their garbage
collected between runs.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen_heap", "paused_gc", "reuse_freed_memory"]

_frozen_depth = 0
_allocator_tuned = False

#: glibc ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Blocks up to this size come from the heap, and are reused there once freed...
_MMAP_THRESHOLD = 64 << 20
#: ...and this much free memory at the heap's top is kept rather than given back.
_TRIM_THRESHOLD = 256 << 20


@contextmanager
def paused_gc(*, freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside the block (reference counting still frees everything acyclic).

    With ``freeze``, what is alive at the end is moved to the permanent
    generation (the next :func:`frozen_heap` exit returns it to the collector).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Objects alive on entry are ignored by the collector (here and in forked workers) until exit.

    Nests: only the outermost block unfreezes, so an inner block (a rule's
    worker pool) does not thaw what an outer one (the whole check) froze.
    """
    global _frozen_depth
    _frozen_depth += 1
    gc.freeze()
    try:
        yield
    finally:
        _frozen_depth -= 1
        if _frozen_depth == 0:
            gc.unfreeze()


def reuse_freed_memory() -> None:
    """Have glibc's malloc keep the memory of big freed blocks for the next ones (once per process).

    The scans work in batches of about a million characters, each a dozen
    numpy arrays and strings of a few megabytes. By default glibc maps each
    such block afresh and unmaps it when freed, or trims the heap's free top,
    so every batch met new pages and the kernel zeroed them one fault at a
    time: a fifth of a cold check's CPU time in the kernel (0.6 s on
    commonplace; 0.4 s with this). Forked workers inherit the setting. Other
    C libraries are left alone.
    """
    global _allocator_tuned
    if _allocator_tuned:
        return
    _allocator_tuned = True
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    except (AttributeError, OSError, ValueError):  # not glibc, or no mallopt: nothing to tune
        return
