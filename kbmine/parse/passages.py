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

import hashlib
import re
from typing import Any

__all__ = [
    "BORROWED",
    "MIXERS",
    "NUM_PERM",
    "SHINGLE",
    "lowercase_table",
    "minus_ranges",
    "passage_signatures",
    "passage_words",
    "passage_digest",
    "signatures",
    "sorted_unique",
]

NUM_PERM = 128
SHINGLE = 3
_WORD = re.compile(r"\w+", re.UNICODE)
# Neither class may match the character a match starts with (``]``, ``[``): a failed
# attempt then stops where the next one can start, which keeps "[[[[..." and
# "](](](..." linear instead of quadratic.
_LINK_DESTINATION = re.compile(r"\]\([^)\]\n]*\)|\]\[[^\]\n]*\]")
_WIKILINK = re.compile(r"!?\[\[(?:[^\[\]|\n]*\|)?([^\[\]\n]*)\]\]")
#: Odd 64-bit multipliers mixing the word hashes of a shingle (position-dependent: "a b c" != "c b a"),
#: and the rows of an LSH band (:mod:`kbmine.checks.duplicate_claim`).
MIXERS = tuple(int(m) for m in (0x85EBCA77C2B2AE63, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93))


def passage_words(text: str) -> list[str]:
    """The words of a markdown passage, lowercased, without link destinations."""
    return _WORD.findall(_strip_links(text).lower())


def _strip_links(text: str) -> str:
    """The passage with link destinations dropped and wikilinks replaced by their visible text."""
    if "]" not in text:  # most passages link nothing: skip two regex passes
        return text
    # Each pass only where its pattern can match: the wikilink pattern (an optional
    # "!" first) cannot skip ahead to a "[" and cost most of the time of both.
    if "](" in text or "][" in text:
        text = _LINK_DESTINATION.sub("] ", text)
    return _WIKILINK.sub(r" \1 ", text) if "[[" in text else text


#: Passages signed in one numpy operation (bounds the passages x 2*NUM_PERM work arrays).
_BATCH = 4096
#: Odd multipliers of the two independent mixes: one picks a shingle's slot, one its value.
_SLOT_MIX, _VALUE_MIX = 0x9E3779B1, 0x85EBCA77
#: Set in a signature value that an empty slot borrowed. LSH must not match two passages
#: on a band of borrowed values only: short passages that share one common phrase
#: would agree on whole runs of empty slots (16 times the candidate pairs).
BORROWED = 0x80000000
#: Added once per slot of distance when an empty slot borrows a neighbour's value.
_BORROW = 0x27D4EB2F


def shingle_hashes(words: list[str]) -> list[int]:
    """A 32-bit hash of every run of ``SHINGLE`` consecutive words (deterministic across processes).

    A passage shorter than ``SHINGLE`` words has one shingle of all its words
    (no words: one shingle, the same for every empty passage).
    """
    hashes, lengths = _word_hashes([" ".join(words)])
    return _shingles(hashes, lengths)[0].tolist()  # type: ignore[no-any-return]


def passage_signatures(texts: list[str], min_words: int) -> list[tuple[int, bytes] | None]:
    """For each markdown passage: its word count and signature, or ``None`` under ``min_words`` words.

    The words are those of :func:`passage_words`, found and hashed for all
    passages at once in numpy instead of as one Python string per word: the
    parse meets every word of every paragraph, and a string per word was a
    quarter of it.
    """
    hashes, lengths = _word_hashes([_strip_links(text) for text in texts], lower=True)
    kept = lengths >= min_words
    if not kept.any():
        return [None] * len(texts)
    import numpy as np

    signed = iter(_signed(hashes[np.repeat(kept, lengths)], lengths[kept]))
    return [(int(count), next(signed)) if keep else None for count, keep in zip(lengths.tolist(), kept.tolist())]


def signatures(passages: list[list[str]]) -> list[bytes]:
    """One MinHash signature (``NUM_PERM`` uint32 values as bytes) per word list.

    One-permutation hashing with densification (Shrivastava and Li, 2014):
    each shingle is hashed once, the hash picks one of ``NUM_PERM`` slots and
    the slot keeps its smallest value; an empty slot (a short passage has
    fewer shingles than slots) borrows the value of the next filled slot to
    its right, marked with the distance. Two passages agree on a slot with
    probability equal to their shingle Jaccard similarity, as with
    ``NUM_PERM`` separate permutations, but the cost is one hash per shingle
    instead of ``NUM_PERM``: classic MinHash was a quarter of the parse. A
    test holds the estimates to the true similarity and to datasketch's.
    """
    hashes, lengths = _word_hashes([" ".join(words) for words in passages])
    return _signed(hashes, lengths)


def _signed(hashes: Any, lengths: Any) -> list[bytes]:
    """Signatures of the passages whose word hashes are ``hashes``, ``lengths[i]`` words for passage ``i``."""
    import numpy as np

    signed: list[bytes] = []
    firsts = np.concatenate(([0], np.cumsum(lengths)))
    for start in range(0, len(lengths), _BATCH):
        stop = min(start + _BATCH, len(lengths))
        batch = hashes[firsts[start] : firsts[stop]]
        signed.extend(_signed_batch(*_shingles(batch, lengths[start:stop])))
    return signed


#: Multiplier of the polynomial word hash; position ``i`` in a word weighs ``_BASE ** i``.
_BASE = 0x100000001B3
#: Positions inside one word the hash tells apart (a longer word reuses the weights); a power of 2.
_WORD_SPAN = 1024


def _word_hashes(texts: list[str], *, lower: bool = False) -> tuple[Any, Any]:
    """The 64-bit hash of every ``\\w+`` word of ``texts`` (with ``lower``, of ``texts``
    lowercased), concatenated, and how many each text has.

    The texts are joined and read as an array of code points. A word's hash
    is a polynomial in its code points, then mixed: the same word hashes the
    same in every text and process. Character ``i`` of a word weighs
    ``_BASE ** i``; the characters of the whole call are weighed by their
    position ``g`` instead (``_BASE ** g``: one slice of a table), and each
    word's sum is brought back by the inverse power of its first position
    (``_BASE`` is odd, so invertible modulo 2**64). Per-character offsets
    inside words cost a third of the hashing.
    """
    import numpy as np

    joined = "\x00".join(texts)
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if lower:
        # str.lower of a text with any non-ASCII character takes Python's slow full-case
        # path (a sixth of signing); in the basic plane it is one table lookup per character,
        # but for its exceptions: "İ" lowercases to two characters, and a capital sigma's
        # lowercase depends on its place in the word.
        if "\u0130" in joined or "\u03a3" in joined or (len(points) and int(points.max()) > 0xFFFF):
            texts = [text.lower() for text in texts]
            joined = "\x00".join(texts)
            points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        else:
            points = np.take(lowercase_table(), points)
    known_word = _word_table()
    word = np.take(known_word, points, mode="clip")  # the table's last entry for the rarer points
    if len(points) and int(points.max()) >= len(known_word) - 1:
        rare = points >= len(known_word) - 1
        distinct = sorted_unique(points[rare])
        wordy = np.fromiter((_WORD.match(chr(code)) is not None for code in distinct.tolist()), bool, len(distinct))
        word[rare] = wordy[np.searchsorted(distinct, points[rare])]
    # Word starts and ends alternate: the changes of the word mask, read in pairs (and the
    # text's ends, where it starts or ends inside a word).
    bounds = np.flatnonzero(word[1:] != word[:-1]) + 1
    if len(word) and word[0]:
        bounds = np.concatenate(([0], bounds))
    if len(word) and word[-1]:
        bounds = np.append(bounds, len(word))
    starts, ends = bounds[0::2], bounds[1::2]
    # How many words each text has: texts are separated by one non-word character.
    text_ends = np.cumsum([len(text) + 1 for text in texts]) - 1
    lengths = np.diff(np.searchsorted(starts, text_ends), prepend=0).astype(np.int64)
    if not len(starts):
        return np.zeros(0, dtype=np.uint64), lengths
    sizes = ends - starts
    powers, inverses = _powers(len(points) + 1)
    with np.errstate(over="ignore"):
        # Running sums of every character's weighted code point: a word's sum is the
        # difference at its ends (a gather of the word characters and a segmented sum
        # took half as long again).
        prefix = np.empty(len(points) + 1, dtype=np.uint64)
        prefix[0] = 0
        np.cumsum(np.multiply(points, powers[: len(points)], dtype=np.uint64), out=prefix[1:])
        sums = (prefix[ends] - prefix[starts]) * inverses[starts]
        for number in np.flatnonzero(sizes > _WORD_SPAN).tolist():
            # Weights repeat every _WORD_SPAN characters: a longer word is summed as written.
            first, size = int(starts[number]), int(sizes[number])
            wrapped = powers[np.arange(size) & (_WORD_SPAN - 1)]
            sums[number] = np.multiply(points[first : first + size], wrapped, dtype=np.uint64).sum(dtype=np.uint64)
        hashed = sums ^ (sizes.astype(np.uint64) * np.uint64(MIXERS[3]))
        hashed ^= hashed >> np.uint64(33)
        hashed *= np.uint64(0xFF51AFD7ED558CCD)
        hashed ^= hashed >> np.uint64(29)
    return hashed, lengths


#: Code points whose ``\w``-ness is looked up in a table (built once per process); the rarer
#: ones above are decided per call. Covers Latin, Greek, Cyrillic and the punctuation blocks.
_TABLE_POINTS = 0x3000
#: Positions whose powers are kept between calls (a caller signs about a megabyte at a time).
_KEPT_POWERS = 1 << 22


def _word_table() -> Any:
    """Which code points below ``_TABLE_POINTS`` are ``\\w`` characters, and a last entry (``False``)
    for the rest."""
    import numpy as np

    table = _TABLES.get("words")
    if table is None:
        table = _TABLES["words"] = np.array(
            [_WORD.match(chr(code)) is not None for code in range(_TABLE_POINTS)] + [False], dtype=bool
        )
    return table


def lowercase_table() -> Any:
    """Each code point of the basic plane lowercased, as :meth:`str.lower` does it alone (built
    once per process; "İ", whose lowercase is two characters, stays as it is; a surrogate
    reads as a space). Signing and missing-link's scan read text through it."""
    import numpy as np

    table = _TABLES.get("lower")
    if table is None:
        codes = np.arange(0x10000, dtype="<u4")
        codes[0xD800:0xE000] = 32  # no string holds a surrogate; no text looked up here has one
        plane = codes.tobytes().decode("utf-32-le")
        # Block by block: lowercasing never drops a character, so a block whose lowercase is
        # no longer keeps its places (a loop over 65,536 characters took 50 ms).
        blocks = []
        for start in range(0, len(plane), 256):
            block = plane[start : start + 256]
            lowered = block.lower()
            if len(lowered) != len(block):
                lowered = "".join(low if len(low := char.lower()) == 1 else char for char in block)
            blocks.append(lowered)
        table = _TABLES["lower"] = np.frombuffer("".join(blocks).encode("utf-32-le"), dtype="<u4")
    return table


def _powers(count: int) -> tuple[Any, Any]:
    """``_BASE ** g`` and ``_BASE ** -g`` modulo 2**64 for every position ``g`` below ``count`` (at least)."""
    import numpy as np

    kept = _TABLES.get("powers")
    if kept is not None and len(kept) >= count:
        return kept, _TABLES["inverses"]
    size = 1 << max(count - 1, 1).bit_length()
    tables = []
    for base in (_BASE, pow(_BASE, -1, 1 << 64)):
        steps = np.full(size, base, dtype=np.uint64)
        steps[0] = 1
        with np.errstate(over="ignore"):
            tables.append(np.cumprod(steps, dtype=np.uint64))
    if size <= _KEPT_POWERS:
        _TABLES["powers"], _TABLES["inverses"] = tables
    return tables[0], tables[1]


_TABLES: dict[str, Any] = {}


def _shingles(hashed: Any, lengths: Any) -> tuple[Any, Any]:
    """The 32-bit hash of each run of ``SHINGLE`` words of each passage, concatenated, and how many each has."""
    import numpy as np

    counts = np.maximum(1, lengths - SHINGLE + 1)
    if len(lengths) and int(lengths.min()) >= SHINGLE:
        # Every passage has whole shingles (signed passages have min_words): a shingle
        # starts at every word but the last SHINGLE - 1 of its passage.
        starts = np.ones(len(hashed), dtype=bool)
        ends = np.cumsum(lengths)
        for back in range(1, SHINGLE):
            starts[ends - back] = False
        at = np.flatnonzero(starts)
        mixed = np.zeros(len(at), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for position, multiplier in enumerate(MIXERS[:SHINGLE]):
                mixed ^= hashed[at + position] * np.uint64(multiplier)
                mixed *= np.uint64(0x9E3779B97F4A7C15)
        return ((mixed >> np.uint64(29)) & np.uint64(0xFFFFFFFF)).astype(np.uint32), counts
    # Shingle ``within`` of passage ``owner`` mixes the words from ``words_at`` on; a
    # passage shorter than SHINGLE words has one shingle of only the words it has.
    owner = np.repeat(np.arange(len(lengths)), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    words_at = np.repeat(np.cumsum(lengths) - lengths, counts) + within
    padded = np.append(hashed, np.uint64(0))  # the index a missing word points at
    mixed = np.zeros(len(owner), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, multiplier in enumerate(MIXERS[:SHINGLE]):
            word = padded[np.minimum(words_at + position, len(hashed))]
            stepped = (mixed ^ (word * np.uint64(multiplier))) * np.uint64(0x9E3779B97F4A7C15)
            mixed = np.where(lengths[owner] > position, stepped, mixed)
    return ((mixed >> np.uint64(29)) & np.uint64(0xFFFFFFFF)).astype(np.uint32), counts


def _mix(values: Any, multiplier: int) -> Any:
    """A 32-bit finaliser (xorshift-multiply): every input bit reaches every output bit."""
    import numpy as np

    with np.errstate(over="ignore"):
        mixed = values * np.uint32(multiplier)
        mixed ^= mixed >> np.uint32(16)
        mixed *= np.uint32(0x7FEB352D)
        mixed ^= mixed >> np.uint32(15)
    return mixed


def _signed_batch(hashes: Any, counts: Any) -> list[bytes]:
    """The signatures of passages whose shingle hashes are ``hashes``, ``counts[i]`` for passage ``i``."""
    import numpy as np

    size = len(counts)
    owner = np.repeat(np.arange(size, dtype=np.int64), counts)
    slot = (_mix(hashes, _SLOT_MIX) >> np.uint32(32 - NUM_PERM.bit_length() + 1)).astype(np.int64)
    value = _mix(hashes ^ np.uint32(0x5BD1E995), _VALUE_MIX)
    cell = owner * NUM_PERM + slot
    flat_table = np.full(size * NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    np.minimum.at(flat_table, cell, value)
    flat_filled = np.zeros(size * NUM_PERM, dtype=bool)
    flat_filled[cell] = True
    table = flat_table.reshape(size, NUM_PERM)
    filled = flat_filled.reshape(size, NUM_PERM)
    if not filled.all():
        # The next filled slot to the right of each slot, wrapping around: a running
        # minimum over the slot numbers of the row written out twice, read right to left
        # (built reversed, in int16: the running minimum runs over contiguous memory).
        backwards = np.arange(2 * NUM_PERM - 1, -1, -1, dtype=np.int16)
        reversed_filled = filled[:, ::-1]
        twice = np.where(np.concatenate((reversed_filled, reversed_filled), axis=1), backwards, np.int16(4 * NUM_PERM))
        np.minimum.accumulate(twice, axis=1, out=twice)
        nearest = twice[:, ::-1][:, :NUM_PERM]
        distance = (nearest - backwards[::-1][:NUM_PERM]).astype(np.uint32)
        cells = (nearest & np.int16(NUM_PERM - 1)).astype(np.int64)
        cells += np.arange(0, size * NUM_PERM, NUM_PERM, dtype=np.int64)[:, None]
        with np.errstate(over="ignore"):
            table = np.take(flat_table, cells) + distance * np.uint32(_BORROW)
    # The top bit says whether the slot's value is borrowed (see BORROWED).
    table = np.where(filled, table & np.uint32(0x7FFFFFFF), table | np.uint32(BORROWED))
    return [row.tobytes() for row in table]


def passage_digest(data: bytes) -> int:
    """63 bits of the BLAKE2b of a passage's bytes: what tells it from every other passage of its
    note wherever it stands (see :func:`kbmine.band_index.passage_ids`); 63 so numpy holds it as int64."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") >> 1


def sorted_unique(values: Any, *, first_index: bool = False) -> Any:
    """``np.unique(values)`` (with ``first_index``, also where each value first occurs).

    numpy 2's ``unique`` asks ``np.ma.is_masked`` about its argument, which
    imports ``numpy.ma`` on first use: 15 ms, in every process that sorts a
    few keys (a tenth of duplicate-claim after a one-note edit).
    """
    import numpy as np

    order = np.argsort(values, kind="stable") if first_index else None
    ordered = values[order] if order is not None else np.sort(values)
    distinct = np.ones(len(ordered), dtype=bool)
    distinct[1:] = ordered[1:] != ordered[:-1]
    return (ordered[distinct], order[distinct]) if order is not None else ordered[distinct]


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
