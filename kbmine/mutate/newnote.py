"""A note kbmine creates (an extracted claim, a hub): where it goes and what it starts with.

Both extract and synthesise write notes nobody has written yet; they must
look like the KB's own. The file name follows the folder's naming style
(separator and case of its siblings' names) and never takes a name already
used, whatever the case; the frontmatter carries the keys and values the
siblings agree on. The text is written here once, so both mutations emit
the same frontmatter block.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from kbmine.checks.missing_link import MentionMatcher, MentionTable, link_text
from kbmine.model import Edit
from kbmine.mutate.edits import apply_edits
from kbmine.mutate.prose import DANGLING
from kbmine.parse import parse_note
from kbmine.parse.text import decode_note

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["NameStyle", "ReportedNames", "free_path", "name_style", "note_text", "sibling_frontmatter", "slug"]

#: A frontmatter key is a convention when this share of the siblings carry it (and its value).
CONVENTION_SHARE = 0.6
#: Frontmatter keys that hold a one-line summary of the note.
DESCRIPTION_KEYS = ("description", "summary", "abstract")
_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class NameStyle:
    """How a folder names its notes: the word separator, whether names are lowercased, how long they get."""

    separator: str = "-"
    lower: bool = True
    max_length: int = 60


def name_style(kb: KB, folder: str) -> NameStyle:
    """The naming style most notes of ``folder`` share (kebab-case lowercase when they agree on nothing).

    Index names (README, index...) say nothing about how the folder names
    its notes, and single-word names do not show a separator.
    """
    stems = [
        path.rsplit("/", 1)[-1].removesuffix(".md")
        for path in kb.notes
        if posixpath.dirname(path) == folder and path.rsplit("/", 1)[-1].lower() not in ("readme.md", "index.md")
    ]
    if len(stems) < 3:
        stems = [path.rsplit("/", 1)[-1].removesuffix(".md") for path in kb.notes]
    separators: Counter[str] = Counter()
    for stem in stems:
        for separator in ("-", "_", " "):
            if separator in stem:
                separators[separator] += 1
    separator = separators.most_common(1)[0][0] if separators else "-"
    cased = sum(1 for stem in stems if stem != stem.lower())
    longest = sorted(len(stem) for stem in stems)
    # Names as long as the folder's longer names (its 90th percentile), within sane bounds.
    typical = longest[int(0.9 * (len(longest) - 1))] if longest else 60
    return NameStyle(separator, cased * 2 < len(stems), max(60, min(80, typical)))


def slug(title: str, style: NameStyle = NameStyle(), fallback: str = "note") -> str:
    """A file name (without ``.md``) for ``title`` in ``style``: ASCII, words joined, cut at a word boundary."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    words = [w for w in _NOT_NAME.split(ascii_title.replace("'", "")) if w]
    if style.lower:
        words = [w.lower() for w in words]
    kept: list[str] = []
    for word in words:
        if len(style.separator.join([*kept, word])) > style.max_length:
            # Cut short: end on a word that carries meaning, not on "of" or "the".
            while len(kept) > 1 and kept[-1].lower() in DANGLING:
                kept.pop()
            break
        kept.append(word)
    return style.separator.join(kept) or (words[0][: style.max_length] if words else fallback)


def free_path(kb: KB, folder: str, name: str, planned: Collection[str] = ()) -> str:
    """``folder/name.md``, numbered (``name-2.md``...) past every name taken anywhere, compared without case.

    The file name must be free in the whole KB, not only in ``folder``: a
    wikilink names a note by its file name alone, and two notes of one name
    make ``[[name]]`` ambiguous.
    """
    taken = {p.rsplit("/", 1)[-1].casefold() for p in (*kb.notes, *kb.resolver.files, *planned)}
    candidate = f"{name}.md"
    index = 2
    while candidate.casefold() in taken:
        candidate = f"{name}-{index}.md"
        index += 1
    return posixpath.join(folder, candidate)


def sibling_frontmatter(kb: KB, folder: str | None, title: str, description: str = "") -> dict[str, Any]:
    """The frontmatter a new note in ``folder`` should carry, learned from its siblings.

    A key most siblings carry is kept: ``title`` gets the new title, date
    keys today's date, a description key ``description`` (when given), and
    any other key the value most siblings share (only when most of them
    agree; a key whose values differ is left out rather than invented).
    With ``folder`` ``None`` the siblings are all the KB's notes.
    """
    siblings = [note for path, note in kb.notes.items() if folder is None or posixpath.dirname(path) == folder]
    if len(siblings) < 3:
        siblings = list(kb.notes.values())
    with_front = [note for note in siblings if note.has_frontmatter]
    if not siblings or len(with_front) < CONVENTION_SHARE * len(siblings):
        return {}
    order: Counter[str] = Counter()
    carried: Counter[str] = Counter()
    for note in with_front:
        for position, key in enumerate(note.frontmatter):
            carried[key] += 1
            order[key] += position
    fields: dict[str, Any] = {}
    today = datetime.date.today()
    for key in sorted(carried, key=lambda k: order[k] / carried[k]):
        if carried[key] < CONVENTION_SHARE * len(with_front):
            continue
        values = [note.frontmatter[key] for note in with_front if key in note.frontmatter]
        if key.lower() == "title":
            fields[key] = title
        elif key.lower() in DESCRIPTION_KEYS and description and all(isinstance(v, str) for v in values):
            fields[key] = description
        elif all(isinstance(v, (datetime.date, datetime.datetime)) for v in values):
            fields[key] = today
        else:
            common, count = Counter(repr(v) for v in values).most_common(1)[0]
            value = next(v for v in values if repr(v) == common)
            if count >= CONVENTION_SHARE * len(values) and isinstance(value, (str, int, float, bool, list)):
                fields[key] = value
    return fields


def note_text(fields: Mapping[str, Any], title: str, body: str) -> str:
    """A new note: the frontmatter block (when there are fields), the title as H1, then ``body``."""
    front = ""
    if fields:
        front = "---\n" + yaml.safe_dump(
            dict(fields), allow_unicode=True, default_flow_style=False, sort_keys=False, width=1_000_000
        ) + "---\n"
    return f"{front}# {title}\n\n{body.rstrip()}\n"



@dataclass(frozen=True)
class ReportedNames:
    """``missing-link``'s view of the KB a run starts from: which names it reports as mentions.

    Whether a name counts as a mention rather than a common word is decided
    from KB-wide counts (how many notes write it unlinked, how many link its
    note), the same for every note: a name the rule reports in one note it
    reports in a new note that writes it. Built once per run (one scan of
    the KB's prose, the rule's own table), it links those names in the text
    kbmine writes, so a new note brings no finding of its own.
    """

    table: MentionTable | None
    matcher: MentionMatcher | None
    #: Notes a new (live) note may link: a link to a dead one would be a stale-status finding.
    live: frozenset[str]

    @classmethod
    def of(cls, kb: KB) -> ReportedNames:
        from kbmine.mutate.verify import NoteParser

        table = MentionTable.build(kb, kb.config.rule_options("missing-link"))
        is_live = NoteParser(kb).is_live
        live = frozenset(path for path, note in kb.notes.items() if is_live(note))
        return cls(table, table.names.matcher() if table is not None else None, live)

    def link(self, kb: KB, path: str, data: bytes, style: tuple[int, int]) -> bytes:
        """``data`` (a new note at ``path``) with the first mention of each name the rule reports linked."""
        table, matcher = self.table, self.matcher
        if table is None or matcher is None:
            return data
        note = parse_note(path, data, kb.config.dialect, kb.config.parse_timeout, min_passage_words=sys.maxsize)
        source = decode_note(data)
        # Resolved without their anchors: the resolver reads the target's headings, and a new note has none there.
        linked = {kb.resolver.resolve(path, link._replace(anchor=None)).path for link in note.links if link.kind != "definition"}
        edits = []
        for key, how, span, mention in matcher.mentions(note, source):
            target = table.names.targets[key]
            if span is None or target == path or target in linked or target not in self.live:
                continue
            if not table.counts(key, how):
                continue
            linked.add(target)
            replacement = link_text(kb, note, mention, kb.notes[target], style)
            edits.append(Edit(path, span.start, span.end, mention.encode(), replacement.encode(), f"link {target}"))
        return apply_edits(data, edits)
