"""Heading anchors as the renderers compute them.

Markdown links use GitHub's algorithm (github-slugger): lowercase, drop every
character that is not a letter, mark, number, connector punctuation, space or
hyphen, turn spaces into hyphens, and number duplicates ``-1``, ``-2``...
Wikilinks name the heading text itself; Obsidian compares it leniently
(case, runs of whitespace and the characters it forbids in link anchors).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["github_slug", "SlugCounter", "heading_key", "EXPLICIT_ID"]

#: ``## Heading {#custom-id}`` (Pandoc, kramdown, MyST, markdown-it-attrs).
EXPLICIT_ID = re.compile(r"\s*\{\s*#([A-Za-z0-9_][\w:.-]*)\s*\}\s*$")
_WHITESPACE = re.compile(r"\s+")
#: Characters Obsidian strips or refuses in heading references.
_OBSIDIAN_FORBIDDEN = re.compile(r"[#^|\[\]:%\\*\"<>?]")


@lru_cache(maxsize=65536)
def _keep(char: str) -> bool:
    if char in " -_":
        return True
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Pc"


def github_slug(text: str) -> str:
    """The anchor GitHub gives a heading with this text (before de-duplication)."""
    lowered = text.lower()
    if lowered.isascii():
        kept = re.sub(r"[^a-z0-9 _-]", "", lowered)
    else:
        kept = "".join(char for char in lowered if _keep(char))
    return kept.replace(" ", "-")


class SlugCounter:
    """Turns heading texts into unique slugs in document order, as github-slugger does."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def slug(self, text: str) -> str:
        base = github_slug(text)
        candidate = base
        while candidate in self._seen:
            self._seen[base] += 1
            candidate = f"{base}-{self._seen[base]}"
        self._seen[candidate] = 0
        return candidate


def heading_key(text: str) -> str:
    """A lenient key under which a heading's text and a wikilink's ``#heading`` must agree."""
    stripped = _OBSIDIAN_FORBIDDEN.sub(" ", text)
    return _WHITESPACE.sub(" ", stripped).strip().casefold()
