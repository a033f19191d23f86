"""Helpers for the unit tests of parsing and resolution (imported as ``kbunit``).

``parse`` parses a small note given as text or bytes; ``check_span`` asserts
the span invariants every link must satisfy; ``resolver_for`` builds a
:class:`~kbmine.resolve.Resolver` over an in-memory KB (paths → text), with
the files and folders derived from the paths as ``scan_kb`` would.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kbmine.model import Link, Note, Span
from kbmine.parse import parse_note
from kbmine.resolve import Resolution, Resolver

NOTE_EXTENSIONS = (".md", ".markdown")
#: tests/fixtures: small KBs and data files used by these tests.
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def to_bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def parse(content: str | bytes, dialect: str = "obsidian", path: str = "note.md") -> Note:
    return parse_note(path, to_bytes(content), dialect)


def span_text(data: bytes, span: Span) -> str:
    return data[span.start : span.end].decode("utf-8")


def check_span(data: bytes, link: Link) -> None:
    """The raw text of a link is exactly its bytes; line/column agree with the byte offset."""
    assert 0 <= link.span.start <= link.span.end <= len(data)
    assert span_text(data, link.span) == link.raw
    assert link.span.line >= 1 and link.span.column >= 1
    # Recompute (line, column) from the byte offset: lines split at \n, \r\n or lone \r,
    # columns in code points of the decoded line (a BOM is not a column).
    before = data[: link.span.start]
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    text = before[bom:].decode("utf-8") if len(before) >= bom else ""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    line = normalized.count("\n") + 1
    column = len(normalized) - (normalized.rfind("\n") + 1) + 1
    assert (link.span.line, link.span.column) == (line, column), link
    if link.target_span is not None:
        assert link.span.start <= link.target_span.start <= link.target_span.end <= link.span.end or (
            link.kind == "reference"
        ), link


def position(data: bytes, span: Span) -> tuple[int, int, int, int]:
    return (span.line, span.column, span.end_line, span.end_column)


def tree(paths: Mapping[str, str | bytes]) -> tuple[dict[str, bytes], list[str], set[str]]:
    """Split ``{path: content}`` into note contents, other files and every folder."""
    notes = {p: to_bytes(c) for p, c in paths.items() if p.lower().endswith(NOTE_EXTENSIONS)}
    files = [p for p in paths if not p.lower().endswith(NOTE_EXTENSIONS)]
    dirs: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return notes, files, dirs


def resolver_for(paths: Mapping[str, str | bytes], dialect: str = "obsidian") -> tuple[Resolver, dict[str, Note]]:
    contents, files, dirs = tree(paths)
    notes = {p: parse_note(p, data, dialect) for p, data in contents.items()}
    return Resolver(notes, files, dirs, dialect), notes


def resolve_all(paths: Mapping[str, str | bytes], source: str, dialect: str = "obsidian") -> dict[str, Resolution]:
    """Resolve every link of note ``source``; keyed by the link's raw text (must be unique)."""
    resolver, notes = resolver_for(paths, dialect)
    out: dict[str, Resolution] = {}
    for link in notes[source].links:
        assert link.raw not in out, f"duplicate raw {link.raw!r} in test input"
        out[link.raw] = resolver.resolve(source, link)
    return out
