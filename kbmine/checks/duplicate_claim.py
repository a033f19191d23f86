"""KB202 duplicate-claim: near-identical passages in different notes."""

from __future__ import annotations

import marshal
import os
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

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


def _modification_times(kb: KB) -> str:
    """A digest of the notes' modification times, part of the key a run's findings are cached under.

    They date passages outside git and in files git has as changed (see
    :func:`_passage_ages`), so a note saved again unchanged can move a
    finding onto its copy; a cached run must see that as an uncached one does.
    """
    import hashlib

    digest = hashlib.blake2b(digest_size=16)
    base = str(kb.root) + os.sep
    for path in sorted(kb.hashes):  # the notes read (not kb.notes: a warm run decodes no note)
        try:
            stamp = os.stat(base + path).st_mtime_ns
        except OSError:
            stamp = 0
        digest.update(f"{path}\0{stamp}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@rule(
    "KB202",
    "duplicate-claim",
    "warning",
    "near-identical passages in different notes: the claim should live once",
    options=("min_words", "similarity", "boilerplate_notes"),
    uses_git=True,  # passages are dated by their notes' history: HEAD is part of the cache key
    inputs=_modification_times,
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
    table = _PassageTable.of(kb)
    if len(table.starts) < 2:
        return
    yield from _duplicates(kb, table, threshold, boilerplate)


def _duplicates(kb: KB, table: _PassageTable, threshold: float, boilerplate: int) -> Iterator[Finding]:
    """The findings of :func:`duplicate_claim`."""
    import numpy as np

    words = _Words(kb)
    first, second, values, same = _similar_pairs(kb, table, threshold, words)
    if not len(first):
        return
    clusters = _clusters(table, first, second, boilerplate)
    kept = np.array(sorted(index for members in clusters for index in members), dtype=np.int64)
    items = table.passages(set(kept.tolist()))
    linked = _links_by_range(kb, {items[i].path for members in clusters for i in members})
    similarity: dict[tuple[int, int], float] = {}
    inside = np.flatnonzero(np.isin(first, kept))  # a pair lies in one cluster: its second is kept too
    for a, b, score, copy in zip(first[inside].tolist(), second[inside].tolist(), values[inside].tolist(), same[inside].tolist()):
        similarity[(a, b)] = similarity[(b, a)] = 1.0 if copy else round(score, 3)
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
    yield from _findings(kb, reported, words)


#: The cache's name for last run's findings, per note (see :func:`_findings`).
_FINDINGS = "duplicate-findings"


def _findings(kb: KB, reported: list[tuple[Passage, list[tuple[Passage, float]]]], words: _Words) -> list[Finding]:
    """The finding of each reported passage: last run's where nothing it says has changed.

    A finding depends only on its passage, the copies with their scores and
    the contents of their notes, so with those (and the notes' content
    hashes) as its key it is taken from the cache, per note. Placing and
    wording thousands of findings was a quarter of a one-note run; now only
    those around the edited note are made again.
    """
    hashes, cache = kb.hashes, kb.cache
    keyed = []
    for passage, copies in reported:
        others = tuple((other.path, hashes[other.path], other.start, other.end, score) for other, score in copies)
        keyed.append(((passage.path, hashes[passage.path], passage.start, passage.end, passage.words, others), passage, copies))
    stored = cache.get_derived(_FINDINGS, "", {hashes[p.path] for p, _ in reported}) if cache is not None else {}
    known: dict[tuple[Any, ...], Finding] = {}
    stored_keys: dict[str, tuple[tuple[Any, ...], ...]] = {}
    for digest, row in stored.items():
        if (decoded := _decode_row(row)) is not None:
            known.update(decoded)
            stored_keys[digest] = tuple(decoded)
    missing = [(key, passage, copies) for key, passage, copies in keyed if key not in known]
    if missing:
        facts = _PassageFacts(kb, [p for _, passage, copies in missing for p in (passage, *(c for c, _ in copies))], words)
        for key, passage, copies in missing:
            known[key] = _finding(facts, passage, copies)
        facts.store()
    if cache is not None:
        rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for key, passage, _ in keyed:
            rows[hashes[passage.path]].append(key)
        fresh = [
            (digest, _encode_row(keys, [known[key] for key in keys]))
            for digest, keys in sorted(rows.items())
            if stored_keys.get(digest) != tuple(keys)
        ]
        if fresh:
            cache.put_derived(_FINDINGS, "", fresh, keep=hashes.values())
    return [known[key] for key, _, _ in keyed]


def _encode_row(keys: list[tuple[Any, ...]], findings: list[Finding]) -> bytes:
    """A note's cached findings (see :func:`_findings`) as marshal'd bytes: the cache unpickled
    hundreds of rows of findings in a tenth of a second, these decode in a fraction of it."""
    from kbmine.codec import encode_findings

    return marshal.dumps((tuple(keys), encode_findings(findings)))


def _decode_row(row: object) -> dict[tuple[Any, ...], Finding] | None:
    """The findings by key of a row :func:`_encode_row` made; ``None`` for anything else."""
    from kbmine.codec import decode_findings

    try:
        keys, encoded = marshal.loads(row)  # type: ignore[arg-type]
        findings = decode_findings(encoded)
    except Exception:  # noqa: BLE001 -- a damaged entry is a miss, whatever marshal raises
        return None
    if findings is None or not isinstance(keys, tuple) or len(keys) != len(findings):
        return None
    return dict(zip(keys, findings))


class _Words:
    """The words of passages (lowercased, one space apart), each distinct passage split once.

    Passages with the same bytes (copies: templates, replicated folders) have
    the same words; scoring pairs and wording findings both need them.
    """

    def __init__(self, kb: KB) -> None:
        self._kb = kb
        self._sources: dict[tuple[str, int, int], tuple[str, bytes]] = {}
        self._known: dict[tuple[str, bytes], str] = {}
        self._placed: dict[tuple[str, int, int], str] = {}

    def source(self, path: str, start: int, end: int) -> tuple[str, bytes]:
        """The passage's encoding and bytes: what its text (and so its words) depend on."""
        place = (path, start, end)
        found = self._sources.get(place)
        if found is None:
            found = self._sources[place] = (self._kb.notes[path].encoding, self._kb.read_bytes(path)[start:end])
        return found

    def of(self, path: str, start: int, end: int) -> str:
        from kbmine.parse.passages import passage_words

        place = (path, start, end)
        found = self._placed.get(place)
        if found is None:
            source = self.source(path, start, end)
            found = self._known.get(source)
            if found is None:
                found = self._known[source] = " ".join(passage_words(source[1].decode(source[0], "replace")))
            self._placed[place] = found
        return found


@dataclass(frozen=True)
class _PassageTable:
    """Every passage of the KB as numpy columns (row ``i``: note ``notes[note[i]]``, bytes ``starts[i]:ends[i]``).

    Rows follow the notes in KB order, each note's passages in order. A KB has
    tens of thousands of passages and few are ever reported: only those in a
    confirmed pair become :class:`Passage` tuples.
    """

    notes: list[str]
    note: Any  # int64: the note of each row, an index into ``notes``
    starts: Any  # int64
    ends: Any  # int64
    words: Any  # int64
    digests: Any  # int64: the digest of each passage's bytes

    @classmethod
    def of(cls, kb: KB) -> _PassageTable:
        import numpy as np

        notes = [path for path, note in kb.notes.items() if note.passages]
        rows = [kb.notes[path].passages for path in notes]
        counts = [len(passages) for passages in rows]
        flat = np.fromiter(chain.from_iterable(chain.from_iterable(rows)), dtype=np.int64, count=4 * sum(counts))
        flat = flat.reshape(-1, 4)
        note = np.repeat(np.arange(len(notes), dtype=np.int64), counts)
        return cls(notes, note, flat[:, 0], flat[:, 1], flat[:, 2], flat[:, 3])

    def passages(self, rows: set[int]) -> dict[int, Passage]:
        """The :class:`Passage` of each row of ``rows``."""
        notes, note, starts, ends, words = self.notes, self.note, self.starts, self.ends, self.words
        return {row: Passage(notes[note[row]], int(starts[row]), int(ends[row]), int(words[row])) for row in sorted(rows)}


class _Scores(NamedTuple):
    """Similarities of last run's candidate pairs, by the pair's passage ids (see :func:`_similar_pairs`)."""

    keys: Any  # uint64: a mix of both ids, sorted
    first: Any  # uint64: the first passage's id
    second: Any  # uint64: the second passage's id
    values: Any  # float64: the similarity (0 below the threshold's cutoff)
    same: Any  # bool: the two passages have the same bytes (found whatever the threshold)


def _pair_keys(first: Any, second: Any) -> Any:
    import numpy as np

    from kbmine.parse.passages import MIXERS

    with np.errstate(over="ignore"):
        mixed = (first * np.uint64(MIXERS[0])) ^ second
        mixed ^= mixed >> np.uint64(29)
        mixed *= np.uint64(MIXERS[1])
    return mixed


def _similar_pairs(kb: KB, table: _PassageTable, threshold: float, words: _Words) -> tuple[Any, Any, Any, Any]:
    """Candidate pairs from MinHash LSH banding, confirmed by an exact similarity ratio: the
    rows of the pairs that hold, their similarities and whether they are copies (numpy columns).

    The signatures come with the parse (MinHash in numpy, see
    :mod:`kbmine.parse.passages`); the banding is done on the whole signature
    matrix at once with numpy (see :mod:`kbmine.band_index`), since
    datasketch's ``MinHashLSH`` inserts passage by passage and on 45k
    passages costs more than the parse.

    Scores of last run's candidate pairs are kept by the passages' ids (note
    path and the passage's bytes, see :func:`kbmine.band_index.passage_ids`):
    after an edit only the pairs of passages whose bytes changed are decoded
    and compared again, and the others are matched in one numpy lookup
    instead of a dictionary probe per pair.
    """
    import numpy as np

    index = _band_index(kb, table)
    pairs = index.pairs[table.note[index.pairs[:, 0]] != table.note[index.pairs[:, 1]]]
    first, second = index.ids[pairs[:, 0]], index.ids[pairs[:, 1]]
    keys = _pair_keys(first, second)
    values = np.zeros(len(pairs), dtype=np.float64)
    same = np.zeros(len(pairs), dtype=bool)
    known = np.zeros(len(pairs), dtype=bool)
    cache_name = f"duplicate-scores:{threshold}"
    stored = kb.cache.get_blob(cache_name, "") if kb.cache is not None else None
    if _is_scores(stored) and len(stored.keys):
        at = np.minimum(np.searchsorted(stored.keys, keys), len(stored.keys) - 1)
        known = (stored.keys[at] == keys) & (stored.first[at] == first) & (stored.second[at] == second)
        values[known], same[known] = stored.values[at[known]], stored.same[at[known]]

    unknown = np.flatnonzero(~known)
    if len(unknown):
        values[unknown], same[unknown] = _scores(kb, table, pairs[unknown], threshold, words)
    if kb.cache is not None and (len(unknown) or not _is_scores(stored) or len(stored.keys) != len(keys)):
        order = np.argsort(keys, kind="stable")
        kb.cache.put_blob(cache_name, "", _Scores(keys[order], first[order], second[order], values[order], same[order]))
    found = np.flatnonzero(same | (values >= threshold))
    return pairs[found, 0], pairs[found, 1], values[found], same[found]


def _scores(kb: KB, table: _PassageTable, pairs: Any, threshold: float, words: _Words) -> tuple[Any, Any]:
    """The similarity of each pair of rows of ``pairs`` (0 below the threshold's cutoff), and
    whether the two passages are copies (the same bytes, read in the same encoding).

    Passages are told apart by their contents' digests (63 bits, as their ids are): copies
    are found all at once, and each distinct pair of contents is compared once. A KB that
    holds a folder twice, or a template's paragraphs in every note, repeats the same pair
    many times: a Python step per pair was most of a cold run on commonplace copied eight
    times (1.3 million pairs of copies).
    """
    import numpy as np

    encodings = {name: code for code, name in enumerate(sorted({kb.notes[path].encoding for path in table.notes}))}
    encoding = np.array([encodings[kb.notes[path].encoding] for path in table.notes], dtype=np.int64)[table.note]
    first, second = pairs[:, 0], pairs[:, 1]
    same = (table.digests[first] == table.digests[second]) & (encoding[first] == encoding[second])
    values = same.astype(np.float64)
    rest = np.flatnonzero(~same)
    if not len(rest):
        return values, same
    from rapidfuzz import fuzz  # with numpy.ma, a tenth of the rule after an edit that moved no passage

    # The ratio is symmetric: a pair of contents is the lesser content first.
    contents = np.stack((table.digests, encoding), axis=1)[pairs[rest].ravel()].reshape(len(rest), 4)
    swap = (contents[:, 0] > contents[:, 2]) | ((contents[:, 0] == contents[:, 2]) & (contents[:, 1] > contents[:, 3]))
    contents[swap] = contents[swap][:, [2, 3, 0, 1]]
    # Equal pairs of contents side by side (np.unique would import numpy.ma: 15 ms of a run).
    order = np.lexsort(contents.T[::-1])
    ordered = contents[order]
    new_content = np.ones(len(order), dtype=bool)
    new_content[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    firsts = order[new_content]
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(new_content) - 1
    notes, note_of, starts, ends = table.notes, table.note, table.starts, table.ends
    cutoff = threshold * 100
    scored = np.array(
        [
            fuzz.ratio(
                words.of(notes[note_of[row]], int(starts[row]), int(ends[row])),
                words.of(notes[note_of[other]], int(starts[other]), int(ends[other])),
                score_cutoff=cutoff,
            )
            / 100
            for row, other in pairs[rest[firsts]].tolist()
        ],
        dtype=np.float64,
    )
    values[rest] = scored[inverse]
    return values, same


def _is_scores(value: object) -> TypeGuard[_Scores]:
    """Whether ``value`` (read back from the cache) is a whole :class:`_Scores` (else it is ignored)."""
    import numpy as np

    if not isinstance(value, _Scores) or not all(isinstance(column, np.ndarray) for column in value):
        return False
    size = len(value.keys)
    return bool(
        value.keys.dtype == value.first.dtype == value.second.dtype == np.uint64
        and value.values.dtype == np.float64
        and value.same.dtype == np.bool_
        and all(column.shape == (size,) for column in value)
    )


def _band_index(kb: KB, table: _PassageTable) -> Any:
    """The LSH band index of every passage: last run's brought up to date, or built afresh (see :mod:`kbmine.band_index`)."""
    import numpy as np

    from kbmine import band_index
    from kbmine.parse.passages import NUM_PERM

    notes = table.notes
    ids = band_index.passage_ids(notes, table.note, table.digests)
    first_row = np.searchsorted(table.note, np.arange(len(notes)))
    width = NUM_PERM * 4

    def matrix(rows: Any) -> Any:
        chosen = rows.tolist()
        signatures = kb.passage_signatures(notes[table.note[row]] for row in chosen)
        own = [(signatures[notes[table.note[row]]], int(row - first_row[table.note[row]]) * width) for row in chosen]
        data = b"".join(signature[offset : offset + width] for signature, offset in own)
        return np.frombuffer(data, dtype=np.uint32).reshape(len(chosen), NUM_PERM)

    def whole() -> Any:
        signatures = kb.passage_signatures(notes)
        data = b"".join(signatures[path] for path in notes)
        return np.frombuffer(data, dtype=np.uint32).reshape(len(table.starts), NUM_PERM)

    name = f"duplicate-bands:{band_index.ROWS}:{band_index.BUCKET_LIMIT}"
    stored = kb.cache.get_blob(name, "") if kb.cache is not None else None
    index = band_index.update(stored, ids, matrix) if band_index.is_index(stored) else None
    built = index is None
    if index is None:
        index = band_index.build(ids, whole())
    # The stored table is only replaced once the KB has drifted from it: writing its
    # megabytes cost as much as the rest of a one-note run, and bringing it up to date
    # again next time costs only the changed notes' passages (the update is exact from
    # any stored table, however old).
    if kb.cache is not None and (built or index.changes >= _BAND_DRIFT * len(table.starts)):
        kb.cache.put_blob(name, "", index)
    return index


#: Share of the passages that may differ from the stored band table before it is rewritten.
_BAND_DRIFT = 0.01


def _clusters(table: _PassageTable, first: Any, second: Any, boilerplate: int) -> list[list[int]]:
    """The rows of each connected group of the pairs (``first[i]``, ``second[i]``) whose passages
    lie in 2 to ``boilerplate - 1`` notes, by their least row.

    In numpy: each row takes the least label of its pairs, and labels follow labels until
    they settle. A KB that copies a folder has millions of pairs of copies, and union-find
    over them in Python took seconds, only for the boilerplate test to drop them.
    """
    import numpy as np

    from kbmine.parse.passages import sorted_unique

    nodes = sorted_unique(np.concatenate((first, second)))
    at_first, at_second = np.searchsorted(nodes, first), np.searchsorted(nodes, second)
    labels = np.arange(len(nodes))
    while True:
        least = np.minimum(labels[at_first], labels[at_second])
        settled = labels.copy()
        np.minimum.at(settled, at_first, least)
        np.minimum.at(settled, at_second, least)
        while not np.array_equal(jumped := settled[settled], settled):
            settled = jumped
        if np.array_equal(settled, labels):
            break
        labels = settled
    # A label is the index of its group's least row: groups in label order are by least row.
    # How many notes each group spans: its distinct (label, note) pairs, as one integer each.
    spans = sorted_unique(labels * len(table.notes) + table.note[nodes]) // len(table.notes)
    starts = np.flatnonzero(np.diff(spans, prepend=-1))
    counts = np.diff(starts, append=len(spans))
    wanted = np.flatnonzero(np.isin(labels, spans[starts][(counts >= 2) & (counts < boilerplate)]))
    order = wanted[np.argsort(labels[wanted], kind="stable")]  # nodes are sorted: rows stay in order
    rows, groups = nodes[order].tolist(), labels[order].tolist()
    clusters: list[list[int]] = []
    for row, group, previous in zip(rows, groups, [-1, *groups]):
        if group != previous:
            clusters.append([])
        clusters[-1].append(row)
    return clusters


def _links_by_range(kb: KB, paths: set[str]) -> dict[tuple[str, str], list[int]]:
    """For notes ``paths``: the byte offsets, sorted, of the links from each note to each note (to spot quotations)."""
    linked: dict[tuple[str, str], list[int]] = defaultdict(list)
    for path in sorted(paths):
        for link, resolution in zip(kb.notes[path].links, kb.resolutions_of(path)):
            if resolution.path is not None:
                linked[(path, resolution.path)].append(link.span.start)
    for offsets in linked.values():
        offsets.sort()
    return linked


def _quotes(linked: dict[tuple[str, str], list[int]], passage: Passage, other: Passage) -> bool:
    """Whether ``passage`` links to the note of ``other`` from inside (or right after) itself."""
    offsets = linked.get((passage.path, other.path))
    if not offsets:
        return False
    at = bisect_left(offsets, passage.start)
    return at < len(offsets) and offsets[at] <= passage.end + 200


def _passage_ages(kb: KB, items: Mapping[int, Passage], indices: list[int]) -> dict[int, float]:
    """When each passage of ``indices`` was written, as well as the KB can tell (epoch seconds).

    In git, a passage is as old as its note (the commit that first added it,
    renames followed), unless the passage is new: absent from the note's
    committed version (an uncommitted edit) or from the version before the
    repository's latest commit (a copy committed last). So an old note that
    gets a copied paragraph today holds the newest copy, and editing a note
    elsewhere does not make its old passages new (the finding does not move).
    A passage added to an old note by an earlier commit is dated by the note
    (telling it apart needs a blame-like pass per note). A note git does not
    track yet is new, unless its passage was in a tracked note now gone from
    the work tree (a rename or move not committed yet): then it is as old as
    that note, and renaming the older copy does not move the finding onto it.
    Outside git, the file's modification time is all there is.
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

    # A note moved, byte for byte, since the last commit (see KB.moved_notes) is dated as at its old place.
    moved_from = {new: old for old, new in kb.moved_notes.items()}
    # The files git has as changed, read while the notes were parsed (see KB.prefetch_git_dates).
    dirty = {path for path in kb.dirty_files or () if path not in moved_from}
    latest = max(modified for _, modified in dates.values())
    committed = {path: moved_from.get(path, path) for path in paths}  # where git has each note's history
    baseline = {path: "HEAD" if path in dirty else "HEAD^" for path in paths if committed[path] in dates}
    baseline = {path: rev for path, rev in baseline.items() if rev == "HEAD" or dates[committed[path]][1] == latest}
    versions = gitops.file_versions(kb.root, sorted((rev, committed[path]) for path, rev in baseline.items())) or {}
    shingles: dict[str, set[tuple[str, ...]]] = {}
    gone: dict[str, set[tuple[str, ...]]] | None = None  # tracked notes missing from the work tree
    ages: dict[int, float] = {}
    for index in indices:
        path = items[index].path
        known = committed[path]
        if known not in dates:
            if gone is None:
                gone = {
                    old: _shingles(data.decode("utf-8", "replace")) for old, data in kb.missing_notes.items() if old in dates
                }
            own = _shingles(_passage_text(kb, items[index]))
            before = [dates[old][0] for old, words in gone.items() if own and len(own & words) >= len(own) / 2]
            ages[index] = float(min(before)) if before else mtime(path)  # else untracked: newer than anything committed
            continue
        new_time = mtime(path) if path in dirty else float(dates[known][1])
        rev = baseline.get(path)
        if rev is None:
            ages[index] = float(dates[known][0])
            continue
        if path not in shingles:
            old = versions.get((rev, known))
            shingles[path] = _shingles(old.decode("utf-8", "replace")) if old is not None else set()
        own = _shingles(_passage_text(kb, items[index]))
        present = len(own & shingles[path]) >= len(own) / 2 if own else True
        ages[index] = float(dates[known][0]) if present else new_time
    return ages


def _shingles(text: str) -> set[tuple[str, ...]]:
    from kbmine.parse.passages import passage_words

    words = passage_words(text)
    return set(zip(words, words[1:], words[2:]))


def _passage_text(kb: KB, passage: Passage) -> str:
    """The passage's text, decoded from its own bytes (a passage starts and ends between characters).

    Not through :meth:`KB.source`: mapping byte offsets back to characters
    builds a note's line tables, a third of the rule on a cold run.
    """
    return kb.read_bytes(passage.path)[passage.start : passage.end].decode(kb.notes[passage.path].encoding, "replace")


class _PassageFacts:
    """Where each reported passage is (span) and its words, read once per note content.

    Placing a passage means decoding its note and building the note's offset
    tables; the reported passages lie in a quarter of the notes, so this was a
    third of a run after a one-note edit. The facts depend on the note's bytes
    alone and are cached per content hash; those missing are found note by
    note, all byte offsets of a note translated in one pass.
    """

    _KIND = "duplicate-passages"

    def __init__(self, kb: KB, wanted: list[Passage], words: _Words) -> None:
        self._kb, self._words = kb, words
        self._hashes = {passage.path: kb.hashes[passage.path] for passage in wanted}
        cache = kb.cache
        stored = cache.get_derived(self._KIND, "", set(self._hashes.values())) if cache is not None else {}
        self._facts: dict[str, dict[tuple[int, int], tuple[Span, str]]] = {
            digest: facts for digest, facts in stored.items() if isinstance(facts, dict)
        }
        self._fresh: set[str] = set()
        missing: dict[str, set[tuple[int, int]]] = defaultdict(set)
        for passage in wanted:
            if (passage.start, passage.end) not in self._facts.get(self._hashes[passage.path], {}):
                missing[passage.path].add((passage.start, passage.end))
        for path, ranges in missing.items():
            self._place(path, sorted(ranges))

    def _place(self, path: str, ranges: list[tuple[int, int]]) -> None:
        source = self._kb.source(path)
        assert source is not None  # a note with passages was decoded
        digest = self._hashes[path]
        facts = self._facts.setdefault(digest, {})
        offsets = source.char_offsets([offset for byte_range in ranges for offset in byte_range]).tolist()
        lines = source.line_starts
        for number, (byte_start, byte_end) in enumerate(ranges):
            start, end = offsets[2 * number], offsets[2 * number + 1]
            # The byte offsets are known: SourceText.span would build the note's
            # wide-character index to find them again (a tenth of a cold run).
            line, end_line = bisect_right(lines, start) - 1, bisect_right(lines, end) - 1
            span = Span(byte_start, byte_end, line + 1, start - lines[line] + 1, end_line + 1, end - lines[end_line] + 1)
            facts[(byte_start, byte_end)] = (span, self._words.of(path, byte_start, byte_end))
        self._fresh.add(digest)

    def of(self, passage: Passage) -> tuple[Span, str]:
        """The passage's span and its words (lowercased, one space apart)."""
        return self._facts[self._hashes[passage.path]][(passage.start, passage.end)]

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
    preview = " ".join(words.split(" ", 12)[:12]) if words else ""
    message = (
        f"this passage ({passage.words} words, \"{preview}...\") repeats {best['path']}:{best['line']} "
        f"({best['similarity']:.0%} similar){' and ' + str(len(entries) - 1) + ' more' if len(entries) > 1 else ''}; "
        "copies drift apart: keep the claim in one note and link to it from here"
    )
    finding = Finding("KB202", "duplicate-claim", "warning", passage.path, span, message, {"others": entries, "words": passage.words})
    return finding.with_fingerprint(words)
