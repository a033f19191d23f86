"""KB202 duplicate-claim: near-identical passages in different notes."""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from kbmine.checks import rule
from kbmine.model import Finding, Span

if TYPE_CHECKING:
    from kbmine.kb import KB

class Passage(NamedTuple):
    """A paragraph, list item or quote long enough to be a claim (byte offsets).

    A named tuple: a KB has tens of thousands, and a frozen dataclass cost
    a tenth of the rule to make them.
    """

    path: str
    start: int
    end: int
    words: int


@rule(
    "KB202",
    "duplicate-claim",
    "warning",
    "near-identical passages in different notes: the claim should live once",
    options=("min_words", "similarity", "boilerplate_notes"),
    concurrent=True,
)
def duplicate_claim(kb: KB, options: dict[str, Any]) -> Iterator[Finding]:
    """The same claim written in several notes, verbatim or lightly edited.

    Copies drift apart: one gets corrected, the other keeps misleading.
    Paragraphs, list items and quotes of at least ``min_words`` (25) words are
    compared: MinHash signatures over word 3-shingles and LSH find candidate
    pairs without comparing every pair, and an exact similarity
    (rapidfuzz, at least ``similarity`` = 0.8) confirms them, so a copy with a
    few words changed is still caught. One finding at each occurrence but the
    earliest (by when the passage was written: see :func:`_passage_ages`),
    with ``data.others`` listing the other places and the similarity. A
    passage found in ``boilerplate_notes`` (5) or more notes is a template,
    not a claim, and is not reported; a passage that links to the note it
    repeats is a quotation and is not reported either.

    Fix: keep the claim in one note and link to it from the others
    (``kbmine mutate --kind extract`` proposes exactly that).
    """
    threshold = float(options.get("similarity", 0.8))
    boilerplate = int(options.get("boilerplate_notes", 5))
    items: list[Passage] = []
    for note in kb.notes.values():
        path = note.path
        items.extend([Passage(path, start, end, words) for start, end, words in note.passages])
    if len(items) < 2:
        return
    pairs = _similar_pairs(kb, items, threshold)
    if not pairs:
        return
    linked = _links_by_range(kb)
    clusters = _clusters(len(items), [(a, b) for a, b, _ in pairs])
    clusters = [members for members in clusters if 2 <= len({items[i].path for i in members}) < boilerplate]
    kept = {index for members in clusters for index in members}
    similarity: dict[tuple[int, int], float] = {}
    for a, b, score in pairs:
        if a in kept:  # then b too: a pair lies in one cluster
            similarity[(a, b)] = similarity[(b, a)] = score
    age = _passage_ages(kb, items, [i for members in clusters for i in members])
    reported: list[tuple[Passage, list[tuple[Passage, float]]]] = []
    for members in clusters:
        ordered = sorted(members, key=lambda i: (age[i], items[i].path, items[i].start))
        earliest_path = items[ordered[0]].path
        for index in ordered:
            passage = items[index]
            if passage.path == earliest_path:
                continue
            others = [j for j in ordered if items[j].path != passage.path and (index, j) in similarity]
            others = [j for j in others if not _quotes(linked, passage, items[j]) and not _quotes(linked, items[j], passage)]
            if not others:
                continue
            reported.append((passage, [(items[j], similarity[(index, j)]) for j in others]))
    facts = _PassageFacts(kb, [p for passage, copies in reported for p in (passage, *(c for c, _ in copies))])
    for passage, copies in reported:
        yield _finding(facts, passage, copies)
    facts.store()


def _similar_pairs(kb: KB, items: list[Passage], threshold: float) -> list[tuple[int, int, float]]:
    """Candidate pairs from MinHash LSH banding, confirmed by an exact similarity ratio.

    The signatures come with the parse (MinHash in numpy, see
    :mod:`kbmine.parse.passages`); the banding is done on the whole signature
    matrix at once with numpy (see :mod:`kbmine.band_index`), since
    datasketch's ``MinHashLSH`` inserts passage by passage and on 45k
    passages costs more than the parse.
    """
    from rapidfuzz import fuzz

    from kbmine.parse.passages import passage_words

    texts: dict[int, str] = {}
    # Passages with the same bytes (copies: templates, replicated folders) have the same
    # words: each distinct passage is decoded and split once, and a pair of copies
    # scores 1.0 without a comparison (nor a place in the stored scores).
    fingerprints: dict[int, bytes] = {}
    words_of: dict[bytes, str] = {}

    def fingerprint(index: int) -> bytes:
        if index not in fingerprints:
            passage = items[index]
            raw = kb.contents.get(passage.path, b"")[passage.start : passage.end]
            encoding = kb.notes[passage.path].encoding.encode()
            fingerprints[index] = hashlib.blake2b(raw, digest_size=16, key=encoding[:64]).digest()
        return fingerprints[index]

    def text(index: int) -> str:
        if index not in texts:
            known_words = words_of.get(fingerprint(index))
            if known_words is None:
                known_words = words_of[fingerprint(index)] = " ".join(passage_words(_passage_text(kb, items[index])))
            texts[index] = known_words
        return texts[index]

    # Scores of candidate pairs from earlier runs, by the passages' content: after a
    # one-note edit only the pairs touching that note are compared (and decoded) again.
    # A pair is keyed by one int (two 64-bit digests of content hash and byte range):
    # a replicated KB has millions of candidate pairs, and tuples of strings were
    # hundreds of megabytes.
    identity = kb.hashes
    digests: dict[int, int] = {}

    def key(index: int) -> int:
        if index not in digests:
            passage = items[index]
            marker = f"{identity[passage.path]}:{passage.start}:{passage.end}".encode()
            digests[index] = int.from_bytes(hashlib.blake2b(marker, digest_size=8).digest(), "big")
        return digests[index]

    cache_name = f"duplicate-scores:{threshold}"
    stored = kb.cache.get_blob(cache_name, "") if kb.cache is not None else None
    known: dict[int, float] = stored if isinstance(stored, dict) else {}
    scores: dict[int, float] = {}
    found: list[tuple[int, int, float]] = []
    for index, other in _band_index(kb, items).pairs.tolist():
        if items[other].path == items[index].path:
            continue
        if fingerprint(index) == fingerprint(other):
            found.append((index, other, 1.0))  # the same bytes: nothing to compare or to keep
            continue
        pair = key(index) << 64 | key(other)
        score = known.get(pair)
        if score is None:
            score = fuzz.ratio(text(index), text(other), score_cutoff=threshold * 100) / 100
        scores[pair] = score
        if score >= threshold:
            found.append((index, other, round(score, 3)))
    if kb.cache is not None and scores != known:
        kb.cache.put_blob(cache_name, "", scores)
    return found


def _band_index(kb: KB, items: list[Passage]) -> Any:
    """The LSH band index of ``items``: last run's brought up to date, or built afresh (see :mod:`kbmine.band_index`)."""
    import numpy as np

    from kbmine import band_index
    from kbmine.parse.passages import NUM_PERM

    notes: dict[str, int] = {}
    note_of_row = [notes.setdefault(passage.path, len(notes)) for passage in items]
    ids = band_index.passage_ids(
        [f"{path}\0{kb.hashes[path]}" for path in notes],
        note_of_row,
        [passage.start for passage in items],
        [passage.end for passage in items],
    )

    first_row: dict[str, int] = {}
    for row, passage in enumerate(items):
        first_row.setdefault(passage.path, row)
    width = NUM_PERM * 4

    def matrix(rows: Any) -> Any:
        chosen = rows.tolist()
        signatures = kb.passage_signatures(items[row].path for row in chosen)
        own = [(signatures[items[row].path], (row - first_row[items[row].path]) * width) for row in chosen]
        data = b"".join(signature[offset : offset + width] for signature, offset in own)
        return np.frombuffer(data, dtype=np.uint32).reshape(len(chosen), NUM_PERM)

    name = f"duplicate-bands:{band_index.ROWS}:{band_index.BUCKET_LIMIT}"
    stored = kb.cache.get_blob(name, "") if kb.cache is not None else None
    index = band_index.update(stored, ids, matrix) if band_index.is_index(stored) else None
    if index is None:
        index = band_index.build(ids, matrix(np.arange(len(items))))
    if kb.cache is not None and (stored is None or index.pairs is not getattr(stored, "pairs", None)):
        kb.cache.put_blob(name, "", index)
    return index


def _clusters(size: int, pairs: list[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(size))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for node in {n for pair in pairs for n in pair}:
        groups[find(node)].append(node)
    return sorted(groups.values(), key=min)


def _links_by_range(kb: KB) -> dict[str, list[tuple[int, str]]]:
    """Per note, the byte offset and resolved target of each link (to spot quotations)."""
    linked: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for note, link, resolution in kb.links():
        if resolution.path is not None:
            linked[note.path].append((link.span.start, resolution.path))
    return linked


def _quotes(linked: dict[str, list[tuple[int, str]]], passage: Passage, other: Passage) -> bool:
    """Whether ``passage`` links to the note of ``other`` from inside (or right after) itself."""
    return any(
        target == other.path and passage.start <= offset <= passage.end + 200 for offset, target in linked[passage.path]
    )


def _passage_ages(kb: KB, items: list[Passage], indices: list[int]) -> dict[int, float]:
    """When each passage of ``indices`` was written, as well as the KB can tell (epoch seconds).

    In git, a passage is as old as its note (the commit that first added it,
    renames followed), unless the passage is new: absent from the note's
    committed version (an uncommitted edit) or from the version before the
    repository's latest commit (a copy committed last). So an old note that
    gets a copied paragraph today holds the newest copy, and editing a note
    elsewhere does not make its old passages new (the finding does not move).
    A passage added to an old note by an earlier commit is dated by the note
    (telling it apart needs a blame-like pass per note). Outside git, the
    file's modification time is all there is.
    """
    dates = kb.git_dates
    paths = sorted({items[i].path for i in indices})

    def mtime(path: str) -> float:
        try:
            return os.stat(kb.root / path).st_mtime
        except OSError:
            return 0.0

    if not dates:
        times = {path: mtime(path) for path in paths}
        return {i: times[items[i].path] for i in indices}
    from kbmine import gitops

    dirty = gitops.dirty_files(kb.root) or set()
    latest = max(modified for _, modified in dates.values())
    baseline = {path: "HEAD" if path in dirty else "HEAD^" for path in paths if path in dates}
    baseline = {path: rev for path, rev in baseline.items() if rev == "HEAD" or dates[path][1] == latest}
    versions = gitops.file_versions(kb.root, sorted((rev, path) for path, rev in baseline.items())) or {}
    shingles: dict[str, set[tuple[str, ...]]] = {}
    ages: dict[int, float] = {}
    for index in indices:
        path = items[index].path
        if path not in dates:
            ages[index] = mtime(path)  # untracked: newer than anything committed
            continue
        new_time = mtime(path) if path in dirty else float(dates[path][1])
        rev = baseline.get(path)
        if rev is None:
            ages[index] = float(dates[path][0])
            continue
        if path not in shingles:
            old = versions.get((rev, path))
            shingles[path] = _shingles(old.decode("utf-8", "replace")) if old is not None else set()
        own = _shingles(_passage_text(kb, items[index]))
        present = len(own & shingles[path]) >= len(own) / 2 if own else True
        ages[index] = float(dates[path][0]) if present else new_time
    return ages


def _shingles(text: str) -> set[tuple[str, ...]]:
    from kbmine.parse.passages import passage_words

    words = passage_words(text)
    return set(zip(words, words[1:], words[2:]))


def _passage_text(kb: KB, passage: Passage) -> str:
    source = kb.source(passage.path)
    return source.text[source.char_offset(passage.start) : source.char_offset(passage.end)] if source else ""


class _PassageFacts:
    """Where each reported passage is (span) and its words, read once per note content.

    Placing a passage means decoding its note and building the note's offset
    tables; the reported passages lie in a quarter of the notes, so this was a
    third of a run after a one-note edit. The facts depend on the note's bytes
    alone and are cached per content hash.
    """

    _KIND = "duplicate-passages"

    def __init__(self, kb: KB, wanted: list[Passage]) -> None:
        self._kb = kb
        self._hashes = {passage.path: kb.hashes[passage.path] for passage in wanted}
        cache = kb.cache
        stored = cache.get_derived(self._KIND, "", set(self._hashes.values())) if cache is not None else {}
        self._facts: dict[str, dict[tuple[int, int], tuple[Span, str]]] = {
            digest: facts for digest, facts in stored.items() if isinstance(facts, dict)
        }
        self._fresh: set[str] = set()

    def of(self, passage: Passage) -> tuple[Span, str]:
        """The passage's span and its words (lowercased, one space apart)."""
        from kbmine.parse.passages import passage_words

        digest = self._hashes[passage.path]
        facts = self._facts.setdefault(digest, {})
        found = facts.get((passage.start, passage.end))
        if found is None:
            source = self._kb.source(passage.path)
            assert source is not None  # a note with passages was decoded
            start, end = source.char_offset(passage.start), source.char_offset(passage.end)
            found = facts[(passage.start, passage.end)] = (
                source.span(start, end),
                " ".join(passage_words(source.text[start:end])),
            )
            self._fresh.add(digest)
        return found

    def store(self) -> None:
        if self._kb.cache is not None and self._fresh:
            fresh = [(digest, self._facts[digest]) for digest in sorted(self._fresh)]
            self._kb.cache.put_derived(self._KIND, "", fresh, keep=self._kb.hashes.values())


def _finding(facts: _PassageFacts, passage: Passage, others: list[tuple[Passage, float]]) -> Finding:
    span, words = facts.of(passage)
    entries = []
    for other, score in sorted(others, key=lambda o: -o[1]):
        entries.append(
            {
                "path": other.path,
                "line": facts.of(other)[0].line,
                "similarity": score,
                "start_byte": other.start,
                "end_byte": other.end,
            }
        )
    best = entries[0]
    preview = " ".join(words.split(" ")[:12]) if words else ""
    message = (
        f"this passage ({passage.words} words, \"{preview}...\") repeats {best['path']}:{best['line']} "
        f"({best['similarity']:.0%} similar){' and ' + str(len(entries) - 1) + ' more' if len(entries) > 1 else ''}; "
        "copies drift apart: keep the claim in one note and link to it from here"
    )
    finding = Finding("KB202", "duplicate-claim", "warning", passage.path, span, message, {"others": entries, "words": passage.words})
    return finding.with_fingerprint(words)
