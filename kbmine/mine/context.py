"""What a spec kind may know beyond one note: the KB's notes, their resolved links, its index notes.

Some conventions are about the KB rather than a note alone: a folder's index
lists every note of the folder, a note of one kind links to a note of
another, a link-valued key points at a note that exists. A kind that states
one reads a :class:`MineContext` built once per mining run, per ``kbmine
check`` run and per replayed commit, always over the notes of that same KB
state (at a past commit, that commit's notes), so a link is judged against
the notes that existed when it was written.

Links are resolved by the KB's one resolver (:mod:`kbmine.resolve`); a
``kbmine check`` run hands over the resolutions it already computed, and
elsewhere they are computed on demand, note by note, so a kind that never
asks costs nothing.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from kbmine.config import Config
from kbmine.files import glob_matcher
from kbmine.model import Link, Note, Span, path_stem
from kbmine.parse.wikilinks import WIKILINK, split_wikilink
from kbmine.resolve import Resolution, Resolver

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["MineContext", "folder_of", "index_globs"]

_NOWHERE = Span(0, 0, 1, 1, 1, 1)
T = TypeVar("T")


def index_globs(config: Config) -> tuple[re.Pattern[str], ...]:
    """The globs naming index notes, in order of preference: the ``roots`` of ``orphan-note``
    (its default when unset), since a KB that told kbmine which notes are its entry points
    has said which are its indexes."""
    from kbmine.checks.orphan_note import DEFAULT_ROOTS

    roots = config.rule_options("orphan-note").get("roots", DEFAULT_ROOTS)
    return tuple(matcher for glob in roots if (matcher := glob_matcher((str(glob),))) is not None)


@dataclass(frozen=True, eq=False)
class MineContext:
    """The KB around the notes a kind judges: every note by path, and how their links resolve.

    ``notes`` must be the whole KB (at the state judged), not a sample of it:
    a link to a note left out would look broken.
    """

    notes: Mapping[str, Note]
    resolver: Resolver
    index_patterns: tuple[re.Pattern[str], ...]
    #: Resolutions computed elsewhere (``kbmine check`` has them), aligned with ``note.links``.
    known: Mapping[str, tuple[Resolution, ...]] = field(default_factory=dict)
    _targets: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _indexes: dict[str, str | None] = field(default_factory=dict, repr=False)
    _derived: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, notes: Mapping[str, Note], config: Config | None = None) -> MineContext:
        """A context over ``notes`` (the whole KB) with ``config``'s dialect and index notes."""
        config = config or Config()
        return cls(notes, Resolver(notes, dialect=config.dialect), index_globs(config))

    @classmethod
    def of_kb(cls, kb: KB) -> MineContext:
        """A context over a loaded KB, reusing its resolver and the resolutions its rules
        computed when they did (resolving every link up front costs seconds on a big KB)."""
        known = kb.__dict__.get("resolutions", {})
        return cls(kb.notes, kb.resolver, index_globs(kb.config), known)

    def derived(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()``, once per context and ``key``: what a kind derives from the whole KB
        (which notes each scope holds) is the same for every note it judges."""
        if key not in self._derived:
            self._derived[key] = compute()
        value: T = self._derived[key]
        return value

    def resolutions(self, path: str) -> tuple[Resolution, ...]:
        """How each link of note ``path`` resolves, aligned with its ``links``."""
        known = self.known.get(path)
        if known is not None:
            return known
        resolve = self.resolver.resolve
        return tuple(resolve(path, link) for link in self.notes[path].links)

    def targets(self, path: str) -> frozenset[str]:
        """The other notes note ``path`` links to (body or frontmatter, embeds included)."""
        found = self._targets.get(path)
        if found is None:
            found = frozenset(
                resolution.path
                for resolution in self.resolutions(path)
                if resolution.status == "note" and resolution.path is not None and resolution.path != path
            )
            self._targets[path] = found
        return found

    def resolve_value(self, source: str, token: str) -> Resolution:
        """Where a frontmatter value of note ``source`` points: a ``[[wikilink]]`` as the
        dialect reads it, anything else as a markdown path relative to the note."""
        match = WIKILINK.fullmatch(token.strip())
        if match is not None:
            parts = split_wikilink(match.group(2), self.resolver.dialect)
            target = f"dendron://{parts.vault}/{parts.target}" if parts.vault is not None else parts.target
            link = Link("wikilink", token, target, None, parts.label, _NOWHERE)
        else:
            link = Link("markdown", token, unquote(token.strip().partition("#")[0]), None, None, _NOWHERE)
        return self.resolver.resolve(source, link)

    def index_of(self, folder: str) -> str | None:
        """The index note of ``folder`` ("" for the root): a note directly in it named as the
        index globs say (``README.md``, ``index.md``...; the first glob that matches wins),
        else a note named after the folder (``adr/adr.md``, Obsidian's folder notes)."""
        if folder not in self._indexes:
            self._indexes[folder] = self._find_index(folder)
        return self._indexes[folder]

    def is_index(self, path: str) -> bool:
        return self.index_of(posixpath.dirname(path)) == path

    def _find_index(self, folder: str) -> str | None:
        prefix = f"{folder}/" if folder else ""
        members = sorted(p for p in self.notes if p.startswith(prefix) and "/" not in p[len(prefix) :])
        for pattern in self.index_patterns:
            hits = [p for p in members if pattern.match(p)]
            if hits:
                return hits[0]
        name = folder.rsplit("/", 1)[-1].casefold()
        named = [p for p in members if name and path_stem(p).casefold() == name]
        return named[0] if named else None


def folder_of(path: str) -> str:
    """The folder a note sits directly in ("" at the root)."""
    return posixpath.dirname(path)

