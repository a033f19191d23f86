"""Decode a note's bytes and translate character offsets back to exact file positions.

markdown-it-py normalises line endings, which would shift every offset after
the first CRLF. We hand it a *length-preserving* normalisation instead
(``\\r\\n`` becomes `` \\n``, a lone ``\\r`` becomes ``\\n``), so a character
offset into the normalised text is also an offset into the decoded text, and
``SourceText.span`` turns it into byte offsets of the file as stored.
"""

from __future__ import annotations

import codecs
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from kbmine.model import ByteRanges, Span

__all__ = ["DecodeError", "SourceText", "decode_note"]

_NEWLINE = re.compile("\n")
#: A note with more than one wide character in this many gets a per-character byte table.
_DENSE = 8
#: Bytes looked at to tell a binary file from text, as git does.
_BINARY_SNIFF = 8000


class DecodeError(Exception):
    """The bytes are not text kbmine can read; the message says why and where."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(slots=True)
class SourceText:
    """The decoded text of one note plus what is needed to locate offsets in its bytes."""

    text: str
    normalized: str
    encoding: str
    bom: int
    line_starts: list[int]
    #: An ASCII note in UTF-8: character offset + BOM is the byte offset, nothing to index.
    narrow: bool = True
    #: Byte offset of every line start, built by the first :meth:`char_offset` (the parse never needs it).
    _line_bytes: list[int] | None = None
    #: Character offsets of the characters wider than the encoding's unit (non-ASCII in
    #: UTF-8, astral in UTF-16), in order, and the BOM plus the extra bytes of the first k
    #: of them: a byte offset is one bisect away. Notes are mostly ASCII with a few dashes and
    #: quotes, so this is a few entries where a table per character was a numpy pass.
    _wide_at: list[int] | None = None
    _wide_extra: list[int] | None = None
    #: For a note dense in wide characters: the byte offset of every character (and the end).
    _char_bytes: array[int] | None = None

    def _index_wide(self) -> None:
        """Find the wide characters and their running extra bytes in a few numpy passes (no loop per character).

        In UTF-8 they are read off the encoded bytes (a wide character's
        first byte is 11xxxxxx and says its width), a byte per character
        where code points took four. A note where more than one character
        in ``_DENSE`` is wide (CJK prose) gets a packed per-character table
        instead: lists of ints per wide character would cost 70 bytes each.
        """
        import numpy as np

        if self.encoding == "utf-8":
            encoded = np.frombuffer(self.text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
            leads = np.flatnonzero(encoded >= 0xC0)
            if len(leads) > len(self.text) // _DENSE:
                # The byte offset of every character and of the end: where each byte that
                # does not continue a character (not 10xxxxxx) stands. A packed array, not a
                # list: 8 bytes per character instead of a 36-byte int object each, which on
                # a 250 MB KB was gigabytes of memory.
                starts = np.flatnonzero((encoded & 0xC0) != 0x80)
                table = np.append(starts, len(encoded)) + self.bom
                self._char_bytes = array("q", table.astype(np.int64).tobytes())
                self._wide_at, self._wide_extra = [], [self.bom]
                return
            first = encoded[leads]
            widths = 1 + (first >= 0xE0).astype(np.int64) + (first >= 0xF0)  # extra bytes of each
            extra = np.empty(len(leads) + 1, dtype=np.int64)
            extra[0] = 0
            np.cumsum(widths, out=extra[1:])
            # A wide character's offset in characters: its byte offset less the extra bytes before it.
            self._wide_at = (leads - extra[:-1]).tolist()
            self._wide_extra = (extra + self.bom).tolist()
            return
        points = np.frombuffer(self.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        wide = np.flatnonzero(points >= 0x10000)
        extra = np.arange(len(wide) + 1, dtype=np.int64) * 2 + self.bom
        self._wide_at, self._wide_extra = wide.tolist(), extra.tolist()

    @property
    def ascii(self) -> bool:
        return self.narrow

    def line_of(self, offset: int) -> int:
        """0-based line index of a character offset."""
        return bisect_right(self.line_starts, offset) - 1

    def byte_offset(self, offset: int) -> int:
        """Byte offset in the stored file of a character offset in ``text``."""
        if self.narrow:
            return self.bom + offset
        if self._wide_at is None:
            self._index_wide()
        if self._char_bytes is not None:
            return self._char_bytes[offset]
        assert self._wide_at is not None and self._wide_extra is not None
        unit = 1 if self.encoding == "utf-8" else 2
        return unit * offset + self._wide_extra[bisect_left(self._wide_at, offset)]

    def byte_ranges(self, ranges: Iterable[tuple[int, int]]) -> ByteRanges:
        """:meth:`byte_offset` of both ends of each of ``ranges`` (character ranges of ``text``).

        All at once in numpy (a note has hundreds of ranges): a bisect per
        offset was a twentieth of the parse.
        """
        flat = array("q", chain.from_iterable(ranges))
        if self.narrow and not self.bom:
            return ByteRanges.from_array(flat)
        import numpy as np

        offsets = np.frombuffer(flat, dtype=np.int64) if len(flat) else np.zeros(0, dtype=np.int64)
        if self.narrow:
            found = offsets + self.bom
        else:
            if self._wide_at is None:
                self._index_wide()
            if self._char_bytes is not None:
                found = np.frombuffer(self._char_bytes, dtype=np.int64)[offsets]
            else:
                unit = 1 if self.encoding == "utf-8" else 2
                extra = np.asarray(self._wide_extra, dtype=np.int64)
                found = unit * offsets + extra[np.searchsorted(np.asarray(self._wide_at, dtype=np.int64), offsets)]
        return ByteRanges.from_array(array("q", found.astype(np.int64).tobytes()))

    def char_offset(self, byte: int) -> int:
        """Character offset in ``text`` of a byte offset in the stored file (inverse of ``byte_offset``)."""
        if self.narrow:
            return max(0, byte - self.bom)
        if self._line_bytes is None:
            self._line_bytes = [offset for offset, _ in self.byte_ranges((start, start) for start in self.line_starts)]
        line = max(0, bisect_right(self._line_bytes, byte) - 1)
        start = self.line_starts[line]
        chunk = self.text[start : self.line_end(line) + 1].encode(self.encoding, "surrogatepass")
        return start + len(chunk[: byte - self._line_bytes[line]].decode(self.encoding, "ignore"))

    def char_offsets(self, offsets: Sequence[int]) -> Any:
        """:meth:`char_offset` of many byte offsets at once, as an int64 numpy array (one pass
        over the note, not one per offset).

        Rules that translate hundreds of ranges per note (mentions) would
        otherwise re-encode a long line for every one of them. ``offsets`` may
        be a machine array (:attr:`ByteRanges.flat <kbmine.model.ByteRanges.flat>`): it is read without a copy.
        """
        import numpy as np

        if self.encoding != "utf-8" or not len(offsets):
            return np.array([self.char_offset(byte) for byte in offsets], dtype=np.int64)
        positions = np.asarray(offsets, dtype=np.int64)
        if self.bom:
            positions = np.maximum(positions - self.bom, 0)
        if self.narrow:
            return positions
        # The index of the wide characters (which spans need anyway): a running count over
        # every byte of the note, per call, was most of missing-link's translation of ranges.
        if self._wide_at is None:
            self._index_wide()
        if self._char_bytes is not None:
            # How many characters start before each offset: a character's own offset, or the
            # next character's for an offset inside one.
            starts = np.frombuffer(self._char_bytes, dtype=np.int64)[:-1] - self.bom
            return np.searchsorted(starts, positions, side="left")
        assert self._wide_at is not None and self._wide_extra is not None
        wide_at = np.asarray(self._wide_at, dtype=np.int64)
        extra = np.asarray(self._wide_extra, dtype=np.int64) - self.bom  # extra bytes before the k-th wide character
        before = np.searchsorted(wide_at + extra[:-1], positions, side="left")  # wide characters starting before
        found = positions - extra[before]
        if len(wide_at):
            # An offset inside a wide character stands for the character after it.
            found = np.maximum(found, np.where(before > 0, wide_at[np.maximum(before - 1, 0)] + 1, 0))
        return np.minimum(found, len(self.text))

    def span(self, start: int, end: int) -> Span:
        """The :class:`Span` of characters ``start:end`` (end exclusive)."""
        starts = self.line_starts
        line = bisect_right(starts, start) - 1
        end_line = line if end <= start or line + 1 == len(starts) or end < starts[line + 1] else self.line_of(end)
        if self.narrow:
            byte_start, byte_end = self.bom + start, self.bom + end
        elif self._wide_at is not None and self._char_bytes is None and self.encoding == "utf-8":
            # byte_offset inlined for the common case (a span is made for every link)
            wide_at, extra = self._wide_at, self._wide_extra
            assert extra is not None
            byte_start, byte_end = start + extra[bisect_left(wide_at, start)], end + extra[bisect_left(wide_at, end)]
        else:
            byte_start, byte_end = self.byte_offset(start), self.byte_offset(end)
        # Positional: a span is made for every link, and keywords cost a fifth of that.
        return Span(
            byte_start, byte_end, line + 1, start - starts[line] + 1, end_line + 1, end - starts[end_line] + 1
        )

    def line_end(self, line: int) -> int:
        """Character offset just past the last character of 0-based ``line`` (before its newline)."""
        if line + 1 < len(self.line_starts):
            return self.line_starts[line + 1] - 1
        return len(self.normalized)

    def line_text(self, line: int) -> str:
        return self.normalized[self.line_starts[line] : self.line_end(line)]


def decode_note(data: bytes) -> SourceText:
    """Decode note bytes (UTF-8, UTF-8 with BOM, or UTF-16 with BOM) or raise :class:`DecodeError`."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, bom = "utf-8", 3
    elif data.startswith(codecs.BOM_UTF16_LE):
        encoding, bom = "utf-16-le", 2
    elif data.startswith(codecs.BOM_UTF16_BE):
        encoding, bom = "utf-16-be", 2
    else:
        encoding, bom = "utf-8", 0
        nul = data.find(b"\x00", 0, _BINARY_SNIFF)
        if nul >= 0:
            raise DecodeError(f"binary content (NUL byte at offset {nul}), not a text note", nul)
    try:
        text = data[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"not valid {encoding.upper()}: cannot decode byte 0x{data[bom + exc.start]:02x} "
            f"at offset {bom + exc.start}",
            bom + exc.start,
        ) from None
    if "\r" in text:
        normalized = text.replace("\r\n", " \n").replace("\r", "\n")
    else:
        normalized = text
    line_starts = [0]
    line_starts.extend(m.end() for m in _NEWLINE.finditer(normalized))
    return SourceText(text, normalized, encoding, bom, line_starts, encoding == "utf-8" and text.isascii())
