"""Per-note text work that graph-wide rules need, done once per note inside the parse.

Duplicate detection needs a MinHash signature of every paragraph and mention
detection needs the prose ranges minus code, links and headings. Both depend
on the note's bytes alone, so they are computed with the parse (in the worker
processes) and cached with it: a warm run or a one-note change never redoes
them for the other notes.

Signatures are MinHash signatures (``NUM_PERM`` 32-bit permutations of the
shingle hashes, minimum per permutation) computed for all paragraphs of a
note in one numpy operation instead of one ``datasketch.MinHash`` object
per paragraph; in uint32 arithmetic they cost a tenth of datasketch's
uint64 modular scheme.
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
#: Shingles hashed in one numpy operation: bounds the (shingles x NUM_PERM) uint32 matrix to 8 MB.
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
    table = _WORD_HASHES
    if len(table) > 1_000_000:
        table.clear()  # bounded: a KB's vocabulary is far smaller, but a hostile note need not be
    hashed = np.array([table[w] if w in table else _word_hash(w) for w in words], dtype=np.uint64)
    count = max(1, len(words) - SHINGLE + 1)
    mixed = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, multiplier in enumerate(_MIXERS[: min(SHINGLE, len(words))]):
            mixed = (mixed ^ (hashed[position : position + count] * multiplier)) * np.uint64(0x9E3779B97F4A7C15)
    return ((mixed >> np.uint64(29)) & np.uint64(0xFFFFFFFF)).tolist()  # type: ignore[no-any-return]


#: CRC32 of each word seen in this process: a KB's vocabulary repeats, so most words hash once.
_WORD_HASHES: dict[str, int] = {}


def _word_hash(word: str) -> int:
    value = _WORD_HASHES[word] = zlib.crc32(word.encode("utf-8", "surrogatepass"))
    return value


@lru_cache(maxsize=1)
def permutations() -> tuple[Any, Any]:
    """``NUM_PERM`` pairs (odd multiplier, offset) of 32-bit hash permutations, seeded for stability.

    Each permutation is ``x * a + b`` modulo 2**32 (a bijection for odd ``a``)
    followed by an xorshift-multiply finaliser, all in uint32 arithmetic.
    The classic ``(a * x + b) mod (2**61 - 1)`` in uint64 (datasketch's
    legacy scheme) costs ten times more in numpy and was a third of the
    parse; a test checks these signatures still estimate Jaccard similarity.
    """
    import numpy as np

    generator = np.random.RandomState(1)
    a = generator.randint(0, 1 << 32, size=NUM_PERM, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = generator.randint(0, 1 << 32, size=NUM_PERM, dtype=np.uint64).astype(np.uint32)
    return a.reshape(1, -1), b.reshape(1, -1)


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
        return [running.tobytes()]
    counts = [len(h) for h in batch]
    values = _values([h for group in batch for h in group])
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    minima = np.minimum.reduceat(values, offsets, axis=0)
    return [row.tobytes() for row in minima]


def _values(hashes: list[int]) -> Any:
    """The ``NUM_PERM`` permuted hash values of each shingle hash (one row per shingle)."""
    import numpy as np

    flat = np.fromiter(hashes, dtype=np.uint32, count=len(hashes)).reshape(-1, 1)
    a, b = permutations()
    with np.errstate(over="ignore"):
        values = flat * a + b
        values ^= values >> np.uint32(16)
        values *= np.uint32(0x7FEB352D)
        values ^= values >> np.uint32(15)
    return values


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
