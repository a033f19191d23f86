"""extract: a claim written in several notes moves into a note of its own, linked from each place.

For each ``duplicate-claim`` cluster (the earliest passage and its copies)
the claim, as one copy wrote it (see :func:`_home`), becomes a new note
next to that copy, named after the claim's first sentence (cut at a clause
boundary, a leading "**Why:**" label dropped) in the folder's file-naming
style, with
the frontmatter its sibling notes carry (the keys most of them have, with
the value most of them share; a description key gets the first sentence).
Each copy, the original included, keeps its first sentence and links to the
new note, in the note's own link style, so the claim lives once and every
reader still finds it. A reference-list entry two sources share is a
citation, a table is data, and "[Note](note.md) — what it says" is an
entry pointing at the note the claim lives in: all stay where they are.

Verification checks what the mutation promises: the new note's links all
resolve, every former location links to it, no link got worse, and the
claim's wording survives in the new note only.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kbmine.checks.missing_link import kb_style as style_of_kb
from kbmine.checks.missing_link import style_counts
from kbmine.model import Edit, Finding, Note, link_path
from kbmine.mutate.edits import apply_edits
from kbmine.mutate.mentions import (
    Mentions,
    keep_lost_links,
    link_known_mentions,
    names_of,
)
from kbmine.mutate.model import Mutation
from kbmine.mutate.newnote import (
    NameStyle,
    ReportedNames,
    free_path,
    name_style,
    note_text,
    sibling_frontmatter,
    slug,
)
from kbmine.mutate.prose import (
    block_marker,
    first_sentence,
    plain_text,
    title_from,
    without_label,
)
from kbmine.mutate.verify import BAD, edited_notes
from kbmine.parse.passages import passage_words, shingle_hashes

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["propose_extracts", "verify_extract"]

#: A reference-list entry: a citation marker plus a year (checked on the passage's plain text).
_CITATION = re.compile(
    r"\bet al\.|\barXiv\b|\bdoi:|\bIn: |\bProceedings of\b|\bpp\. \d|\bURL https?://|\((?:1[89]|20)\d\d[a-z]?\)\."
)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
#: An index entry: a link, then a dash or colon and what the linked note says.
_ENTRY = re.compile(r"(?:\[[^\]]+\]\([^)]+\)|\[\[[^\]]+\]\])\s*(?:[—–-]|:)\s")
#: A markdown table: its header separator row (also after a label line, "**By section**: | a | b |").
_TABLE = re.compile(r"\|\s*:?-{3,}:?\s*\|")
_QUOTE_MARKER = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.MULTILINE)
#: Share of the claim's word shingles a former place may keep (its first sentence), far below
#: what duplicate-claim calls a copy.
_LEFT_BEHIND = 0.6


def propose_extracts(kb: KB, findings: Iterable[Finding]) -> list[Mutation]:
    """One extract mutation per duplicate-claim cluster whose claim can take a title nobody writes yet.

    ``findings`` are the KB's findings; the duplicate-claim clusters are read.
    """
    clusters = _clusters([f for f in findings if f.rule == "duplicate-claim"])
    claims = [(claim, found) for locations, found in clusters if found and (claim := _claim(kb, locations)) is not None]
    if not claims:
        return []
    reported = ReportedNames.of(kb)
    # Every candidate name of every claim looked up in one pass over the KB's prose.
    styles = {claim.folder: name_style(kb, claim.folder) for claim, _ in claims}
    mentions = Mentions.scan(kb, [(title, slug(title, styles[claim.folder])) for claim, _ in claims for title in claim.titles])
    planned: set[str] = set()
    names: set[str] = set()
    mutations = []
    # A note with no links of its own gets links in the style of the whole KB, as missing-link does.
    kb_style = style_of_kb(kb)
    for claim, cluster_findings in claims:
        mutation = _extract(kb, claim, cluster_findings, planned, names, mentions, styles[claim.folder], kb_style, reported)
        if mutation is not None:
            planned.update(path for path, _ in mutation.new_files)
            mutations.append(mutation)
    return mutations


@dataclass(frozen=True)
class _Claim:
    """A duplicated claim to move: its places, the copy it is taken from, its words and its candidate titles."""

    locations: list[tuple[str, int, int]]
    home: tuple[str, int, int]
    text: str
    sentence: str
    titles: tuple[str, ...]

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.home[0])


def _claim(kb: KB, locations: list[tuple[str, int, int]]) -> _Claim | None:
    """The claim a cluster of copies shares, or ``None`` when it is not one to move.

    Its titles, best first: the first sentence cut to a title (or the
    section heading every copy sits under); when that is a one- or two-word
    lead ("**Cost.**"), the next sentence's; and last the first title
    qualified by the note the claim comes from ("Cost (Agent memory)"), as an
    encyclopedia tells two articles of one name apart. The first title no
    other note already writes is taken.
    """
    if len({path for path, _, _ in locations}) != len(locations):
        return None  # two copies in one note: a person should decide which stays
    home = _home(kb, locations)
    home_path, home_start, home_end = home
    source = kb.source(home_path)
    if source is None:
        return None
    written = kb.read_bytes(home_path)[home_start:home_end].decode(source.encoding, "replace")
    claim_text = _plain(written[len(block_marker(written)) :])
    if _CITATION.search(claim_text) and _YEAR.search(claim_text) or _TABLE.search(claim_text):
        return None  # a reference two sources share, or a table: data, not a claim to move
    if _ENTRY.match(claim_text):
        return None  # "[Note](note.md) — what it explains": an index entry; the claim lives in that note
    unlabelled = without_label(claim_text)
    first = first_sentence(unlabelled)
    sentence = plain_text(first)
    title = title_from(sentence) or _shared_heading(kb, locations)
    if not title:
        return None
    titles = [title]
    if len(title.split()) <= 2:
        following = title_from(plain_text(first_sentence(unlabelled[len(first) :])))
        if len(following.split()) > 2:
            titles.append(following)
    titles.append(f"{title} ({plain_text(kb.notes[home_path].title)})")
    return _Claim(locations, home, claim_text, sentence, tuple(dict.fromkeys(titles)))


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
    kb: KB,
    claim: _Claim,
    findings: list[Finding],
    planned: set[str],
    names: set[str],
    mentions: Mentions,
    style: NameStyle,
    kb_style: tuple[int, int],
    reported: ReportedNames,
) -> Mutation | None:
    locations, (home_path, _, _), claim_text, sentence = claim.locations, claim.home, claim.text, claim.sentence
    folder = claim.folder
    linking = {path for path, _, _ in locations}
    for title in claim.titles:
        new_path = free_path(kb, folder, slug(title, style, fallback="claim"), planned)
        if not mentions.clashes(title, new_path, linking, names):
            break
    else:
        return None  # every title is a phrase other notes write: each would report an unlinked mention
    names.update(names_of(title, posixpath.basename(new_path).removesuffix(".md")))
    new_note = note_text(sibling_frontmatter(kb, folder, title, sentence), title, claim_text).encode("utf-8")
    # The home note's links around the claim covered its names there; in the new note they would not.
    home_start, home_end = claim.home[1], claim.home[2]
    around = {
        r.path
        for link, r in zip(kb.notes[home_path].links, kb.resolutions.get(home_path, ()))
        if r.status == "note" and r.path and link.kind != "definition" and not home_start <= link.span.start < home_end
    }
    new_note = link_known_mentions(kb, new_path, new_note, around, kb_style)
    # And a name the rule reports, which the copies wrote unlinked (a finding there), is one in the new note.
    new_note = reported.link(kb, new_path, new_note, kb_style)
    edits = []
    for path, start, end in locations:
        note_source = kb.source(path)
        if note_source is None:
            return None
        old = kb.read_bytes(path)[start:end]
        written = old.decode(note_source.encoding, "replace")
        replacement = _replacement(kb, kb.notes[path], written, new_path, title, kb_style)
        edits.append(Edit(path, start, end, old, replacement.encode(note_source.encoding), f"link the claim in {new_path}"))
        edits += keep_lost_links(kb, path, start, end, kb_style)
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
        f"(duplicate-claim). It now lives in {new_path}, as {home_path} wrote it, and each "
        "place keeps its first sentence and links there.",
        new_files=((new_path, new_note),),
        claim=tuple(passage_words(claim_text)),
    )


def _home(kb: KB, locations: list[tuple[str, int, int]]) -> tuple[str, int, int]:
    """The copy the new note is made from, and next to: links intact first, then the most linked-to.

    The new note sits in that copy's folder, so the copy's relative links
    keep working; a copy pasted into another folder (a draft, a work packet)
    carries links that are broken there, or had them stripped. Among equals
    the copy in the note more notes link to is the original (a packet copies
    a note, not the other way round), then the earliest.
    """

    def rank(location: tuple[str, int, int]) -> tuple[int, int, int, int]:
        path, start, end = location
        statuses = [
            kb.resolver.resolve(path, link).status for link in kb.notes[path].links if start <= link.span.start < end
        ]
        broken = sum(1 for status in statuses if status in BAD)
        return (broken, -(len(statuses) - broken), -kb.graph.in_degree(path), locations.index(location))

    return min(locations, key=rank)


def _shared_heading(kb: KB, locations: list[tuple[str, int, int]]) -> str:
    """The section heading (level 2 or deeper) every copy sits under, or ``""`` when they differ."""
    headings = set()
    for path, start, _ in locations:
        above = [h for h in kb.notes[path].headings if h.span.start < start]
        headings.add(plain_text(above[-1].text) if above and above[-1].level >= 2 else "")
    return headings.pop() if len(headings) == 1 else ""


def _plain(text: str) -> str:
    """A passage as one paragraph: quote markers and line breaks dropped."""
    return " ".join(_QUOTE_MARKER.sub("", text).split())


def _replacement(kb: KB, note: Note, written: str, new_path: str, title: str, kb_style: tuple[int, int]) -> str:
    """What stays where a copy was: its first sentence with a link to the claim's note, or just the link.

    The first sentence stays only when it is well short of a passage, so the
    places left behind are not near-identical passages of their own. A list
    or quote marker the copy starts with stays, so a list keeps its item.
    """
    marker = block_marker(written)
    first = first_sentence(_plain(written[len(marker) :]))
    if len(passage_words(first)) > kb.config.passage_min_words - 6:
        first = ""
    label = "details" if first else title
    wikilinks, markdown = style_counts(note)
    if wikilinks == markdown == 0:
        wikilinks, markdown = kb_style
    if wikilinks > markdown:
        link = f"[[{new_path.rsplit('/', 1)[-1].removesuffix('.md')}|{label}]]"
    else:
        link = f"[{label}]({link_path(new_path, posixpath.dirname(note.path))})"
    if first:
        if first[-1] in ".!?":
            kept = f"{first[:-1]} ({link}){first[-1]}"
        elif re.search(r"[.!?]\W+$", first):
            kept = f"{first} See {link}."  # the sentence ends inside emphasis or quotes: "**Done.**"
        else:
            kept = f"{first} ({link})"
    else:
        kept = f"See {link}."
    return marker + kept


def verify_extract(kb: KB, mutation: Mutation, before: Mapping[str, bytes]) -> str | None:
    """``None`` when the extraction holds; otherwise why it must not be committed."""
    (new_path, new_bytes), = mutation.new_files
    if new_path in kb.notes or (kb.root / new_path).exists():
        return f"{new_path} already exists"
    edited = edited_notes(kb, mutation, before)
    for link, resolution in zip(edited.new[new_path].links, edited.resolve(edited.new[new_path])):
        if resolution.status in BAD:
            return f"the new note would have a broken link: {link.raw}"
        if resolution.anchor_ok is False:
            # "[x](#part)" meant a heading of the note the claim came from, not of the new note.
            return f"the new note would have a broken anchor: {link.raw}"
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
