"""Verification: a mutation is committed only if re-parsing and re-checking the note proves it.

The edited note is parsed again (the same parser as every check) and each
of its links resolved by the KB's one resolver, before and after. A relink
must leave the intended link resolving to the intended note (anchor
included), add exactly one link or none as promised, make no link worse
(broken, ambiguous, escaping or with a dead anchor) and introduce no new
problem such as unreadable frontmatter. A link it adds or moves (a mention
linked, a successor followed) must not make a live note lean on a dead one,
which ``stale-status`` would report as a new finding; a repaired broken
link may reach a dead note, as it did before it broke.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from kbmine.checks.stale_status import DEAD, LINEAGE_KEYS, LIVE, SUCCESSOR_KEYS
from kbmine.mutate.edits import apply_edits
from kbmine.mutate.model import Mutation
from kbmine.parse import parse_note
from kbmine.resolve import Resolution, Resolver

if TYPE_CHECKING:
    from kbmine.kb import KB
    from kbmine.model import Note

__all__ = ["BAD", "EditedNotes", "NoteParser", "edited_notes", "verify_relink"]

#: Resolution statuses that make a link a defect.
BAD = ("broken", "ambiguous", "escapes")


class NoteParser:
    """Parses note versions during a run, remembering the last version of each note.

    A note fixed several times is parsed once per version, not twice per fix.
    Verification reads links and parse problems only, so the passages'
    MinHash signatures (a fifth of a parse) are not computed.
    """

    def __init__(self, kb: KB) -> None:
        self._kb = kb
        self._last: dict[str, tuple[bytes, Note]] = {}
        options = kb.config.rule_options("stale-status")
        self._status_key = str(options.get("status_key", "status"))
        self._live = _words(options.get("live", LIVE))
        self._dead = _words(options.get("dead", DEAD))
        self._missing_live = str(options.get("missing_status", "live")).lower() == "live"
        self._exempt = frozenset(k.lower() for k in (*LINEAGE_KEYS, *_words(options.get("successor_keys", SUCCESSOR_KEYS))))
        self._dead_notes: frozenset[str] | None = None

    def __call__(self, path: str, data: bytes) -> Note:
        known = self._last.get(path)
        if known is not None and known[0] == data:
            return known[1]
        config = self._kb.config
        note = parse_note(path, data, config.dialect, config.parse_timeout, min_passage_words=sys.maxsize)
        self._last[path] = (data, note)
        return note

    def is_live(self, note: Note) -> bool:
        """Whether ``stale-status`` counts ``note`` as live (its status words, as configured)."""
        value = note.frontmatter.get(self._status_key)
        if value is None:
            return self._missing_live
        return str(value).strip().lower() in self._live

    def dead_links(self, note: Note, resolutions: list[Resolution]) -> int:
        """How many links of ``note`` reach a dead note, as ``stale-status`` (a) counts them."""
        if self._dead_notes is None:
            key = self._status_key
            self._dead_notes = frozenset(
                path
                for path, other in self._kb.notes.items()
                if other.frontmatter.get(key) is not None and str(other.frontmatter.get(key)).strip().lower() in self._dead
            )
        return sum(
            1
            for link, r in zip(note.links, resolutions)
            if r.status == "note" and r.path in self._dead_notes and r.path != note.path
            and not (link.in_frontmatter and (link.frontmatter_key or "").lower() in self._exempt)
        )


def _words(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value.strip().lower()})
    if isinstance(value, (list, tuple)):
        return frozenset(str(v).strip().lower() for v in value)
    return frozenset()


def verify_relink(kb: KB, mutation: Mutation, before: bytes, after: bytes, parse: NoteParser) -> str | None:
    """``None`` when the relink holds; otherwise why it must not be committed."""
    expect = mutation.expect
    assert expect is not None, "a relink always says which link must resolve"
    old = parse(expect.path, before)
    new = parse(expect.path, after)
    if Counter(p.rule for p in new.problems) - Counter(p.rule for p in old.problems):
        return "the edit introduces a parse problem: " + "; ".join(p.message for p in new.problems)
    old_resolved = _resolve(kb, old)
    new_resolved = _resolve(kb, new)
    # A reference definition counts as a link only while nothing uses it (Foam writes one for
    # each [[name]]): linking a mention can absorb one, retargeting a wikilink releases one.
    # Those come and go with the body's links, so the body's links are what is counted.
    written_before = sum(1 for link in old.links if link.kind != "definition")
    written_after = sum(1 for link in new.links if link.kind != "definition")
    if written_after != written_before + (1 if expect.added else 0):
        return f"expected {'one more link' if expect.added else 'the same number of links'}, got {written_before} -> {written_after}"

    def reaching(resolutions: list[Resolution], note: Note) -> int:
        return sum(
            1
            for link, r in zip(note.links, resolutions)
            if link.kind != "definition" and r.path == expect.target and r.resolved and r.anchor_ok is not False
        )

    if reaching(new_resolved, new) <= reaching(old_resolved, old):
        return f"no new link reaches {expect.target}" + (f"#{expect.anchor}" if expect.anchor else "")
    bad_before = sum(1 for r in old_resolved if r.status in BAD)
    bad_after = sum(1 for r in new_resolved if r.status in BAD)
    if bad_after > bad_before:
        return "the edit leaves more broken, ambiguous or escaping links than before"
    anchors_before = sum(1 for r in old_resolved if r.anchor_ok is False)
    anchors_after = sum(1 for r in new_resolved if r.anchor_ok is False)
    if anchors_after > anchors_before:
        return "the edit leaves more broken anchors than before"
    if mutation.action in ("link-mention", "successor") and parse.is_live(new):
        # A linked mention must add no link to a dead note; a successor must remove one.
        allowed = parse.dead_links(old, old_resolved) - (1 if mutation.action == "successor" else 0)
        if parse.dead_links(new, new_resolved) > allowed:
            return f"a live note would link to {expect.target}, whose status says it is dead (stale-status)"
    if mutation.action in ("follow-rename", "fuzzy") and bad_after >= bad_before:
        return "the broken link is still broken"
    if mutation.action == "anchor" and anchors_after >= anchors_before:
        return "the broken anchor is still broken"
    return None


def _resolve(kb: KB, note: Note) -> list[Resolution]:
    return [kb.resolver.resolve(note.path, link) for link in note.links]


@dataclass(frozen=True)
class EditedNotes:
    """The notes a mutation touches, parsed as they read before and after it, and its new notes.

    ``resolver`` knows the KB as the mutation would leave it. Links are
    compared before and after with this one resolver, so a link to a note
    an earlier fix of the same run created (not in ``kb.notes``, the tree
    the run started from) counts the same on both sides instead of looking
    newly broken.
    """

    before: dict[str, Note]
    after: dict[str, Note]
    new: dict[str, Note]
    resolver: Resolver

    def resolve(self, note: Note) -> list[Resolution]:
        """Each link of ``note`` resolved in the KB after the mutation."""
        return [self.resolver.resolve(note.path, link) for link in note.links]

    def more_broken(self, path: str) -> bool:
        """Whether note ``path`` has more broken, ambiguous or escaping links after the mutation than before."""
        bad_before = sum(1 for r in self.resolve(self.before[path]) if r.status in BAD)
        return sum(1 for r in self.resolve(self.after[path]) if r.status in BAD) > bad_before


@lru_cache(maxsize=64)
def _parse_version(path: str, data: bytes, dialect: str, timeout: float) -> Note:
    """One version of a note, parsed once: a note a run edits again is verified against the version
    the previous fix left, which that fix's verification already parsed. Verification reads links and
    text, never the passages' MinHash signatures."""
    return parse_note(path, data, dialect, timeout, min_passage_words=sys.maxsize)


def edited_notes(kb: KB, mutation: Mutation, before: Mapping[str, bytes]) -> EditedNotes:
    """Parse what ``mutation`` would leave: its edited notes (``before`` holds their current bytes) and new notes."""
    config = kb.config

    def parse(path: str, data: bytes) -> Note:
        return _parse_version(path, data, config.dialect, config.parse_timeout)

    old = {path: kb.notes[path] if data == kb.read_bytes(path) else parse(path, data) for path, data in before.items()}
    after = {
        path: parse(path, apply_edits(data, [e for e in mutation.edits if e.path == path])) for path, data in before.items()
    }
    new = {path: parse(path, data) for path, data in mutation.new_files}
    resolver = Resolver({**kb.notes, **after, **new}, kb.resolver.files, set(kb.resolver.dirs), config.dialect)
    return EditedNotes(old, after, new, resolver)
