"""The ``[[...]]`` syntax of each dialect, reduced to target, anchor and label.

- obsidian: ``[[target]]``, ``[[target|label]]``, ``[[target#Heading]]``,
  ``[[target#Heading#Sub]]``, ``[[target#^block]]``, ``[[#Heading]]`` (same
  note), ``![[embed]]``, ``![[image.png|200x100]]``; ``\\|`` inside tables.
- foam: the same link forms (Foam follows Obsidian's order, target first).
- dendron: label first, ``[[label|target]]``; dotted hierarchy names
  ``[[a.b.c]]``; cross-vault ``[[dendron://vault/note]]``; note references
  ``![[note#heading]]``, ranges ``![[note#start:#end]]``, ``![[note#^a:#^b]]``
  and wildcards ``![[note.*]]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["WikiTarget", "split_wikilink", "wikilink_target_range", "WIKILINK"]

#: A wikilink in plain text (used for frontmatter values, where no markdown parser runs).
WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
_DENDRON_VAULT = re.compile(r"^dendron://([^/]*)/(.*)$")


@dataclass(frozen=True, slots=True)
class WikiTarget:
    """The parts of a wikilink's inner text."""

    target: str
    anchor: str | None
    label: str | None
    vault: str | None = None


@lru_cache(maxsize=4096)
def split_wikilink(inner: str, dialect: str) -> WikiTarget:
    """Split the text between ``[[`` and ``]]`` into target, anchor and label.

    Cached: a note links to the same few targets over and over.
    """
    inner = inner.replace("\\|", "|")
    vault = None
    if dialect == "dendron":
        label: str | None
        if "|" in inner:
            label, _, reference = inner.rpartition("|")
        else:
            label, reference = None, inner
        match = _DENDRON_VAULT.match(reference.strip())
        if match:
            vault, reference = match.group(1), match.group(2)
    else:
        reference, bar, rest = inner.partition("|")
        label = rest if bar else None
    target, hash_, anchor = reference.partition("#")
    return WikiTarget(
        target=target.strip(),
        anchor=anchor.strip() if hash_ else None,
        label=label.strip() if label is not None else None,
        vault=vault,
    )


@lru_cache(maxsize=4096)
def wikilink_target_range(inner: str, dialect: str) -> tuple[int, int]:
    """Offsets within ``inner`` of the target as written (no label, anchor or vault prefix).

    This is what a repair rewrites: the label and ``#anchor`` stay untouched.
    """
    if dialect == "dendron":
        bar = inner.rfind("|")
        start = bar + 1 if bar >= 0 else 0
        match = _DENDRON_VAULT.match(inner[start:])
        if match:
            start += match.start(2)
    else:
        start = 0
    end = len(inner)
    for stop in ("\\|", "|", "#") if dialect != "dendron" else ("#",):
        found = inner.find(stop, start)
        if found >= 0:
            end = min(end, found)
    while end > start and inner[end - 1] == " ":
        end -= 1
    while start < end and inner[start] == " ":
        start += 1
    return start, end
