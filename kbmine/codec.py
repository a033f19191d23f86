"""Parsed notes and findings as bytes: plain tuples in ``marshal``, rebuilt without ``__init__``.

Every run after a one-note edit reads every other note back from the cache,
so this is on the path of each incremental check. Pickle rebuilt a note's
tens of thousands of spans, links and headings by calling each frozen
dataclass's ``__init__`` (one ``object.__setattr__`` call per field); here
``marshal`` loads plain tuples (C only, no code runs) and each record gets
its fields through the slot descriptors directly. On commonplace's 2,012
notes (CPU, one core): 0.17 s to unpickle and re-path them, 0.10 s this way;
encoding them (in the parse workers) 0.06 s against pickle's 0.17 s.

The path and title are not stored: a note's bytes are its cache key, so the
same entry serves a renamed note, whose title may come from its new name.

Findings travel the same way (:func:`encode_findings`): a run's findings go
to the cache for the next warm run, and duplicate-claim's come back from the
child that computed them. Pickled, commonplace's 5,700 findings took 0.08 s
to write and 0.18 s to read back, and a check after an edit waited a tenth of
a second at its end for the writer.

A blob that is not exactly what :func:`encode_note` (:func:`encode_findings`)
writes decodes to ``None`` (a cache miss). Values ``marshal`` cannot hold (dates in
frontmatter, a problem's odd datum) go through pickle, the frontmatter on
its own if only it needs to, else the whole note.
"""

from __future__ import annotations

import marshal
import pickle
from collections.abc import Callable, Iterable
from typing import Any

from kbmine.model import (
    Block,
    ByteRanges,
    Edit,
    Finding,
    Heading,
    Link,
    Note,
    Problem,
    note_title,
    span_of,
)

__all__ = ["decode_findings", "decode_note", "encode_findings", "encode_note"]

#: What a blob starts with: marshal'd fields, or (rarely) a whole pickled note.
_MARSHAL, _PICKLE = b"kbmine-note-m3:", b"kbmine-note-p3:"
#: What a blob of findings starts with.
_FINDINGS = b"kbmine-findings-m1:"

_Setter = Callable[[Any, Any], None]
_new = object.__new__


def _setters(cls: type, names: str) -> tuple[_Setter, ...]:
    """The slot setters of ``cls`` for ``names`` (space-separated): they write a
    field of a frozen instance without going through its ``__setattr__``."""
    return tuple(getattr(cls, name).__set__ for name in names.split())


_NOTE_FIELDS = (
    "frontmatter aliases headings blocks links body_start size content_hash encoding has_frontmatter h1 "
    "code_ranges prose_ranges tasks_open problems mention_ranges passages kbmine_comments"
)
_NOTE = _setters(Note, "path title " + _NOTE_FIELDS)
_NOTE_LENGTH = len(_NOTE) - 2


def encode_note(note: Note) -> bytes:
    """``note`` as cache bytes (its path and title left out)."""
    body = (
        note.aliases,
        tuple((h.level, h.text, h.slug, h.explicit_id, h.span.record()) for h in note.headings),
        tuple((b.id, b.span.record()) for b in note.blocks),
        tuple(
            (
                k.kind, k.raw, k.target, k.anchor, k.label, k.is_embed, k.in_frontmatter, k.external, k.frontmatter_key,
                k.span.record(), None if k.target_span is None else k.target_span.record(),
            )
            for k in note.links
        ),
        note.body_start, note.size, note.content_hash, note.encoding, note.has_frontmatter, note.h1,
        note.code_ranges.to_bytes(), note.prose_ranges.to_bytes(), note.tasks_open,
        tuple((p.rule, p.message, p.span.record(), p.severity, p.data) for p in note.problems),
        note.mention_ranges.to_bytes(), note.passages, note.kbmine_comments,
    )  # fmt: skip
    try:
        return _MARSHAL + marshal.dumps((note.frontmatter, *body))
    except ValueError:  # something marshal cannot hold: a date, a subclass of str or dict...
        pass
    try:
        return _MARSHAL + marshal.dumps((pickle.dumps(note.frontmatter, pickle.HIGHEST_PROTOCOL), *body))
    except ValueError:
        return _PICKLE + pickle.dumps(note, pickle.HIGHEST_PROTOCOL)


def _heading(record: tuple[Any, ...]) -> Heading:
    level, text, slug, explicit_id, span = record
    return _new_heading((level, text, slug, span_of(span), explicit_id))


def _link(record: tuple[Any, ...]) -> Link:
    kind, raw, target, anchor, label, is_embed, in_frontmatter, external, key, span, target_span = record
    target_at = None if target_span is None else span_of(target_span)
    return _new_link((kind, raw, target, anchor, label, span_of(span), target_at, is_embed, in_frontmatter, external, key))


#: A heading (a link) from its fields in order, built in C; a ``TypeError`` for a wrong count.
_new_heading, _new_link = Heading._make, Link._make


def _block(record: tuple[Any, ...]) -> Block:
    block_id, span = record
    return Block(block_id, span_of(span))


def _problem(record: tuple[Any, ...]) -> Problem:
    rule, message, span, severity, data = record
    return Problem(rule, message, span_of(span), severity, data)


def decode_note(blob: bytes, path: str) -> Note | None:
    """The note :func:`encode_note` stored in ``blob``, placed at ``path``; ``None`` for anything else."""
    try:
        if blob.startswith(_PICKLE):
            note = pickle.loads(blob[len(_PICKLE) :])
            if not isinstance(note, Note):
                return None
            fields = [getattr(note, name) for name in _NOTE_FIELDS.split()]
        elif blob.startswith(_MARSHAL):
            fields = marshal.loads(memoryview(blob)[len(_MARSHAL) :])
            if type(fields) is not tuple or len(fields) != _NOTE_LENGTH:
                return None
            fields = list(fields)
            if type(fields[0]) is bytes:
                fields[0] = pickle.loads(fields[0])
            fields[2] = tuple(map(_heading, fields[2]))
            fields[3] = tuple(map(_block, fields[3]))
            fields[4] = tuple(map(_link, fields[4]))
            fields[11] = ByteRanges.from_bytes(fields[11])
            fields[12] = ByteRanges.from_bytes(fields[12])
            fields[14] = tuple(map(_problem, fields[14]))
            fields[15] = ByteRanges.from_bytes(fields[15])
        else:
            return None
        frontmatter, h1 = fields[0], fields[10]
        if not isinstance(frontmatter, dict):
            return None
        note = _new(Note)
        for setter, value in zip(_NOTE, (path, note_title(frontmatter, h1, path), *fields)):
            setter(note, value)
        return note
    except Exception:  # noqa: BLE001 -- a damaged entry is a miss, whatever marshal, pickle or the shapes raise
        return None


_FINDING = _setters(Finding, "code rule severity path span message data fingerprint edits identity")
_EDIT = _setters(Edit, "path start end old new reason")


#: The row each finding this process decoded came from, by the finding's id (kept with the
#: finding, which also keeps the id from being reused): encoding it again reuses the row.
#: After a one-note edit most of a run's findings come back from bytes (duplicate-claim's
#: child, the rules' last findings) and go into the cache again.
_DECODED: dict[int, tuple[Finding, tuple[Any, ...]]] = {}


def forget_decoded() -> None:
    """Let go of the rows kept for the findings decoded so far (see :data:`_DECODED`): a run
    calls this once it has written its findings, so a process that checks many KBs does
    not keep every finding it ever read."""
    _DECODED.clear()


def encode_findings(findings: Iterable[Finding]) -> bytes:
    """``findings`` as bytes; a finding whose data ``marshal`` cannot hold (a date) keeps it pickled."""
    decoded = _DECODED
    rows: list[tuple[Any, ...]] = [
        known[1] if (known := decoded.get(id(f))) is not None and known[0] is f else (
            f.code, f.rule, f.severity, f.path, f.span.record(), f.message, f.data, f.fingerprint,
            tuple((e.path, e.start, e.end, e.old, e.new, e.reason) for e in f.edits), f.identity,
        )
        for f in findings
    ]  # fmt: skip
    try:
        return _FINDINGS + marshal.dumps(rows)
    except ValueError:
        pass
    for index, row in enumerate(rows):
        try:
            marshal.dumps(row[6])
        except ValueError:
            rows[index] = (*row[:6], pickle.dumps(row[6], pickle.HIGHEST_PROTOCOL), *row[7:])
    return _FINDINGS + marshal.dumps(rows)


def decode_findings(blob: bytes) -> list[Finding] | None:
    """The findings :func:`encode_findings` stored in ``blob``; ``None`` for anything else."""
    if not isinstance(blob, bytes) or not blob.startswith(_FINDINGS):
        return None
    try:
        rows = marshal.loads(memoryview(blob)[len(_FINDINGS) :])
        findings = []
        for row in rows:
            code, rule, severity, path, span, message, data, fingerprint, edits, identity = row
            finding = _new(Finding)
            for setter, value in zip(
                _FINDING,
                (
                    code, rule, severity, path, span_of(span), message,
                    pickle.loads(data) if type(data) is bytes else data, fingerprint,
                    tuple(map(_edit, edits)), identity,
                ),
            ):  # fmt: skip
                setter(finding, value)
            findings.append(finding)
        _DECODED.update((id(finding), (finding, row)) for finding, row in zip(findings, rows))
        return findings
    except Exception:  # noqa: BLE001 -- a damaged entry is a miss, whatever marshal, pickle or the shapes raise
        return None


def _edit(record: tuple[Any, ...]) -> Edit:
    edit = _new(Edit)
    for setter, value in zip(_EDIT, record, strict=True):
        setter(edit, value)
    return edit
