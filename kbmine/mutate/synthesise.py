"""synthesise: a hub note for a dense cluster of notes that no note gathers yet.

Communities of the link graph (Louvain, fixed seed, so runs agree) that are
dense enough to be a topic and that no existing note already links to most
of (an index or a map of content) get a hub: a new note in the members'
most common folder that lists and links every member with its description
or first sentence, grouped by folder. The hub is linked from the nearest
index note (README.md, index.md... in the folder or above it). A KB with
no index above the folder links it from the cluster's most central member
instead (the one most linked within the cluster): a hub nothing links to
would be an orphan, and the member readers of the topic pass through most
is where they look for a map of it. The hub's title must be a phrase no
other note writes (see :mod:`kbmine.mutate.mentions`).

The text comes from a :class:`HubWriter`. The default writes deterministic
text from the members' own words; another writer (an LLM, a template) can
be plugged in without touching the rest.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from kbmine.checks.missing_link import MentionTable, kb_style, style_counts
from kbmine.model import Edit, Note, link_path, relative_path
from kbmine.mutate.mentions import Mentions, link_known_mentions, names_of
from kbmine.mutate.model import Mutation
from kbmine.mutate.newnote import (
    DESCRIPTION_KEYS,
    ReportedNames,
    free_path,
    name_style,
    note_text,
    sibling_frontmatter,
    slug,
)
from kbmine.mutate.prose import first_sentence, plain_text
from kbmine.mutate.verify import BAD, NoteParser, edited_notes
from kbmine.parse import parse_note
from kbmine.parse.passages import passage_words

if TYPE_CHECKING:
    import networkx as nx

    from kbmine.kb import KB

__all__ = ["Cluster", "DeterministicHubWriter", "HubWriter", "Member", "propose_hubs", "verify_hub"]

#: A cluster is worth a hub with at least this many notes, and at most this many (beyond, it is a whole area).
MIN_MEMBERS = 5
MAX_MEMBERS = 40
#: Links inside the cluster per member, at least: below it the notes are a loose set, not a topic.
MIN_DENSITY = 1.5
#: A note that links to this share of the members already is their hub.
HUB_SHARE = 0.6
#: A title prefix before a colon that this many titles share is a label ("Ingest: ..."), not a topic.
LABEL_TITLES = 5
INDEX_NAMES = ("readme.md", "index.md", "_index.md", "home.md", "moc.md")
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "in", "into",
    "is", "it", "its", "no", "not", "of", "on", "or", "our", "that", "the", "their", "this", "to", "via", "vs",
    "what", "when", "where", "which", "why", "with", "without", "your",
    "should", "must", "may", "might", "will", "would", "could", "shall", "than", "more", "less", "only",
})
_WORD = re.compile(r"[^\W\d_][\w'-]*")
#: An index entry: a list item that is a link followed by a description.
_ENTRY = re.compile(r"^\s*[-*+]\s+\[[^\]]*\]\([^)]*\)(:\s|\s[—–-]\s)\S")


@dataclass(frozen=True)
class Member:
    path: str
    title: str
    summary: str


@dataclass(frozen=True)
class Cluster:
    """What a writer gets: where the hub goes, its title, and the members with their own words.

    ``folder_titles`` names member folders by the title of their index note
    (a folder without one is named by its path); ``separator`` is what the
    KB's index notes write between an entry's link and its description.
    """

    folder: str
    title: str
    members: tuple[Member, ...]
    folder_titles: tuple[tuple[str, str], ...] = ()
    separator: str = ": "


class HubWriter(Protocol):
    """Writes the body (markdown after the title) of a hub note; links are relative to ``hub_path``."""

    def __call__(self, cluster: Cluster, hub_path: str) -> str: ...


class DeterministicHubWriter:
    """The default: one section per folder (the hub's own first), one bullet per member with its summary.

    Same input, same text.
    """

    def __call__(self, cluster: Cluster, hub_path: str) -> str:
        groups: dict[str, list[Member]] = defaultdict(list)
        for member in cluster.members:
            groups[posixpath.dirname(member.path)].append(member)
        here = posixpath.dirname(hub_path) or "."
        names = dict(cluster.folder_titles)
        lines = [f"{len(cluster.members)} closely linked notes, each with its own summary.", ""]
        for folder in sorted(groups, key=lambda f: (f != cluster.folder, f)):
            if len(groups) > 1:
                lines += [f"## {names.get(folder) or folder or 'Top level'}", ""]
            for member in sorted(groups[folder], key=lambda m: m.title.lower()):
                link = f"[{_escape(member.title)}]({link_path(member.path, here)})"
                lines.append(f"- {link}{cluster.separator}{member.summary}" if member.summary else f"- {link}")
            lines.append("")
        return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def propose_hubs(kb: KB, writer: HubWriter | None = None) -> list[Mutation]:
    """One hub mutation per dense cluster without a hub."""
    write = writer or DeterministicHubWriter()
    graph = _note_graph(kb)
    if graph.number_of_nodes() < MIN_MEMBERS:
        return []
    communities = _topics(graph, _louvain(graph, graph.nodes))
    planned: set[str] = set()
    mutations = []
    vocabulary = _TitleVocabulary.of(kb)
    clusters = [
        members
        for members in (sorted(c) for c in sorted(communities, key=lambda c: sorted(c)))
        if MIN_MEMBERS <= len(members) <= MAX_MEMBERS
        and graph.subgraph(members).number_of_edges() >= MIN_DENSITY * len(members)
        and not _has_hub(kb, members)
    ]
    titled = [(members, _title(kb, members, vocabulary)) for members in clusters]
    # One pass over the KB's prose for the hubs' candidate names.
    mentions = Mentions.scan(kb, [(title, slug(title, name_style(kb, _folder(members)))) for members, title in titled])
    if not clusters:
        return []
    reported = ReportedNames.of(kb)
    wakes = _one_more_link_wakes(reported.table)
    names: set[str] = set()
    for members, title in titled:
        mutation = _hub(kb, graph, members, title, write, planned, names, mentions, reported, wakes)
        if mutation is not None:
            planned.update(path for path, _ in mutation.new_files)
            mutations.append(mutation)
    return mutations


def _folder(members: list[str]) -> str:
    """Where a cluster's hub goes: the members' most common folder."""
    return Counter(posixpath.dirname(path) for path in members).most_common(1)[0][0]


def _topics(graph: nx.Graph[str], communities: list[set[str]], depth: int = 0) -> list[set[str]]:
    """Communities split again (Louvain on each) until topic-sized: a whole area is not one topic."""
    topics: list[set[str]] = []
    for community in communities:
        if len(community) <= MAX_MEMBERS or depth >= 4:
            topics.append(community)
            continue
        parts = _louvain(graph, community)
        if len(parts) < 2:
            topics.append(community)
        else:
            topics.extend(_topics(graph, parts, depth + 1))
    return topics


def _louvain(graph: nx.Graph[str], nodes: Iterable[str]) -> list[set[str]]:
    """Louvain communities of the subgraph on ``nodes``, the same in every process.

    networkx's Louvain iterates over sets of nodes, and a set of strings is
    ordered by Python's per-process hash seed, so ``seed=0`` alone let two
    runs on one KB propose different hubs. On integer labels (the paths in
    sorted order) set order, and so the result, is fixed.
    """
    import networkx as nx

    names = sorted(nodes)
    number = {name: index for index, name in enumerate(names)}
    numbered: nx.Graph[int] = nx.Graph()
    numbered.add_nodes_from(range(len(names)))
    edges = ((number[a], number[b]) for a, b in graph.subgraph(names).edges())
    numbered.add_edges_from(sorted((min(a, b), max(a, b)) for a, b in edges))
    return [{names[i] for i in part} for part in nx.community.louvain_communities(numbered, seed=0)]


def _note_graph(kb: KB) -> nx.Graph[str]:
    import networkx as nx

    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from(kb.notes)
    for note, link, resolution in kb.links():
        if resolution.status == "note" and resolution.path and resolution.path != note.path and not link.in_frontmatter:
            graph.add_edge(note.path, resolution.path)
    return graph


def _has_hub(kb: KB, members: list[str]) -> bool:
    """Whether some note already gathers the cluster.

    A note outside the cluster that links to ``HUB_SHARE`` of the members is
    their hub (an index, a map of content). A member counts only if it links
    to nearly all the others and to more of them than any other member does:
    in a dense cluster every member links to most of the rest, and that
    makes none of them a hub.
    """
    wanted = set(members)
    reached: dict[str, set[str]] = defaultdict(set)
    for note, _, resolution in kb.links():
        if resolution.path in wanted and resolution.path != note.path:
            reached[note.path].add(resolution.path)
    inside = sorted((len(reached.get(m, ())), m) for m in members)
    for path, targets in reached.items():
        if path not in wanted:
            if len(targets) >= HUB_SHARE * len(members):
                return True
        elif len(targets) >= 0.9 * (len(members) - 1) and len(inside) > 1 and inside[-1][1] == path and inside[-2][0] < len(targets):
            return True
    return False


def _hub(
    kb: KB,
    graph: nx.Graph[str],
    members: list[str],
    title: str,
    write: HubWriter,
    planned: set[str],
    names: set[str],
    mentions: Mentions,
    reported: ReportedNames,
    wakes: Callable[[str], bool],
) -> Mutation | None:
    folder = _folder(members)
    indexes = _index_notes(kb)
    index = _nearest_index(indexes, folder)
    hub_path = free_path(kb, folder, slug(title, name_style(kb, folder), fallback="hub"), planned)
    linker = index if index is not None else _central(kb, graph, members)
    if mentions.clashes(title, hub_path, {linker}, names):
        return None  # other notes write the title: each would report an unlinked mention of the hub
    names.update(names_of(title, posixpath.basename(hub_path).removesuffix(".md")))
    # A hub is a live note: listing a superseded or dead member would be a stale-status finding.
    is_live = NoteParser(kb).is_live
    # A member whose name one more link would wake as an unlinked mention all over the KB stays out.
    listed = [p for p in members if is_live(kb.notes[p]) and not wakes(p)]
    member_folders = sorted({posixpath.dirname(p) for p in listed})
    cluster = Cluster(
        folder,
        title,
        tuple(Member(p, kb.notes[p].title, _summary(kb, kb.notes[p])) for p in listed),
        tuple((f, name) for f in member_folders if (name := _folder_name(kb, indexes, f))),
        _entry_separator(kb, index) if index is not None else ": ",
    )
    description = f"{title} — {len(listed)} closely linked notes, each with its own summary"
    text = note_text(_hub_frontmatter(kb, folder, title, description), title, write(cluster, hub_path))
    # A summary can name a note its member links, or one missing-link reports (a frontmatter description
    # is never scanned for mentions; the hub's list is): in the hub that name would read as an unlinked mention.
    around = {r.path for p in listed for r in kb.resolutions.get(p, ()) if r.status == "note" and r.path}
    style = kb_style(kb)
    hub_bytes = reported.link(kb, hub_path, link_known_mentions(kb, hub_path, text.encode("utf-8"), around - set(members), style), style)
    if index is not None:
        entry = f"- [{_escape(title)}]({link_path(hub_path, posixpath.dirname(index))})"
        edit = _index_entry(kb, index, set(members), entry, hub_path)
        linked_from = f"is linked from {index}"
    else:
        edit = _member_entry(kb, linker, title, hub_path)
        linked_from = (
            f"is linked from {linker}, the member most linked within the cluster (no index note "
            f"above {folder or 'the KB root'} to list it in)"
        )
    digest = hashlib.sha256("\n".join(members).encode()).hexdigest()[:16]
    return Mutation(
        "synthesise",
        "hub",
        "missing-hub",
        digest,
        (edit,),
        None,
        f"synthesise: hub {hub_path} for {len(members)} closely linked notes",
        f"{len(members)} notes ({', '.join(members[:5])}{', ...' if len(members) > 5 else ''}) link to one "
        f"another densely (a community of the link graph) but no note links to most of them. The hub "
        f"lists them with their own summaries and {linked_from}.",
        new_files=((hub_path, hub_bytes),),
    )


def _one_more_link_wakes(table: MentionTable | None) -> Callable[[str], bool]:
    """Whether one more note linking a given note makes ``missing-link`` report its name where it did not.

    The rule counts a name as a common word while it is written unlinked in
    more than twice the notes that link its note, and a one-word name in
    another case ("hindsight" for the note "Hindsight") as an ordinary word
    on the same bar. A hub's link is one more: a name just over the bar
    would become a mention in every note that writes it, "in hindsight"
    included. Decided with the rule's own table and counts, the note's
    inbound links raised by one.
    """
    if table is None:
        return lambda target: False
    unlinked: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for path, found in table.hits.items():
        own = table.linked.get(path, set())
        for key, how, _, _ in found:
            target = table.names.targets[key]
            if target != path and target not in own:
                unlinked[target].add((key, how))

    def wakes(target: str) -> bool:
        written = unlinked.get(target)
        if not written:
            return False
        raised = replace(table, inbound=table.inbound + Counter({target: 1}))
        return any(not table.counts(key, how) and raised.counts(key, how) for key, how in written)

    return wakes


def _central(kb: KB, graph: nx.Graph[str], members: list[str]) -> str:
    """The member most linked within the cluster (then across the KB, then by path): the topic's way in."""
    inside = graph.subgraph(members)
    return min(members, key=lambda m: (-inside.degree(m), -kb.graph.in_degree(m), m))


def _member_entry(kb: KB, member: str, title: str, hub_path: str) -> Edit:
    """A "See also" line at the end of ``member`` linking the hub, in the member's own link style."""
    data = kb.read_bytes(member)
    source = kb.source(member)
    encoding = source.encoding if source is not None else "utf-8"
    wikilinks, markdown = style_counts(kb.notes[member])
    if wikilinks > markdown:
        # free_path gave the hub a file name no other note has: the bare name reaches it.
        link = f"[[{posixpath.basename(hub_path).removesuffix('.md')}|{title}]]"
    else:
        link = f"[{_escape(title)}]({link_path(hub_path, posixpath.dirname(member))})"
    newline = "\r\n" if b"\r\n" in data else "\n"
    lead = "" if not data else newline if data.endswith(b"\n") else newline * 2
    line = f"{lead}See also {link}, a map of the notes on this topic.{newline}"
    return Edit(member, len(data), len(data), b"", line.encode(encoding), f"link the hub {hub_path}")


def _hub_frontmatter(kb: KB, folder: str, title: str, description: str) -> dict[str, Any]:
    """The folder's frontmatter conventions that hold KB-wide, with the hub's title and description.

    A folder of ADRs or reviews agrees on ``type: adr`` and ``status:
    accepted``; a hub in that folder is neither, so only what the whole KB
    agrees on (and the folder too) is carried over.
    """
    everywhere = sibling_frontmatter(kb, None, title, description)
    return {k: v for k, v in sibling_frontmatter(kb, folder, title, description).items() if everywhere.get(k) == v}


def _index_entry(kb: KB, index: str, members: set[str], entry: str, hub_path: str) -> Edit:
    """Insert ``entry`` into the index: after the last list item linking a member, else at the end.

    The hub then sits in the list where the index already points at its
    topic, not under whatever section happens to end the file.
    """
    data = kb.read_bytes(index)
    source = kb.source(index)
    reason = f"link the hub {hub_path}"
    newline = "\r\n" if b"\r\n" in data else "\n"
    if source is not None:
        resolver = kb.resolver
        after = [
            link.span.start
            for link in kb.notes[index].links
            if not link.in_frontmatter and resolver.resolve(index, link).path in members
        ]
        for start in sorted(after, reverse=True):
            line_start = data.rfind(b"\n", 0, start) + 1
            line_end = data.find(b"\n", start)
            line = data[line_start : line_end if line_end >= 0 else len(data)].decode(source.encoding, "replace")
            marker = re.match(r"[ \t]*[-*+][ \t]+", line)
            if marker is None or line_end < 0:
                continue
            indent = marker.group(0)[: len(marker.group(0)) - len(marker.group(0).lstrip(" \t"))]
            addition = f"{indent}{entry}{newline}".encode(source.encoding)
            return Edit(index, line_end + 1, line_end + 1, b"", addition, reason)
    tail = entry + newline if data.endswith(b"\n") or not data else newline + entry + newline
    return Edit(index, len(data), len(data), b"", tail.encode("utf-8"), reason)


def _folder_name(kb: KB, indexes: Mapping[str, str], folder: str) -> str:
    """A section heading for ``folder``: its index's title, or the nearest index's title and the way down."""
    current = folder
    while current not in indexes:
        if not current:
            return folder
        current = posixpath.dirname(current)
    title = kb.notes[indexes[current]].title
    return title if current == folder else f"{title} / {relative_path(folder, current)}"


def _index_notes(kb: KB) -> dict[str, str]:
    """Each folder's index note (README.md, index.md..., in ``INDEX_NAMES`` order of preference)."""
    found: dict[str, str] = {}
    named = {path: path.rsplit("/", 1)[-1].lower() for path in kb.notes}
    for path in sorted((p for p, n in named.items() if n in INDEX_NAMES), key=lambda p: (INDEX_NAMES.index(named[p]), p)):
        found.setdefault(posixpath.dirname(path), path)
    return found


def _nearest_index(indexes: Mapping[str, str], folder: str) -> str | None:
    """The index note of ``folder`` or of the closest folder above it."""
    current = folder
    while current not in indexes:
        if not current:
            return None
        current = posixpath.dirname(current)
    return indexes[current]


def _entry_separator(kb: KB, index: str) -> str:
    """How the index note writes an entry's description after its link (``" — "``, ``" - "`` or ``": "``)."""
    source = kb.source(index)
    counts: Counter[str] = Counter()
    for line in source.text.splitlines() if source else []:
        match = _ENTRY.match(line)
        if match:
            counts[match.group(1)] += 1
    return counts.most_common(1)[0][0] if counts else ": "


@dataclass(frozen=True)
class _TitleVocabulary:
    """The words of all the KB's titles: in how many titles each occurs, and which prefixes are labels.

    A prefix before a colon that many titles share ("Ingest: ...",
    "Review: ...") says what kind of note it is, not what it is about.
    """

    frequency: Counter[str]
    labels: frozenset[str]

    @classmethod
    def of(cls, kb: KB) -> _TitleVocabulary:
        prefixes = Counter(_label(note.title) for note in kb.notes.values())
        labels = frozenset(p for p, n in prefixes.items() if p and n >= LABEL_TITLES)
        vocabulary = cls(Counter(), labels)
        for note in kb.notes.values():
            vocabulary.frequency.update(vocabulary.words(note.title))
        return vocabulary

    def words(self, title: str) -> set[str]:
        """The topic words of ``title``: no stopwords, no short words, no label prefix."""
        if _label(title) in self.labels:
            title = title.split(":", 1)[1]
        return {w for w in (w.lower() for w in _WORD.findall(title)) if len(w) > 2 and w not in _STOPWORDS}


def _label(title: str) -> str:
    """The prefix of ``title`` before a colon, when it is one or two words (``""`` otherwise)."""
    head, colon, _ = title.partition(":")
    return head.strip().lower() if colon and 0 < len(head.split()) <= 2 else ""


def _title(kb: KB, members: list[str], vocabulary: _TitleVocabulary) -> str:
    """The words that set the members' titles apart, as a topic title.

    A word counts by how many member titles use it, weighted by how rare it
    is among all the KB's titles (label prefixes such as "Ingest:" left
    out). Up to three words that a fifth of the titles (at least two)
    share, each at least half as telling as the best.
    """
    counts: Counter[str] = Counter()
    for path in members:
        counts.update(vocabulary.words(kb.notes[path].title))
    total = max(1, len(kb.notes))

    def weight(word: str) -> float:
        return counts[word] * math.log(total / max(1, vocabulary.frequency[word]))

    ranked = sorted(counts, key=lambda w: (-weight(w), w))
    # A word two titles of thirty share is chance, not the cluster's topic.
    shared = [w for w in ranked if counts[w] >= max(2, math.ceil(0.2 * len(members))) and weight(w) > 0]
    top = [w for w in shared if weight(w) >= weight(shared[0]) / 2][:3] if shared else ranked[:2]
    if not top:
        return "Hub"
    topic = top[0] if len(top) == 1 else ", ".join(top[:-1]) + " and " + top[-1]
    return f"Notes on {topic}"


def _summary(kb: KB, note: Note) -> str:
    """A member's description from its frontmatter, else the first real sentence of its prose.

    Links are reduced to their text (their targets are relative to another
    note); table rows and sentences under five words (a date line, a
    caption) are passed over. An entry (title and summary) stays shorter
    than a passage duplicate-claim compares, so a hub listing what an index
    or the member already says is not reported as a copy of it.
    """
    # Counted as duplicate-claim counts them: "self-improving" is two words there.
    limit = kb.config.passage_min_words - 1 - len(passage_words(note.title))
    if limit < 5:
        return ""
    for key in DESCRIPTION_KEYS:
        value = note.frontmatter.get(key)
        if isinstance(value, str) and value.strip():
            return _shortened(plain_text(value).split(), limit)
    source = kb.source(note.path)
    if source is None:
        return ""
    headings = {(h.span.start, h.span.end) for h in note.headings}
    for start, end in note.prose_ranges:
        if any(a <= start < b for a, b in headings):
            continue
        text = " ".join(source.text[source.char_offset(start) : source.char_offset(end)].split())
        while text and not text.startswith("|"):
            sentence = first_sentence(text)
            words = plain_text(sentence).rstrip(":").split()
            if len(words) >= 5:
                return _shortened(words, limit)
            text = text[len(sentence) :].strip()
    return ""


def _shortened(words: list[str], limit: int) -> str:
    """``words`` joined, cut with " ..." to at most ``limit`` words as :func:`passage_words` counts them."""
    counts = [len(passage_words(word)) for word in words]
    if sum(counts) <= limit:
        return " ".join(words)
    kept: list[str] = []
    total = 0
    for word, count in zip(words, counts):
        if total + count > limit - 1:
            break
        kept.append(word)
        total += count
    return " ".join(kept) + " ..."


def verify_hub(kb: KB, mutation: Mutation, before: Mapping[str, bytes]) -> str | None:
    """``None`` when the hub holds: it links at least two members, breaks nothing, and is linked from its index."""
    ((hub_path, hub_bytes),) = mutation.new_files
    if hub_path in kb.notes or (kb.root / hub_path).exists():
        return f"{hub_path} already exists"
    edited = edited_notes(kb, mutation, before)
    resolved = edited.resolve(edited.new[hub_path])
    if any(r.status in BAD or r.anchor_ok is False for r in resolved):
        return "the hub would have a broken link"
    config = kb.config
    if parse_note(hub_path, hub_bytes, config.dialect, config.parse_timeout, config.passage_min_words).passages:
        # A map lists and summarises: a passage as long as a claim repeats what it summarises (duplicate-claim).
        return f"the hub would hold a passage of {config.passage_min_words} words or more"
    if len({r.path for r in resolved if r.status == "note"}) < 2:
        return "the hub would link fewer than two members"
    for path, note in edited.after.items():
        if not any(r.path == hub_path for r in edited.resolve(note)):
            return f"{path} would not link to the hub"
        if edited.more_broken(path):
            return f"{path} would have more broken links than before"
    return None
