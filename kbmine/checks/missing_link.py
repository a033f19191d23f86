"""KB201 missing-link: a note mentions another note by name without linking it."""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.files import glob_matcher
from kbmine.model import Edit, Finding, Note, Span, link_path, spellable

if TYPE_CHECKING:
    from kbmine.kb import KB
    from kbmine.parse.text import SourceText

#: Titles too generic to be a mention of one particular note.
GENERIC_NAMES = frozenset(
    """readme index home todo todos notes note overview introduction intro summary about faq
    glossary changelog log inbox archive archives template templates draft drafts untitled
    references reference sources source misc ideas tasks projects people meetings journal daily
    welcome start contents table of contents related notes see also license contributing""".split()
)
#: Notes that must link a note with a generic name as its link text before that name counts.
GENERIC_VOTES = 3
#: Frontmatter keys and tags that mark a note as a verbatim capture (commonplace's
#: ``captured:``, web clippers' ``clipped:`` and ``clippings`` tag): never scanned for mentions.
CAPTURE_KEYS = ("captured", "capture", "clipped")
CAPTURE_TAGS = frozenset({"clippings", "clipping"})
_SEPARATORS = re.compile(r"[-_.\s]+")
_SPACES = re.compile(r"\s+")
#: ``-``, ``_`` or ``.`` joining two word characters ("auto-link", "a.b.c", "snake_case").
_JOINERS = re.compile(r"[-_.](?<=\w[-_.])(?=\w)")
_LETTER = re.compile(r"[^\W\d_]")
_EMPHASIS = re.compile(r"[`*]")
#: What str.isalnum rejects (``\w`` is exactly isalnum plus ``_``).
_NOT_ALNUM = re.compile(r"[\W_]")
#: A character that is neither a letter, a digit nor a space.
_MARK = re.compile(r"[^\w ]|_")
#: What opens a list item or table cell before an entry's name: a marker, a task box, emphasis.
_LIST_OPENING = re.compile(r"[ \t>]*(?:[-*+]|\d{1,3}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?[*_]{0,2}$")
_CELL_OPENING = re.compile(r"\|[ \t]*[*_]{0,2}$")
_DELIMITER_ROW = re.compile(r"[ \t]*\|?[ \t]*:?-{3,}")
#: What closes an entry's name: the end of the item or cell, or a separator before its description.
_ENTRY_CLOSING = re.compile(r"[*_]{0,2}[ \t]*(?:$|[|:(]|[-\u2013\u2014]{1,2}[ \t])")
#: A one-word entry closes without a colon or parenthesis: "- confidence: high" is a field, not a note.
_WORD_ENTRY_CLOSING = re.compile(r"[*_]{0,2}[ \t]*(?:$|\||[-\u2013\u2014]{1,2}[ \t])")
#: Names this short count only as written in a title or alias with capitals ("Exo", "MCP").
SHORT_LENGTH = 3
#: Bytes of prose (:attr:`~kbmine.model.Note.mention_ranges`) that count as a whole note towards the
#: common-word limit, about 1,200 words; a shorter note counts as its share (see :func:`limit_of_common`).
FULL_NOTE = 8_000

#: How a mention is written, the strongest evidence first (the second field of a :data:`Mention`):
#: ``NAMED`` a many-word name as the entry of a list item or table cell, or in its title's
#: capitals mid-sentence ("as Tool loop shows"); ``WRITTEN`` as the name requires;
#: ``SENTENCE_START`` a one-word name as written but where any word is capitalised;
#: ``ORDINARY`` a one-word name in another case ("wikilinks" for "Wikilinks"); ``FOREIGN``
#: another spelling of a name in capitals or mixed case ("Coral" for "CORAL").
NAMED, WRITTEN, SENTENCE_START, ORDINARY, FOREIGN = 0, 1, 2, 3, 4
#: One mention: its key, how it is written, its span and its text.
Mention = tuple[str, int, Span | None, str]
#: A mention as the rule's scans keep it (cached per note): its span's fields as a plain
#: tuple, cheap to store and load, made a :class:`Span` only when reported.
KeptMention = tuple[str, int, tuple[int, int, int, int, int, int], str]


def normalize_name(name: str, *, separators: bool = False) -> str:
    """Lowercase, single-spaced; with ``separators`` also read ``-``, ``_`` and ``.`` as spaces."""
    name = name.strip().lower()
    name = _SEPARATORS.sub(" ", name) if separators else _SPACES.sub(" ", name)
    return name.strip()


def fold_name(name: str) -> str:
    """A name as mentions are matched against it (see :func:`_folds_to`): lowercased, single-spaced, joiners between words as spaces.

    Joiners between word characters read as spaces, so the mention
    ``schema-and-lint`` (a wikilink's visible text once unlinked) and the title
    "Schema and lint" meet on one key.
    """
    return _JOINERS.sub(" ", normalize_name(name))


def plurals(name: str) -> list[str]:
    """The plural of a name's last word, as the rule also searches for it ("review gates")."""
    last = name.rsplit(" ", 1)[-1]
    if len(last) < 3 or not last.isalpha():
        return []
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return [name + "es"] if not last.endswith("s") else []
    if last.endswith("y") and last[-2] not in "aeiou":
        return [name[:-1] + "ies"]
    return [name + "s"]


def _lowercase(text: str) -> str:
    """``text`` lowercased character for character (same length: a character whose lowercase is longer stays)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(low if len(low := char.lower()) == 1 else char for char in text)
    return lowered


def _spaced(text: str) -> str:
    """``text`` with line breaks, tabs and no-break spaces as spaces, as a name's words are separated."""
    # Chained replace, not str.translate: translate with a table is many times slower.
    return text.replace("\n", " ").replace("\t", " ").replace("\r", " ").replace("\u00a0", " ")


def _scan_word(name: str) -> str:
    """A folded name as the automaton holds it: between spaces, what is not a letter or digit as a space."""
    if name.replace(" ", "").isalnum():  # most names: nothing to blank (and the regex cost 4 us a name)
        return " " + name + " "
    return " " + _NOT_ALNUM.sub(" ", name) + " "


def _folds_to(text: str, start: int, end: int, key: str) -> bool:
    """Whether ``text[start:end]`` is ``key`` once lowercased, its joiners between word characters and
    its line breaks and tabs read as spaces.

    The automaton matched it with every character that is not a letter or
    digit as a space (see :func:`_scanned`); where the text or the name has
    such a character, this is the exact test.
    """
    before = max(0, start - 1)
    return _JOINERS.sub(" ", _spaced(_lowercase(text[before : end + 1])))[start - before : end - before] == key


#: Between two notes scanned together: a line break either side (no word, link or line runs on
#: across it) and in the middle a character no name can match (see :func:`_scanned`).
_FENCE = "\n\x00\n"


@cache
def _scan_table() -> Any:
    """Each code point of the basic plane as the automaton reads it: lowercased (as one
    character: one whose lowercase is longer stays), and a space unless a letter or digit;
    and a last entry, a space, for the code points above the plane."""
    import numpy as np

    from kbmine.parse.passages import lowercase_table

    # The plane blanked at once (a loop over 65,536 characters was a tenth of a one-note run).
    plane = np.append(lowercase_table(), np.uint32(32)).tobytes().decode("utf-32-le")
    return np.frombuffer(_NOT_ALNUM.sub(" ", plane).encode("utf-32-le"), dtype="<u4").copy()


def _scanned(text: str, fences: Sequence[int] = ()) -> tuple[str, Any, Any]:
    """What the automaton scans: ``text`` lowercased, each character that is not a letter or
    digit as a space except NUL at ``fences`` (see :data:`_FENCE`), and a space on either end;
    and of ``text``, its code points and which are letters or digits (lowercased).

    A name held between spaces (see :func:`_scan_word`) then matches only
    as a whole word. Matching names anywhere, the automaton walked deep into
    its trie inside every word and reported every name inside a longer word
    ("note" in "notebook"): that cost more than everything else in the rule.
    Lowercasing and blanking are one table lookup per character in numpy
    (``str.lower`` of a text with any non-ASCII character cost more than the
    scan itself), except in Greek with a capital sigma, whose lowercase
    depends on its place in the word.
    """
    import numpy as np

    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    lowered = points
    if "\u03a3" in text:
        lowered = np.frombuffer(_lowercase(text).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    blanked = np.take(_scan_table(), lowered, mode="clip")  # above the plane: the last entry, a space
    for index in np.flatnonzero(lowered > 0xFFFF).tolist():
        low = _lowercase(text[index])
        blanked[index] = ord(low) if low.isalnum() else 32
    blanked[np.asarray(fences, dtype=np.int64)] = 0
    return " " + blanked.tobytes().decode("utf-32-le", "surrogatepass") + " ", points, blanked != 32


def _prose_words(
    hits: list[tuple[int, int]], lengths: Any, allowed: Any, points: Any, alnum: Any
) -> list[tuple[int, int, int, bool]]:
    """``(start, end, automaton value, marked)`` of the automaton ``hits`` (whole words of the
    :func:`_scanned` text) that are words of prose; ``marked`` when a character that is neither
    a letter, a digit nor a space lies inside (then the match needs :func:`_folds_to`).

    Prose means: inside one ``allowed`` range (an array start, end, start, end...); not the tail or head of a
    longer hyphenated or dotted token (``test-driven``), nor a piece of a
    path (``notes/x.md``: a file listing, a log line or a command, where a
    link is not what the writer meant); not inside ``[...]`` on its line
    (link syntax or a placeholder); not a TeX command (``\\sigma``). Most
    hits fail one of these; they are dropped here in numpy, all at once,
    before the per-mention checks that need Python.
    """
    import numpy as np

    found = np.array(hits, dtype=np.int64).reshape(-1, 2)
    # The scanned text has one more character in front, and the hit ends on the space after the word.
    ends = found[:, 0] - 1
    starts = ends - lengths[found[:, 1]]
    range_starts, range_ends = allowed[0::2], allowed[1::2]
    slot = np.searchsorted(range_starts, starts, side="right") - 1
    keep = (slot >= 0) & (ends <= range_ends[np.maximum(slot, 0)]) & (starts >= range_starts[np.maximum(slot, 0)])
    size = len(points)
    before, after = _at(points, starts - 1, 0), _at(points, ends, 0)
    keep &= ~_joining(before, alnum, starts - 2) & ~_joining(after, alnum, ends + 1) & (before != ord("\\"))
    opens = np.flatnonzero(points == ord("["))
    if len(opens):
        closes, breaks = np.flatnonzero(points == ord("]")), np.flatnonzero(points == ord("\n"))
        opening = _last_before(opens, starts)
        inside = (opening > _last_before(breaks, starts)) & (_last_before(closes, starts) < opening)
        closing = _first_from(closes, ends, size)
        inside &= (closing < _first_from(breaks, ends, size)) & (_first_from(opens, ends, size) > closing)
        keep &= ~inside
    chosen = np.flatnonzero(keep)
    plain = alnum | (points == 32) | (points == 10) | (points == 9) | (points == 13) | (points == 0xA0)
    odd = np.flatnonzero(~plain)  # few: a running count over the whole text cost more than the rest
    starts, ends = starts[chosen], ends[chosen]
    marked = np.searchsorted(odd, ends) > np.searchsorted(odd, starts)
    return list(zip(starts.tolist(), ends.tolist(), found[chosen, 1].tolist(), marked.tolist()))


def _at(values: Any, index: Any, outside: Any) -> Any:
    """``values`` at each ``index``, and ``outside`` where the index falls outside them."""
    import numpy as np

    if not len(values):
        return np.full(len(index), outside)
    inside = (index >= 0) & (index < len(values))
    return np.where(inside, values[np.clip(index, 0, len(values) - 1)], outside)


def _joining(char: Any, alnum: Any, beyond: Any) -> Any:
    """Whether each ``char`` (beside a word) is ``/``, or a joiner with a letter or digit at ``beyond``."""
    return (char == ord("/")) | (((char == ord("-")) | (char == ord("_")) | (char == ord("."))) & _at(alnum, beyond, False))


def _last_before(positions: Any, at: Any) -> Any:
    """The last of the sorted ``positions`` before each of ``at`` (-1 if none)."""
    import numpy as np

    index = np.searchsorted(positions, at) - 1
    return np.where(index >= 0, positions[np.maximum(index, 0)], -1) if len(positions) else np.full_like(at, -1)


def _first_from(positions: Any, at: Any, none: int) -> Any:
    """The first of the sorted ``positions`` at or after each of ``at`` (``none`` if none)."""
    import numpy as np

    index = np.searchsorted(positions, at)
    found = positions[np.minimum(index, len(positions) - 1)] if len(positions) else np.full_like(at, none)
    return np.where(index < len(positions), found, none)


@rule(
    "KB201",
    "missing-link",
    "warning",
    "a note mentions another note's title, file name or alias without linking it",
    options=("min_length", "max_share", "min_common", "learn_labels", "plurals", "exclude", "exclude_targets"),
)
def missing_link(kb: KB, options: dict[str, Any]) -> Iterator[Finding]:
    """An unlinked mention: the note names another note but does not link to it.

    A mention is a whole phrase in prose (case-insensitive, word boundaries
    respected) equal to another note's title, file name (``-``, ``_`` and ``.``
    read as spaces), alias, or, with ``learn_labels``, the link text other notes
    already use for it. Code, link text, headings, frontmatter and the note's
    own names never count. Names shorter than ``min_length`` (4), generic
    titles (README, index, templates...; unless at least three notes link
    the note by that very word, and then only as the title spells it or as
    an entry, see below) and names found in more than
    ``max_share`` of the notes (2.75%, at least ``min_common`` notes) are treated as
    common words, unless at least half as many notes link to the named note
    as mention its name unlinked (then it is a concept people do link, as a
    "decision log" is); the longest match wins; plurals of the last word count.
    For that share a note counts by its prose: as a whole note from 8,000
    bytes (about 1,200 words), a shorter one as its part of that (a
    2,000-byte note is a quarter). So splitting notes, or moving passages
    into small notes of their own, does not raise the limit and turn common
    words into mentions; and in a KB of short notes, where a word shows up
    in fewer notes, the limit is lower.
    A title several notes carry names the one that the KB's links written
    with that text point at (links from at least two notes, nine in ten of
    them to that note); a one-word name so chosen counts only as written.
    A many-word name written as a name is a mention however common its words
    are: as the entry of a list item or table cell ("- Tool loop - why...",
    "| Agent Workflow Memory |"), or mid-sentence in its title's capitals
    ("as Tool loop shows"), unless that too is common (a template's field
    label, "- **Storage substrate:** ...", in hundreds of notes).
    A one-word file name whose note is titled otherwise ("foam outline" in
    ``outline.md``), written as its file as the entry of a table or list
    ("| outline | Show the headings |"), counts the same way (a column
    header does not).
    A one-word name is too easily an ordinary word: it counts as written in
    its note's title or alias ("Voyager", "LIDA"; an acronym or CamelCase word
    of the title names its file, as "LIDA" in "LIDA: a scan" does ``lida.md``),
    or in another case ("wikilinks" for the note "Wikilinks" or the file
    ``wikilinks.md``) only when at least half as many notes link to the note
    as write the word unlinked in that other case; a title in capitals or
    mixed case ("CORAL", "SkillWeaver") written otherwise is another word. A
    three-letter name counts only so written, in capitals ("Exo", "MCP"),
    never opening a sentence.
    A note that keeps a link reference definition for a note it no longer
    links (``[templates]: templates.md`` once ``[[templates]]`` became plain
    text, as Foam leaves them) declares the link: there the definition's label
    and the note's names are mentions however short, generic or common.
    A link broken by a rename or move not committed yet (git shows the old
    note missing and the same bytes untracked under the new name) still
    names its note, the moved one or, out of the moved note, the one it
    reached from the old place: broken-link reports it, and repairing it is
    the fix, so a mention of that note beside it is no missing link.
    One finding per (note, target), at the first mention, with the edit that
    links it in the note's own style. Notes whose frontmatter says
    ``kbmine: {mention: false}`` are never suggested; notes whose frontmatter
    records a capture (``captured``, ``capture``, ``clipped``, or a
    ``clippings`` tag) are verbatim outside texts and are not scanned.

    Fail: ``... as Reflection buys addressability argues ...`` with no link to
    ``notes/reflection-buys-addressability.md``.
    Pass: ``... as [Reflection buys addressability](notes/reflection-buys-addressability.md) argues ...``.
    Fix: replace the first mention by the suggested link.
    """
    frame = _frame(kb, options)
    run = _updated(kb, options, frame) or _full_run(kb, options, frame)
    if run is None:
        return
    _keep(kb, run)
    for path in kb.notes:
        yield from run.findings.get(path, ())


def _note_findings(kb: KB, table: MentionTable, style: tuple[int, int], path: str) -> list[Finding]:
    """The rule's findings in note ``path``: one per target, at its first mention that counts."""
    note = kb.notes[path]
    if _captured(note):
        return []  # scanned all the same: its words still say which names are common
    found: list[Finding] = []
    reported: dict[str, Span] = {}
    linked = table.linked.get(path, ())
    for key, how, place, mention in table.hits.get(path, ()):
        target = table.names.targets[key]
        if target == path or target in reported or target in linked:
            continue
        if table.counts(key, how):
            span = reported[target] = Span(*place)
            found.append(_finding(kb, note, span, mention, target, style))
    for target, (span, mention) in _declared_mentions(kb, note, table).items():
        if target not in reported and not any(s.start < span.end and span.start < s.end for s in reported.values()):
            found.append(_finding(kb, note, span, mention, target, style))
    return found


#: Where a run leaves what the next one needs to update its findings (see :func:`_updated`).
_LAST_RUN = "missing-link-run"
#: More notes changed than this and the rule runs in full: an update would save little.
_MAX_UPDATED = 32


@dataclass(frozen=True)
class _Run:
    """One run of the rule: its findings by note, and what decided them, kept for the next run.

    ``frame`` is the KB's :attr:`~kbmine.kb.KB.frame` with the rule's options;
    ``hashes`` each note's content hash; ``prose`` the notes' prose bytes as
    :func:`limit_of_common` counts them.
    """

    frame: str
    hashes: dict[str, str]
    moved: dict[str, str]
    names: Names
    digest: str
    words: WordCounts
    inbound: Counter[str]
    prose: int
    style: tuple[int, int]
    findings: dict[str, list[Finding]]


def _frame(kb: KB, options: Mapping[str, Any]) -> str:
    return f"{_SCAN_VERSION}:{kb.frame}:{sorted(options.items())!r}"


def _full_run(kb: KB, options: Mapping[str, Any], frame: str) -> _Run | None:
    table = MentionTable.build(kb, options)
    if table is None:
        return None
    style = kb_style(kb)
    findings = {path: found for path in table.hits if (found := _note_findings(kb, table, style, path))}
    return _Run(
        frame, dict(kb.hashes), kb.moved_notes, table.names, table.scans, table.words,
        table.inbound, prose_bytes(kb.notes.values()), style, findings,
    )  # fmt: skip


def _updated(kb: KB, options: Mapping[str, Any], frame: str) -> _Run | None:
    """The last run's findings brought up to date after an edit of a few notes; ``None`` when they cannot be.

    Each note's findings depend on its own text, on what the other notes
    declare (their faces, see :func:`~kbmine.model.note_face`: titles,
    aliases, links...) and on how many notes write each name unlinked. When
    the edited notes keep their faces and the KB its frame (the same notes,
    files and options), every other note's findings stand unless the edit
    moved a count across the line that decides whether a name counts (or
    moved the common-word limit): the edited notes are scanned and judged
    again, the counts updated by what they wrote before and write now, and
    the rule runs in full only if a decision changed. After a one-note edit
    of commonplace this is a few hundredths of a second against the full
    rule's three tenths.
    """
    cache = kb.cache
    last = cache.get_blob(_LAST_RUN, "latest") if cache is not None else None
    if cache is None or not isinstance(last, _Run) or last.frame != frame or kb.moved_notes != last.moved:
        return None
    old_notes = kb.edited_since(last.hashes, _MAX_UPDATED)
    if old_notes is None:
        return None
    changed = list(old_notes)
    before = {path: last.hashes[path] for path in changed}
    skip_notes = glob_matcher(tuple(options.get("exclude", ())))
    scanned = [path for path in changed if skip_notes is None or not skip_notes.match(path)]
    old_hits = cache.get_derived("mentions", last.digest, {before[path] for path in scanned})
    if any(not isinstance(old_hits.get(before[path]), list) for path in scanned):
        return None
    sources = [kb.source(path) for path in scanned]
    matcher = last.names.matcher_for(source.normalized for source in sources if source is not None)
    from kbmine.checks.mention_scans import scan_notes

    hits = scan_notes(kb, scanned, matcher)
    linked = {path: _linked_from(kb, path) for path in scanned}
    words = WordCounts(Counter(last.words.anywhere), Counter(last.words.ordinary), Counter(last.words.named))
    touched: set[str] = set()
    for path in scanned:
        gone = _unlinked(last.names, path, old_hits[before[path]], linked[path])
        came = _unlinked(last.names, path, hits[path], linked[path])
        _count(words, gone, -1)
        _count(words, came, +1)
        touched.update(key for key, _ in gone ^ came)
    prose = last.prose + sum(_prose_of(kb.notes[path]) - _prose_of(old) for path, old in old_notes.items())
    skip_targets = glob_matcher(tuple(options.get("exclude_targets", ())))
    was = MentionTable(last.names, {}, {}, last.words, last.inbound, limit_of_common(options, last.prose), skip_targets)
    now = MentionTable(last.names, hits, linked, words, last.inbound, limit_of_common(options, prose), skip_targets)
    if was.common != now.common or any(was.counts(key, how) != now.counts(key, how) for key in touched for how in _HOWS):
        return None  # a name crossed the line between a mention and a common word: judge every note again
    cache.put_derived("mentions", last.digest, [(kb.hashes[path], hits[path]) for path in scanned], keep=kb.hashes.values())
    findings = dict(last.findings)
    for path in changed:
        found = _note_findings(kb, now, last.style, path) if path in hits else []
        if found:
            findings[path] = found
        else:
            findings.pop(path, None)
    return replace(last, hashes=dict(kb.hashes), words=words, prose=prose, findings=findings)


#: Every way a mention can be written (see :data:`NAMED`).
_HOWS = (NAMED, WRITTEN, SENTENCE_START, ORDINARY, FOREIGN)


def _unlinked(names: Names, path: str, found: Iterable[KeptMention], linked: Collection[str]) -> set[tuple[str, int]]:
    """The keys note ``path`` writes unlinked, with how: what it adds to :class:`WordCounts`."""
    targets = names.targets
    return {(key, how) for key, how, _, _ in found if targets[key] not in linked and targets[key] != path}


def _count(words: WordCounts, unlinked: set[tuple[str, int]], step: int) -> None:
    """Add (``step`` 1) or take back (-1) one note's :func:`_unlinked` keys to ``words``."""
    for counter, keys in (
        (words.anywhere, {key for key, _ in unlinked}),
        (words.ordinary, {key for key, how in unlinked if how >= ORDINARY}),
        (words.named, {key for key, how in unlinked if how == NAMED}),
    ):
        counter.update(dict.fromkeys(keys, step))


def _keep(kb: KB, run: _Run) -> None:
    """Store ``run`` for the next run to update (written behind: pickling thousands of findings takes a while)."""
    cache = kb.cache
    if cache is None:
        return
    cache.write_behind(lambda: cache.put_blob(_LAST_RUN, "latest", run), size=kb.note_bytes, writes=(f"blobs:{_LAST_RUN}",))


@dataclass(frozen=True)
class MentionMatcher:
    """One Aho-Corasick automaton over folded name keys, and how each key must be written to be a name.

    ``words`` holds the one-word keys with the spellings that are the name
    (a title or alias as written; none for a file name alone); ``titles``
    the many-word keys with their capitalised title or alias spellings. Build
    one with :meth:`build` and find mentions with :meth:`mentions`: the rule
    and the mutations that name new notes read prose the same way.
    """

    keys: tuple[str, ...]
    words: Mapping[str, frozenset[str]]
    titles: Mapping[str, frozenset[str]]
    #: Over the keys as :func:`_scan_word` writes them; a value indexes ``scanned``.
    automaton: Any
    #: Per automaton value: the indexes (in ``keys``) of the keys written as its word.
    scanned: tuple[tuple[int, ...], ...]
    #: One-word keys → their file name as written, a name as a table or list entry ("| outline |").
    entries: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        keys: Iterable[str],
        words: Mapping[str, Collection[str]] | None = None,
        titles: Mapping[str, Collection[str]] | None = None,
        entries: Mapping[str, Collection[str]] | None = None,
    ) -> MentionMatcher:
        """A matcher for ``keys`` (folded with :func:`fold_name`); see the class for the spellings."""
        import ahocorasick

        ordered = tuple(sorted(set(keys)))
        groups: dict[str, list[int]] = defaultdict(list)
        for index, key in enumerate(ordered):
            groups[_scan_word(key)].append(index)
        automaton = ahocorasick.Automaton()
        for value, word in enumerate(groups):
            automaton.add_word(word, value)
        if ordered:
            automaton.make_automaton()
        return cls(
            ordered,
            {key: frozenset(forms) for key, forms in (words or {}).items()},
            {key: frozenset(forms) for key, forms in (titles or {}).items() if forms},
            automaton,
            tuple(tuple(indexes) for indexes in groups.values()),
            {key: frozenset(forms) for key, forms in (entries or {}).items() if forms},
        )

    @cached_property
    def signature(self) -> dict[str, tuple[Any, ...]]:
        """Per key (in order), everything :meth:`mentions` reads besides the text: how the name may be written."""
        return {
            key: (
                tuple(sorted(self.words[key])) if key in self.words else None,
                tuple(sorted(self.titles.get(key, ()))),
                tuple(sorted(self.entries.get(key, ()))),
            )
            for key in self.keys
        }

    @cached_property
    def digest(self) -> str:
        """A digest of what the matcher finds: scans are cached under it."""
        return hashlib.sha256(repr((_SCAN_VERSION, self.signature)).encode()).hexdigest()[:32]

    def restricted(self, keys: Iterable[str]) -> MentionMatcher:
        """A matcher for ``keys`` only, each written as here (see :mod:`kbmine.checks.mention_scans`)."""
        wanted = set(keys)
        return MentionMatcher.build(
            wanted,
            {key: forms for key, forms in self.words.items() if key in wanted},
            {key: forms for key, forms in self.titles.items() if key in wanted},
            {key: forms for key, forms in self.entries.items() if key in wanted},
        )

    def mentions(self, note: Note, source: SourceText, *, first: bool = False) -> list[Mention]:
        """Non-overlapping whole-word mentions in the note's prose, longest first, in text order.

        The second field says how the mention is written (:data:`NAMED` ...
        :data:`FOREIGN`); all but ``NAMED`` and ``WRITTEN`` are mentions only
        on the KB's evidence that the word is used as a name (see
        :meth:`MentionTable.counts`). With ``first``, only the first mention
        of each key written each way: all the rule needs (a later one is
        reported, or counted, exactly when the first is), and a third of them.
        """
        return self.mentions_in([(note, source)], first=first)[0]

    def mentions_in(self, notes: Sequence[tuple[Note, SourceText]], *, first: bool = False) -> list[list[Mention]]:
        """:meth:`mentions` of each of ``notes``, scanned together.

        The notes' texts are scanned as one, fenced apart, so the work done
        in numpy costs its per-call overhead once for the batch, not once per
        note (on a KB of small notes that overhead was most of the scan).
        """
        found: list[list[Mention]] = [[] for _ in notes]
        scanned_notes = [slot for slot, (note, _) in enumerate(notes) if note.mention_ranges]
        if not self.keys or not scanned_notes:
            return found
        import numpy as np

        texts: list[str] = []
        bases: list[int] = []
        allowed: list[Any] = []  # each note's prose ranges in the joined text, flat (start, end, ...)
        base = 0
        for slot in scanned_notes:
            note, note_source = notes[slot]
            texts.append(note_source.normalized)
            bases.append(base)
            allowed.append(note_source.char_offsets(note.mention_ranges.flat) + base)
            base += len(texts[-1]) + len(_FENCE)
        joined = _FENCE.join(texts)
        # One pass over the whole text: pyahocorasick copies the string on every
        # iter() call, so a call per prose range would be quadratic in note size.
        scanned, points, alnum = _scanned(joined, [start - 2 for start in bases[1:]])
        hits = list(self.automaton.iter(scanned))
        if not hits:
            return found  # most notes, when looking for a few new names (see mention_scans)
        candidates: list[tuple[int, int, int]] = []
        keys, marked_keys = self.keys, self._marked
        for start, end, value, marked in _prose_words(hits, self._lengths, np.concatenate(allowed), points, alnum):
            group = self.scanned[value]
            index = group[0]
            if marked or len(group) > 1 or index in marked_keys:
                exact = [i for i in group if _folds_to(joined, start, end, keys[i])]
                if not exact:
                    continue
                index = exact[0]
            candidates.append((start, -end, index))
        # Longest first at each start; one start and length is one key, so nothing else to order by.
        candidates.sort()
        cursor = -1
        at = -1  # the note (index in ``scanned_notes``) the candidates are in
        chosen: list[Mention] = []
        seen: set[tuple[str, int]] = set()
        # With ``first``: (key, text) of the note's mentions whose way of writing does not depend
        # on where they stand (an ordinary word, two thirds of all mentions): a later one is skipped.
        settled: set[tuple[int, str]] = set()
        text, offset = "", 0
        source: SourceText | None = None
        for start, end, index in candidates:
            end = -end
            if start < cursor:
                continue
            cursor = end
            while at + 1 < len(bases) and bases[at + 1] <= start:
                at += 1
                chosen, seen, settled = found[scanned_notes[at]], set(), set()
                source, offset = notes[scanned_notes[at]][1], bases[at]
                text = source.normalized
            assert source is not None
            key = keys[index]
            if first:
                written = (index, text[start - offset : end - offset])
                if written in settled:
                    continue
            how = self._how(text, start - offset, end - offset, key)
            if first:
                if how >= ORDINARY and written[1] not in self.entries.get(key, ()):
                    settled.add(written)
                if (key, how) in seen:
                    continue
                seen.add((key, how))
            chosen.append((key, how, source.span(start - offset, end - offset), source.text[start - offset : end - offset]))
        return found

    @cached_property
    def _lengths(self) -> Any:
        """Each key's length, by automaton value (built once per matcher)."""
        import numpy as np

        return np.fromiter((len(self.keys[group[0]]) for group in self.scanned), dtype=np.int64, count=len(self.scanned))

    @cached_property
    def _marked(self) -> frozenset[int]:
        """The keys (by index) with a character that is neither a letter, a digit nor a space ("lida: a scan")."""
        return frozenset(index for index, key in enumerate(self.keys) if _MARK.search(key))

    @cached_property
    def _plain(self) -> frozenset[str]:
        """The one-word keys whose every spelling is capitalised at most in its first letter ("Memory", not "CORAL")."""
        return frozenset(key for key, forms in self.words.items() if all(form[1:] == form[1:].lower() for form in forms))

    def _how(self, text: str, start: int, end: int, key: str) -> int:
        """How the mention ``text[start:end]`` of ``key`` is written (see :data:`NAMED`)."""
        written = text[start:end]
        forms = self.words.get(key)
        if forms is None:
            titled = key in self.titles and (written if written.isprintable() and "  " not in written else _SPACES.sub(" ", written)) in self.titles[key]
            if titled and (written[1:] != written[1:].lower() or not _capital_explained(text, start)):
                return NAMED  # "as Tool loop shows": the title's capitals where prose has none
            return NAMED if " " in key and _entry(text, start, end) else WRITTEN
        if written in self.entries.get(key, ()) and _entry(text, start, end, _WORD_ENTRY_CLOSING):
            return NAMED  # "| outline | Show the headings |": a table of the files "foam outline" and the like
        if written not in forms:
            # "text" for the note "Text"; never a mention unless the KB links the word
            # more than it writes it unlinked (see MentionTable.counts), and only in a case
            # a writer varies: "CORAL" or "SkillWeaver" written otherwise is another word.
            plain = key in self._plain and written[1:] == written[1:].lower()
            return ORDINARY if plain else FOREIGN
        if written[1:] == written[1:].lower() and _capital_explained(text, start):
            return SENTENCE_START  # "Memory" opening a sentence or a quote; "LIDA" is spelled so anywhere
        return WRITTEN


@dataclass(frozen=True)
class Names:
    """The names the rule looks for: each folded key and the one note it names.

    ``learned`` keys come from other notes' link text: weaker evidence than a
    note's own title, so they never get the linked-concept exemption from
    the common-word filter. ``strict`` one-word keys count only as written in
    their note's title or alias: names shorter than ``min_length``, and names
    several notes carry that the KB's links chose one of.
    """

    targets: dict[str, str]
    words: dict[str, frozenset[str]]
    titles: dict[str, frozenset[str]]
    learned: frozenset[str]
    strict: frozenset[str]
    entries: dict[str, frozenset[str]]

    def matcher(self) -> MentionMatcher:
        return MentionMatcher.build(self.targets, self.words, self.titles, self.entries)

    def matcher_for(self, texts: Iterable[str]) -> MentionMatcher:
        """A matcher that finds in ``texts`` exactly what :meth:`matcher` finds: one for the names
        whose every word the texts hold (as the automaton reads words, see :func:`_scanned`).

        A name with a word the texts lack cannot match in them, nor take a place
        another name would have had. Building the automaton for all of
        commonplace's 5,000 names took 25 ms; after an edit only the edited
        notes are scanned, and their few hundred candidates cost a millisecond.
        """
        written: set[str] = set()
        for text in texts:
            written.update(_scanned(text)[0].split())
        keys = [key for key in self.targets if written.issuperset(_scan_word(key).split())]
        return MentionMatcher.build(
            keys,
            {key: self.words[key] for key in keys if key in self.words},
            {key: self.titles[key] for key in keys if key in self.titles},
            {key: self.entries[key] for key in keys if key in self.entries},
        )


@dataclass(frozen=True)
class WordCounts:
    """How many notes write each key unlinked: what tells a name from a common word.

    ``anywhere`` counts the notes writing it in any spelling, ``ordinary``
    those writing a one-word key in another spelling than its title's, and
    ``named`` those writing it as a name (:data:`NAMED`).
    """

    anywhere: Counter[str]
    ordinary: Counter[str]
    named: Counter[str]


@dataclass(frozen=True)
class MentionTable:
    """Every note's mentions and the KB-wide counts that decide which of them the rule reports.

    A key written unlinked in more than ``common`` notes (see
    :class:`WordCounts`), or in more than twice the notes linking its note
    (``inbound``), is a common word (see :meth:`counts`).
    """

    names: Names
    hits: dict[str, list[KeptMention]]
    linked: dict[str, set[str]]
    words: WordCounts
    inbound: Counter[str]
    common: int
    #: The ``exclude_targets`` matcher: notes never suggested.
    skip_targets: Any
    #: The digest the notes' mentions are cached under (see :meth:`MentionMatcher.digest`).
    scans: str = ""

    @classmethod
    def build(cls, kb: KB, options: Mapping[str, Any]) -> MentionTable | None:
        """The table for ``kb`` under the rule's ``options``; ``None`` when no note has a usable name."""
        skip_notes = glob_matcher(tuple(options.get("exclude", ())))
        skip_targets = glob_matcher(tuple(options.get("exclude_targets", ())))
        names = _collect_names(
            kb, int(options.get("min_length", 4)), bool(options.get("learn_labels", True)), skip_targets
        )
        if bool(options.get("plurals", True)):
            names = _with_plurals(names)
        if not names.targets:
            return None
        linked = _linked_targets(kb)
        paths = [path for path in kb.notes if skip_notes is None or not skip_notes.match(path)]
        from kbmine.checks.mention_scans import all_mentions

        matcher = names.matcher()
        hits = all_mentions(kb, paths, matcher)
        words = WordCounts(Counter(), Counter(), Counter())
        for path, found in hits.items():
            _count(words, _unlinked(names, path, found, linked.get(path, ())), +1)
        inbound: Counter[str] = Counter(target for targets in linked.values() for target in targets)
        common = limit_of_common(options, prose_bytes(kb.notes.values()))
        return cls(names, hits, linked, words, inbound, common, skip_targets, matcher.digest)

    def counts(self, key: str, how: int) -> bool:
        """Whether a mention of ``key`` written as ``how`` names its note (rather than being a common word).

        A name written as a name (:data:`NAMED`) counts however common its
        words are, unless it is so written unlinked in many notes too (a
        template's field label, "- **Storage substrate:** files").
        """
        names, words = self.names, self.words
        target = names.targets[key]
        if key in names.strict and how > WRITTEN:
            return False
        if how == FOREIGN or how > WRITTEN and words.ordinary[key] > 2 * self.inbound[target]:
            return False  # the word in its other spellings is mostly not a link: an ordinary word
        if key in names.learned:
            return words.anywhere[key] <= self.common
        limit = max(self.common, 2 * self.inbound[target])
        return words.anywhere[key] <= limit or how == NAMED and words.named[key] <= limit


def limit_of_common(options: Mapping[str, Any], prose: int) -> int:
    """How many notes may write a name unlinked before the rule calls it a common word.

    A share (``max_share``) of the notes, each counted by its prose up to
    :data:`FULL_NOTE` bytes (``prose``, see :func:`prose_bytes`): a shorter
    note is that share of a note. Counted one per note, the limit followed
    the number of files rather than the amount of text: extract, moving 1,481 duplicated passages of commonplace
    (a median of 49 words each) into notes of their own, raised it from 40
    to 69 notes, and every name written unlinked in 41 to 69 notes turned
    into a mention ("observer" linked to an experiment's prompt file).
    Counted by prose, a note split in two, or a passage moved out, adds no
    more than the text it holds (and the copies a passage leaves behind
    lower it); on commonplace the limit stays 40. A word written in a fixed
    share of a KB's prose shows up in fewer of its notes when they are
    short, so a KB of small atomic notes gets a lower limit, as it should.
    """
    return max(int(options.get("min_common", 10)), int(float(options.get("max_share", 0.0275)) * prose / FULL_NOTE))


def prose_bytes(notes: Iterable[Note]) -> int:
    """The notes' prose as :func:`limit_of_common` counts it: each note's, up to :data:`FULL_NOTE` bytes.

    Whole bytes, not shares of a note: a sum of integers, which a run that
    updates the last run's (see :func:`_updated`) gets exactly right.
    """
    return sum(map(_prose_of, notes))


def _prose_of(note: Note) -> int:
    return min(FULL_NOTE, note.mention_ranges.covered())


def _captured(note: Note) -> bool:
    """Whether the note is a captured copy of an outside text (its frontmatter records the capture).

    A paper or web page kept verbatim names other notes' subjects in its own
    words ("Voyager: an open-ended embodied agent..." in its references), and
    adding links to it would edit someone else's text.
    """
    frontmatter = note.frontmatter
    if any(key in frontmatter for key in CAPTURE_KEYS):
        return True
    tags = frontmatter.get("tags")
    return isinstance(tags, list) and any(str(tag).lower() in CAPTURE_TAGS for tag in tags)


def _mentionable(note: Note, skip_targets: Any) -> bool:
    """Whether other notes' mentions of ``note`` may be reported (its settings, its file name)."""
    if skip_targets is not None and skip_targets.match(note.path):
        return False
    settings = note.frontmatter.get("kbmine")
    if isinstance(settings, dict) and settings.get("mention") is False:
        return False
    if any(p.rule == "unreadable-note" for p in note.problems):
        return False
    return spellable(note.path)  # a file name that is not UTF-8 cannot be written into a link


#: Link text (folded) → the notes links written with it point at → the notes holding those links.
Votes = dict[str, dict[str, set[str]]]


def _collect_names(kb: KB, min_length: int, learn: bool, skip_targets: Any) -> Names:
    """Every usable name (normalised) → the one note it names.

    A name several notes share names none of them, unless the KB's links
    written with that text agree on one (see :func:`_by_links`).
    Single-word names are too easily ordinary words ("original", "memory"):
    each single-word key keeps its forms as written in its note's title or
    alias ("Voyager", "Python"; an acronym or CamelCase word of the title for
    the file name, as "LIDA" in "LIDA: a scan" for ``lida.md``), and other
    spellings need the KB's evidence (see :meth:`MentionTable.counts`).
    """
    owners: dict[str, set[str]] = defaultdict(set)
    entitled: dict[str, set[str]] = defaultdict(set)  # the notes whose title or alias a key is
    #: (key, note) → the spellings of the key in that note's title and aliases.
    written: dict[tuple[str, str], set[str]] = defaultdict(set)
    entry_forms: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path, note in kb.notes.items():
        if not _mentionable(note, skip_targets):
            continue
        stem = normalize_name(note.stem, separators=True)
        own = {fold_name(note.title), *map(fold_name, note.aliases)}
        for candidate in {stem, *own}:
            owners[candidate].add(path)
        for title in own:
            entitled[title].add(path)
        for form in (note.title, *note.aliases):
            form = _SPACES.sub(" ", form.strip())
            key = fold_name(form)
            if key and (" " not in key or form != form.lower()):
                written[key, path].add(form)
        if " " not in stem and stem not in own:
            # "outline" for the file outline.md titled "foam outline": its name as an entry.
            entry_forms[stem, path].add(note.stem)
        if " " not in stem and len(stem) >= min_length:
            # "LIDA" in the title "LIDA: a scan" is how the file lida.md is named in prose.
            for word in re.findall(r"\w+", note.title):
                if word.lower() == stem and word[1:] != word[1:].lower():
                    written[stem, path].add(word)
    labels, spaced = _link_labels(kb)
    learned: set[str] = set()
    if learn:
        # Link text other notes already use for a note, when at least two notes agree.
        for label, votes in spaced.items():
            if label not in owners and len(votes) == 1 and len(label) >= 8 and "[" not in label:
                target, sources = next(iter(votes.items()))
                if len(sources) >= 2:
                    owners[label] = {target}
                    learned.add(label)
    targets: dict[str, str] = {}
    words: dict[str, frozenset[str]] = {}
    titles: dict[str, frozenset[str]] = {}
    strict: set[str] = set()
    for name, paths in owners.items():
        owner = _by_links(paths, labels.get(name, {}), entitled.get(name, set()))
        if owner is None or not _LETTER.search(name):
            continue
        generic = name in GENERIC_NAMES
        if generic and len(labels.get(name, {}).get(owner, ())) < GENERIC_VOTES:
            continue  # "templates" is a word, unless the KB's notes link it as the name of one note
        if len(name.rsplit(" ", 1)[-1]) == 1:
            continue  # "grounding a", "reach b": numbered variants, not a name people write
        forms = frozenset(written.get((name, owner), ()))
        if " " in name:
            if len(name) < min_length:
                continue
            if forms:
                titles[name] = forms
        elif len(name) >= min_length:
            words[name] = forms
            if len(paths) > 1 or generic:
                strict.add(name)  # chosen by the KB's links, or a word: only as its title spells it
        else:
            capitalised = frozenset(form for form in forms if form != form.lower())
            if len(name) < SHORT_LENGTH or not capitalised:
                continue
            words[name] = capitalised
            strict.add(name)
        targets[name] = owner
    entries = {name: frozenset(entry_forms[name, owner]) for name, owner in targets.items() if (name, owner) in entry_forms}
    return Names(targets, words, titles, frozenset(learned & set(targets)), frozenset(strict), entries)


def _link_labels(kb: KB) -> tuple[Votes, Votes]:
    """Each link text (folded) → the notes links written with it point at → the notes holding those links.

    A bare wikilink's text is its target as written (``[[exo]]``). The
    second result counts only the links whose text has a space: a joined
    compound ("proposal-selection") is a word, not a phrase to learn.
    """
    labels: Votes = defaultdict(lambda: defaultdict(set))
    spaced: Votes = defaultdict(lambda: defaultdict(set))
    for note, link, resolution in kb.links():
        if resolution.status != "note" or resolution.path is None or link.in_frontmatter:
            continue
        if resolution.path == note.path:
            continue
        label, is_spaced = _label_key(link.label if link.label else link.target if link.kind == "wikilink" else "")
        if label and "/" not in label:
            labels[label][resolution.path].add(note.path)
            if is_spaced:
                spaced[label][resolution.path].add(note.path)
    return labels, spaced


@lru_cache(maxsize=1 << 16)
def _label_key(text: str) -> tuple[str, bool]:
    """A link text folded as a name (emphasis marks dropped), and whether it has a space.

    Memoised: the KB's links repeat the same few texts (a note's title,
    linked from everywhere), and folding was most of the time of collecting them.
    """
    text = _EMPHASIS.sub("", text)
    return fold_name(text.strip("_ ")), " " in text.strip()


def _by_links(owners: set[str], votes: Mapping[str, set[str]], entitled: set[str]) -> str | None:
    """The one note a name names: its only owner, or the owner the KB's links with that text agree on.

    "Exo" titles two notes, but twenty notes link one of them as "Exo" and none
    the other: the name means the first. Agreement needs the name to be that
    note's title or alias (in ``entitled``; two files ``link-vocabulary.md``
    name no phrase), links from at least two notes, nine in ten of the links
    to the owners and two in three of all links with that text
    ("HyperAgents" linking a review, a source and its ingest report alike
    names none of them).
    """
    if len(owners) == 1:
        return next(iter(owners))
    counts = {owner: len(votes.get(owner, ())) for owner in sorted(owners)}
    best = max(counts, key=lambda owner: counts[owner])
    everywhere = sum(len(sources) for sources in votes.values())
    if best not in entitled or counts[best] < 2 or 3 * counts[best] < 2 * everywhere:
        return None
    return best if counts[best] >= 0.9 * sum(counts.values()) else None


def _with_plurals(names: Names) -> Names:
    """Names plus the plural of their last word; one-word names excepted ("texts" is not the note "Text")."""
    extended = dict(names.targets)
    learned = set(names.learned)
    for name, target in names.targets.items():
        if " " not in name:
            continue
        for plural in plurals(name):
            if plural not in names.targets:
                extended.setdefault(plural, target)
                if name in names.learned:
                    learned.add(plural)
    return replace(names, targets=extended, learned=frozenset(learned))


def _linked_targets(kb: KB) -> dict[str, set[str]]:
    """The notes each note visibly links to, or links by the name it had before a move not committed yet.

    A reference definition is not a visible link: Foam appends one per
    wikilink, and once the wikilink is gone the orphaned definition renders
    nothing, so it must not hide the unlinked mention. A link broken by a
    rename (see :attr:`KB.moved_notes`) is reported by broken-link, and
    repairing it is the fix: suggesting a second link to the renamed note
    at a mention of its title would be noise.
    """
    return {path: targets for path in kb.notes if (targets := _linked_from(kb, path))}


def _linked_from(kb: KB, path: str) -> set[str]:
    """The notes note ``path`` visibly links to (see :func:`_linked_targets`)."""
    linked: set[str] = set()
    for link, resolution in zip(kb.notes[path].links, kb.resolutions_of(path)):
        if resolution.path is None or link.kind == "definition":
            continue
        linked.add(resolution.path)
        moved = kb.moved_target(path, link, resolution)
        if moved is not None:
            linked.add(moved)
    return linked


def _declared_mentions(kb: KB, note: Note, table: MentionTable) -> dict[str, tuple[Span, str]]:
    """The first mention of each note that ``note`` keeps a link reference definition for but no longer links.

    The definition is the writer's own word that the text links there (Foam
    writes one per wikilink and leaves it behind when the wikilink becomes
    plain text), so its label and the note's names count however short,
    generic or common they are.
    """
    owners: dict[str, set[str]] = defaultdict(set)
    linked = table.linked.get(note.path, set())
    for link, resolution in zip(note.links, kb.resolutions.get(note.path, ())):
        target = resolution.path
        if link.kind != "definition" or resolution.status != "note" or target is None:
            continue
        if target == note.path or target in linked or not _mentionable(kb.notes[target], table.skip_targets):
            continue
        named = kb.notes[target]
        for name in (link.label or "", named.title, *named.aliases):
            owners[fold_name(name)].add(target)
        owners[normalize_name(named.stem, separators=True)].add(target)
    keys = {key: next(iter(paths)) for key, paths in owners.items() if len(paths) == 1 and _LETTER.search(key)}
    source = kb.source(note.path) if keys else None
    if source is None:
        return {}
    first: dict[str, tuple[Span, str]] = {}
    for key, _, span, mention in MentionMatcher.build(keys).mentions(note, source):
        if span is not None:
            first.setdefault(keys[key], (span, mention))
    return first


#: Bumped whenever :meth:`MentionMatcher.mentions` changes what it returns, so cached scans are not reused.
_SCAN_VERSION = 6


def _sentence_start(text: str, start: int) -> bool:
    """Whether ``start`` begins a sentence or block, where any word is capitalised."""
    before = text[max(0, start - 80) : start].rstrip(" \t*_>\"'(")
    return not before or before[-1] in ".!?:\n-+|#" or before.endswith("\n")


def _capital_explained(text: str, start: int) -> bool:
    """Whether a capital at ``start`` is due to its place: a sentence start or an opening quote ("(Mem0" is not)."""
    before = text[max(0, start - 3) : start].rstrip("*_")
    return _sentence_start(text, start) or before[-1:] in ("\"", "\u201c", "\u2018", "'")


def _entry(text: str, start: int, end: int, closing: re.Pattern[str] = _ENTRY_CLOSING) -> bool:
    """Whether ``text[start:end]`` is the entry of a list item or table cell: "- Name - why", "| Name |".

    An item or cell that opens with a note's name and then ends or turns to
    its description is a list of notes, where each name is meant as the note.
    """
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = line_end if line_end >= 0 else len(text)
    before = text[line_start:start]
    if _CELL_OPENING.search(before):
        if _DELIMITER_ROW.match(text, line_end + 1):
            return False  # a header cell names a column, not a note
    elif not _LIST_OPENING.match(before):
        return False
    return bool(closing.match(text, end, line_end))


def _finding(kb: KB, note: Note, span: Span, mention: str, target: str, style: tuple[int, int]) -> Finding:
    target_note = kb.notes[target]
    replacement = link_text(kb, note, mention, target_note, style)
    edit = Edit(
        path=note.path,
        start=span.start,
        end=span.end,
        old=mention.encode(note.encoding),
        new=replacement.encode(note.encoding),
        reason=f"link the first mention of {target}",
    )
    message = (
        f"mentions {mention!r} ({target}) without linking it; readers and the graph miss the "
        f"relation: replace the first mention with {replacement}"
    )
    finding = Finding(
        "KB201",
        "missing-link",
        "warning",
        note.path,
        span,
        message,
        {"target": target, "mention": mention, "suggestion": replacement, "title": target_note.title},
        edits=(edit,),
    )
    return finding.with_fingerprint(target, fold_name(mention))


def style_counts(note: Note) -> tuple[int, int]:
    """A note's body wikilinks and internal markdown links: which style a link added to it should take."""
    wikilinks = sum(1 for link in note.links if link.kind == "wikilink" and not link.in_frontmatter)
    markdown = sum(1 for link in note.links if link.kind in ("markdown", "reference") and not link.external)
    return wikilinks, markdown


def kb_style(kb: KB) -> tuple[int, int]:
    """Wikilinks and markdown links over the whole KB (for notes with no links of their own)."""
    counts = [style_counts(note) for note in kb.notes.values()]
    return sum(w for w, _ in counts), sum(m for _, m in counts)


def link_text(kb: KB, note: Note, mention: str, target: Note, style: tuple[int, int]) -> str:
    """The link that replaces ``mention``, in the note's own style (wikilink or relative markdown).

    ``style`` is :func:`kb_style`, the KB's habit, for a note with no links of its own.
    """
    wikilinks, markdown = style_counts(note)
    if wikilinks == markdown == 0:
        wikilinks, markdown = style
    if wikilinks > markdown:
        name = kb.resolver.wikilink_name(target.path)
        return f"[[{name}]]" if mention == name else f"[[{name}|{mention}]]"
    return f"[{mention}]({link_path(target.path, posixpath.dirname(note.path))})"

