"""The one resolver: where does a link point, and does its anchor exist there?

Every rule, the graph and every later edit ask this module, never their own
copy of the rules (a peer's review found 15 link defects caused by five
resolvers that drifted apart). The rules, in order:

Markdown links (``[t](dest)``, references, definitions)
    external URLs are never fetched; ``file:`` URLs and paths that climb out
    of the root are *escapes* and never read; ``/x`` is root-absolute;
    otherwise relative to the linking note. ``x`` also matches ``x.md``.
    In the obsidian dialect a bare ``name.md`` that is not there relative to
    the note falls back to the vault root and then to a unique file name, as
    Obsidian's "shortest path" links do.
Wikilinks
    ``./x`` and ``../x`` are relative; otherwise the path from the root
    (with or without ``.md``), then a unique path suffix, then a unique file
    name (case-insensitive), then a unique frontmatter alias. Several
    candidates make the link *ambiguous*: it is never silently resolved.
    Dendron: ``dendron://vault/name`` restricts to a vault, ``name.*``
    wildcards match any note of the hierarchy.
Anchors
    markdown links: GitHub heading slugs (with ``-1`` duplicates), explicit
    ``{#id}`` ids, ``^block`` ids, and in the obsidian dialect heading text;
    wikilinks: heading text compared as Obsidian does (``#A#B`` nesting),
    slugs, ``^block`` ids; dendron ranges ``#a:#b`` check both ends.
"""

from __future__ import annotations

import fnmatch
import posixpath
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from kbmine.model import Link, Note, _Compact
from kbmine.slugs import heading_key

__all__ = ["Resolution", "Resolver", "Status", "name_key", "strip_note_extension"]

#: Problems after which a note's headings are unknown, so anchors into it cannot be judged.
_UNPARSED = frozenset({"unreadable-note", "parse-timeout"})

Status = Literal["note", "file", "dir", "external", "broken", "ambiguous", "escapes"]


@dataclass(frozen=True, slots=True)
class Resolution(_Compact):
    """Where a link points. ``anchor_ok`` is ``None`` when there was no anchor to check."""

    status: Status
    path: str | None = None
    candidates: tuple[str, ...] = ()
    anchor_ok: bool | None = None
    reason: str = ""

    @property
    def resolved(self) -> bool:
        return self.status in ("note", "file", "dir")


@dataclass(frozen=True, slots=True)
class _Anchors:
    slugs: frozenset[str]
    keys: frozenset[str]
    blocks: frozenset[str]
    heading_paths: tuple[tuple[int, str], ...]


def name_key(text: str) -> str:
    """``text`` as names are compared: Unicode-normalised (NFC) and case-folded.

    macOS writes file names decomposed (NFD: "e" and a combining accent)
    while editors type links composed (NFC): the same name to a reader, as
    it is to Obsidian and to macOS itself.
    """
    return (text if text.isascii() else unicodedata.normalize("NFC", text)).casefold()


def strip_note_extension(name: str) -> str:
    """``name`` without a trailing ``.md`` or ``.markdown`` (any case)."""
    lowered = name.lower()
    for extension in (".md", ".markdown"):
        if lowered.endswith(extension):
            return name[: -len(extension)]
    return name


class Resolver:
    """Resolves links against one KB's notes, files and folders."""

    def __init__(
        self,
        notes: Mapping[str, Note],
        files: Iterable[str] = (),
        dirs: Iterable[str] = (),
        dialect: str = "obsidian",
        symlinked: Mapping[str, str] | None = None,
    ) -> None:
        self.notes = notes
        self.files = frozenset(files)
        self.dirs = frozenset(dirs) | {"."}
        self.dialect = dialect
        #: Symlinks named like notes → the note each is another name for (see kbmine.files.Scan).
        self.symlinked = {link: target for link, target in (symlinked or {}).items() if target in notes}
        self._by_stem: dict[str, list[str]] = defaultdict(list)
        self._by_noext: dict[str, list[str]] = defaultdict(list)
        self._by_file_name: dict[str, list[str]] = defaultdict(list)
        self._by_alias: dict[str, list[str]] = defaultdict(list)
        self._folded: dict[str, str] = {}
        #: Each (wikilink?, folder, target) resolved so far, anchors aside (see :meth:`resolve`).
        self._resolved: dict[tuple[bool, str, str], Resolution] = {}
        for path, note in notes.items():
            noext = strip_note_extension(path)
            self._by_noext[name_key(noext)].append(path)
            self._by_stem[name_key(noext.rsplit("/", 1)[-1])].append(path)
            self._folded[name_key(path)] = path
            for alias in note.aliases:
                self._by_alias[name_key(alias)].append(path)
        for path in self.files:
            self._by_file_name[name_key(path.rsplit("/", 1)[-1])].append(path)
            self._folded[name_key(path)] = path
        for link, target in self.symlinked.items():  # found by its names as the note it points at
            noext = strip_note_extension(link)
            self._by_noext[name_key(noext)].append(target)
            self._by_stem[name_key(noext.rsplit("/", 1)[-1])].append(target)
        self._anchors: dict[str, _Anchors] = {}

    # -- public -----------------------------------------------------------

    def identity(self) -> str:
        """A digest of everything a resolution depends on besides the link and its note.

        That is: the dialect, the files and folders, and each note's path,
        aliases, headings, block ids and whether it was parsed. Editing a
        note's prose leaves it unchanged, so the other notes' resolutions
        can be reused (see :attr:`kbmine.kb.KB.resolutions`).
        """
        import hashlib
        import marshal

        digest = hashlib.blake2b(digest_size=16)
        digest.update(
            f"{self.dialect}\0{sorted(self.files)!r}\0{sorted(self.dirs)!r}\0{sorted(self.symlinked.items())!r}".encode(
                "utf-8", "surrogateescape"
            )
        )
        shapes = [
            (
                path,
                note.aliases,
                [(h.level, h.text, h.slug, h.explicit_id) for h in note.headings],
                [b.id for b in note.blocks],
                any(p.rule in _UNPARSED for p in note.problems),
            )
            for path, note in self.notes.items()
        ]
        # marshal format 0 writes equal values as equal bytes (later formats mark interned
        # strings and shared objects, which vary between runs); repr took four times as long.
        digest.update(marshal.dumps(shapes, 0))
        return digest.hexdigest()

    def resolve(self, source: str, link: Link) -> Resolution:
        """Resolve ``link`` written in note ``source`` (a path relative to the root)."""
        if link.external or link.kind == "autolink":
            if link.target.lower().startswith("file:"):
                return Resolution("escapes", reason="a file: URL points into the local file system")
            return Resolution("external")
        if "\x00" in link.target:
            return Resolution("escapes", reason="the target contains a NUL byte")
        wiki = link.kind in ("wikilink", "hashtag")
        # A link resolves the same from every note of a folder (but an empty target: the note
        # itself); notes link the same targets over and over.
        place = (wiki, source.rpartition("/")[0] if link.target else source, link.target)
        found = self._resolved.get(place)
        if found is None:
            found = self._resolved[place] = self._wikilink(source, link.target) if wiki else self._path(source, link.target)
        if (
            found.status == "note"
            and link.anchor is not None
            and found.path is not None
            and not any(p.rule in _UNPARSED for p in self.notes[found.path].problems)
        ):
            ok = self.anchor_exists(found.path, link.anchor, wikilink=link.kind == "wikilink")
            return Resolution(found.status, found.path, found.candidates, ok, found.reason)
        return found

    def anchor_exists(self, path: str, anchor: str, *, wikilink: bool) -> bool:
        """Whether ``anchor`` names a heading, id or block of note ``path``."""
        if not anchor or anchor == "*":
            return True
        anchors = self._anchors_of(path)
        if self.dialect == "dendron" and ":" in anchor:
            return all(self.anchor_exists(path, part.lstrip("#"), wikilink=wikilink) for part in anchor.split(":"))
        if anchor.startswith("^"):
            return anchor[1:] in anchors.blocks
        if name_key(anchor) in anchors.slugs:
            return True
        if wikilink and "#" in anchor:
            return self._nested_heading(anchors, [part for part in anchor.split("#") if part])
        if wikilink or self.dialect == "obsidian":
            return heading_key(anchor) in anchors.keys
        return False

    def wikilink_name(self, path: str) -> str:
        """The shortest wikilink target that resolves to note ``path`` unambiguously."""
        noext = strip_note_extension(path)
        stem = noext.rsplit("/", 1)[-1]
        if len(self._by_stem.get(name_key(stem), [])) == 1 and not self._by_alias.get(name_key(stem)):
            return stem
        return noext

    # -- markdown paths ----------------------------------------------------

    def _path(self, source: str, target: str) -> Resolution:
        if not target:
            return Resolution("note", source)
        if target.startswith("/"):
            candidate = posixpath.normpath(target.lstrip("/")) if target.strip("/") else "."
        else:
            candidate = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        if candidate == ".." or candidate.startswith("../"):
            return Resolution("escapes", reason=f"{target!r} climbs out of the KB root")
        found = self._existing(candidate)
        if found is not None:
            return found
        if self.dialect == "obsidian" and not target.startswith(("/", "./", "../")):
            from_root = self._existing(posixpath.normpath(target))
            if from_root is not None:
                return from_root
            if "/" not in target.rstrip("/"):
                by_name = self._unique_name(target)
                if by_name is not None:
                    return by_name
        folded = self._folded.get(name_key(candidate)) or self._folded.get(name_key(candidate + ".md"))
        reason = f"only {folded!r} exists (names differ in case)" if folded else ""
        return Resolution("broken", candidate, reason=reason)

    def _existing(self, candidate: str) -> Resolution | None:
        """The note, file or folder at path ``candidate``: as written, else (a name with accents)
        in the other Unicode normalisation, as macOS and the editors that run there find it."""
        found = self._exactly(candidate)
        if found is not None or candidate.isascii():
            return found
        for form in ("NFC", "NFD"):
            other = unicodedata.normalize(form, candidate)
            if other != candidate and (found := self._exactly(other)) is not None:
                return found
        return None

    def _exactly(self, candidate: str) -> Resolution | None:
        if candidate in self.notes:
            return Resolution("note", candidate)
        for name in (candidate, candidate + ".md", candidate + ".markdown"):
            if name in self.symlinked:
                return Resolution("note", self.symlinked[name])
        if candidate in self.files:
            return Resolution("file", candidate)
        if candidate in self.dirs:
            return Resolution("dir", candidate)
        for extension in (".md", ".markdown"):
            if candidate + extension in self.notes:
                return Resolution("note", candidate + extension)
        return None

    def _unique_name(self, target: str) -> Resolution | None:
        name = name_key(target)
        notes = self._by_stem.get(name_key(strip_note_extension(target)), []) if name.endswith((".md", ".markdown")) else []
        others = self._by_file_name.get(name, [])
        matches = sorted(set(notes) | set(others))
        if len(matches) == 1:
            return Resolution("note" if matches[0] in self.notes else "file", matches[0])
        if len(matches) > 1:
            return Resolution("ambiguous", candidates=tuple(matches))
        return None

    # -- wikilinks ---------------------------------------------------------

    def _wikilink(self, source: str, target: str) -> Resolution:
        if not target:
            return Resolution("note", source)
        vault = None
        if target.startswith("dendron://"):
            vault, _, target = target[len("dendron://") :].partition("/")
        if target.startswith(("./", "../")):
            candidate = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
            if candidate == ".." or candidate.startswith("../"):
                return Resolution("escapes", reason=f"{target!r} climbs out of the KB root")
            return self._existing(candidate) or Resolution("broken", candidate)
        target = target.lstrip("/")
        if self.dialect == "dendron" and "*" in target:
            pattern = name_key(target)
            hits = sorted(p for p in self.notes if fnmatch.fnmatchcase(name_key(strip_note_extension(p).rsplit("/", 1)[-1]), pattern))
            if hits:
                return Resolution("note", hits[0], tuple(hits))
            return Resolution("broken", target)
        normalized = posixpath.normpath(target)
        if normalized == ".." or normalized.startswith("../"):
            return Resolution("escapes", reason=f"{target!r} climbs out of the KB root")
        exact = self._existing(normalized)
        if exact is not None and exact.status != "dir" and (vault is None or self._in_vault([exact.path or ""], vault)):
            return exact
        noext = name_key(strip_note_extension(normalized))
        candidates = self._in_vault(self._by_noext.get(noext, []), vault)
        if not candidates and "/" in noext:
            suffix = "/" + noext
            candidates = self._in_vault([p for key, paths in self._by_noext.items() if key.endswith(suffix) for p in paths], vault)
        if not candidates and "/" not in noext:
            candidates = self._in_vault(self._by_stem.get(noext, []), vault)
        if not candidates:
            name, whole = name_key(normalized.rsplit("/", 1)[-1]), name_key(normalized)
            files = [
                p for p in self._by_file_name.get(name, []) if "/" not in noext or (key := name_key(p)) == whole or key.endswith("/" + whole)
            ]
            candidates = self._in_vault(files, vault)
        if not candidates:
            candidates = self._in_vault(self._by_alias.get(name_key(target), []), vault)
        if len(candidates) == 1:
            path = candidates[0]
            return Resolution("note" if path in self.notes else "file", path)
        if len(candidates) > 1:
            return Resolution("ambiguous", candidates=tuple(sorted(candidates)))
        return Resolution("broken", normalized)

    def _in_vault(self, paths: list[str], vault: str | None) -> list[str]:
        unique = sorted(set(paths))
        if vault is None:
            return unique
        prefix = name_key(vault) + "/"
        return [p for p in unique if (key := name_key(p)).startswith(prefix) or f"/{prefix}" in key]

    # -- anchors -----------------------------------------------------------

    def _anchors_of(self, path: str) -> _Anchors:
        cached = self._anchors.get(path)
        if cached is None:
            note = self.notes[path]
            slugs = {name_key(h.slug) for h in note.headings}
            slugs.update(name_key(h.explicit_id) for h in note.headings if h.explicit_id)
            keys = {heading_key(h.text) for h in note.headings}
            # "DEC-067: title" answers to #DEC-067: the label-before-colon convention of logs.
            keys.update(heading_key(h.text.split(":", 1)[0]) for h in note.headings if ":" in h.text)
            cached = _Anchors(
                slugs=frozenset(slugs),
                keys=frozenset(keys),
                blocks=frozenset(b.id for b in note.blocks),
                heading_paths=tuple((h.level, heading_key(h.text)) for h in note.headings),
            )
            self._anchors[path] = cached
        return cached

    def _nested_heading(self, anchors: _Anchors, parts: list[str]) -> bool:
        """``#A#B``: B is a heading that sits (at any depth) under a heading A."""
        wanted = [heading_key(part) for part in parts]
        stack: list[tuple[int, str]] = []
        for level, key in anchors.heading_paths:
            while stack and stack[-1][0] >= level:
                stack.pop()
            if key == wanted[-1]:
                chain = iter(k for _, k in stack)
                if all(any(k == want for k in chain) for want in wanted[:-1]):
                    return True
            stack.append((level, key))
        return False
