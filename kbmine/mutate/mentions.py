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
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kbmine.checks.missing_link import (
    _ORDINARY,
    _SENTENCE_START,
    _mentions,
    _plurals,
    fold_name,
    normalize_name,
)

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["Mentions", "names_of"]


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
            keys.update((n, frozenset()) for n in (name, *_plurals(name)))
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
        import ahocorasick

        automaton = ahocorasick.Automaton()
        keys = sorted(wanted)
        for index, key in enumerate(keys):
            automaton.add_word(key, index)
        automaton.make_automaton()
        exact = {key: forms for key, forms in written.items() if forms}
        at_start: dict[str, set[str]] = defaultdict(set)
        found: dict[str, set[str]] = defaultdict(set)
        ordinary: set[str] = set()
        for path, note in kb.notes.items():
            source = kb.source(path)
            if source is None:
                continue
            for key, how, _, _ in _mentions(note, source, automaton, keys, exact):
                if how == _ORDINARY:
                    ordinary.add(key)
                elif how == _SENTENCE_START:
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
