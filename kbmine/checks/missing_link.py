"""KB201 missing-link: a note mentions another note by name without linking it."""

from __future__ import annotations

import hashlib
import posixpath
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kbmine.checks import rule
from kbmine.files import glob_matcher
from kbmine.model import Edit, Finding, Note, Span, spellable

if TYPE_CHECKING:
    from kbmine.kb import KB
    from kbmine.parse.text import SourceText

#: Titles too generic to be a mention of one particular note.
GENERIC_NAMES = frozenset(
    """readme index home todo todos notes note overview introduction intro summary about faq
    glossary changelog log inbox archive archives template templates draft drafts untitled
    references reference sources source misc ideas tasks projects people meetings journal daily
    welcome start contents table of contents related notes see also license contributing""".split()
)
#: Frontmatter keys and tags that mark a note as a verbatim capture (commonplace's
#: ``captured:``, web clippers' ``clipped:`` and ``clippings`` tag): never scanned for mentions.
CAPTURE_KEYS = ("captured", "capture", "clipped")
CAPTURE_TAGS = frozenset({"clippings", "clipping"})
_SEPARATORS = re.compile(r"[-_.\s]+")
_SPACES = re.compile(r"\s+")
#: ``-``, ``_`` or ``.`` joining two word characters ("auto-link", "a.b.c", "snake_case").
_JOINERS = re.compile(r"[-_.](?<=\w[-_.])(?=\w)")
_LETTER = re.compile(r"[^\W\d_]")
#: How a mention is written (see :func:`_mentions`).
_WRITTEN, _SENTENCE_START, _ORDINARY, _FOREIGN = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class _Name:
    text: str
    target: str
    source: str  # title, stem, alias, label, plural


def normalize_name(name: str, *, separators: bool = False) -> str:
    """Lowercase, single-spaced; with ``separators`` also read ``-``, ``_`` and ``.`` as spaces."""
    name = name.strip().lower()
    name = _SEPARATORS.sub(" ", name) if separators else _SPACES.sub(" ", name)
    return name.strip()


def fold_name(name: str) -> str:
    """A name as the automaton stores it: the same folding as :func:`_lowered` applies to prose.

    Joiners between word characters read as spaces, so the mention
    ``schema-and-lint`` (a wikilink's visible text once unlinked) and the title
    "Schema and lint" meet on one key.
    """
    return _JOINERS.sub(" ", normalize_name(name))


def _plurals(name: str) -> list[str]:
    last = name.rsplit(" ", 1)[-1]
    if len(last) < 3 or not last.isalpha():
        return []
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return [name + "es"] if not last.endswith("s") else []
    if last.endswith("y") and last[-2] not in "aeiou":
        return [name[:-1] + "ies"]
    return [name + "s"]


def _lowered(text: str) -> str:
    """``text`` lowercased with line breaks and tabs as spaces, character for character (same length)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(low if len(low := char.lower()) == 1 else char for char in text)
    # Chained replace, not str.translate: translate with a table is many times slower.
    lowered = lowered.replace("\n", " ").replace("\t", " ").replace("\r", " ").replace("\u00a0", " ")
    return _JOINERS.sub(" ", lowered)


def _joined(text: str, index: int, step: int) -> bool:
    """Whether the character at ``index`` continues the word across a joiner (``test-driven``).

    A mention must not be the tail or head of a longer hyphenated or dotted
    token, nor a piece of a path (``notes/x.md``: a file listing, a log line
    or a command, where a link is not what the writer meant).
    """
    if not 0 <= index < len(text):
        return False
    if text[index] == "/":
        return True
    if text[index] not in "-_.":
        return False
    beyond = index + step
    return 0 <= beyond < len(text) and text[beyond].isalnum()


def _in_brackets(text: str, start: int, end: int) -> bool:
    """Whether ``start:end`` sits inside ``[...]`` on its line: link syntax or a placeholder, not prose."""
    line_start = text.rfind("\n", 0, start) + 1
    opening = text.rfind("[", line_start, start)
    if opening < 0 or text.rfind("]", opening, start) >= 0:
        return False
    line_end = text.find("\n", end)
    closing = text.find("]", end, line_end if line_end >= 0 else len(text))
    return closing >= 0 and text.find("[", end, closing) < 0


def _is_word_char(char: str) -> bool:
    return char.isalnum()


@rule(
    "KB201",
    "missing-link",
    "warning",
    "a note mentions another note's title, file name or alias without linking it",
    options=("min_length", "max_share", "min_common", "learn_labels", "plurals", "exclude", "exclude_targets"),
)
def missing_link(kb: KB, options: dict[str, Any]) -> Iterator[Finding]:
    """An unlinked mention: the note names another note but does not link to it.

    A mention is a whole phrase in prose (case-insensitive, word boundaries
    respected) equal to another note's title, file name (``-``, ``_`` and ``.``
    read as spaces), alias, or, with ``learn_labels``, the link text other notes
    already use for it. Code, link text, headings, frontmatter and the note's
    own names never count. Names shorter than ``min_length`` (4), generic
    titles (README, index, summary...) and names found in more than
    ``max_share`` of the notes (2%, at least ``min_common`` notes) are treated as
    common words, unless at least half as many notes link to the named note
    as mention its name unlinked (then it is a concept people do link, as a
    "decision log" is); the longest match wins; plurals of the last word count.
    A one-word name is too easily an ordinary word: it counts as written in
    its note's title or alias ("Voyager", "LIDA"), or in another case
    ("wikilinks" for the note "Wikilinks" or the file ``wikilinks.md``) only
    when at least half as many notes link to the note as write the word
    unlinked in that other case; a title in capitals or mixed case
    ("CORAL", "SkillWeaver") written otherwise is another word.
    One finding per (note, target), at the first mention, with the edit that
    links it in the note's own style. Notes whose frontmatter says
    ``kbmine: {mention: false}`` are never suggested; notes whose frontmatter
    records a capture (``captured``, ``capture``, ``clipped``, or a
    ``clippings`` tag) are verbatim outside texts and are not scanned.

    Fail: ``... as Reflection buys addressability argues ...`` with no link to
    ``notes/reflection-buys-addressability.md``.
    Pass: ``... as [Reflection buys addressability](notes/reflection-buys-addressability.md) argues ...``.
    Fix: replace the first mention by the suggested link.
    """
    min_length = int(options.get("min_length", 4))
    max_share = float(options.get("max_share", 0.02))
    min_common = int(options.get("min_common", 10))
    learn = bool(options.get("learn_labels", True))
    plurals = bool(options.get("plurals", True))
    skip_notes = glob_matcher(tuple(options.get("exclude", ())))
    skip_targets = glob_matcher(tuple(options.get("exclude_targets", ())))

    names, exact, learned = _collect_names(kb, min_length, learn, skip_targets)
    learned |= {plural for label in learned for plural in _plurals(label)}
    if plurals:
        names = _with_plurals(names)
    if not names:
        return
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for index, key in enumerate(names):
        automaton.add_word(key, index)
    automaton.make_automaton()
    keys = list(names)

    linked = _linked_targets(kb)
    paths = [path for path in kb.notes if skip_notes is None or not skip_notes.match(path)]
    hits = _all_mentions(kb, paths, automaton, keys, exact)
    document_frequency: Counter[str] = Counter()
    #: Notes that write a one-word name in another spelling than its title's, unlinked.
    ordinary: Counter[str] = Counter()
    for path, found in hits.items():
        own_links = linked.get(path, set())
        unlinked = {(key, how) for key, how, _, _ in found if names[key] not in own_links and names[key] != path}
        document_frequency.update({key for key, _ in unlinked})
        ordinary.update({key for key, how in unlinked if how >= _ORDINARY})
    common = max(min_common, int(max_share * len(kb.notes)))
    inbound: Counter[str] = Counter(target for targets in linked.values() for target in targets)
    kb_style = _kb_style(kb)

    for path, found in hits.items():
        note = kb.notes[path]
        if _captured(note):
            continue  # scanned all the same: its words still say which names are common
        reported: set[str] = set()
        for key, how, span, mention in found:
            target = names[key]
            limit = common if key in learned else max(common, 2 * inbound[target])
            if how == _FOREIGN or how != _WRITTEN and ordinary[key] > 2 * inbound[target]:
                continue  # the word in its other spellings is mostly not a link: an ordinary word
            if document_frequency[key] > limit:
                continue
            if target == path or target in reported or target in linked.get(path, ()):
                continue
            reported.add(target)
            assert span is not None
            yield _finding(kb, note, span, mention, target, kb_style)


def _captured(note: Note) -> bool:
    """Whether the note is a captured copy of an outside text (its frontmatter records the capture).

    A paper or web page kept verbatim names other notes' subjects in its own
    words ("Voyager: an open-ended embodied agent..." in its references), and
    adding links to it would edit someone else's text.
    """
    frontmatter = note.frontmatter
    if any(key in frontmatter for key in CAPTURE_KEYS):
        return True
    tags = frontmatter.get("tags")
    return isinstance(tags, list) and any(str(tag).lower() in CAPTURE_TAGS for tag in tags)


def _collect_names(
    kb: KB, min_length: int, learn: bool, skip_targets: Any
) -> tuple[dict[str, str], dict[str, set[str]], set[str]]:
    """Every usable name (normalised) → the one note it names; shared names are dropped.

    The third result holds the names learned from other notes' link text:
    weaker evidence than a note's own title, so they never get the
    linked-concept exemption from the common-word filter.

    Single-word names are too easily ordinary words ("original", "memory"):
    the second result maps each single-word key to its forms as written in a
    title or alias ("Voyager", "Python"; none for a file name alone), and
    other spellings need the KB's evidence (see :func:`missing_link`).
    """
    owners: dict[str, set[str]] = defaultdict(set)
    learned: set[str] = set()
    written: dict[str, set[str]] = defaultdict(set)
    for path, note in kb.notes.items():
        if skip_targets is not None and skip_targets.match(path):
            continue
        settings = note.frontmatter.get("kbmine")
        if isinstance(settings, dict) and settings.get("mention") is False:
            continue
        if any(p.rule == "unreadable-note" for p in note.problems):
            continue
        if not spellable(path):
            continue  # a file name that is not UTF-8 cannot be written into a link in the note's text
        candidates = {fold_name(note.title), normalize_name(note.stem, separators=True)}
        candidates.update(fold_name(alias) for alias in note.aliases)
        for candidate in candidates:
            owners[candidate].add(path)
        for form in (note.title, *note.aliases):
            form = form.strip()
            if form and " " not in form:
                written[form.lower()].add(form)
    if learn:
        # Link text other notes already use for a note, when at least two notes agree.
        labels: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for note, link, resolution in kb.links():
            if resolution.status != "note" or resolution.path is None or not link.label or link.in_frontmatter:
                continue
            if resolution.path == note.path:
                continue
            written_label = re.sub(r"[`*]", "", link.label).strip("_ ")
            label = fold_name(written_label)
            if " " in written_label and len(label) >= 8 and "[" not in label and "/" not in label:
                labels[label][resolution.path].add(note.path)
        for label, targets in labels.items():
            if label not in owners and len(targets) == 1:
                target, sources = next(iter(targets.items()))
                if len(sources) >= 2:
                    owners[label] = {target}
                    learned.add(label)
    names: dict[str, str] = {}
    exact: dict[str, set[str]] = {}
    for name, paths in owners.items():
        if len(paths) != 1 or len(name) < min_length or name in GENERIC_NAMES or not _LETTER.search(name):
            continue
        if len(name.rsplit(" ", 1)[-1]) == 1:
            continue  # "grounding a", "reach b": numbered variants, not a name people write
        if " " not in name:
            exact[name] = written.get(name, set())
        names[name] = next(iter(paths))
    return names, exact, learned & set(names)


def _with_plurals(names: dict[str, str]) -> dict[str, str]:
    """Names plus the plural of their last word; one-word names excepted ("texts" is not the note "Text")."""
    extended = dict(names)
    for name, target in names.items():
        if " " not in name:
            continue
        for plural in _plurals(name):
            if plural not in names:
                extended.setdefault(plural, target)
    return extended


def _linked_targets(kb: KB) -> dict[str, set[str]]:
    """The notes each note visibly links to.

    A reference definition is not a visible link: Foam appends one per
    wikilink, and once the wikilink is gone the orphaned definition renders
    nothing, so it must not hide the unlinked mention.
    """
    linked: dict[str, set[str]] = defaultdict(set)
    for note, link, resolution in kb.links():
        if resolution.path is not None and link.kind != "definition":
            linked[note.path].add(resolution.path)
    return linked


#: Bumped whenever :func:`_mentions` changes what it returns, so cached scans are not reused.
_SCAN_VERSION = 2
#: One mention: its key, how it is written, and (unless ``_ORDINARY``) its span and text.
Mention = tuple[str, int, Span | None, str]


def _all_mentions(
    kb: KB, paths: list[str], automaton: Any, keys: list[str], exact: dict[str, set[str]]
) -> dict[str, list[Mention]]:
    """The mentions in every note of ``paths``, in order; unchanged notes' from the cache.

    A note's mentions depend on its bytes and on the names searched for
    (with their required spellings), so they are cached under the content hash
    and a digest of the names: after a one-note edit only that note is
    scanned. Renaming or retitling a note changes the names, and every note
    is scanned again.
    """
    names = sorted((key, sorted(exact.get(key, ()))) for key in keys)
    digest = hashlib.sha256(repr((_SCAN_VERSION, names)).encode()).hexdigest()[:32]
    hashes = {path: kb.notes[path].content_hash for path in paths}
    cache = kb.cache
    stored: dict[str, Any] = cache.get_derived("mentions", digest, set(hashes.values())) if cache is not None else {}
    todo = [path for path in paths if hashes[path] not in stored or not isinstance(stored[hashes[path]], list)]
    size = sum(kb.notes[path].size for path in todo)
    from kbmine.parallel import fork_map

    scanned = dict(fork_map(_scan, todo, (kb, automaton, keys, exact), size=size, jobs=kb.jobs))
    if cache is not None:
        fresh = [(hashes[path], scanned[path]) for path in todo if hashes[path]]
        cache.put_derived("mentions", digest, fresh, keep=hashes.values())
    return {path: scanned[path] if path in scanned else stored[hashes[path]] for path in paths}


def _scan(paths: Sequence[str]) -> list[tuple[str, list[Mention]]]:
    """The mentions in each of ``paths`` (run in a forked worker on big KBs; see :mod:`kbmine.parallel`)."""
    from kbmine.parallel import shared

    kb, automaton, keys, exact = shared()
    found: list[tuple[str, list[Mention]]] = []
    for path in paths:
        source = kb.source(path)
        found.append((path, _mentions(kb.notes[path], source, automaton, keys, exact) if source is not None else []))
    return found


def _mentions(
    note: Note, source: SourceText, automaton: Any, keys: list[str], exact: dict[str, set[str]]
) -> list[Mention]:
    """Non-overlapping whole-word mentions in prose, longest first, in text order.

    The second field says how the mention is written: ``_WRITTEN`` as the name
    requires; ``_SENTENCE_START`` a one-word name as written but where any
    word is capitalised ("Synapptic" is a name, "Memory" may be the word);
    ``_ORDINARY`` a one-word name in another case ("wikilinks" for
    "Wikilinks"); ``_FOREIGN`` another spelling of a name in capitals or mixed
    case. The last three are mentions only on the KB's evidence that the word
    is used as a name (see :func:`missing_link`).
    """
    flat = source.char_offsets([offset for pair in note.mention_ranges for offset in pair])
    allowed = list(zip(flat[::2], flat[1::2]))
    if not allowed:
        return []
    text = source.normalized
    lowered = _lowered(text)
    starts = [a for a, _ in allowed]
    candidates: list[tuple[int, int, str, int]] = []
    # One pass over the whole text: pyahocorasick copies the string on every
    # iter() call, so a call per prose range would be quadratic in note size.
    first, last = allowed[0][0], max(end for _, end in allowed)
    for end_index, index in automaton.iter(lowered):
        key = keys[index]
        end = end_index + 1
        start = end - len(key)
        if start < first or end > last:
            continue
        if start > 0 and _is_word_char(lowered[start - 1]):
            continue
        if end < len(lowered) and _is_word_char(lowered[end]):
            continue
        slot = bisect_right(starts, start) - 1
        if slot < 0 or end > allowed[slot][1]:
            continue
        if _joined(text, start - 1, -1) or _joined(text, end, 1):
            continue  # a piece of a path or of a longer token, not a word of prose (either spelling)
        if _in_brackets(text, start, end) or text[start - 1 : start] == "\\":
            continue  # link syntax or a placeholder; a TeX command (\sigma)
        forms = exact.get(key)
        how = _WRITTEN
        if forms is not None:
            written = text[start:end]
            if written not in forms:
                # "text" for the note "Text"; never a mention unless the KB links the word
                # more than it writes it unlinked (see missing_link), and only in a case a
                # writer varies: "CORAL" or "SkillWeaver" written otherwise is another word.
                plain = all(form[1:] == form[1:].lower() for form in forms) and written[1:] == written[1:].lower()
                how = _ORDINARY if plain else _FOREIGN
            elif written[1:] == written[1:].lower() and _sentence_start(text, start):
                how = _SENTENCE_START  # "Memory" opening a sentence; "LIDA" is spelled so anywhere
        candidates.append((start, end, key, how))
    candidates.sort(key=lambda hit: (hit[0], -(hit[1] - hit[0]), hit[3]))
    chosen: list[Mention] = []
    cursor = -1
    for start, end, key, how in candidates:
        if start >= cursor:
            chosen.append((key, how, source.span(start, end), source.text[start:end]))
            cursor = end
    return chosen


def _sentence_start(text: str, start: int) -> bool:
    """Whether ``start`` begins a sentence or block, where any word is capitalised."""
    before = text[max(0, start - 80) : start].rstrip(" \t*_>\"'(")
    return not before or before[-1] in ".!?:\n-+|#" or before.endswith("\n")


def _finding(kb: KB, note: Note, span: Span, mention: str, target: str, kb_style: tuple[int, int]) -> Finding:
    target_note = kb.notes[target]
    replacement = _link_text(kb, note, mention, target_note, kb_style)
    edit = Edit(
        path=note.path,
        start=span.start,
        end=span.end,
        old=mention.encode(note.encoding),
        new=replacement.encode(note.encoding),
        reason=f"link the first mention of {target}",
    )
    message = (
        f"mentions {mention!r} ({target}) without linking it; readers and the graph miss the "
        f"relation: replace the first mention with {replacement}"
    )
    finding = Finding(
        "KB201",
        "missing-link",
        "warning",
        note.path,
        span,
        message,
        {"target": target, "mention": mention, "suggestion": replacement, "title": target_note.title},
        edits=(edit,),
    )
    return finding.with_fingerprint(target, fold_name(mention))


def style_counts(note: Note) -> tuple[int, int]:
    """A note's body wikilinks and internal markdown links: which style a link added to it should take."""
    wikilinks = sum(1 for link in note.links if link.kind == "wikilink" and not link.in_frontmatter)
    markdown = sum(1 for link in note.links if link.kind in ("markdown", "reference") and not link.external)
    return wikilinks, markdown


def _kb_style(kb: KB) -> tuple[int, int]:
    """Wikilinks and markdown links over the whole KB (for notes with no links of their own)."""
    counts = [style_counts(note) for note in kb.notes.values()]
    return sum(w for w, _ in counts), sum(m for _, m in counts)


def _link_text(kb: KB, note: Note, mention: str, target: Note, kb_style: tuple[int, int]) -> str:
    """The link that replaces ``mention``, in the note's own style (wikilink or relative markdown)."""
    wikilinks, markdown = style_counts(note)
    if wikilinks == markdown == 0:
        wikilinks, markdown = kb_style
    if wikilinks > markdown:
        name = kb.resolver.wikilink_name(target.path)
        return f"[[{name}]]" if mention == name else f"[[{name}|{mention}]]"
    relative = posixpath.relpath(target.path, posixpath.dirname(note.path) or ".")
    return f"[{mention}]({quote(relative, safe='/-_.~()')})"
