"""extract: a claim written in several notes moves into a note of its own, linked from each place.

For each ``duplicate-claim`` cluster (the earliest passage and its copies)
the claim, as the earliest note wrote it, becomes a new note next to that
note, with the frontmatter its sibling notes carry (the keys most of them
have, with the value most of them share). Each copy, the original
included, keeps its first sentence and links to the new note, in the note's
own link style, so the claim lives once and every reader still finds it.

Verification checks what the mutation promises: the new note's links all
resolve, every former location links to it, no link got worse, and the
claim's wording survives in the new note only.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from kbmine.checks.missing_link import style_counts
from kbmine.model import Edit, Finding, Note
from kbmine.mutate.edits import apply_edits
from kbmine.mutate.model import Mutation
from kbmine.mutate.newnote import free_path, note_text, sibling_frontmatter, slug
from kbmine.mutate.verify import BAD, edited_notes
from kbmine.parse.passages import passage_words, shingle_hashes

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["propose_extracts", "verify_extract"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[\"'(*_])")
_QUOTE_MARKER = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.MULTILINE)
#: Share of the claim's word shingles a former place may keep (its first sentence), far below
#: what duplicate-claim calls a copy.
_LEFT_BEHIND = 0.6


def propose_extracts(kb: KB, findings: Iterable[Finding]) -> list[Mutation]:
    """One extract mutation per duplicate-claim cluster."""
    clusters = _clusters([f for f in findings if f.rule == "duplicate-claim"])
    planned: set[str] = set()
    mutations = []
    for locations, cluster_findings in clusters:
        mutation = _extract(kb, locations, cluster_findings, planned)
        if mutation is not None:
            planned.update(path for path, _ in mutation.new_files)
            mutations.append(mutation)
    return mutations


def _clusters(findings: list[Finding]) -> list[tuple[list[tuple[str, int, int]], list[Finding]]]:
    """Group findings that share a passage; each group lists every location (earliest first)."""
    parent: dict[tuple[str, int, int], tuple[str, int, int]] = {}

    def find(key: tuple[str, int, int]) -> tuple[str, int, int]:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    reported: dict[tuple[str, int, int], Finding] = {}
    for finding in findings:
        here = (finding.path, finding.span.start, finding.span.end)
        reported[here] = finding
        for other in finding.data.get("others", []):
            there = (str(other["path"]), int(other.get("start_byte", -1)), int(other.get("end_byte", -1)))
            if there[1] < 0:
                continue
            parent[find(here)] = find(there)
    groups: dict[tuple[str, int, int], list[tuple[str, int, int]]] = {}
    for key in list(parent):
        groups.setdefault(find(key), []).append(key)
    result = []
    for members in groups.values():
        # The earliest passage is the one no finding sits on (the rule reports every other copy).
        members.sort(key=lambda m: (m in reported, m))
        result.append((members, [reported[m] for m in members if m in reported]))
    return sorted(result, key=lambda group: group[0][0])


def _extract(
    kb: KB, locations: list[tuple[str, int, int]], findings: list[Finding], planned: set[str]
) -> Mutation | None:
    if not findings or len({path for path, _, _ in locations}) != len(locations):
        return None  # two copies in one note: a person should decide which stays
    first_path, first_start, first_end = locations[0]
    source = kb.source(first_path)
    if source is None:
        return None
    claim_text = _plain(kb.read_bytes(first_path)[first_start:first_end].decode(source.encoding, "replace"))
    title = _title(claim_text)
    if not title:
        return None
    folder = posixpath.dirname(first_path)
    new_path = free_path(kb, folder, slug(title, fallback="claim"), planned)
    new_note = note_text(sibling_frontmatter(kb, folder, title), title, claim_text).encode("utf-8")
    edits = []
    for path, start, end in locations:
        note_source = kb.source(path)
        if note_source is None:
            return None
        old = kb.read_bytes(path)[start:end]
        written = old.decode(note_source.encoding, "replace")
        replacement = _replacement(kb, kb.notes[path], written, new_path, title)
        edits.append(Edit(path, start, end, old, replacement.encode(note_source.encoding), f"link the claim in {new_path}"))
    fingerprint = min(f.fingerprint for f in findings)
    others = ", ".join(path for path, _, _ in locations)
    return Mutation(
        "extract",
        "extract",
        "duplicate-claim",
        fingerprint,
        tuple(edits),
        None,
        f"extract: move the claim {title!r} into {new_path} ({len(locations)} copies)",
        f"The same claim is written in {len(locations)} notes ({others}); copies drift apart "
        f"(duplicate-claim). It now lives in {new_path}, as {first_path} wrote it, and each "
        "place keeps its first sentence and links there.",
        new_files=((new_path, new_note),),
        claim=tuple(passage_words(claim_text)),
    )


def _plain(text: str) -> str:
    """A passage as one paragraph: quote markers and line breaks dropped."""
    return " ".join(_QUOTE_MARKER.sub("", text).split())


def _first_sentence(text: str) -> str:
    parts = _SENTENCE_END.split(text.strip(), maxsplit=1)
    return parts[0] if len(parts) > 1 else ""


def _title(claim: str) -> str:
    """A short title from the claim's first words (up to 8, trailing punctuation dropped)."""
    words = (_first_sentence(claim) or claim).split()
    title = " ".join(words[:8]).strip(" .,;:!?-*_\"'`[]()")
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title).replace("[[", "").replace("]]", "")
    return title[:1].upper() + title[1:]


def _replacement(kb: KB, note: Note, written: str, new_path: str, title: str) -> str:
    """What stays where a copy was: its first sentence with a link to the claim's note, or just the link.

    The first sentence stays only when it is well short of a passage, so the
    places left behind are not near-identical passages of their own.
    """
    first = _first_sentence(_plain(written))
    if len(passage_words(first)) > kb.config.passage_min_words - 6:
        first = ""
    label = "details" if first else title
    wikilinks, markdown = style_counts(note)
    if wikilinks > markdown:
        link = f"[[{new_path.rsplit('/', 1)[-1].removesuffix('.md')}|{label}]]"
    else:
        link = f"[{label}]({posixpath.relpath(new_path, posixpath.dirname(note.path) or '.')})"
    if first:
        return f"{first[:-1]} ({link}){first[-1]}" if first[-1] in ".!?" else f"{first} ({link})"
    return f"See {link}."


def verify_extract(kb: KB, mutation: Mutation, before: Mapping[str, bytes]) -> str | None:
    """``None`` when the extraction holds; otherwise why it must not be committed."""
    (new_path, new_bytes), = mutation.new_files
    if new_path in kb.notes or (kb.root / new_path).exists():
        return f"{new_path} already exists"
    edited = edited_notes(kb, mutation, before)
    for link, resolution in zip(edited.new[new_path].links, edited.resolve(edited.new[new_path])):
        if resolution.status in BAD:
            return f"the new note would have a broken link: {link.raw}"
    claim = set(shingle_hashes(list(mutation.claim)))
    if len(claim & set(shingle_hashes(passage_words(new_bytes.decode("utf-8"))))) < 0.9 * len(claim):
        return "the claim did not make it into the new note"
    for path, note in edited.after.items():
        if not any(r.path == new_path and r.resolved for r in edited.resolve(note)):
            return f"{path} would not link to {new_path}"
        if edited.more_broken(path):
            return f"{path} would have more broken links than before"
        text = apply_edits(before[path], [e for e in mutation.edits if e.path == path]).decode("utf-8", "replace")
        if len(claim & set(shingle_hashes(passage_words(text)))) > _LEFT_BEHIND * len(claim):
            return f"the claim would still be written out in {path}"
        if Counter(p.rule for p in note.problems) - Counter(p.rule for p in edited.before[path].problems):
            return f"the edit would introduce a parse problem in {path}"
    return None
