"""Spec-level mutation testing: does the KB's checker suite notice small structural damage?

Accepted specs and the built-in rules together are the KB's checker suite.
To learn what it would miss, ``kbmine specs test`` copies the KB to a
temporary folder and injects mutants there (never in the KB itself): a
dropped key every note of a folder carries, a value outside a key's
vocabulary, a value of the wrong type, a deleted index entry, a broken
link, a note renamed without relinking, a dropped section heading, a file
named against its folder's pattern. A mutant is *killed* when the checks
report something new where it struck; a mutant kind nothing kills is a gap
in the checker suite.

The mutation sites are chosen from what the KB itself does (the keys most
notes of a folder carry, the vocabularies and types mining would find), not
from the accepted specs, so the score says how much of the KB's visible
structure is guarded rather than how well the specs guard themselves.

Running every check once per mutant would be slow, so mutants run in
batches: each mutant has a *footprint* (the notes it changes and the notes
whose findings it may change: those linking to it, or the note a dropped
link pointed at), mutants in one batch have disjoint footprints, and a new
finding is credited to the mutant whose footprint holds its note. The copy
keeps the notes' order by modification time (ties made distinct), so rules
that order notes by age (duplicate-claim) see the same order before and after
a mutant renames a note.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kbmine.errors import ConfigError
from kbmine.model import Edit, Finding, Note, path_stem

if TYPE_CHECKING:
    from kbmine.kb import KB
    from kbmine.mine.kinds import Params
    from kbmine.parse.text import SourceText

__all__ = [
    "MUTANT_KINDS",
    "NEW_NAME_WORDS",
    "KindSummary",
    "Mutant",
    "MutationReport",
    "Outcome",
    "names_file",
    "pack_batches",
    "plan_mutants",
    "run_mutation_test",
]

#: What each mutant kind does, in the order reports list them.
MUTANT_KINDS: dict[str, str] = {
    "drop-key": "drop a frontmatter key most notes of the folder carry",
    "bad-enum": "put a value outside a key's vocabulary (a typo of a used value)",
    "bad-type": "change a value's type or format (date, URL, list, number, slug, boolean)",
    "drop-index-entry": "delete an index note's link to a note of its folder",
    "break-link": "point a link at a note that does not exist (a typo in its target)",
    "rename-note": "rename a linked note without relinking",
    "drop-section": "remove a section heading most notes of the folder have",
    "misname-file": "rename an unlinked note against its folder's file name pattern",
}
#: Words for fresh note names; none is a word a KB is likely to use as a name already.
NEW_NAME_WORDS = (
    "amber", "basalt", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
    "krypton", "lagoon", "meadow", "nimbus", "onyx", "prism", "quartz", "russet", "saffron", "tundra",
    "umber", "vellum", "willow", "xenon", "yarrow", "zephyr",
)
#: A key carried by this share of a folder's notes counts as one the folder requires.
CONVENTION_SHARE = 0.6
#: Fewest notes a folder needs before its habits count as conventions.
MIN_FOLDER = 5
_KEY_LINE = re.compile(r"""(['"]?)([^\s#:'"-][^:\n]*?)\1[ \t]*:(?:[ \t]|$)""")
_LIST_ITEM = re.compile(rb"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


@dataclass(frozen=True)
class Mutant:
    """One injected defect: the edits and renames that make it, and where a check must notice it.

    ``path`` and ``line`` say where it struck (after a rename, the new path);
    ``footprint`` holds every note, as named after the mutation, where a new
    finding is credited to it.
    """

    id: str
    kind: str
    path: str
    line: int
    description: str
    edits: tuple[Edit, ...]
    renames: tuple[tuple[str, str], ...] = ()
    footprint: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    """A mutant and the rules (``spec/<id>`` for accepted specs) that reported something new in its footprint."""

    mutant: Mutant
    killers: tuple[str, ...]
    first: str = ""

    @property
    def killed(self) -> bool:
        return bool(self.killers)


@dataclass(frozen=True)
class KindSummary:
    """One row of the report: a mutant kind, how many were injected and killed, by which checks."""

    kind: str
    mutants: int
    killed: int
    killers: tuple[tuple[str, int], ...]
    candidates: int

    @property
    def survived(self) -> int:
        return self.mutants - self.killed


@dataclass(frozen=True)
class MutationReport:
    """The whole run: every mutant's outcome and what it took."""

    outcomes: tuple[Outcome, ...]
    candidates: dict[str, int]
    specs: int
    baseline: int
    batches: int
    unattributed: int
    seconds: float
    kinds: tuple[str, ...] = field(default=tuple(MUTANT_KINDS))

    @property
    def score(self) -> float | None:
        return sum(o.killed for o in self.outcomes) / len(self.outcomes) if self.outcomes else None

    def score_by(self, specs: bool) -> float | None:
        """The score if only accepted specs (``True``) or only built-in rules (``False``) ran."""
        if not self.outcomes:
            return None
        return sum(any(k.startswith("spec/") == specs for k in o.killers) for o in self.outcomes) / len(self.outcomes)

    def by_kind(self) -> list[KindSummary]:
        rows = []
        for kind in self.kinds:
            mine = [o for o in self.outcomes if o.mutant.kind == kind]
            killers = Counter(k for o in mine for k in o.killers)
            rows.append(
                KindSummary(kind, len(mine), sum(o.killed for o in mine), tuple(sorted(killers.items(), key=lambda kv: (-kv[1], kv[0]))), self.candidates.get(kind, 0))
            )
        return rows

    def gaps(self) -> list[KindSummary]:
        """Kinds with survivors: the damage the checker suite lets through."""
        return [row for row in self.by_kind() if row.survived]


# --------------------------------------------------------------------------------------
# Planning mutants on a parsed KB (pure: nothing is written)


@dataclass(frozen=True)
class _Context:
    """What every mutation operator reads: the parsed copy, its notes fit to mutate
    (decoded, no parse problem), who links to each note, and the names in use."""

    kb: KB
    notes: dict[str, Note]
    inbound: dict[str, set[str]]
    names: frozenset[str]

    def folder_notes(self) -> dict[str, list[Note]]:
        folders: dict[str, list[Note]] = defaultdict(list)
        for note in self.notes.values():
            folders[note.path.rpartition("/")[0]].append(note)
        return folders

    def source(self, path: str) -> SourceText:
        source = self.kb.source(path)
        assert source is not None
        return source

    def near(self, path: str) -> frozenset[str]:
        """The note and the notes linking to it: whose findings a change to it may change."""
        return frozenset({path} | self.inbound.get(path, set()))


def plan_mutants(kb: KB, kinds: Iterable[str] = (), count: int = 5, seed: int = 0) -> tuple[list[Mutant], dict[str, int]]:
    """Up to ``count`` mutants of each kind (all by default), chosen with ``seed``; and how
    many candidate sites each kind had. Mutants of one kind strike different notes."""
    chosen = list(kinds) or list(MUTANT_KINDS)
    unknown = [k for k in chosen if k not in MUTANT_KINDS]
    if unknown:
        raise ConfigError(f"unknown mutant kind {unknown[0]!r} (known: {', '.join(MUTANT_KINDS)})")
    notes = {
        path: note
        for path, note in kb.notes.items()
        if note.content_hash and note.encoding == "utf-8" and not note.problems and kb.source(path) is not None
    }
    inbound: dict[str, set[str]] = defaultdict(set)
    for note, _, resolution in kb.links():
        if resolution.status == "note" and resolution.path and resolution.path != note.path:
            inbound[resolution.path].add(note.path)
    names = {n.stem.lower() for n in kb.notes.values()} | {a.lower() for n in kb.notes.values() for a in n.aliases}
    names |= {n.title.lower() for n in kb.notes.values()}
    context = _Context(kb, notes, inbound, frozenset(names))
    mutants: list[Mutant] = []
    candidates: dict[str, int] = {}
    renamed: set[str] = set()
    for kind in chosen:
        sites = _OPERATORS[kind](context)
        candidates[kind] = len(sites)
        order = sorted(sites, key=lambda m: (_struck(m), m.line, m.description))
        _rng(f"{seed}/{kind}").shuffle(order)
        struck: set[str] = set()
        for mutant in order:
            if len(struck) >= count:
                break
            new_names = {new.lower() for _, new in mutant.renames}
            if _struck(mutant) in struck or new_names & renamed:
                continue
            struck.add(_struck(mutant))
            renamed |= new_names
            mutants.append(dataclasses.replace(mutant, id=f"{kind}-{len(struck)}"))
    return mutants, candidates


def _rng(seed: str) -> random.Random:
    """A generator seeded by text (a path may hold undecodable bytes as surrogates)."""
    return random.Random(seed.encode("utf-8", "surrogateescape"))


def _struck(mutant: Mutant) -> str:
    """The note a mutant changes, as named before it."""
    return mutant.renames[0][0] if mutant.renames else mutant.edits[0].path


def _entries(source: SourceText) -> dict[str, tuple[int, int, int]]:
    """Top-level YAML frontmatter keys → (entry start, value start, entry end) as character
    offsets; an entry runs to the next top-level key (its list items and indented lines)."""
    from kbmine.parse.frontmatter import find_frontmatter

    text = source.normalized
    block = find_frontmatter(text)
    if block is None or block.fence != "---" or not block.closed:
        return {}
    entries: dict[str, tuple[int, int, int]] = {}
    current: tuple[str, int, int] | None = None
    position = block.text_start
    while position < block.text_end:
        end = text.find("\n", position, block.text_end)
        end = block.text_end if end < 0 else end + 1
        match = _KEY_LINE.match(text, position, end)
        if match is not None:
            if current is not None:
                entries.setdefault(current[0], (current[1], current[2], position))
            current = (match.group(2).strip(), position, match.end())
        position = end
    if current is not None:
        entries.setdefault(current[0], (current[1], current[2], block.text_end))
    return entries


def _edit(context: _Context, path: str, start: int, end: int, new: str, reason: str) -> Edit:
    """An edit of characters ``start:end`` of ``path``'s text, as bytes."""
    source = context.source(path)
    data = context.kb.read_bytes(path)
    first, last = source.byte_offset(start), source.byte_offset(end)
    return Edit(path, first, last, data[first:last], new.encode("utf-8"), reason)


def _line(context: _Context, path: str, offset: int) -> int:
    return context.source(path).line_of(offset) + 1


def _scalar(source: SourceText, entry: tuple[int, int, int]) -> tuple[int, int] | None:
    """The character range of a one-line scalar value (no comment, no continuation), if it is one."""
    _, value, end = entry
    text = source.normalized
    line_end = text.find("\n", value, end)
    line_end = end if line_end < 0 else line_end
    if text[line_end:end].strip():
        return None
    raw = text[value:line_end]
    stripped = raw.strip()
    if not stripped or "#" in stripped or stripped[0] in "[{|>&*!\"'":
        return None
    offset = value + len(raw) - len(raw.lstrip())
    return offset, offset + len(stripped)


def _conventional_keys(context: _Context) -> dict[str, set[str]]:
    """Folder → keys at least :data:`CONVENTION_SHARE` of its notes carry."""
    from kbmine.mine.kinds import TOOL_KEYS

    keys: dict[str, set[str]] = {}
    for folder, members in context.folder_notes().items():
        if len(members) < MIN_FOLDER:
            continue
        counts = Counter(key for note in members for key in note.frontmatter)
        keys[folder] = {k for k, n in counts.items() if n >= CONVENTION_SHARE * len(members) and k not in TOOL_KEYS}
    return keys


def _drop_key(context: _Context) -> list[Mutant]:
    folders = context.folder_notes()
    mutants = []
    for folder, keys in _conventional_keys(context).items():
        for note in folders[folder]:
            if note.path not in context.notes:
                continue
            entries = _entries(context.source(note.path))
            for key in sorted(keys & set(entries) & set(note.frontmatter)):
                start, _, end = entries[key]
                edit = _edit(context, note.path, start, end, "", f"drop `{key}`")
                line = _line(context, note.path, start)
                mutants.append(Mutant("", "drop-key", note.path, line, f"dropped `{key}`", (edit,), (), context.near(note.path)))
    return mutants


def _typo(word: str, rng: random.Random, taken: Collection[str]) -> str | None:
    """``word`` with one inner letter dropped, unless that makes a word in ``taken``."""
    if len(word) < 3:
        return None
    start = rng.randrange(1, len(word) - 1)
    for step in range(len(word) - 2):
        i = 1 + (start - 1 + step) % (len(word) - 2)
        candidate = word[:i] + word[i + 1 :]
        if word[i].isalpha() and candidate.lower() not in taken:
            return candidate
    return None


def _mined(context: _Context, kind: str) -> list[Params]:
    """What spec kind ``kind`` would propose over the whole KB."""
    from kbmine.mine.kinds import all_kinds
    from kbmine.mine.spec import MineSettings, Scope

    settings = MineSettings(min_support=MIN_FOLDER, holdout=0.0)
    return list(all_kinds()[kind].propose(list(context.notes.values()), Scope(), settings))


def _bad_enum(context: _Context) -> list[Mutant]:
    from kbmine.mine.spec import value_tokens

    vocabularies = {str(p["key"]): {str(v).lower() for v in p["values"]} for p in _mined(context, "enum_values")}
    mutants = []
    for path, note in context.notes.items():
        source = context.source(path)
        entries = _entries(source)
        for key in sorted(set(vocabularies) & set(entries)):
            tokens = value_tokens(note.frontmatter.get(key))
            span = _scalar(source, entries[key])
            if tokens is None or len(tokens) != 1 or span is None or source.normalized[span[0] : span[1]] != tokens[0]:
                continue
            typo = _typo(tokens[0], _rng(f"{path}/{key}"), vocabularies[key])
            if tokens[0].lower() not in vocabularies[key] or typo is None:
                continue
            edit = _edit(context, path, span[0], span[1], typo, f"`{key}` outside its vocabulary")
            what = f"`{key}: {tokens[0]}` became `{typo}`"
            mutants.append(Mutant("", "bad-enum", path, _line(context, path, span[0]), what, (edit,), (), context.near(path)))
    return mutants


def _retyped(kind: str, raw: str) -> str | None:
    """``raw`` (a one-line value of type ``kind`` as written) rewritten as a value of another type."""
    if kind == "date":
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", raw)
        if match is None or not 1 <= int(match.group(2)) <= 12:
            return None
        return f"{_MONTHS[int(match.group(2)) - 1]} {int(match.group(3))}, {match.group(1)}"
    if kind == "url":
        return re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", raw) or None
    if kind == "number":
        return f'"{raw} units"'
    if kind == "boolean":
        return "maybe"
    if kind == "slug":
        return " ".join(word.capitalize() for word in raw.split("-"))
    return None


def _bad_type(context: _Context) -> list[Mutant]:
    from kbmine.mine.kinds.value_type import value_types

    typed: dict[str, str] = {}
    for params in _mined(context, "value_type"):
        key, kind = str(params["key"]), str(params["type"])
        if kind not in ("string", "mapping") and (key not in typed or kind in ("date", "url", "slug")):
            typed[key] = kind
    mutants = []
    for path, note in context.notes.items():
        source = context.source(path)
        entries = _entries(source)
        for key in sorted(set(typed) & set(entries)):
            kind, value = typed[key], note.frontmatter.get(key)
            if kind not in value_types(value):
                continue
            span: tuple[int, int] | None
            if kind == "list":
                first = value[0] if isinstance(value, list) and value and isinstance(value[0], str) else None
                if first is None or not first.strip() or any(c in first for c in "\n:#[]{},\"'"):
                    continue
                span, new = (entries[key][1], entries[key][2]), f" {first}\n"
            else:
                span = _scalar(source, entries[key])
                replaced = None if span is None else _retyped(kind, source.normalized[span[0] : span[1]])
                if span is None or replaced is None:
                    continue
                new = replaced
            old = source.normalized[span[0] : span[1]].strip()
            edit = _edit(context, path, span[0], span[1], new, f"`{key}` of another type")
            what = f"`{key}` ({kind}) {old!r} became {new.strip()!r}"
            mutants.append(Mutant("", "bad-type", path, _line(context, path, span[0]), what, (edit,), (), context.near(path)))
    return mutants


def _line_range(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The byte range of the whole lines holding ``start:end``, with the final newline."""
    first = data.rfind(b"\n", 0, start) + 1
    last = data.find(b"\n", end)
    return first, len(data) if last < 0 else last + 1


def _drop_index_entry(context: _Context) -> list[Mutant]:
    from kbmine.mine.context import MineContext

    indexes = MineContext.of_kb(context.kb)  # the index notes as index_coverage specs see them
    mutants = []
    for path, note in context.notes.items():
        if not indexes.is_index(path):
            continue
        folder = path.rpartition("/")[0]
        data = context.kb.read_bytes(path)
        for link, resolution in zip(note.links, context.kb.resolutions[path]):
            member = resolution.path
            if link.in_frontmatter or link.is_embed or resolution.status != "note" or member is None or member == path:
                continue
            if folder and not member.startswith(folder + "/"):
                continue
            first, last = _line_range(data, link.span.start, link.span.end)
            if _LIST_ITEM.match(data, first):
                edit = Edit(path, first, last, data[first:last], b"", f"drop the entry for {member}")
            else:
                label = (link.label or "").encode("utf-8")
                edit = Edit(path, link.span.start, link.span.end, data[link.span.start : link.span.end], label, f"unlink {member}")
            what = f"dropped the entry {link.raw} for {member}"
            mutants.append(Mutant("", "drop-index-entry", path, link.span.line, what, (edit,), (), frozenset({path, member})))
    return mutants


def _break_link(context: _Context) -> list[Mutant]:
    mutants = []
    for path, note in context.notes.items():
        data = context.kb.read_bytes(path)
        for link, resolution in zip(note.links, context.kb.resolutions[path]):
            target, span = resolution.path, link.target_span
            if link.in_frontmatter or link.is_embed or link.kind not in ("markdown", "wikilink") or span is None:
                continue
            if resolution.status != "note" or target is None or target == path:
                continue
            written = data[span.start : span.end].decode("utf-8", "replace")
            folder, slash, name = written.rpartition("/")
            stem, dot, extension = name.rpartition(".") if name.lower().endswith(".md") else (name, "", "")
            typo = None if "%" in stem or "#" in stem else _typo(stem, _rng(f"{path}/{span.start}"), context.names)
            if typo is None:
                continue
            new = f"{folder}{slash}{typo}{dot}{extension}"
            edit = Edit(path, span.start, span.end, data[span.start : span.end], new.encode("utf-8"), f"break the link to {target}")
            what = f"{link.raw} now points at {new!r}"
            mutants.append(Mutant("", "break-link", path, link.span.line, what, (edit,), (), frozenset({path, target})))
    return mutants


def names_file(written: str, path: str) -> bool:
    """Whether a link's written target (decoded, anchor split off) names the file ``path``,
    so that renaming the file breaks the link (a link by alias or title would not break)."""
    written = written.strip()
    if not written:
        return False
    last = written.rsplit("/", 1)[-1].lower()
    stem = path_stem(path).lower()
    return last in (stem, stem + ".md", path.rsplit("/", 1)[-1].lower())


def _renamed_stem(stem: str, rng: random.Random, taken: Collection[str]) -> str | None:
    """``stem`` with its last word replaced by a fresh one: the same shape (date prefix,
    kebab-case, dots...) under a name nothing links to."""
    words = list(re.finditer(r"[A-Za-z]+", stem))
    if not words:
        return None
    last = words[-1]
    for word in rng.sample(NEW_NAME_WORDS, len(NEW_NAME_WORDS)):
        replacement = word.upper() if last.group().isupper() else word.capitalize() if last.group()[0].isupper() else word
        candidate = stem[: last.start()] + replacement + stem[last.end() :]
        if candidate.lower() not in taken:
            return candidate
    return None


def _rename(context: _Context, path: str, stem: str, kind: str, what: str) -> Mutant:
    folder, slash, name = path.rpartition("/")
    new = f"{folder}{slash}{stem}.{name.rsplit('.', 1)[-1]}"
    footprint = (context.near(path) - {path}) | {new}
    return Mutant("", kind, new, 1, f"{path} {what} {new}", (), ((path, new),), frozenset(footprint))


def _linked_by_name(context: _Context) -> Counter[str]:
    """Note → how many links from other notes name its file."""
    counts: Counter[str] = Counter()
    for note, link, resolution in context.kb.links():
        if resolution.status == "note" and resolution.path and resolution.path != note.path and names_file(link.target, resolution.path):
            counts[resolution.path] += 1
    return counts


def _rename_note(context: _Context) -> list[Mutant]:
    stems = Counter(note.stem.lower() for note in context.kb.notes.values())
    linked = _linked_by_name(context)
    mutants = []
    for path, note in context.notes.items():
        fresh = _renamed_stem(note.stem, _rng(path), context.names)
        if linked[path] and stems[note.stem.lower()] == 1 and fresh is not None:
            mutants.append(_rename(context, path, fresh, "rename-note", "renamed without relinking to"))
    return mutants


def _drop_section(context: _Context) -> list[Mutant]:
    from kbmine.mine.kinds import all_kinds
    from kbmine.mine.spec import MineSettings, Scope

    kind = all_kinds()["required_section"]
    settings = MineSettings(min_support=MIN_FOLDER, min_confidence=CONVENTION_SHARE, holdout=0.0)
    mutants = []
    for folder, members in context.folder_notes().items():
        if len(members) < MIN_FOLDER:
            continue
        headings = {str(p["heading"]).casefold() for p in kind.propose(members, Scope(folder=folder), settings)}
        for note in members:
            if note.path not in context.notes:
                continue
            data = context.kb.read_bytes(note.path)
            for heading in note.headings:
                if heading.level < 2 or heading.text.strip().casefold() not in headings:
                    continue
                first, last = _line_range(data, heading.span.start, heading.span.end)
                edit = Edit(note.path, first, last, data[first:last], b"", f"drop the heading {heading.text!r}")
                what = f"dropped the heading {heading.text!r}"
                mutants.append(Mutant("", "drop-section", note.path, heading.span.line, what, (edit,), (), context.near(note.path)))
    return mutants


def _misname_file(context: _Context) -> list[Mutant]:
    from kbmine.mine.kinds import all_kinds
    from kbmine.mine.kinds.filename_pattern import INDEX_NAMES, PATTERNS
    from kbmine.mine.spec import MineSettings, Scope

    kind = all_kinds()["filename_pattern"]
    settings = MineSettings(min_support=MIN_FOLDER, holdout=0.0)
    linked = _linked_by_name(context)
    stems = Counter(note.stem.lower() for note in context.kb.notes.values())
    mutants = []
    for folder, members in context.folder_notes().items():
        named = [note for note in members if note.stem.lower() not in INDEX_NAMES]
        if len(named) < MIN_FOLDER:
            continue
        patterns = [str(p["pattern"]) for p in kind.propose(named, Scope(folder=folder), settings)]
        for note in named:
            if note.path not in context.notes or linked[note.path] or stems[note.stem.lower()] != 1:
                continue
            if not any(PATTERNS[p][0](note.stem) for p in patterns):
                continue
            # CamelCase breaks every pattern, and unlike "Title Case" it is not a phrase that
            # other notes mention (which would credit missing-link elsewhere).
            stem = "".join(word.capitalize() for word in re.findall(r"[A-Za-z]+", note.stem))
            if not stem or stem.lower() in context.names or any(test(stem) for test, _ in PATTERNS.values()):
                continue
            mutants.append(_rename(context, note.path, stem, "misname-file", "renamed against its folder's pattern to"))
    return mutants


_OPERATORS: dict[str, Callable[[_Context], list[Mutant]]] = {
    "drop-key": _drop_key,
    "bad-enum": _bad_enum,
    "bad-type": _bad_type,
    "drop-index-entry": _drop_index_entry,
    "break-link": _break_link,
    "rename-note": _rename_note,
    "drop-section": _drop_section,
    "misname-file": _misname_file,
}


# --------------------------------------------------------------------------------------
# Running them


def pack_batches(mutants: Sequence[Mutant]) -> list[list[Mutant]]:
    """Mutants grouped so that no two in a group share a note of their footprints
    (first fit, in order): each group runs as one check of the copy."""
    batches: list[tuple[list[Mutant], set[str]]] = []
    for mutant in mutants:
        touched = mutant.footprint | {edit.path for edit in mutant.edits} | {path for pair in mutant.renames for path in pair}
        for members, used in batches:
            if not used & touched:
                members.append(mutant)
                used |= touched
                break
        else:
            batches.append(([mutant], set(touched)))
    return [members for members, _ in batches]


def run_mutation_test(
    kb: KB, kinds: Iterable[str] = (), count: int = 5, seed: int = 0, jobs: int | None = None
) -> MutationReport:
    """Copy ``kb`` to a temporary folder, plan mutants there, run every check on each batch,
    and credit each new finding to the mutant whose footprint holds its note.

    ``kb`` needs only its files read (its notes are parsed in the copy); when it
    has a cache, parsed notes are read from it, never written to it."""
    from kbmine.checks import run_checks
    from kbmine.checks.spec import enforced_specs
    from kbmine.kb import load

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kbmine-specs-test-") as folder:
        root = Path(folder) / "kb"
        _copy(kb, root)
        pristine = load(root, kb.config, jobs=jobs)
        if kb.cache is not None and pristine.cache is not None:
            pristine = dataclasses.replace(pristine, cache=_ReadThrough(pristine.cache, kb.cache))
        baseline = run_checks(pristine)
        mutants, candidates = plan_mutants(pristine, kinds, count, seed)
        specs = len(enforced_specs(root))
        outcomes: dict[str, Outcome] = {}
        unattributed = 0
        batches = pack_batches(mutants)
        for batch in batches:
            _apply(root, pristine, batch)
            try:
                # The pristine copy's cache object: each batch parses only the notes it changed.
                mutated = dataclasses.replace(load(root, kb.config, use_cache=False, jobs=jobs), cache=pristine.cache)
                new = _new_findings(run_checks(mutated), baseline, batch)
            finally:
                _restore(root, pristine, batch)
            credited: dict[str, list[Finding]] = defaultdict(list)
            owner = {path: mutant.id for mutant in batch for path in mutant.footprint}
            for finding in new:
                if finding.path in owner:
                    credited[owner[finding.path]].append(finding)
                else:
                    unattributed += 1
            for mutant in batch:
                found = credited.get(mutant.id, [])
                first = f"{found[0].path}:{found[0].span.line}: {found[0].rule}: {found[0].message}" if found else ""
                outcomes[mutant.id] = Outcome(mutant, tuple(sorted({f.rule for f in found})), first)
    ordered = tuple(outcomes[m.id] for m in mutants)
    seconds = time.perf_counter() - started
    return MutationReport(ordered, candidates, specs, len(baseline), len(batches), unattributed, seconds, tuple(candidates))


class _ReadThrough:
    """The copy's cache, taking the parsed notes it lacks from the KB's own cache.

    The copy's notes are the KB's, byte for byte, so the KB's cache (when it
    has one) spares parsing them again; nothing is ever written to it: every
    store, blob and derived result goes to the copy's cache.
    """

    def __init__(self, own: Any, kb_cache: Any) -> None:
        self._own = own
        self._kb_cache = kb_cache

    def get_many(self, hashes: Iterable[str]) -> dict[str, bytes]:
        wanted = list(hashes)
        found: dict[str, bytes] = self._own.get_many(wanted)
        found.update(self._kb_cache.get_many([digest for digest in wanted if digest not in found]))
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._own, name)


def _new_findings(findings: Sequence[Finding], baseline: Sequence[Finding], batch: Sequence[Mutant]) -> list[Finding]:
    """The findings of a mutated copy that the pristine copy did not have.

    Compared by note and path-free identity, with the pristine paths moved
    through the batch's renames, each pristine finding absorbing one: a renamed
    note keeps its old findings, and no mutant's rename can absorb another's
    (which matching any moved finding by identity alone would allow).
    """
    moved = {old: new for mutant in batch for old, new in mutant.renames}
    known = Counter((f.identity, moved.get(f.path, f.path)) for f in baseline)
    new = []
    for finding in findings:
        key = (finding.identity, finding.path)
        if known[key]:
            known[key] -= 1
        else:
            new.append(finding)
    return new


def _copy(kb: KB, root: Path) -> None:
    """The KB's notes (as it read them, with their modification times), empty stand-ins for
    its other files (so links to them still resolve) and its specs file, under ``root``."""
    from kbmine.mine.specfile import SPECS_FILE

    ages: list[tuple[int, str]] = []
    for path, data in kb.contents.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        try:
            ages.append((os.stat(kb.root / path).st_mtime_ns, path))
        except OSError:
            ages.append((0, path))
    # Rules that order notes by age break ties by path, and a renamed note would change
    # places: distinct times in the KB's own order keep that order whatever the names.
    ages.sort()
    for rank, (mtime, path) in enumerate(ages):
        stamp = mtime + rank * 1000
        os.utime(root / path, ns=(stamp, stamp))
    for path in kb.files:
        target = root / path
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    for path in kb.dirs:
        (root / path).mkdir(parents=True, exist_ok=True)
    specs = kb.root / SPECS_FILE
    if specs.is_file():
        (root / SPECS_FILE).write_bytes(specs.read_bytes())


def _apply(root: Path, kb: KB, batch: Sequence[Mutant]) -> None:
    from kbmine.mutate.edits import apply_edits

    for mutant in batch:
        by_path: dict[str, list[Edit]] = defaultdict(list)
        for edit in mutant.edits:
            by_path[edit.path].append(edit)
        for path, edits in by_path.items():
            _write_keeping_mtime(root / path, apply_edits(kb.read_bytes(path), edits))
        for old, new in mutant.renames:
            os.rename(root / old, root / new)


def _restore(root: Path, kb: KB, batch: Sequence[Mutant]) -> None:
    for mutant in batch:
        for old, new in mutant.renames:
            os.rename(root / new, root / old)
        for path in {edit.path for edit in mutant.edits}:
            _write_keeping_mtime(root / path, kb.read_bytes(path))


def _write_keeping_mtime(target: Path, data: bytes) -> None:
    info = os.stat(target)
    target.write_bytes(data)
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
