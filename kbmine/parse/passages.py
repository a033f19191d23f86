"""Per-note text work that graph-wide rules need, done once per note inside the parse.

Duplicate detection needs a MinHash signature of every paragraph and mention
detection needs the prose ranges minus code, links and headings. Both depend
on the note's bytes alone, so they are computed with the parse (in the worker
processes) and cached with it: a warm run or a one-note change never redoes
them for the other notes.

Signatures are datasketch's "legacy" MinHash (same permutations, same
formula, so ``datasketch.MinHash`` on the same shingles gives the same
values), computed for all paragraphs of a note in one numpy operation
instead of one ``MinHash`` object per paragraph.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from typing import Any

__all__ = ["NUM_PERM", "SHINGLE", "passage_words", "signatures", "permutations", "minus_ranges"]

NUM_PERM = 128
SHINGLE = 3
_WORD = re.compile(r"\w+", re.UNICODE)
# Neither class may match the character a match starts with (``]``, ``[``): a failed
# attempt then stops where the next one can start, which keeps "[[[[..." and
# "](](](..." linear instead of quadratic.
_LINK_DESTINATION = re.compile(r"\]\([^)\]\n]*\)|\]\[[^\]\n]*\]")
_WIKILINK = re.compile(r"!?\[\[(?:[^\[\]|\n]*\|)?([^\[\]\n]*)\]\]")
#: Odd 64-bit multipliers mixing the word hashes of a shingle (position-dependent: "a b c" != "c b a").
_MIXERS = tuple(int(m) for m in (0x85EBCA77C2B2AE63, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93))
#: Shingles hashed in one numpy operation: bounds the (shingles x NUM_PERM) matrix to 16 MB.
_ROWS = 16_384


def passage_words(text: str) -> list[str]:
    """The words of a markdown passage, lowercased, without link destinations."""
    text = _WIKILINK.sub(r" \1 ", _LINK_DESTINATION.sub("] ", text))
    return _WORD.findall(text.lower())


def shingle_hashes(words: list[str]) -> list[int]:
    """A 32-bit hash of every run of ``SHINGLE`` consecutive words (deterministic across processes).

    Each word is hashed once (CRC32) and the hashes of a run are mixed with
    odd multipliers in numpy, instead of joining and hashing every run: the
    parse hashes every word of every passage, so this is on the hot path.
    """
    import numpy as np

    if not words:
        return [0]
    hashed = np.fromiter((zlib.crc32(word.encode("utf-8", "surrogatepass")) for word in words), dtype=np.uint64, count=len(words))
    count = max(1, len(words) - SHINGLE + 1)
    mixed = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, multiplier in enumerate(_MIXERS[: min(SHINGLE, len(words))]):
            mixed = (mixed ^ (hashed[position : position + count] * multiplier)) * np.uint64(0x9E3779B97F4A7C15)
    return ((mixed >> np.uint64(29)) & np.uint64(0xFFFFFFFF)).tolist()  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def permutations() -> tuple[Any, Any]:
    """datasketch's permutation parameters for ``NUM_PERM`` legacy MinHashes (seed 1).

    Drawn exactly as ``datasketch.MinHash(num_perm, seed=1, scheme="legacy")``
    draws them (a test checks the two agree), without importing datasketch,
    which pulls in scipy and would cost every parse worker a third of a second.
    """
    import numpy as np

    generator = np.random.RandomState(1)
    mersenne = np.uint64((1 << 61) - 1)
    pairs = np.array(
        [
            (generator.randint(1, mersenne, dtype=np.uint64), generator.randint(0, mersenne, dtype=np.uint64))
            for _ in range(NUM_PERM)
        ],
        dtype=np.uint64,
    ).T
    return pairs[0].reshape(1, -1), pairs[1].reshape(1, -1)


def signatures(passages: list[list[str]]) -> list[bytes]:
    """One MinHash signature (``NUM_PERM`` uint32 values as bytes) per word list."""
    if not passages:
        return []
    signed: list[bytes] = []
    batch: list[list[int]] = []
    rows = 0
    for words in passages:
        hashes = shingle_hashes(words)
        if batch and rows + len(hashes) > _ROWS:
            signed.extend(_minima(batch))
            batch, rows = [], 0
        batch.append(hashes)
        rows += len(hashes)
    signed.extend(_minima(batch))
    return signed


def _minima(batch: list[list[int]]) -> list[bytes]:
    """The signatures of a batch of passages (one passage may exceed ``_ROWS`` on its own)."""
    import numpy as np

    if len(batch) == 1 and len(batch[0]) > _ROWS:
        hashes = batch[0]
        running = _values(hashes[:_ROWS]).min(axis=0)
        for start in range(_ROWS, len(hashes), _ROWS):
            running = np.minimum(running, _values(hashes[start : start + _ROWS]).min(axis=0))
        return [running.astype(np.uint32).tobytes()]
    counts = [len(h) for h in batch]
    values = _values([h for group in batch for h in group])
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    minima = np.minimum.reduceat(values, offsets, axis=0).astype(np.uint32)
    return [row.tobytes() for row in minima]


def _values(hashes: list[int]) -> Any:
    """The ``NUM_PERM`` permuted hash values of each shingle hash (one row per shingle)."""
    import numpy as np

    flat = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))
    a, b = permutations()
    mersenne = np.uint64((1 << 61) - 1)
    mask = np.uint64((1 << 32) - 1)
    with np.errstate(over="ignore"):
        return np.bitwise_and((flat.reshape(-1, 1) * a + b) % mersenne, mask)


def minus_ranges(ranges: list[tuple[int, int]], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``ranges`` with every part covered by ``holes`` removed (both sorted by start)."""
    holes = sorted(holes)
    result: list[tuple[int, int]] = []
    index = 0
    for start, end in sorted(ranges):
        while index < len(holes) and holes[index][1] <= start:
            index += 1
        cursor = start
        probe = index
        while probe < len(holes) and holes[probe][0] < end:
            hole_start, hole_end = holes[probe]
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
            probe += 1
        if cursor < end:
            result.append((cursor, end))
    return result
