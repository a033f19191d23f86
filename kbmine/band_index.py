"""duplicate-claim's LSH band table, kept between runs so an edit costs only its own passages.

Candidate pairs are the pairs of passages that agree on a whole band of their
MinHash signatures. Finding them means mixing every band of every passage into
a key and sorting all the keys (a million on commonplace): a fixed cost of a
quarter of a second that a one-note edit paid again in full. The sorted table
and the pairs it gave are therefore stored (one cache blob) with an id per
passage, and the next run only takes out the passages that vanished and puts
in the new ones:

* a bucket (all passages with one band key) changes only if a passage that
  came or went has that key: its members are *touched*;
* a pair of untouched passages shares only unchanged buckets, so whether it
  is a candidate is unchanged: it is taken from the stored pairs;
* every pair with a touched member is found again from all of that member's
  buckets in the new table.

So :func:`update` gives exactly the pairs :func:`build` would (a test holds
the two equal over random edits). When much of the KB changed, the caller
builds afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np

from kbmine.parse.passages import BORROWED, MIXERS, sorted_unique

__all__ = ["BUCKET_LIMIT", "ROWS", "BandIndex", "build", "is_index", "passage_ids", "update"]

#: Signature values per band (see :func:`build` for what that catches).
ROWS = 4
#: A band shared by more passages than this is template text, not a claim.
BUCKET_LIMIT = 64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: Passages that may come or go before a fresh build is cheaper than an update.
_UPDATE_SHARE = 0.2


@dataclass(frozen=True, eq=False)
class BandIndex:
    """The band keys of every passage, sorted, and the candidate pairs they give.

    Rows are passage numbers in the order the caller lists passages; ``ids``
    names each row's passage so the next run can tell which rows it still has.
    """

    ids: Any  # uint64 (rows,)
    keys: Any  # uint64: every band key of every row that counts (see _band_keys), sorted
    rows: Any  # int32: the row of each key
    pairs: Any  # int64 (n, 2): candidate pairs (low, high), unique, sorted
    #: Passages that came or went in the :func:`update` that made this index (0 when built).
    changes: int = 0


def is_index(value: object) -> TypeGuard[BandIndex]:
    """Whether ``value`` (read back from the cache) is a whole, consistent :class:`BandIndex`.

    The cache may be damaged or written by another version: an index that
    fails this is rebuilt, never trusted.
    """
    if not isinstance(value, BandIndex):
        return False
    arrays = (value.ids, value.keys, value.rows, value.pairs)
    if not all(isinstance(array, np.ndarray) for array in arrays):
        return False
    count = len(value.ids)
    return bool(
        value.ids.dtype == np.uint64
        and value.ids.ndim == value.keys.ndim == value.rows.ndim == 1
        and value.keys.dtype == np.uint64
        and value.rows.dtype == np.int32
        and isinstance(value.changes, int)
        and len(value.keys) == len(value.rows)
        and value.pairs.ndim == 2
        and value.pairs.shape[1] == 2
        and (not len(value.rows) or 0 <= value.rows.min() and value.rows.max() < count)
        and (not len(value.pairs) or 0 <= value.pairs.min() and value.pairs.max() < count)
        and (len(value.keys) < 2 or bool((value.keys[1:] >= value.keys[:-1]).all()))
    )


def passage_ids(paths: Sequence[str], note_of_row: Any, digests: Any) -> Any:
    """A 64-bit id per passage row: its note's path, its bytes (``digests``, see
    :func:`~kbmine.parse.passages.passage_digest`) and how many passages of the note
    before it have the same bytes.

    Not its place: a passage that an edit above it moved keeps its id, and
    so its band keys and the scores of its pairs; only a passage whose bytes
    changed, or whose note was renamed, is looked at again. After a line
    added to a note nothing at all changes here.
    """
    per_note = np.array(
        [int.from_bytes(hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest(), "big") for path in paths],
        dtype=np.uint64,
    )
    note = np.asarray(note_of_row, dtype=np.int64)
    digest = np.asarray(digests, dtype=np.int64).astype(np.uint64)
    # Rank among the note's passages with the same bytes, in order: rows sorted by note, bytes, row.
    order = np.lexsort((np.arange(len(note)), digest, note))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (note[order][1:] != note[order][:-1]) | (digest[order][1:] != digest[order][:-1])
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0)) if len(order) else order
    rank = np.empty(len(order), dtype=np.uint64)
    rank[order] = (np.arange(len(order)) - group_start).astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = per_note[note] if len(per_note) else np.zeros(0, np.uint64)
        for value, multiplier in ((digest, MIXERS[0]), (rank, MIXERS[1])):
            mixed = (mixed ^ value) * np.uint64(multiplier)
            mixed ^= mixed >> np.uint64(31)
    return mixed


def build(ids: Any, matrix: Any) -> BandIndex:
    """The index of passages ``ids`` with signatures ``matrix`` (one row each), from nothing.

    With 32 bands of 4 rows, pairs with 3-shingle Jaccard similarity 0.3 (a
    25-word paragraph with four words changed) are found with probability
    ~0.23 per band, ~0.9996 over all bands. A 64-bit collision of band keys
    can only add a candidate, which the exact similarity then rejects.
    """
    flat, owners = _band_keys(matrix, np.arange(len(matrix), dtype=np.int64))
    # Not a stable sort: the order of rows inside a bucket changes no pair (pairs are
    # normalised and deduplicated), and the default sort is a fifth faster on a million keys.
    order = np.argsort(flat)
    keys, rows = flat[order], owners[order].astype(np.int32)
    del flat, owners, order
    boundaries = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], boundaries)).astype(np.int64)
    sizes = np.diff(np.concatenate((starts, [len(keys)])))
    return BandIndex(ids, keys, rows, _bucket_pairs(rows, starts, sizes, len(matrix)))


def update(old: BandIndex, ids: Any, signatures_of: Callable[[Any], Any]) -> BandIndex | None:
    """``old`` brought up to the passages ``ids`` (``None``: too much changed, build afresh).

    ``signatures_of(rows)`` gives the signature matrix of the given new rows;
    it is asked only for passages ``old`` does not have.
    """
    count = len(ids)
    if count == 0 or len(old.ids) == 0:
        return None
    ordered = np.sort(ids)
    if bool((ordered[1:] == ordered[:-1]).any()):
        return None
    order = np.argsort(old.ids)
    known = old.ids[order]
    at = np.minimum(np.searchsorted(known, ids), len(known) - 1)
    found = known[at] == ids
    # int32 like ``rows``: the remapping below runs over every key (a million on commonplace).
    new_of_old = np.full(len(old.ids), -1, dtype=np.int32)
    new_of_old[order[at[found]]] = np.flatnonzero(found)
    added = np.flatnonzero(~found)
    vanished = np.flatnonzero(new_of_old < 0)
    if len(added) + len(vanished) > _UPDATE_SHARE * max(count, len(old.ids)):
        return None
    if not len(added) and not len(vanished) and np.array_equal(new_of_old, np.arange(count)):
        return BandIndex(ids, old.keys, old.rows, old.pairs)
    changes = len(added) + len(vanished)

    rows = new_of_old[old.rows]
    alive = rows >= 0
    gone_keys = old.keys[~alive]
    keys = old.keys
    if len(gone_keys):
        keys, rows = keys[alive], rows[alive]
    new_keys, new_rows = _band_keys(signatures_of(added), added.astype(np.int64))
    order = np.argsort(new_keys, kind="stable")
    new_keys, new_rows = new_keys[order], new_rows[order].astype(np.int32)
    where = np.searchsorted(keys, new_keys)
    keys, rows = np.insert(keys, where, new_keys), np.insert(rows, where, new_rows)

    affected = sorted_unique(np.concatenate((gone_keys, new_keys)))
    starts, sizes = _buckets(keys, affected)
    touched = np.zeros(count, dtype=bool)  # rows that share a bucket with a passage that came or went
    if len(starts):
        touched[rows[np.repeat(starts, sizes) + _ranks(sizes)]] = True
    starts, sizes = _buckets(keys, sorted_unique(keys[touched[rows]]))
    fresh = _bucket_pairs(rows, starts, sizes, count)

    kept = new_of_old[old.pairs] if len(old.pairs) else np.zeros((0, 2), np.int32)
    kept = kept[(kept >= 0).all(axis=1)]
    kept = kept[~touched[kept].any(axis=1)]
    pairs = _unique_pairs(np.minimum(kept[:, 0], kept[:, 1]), np.maximum(kept[:, 0], kept[:, 1]), fresh, count)
    return BandIndex(ids, keys, rows, pairs, changes)


def _band_keys(matrix: Any, row_numbers: Any) -> tuple[Any, Any]:
    """Every band key of ``matrix`` that counts, and the row (from ``row_numbers``) it belongs to.

    Each band's values are mixed into one 64-bit key, tagged with the band. A
    band counts when its values come from two shingles or more. Empty slots
    borrow from the next filled slot to their right, so that holds exactly
    when one of the band's first slots is the passage's own (see BORROWED):
    a band made from one shingle matches any passage sharing one common phrase.
    """
    count, width = matrix.shape if len(matrix) else (0, 0)
    bands = width // ROWS
    if count == 0 or bands == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    # Each row position of every band, contiguous (a strided view cost as much as the mixing).
    columns = np.ascontiguousarray(matrix[:, : bands * ROWS].reshape(count, bands, ROWS).transpose(2, 0, 1))
    keys = np.zeros((count, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position in range(ROWS):
            keys ^= columns[position]
            keys *= np.uint64(MIXERS[position])
        keys ^= np.arange(bands, dtype=np.uint64) * _GOLDEN
    # Some of the first slots is the passage's own unless all of them have the BORROWED bit.
    borrowed = columns[0].copy()
    for position in range(1, ROWS - 1):
        borrowed &= columns[position]
    own = borrowed < BORROWED
    return keys[own], np.asarray(row_numbers)[np.nonzero(own)[0]]


def _buckets(keys: Any, wanted: Any) -> tuple[Any, Any]:
    """Start and size in the sorted ``keys`` of the bucket of each of ``wanted`` that has members."""
    starts = np.searchsorted(keys, wanted, side="left")
    sizes = np.searchsorted(keys, wanted, side="right") - starts
    present = sizes > 0
    return starts[present].astype(np.int64), sizes[present].astype(np.int64)


def _ranks(sizes: Any) -> Any:
    """0, 1, ..., size-1 for each size, concatenated."""
    total = int(sizes.sum())
    return np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _bucket_pairs(rows: Any, starts: Any, sizes: Any, count: int) -> Any:
    """Every pair of rows that share a bucket of 2 to :data:`BUCKET_LIMIT` members, unique and sorted."""
    chunks = []
    two = starts[sizes == 2]
    chunks.append(np.stack((rows[two], rows[two + 1]), axis=1).astype(np.int64))
    larger = (sizes > 2) & (sizes <= BUCKET_LIMIT)
    big_starts, big_sizes = starts[larger], sizes[larger]
    if len(big_starts):
        # The same passages share a bucket in many bands (copies agree on all of
        # them): each distinct set of members is expanded into pairs once, all
        # buckets of one size at a time.
        members = rows[np.repeat(big_starts, big_sizes) + _ranks(big_sizes)]
        with np.errstate(over="ignore"):
            mixed = members.astype(np.uint64)
            mixed += np.uint64(1)
            mixed *= _GOLDEN
            mixed ^= mixed >> np.uint64(29)
        bounds = np.cumsum(big_sizes) - big_sizes
        sums = np.add.reduceat(mixed, bounds)
        xors = np.bitwise_xor.reduceat(mixed, bounds)
        with np.errstate(over="ignore"):
            digest = (sums * np.uint64(0xC2B2AE3D27D4EB4F)) ^ xors ^ (big_sizes.astype(np.uint64) << np.uint64(56))
        _, first = sorted_unique(digest, first_index=True)
        big_starts, big_sizes = big_starts[first], big_sizes[first]
        for size in sorted_unique(big_sizes).tolist():
            groups = rows[big_starts[big_sizes == size][:, None] + np.arange(size)]
            left, right = np.triu_indices(size, k=1)
            chunks.append(np.stack((groups[:, left].ravel(), groups[:, right].ravel()), axis=1).astype(np.int64))
    found = np.concatenate(chunks)
    return _unique_pairs(np.minimum(found[:, 0], found[:, 1]), np.maximum(found[:, 0], found[:, 1]), None, count)


def _unique_pairs(low: Any, high: Any, more: Any, count: int) -> Any:
    """The pairs ``(low, high)`` (plus the pairs ``more``) without self-pairs or repeats, sorted."""
    if more is not None and len(more):
        low, high = np.concatenate((low, more[:, 0])), np.concatenate((high, more[:, 1]))
    keep = low != high
    encoded = sorted_unique(low[keep].astype(np.int64) * count + high[keep])
    return np.stack((encoded // count, encoded % count), axis=1) if len(encoded) else np.zeros((0, 2), np.int64)
