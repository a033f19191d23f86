"""Names for new notes that no other note already writes unlinked.

A note's title and file name become names the ``missing-link`` rule looks
for in every other note's prose. A note extract or synthesise creates,
named after a phrase other notes already write, would make each of those
notes report an unlinked mention: the fix would leave findings behind
elsewhere. So before a new note is named, every candidate name of every
new note the run plans is looked up in the KB's prose at once (one
automaton, one pass over the notes, with the rule's own matcher), and a
note takes the first candidate title no note outside its own places
mentions.

The same holds for text a fix removes: a passage extract replaces by a
link may hold the note's only link to some note, and once it is gone every
other mention of that note's name in the note reads as unlinked. The first
such mention is linked in the same fix (:func:`keep_lost_links`), so the
note keeps the relation and the rule finds nothing new.
"""

from __future__ import annotations

import posixpath
import sys
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kbmine.checks.missing_link import (
    ORDINARY,
    SENTENCE_START,
    MentionMatcher,
    fold_name,
    link_text,
    normalize_name,
    plurals,
)
from kbmine.model import Edit
from kbmine.mutate.edits import apply_edits
from kbmine.parse import parse_note
from kbmine.parse.text import decode_note

if TYPE_CHECKING:
    from kbmine.kb import KB
    from kbmine.model import Note
    from kbmine.parse.text import SourceText

__all__ = [
    "Mentions",
    "keep_lost_links",
    "link_known_mentions",
    "names_of",
]


def names_of(title: str, stem: str) -> dict[str, frozenset[str]]:
    """The keys ``missing-link`` would search prose for once a note titled ``title`` is named ``stem``.

    Its title, its file name (``-``, ``_``, ``.`` read as spaces), and the
    plural of a many-word name's last word, as the rule adds them. A
    one-word name matches only as the title writes it (the value), and a
    one-word file name only when the title is that word.
    """
    title = title.strip()
    keys: dict[str, frozenset[str]] = {}
    for name in {fold_name(title), normalize_name(stem, separators=True)}:
        if " " in name:
            keys.update((n, frozenset()) for n in (name, *plurals(name)))
        elif name and " " not in title and name == title.lower():
            keys[name] = frozenset({title})
    return keys


@dataclass(frozen=True)
class Mentions:
    """Which notes write each of a set of names in their prose, as ``missing-link`` would read them.

    ``taken`` holds the names existing notes already carry: a new note
    sharing one would make the name ambiguous, so the rule would stop
    reporting the existing note's mentions.
    """

    found: Mapping[str, frozenset[str]]
    taken: frozenset[str]

    @classmethod
    def scan(cls, kb: KB, candidates: Iterable[tuple[str, str]]) -> Mentions:
        """Look up every name of the candidate (title, file name) pairs in one pass over the KB."""
        written: dict[str, set[str]] = defaultdict(set)
        for title, stem in candidates:
            for key, forms in names_of(title, stem).items():
                written[key].update(forms)
        wanted = set(written)
        taken = frozenset(
            name
            for path, note in kb.notes.items()
            for name in (fold_name(note.title), normalize_name(note.stem, separators=True), *map(fold_name, note.aliases))
        )
        if not wanted:
            return cls({}, taken)
        matcher = MentionMatcher.build(wanted, {key: forms for key, forms in written.items() if forms})
        at_start: dict[str, set[str]] = defaultdict(set)
        found: dict[str, set[str]] = defaultdict(set)
        ordinary: set[str] = set()
        for path, note in kb.notes.items():
            source = kb.source(path)
            if source is None:
                continue
            for key, how, _, _ in matcher.mentions(note, source):
                if how == ORDINARY:
                    ordinary.add(key)
                elif how == SENTENCE_START:
                    at_start[key].add(path)
                else:
                    found[key].add(path)
        # A capitalised word at a sentence start is a mention only if the KB never writes it otherwise.
        for key, paths in at_start.items():
            if key not in ordinary:
                found[key] |= paths
        return cls({key: frozenset(paths) for key, paths in found.items()}, taken)

    def clashes(self, title: str, path: str, linking: Collection[str], planned: Collection[str] = ()) -> bool:
        """Whether a note titled ``title`` at ``path`` would leave a finding behind (``planned``: names taken in this run).

        It does when a note other than ``linking`` (the notes that will link
        to it, which the rule then leaves alone) writes one of its names, or
        when one of its names is an existing note's or one planned in this run.
        """
        names = set(names_of(title, posixpath.basename(path).rsplit(".", 1)[0]))
        if names & self.taken or names & set(planned):
            return True
        return any(self.found.get(name, frozenset()) - set(linking) for name in names)


def keep_lost_links(kb: KB, path: str, start: int, end: int, kb_style: tuple[int, int]) -> list[Edit]:
    """Edits that link, outside bytes ``start:end`` of note ``path``, the first mention of each note only that span links.

    A note the span links and the rest of the note does not would lose its
    link when the span is replaced; where the note still names it, that
    first mention becomes the link, written as ``missing-link`` would
    suggest it. A note the rest does not name loses nothing a reader sees.
    """
    note = kb.notes[path]
    source = kb.source(path)
    if source is None:
        return []
    inside: set[str] = set()
    outside: set[str] = set()
    for link, resolution in zip(note.links, kb.resolutions.get(path, ())):
        if resolution.path is None or link.kind == "definition":
            continue
        if start <= link.span.start < end:
            if resolution.status == "note" and resolution.path != path:
                inside.add(resolution.path)
        else:
            outside.add(resolution.path)
    return _link_first_mentions(kb, note, source, inside - outside, (start, end), kb_style)


def link_known_mentions(kb: KB, path: str, data: bytes, targets: Collection[str], kb_style: tuple[int, int]) -> bytes:
    """A new note's bytes with the first mention of each of ``targets`` linked.

    Text moved into a new note (a claim, a member's summary) can name notes
    its old place linked elsewhere; there the name was covered by that link,
    in the new note it would read as an unlinked mention.
    """
    note = parse_note(path, data, kb.config.dialect, kb.config.parse_timeout, min_passage_words=sys.maxsize)
    edits = _link_first_mentions(kb, note, decode_note(data), set(targets) - {path}, None, kb_style)
    return apply_edits(data, edits)


def _link_first_mentions(
    kb: KB, note: Note, source: SourceText, targets: set[str], skip: tuple[int, int] | None, kb_style: tuple[int, int]
) -> list[Edit]:
    """Edits linking the first mention (outside the byte range ``skip``) of each of ``targets`` in ``note``."""
    owners: dict[str, set[str]] = defaultdict(set)
    written: dict[str, set[str]] = defaultdict(set)
    for target in sorted(targets):
        other = kb.notes.get(target)
        if other is None:
            continue
        for name in (other.title, *other.aliases):
            for key, forms in names_of(name, other.stem).items():
                owners[key].add(target)
                written[key].update(forms)
    named = {key: next(iter(paths)) for key, paths in owners.items() if len(paths) == 1}
    if not named:
        return []
    matcher = MentionMatcher.build(named, {key: forms for key, forms in written.items() if forms and key in named})
    edits: list[Edit] = []
    linked: set[str] = set()
    for key, how, span, mention in matcher.mentions(note, source):
        target = named[key]
        if how == ORDINARY or span is None or target in linked:
            continue
        if skip is not None and skip[0] < span.end and span.start < skip[1]:
            continue
        linked.add(target)
        replacement = link_text(kb, note, mention, kb.notes[target], kb_style)
        old = mention.encode(source.encoding)
        edits.append(Edit(note.path, span.start, span.end, old, replacement.encode(source.encoding), f"keep the link to {target}"))
    return edits
