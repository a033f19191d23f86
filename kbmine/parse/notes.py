"""The parse of a note's bytes, and of batches of notes with their passage signatures
(what :mod:`kbmine.parse` offers, imported on first use)."""

from __future__ import annotations

import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from kbmine.heap import paused_gc
from kbmine.model import Link, Note, Problem, Span, content_hash, note_title, path_stem
from kbmine.parse.frontmatter import (
    FrontmatterBlock,
    FrontmatterError,
    find_frontmatter,
    frontmatter_wikilinks,
    load_frontmatter,
)
from kbmine.parse.markdown import BodyParse, parse_body
from kbmine.parse.passages import minus_ranges, passage_digest, passage_signatures
from kbmine.parse.text import DecodeError, SourceText, decode_note
from kbmine.parse.wikilinks import split_wikilink, wikilink_target_range

__all__ = ["parse_note", "parse_notes", "signed_notes"]

_ZERO = Span(0, 0, 1, 1, 1, 1)
_WORD_CHAR = re.compile(r"\w")


class ParseTimeout(Exception):
    """The markdown parse of one note took longer than allowed."""


def _aliases(frontmatter: dict[str, Any]) -> tuple[str, ...]:
    value = frontmatter.get("aliases", frontmatter.get("alias"))
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")] if "," in value else [value]
    if not isinstance(value, list):
        return ()
    return tuple(v.strip() for v in value if isinstance(v, str) and v.strip())


#: Longer limits are no limit (and ``setitimer`` rejects what ``time_t`` cannot hold).
_LONGEST_LIMIT = 1e6


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a runaway parse (pathological markup) after ``seconds`` of CPU time, where signals allow.

    CPU time of this process, not wall time: on a busy CI runner a note must
    not time out because other jobs had the processor, and the finding is
    cached, so it must not depend on the machine's load.
    """
    if (
        not 0 < seconds < _LONGEST_LIMIT
        or threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "ITIMER_PROF")
    ):
        yield
        return

    expired: list[bool] = []

    def expire(signum: int, frame: Any) -> None:
        expired.append(True)
        raise ParseTimeout()

    previous_hook = sys.unraisablehook

    def quiet(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, ParseTimeout):
            previous_hook(unraisable)

    previous = signal.signal(signal.SIGPROF, expire)
    sys.unraisablehook = quiet
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        sys.unraisablehook = previous_hook
    if expired:
        # The signal landed where Python swallows exceptions (a gc callback, a
        # ``__del__``): the parse ran on, but it did overrun its limit.
        raise ParseTimeout()


def parse_note(
    path: str, data: bytes, dialect: str = "obsidian", timeout: float = 10.0, min_passage_words: int = 25
) -> Note:
    """Parse one note's bytes; problems are recorded on the note, never raised."""
    return parse_notes([(path, data)], dialect, timeout, min_passage_words)[0]


#: Passage text signed in one numpy call at most (bounds the work arrays: ~50 bytes per character).
_SIGN_CHUNK = 1_000_000


def parse_notes(
    items: Sequence[tuple[str, bytes]], dialect: str = "obsidian", timeout: float = 10.0, min_passage_words: int = 25
) -> list[Note]:
    """:func:`parse_note` of many ``(path, bytes)`` (see :func:`signed_notes`)."""
    return [note for note, _ in signed_notes(items, dialect, timeout, min_passage_words)]


def signed_notes(
    items: Sequence[tuple[str, bytes]], dialect: str = "obsidian", timeout: float = 10.0, min_passage_words: int = 25
) -> list[tuple[Note, bytes]]:
    """Each note with the MinHash signatures of its passages (concatenated, in passage order).

    The signatures are kept out of the :class:`Note`: they were two thirds of
    its pickled size, so unpickling every note after a one-note edit paid for
    them, yet only duplicate-claim reads them, and only for new passages.

    Passages are signed together: signing costs a few dozen numpy calls
    whatever the text's size, so one call per note was a third of the signing
    time; a worker signs its whole batch in chunks of about a megabyte.
    """
    with paused_gc():  # a note is thousands of acyclic objects: see kbmine.heap
        unsigned = [_parse_unsigned(path, data, dialect, timeout, min_passage_words) for path, data in items]
    texts = [source.text[start:end] for _, source, candidates in unsigned for start, end in candidates]
    signed: list[tuple[int, bytes] | None] = []
    chunk_start = size = 0
    for index, text in enumerate(texts):
        size += len(text)
        if size >= _SIGN_CHUNK or index == len(texts) - 1:
            signed.extend(passage_signatures(texts[chunk_start : index + 1], min_passage_words))
            chunk_start, size = index + 1, 0
    results = iter(signed)
    notes: list[tuple[Note, bytes]] = []
    for (_, data), (note, source, candidates) in zip(items, unsigned):
        counted = [(span, result) for span, result in zip(candidates, [next(results) for _ in candidates]) if result]
        ends = source.byte_ranges(span for span, _ in counted)
        passages = tuple(
            (start, end, result[0], passage_digest(data[start:end])) for (start, end), (_, result) in zip(ends, counted)
        )
        signature = b"".join(result[1] for _, result in counted)
        notes.append((replace(note, passages=passages) if passages else note, signature))
    return notes


def _parse_unsigned(
    path: str, data: bytes, dialect: str, timeout: float, min_passage_words: int
) -> tuple[Note, SourceText, list[tuple[int, int]]]:
    """The note without passage signatures, its text, and the character ranges of its candidate passages."""
    digest = content_hash(data)
    try:
        source = decode_note(data)
    except DecodeError as exc:
        problem = Problem("unreadable-note", f"{exc}; the note was skipped", _ZERO)
        unreadable = Note(path, path_stem(path), {}, (), (), (), (), 0, len(data), digest, problems=(problem,))
        return unreadable, decode_note(b""), []

    problems: list[Problem] = []
    frontmatter: dict[str, Any] = {}
    links: list[Link] = []
    block = find_frontmatter(source.normalized)
    body_start = 0
    masked = source.normalized
    if block is not None:
        if not block.closed:
            problems.append(
                Problem(
                    "invalid-frontmatter",
                    f"frontmatter opened with {block.fence} on line 1 is never closed; "
                    f"add a closing {block.fence} line (the note was read as having no frontmatter)",
                    source.span(0, len(block.fence)),
                )
            )
            block = None
        else:
            body_start = block.end
            masked = _blank(source.normalized, block.end)

    body = BodyParse()
    try:
        with _time_limit(timeout):
            if block is not None:
                loaded = _load(block, source, problems)
                links = list(_frontmatter_links(loaded, source, block, dialect))
                frontmatter = loaded
            body = parse_body(source, masked, dialect)
    except ParseTimeout:
        body = BodyParse()  # a parse that overran is dropped whole, even if it got to the end
        problems.append(
            Problem(
                "parse-timeout",
                f"parsing took more than {timeout:g}s of CPU time (pathological markup?); "
                "links in this note were not checked",
                _ZERO,
            )
        )
    except RecursionError:
        problems.append(
            Problem("parse-timeout", "markdown is nested too deeply to parse; links in this note were not checked", _ZERO)
        )
    links.extend(body.links)
    # Character ranges from the spans' lines and columns: no byte offset is translated back.
    starts = source.line_starts

    def characters(span: Span) -> tuple[int, int]:
        return starts[span.line - 1] + span.column - 1, starts[span.end_line - 1] + span.end_column - 1

    text_blocks = [characters(heading.span) for heading in body.headings]
    link_ranges = [characters(link.span) for link in body.links]
    mention_ranges = [
        (start, end)
        for start, end in minus_ranges(body.prose_ranges, body.code_ranges + link_ranges + text_blocks)
        # Only a range with a letter or digit can hold a name; the pipes and spaces
        # between the links of a link-dense note or table would each cost a pass.
        if _WORD_CHAR.search(source.text, start, end)
    ]
    heading_starts = {start for start, _ in text_blocks}
    # n words need n word characters and n - 1 separators: shorter ranges (most
    # list items and table cells) cannot be a claim and are not split into words.
    candidates = [
        (start, end)
        for start, end in body.prose_ranges
        if start not in heading_starts and end - start >= 2 * min_passage_words - 1
    ]
    note = Note(
        path=path,
        title=note_title(frontmatter, body.h1, path),
        frontmatter=frontmatter,
        aliases=_aliases(frontmatter),
        headings=tuple(body.headings),
        blocks=tuple(body.blocks),
        links=tuple(links),
        body_start=source.byte_offset(body_start),
        size=len(data),
        content_hash=digest,
        encoding=source.encoding,
        has_frontmatter=block is not None,
        h1=body.h1,
        code_ranges=source.byte_ranges(body.code_ranges),
        prose_ranges=source.byte_ranges(body.prose_ranges),
        tasks_open=body.tasks_open,
        problems=tuple(problems),
        mention_ranges=source.byte_ranges(mention_ranges),
        kbmine_comments=b"kbmine:" in data,
    )
    return note, source, candidates


def _blank(text: str, end: int) -> str:
    """The text with its first ``end`` characters blanked (newlines kept): same length, same lines."""
    head = "\n".join(" " * len(line) for line in text[:end].split("\n"))
    return head + text[end:]


def _load(block: FrontmatterBlock, source: SourceText, problems: list[Problem]) -> dict[str, Any]:
    try:
        data = load_frontmatter(block, source.normalized)
    except FrontmatterError as exc:
        line = min(exc.line, len(source.line_starts) - 1)
        start = source.line_starts[line]
        problems.append(Problem("invalid-frontmatter", str(exc), source.span(start, source.line_end(line))))
        return {}
    for key, line in block.duplicates:
        start = source.line_starts[min(line, len(source.line_starts) - 1)]
        problems.append(
            Problem(
                "invalid-frontmatter",
                f"duplicate frontmatter key {key!r}: YAML keeps only the last value; remove one",
                source.span(start, source.line_end(source.line_of(start))),
                severity="warning",
            )
        )
    return data


def _frontmatter_links(
    frontmatter: dict[str, Any], source: SourceText, block: FrontmatterBlock, dialect: str
) -> Iterator[Link]:
    for start, end, inner, embed, key in frontmatter_wikilinks(frontmatter, source.normalized, block):
        parts = split_wikilink(inner, dialect)
        first = start + (3 if embed else 2)
        written = source.normalized[first : end - 2]
        target_start, target_end = wikilink_target_range(written, dialect)
        yield Link(
            kind="wikilink",
            raw=source.text[start:end],
            target=f"dendron://{parts.vault}/{parts.target}" if parts.vault is not None else parts.target,
            anchor=parts.anchor,
            label=parts.label,
            span=source.span(start, end),
            target_span=source.span(first + target_start, first + target_end),
            is_embed=embed,
            in_frontmatter=True,
            frontmatter_key=key,
        )
