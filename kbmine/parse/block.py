"""A fast block scanner: what the body walk reads of markdown-it's block parse, without the parse.

markdown-it's block phase was the largest part of a note's parse: it builds
about 200 ``Token`` objects per note (paragraph and list item openers and
closers, hidden tight-list marks), tries a chain of rules at every block
start, and scans each paragraph twice (once as a possible setext heading).
The walk in :func:`kbmine.parse.markdown.parse_body` reads only a few
things of it: each inline token's content and line map, and whether it is a
heading (of which level) or the first block of a list item; the line maps of
code-like blocks; reference definitions and ``env["references"]``.

:func:`scan_blocks` yields exactly those, as :class:`BlockRecord`\\ s, by
following markdown-it's block rules (``markdown_it/rules_block``) with the
same line tables and the same container bookkeeping (block quotes rewrite
``bMarks``/``sCount``, lists ``tShift``/``blkIndent``, paragraphs read on
to ``lineMax``), but with no tokens, one first-character dispatch per
line, and the setext and paragraph scans merged into one. The footnote and
dollar-math plugins' block rules are followed too. It declines (returns
``None``, and markdown-it parses the note) on what it does not model: tabs
(their column arithmetic) and nesting at markdown-it's limit. A
differential test holds it equal to :func:`block_records` of markdown-it's
tokens on the corpora and on generated documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from markdown_it.common.utils import MD_TRIM_CHARS, normalizeReference
from markdown_it.helpers import parseLinkDestination, parseLinkTitle
from markdown_it.rules_block.html_block import HTML_SEQUENCES
from markdown_it.token import Token
from mdit_py_plugins.dollarmath.index import DOLLAR_EQNO_REV as _DOLLAR_LABEL

__all__ = ["BlockRecord", "block_records", "line_tables", "scan_blocks"]

#: Block tokens whose text is never prose (nothing in them is a link).
_CODE_TOKENS = frozenset({"fence", "code_block", "html_block", "math_block", "math_block_label"})
#: markdown-it's ``maxNesting``: deeper documents go to markdown-it, which stops parsing there.
_MAX_NESTING = 20

# The terminator chains a line is tested against (markdown-it's ``alt`` lists).
_LIST, _BLOCKQUOTE, _REFERENCE, _PARAGRAPH = range(4)
#: What ``line[:1]`` is for a line that starts with blanks (the empty string is not in it).
_BLANKS = frozenset(" \t")
#: The characters a block other than a paragraph can start with (after indentation).
_BLOCK_STARTS = frozenset("`~>*-_+0123456789$[<#")
#: The characters a block that ends a paragraph, list or quote can start with.
_TERMINATOR_STARTS = frozenset("`~>*-_+0123456789[<#")


class BlockRecord(NamedTuple):
    """What the body walk reads of one block token.

    ``kind`` is ``"inline"`` (a paragraph's or heading's content),
    ``"code"`` (a fence, indented code, HTML or math block) or
    ``"definition"`` (a link reference definition, ``meta`` as markdown-it
    sets it). ``start``/``end`` are the token's line map.
    """

    kind: str
    start: int
    end: int
    content: str = ""
    heading: int = 0
    first_in_item: bool = False
    meta: dict[str, Any] | None = None


def block_records(tokens: Sequence[Token]) -> list[BlockRecord]:
    """The records of markdown-it's block tokens: what :func:`scan_blocks` gives without them."""
    records: list[BlockRecord] = []
    for index, token in enumerate(tokens):
        kind = token.type
        if kind in _CODE_TOKENS and token.map:
            records.append(BlockRecord("code", token.map[0], token.map[1]))
        elif kind == "definition" and token.map:
            records.append(BlockRecord("definition", token.map[0], token.map[1], meta=token.meta))
        elif kind == "inline" and token.map:
            opener = tokens[index - 1] if index else None
            heading = int(opener.tag[1:]) if opener is not None and opener.type == "heading_open" else 0
            first = index >= 2 and tokens[index - 2].type == "list_item_open"
            records.append(BlockRecord("inline", token.map[0], token.map[1], token.content, heading, first))
    return records


class _Decline(Exception):
    """The document holds a construct the scanner leaves to markdown-it."""


def line_tables(src: str) -> tuple[list[int], list[int], list[int], list[int]]:
    """Start, end, indent width and indent columns (tabs to multiples of 4) of every line.

    ``StateBlock``'s tables, built from ``str.split`` instead of a loop per
    character: like markdown-it, a last line of only blanks without a line
    break gets no entry, and one extra entry lies past the end.
    """
    begins: list[int] = []
    ends: list[int] = []
    shifts: list[int] = []
    columns: list[int] = []
    length = len(src)
    start = 0
    for line in src.split("\n"):
        if start >= length:
            break
        end = start + len(line)
        if line[:1] in _BLANKS:
            shift = len(line) - len(line.lstrip(" \t"))
            if end == length and shift == len(line):
                break
            column = _indent_columns(line, shift) if "\t" in line[:shift] else shift
        else:
            shift = column = 0
        begins.append(start)
        ends.append(end)
        shifts.append(shift)
        columns.append(column)
        start = end + 1
    begins.append(length)
    ends.append(length)
    shifts.append(0)
    columns.append(0)
    return begins, ends, shifts, columns


def _indent_columns(line: str, shift: int) -> int:
    column = 0
    for character in line[:shift]:
        column += 4 - column % 4 if character == "\t" else 1
    return column


class _Scanner:
    """One document's block scan; its fields are ``StateBlock``'s, its methods markdown-it's block rules."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.bMarks, self.eMarks, self.tShift, self.sCount = line_tables(src)
        self.lineMax = len(self.bMarks) - 1
        self.line = 0
        self.blkIndent = 0
        self.listIndent = -1
        self.level = 0
        self.records: list[BlockRecord] = []
        self.env: dict[str, Any] = {}
        #: Whether the last token markdown-it would have pushed is a ``list_item_open``.
        self.item_opened = False

    # -- the block loop -----------------------------------------------------------

    def tokenize(self, line: int, end: int) -> None:
        """markdown-it's ``ParserBlock.tokenize``."""
        bMarks, eMarks, tShift, sCount = self.bMarks, self.eMarks, self.tShift, self.sCount
        while line < end:
            line_max = self.lineMax
            while line < line_max and bMarks[line] + tShift[line] >= eMarks[line]:
                line += 1
            self.line = line
            if line >= end or sCount[line] < self.blkIndent:
                break
            if self.level >= _MAX_NESTING:
                raise _Decline()
            if sCount[line] - self.blkIndent < 4 and self.src[bMarks[line] + tShift[line]] not in _BLOCK_STARTS:
                self.paragraph(line, end)  # the common case, without the rule chain
            else:
                self.block(line, end)
            line = self.line
            if line < end and bMarks[line] + tShift[line] >= eMarks[line]:
                line += 1
                self.line = line

    def block(self, line: int, end: int) -> None:
        """The first of markdown-it's block rules that matches at ``line``, in its order."""
        if self.sCount[line] - self.blkIndent >= 4:
            self.code(line, end)
            return
        src = self.src
        pos = self.bMarks[line] + self.tShift[line]
        char = src[pos]
        if char in "`~" and self.fence(line, end, False):
            return
        if char == ">":
            self.blockquote(line, end)
            return
        if char in "*-_" and self.hr(line):
            self.line = line + 1
            self.item_opened = False
            return
        if char in "*-+0123456789" and self.list_block(line, end):
            return
        if char == "$" and self.math_block(line, end):
            return
        if char == "[":
            if self.footnote(line):
                self.footnote_block(line, end)
                return
            if self.reference(line):
                return
        if char == "<" and self.html_block(line, end, False):
            return
        if char == "#" and self.heading(line):
            return
        self.paragraph(line, end)

    def terminates(self, line: int, chain: int) -> bool:
        """Whether a block of ``chain``'s terminator rules starts at ``line`` (markdown-it's silent mode)."""
        if self.sCount[line] - self.blkIndent >= 4:
            return False
        pos = self.bMarks[line] + self.tShift[line]
        if pos >= self.eMarks[line]:
            return False
        char = self.src[pos]
        if char not in _TERMINATOR_STARTS:
            return False
        if char in "`~":
            return self.fence(line, 0, True)
        if char == ">":
            return True
        if char in "*-_" and self.hr(line):
            return True
        if char in "*-+0123456789":
            return self.list_starts(line, chain == _PARAGRAPH)
        if chain == _LIST:
            return False
        if char == "[":
            return chain != _BLOCKQUOTE and self.footnote(line)
        if char == "<":
            return self.html_block(line, 0, True)
        if char == "#":
            return self.heading_starts(line) > 0
        return False

    def inline(self, start: int, end: int, content: str, heading: int = 0) -> None:
        """Record a paragraph's or heading's inline content."""
        self.records.append(BlockRecord("inline", start, end, content, heading, self.item_opened))
        self.item_opened = False

    def get_lines(self, begin: int, end: int) -> str:
        """``StateBlock.getLines(begin, end, blkIndent, False)`` for tab-free text."""
        src, bMarks, eMarks, tShift, indent = self.src, self.bMarks, self.eMarks, self.tShift, self.blkIndent
        last = end - 1
        parts = [src[bMarks[line] + min(indent, tShift[line]) : eMarks[line] + 1] for line in range(begin, last)]
        parts.append(src[bMarks[last] + min(indent, tShift[last]) : eMarks[last]])
        return "".join(parts)

    # -- leaf blocks ---------------------------------------------------------------

    def code(self, line: int, end: int) -> None:
        """An indented code block."""
        bMarks, eMarks, tShift, sCount, indent = self.bMarks, self.eMarks, self.tShift, self.sCount, self.blkIndent
        last = following = line + 1
        while following < end:
            if bMarks[following] + tShift[following] >= eMarks[following]:
                following += 1
            elif sCount[following] - indent >= 4:
                following += 1
                last = following
            else:
                break
        self.line = last
        self.records.append(BlockRecord("code", line, last))
        self.item_opened = False

    def fence(self, line: int, end: int, silent: bool) -> bool:
        """A fenced code block (in silent mode: whether one opens at ``line``)."""
        src, bMarks, eMarks, tShift, sCount = self.src, self.bMarks, self.eMarks, self.tShift, self.sCount
        pos = bMarks[line] + tShift[line]
        maximum = eMarks[line]
        if pos + 3 > maximum:
            return False
        marker = src[pos]
        mem = pos
        while pos < maximum and src[pos] == marker:
            pos += 1
        length = pos - mem
        if length < 3 or (marker == "`" and "`" in src[pos:maximum]):
            return False
        if silent:
            return True
        following = line
        closed = False
        while True:
            following += 1
            if following >= end:
                break
            pos = mem = bMarks[following] + tShift[following]
            maximum = eMarks[following]
            if pos < maximum and sCount[following] < self.blkIndent:
                break
            if pos >= len(src):
                break
            if src[pos] != marker or sCount[following] - self.blkIndent >= 4:
                continue
            while pos < maximum and src[pos] == marker:
                pos += 1
            if pos - mem < length:
                continue
            while pos < maximum and src[pos] in " \t":
                pos += 1
            if pos < maximum:
                continue
            closed = True
            break
        self.line = following + 1 if closed else following
        self.records.append(BlockRecord("code", line, self.line))
        self.item_opened = False
        return True

    def hr(self, line: int) -> bool:
        """Whether ``line`` is a thematic break: three or more of one marker, spaces between."""
        src = self.src
        start = self.bMarks[line] + self.tShift[line]
        marker = src[start]
        count = 1
        for pos in range(start + 1, self.eMarks[line]):  # a list item's line fails at its first letter
            char = src[pos]
            if char == marker:
                count += 1
            elif char != " ":
                return False
        return count >= 3

    def heading_starts(self, line: int) -> int:
        """The level of the ATX heading opening ``line``, 0 if there is none."""
        src = self.src
        pos = self.bMarks[line] + self.tShift[line]
        maximum = self.eMarks[line]
        level = 1
        pos += 1
        while pos < maximum and src[pos] == "#" and level <= 6:
            level += 1
            pos += 1
        if level > 6 or (pos < maximum and src[pos] not in " \t"):
            return 0
        return level

    def heading(self, line: int) -> bool:
        """An ATX heading; its text is the line without the opening and closing ``#`` runs."""
        level = self.heading_starts(line)
        if not level:
            return False
        src = self.src
        pos = self.bMarks[line] + self.tShift[line] + level
        maximum = self.eMarks[line]
        maximum = pos + len(src[pos:maximum].rstrip(" \t"))
        hashes = pos + len(src[pos:maximum].rstrip("#"))
        if hashes > pos and src[hashes - 1] in " \t":
            maximum = hashes
        self.line = line + 1
        self.inline(line, line + 1, src[pos:maximum].strip(MD_TRIM_CHARS), level)
        return True

    def html_block(self, line: int, end: int, silent: bool) -> bool:
        """An HTML block of one of markdown-it's seven kinds (in silent mode: whether it may end a paragraph)."""
        src, bMarks, eMarks, tShift = self.src, self.bMarks, self.eMarks, self.tShift
        text = src[bMarks[line] + tShift[line] : eMarks[line]]
        for opening, closing, terminates in HTML_SEQUENCES:
            if opening.search(text):
                break
        else:
            return False
        if silent:
            return terminates
        following = line + 1
        ends_on_blank = bool(closing.search(""))
        if not closing.search(text):
            while following < end:
                empty = bMarks[following] + tShift[following] >= eMarks[following]
                if self.sCount[following] < self.blkIndent and (ends_on_blank or not empty):
                    break
                text = src[bMarks[following] + tShift[following] : eMarks[following]]
                if closing.search(text):
                    if text:
                        following += 1
                    break
                following += 1
        self.line = following
        self.records.append(BlockRecord("code", line, following))
        self.item_opened = False
        return True

    def footnote(self, line: int) -> bool:
        """Whether a footnote definition ``[^label]:`` starts at ``line`` (the plugin's silent mode)."""
        src = self.src
        start = self.bMarks[line] + self.tShift[line]
        maximum = self.eMarks[line]
        if start + 4 > maximum or src[start + 1] != "^":
            return False
        close = src.find("]", start + 2, maximum)
        space = src.find(" ", start + 2, maximum)
        if close < 0 or (0 <= space < close) or close == start + 2:
            return False
        return close + 1 < maximum and src[close + 1] == ":"

    def math_block(self, line: int, end: int) -> bool:
        """The dollarmath plugin's ``$$`` block (labels allowed, blank lines not)."""
        src = self.src
        pos = self.bMarks[line] + self.tShift[line]
        if not src.startswith("$$", pos) or pos + 2 > self.eMarks[line]:
            return False
        text = src[pos : self.eMarks[line]]
        closed = False
        if len(text.strip()) > 3:
            if text.strip().endswith("$$") or _DOLLAR_LABEL.match(text[::-1]):
                closed = True
            elif "$$" in text[2:]:
                return False
        following = line
        while not closed:
            following += 1
            if following >= end:
                break
            text = src[self.bMarks[following] + self.tShift[following] : self.eMarks[following]]
            stripped = text.strip()
            if stripped.endswith("$$"):
                closed = True
            elif not stripped:
                break
            elif _DOLLAR_LABEL.match(text[::-1]):
                closed = True
        if not closed:
            return False
        self.line = following + 1
        self.records.append(BlockRecord("code", line, self.line))
        self.item_opened = False
        return True

    def paragraph(self, line: int, end: int) -> None:
        """markdown-it's ``lheading`` and, if it finds no underline, ``paragraph``, in one scan."""
        src, bMarks, eMarks, tShift, sCount = self.src, self.bMarks, self.eMarks, self.tShift, self.sCount
        indent = self.blkIndent
        following = line + 1
        level = 0
        while following < end:
            pos = bMarks[following] + tShift[following]
            maximum = eMarks[following]
            if pos >= maximum:
                break
            count = sCount[following]
            if count - indent > 3:
                following += 1
                continue
            marker = src[pos]
            if count >= indent and (marker == "=" or marker == "-"):
                rest = src[pos:maximum].lstrip(marker)
                if not rest.strip(" \t"):
                    level = 1 if marker == "=" else 2
                    break
            if count < 0:
                following += 1
                continue
            if marker in _TERMINATOR_STARTS and self.terminates(following, _PARAGRAPH):
                break
            following += 1
        else:
            line_max = self.lineMax
            while following < line_max:
                pos = bMarks[following] + tShift[following]
                if pos >= eMarks[following]:
                    break
                count = sCount[following]
                if count - indent > 3 or count < 0:
                    following += 1
                    continue
                if src[pos] in _TERMINATOR_STARTS and self.terminates(following, _PARAGRAPH):
                    break
                following += 1
        if following == line + 1:
            content = src[bMarks[line] + tShift[line] : eMarks[line]]
        else:
            content = self.get_lines(line, following)
        self.line = following + 1 if level else following
        self.records.append(BlockRecord("inline", line, following, content.strip(MD_TRIM_CHARS), level, self.item_opened))
        self.item_opened = False

    # -- reference definitions -----------------------------------------------------

    def reference(self, line: int) -> bool:
        """markdown-it's ``reference`` rule, which also fills ``env["references"]``."""
        src = self.src
        string = src[self.bMarks[line] + self.tShift[line] : self.eMarks[line] + 1]
        following = line + 1
        maximum = len(string)
        label_end = -1
        pos = 1
        while pos < maximum:
            char = string[pos]
            if char == "[":
                return False
            if char == "]":
                label_end = pos
                break
            if char == "\\":
                pos += 1
                char = string[pos] if pos < maximum else ""
            if char == "\n":
                string, following = self._read_on(string, following)
                maximum = len(string)
            pos += 1
        if label_end < 0 or label_end + 1 >= len(string) or string[label_end + 1] != ":":
            return False
        pos = label_end + 2
        string, maximum, following, pos = self._skip_blanks(string, following, pos)
        destination = parseLinkDestination(string, pos, maximum)
        if not destination.ok:
            return False
        href = destination.str
        pos = destination_end = destination.pos
        destination_line = following
        start = pos
        string, maximum, following, pos = self._skip_blanks(string, following, pos)
        title_result = parseLinkTitle(string, pos, maximum, None)
        while title_result.can_continue:
            string, read_to = self._read_on(string, following)
            if read_to == following:
                break
            following = read_to
            pos = maximum
            maximum = len(string)
            title_result = parseLinkTitle(string, pos, maximum, title_result)
        if pos < maximum and start != pos and title_result.ok:
            title = title_result.str
            pos = title_result.pos
        else:
            title = ""
            pos = destination_end
            following = destination_line
        while pos < maximum and string[pos] in " \t":
            pos += 1
        if pos < maximum and string[pos] != "\n" and title:
            title = ""
            pos = destination_end
            following = destination_line
            while pos < maximum and string[pos] in " \t":
                pos += 1
        if pos < maximum and string[pos] != "\n":
            return False
        label = normalizeReference(string[1:label_end])
        if not label:
            return False
        references = self.env.setdefault("references", {})
        self.line = following
        meta = {"id": label, "title": title, "url": href, "label": string[1:label_end]}
        self.records.append(BlockRecord("definition", line, following, meta=meta))
        self.item_opened = False
        entry = {"title": title, "href": href, "map": [line, following]}
        if label not in references:
            references[label] = entry
        else:
            self.env.setdefault("duplicate_refs", []).append({**entry, "label": label})
        return True

    def _skip_blanks(self, string: str, following: int, pos: int) -> tuple[str, int, int, int]:
        """Skip spaces, tabs and line breaks in a definition, reading on into the next lines."""
        maximum = len(string)
        while pos < maximum:
            char = string[pos]
            if char == "\n":
                string, following = self._read_on(string, following)
                maximum = len(string)
            elif char not in " \t":
                break
            pos += 1
        return string, maximum, following, pos

    def _read_on(self, string: str, line: int) -> tuple[str, int]:
        """markdown-it's ``getNextLine``: a definition's text with ``line`` added, and the line after,
        or both unchanged where the definition cannot go on."""
        if line >= self.lineMax:
            return string, line
        pos = self.bMarks[line] + self.tShift[line]
        if pos >= self.eMarks[line]:
            return string, line
        count = self.sCount[line]
        continuation = count - self.blkIndent >= 4 or count < 0
        if not continuation and self.terminates(line, _REFERENCE):
            return string, line
        return string + self.src[pos : self.eMarks[line] + 1], line + 1

    # -- containers ----------------------------------------------------------------

    def footnote_block(self, line: int, end: int) -> None:
        """The footnote plugin's definition: a container whose content is indented by four more columns."""
        bMarks, tShift, sCount = self.bMarks, self.tShift, self.sCount
        start = bMarks[line] + tShift[line]
        after_colon = self.src.index("]:", start) + 2
        label = self.src[start + 2 : after_colon - 2]
        footnotes = self.env.setdefault("footnotes", {})
        footnotes.setdefault("refs", {})
        footnotes.setdefault("list", {})
        footnotes["refs"][":" + label] = -1
        pos = after_colon
        maximum = self.eMarks[line]
        while pos < maximum and self.src[pos] == " ":
            pos += 1
        old = bMarks[line], tShift[line], sCount[line]
        tShift[line] = pos - after_colon
        sCount[line] = pos - after_colon
        bMarks[line] = after_colon
        self.blkIndent += 4
        if sCount[line] < self.blkIndent:
            sCount[line] += self.blkIndent
        self.item_opened = False
        self.level += 1
        self.tokenize(line, end)
        self.level -= 1
        self.item_opened = False
        self.blkIndent -= 4
        bMarks[line], tShift[line], sCount[line] = old

    def blockquote(self, line: int, end: int) -> None:
        """markdown-it's ``blockquote`` rule (the line is known to open one)."""
        bMarks, eMarks, tShift, sCount = self.bMarks, self.eMarks, self.tShift, self.sCount
        old_line_max = self.lineMax
        saved: list[tuple[int, int, int]] = []
        last_empty = self._quoted(line, saved)
        following = line + 1
        while following < end:
            pos = bMarks[following] + tShift[following]
            if pos >= eMarks[following]:
                break
            if self.src[pos] == ">" and sCount[following] >= self.blkIndent:
                last_empty = self._quoted(following, saved)
                following += 1
                continue
            if last_empty:
                break
            if self.terminates(following, _BLOCKQUOTE):
                # markdown-it's "hard termination": paragraphs inside may not read past here.
                self.lineMax = following
                if self.blkIndent != 0:
                    saved.append((bMarks[following], tShift[following], sCount[following]))
                    sCount[following] -= self.blkIndent
                break
            saved.append((bMarks[following], tShift[following], sCount[following]))
            sCount[following] = -1  # a lazy continuation line
            following += 1
        old_indent = self.blkIndent
        self.blkIndent = 0
        self.item_opened = False
        self.level += 1
        self.tokenize(line, following)
        self.level -= 1
        self.item_opened = False
        self.lineMax = old_line_max
        for index, (begin, shift, count) in enumerate(saved, line):
            bMarks[index] = begin
            tShift[index] = shift
            sCount[index] = count
        self.blkIndent = old_indent

    def _quoted(self, line: int, saved: list[tuple[int, int, int]]) -> bool:
        """Move ``line``'s marks past its ``>`` marker (saving the old ones); whether nothing follows it."""
        src = self.src
        pos = self.bMarks[line] + self.tShift[line] + 1
        maximum = self.eMarks[line]
        initial = offset = self.sCount[line] + 1
        if src.startswith(" ", pos):
            pos += 1
            initial += 1
            offset += 1
        saved.append((self.bMarks[line], self.tShift[line], self.sCount[line]))
        self.bMarks[line] = begin = pos
        while pos < maximum and src[pos] == " ":
            offset += 1
            pos += 1
        self.sCount[line] = offset - initial
        self.tShift[line] = pos - begin
        return pos >= maximum

    def bullet_end(self, line: int) -> int:
        """markdown-it's ``skipBulletListMarker``: the offset past a ``-``/``+``/``*`` marker, or -1."""
        src = self.src
        pos = self.bMarks[line] + self.tShift[line]
        if pos >= len(src) or src[pos] not in "*-+":
            return -1
        pos += 1
        if pos < self.eMarks[line] and src[pos] not in " \t":
            return -1
        return pos

    def ordered_end(self, line: int) -> int:
        """markdown-it's ``skipOrderedListMarker``: the offset past a ``1.``/``1)`` marker, or -1."""
        src = self.src
        start = pos = self.bMarks[line] + self.tShift[line]
        maximum = self.eMarks[line]
        if pos + 1 >= maximum or not "0" <= src[pos] <= "9":
            return -1
        pos += 1
        while True:
            if pos >= maximum:
                return -1
            char = src[pos]
            pos += 1
            if "0" <= char <= "9":
                if pos - start >= 10:
                    return -1
                continue
            if char == ")" or char == ".":
                break
            return -1
        if pos < maximum and src[pos] not in " \t":
            return -1
        return pos

    def list_starts(self, line: int, after_paragraph: bool) -> bool:
        """markdown-it's ``list`` rule in silent mode (``after_paragraph``: its parent is a paragraph)."""
        count = self.sCount[line]
        if count - self.blkIndent >= 4:
            return False
        if self.listIndent >= 0 and count - self.listIndent >= 4 and count < self.blkIndent:
            return False
        interrupts = after_paragraph and count >= self.blkIndent
        pos = self.ordered_end(line)
        if pos >= 0:
            if interrupts and int(self.src[self.bMarks[line] + self.tShift[line] : pos - 1]) != 1:
                return False
        else:
            pos = self.bullet_end(line)
            if pos < 0:
                return False
        # A list interrupting a paragraph may not open with an empty item.
        return not interrupts or bool(self.src[pos : self.eMarks[line]].strip(" \t"))

    def list_block(self, line: int, end: int) -> bool:
        """markdown-it's ``list`` rule: the items, each tokenized with the item's indent."""
        src, bMarks, eMarks, tShift, sCount = self.src, self.bMarks, self.eMarks, self.tShift, self.sCount
        count = sCount[line]
        if self.listIndent >= 0 and count - self.listIndent >= 4 and count < self.blkIndent:
            return False
        after_marker = self.ordered_end(line)
        ordered = after_marker >= 0
        if not ordered:
            after_marker = self.bullet_end(line)
            if after_marker < 0:
                return False
        marker = src[after_marker - 1]
        self.item_opened = False
        self.level += 1
        following = line
        while following < end:
            pos = after_marker
            maximum = eMarks[following]
            initial = offset = sCount[following] + after_marker - (bMarks[line] + tShift[line])
            while pos < maximum and src[pos] == " ":
                offset += 1
                pos += 1
            content_start = pos
            after = 1 if content_start >= maximum else offset - initial
            if after > 4:
                after = 1
            old_shift = tShift[line]
            old_count = sCount[line]
            old_list_indent = self.listIndent
            self.listIndent = self.blkIndent
            self.blkIndent = initial + after
            tShift[line] = content_start - bMarks[line]
            sCount[line] = offset
            self.item_opened = True
            self.level += 1
            if content_start >= maximum and bMarks[line + 1] + tShift[line + 1] >= eMarks[line + 1]:
                self.line = min(self.line + 2, end)
            else:
                self.tokenize(line, end)
            self.level -= 1
            self.item_opened = False
            self.blkIndent = self.listIndent
            self.listIndent = old_list_indent
            tShift[line] = old_shift
            sCount[line] = old_count
            following = line = self.line
            if following >= end or sCount[following] < self.blkIndent:
                break
            if sCount[line] - self.blkIndent >= 4 or self.terminates(following, _LIST):
                break
            after_marker = self.ordered_end(following) if ordered else self.bullet_end(following)
            if after_marker < 0 or marker != src[after_marker - 1]:
                break
        self.level -= 1
        self.item_opened = False
        self.line = following
        return True


def scan_blocks(src: str) -> tuple[list[BlockRecord], dict[str, Any]] | None:
    """The block records of ``src`` and the ``env`` markdown-it would fill, or ``None`` to let it parse.

    ``src`` is the note with frontmatter blanked and NUL replaced, as
    markdown-it would see it.
    """
    if "\t" in src:
        return None
    if not src:
        return [], {}
    scanner = _Scanner(src)
    try:
        scanner.tokenize(0, scanner.lineMax)
    except _Decline:
        return None
    return scanner.records, scanner.env
