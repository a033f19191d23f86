"""A fast inline scanner: the tokens markdown-it's inline parse would give us, without the parse.

Inline parsing was a quarter of all parse time, yet of its output the body
walk reads only a handful of tokens: links, images, autolinks, wikilinks and
the spans whose text is not prose (code spans, inline HTML). Everything else
(text, soft breaks, escapes, unmatched brackets) is built and thrown away.

:func:`scan_inline` produces exactly those tokens, with the same ``meta`` the
wrapped markdown-it rules record (source offsets, destination or reference,
label range), by following markdown-it's own rules, in its order, but jumping
from one character that can start a token to the next with one regex search
instead of trying a dozen rules at every punctuation mark. It declines
(returns ``None``) where the content holds syntax it does not model (inline
math, footnotes) or nests brackets deeply; the caller then runs markdown-it.
A differential test holds it equal to markdown-it on the real corpora and on
generated input.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from markdown_it.common.html_re import HTML_TAG_RE
from markdown_it.common.utils import normalizeReference
from markdown_it.helpers import parseLinkDestination, parseLinkTitle
from markdown_it.rules_inline.autolink import AUTOLINK_RE, EMAIL_RE

__all__ = ["FirstClose", "InlineToken", "destination_end", "link_shape", "scan_inline", "wikilink_end"]

#: Characters at which a modelled rule can start (escape, code span, link, image, wikilink, autolink, HTML).
_STARTS = re.compile(r"[\\`\[!<]")
#: Characters that matter inside a link label: the above plus the closing bracket.
_LABEL_STARTS = re.compile(r"[\\`\[\]!<]")
#: Deeper bracket nesting than this goes to markdown-it, whose nesting limit changes the result.
_MAX_DEPTH = 8
_SPACE_OR_NEWLINE = " \t\n"
#: What may follow the ``<`` of inline HTML: a letter (a tag), ``/``, ``!`` or ``?``.
_TAG_STARTS = frozenset("!?/" + string.ascii_letters)


@dataclass(slots=True)
class InlineToken:
    """The part of a markdown-it ``Token`` the body walk reads (a ``Token`` costs three times as much to make)."""

    type: str
    meta: dict[str, Any]
    content: str = ""
    markup: str = ""


class _Decline(Exception):
    """The content needs markdown-it itself."""


_ANGLE_DESTINATION = re.compile(r"<(?:[^\n<>\\]|\\[\s\S])*>")
_PLAIN_DESTINATION = re.compile(r"(?:[^\x00-\x20\x7f()\\]|\\[^ ])+")


def destination_end(src: str, pos: int, maximum: int | None = None) -> int | None:
    """Where the link destination starting at ``pos`` ends, or ``None`` if there is none.

    The same answer as markdown-it's ``parseLinkDestination``, which walks the
    destination character by character; the link rule has just done that
    once, and doing it again was a twentieth of the parse. Destinations with
    parentheses, or a backslash where the match stops, go to markdown-it.
    """
    maximum = len(src) if maximum is None else maximum
    if src.startswith("<", pos):
        match = _ANGLE_DESTINATION.match(src, pos, maximum)
        return match.end() if match else None
    match = _PLAIN_DESTINATION.match(src, pos, maximum)
    end = match.end() if match else pos
    if end < maximum and src[end] in "(\\":
        result = parseLinkDestination(src, pos, maximum)
        return result.pos if result.ok else None
    return end if end > pos else None


class FirstClose:
    """The first ``]]`` at or after an offset, remembering the last search.

    Openers come in increasing order, so a run of unclosed ``[[[[...`` costs
    one scan of the text, not one per opener.
    """

    def __init__(self) -> None:
        self._last: tuple[str | None, int, int] = (None, 0, -1)

    def __call__(self, src: str, start: int) -> int:
        searched, searched_from, found = self._last
        if searched is not src or not searched_from <= start or (found >= 0 and start > found):
            found = src.find("]]", start)
            self._last = (src, start, found)
        return found


def wikilink_end(src: str, pos: int, maximum: int, find_close: Callable[[str, int], int]) -> int:
    """Where the ``[[...]]`` or ``![[...]]`` at ``pos`` ends, or -1 if there is none.

    Shared with the markdown-it rule, so both read wikilinks the same way.
    ``find_close`` finds the first ``]]`` at or after an offset.
    """
    opener = pos + 1 if src.startswith("!", pos) else pos
    if not src.startswith("[[", opener):
        return -1
    close = find_close(src, opener + 2)
    if close < 0 or close + 2 > maximum:
        return -1
    inner = src[opener + 2 : close]
    if not inner.strip() or "\n" in inner or "[[" in inner:
        return -1
    if src.startswith("(", close + 2):
        # ``[[1]](https://...)`` / ``![[alt]](x.png)``: a markdown link or image whose
        # text is "[1]" (pasted citations, exported figures), as CommonMark reads it.
        return -1
    return close + 2


def link_shape(src: str, label_start: int, label_end: int) -> dict[str, Any]:
    """Where the destination of the link whose label is ``src[label_start:label_end + 1]`` sits, or its reference.

    ``label_start`` is the offset of ``[``, ``label_end`` that of the matching ``]``.
    """
    from kbmine.parse.markdown import destination_end

    label_range = (label_start + 1, label_end)
    pos = label_end + 1
    if pos < len(src) and src[pos] == "(":
        pos += 1
        while pos < len(src) and src[pos] in _SPACE_OR_NEWLINE:
            pos += 1
        end = destination_end(src, pos)
        if end is not None:
            return {"dest": (pos, end), "label_range": label_range}
        return {"label_range": label_range}
    if pos < len(src) and src[pos] == "[":
        close = src.find("]", pos + 1)
        if close > pos + 1:
            return {"ref": src[pos + 1 : close], "label_range": label_range}
    return {"ref": src[label_start + 1 : label_end], "label_range": label_range}


class _Scanner:
    """One paragraph's scan; mirrors markdown-it's ``StateInline`` where it matters."""

    def __init__(self, src: str, references: Mapping[str, Any] | None, dialect: str) -> None:
        self.src = src
        self.references = references
        self.dialect = dialect
        self.tokens: list[InlineToken] = []
        self.skips: dict[tuple[int, int], int] = {}
        self.depth = 0
        self._last_runs: dict[int, int] | None = None
        self._last_terminators: dict[str, int] = {}
        self._first_close = FirstClose()

    # -- the loop -----------------------------------------------------------

    def tokenize(self, pos: int, maximum: int) -> None:
        src = self.src
        search = _STARTS.search
        while pos < maximum:
            found = search(src, pos, maximum)
            if found is None:
                return
            pos = found.start()
            # What :meth:`rule` does, with the commonest starts (code spans, tags) called directly.
            char = src[pos]
            if char == "`":
                end = self.code_span(pos, maximum, False)
            elif char == "<":
                end = self.autolink(pos, maximum, False)
                if end < 0:
                    end = self.html(pos, maximum, False)
            else:
                end = self.rule(pos, maximum, False)
            pos = end if end > pos else pos + 1

    def rule(self, pos: int, maximum: int, silent: bool) -> int:
        """The end of the token the first matching rule reads at ``pos``, or -1 (markdown-it's rule order)."""
        char = self.src[pos]
        if char == "\\":
            return self.escape(pos, maximum)
        if char == "`":
            return self.code_span(pos, maximum, silent)
        if char == "[" or char == "!":
            end = self.wikilink(pos, maximum, silent)
            if end >= 0:
                return end
            return self.link(pos, maximum, silent) if char == "[" else self.image(pos, maximum, silent)
        if char == "<":
            end = self.autolink(pos, maximum, silent)
            return end if end >= 0 else self.html(pos, maximum, silent)
        return -1

    def skip(self, pos: int, maximum: int) -> int:
        """markdown-it's ``skipToken``: where the token at ``pos`` ends, or ``pos + 1``."""
        key = (pos, maximum)
        cached = self.skips.get(key)
        if cached is not None:
            return cached
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _Decline()
        try:
            end = self.rule(pos, maximum, silent=True)
        finally:
            self.depth -= 1
        end = end if end > pos else pos + 1
        self.skips[key] = end
        return end

    def label_end(self, start: int, maximum: int, disable_nested: bool) -> int:
        """markdown-it's ``parseLinkLabel``: the offset of the ``]`` closing the ``[`` at ``start``, or -1."""
        src = self.src
        search = _LABEL_STARTS.search
        level = 1
        pos = start + 1
        while pos < maximum:
            found = search(src, pos, maximum)
            if found is None:
                return -1
            pos = found.start()
            char = src[pos]
            if char == "]":
                level -= 1
                if level == 0:
                    return pos
                pos += 1
                continue
            end = self.skip(pos, maximum)
            if char == "[":
                if end == pos + 1:
                    level += 1
                elif disable_nested:
                    return -1
            pos = end
        return -1

    # -- the rules ------------------------------------------------------------

    def escape(self, pos: int, maximum: int) -> int:
        if pos + 1 >= maximum:
            return -1
        if self.src[pos + 1] != "\n":
            return pos + 2
        pos += 2
        while pos < maximum and self.src[pos] in " \t":
            pos += 1
        return pos

    def code_span(self, start: int, maximum: int, silent: bool) -> int:
        src = self.src
        pos = start + 1
        while pos < maximum and src[pos] == "`":
            pos += 1
        length = pos - start
        if self._last_runs is None:
            self._last_runs = _last_backtick_runs(src)
        if self._last_runs.get(length, -1) >= pos:
            match_end = pos
            while (match_start := src.find("`", match_end)) != -1 and match_start < maximum:
                match_end = match_start + 1
                while match_end < len(src) and src[match_end] == "`":
                    match_end += 1
                if match_end > maximum:
                    break
                if match_end - match_start == length:
                    if not silent:
                        self.tokens.append(InlineToken("code_inline", {"src": (start, match_end)}))
                    return match_end
        return pos

    def wikilink(self, pos: int, maximum: int, silent: bool) -> int:
        end = wikilink_end(self.src, pos, maximum, self._first_close)
        if end >= 0 and not silent:
            embed = self.src[pos] == "!"
            opener = pos + 1 if embed else pos
            token = self.push("wikilink", (pos, end), embed=embed, dialect=self.dialect)
            token.content = self.src[opener + 2 : end - 2]
        return end

    def link(self, pos: int, maximum: int, silent: bool) -> int:
        src = self.src
        label_end = self.label_end(pos, maximum, disable_nested=True)
        if label_end < 0:
            return -1
        end, stop = self._inline_destination(label_end + 1, maximum)
        if end is None:
            # markdown-it returns early when only blanks follow "(": no reference fallback.
            return -1
        if end < 0:
            # Like markdown-it, look for "[ref]" one past where the inline form failed.
            end = self._reference(pos + 1, label_end, maximum, stop + 1 if stop > label_end + 1 else label_end + 1)
            if end < 0:
                return -1
        if not silent:
            self.push("link_open", (pos, end), **link_shape(src, pos, label_end))
            self.tokenize(pos + 1, label_end)
        return end

    def image(self, pos: int, maximum: int, silent: bool) -> int:
        src = self.src
        if pos + 1 < maximum and src[pos + 1] != "[":
            return -1
        label_end = self.label_end(pos + 1, maximum, disable_nested=False)
        if label_end < 0:
            return -1
        if label_end + 1 < maximum and src[label_end + 1] == "(":
            end, _ = self._inline_destination(label_end + 1, maximum)
            if end is None or end < 0:
                return -1
        else:
            end = self._reference(pos + 2, label_end, maximum, label_end + 1)
            if end < 0:
                return -1
        if not silent:
            self.push("image", (pos, end), **link_shape(src, pos + 1, label_end))
        return end

    def _inline_destination(self, pos: int, maximum: int) -> tuple[int | None, int]:
        """After a label: the end of ``(destination "title")`` (-1 if there is none; None if only
        blanks follow the parenthesis) and where the reading stopped."""
        src = self.src
        if not (pos < maximum and src[pos] == "("):
            return -1, pos
        pos += 1
        while pos < maximum and src[pos] in _SPACE_OR_NEWLINE:
            pos += 1
        if pos >= maximum:
            return None, pos
        end = destination_end(src, pos, maximum)
        if end is not None:
            pos = start = end
            while pos < maximum and src[pos] in _SPACE_OR_NEWLINE:
                pos += 1
            title = parseLinkTitle(src, pos, maximum)
            if pos < maximum and start != pos and title.ok:
                pos = title.pos
                while pos < maximum and src[pos] in _SPACE_OR_NEWLINE:
                    pos += 1
        if pos >= maximum or src[pos] != ")":
            return -1, pos
        return pos + 1, pos + 1

    def _reference(self, label_start: int, label_end: int, maximum: int, pos: int) -> int:
        """The end of ``[label][ref]``, ``[label][]`` or ``[label]`` if its reference is defined, else -1.

        ``pos`` is where a ``[ref]`` may open: just past the label, or (markdown-it's
        reading) one past where a failed ``(...)`` stopped.
        """
        if self.references is None:
            return -1
        src = self.src
        label = None
        if pos < maximum and src[pos] == "[":
            close = self.label_end(pos, maximum, disable_nested=False)
            if close >= 0:
                label = src[pos + 1 : close]
                pos = close + 1
            else:
                pos = label_end + 1
        else:
            pos = label_end + 1
        if not label:
            label = src[label_start:label_end]
        if not self.references.get(normalizeReference(label)):
            return -1
        return pos

    def autolink(self, pos: int, maximum: int, silent: bool) -> int:
        src = self.src
        close = src.find(">", pos + 1, maximum)
        if close < 0 or src.find("<", pos + 1, close) >= 0:
            return -1
        url = src[pos + 1 : close]
        # A URL has a scheme and its colon, an address its "@": most tags have neither.
        if (":" not in url or AUTOLINK_RE.search(url) is None) and ("@" not in url or EMAIL_RE.search(url) is None):
            return -1
        if not silent:
            token = self.push("link_open", (pos, close + 1))
            token.markup = "autolink"
        return close + 1

    def html(self, pos: int, maximum: int, silent: bool) -> int:
        src = self.src
        if pos + 2 >= maximum:
            return -1
        char = src[pos + 1]
        if char not in _TAG_STARTS:
            return -1
        # No terminator after the opener means no tag: skip the regex, which would scan to the end.
        if src.startswith("<!--", pos):
            if self._last(">") < pos + 4 or (
                not src.startswith("<!-->", pos) and not src.startswith("<!--->", pos) and self._last("-->") < pos + 4
            ):
                return -1
        elif src.startswith("<![CDATA[", pos):
            if self._last("]]>") < pos + 9:
                return -1
        elif char == "?":
            if self._last("?>") < pos + 2:
                return -1
        elif self._last(">") < pos + (3 if char == "!" else 2):
            return -1
        match = HTML_TAG_RE.match(src, pos)
        if not match:
            return -1
        end = match.end()
        if not silent:
            self.tokens.append(InlineToken("html_inline", {"src": (pos, end)}))
        return end

    def _last(self, terminator: str) -> int:
        found = self._last_terminators.get(terminator)
        if found is None:
            found = self._last_terminators[terminator] = self.src.rfind(terminator)
        return found

    # -- output -------------------------------------------------------------

    def push(self, kind: str, span: tuple[int, int], **meta: Any) -> InlineToken:
        token = InlineToken(kind, {"src": span, **meta})
        self.tokens.append(token)
        return token


def _last_backtick_runs(src: str) -> dict[int, int]:
    """Each backtick run length's last position in ``src`` (markdown-it's cache, same answers)."""
    runs: dict[int, int] = {}
    pos = 0
    while (start := src.find("`", pos)) != -1:
        pos = start + 1
        while pos < len(src) and src[pos] == "`":
            pos += 1
        runs[pos - start] = start
    return runs


def scan_inline(src: str, references: Mapping[str, Any] | None, dialect: str) -> list[InlineToken] | None:
    """The link, image, wikilink, code-span and inline-HTML tokens of one paragraph's inline content.

    ``references`` are the document's link reference definitions (markdown-it's
    ``env["references"]``; ``None`` when it has none). Returns ``None`` when
    the content needs markdown-it (see the module docstring).
    """
    # Left to markdown-it: inline math and footnotes (``^[...]``, ``[^...]``).
    if dialect == "dendron" or "$" in src or "^[" in src or "[^" in src:
        return None
    scanner = _Scanner(src, references, dialect)
    try:
        scanner.tokenize(0, len(src))
    except _Decline:
        return None
    return scanner.tokens
