"""The one place that changes note bytes: apply (and invert) byte-span edits.

Every fix kbmine proposes is a list of :class:`~kbmine.model.Edit`, each a
byte span plus the bytes it expects there. Applying checks those bytes first,
so an edit computed on an older version of a note can never land on the
wrong text, and everything outside the spans stays byte for byte (CRLF, BOM,
frontmatter formatting included).
"""

from __future__ import annotations

from collections.abc import Sequence

from kbmine.errors import KbmineError
from kbmine.model import Edit

__all__ = ["EditConflict", "apply_edits", "invert_edits"]


class EditConflict(KbmineError):
    """An edit does not fit the bytes it is applied to (stale, overlapping or out of range)."""


def _ordered(data: bytes, edits: Sequence[Edit]) -> list[Edit]:
    """The edits sorted by position, after checking each against ``data`` and the others."""
    ordered = sorted(edits, key=lambda edit: (edit.start, edit.end))
    previous_end = 0
    for index, edit in enumerate(ordered):
        where = f"{edit.path}:{edit.start}-{edit.end}"
        if not 0 <= edit.start <= edit.end <= len(data):
            raise EditConflict(f"{where}: edit outside the note ({len(data)} bytes)")
        if data[edit.start : edit.end] != edit.old:
            raise EditConflict(f"{where}: expected {edit.old!r}, found {data[edit.start : edit.end]!r}; the note changed")
        if index and edit.start < previous_end:
            raise EditConflict(f"{where}: overlaps another edit")
        previous_end = edit.end
    return ordered


def apply_edits(data: bytes, edits: Sequence[Edit]) -> bytes:
    """``data`` with every edit applied; raises :class:`EditConflict` before changing anything."""
    ordered = _ordered(data, edits)
    pieces: list[bytes] = []
    cursor = 0
    for edit in ordered:
        pieces.append(data[cursor : edit.start])
        pieces.append(edit.new)
        cursor = edit.end
    pieces.append(data[cursor:])
    return b"".join(pieces)


def invert_edits(data: bytes, edits: Sequence[Edit]) -> list[Edit]:
    """The edits that turn ``apply_edits(data, edits)`` back into ``data`` (spans in the new bytes)."""
    inverse: list[Edit] = []
    shift = 0
    for edit in _ordered(data, edits):
        start = edit.start + shift
        inverse.append(Edit(edit.path, start, start + len(edit.new), edit.new, edit.old, f"revert: {edit.reason}"))
        shift += len(edit.new) - (edit.end - edit.start)
    return inverse
