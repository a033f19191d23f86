"""Last run's findings of the rules that judge one note at a time, brought up to date.

Most rules judge each note by its own text and by what the other notes
declare: their faces (see :func:`~kbmine.model.note_face`: titles, headings,
frontmatter, links without their places). A link is broken whatever the
other paragraphs of its note say, and a note is an orphan whatever anyone's
prose says. After an edit that keeps every edited note's face, in a KB that
keeps its frame (the same notes, files and configuration: see
:meth:`~kbmine.kb.KB.edited_since`), the other notes' findings of such a
rule stand:

* a rule of scope ``"note"`` judges the edited notes again (its check takes
  ``judged=``) and the other notes keep last run's findings;
* a rule of scope ``"faces"`` reads nothing but faces: last run's findings
  stand whole, and it does not run.

A rule that also reads some notes' whole text while judging others names
them (``reads``: stale-status reads a dead note's prose for "superseded by
[link]"), and an edit of one of them makes it run in full. So do a note
added, removed or renamed, a file added, another configuration, another HEAD
or day for a rule that reads git, and an edit of more than
:data:`_MAX_EDITED` notes. Each run leaves its findings per rule, with the
notes' content hashes, for the next.

After a one-note edit of commonplace these rules took 0.1 s of a one-second
check; now they take a few hundredths.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeGuard

from kbmine.model import Finding, Note

if TYPE_CHECKING:
    from kbmine.checks import Rule
    from kbmine.kb import KB

__all__ = ["WRITES", "Reuse"]

#: The cache's name for what a run leaves the next (see :class:`Reuse`).
_LAST_RUN = "note-rule-findings"
#: What :meth:`Reuse.keeper` writes (see :meth:`~kbmine.cache.ParseCache.write_behind`).
WRITES = f"blobs:{_LAST_RUN}"
#: More notes edited than this and the rules run in full: judging them one at a time would save little.
_MAX_EDITED = 32

#: Per rule: the key its findings were made under (see :func:`_key`), the findings, the notices it raised.
_Entry = tuple[str, list[Finding], tuple[str, ...]]


@dataclass
class Reuse:
    """One run's reuse of the last run's findings: what it found stored, and what it leaves."""

    kb: KB
    #: The last run's content hash of every note, and its entry per rule (findings encoded).
    last_hashes: dict[str, str]
    last: dict[str, tuple[str, bytes, tuple[str, ...]]]
    #: This run's entries, to leave for the next.
    made: dict[str, _Entry] = field(default_factory=dict)
    #: Each rule's key this run (see :func:`_key`), computed once.
    keys: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls, kb: KB) -> Reuse:
        """The reuse of what the last run left in ``kb``'s cache (nothing, without a cache)."""
        stored = kb.cache.get_blob(_LAST_RUN, "latest") if kb.cache is not None else None
        if _is_state(stored):
            return cls(kb, stored[0], stored[1])
        return cls(kb, {}, {})

    @cached_property
    def _edited(self) -> dict[str, Note] | None:
        return self.kb.edited_since(self.last_hashes, _MAX_EDITED) if self.last_hashes else None

    def findings(self, rule: Rule, options: dict[str, Any]) -> list[Finding] | None:
        """``rule``'s findings from last run's, judging only the edited notes again; ``None``
        when it must run in full (then :meth:`record` its findings)."""
        from kbmine.codec import decode_findings

        if rule.scope == "kb":
            return None
        key = self._key(rule, options)
        entry = self.last.get(rule.name)
        if entry is None or entry[0] != key or self._edited is None:
            return None
        stored = decode_findings(entry[1])
        if stored is None:
            return None
        for notice in entry[2]:
            self.kb.notice(notice)
        found = stored
        if rule.scope == "note" and self._edited:
            judged = frozenset(self._edited)
            found = [finding for finding in stored if finding.path not in judged]
            found.extend(rule.check(self.kb, options, judged=judged))
        self.made[rule.name] = (key, found, entry[2])
        return found

    def record(self, rule: Rule, options: dict[str, Any], findings: list[Finding], notices: list[str]) -> None:
        """Keep the findings of ``rule``, run in full, for the next run (rules of scope ``"kb"`` are not kept)."""
        if rule.scope != "kb" and self.kb.cache is not None:
            self.made[rule.name] = (self._key(rule, options), findings, tuple(notices))

    def _key(self, rule: Rule, options: dict[str, Any]) -> str:
        if rule.name not in self.keys:
            self.keys[rule.name] = _key(self.kb, rule, options)
        return self.keys[rule.name]

    def keeper(self) -> Callable[[], None] | None:
        """What leaves this run's entries for the next run (``None``: nothing to leave), for the
        caller to run behind (see :meth:`~kbmine.cache.ParseCache.write_behind`; it writes
        :data:`WRITES`) with its own writes: each forked writer costs the run a fork."""
        kb, cache, made = self.kb, self.kb.cache, self.made
        if cache is None or not made:
            return None
        if kb.hashes == self.last_hashes and {name: key for name, (key, _, _) in made.items()} == {
            name: key for name, (key, _, _) in self.last.items()
        }:
            return None  # what is stored already says the same
        hashes = dict(kb.hashes)

        def write() -> None:
            from kbmine.codec import encode_findings

            entries = {name: (key, encode_findings(found), notices) for name, (key, found, notices) in made.items()}
            cache.put_blob(_LAST_RUN, "latest", (hashes, entries))

        return write


def _key(kb: KB, rule: Rule, options: dict[str, Any]) -> str:
    """What ``rule``'s findings depend on besides the notes' contents: while it stays the same,
    an edit that keeps faces changes only the edited notes' findings."""
    parts = [rule.name, repr(sorted(options.items())), kb.frame, repr(sorted(kb.moved_notes.items()))]
    if rule.uses_git:
        parts.append(f"{kb.head}:{datetime.date.today().isoformat()}")
    if rule.inputs is not None:
        parts.append(rule.inputs(kb))
    if rule.reads is not None:
        parts.append(repr([(path, kb.hashes.get(path)) for path in sorted(rule.reads(kb, options))]))
    return hashlib.blake2b("\0".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def _is_state(value: object) -> TypeGuard[tuple[dict[str, str], dict[str, tuple[str, bytes, tuple[str, ...]]]]]:
    """Whether ``value`` has the shape :meth:`Reuse.keep` stores (a damaged cache entry is a miss)."""
    if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], dict) and isinstance(value[1], dict)):
        return False
    return all(
        isinstance(entry, tuple)
        and len(entry) == 3
        and isinstance(entry[0], str)
        and isinstance(entry[1], bytes)
        and isinstance(entry[2], tuple)
        for entry in value[1].values()
    )
