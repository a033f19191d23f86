"""Bytes → :class:`~kbmine.model.Note`: the one parse every rule and edit relies on.

``parse_note`` is a pure function of the bytes and the dialect, so its result
can be cached by content hash and computed in worker processes. It never
raises on user input: problems (bad encoding, broken YAML, a parse that runs
out of time) become :class:`~kbmine.model.Problem` records on the note.

The parse itself lives in :mod:`kbmine.parse.notes` and is imported on first
use: it brings markdown-it, its plugins and YAML (a few hundredths of a
second), which a run that parses nothing (after renames, or in
duplicate-claim's child) never needs, while it reads the package's light
modules (``text``, ``passages``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kbmine.parse.notes import parse_note, parse_notes, signed_notes

__all__ = ["parse_note", "parse_notes", "signed_notes"]


def __getattr__(name: str) -> Any:
    """The parse's public functions, imported from :mod:`kbmine.parse.notes` when first asked for."""
    if name in __all__:
        from kbmine.parse import notes

        return getattr(notes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
