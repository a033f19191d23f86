"""The plain records every stage passes along: spans, notes, links, findings, edits.

They are frozen dataclasses so that a parsed note can be cached, shared
between processes and compared in tests without anyone mutating it behind
another stage's back.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any, Literal, NamedTuple
from urllib.parse import quote

__all__ = [
    "ByteRanges",
    "content_hash",
    "link_path",
    "note_face",
    "note_title",
    "path_stem",
    "relative_path",
    "spellable",
    "Span",
    "Heading",
    "Block",
    "Link",
    "Problem",
    "Note",
    "Finding",
    "Edit",
    "Severity",
    "LinkKind",
]

Severity = Literal["error", "warning", "info"]


class _Compact:
    """Pickle as ``(class, field values)``: findings, resolutions and cached per-note
    results go through pickle on every run that computes them, and the dataclass
    default (a state dict per object) is 5x slower.

    The values are read by one :func:`operator.attrgetter` per class (C code):
    with a generator over the field names, pickling a run's 5,700 findings
    took a third longer.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        cls = type(self)
        values = _FIELD_VALUES.get(cls)
        if values is None:
            names: tuple[str, ...] = cls.__slots__
            getter = attrgetter(*names)
            values = _FIELD_VALUES[cls] = getter if len(names) > 1 else lambda record: (getter(record),)
        return (cls, values(self))


#: Per :class:`_Compact` class: a record's field values, as a tuple in field order.
_FIELD_VALUES: dict[type, Callable[[Any], tuple[Any, ...]]] = {}

#: How a link is written. ``markdown`` is an inline ``[t](dest)`` or image
#: ``![alt](dest)``; ``reference`` is ``[t][label]`` (its target comes from the
#: definition); ``definition`` is a ``[label]: dest`` definition that no
#: reference uses; ``autolink`` is ``<https://...>``; ``wikilink`` is
#: ``[[...]]`` or ``![[...]]``, in the body or in frontmatter; ``hashtag`` is a
#: Dendron ``#tag`` (a link to ``tags.tag``) or ``@user`` (to ``user.user``).
LinkKind = Literal["markdown", "reference", "definition", "autolink", "wikilink", "hashtag"]


class Span(NamedTuple):
    """A range of a file: byte offsets (end exclusive) plus 1-based line/column.

    Byte offsets address the file exactly as stored (BOM and CRLF included),
    so an edit can splice bytes without re-encoding anything around it.
    Columns count unicode code points, as editors and CI annotations do.

    A named tuple, not a frozen dataclass like the other records: spans are
    most of the objects a run reads back from the cache (57,000 in
    commonplace's notes alone), and a tuple is built in C from the stored
    record (:func:`span_of`) in a third of the time.
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def record(self) -> tuple[int, int, int, int, int, int]:
        """The fields as a plain tuple, in order: how caches store a span (:func:`span_of` takes it back)."""
        return tuple(self)  # type: ignore[return-value]


#: The span of a stored :meth:`Span.record` (a ``TypeError`` if it has not six fields).
span_of: Callable[[Iterable[int]], Span] = Span._make


class Heading(NamedTuple):
    """A heading with the anchors other notes may use to reach it (a named tuple, as :class:`Span` is)."""

    level: int
    text: str
    slug: str
    span: Span
    explicit_id: str | None = None


@dataclass(frozen=True, slots=True)
class Block(_Compact):
    """An Obsidian block id ``^id`` that ``[[note#^id]]`` can point at."""

    id: str
    span: Span


class Link(NamedTuple):
    """One link occurrence as written in a note.

    ``target`` is the path or note name with percent-encoding decoded and the
    anchor split off; ``anchor`` is the part after ``#`` (``None`` when there is
    none). ``target_span`` covers the destination as written (for a reference
    link: inside its definition), which is what a repair edits. A named tuple,
    as :class:`Span` is: a run reads back tens of thousands from the cache.
    """

    kind: LinkKind
    raw: str
    target: str
    anchor: str | None
    label: str | None
    span: Span
    target_span: Span | None = None
    is_embed: bool = False
    in_frontmatter: bool = False
    external: bool = False
    frontmatter_key: str | None = None


@dataclass(frozen=True, slots=True)
class Problem(_Compact):
    """Something wrong found while parsing a note, turned into a finding by a check."""

    rule: str
    message: str
    span: Span
    severity: Severity = "error"
    data: tuple[tuple[str, Any], ...] = ()


class ByteRanges:
    """Byte ranges ``(start, end)`` of a note, held flat in one machine array (never changed).

    A note keeps hundreds of them (its code, prose and mention ranges). As
    tuples of integer pairs they were 43 MB of commonplace's 90 MB of notes
    in memory, and most of the time of reading the notes back from the cache;
    as arrays, 5 MB, read by one copy each. Iterating gives the ``(start, end)``
    pairs; ``flat`` is the array (start, end, start, end...) for callers that
    want the offsets. Equal to a tuple or list of the same pairs.
    """

    __slots__ = ("flat",)

    def __init__(self, pairs: Iterable[tuple[int, int]] = ()) -> None:
        self.flat = array("q", [offset for pair in pairs for offset in pair])

    @classmethod
    def from_bytes(cls, data: bytes) -> ByteRanges:
        """The ranges whose :meth:`to_bytes` is ``data``."""
        return cls.from_array(array("q", data))

    @classmethod
    def from_array(cls, flat: array[int]) -> ByteRanges:
        """The ranges held in ``flat`` (start, end, start, end...; taken as it is, not copied)."""
        ranges = cls.__new__(cls)
        ranges.flat = flat
        return ranges

    def to_bytes(self) -> bytes:
        return self.flat.tobytes()

    def covered(self) -> int:
        """The bytes the ranges cover (the sum of their lengths)."""
        flat = self.flat
        return sum(flat[1::2]) - sum(flat[0::2])

    def __len__(self) -> int:
        return len(self.flat) // 2

    def __iter__(self) -> Iterator[tuple[int, int]]:
        offsets = iter(self.flat)
        return zip(offsets, offsets)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ByteRanges):
            return self.flat == other.flat
        if isinstance(other, (tuple, list)):
            return list(self) == [tuple(pair) for pair in other]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"ByteRanges({list(self)!r})"

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (ByteRanges.from_bytes, (self.to_bytes(),))


#: No ranges (the default of a note's range fields).
NO_RANGES = ByteRanges()


@dataclass(frozen=True, slots=True)
class Note(_Compact):
    """One markdown file of the KB, parsed once and shared by every rule.

    ``path`` is posix and relative to the KB root. ``body_start`` is the byte
    offset where the markdown body begins (after frontmatter). ``code_ranges``
    are byte ranges (code blocks, code spans, math, HTML, comments) in which
    nothing is a link or a mention; ``prose_ranges`` are the byte ranges of
    text blocks (paragraphs, list items, quotes, headings, table cells).
    """

    path: str
    title: str
    frontmatter: dict[str, Any]
    aliases: tuple[str, ...]
    headings: tuple[Heading, ...]
    blocks: tuple[Block, ...]
    links: tuple[Link, ...]
    body_start: int
    size: int
    content_hash: str
    encoding: str = "utf-8"
    has_frontmatter: bool = False
    h1: str | None = None
    code_ranges: ByteRanges = NO_RANGES
    prose_ranges: ByteRanges = NO_RANGES
    tasks_open: int = 0
    problems: tuple[Problem, ...] = ()
    #: Byte ranges of prose where a mention of another note counts (no code, links, headings).
    mention_ranges: ByteRanges = NO_RANGES
    #: Paragraphs long enough to be a claim: (start byte, end byte, words, digest of the bytes,
    #: see :func:`kbmine.parse.passages.passage_digest`). Their MinHash signatures are kept
    #: apart (see :meth:`kbmine.kb.KB.passage_signatures`).
    passages: tuple[tuple[int, int, int, int], ...] = ()
    #: Whether the bytes hold ``kbmine:``, as an inline suppression does (see :mod:`kbmine.suppress`):
    #: known from the parse, so that finding the suppressions reads no note's bytes.
    kbmine_comments: bool = False

    def __post_init__(self) -> None:
        # Ranges given as pairs (a note built by hand) are held as the parse holds them.
        for name in ("code_ranges", "prose_ranges", "mention_ranges"):
            value = getattr(self, name)
            if not isinstance(value, ByteRanges):
                object.__setattr__(self, name, ByteRanges(value))

    @property
    def stem(self) -> str:
        """The file name without folder and ``.md`` extension."""
        return path_stem(self.path)


@dataclass(frozen=True, slots=True)
class Edit(_Compact):
    """Replace bytes ``start:end`` of ``path`` (which must still read ``old``) by ``new``."""

    path: str
    start: int
    end: int
    old: bytes
    new: bytes
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Finding(_Compact):
    """One thing a rule reports, anchored at an exact place of one note."""

    code: str
    rule: str
    severity: Severity
    path: str
    span: Span
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    edits: tuple[Edit, ...] = ()
    #: Like the fingerprint but without the path: lets a baseline follow a renamed note.
    identity: str = ""

    def with_fingerprint(self, *parts: str) -> Finding:
        """Return a copy whose fingerprint hashes rule, path and the given text.

        Line numbers are left out on purpose: editing elsewhere in a note
        must not make an old finding look new to a baseline.
        """

        def digest(*values: str) -> str:
            return hashlib.sha1("\x1f".join(values).encode("utf-8", "surrogatepass")).hexdigest()[:16]

        # Spelled out rather than dataclasses.replace, which reads every field's
        # definition on each call: a run makes thousands of findings.
        return Finding(
            self.code, self.rule, self.severity, self.path, self.span, self.message, self.data,
            digest(self.rule, self.path, *parts), self.edits, digest(self.rule, *parts),
        )  # fmt: skip

    def with_severity(self, severity: Severity) -> Finding:
        return replace(self, severity=severity)


def note_face(note: Note) -> str:
    """What rules may read of ``note`` while judging other notes: all it declares, none of its positions or prose.

    Its title, frontmatter, aliases, headings, block ids, links (each link's
    text and target, not where it stands) and problems. Two versions of a
    note with the same face differ only in their prose and where things
    stand, so a rule that reads no more of the other notes than their faces
    (and counts their prose apart) judges every other note as before: what
    lets missing-link update its findings after an edit instead of
    recomputing them all (see :mod:`kbmine.checks.missing_link`). A ``repr``,
    so ``1`` and ``True`` in frontmatter stay apart.
    """
    return repr(
        (
            note.title, note.frontmatter, note.aliases, note.h1, note.has_frontmatter, note.encoding,
            tuple((h.level, h.text, h.slug, h.explicit_id) for h in note.headings),
            tuple(b.id for b in note.blocks),
            tuple(
                (k.kind, k.raw, k.target, k.anchor, k.label, k.is_embed, k.in_frontmatter, k.external, k.frontmatter_key)
                for k in note.links
            ),
            tuple((p.rule, p.message, p.severity, p.data) for p in note.problems),
        )
    )  # fmt: skip


def content_hash(data: bytes) -> str:
    """The identity of a note's bytes (the parse cache key).

    SHA-256 because CPUs hash it in hardware: on a 30 MB KB it costs a third
    of BLAKE2b's time, and every warm run hashes every note.
    """
    return hashlib.sha256(data).hexdigest()[:32]


def relative_path(path: str, folder: str) -> str:
    """KB path ``path`` as seen from KB folder ``folder`` (``""`` or ``"."`` for the root).

    What ``posixpath.relpath`` gives for these normalised relative paths,
    without its two ``os.getcwd()`` calls: missing-link computes one for each
    of its thousands of findings.
    """
    parts = path.split("/")
    base = folder.split("/") if folder not in ("", ".") else []
    common = 0
    while common < len(base) and common < len(parts) and base[common] == parts[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + parts[common:]) or "."


def link_path(path: str, folder: str) -> str:
    """KB path ``path`` as a markdown link destination written in a note of ``folder``: relative, percent-encoded."""
    return quote(relative_path(path, folder), safe="/-_.~()")


def spellable(path: str) -> bool:
    """Whether ``path`` (a file name read with surrogate escapes) is valid UTF-8, so a
    link to it can be written into a note's text; a name that is not has no spelling."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def path_stem(path: str) -> str:
    """The file name of ``path`` without folder and last extension."""
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def note_title(frontmatter: dict[str, Any], h1: str | None, path: str) -> str:
    """A note's title: frontmatter ``title``, else its first H1, else its file name."""
    title = frontmatter.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    if h1:
        return h1
    return path_stem(path)
