"""Every note's name mentions, scanned once and kept across runs, even when the names change.

missing-link scans each note for every other note's name. A note's
mentions depend on its bytes and on the names, so they are cached under its
content hash and a digest of the names (see
:meth:`~kbmine.checks.missing_link.MentionMatcher.digest`): after a one-note
edit only that note is scanned. Renaming a note changes the names, and used
to mean scanning every note again: most of the time of a run after a rename.

But a rename changes a few names among thousands. The scans of the last
run stay valid for a note when none of its mentions is of a name that went
away (or changed how it must be written) and none of the new names occurs
in it. The first is read off the stored scan; the second is a scan for the
new names alone, far cheaper than one for all of them. Mentions are chosen
longest-first without overlap, so a candidate that was not chosen never
decided anything: dropping a vanished name that lost to a longer one
changes nothing, and a new name that could win a place shows up in the
small scan.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kbmine.checks.missing_link import KeptMention, Mention, MentionMatcher
    from kbmine.kb import KB
    from kbmine.model import Note
    from kbmine.parse.text import SourceText

__all__ = ["all_mentions", "scan_notes"]

#: Where the last run's names are remembered (their digest and each name's spelling signature).
_LAST_NAMES = "mention-names"
#: More changed names than this and the small scan saves little: everything is scanned again.
_MAX_CHANGED = 500
#: Notes scanned together (see :meth:`~kbmine.checks.missing_link.MentionMatcher.mentions_in`) up to
#: about this many characters: enough to spread numpy's per-call cost, little memory.
_BATCH_CHARACTERS = 1_000_000


@dataclass(frozen=True)
class _CarryOver:
    """What a worker needs to reuse the last run's scan of a note."""

    previous: Mapping[str, list[KeptMention]]  # by content hash
    gone: frozenset[str]
    probe: MentionMatcher | None


def all_mentions(kb: KB, paths: list[str], matcher: MentionMatcher) -> dict[str, list[KeptMention]]:
    """The mentions in every note of ``paths``, in text order: cached, carried over, or scanned."""
    from kbmine.parallel import fork_map

    digest = matcher.digest
    signature = matcher.signature
    hashes = {path: kb.notes[path].content_hash for path in paths}
    cache = kb.cache
    stored: dict[str, Any] = cache.get_derived("mentions", digest, set(hashes.values())) if cache is not None else {}
    todo = [path for path in paths if not isinstance(stored.get(hashes[path]), list)]
    carry = _carry_over(kb, [hashes[path] for path in todo], matcher, signature) if todo else None
    size = sum(kb.notes[path].size for path in todo)
    scanned = dict(fork_map(_scan, todo, (kb, matcher, carry), size=size, jobs=kb.jobs))
    if cache is not None:
        fresh = [(hashes[path], scanned[path]) for path in todo if hashes[path]]
        kept = list(hashes.values())

        def write() -> None:
            cache.put_derived("mentions", digest, fresh, keep=kept)
            cache.put_blob(_LAST_NAMES, "latest", (digest, signature))

        # Behind the run when the scan was big (a cold run: pickling 28,000 mentions took 0.02 s).
        cache.write_behind(write, size=size, writes=("derived:mentions", f"blobs:{_LAST_NAMES}"))
    return {path: scanned[path] if path in scanned else stored[hashes[path]] for path in paths}


def scan_notes(kb: KB, paths: list[str], matcher: MentionMatcher) -> dict[str, list[KeptMention]]:
    """The mentions in each of ``paths``, scanned here and now (a few notes: no cache, no workers)."""
    from kbmine.parallel import fork_map

    return dict(fork_map(_scan, paths, (kb, matcher, None), size=0))


def _carry_over(kb: KB, wanted: list[str], matcher: MentionMatcher, signature: Mapping[str, Any]) -> _CarryOver | None:
    """The last run's scans of the ``wanted`` hashes, and what to check before reusing one."""
    cache = kb.cache
    last = cache.get_blob(_LAST_NAMES, "latest") if cache is not None else None
    if cache is None or not (isinstance(last, tuple) and len(last) == 2 and isinstance(last[1], dict)):
        return None
    last_digest, last_signature = last
    gone = frozenset(key for key, spelled in last_signature.items() if signature.get(key) != spelled)
    new = [key for key, spelled in signature.items() if last_signature.get(key) != spelled]
    if len(gone) + len(new) > _MAX_CHANGED:
        return None
    previous = {
        digest: found
        for digest, found in cache.get_derived("mentions", last_digest, set(wanted)).items()
        if isinstance(found, list)
    }
    if not previous:
        return None
    return _CarryOver(previous, gone, matcher.restricted(new) if new else None)


def _scan(paths: Sequence[str]) -> list[tuple[str, list[KeptMention]]]:
    """The mentions in each of ``paths`` (run in a forked worker on big KBs; see :mod:`kbmine.parallel`)."""
    from kbmine.parallel import shared

    kb, matcher, carry = shared()
    found: dict[str, list[KeptMention]] = {}
    batch: list[tuple[str, Note, SourceText]] = []
    size = 0
    for path in paths:
        source = kb.source(path)
        if source is None:
            found[path] = []
            continue
        note = kb.notes[path]
        if carry is not None:
            before = carry.previous.get(note.content_hash)
            if (
                before is not None
                and not any(key in carry.gone for key, *_ in before)
                and (carry.probe is None or not carry.probe.mentions(note, source))
            ):
                found[path] = before
                continue
        batch.append((path, note, source))
        size += len(source.normalized)
        if size >= _BATCH_CHARACTERS:
            found.update(_scan_batch(matcher, batch))
            batch, size = [], 0
    found.update(_scan_batch(matcher, batch))
    return [(path, found[path]) for path in paths]


def _scan_batch(matcher: MentionMatcher, batch: list[tuple[str, Note, SourceText]]) -> Iterator[tuple[str, list[KeptMention]]]:
    scanned = matcher.mentions_in([(note, source) for _, note, source in batch], first=True) if batch else []
    for (path, _, _), mentions in zip(batch, scanned):
        yield path, [_kept(mention) for mention in mentions]


def _kept(mention: Mention) -> KeptMention:
    key, how, span, text = mention
    assert span is not None
    return key, how, span.record(), text
