"""Markdown body → links, headings, block ids and code ranges, with exact positions.

markdown-it-py gives block tokens line maps but inline tokens no positions.
We record positions ourselves: the inline rules that produce links (and the
ones whose text must never be read as links or mentions: code spans, inline
HTML, inline math) are wrapped so that each token they emit carries its
``(start, end)`` offsets inside the inline content, and :class:`_InlineMap`
translates those content offsets back to offsets in the note, line by line.

Only inline content that could hold something we need is inline-parsed: a
paragraph without ``[``, ``<``, backticks or ``$`` has no link and no code
span, and skipping it saves about a third of markdown-it's time.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from kbmine.model import Block, Heading, Link, Span
from kbmine.parse.block import BlockRecord, block_records, line_tables, scan_blocks
from kbmine.parse.inline import (
    FirstClose,
    InlineToken,
    destination_end,
    link_shape,
    scan_inline,
    wikilink_end,
)
from kbmine.parse.text import SourceText
from kbmine.parse.wikilinks import split_wikilink, wikilink_target_range
from kbmine.slugs import EXPLICIT_ID, SlugCounter

__all__ = ["BodyParse", "destination_end", "parse_body", "split_destination", "is_external"]

#: Whether :func:`parse_body` reads blocks with :func:`~kbmine.parse.block.scan_blocks` (markdown-it
#: parses what it declines); tests turn it off to compare with markdown-it's own block parse.
USE_BLOCK_SCANNER = True

#: The characters an enabled inline rule acts on (escapes, code, emphasis, links, HTML, entities,
#: math, footnotes, line breaks): text without them parses to one text token, itself.
_INLINE_SYNTAX = re.compile(r"[\\`*_\[\]!<&$^\n]")
_DENDRON_SYNTAX = re.compile(r"[\\`*_\[\]!<&$^\n#@]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
_BLOCK_ID = re.compile(r"(?:^|\s)\^([A-Za-z0-9-]+)[ \t]*$", re.M)
_TASK_OPEN = re.compile(r"^\[ \](?:\s|$)")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_DEFINITION = re.compile(
    r"[ \t]{0,3}\[((?:[^\[\]\\]|\\.)+)\]:[ \t]*\n?[ \t]*(<[^<>\n]*>|\S+)", re.DOTALL
)
#: Block-quote markers and list markers, any number, before a definition's ``[``.
_CONTAINER_PREFIX = re.compile(r"^(?:[ \t]*(?:>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t])))*[ \t]*")
_INLINE_CODE = frozenset({"code_inline", "html_inline", "math_inline", "math_inline_double"})


@dataclass(slots=True)
class BodyParse:
    """What the body walk found, before it is frozen into a :class:`~kbmine.model.Note`."""

    links: list[Link] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    code_ranges: list[tuple[int, int]] = field(default_factory=list)
    prose_ranges: list[tuple[int, int]] = field(default_factory=list)
    tasks_open: int = 0
    h1: str | None = None


def is_external(destination: str) -> bool:
    """True for URLs with a scheme (``https:``, ``mailto:``...) or protocol-relative ``//host``."""
    return bool(_SCHEME.match(destination)) or destination.startswith("//")


def split_destination(destination: str) -> tuple[str, str | None]:
    """Split a markdown link destination into a decoded path and a decoded anchor."""
    if destination.startswith("<") and destination.endswith(">"):
        destination = destination[1:-1]
    path, hash_, anchor = destination.partition("#")
    if not is_external(path):
        path = path.partition("?")[0]
    return _decode(path), (_decode(anchor) if hash_ else None)


def _decode(value: str) -> str:
    if "\\" in value:
        value = _ESCAPED.sub(r"\1", value)
    return unquote(value) if "%" in value else value


# ---------------------------------------------------------------------------
# markdown-it set-up


def _wikilink_rule(dialect: str) -> Callable[[StateInline, bool], bool]:
    """An inline rule for ``[[...]]`` and ``![[...]]`` that runs before links and images."""

    first_close = FirstClose()

    def wikilink(state: StateInline, silent: bool) -> bool:
        src, pos = state.src, state.pos
        end = wikilink_end(src, pos, state.posMax, first_close)
        if end < 0:
            return False
        if not silent:
            embed = src.startswith("!", pos)
            token = state.push("wikilink", "", 0)
            token.content = src[pos + (3 if embed else 2) : end - 2]
            token.meta = {"src": (pos, end), "embed": embed, "dialect": dialect}
        state.pos = end
        return True

    return wikilink


_DENDRON_TAG = re.compile(r"[#@]([A-Za-z0-9_][\w.-]*[\w-]|[A-Za-z0-9_])")


def _dendron_tag_rule(state: StateInline, silent: bool) -> bool:
    """Dendron's ``#tag`` (a link to note ``tags.tag``) and ``@user`` (to ``user.user``)."""
    src, pos = state.src, state.pos
    if src[pos] not in "#@" or (pos > 0 and not (src[pos - 1].isspace() or src[pos - 1] in "([{,;")):
        return False
    match = _DENDRON_TAG.match(src, pos)
    if not match:
        return False
    if not silent:
        token = state.push("hashtag", "", 0)
        token.content = match.group(0)
        token.meta = {"src": (pos, match.end())}
    state.pos = match.end()
    return True


def _tracked(
    rule: Callable[[StateInline, bool], bool], openers: frozenset[str], triggers: str
) -> Callable[[StateInline, bool], bool]:
    """Wrap an inline rule so the first token it opens records its source offsets.

    ``triggers`` are the characters the rule can start at: the wrapper is called
    at every position of every parsed paragraph, so it rejects the rest first.
    """

    def tracked(state: StateInline, silent: bool) -> bool:
        if state.src[state.pos] not in triggers:
            return False
        if silent:
            return rule(state, silent)
        start = state.pos
        count = len(state.tokens)
        if not rule(state, silent):
            return False
        end = state.pos
        for token in state.tokens[count:]:
            if token.type in openers:
                token.meta = {**(token.meta or {}), "src": (start, state.pos)}
                if token.type in ("link_open", "image") and token.markup != "autolink":
                    image = token.type == "image"
                    # Image labels (alt text) may contain links, so they are read with nesting allowed.
                    label_end = state.md.helpers.parseLinkLabel(state, start + image, not image)
                    state.pos = end
                    if label_end >= 0:
                        token.meta.update(link_shape(state.src, start + image, label_end))
                break
        return True

    return tracked


@lru_cache(maxsize=None)
def markdown_parser(dialect: str, full_inline: bool = True, dispatch: bool = True) -> MarkdownIt:
    """One configured parser per dialect and inline rule set (built once per process).

    ``dispatch=False`` leaves markdown-it's block rule chains as they are
    (see :func:`_dispatch_block_rules`); tests compare the two.

    GFM tables are deliberately not enabled: a table row read as a paragraph
    yields exactly the same links and code spans (``\\|`` is unescaped the
    same way), and the table rule is among the costliest block rules. With
    ``full_inline=False`` emphasis and entities are not tokenised either: they
    never change what is a link, and only heading text (slugs) needs them.
    """
    md = MarkdownIt("commonmark", {"inline_definitions": True})
    if not full_inline:
        md.disable(["emphasis", "entity"])
    md.use(footnote_plugin)
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, allow_blank_lines=False)
    md.inline.ruler.before("link", "wikilink", _wikilink_rule(dialect))
    if dialect == "dendron":
        md.inline.ruler.before("link", "dendron_tag", _dendron_tag_rule)
    link_openers = frozenset({"link_open"})
    for name, openers, triggers in (
        ("link", link_openers, "["),
        ("image", frozenset({"image"}), "!"),
        ("autolink", link_openers, "<"),
        ("backticks", frozenset({"code_inline"}), "`"),
        ("html_inline", frozenset({"html_inline"}), "<"),
        ("math_inline", frozenset({"math_inline", "math_inline_double"}), "$"),
    ):
        rule = md.inline.ruler.__rules__[md.inline.ruler.__find__(name)]
        md.inline.ruler.at(name, _tracked(rule.fn, openers, triggers))
    # We run inline parsing ourselves, only where it can find something.
    # footnote_tail would drop definitions whose references it never saw (inline is off).
    md.core.ruler.disable(["inline", "text_join", "footnote_tail"])
    # Line breaks are already "\n" in the text we parse (see SourceText.normalized), and
    # parse_body replaces NUL itself: the rule's two passes over every note are not needed.
    md.core.ruler.disable(["normalize"])
    # Nothing is rendered: destinations are read from the source, so skip URL normalising.
    md.normalizeLink = _identity  # type: ignore[method-assign]
    md.normalizeLinkText = _identity  # type: ignore[method-assign,assignment]
    md.validateLink = _accept  # type: ignore[method-assign]
    _silence_block_debug_logging()
    if dispatch:
        _dispatch_block_rules(md)
        _mark_lines_faster(md)
    return md


class _LineMarkedState(StateBlock):
    """markdown-it's block state with its line tables built from ``str.split``, not a loop per line."""

    def __init__(self, src: str, md: MarkdownIt, env: Any, tokens: list[Token]) -> None:
        super().__init__("", md, env, tokens)  # every other field as markdown-it sets it
        self.src = src
        self.bMarks, self.eMarks, self.tShift, self.sCount, self.bsCount = _line_marks(src)
        self.lineMax = len(self.bMarks) - 1


def _line_marks(src: str) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """``StateBlock``'s line tables (see :func:`~kbmine.parse.block.line_tables`), ``bsCount`` all zero."""
    begins, ends, shifts, columns = line_tables(src)
    return begins, ends, shifts, columns, [0] * len(begins)


def _mark_lines_faster(md: MarkdownIt) -> None:
    """Make ``md`` build its block state with :class:`_LineMarkedState` (a tenth of the block parse)."""
    block = md.block

    def parse(src: str, md: MarkdownIt, env: Any, out_tokens: list[Token]) -> list[Token] | None:
        if not src:
            return None
        state = _LineMarkedState(src, md, env, out_tokens)
        block.tokenize(state, state.line, state.lineMax)
        return state.tokens

    block.parse = parse  # type: ignore[method-assign,assignment]


#: The characters a block rule's line must start with (after indentation), per rule; the
#: rules here check that character before anything else and return False otherwise.
_BLOCK_STARTS = {
    "math_block": "$",
    "fence": "`~",
    "blockquote": ">",
    "hr": "*-_",
    "list": "*-+0123456789",
    "footnote_def": "[",
    "reference": "[",
    "html_block": "<",
    "heading": "#",
}


def _dispatch_block_rules(md: MarkdownIt) -> None:
    """Try only the block rules a line's first character allows, in markdown-it's order.

    markdown-it tries a dozen rules at the start of every block and, to see
    whether a paragraph or list item goes on, every terminator rule at every
    next line; most return at their first check, the line's first character.
    Each run of such rules in a chain becomes one rule that looks the
    character up and calls only those that can match, in the same order, so
    the parse is the same (a test compares the token streams on the corpora).
    """
    ruler = md.block.ruler
    original = ruler.getRules
    functions = {rule.name: rule.fn for rule in ruler.__rules__ if rule.enabled}
    names = {fn: name for name, fn in functions.items()}
    chains: dict[str, list[Any]] = {}
    for chain in ("", *{alt for rule in ruler.__rules__ for alt in rule.alt}):
        merged: list[Any] = []
        run: list[tuple[Any, str]] = []
        for fn in original(chain):
            starts = _BLOCK_STARTS.get(names.get(fn, ""))
            if starts is not None:
                run.append((fn, starts))
                continue
            if run:
                merged.append(_first_character_dispatch(run))
                run = []
            merged.append(fn)
        if run:
            merged.append(_first_character_dispatch(run))
        chains[chain] = merged
    def get_rules(chain: str) -> list[Any]:
        return chains[chain] if chain in chains else original(chain)

    ruler.getRules = get_rules  # type: ignore[method-assign,assignment]


def _first_character_dispatch(rules: list[tuple[Any, str]]) -> Callable[..., bool]:
    by_character: dict[str, list[Any]] = {}
    for fn, starts in rules:
        for character in starts:
            by_character.setdefault(character, []).append(fn)

    def dispatch(state: Any, start_line: int, end_line: int, silent: bool) -> bool:
        pos = state.bMarks[start_line] + state.tShift[start_line]
        if pos >= state.eMarks[start_line]:
            return False
        for fn in by_character.get(state.src[pos], ()):
            if fn(state, start_line, end_line, silent):
                return True
        return False

    return dispatch


def _identity(url: str) -> str:
    return url


def _accept(url: str) -> bool:
    return True


class _NoDebug:
    """Stands in for markdown-it's module loggers: their per-line ``debug`` calls cost ~5% of a parse."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def debug(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


def _silence_block_debug_logging() -> None:
    import importlib
    import pkgutil

    import markdown_it.rules_block as block_rules

    for module_info in pkgutil.iter_modules(block_rules.__path__):
        module = importlib.import_module(f"{block_rules.__name__}.{module_info.name}")
        logger = getattr(module, "LOGGER", None)
        if isinstance(logger, logging.Logger) and not logger.isEnabledFor(logging.DEBUG):
            module.LOGGER = _NoDebug(logger)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# content offsets → note offsets


class _InlineMap:
    """Maps offsets inside one inline token's content to offsets in the note text."""

    __slots__ = ("_content", "_first_line", "_hints", "_line_starts", "_shifts", "_source")

    def __init__(self, source: SourceText, record: BlockRecord) -> None:
        self._source = source
        self._content = record.content
        self._first_line = record.start
        self._line_starts = [0]
        newline = self._content.find("\n")
        while newline >= 0:
            self._line_starts.append(newline + 1)
            newline = self._content.find("\n", newline + 1)
        #: Each content line's alignment (see :meth:`_align`), made when first asked for.
        self._shifts: list[int | list[int] | None] = [None] * len(self._line_starts)
        self._hints: dict[int, int] = {}

    def offset(self, position: int) -> int:
        """The note offset of content offset ``position``."""
        starts = self._line_starts
        # Most inline content is one line: nothing to search.
        index = max(0, bisect_right(starts, position) - 1) if len(starts) > 1 else 0
        shift = self._shifts[index]
        if shift is None:
            shift = self._shifts[index] = self._align(index)
        if isinstance(shift, int):
            return shift + position - starts[index]
        return shift[min(position - starts[index], len(shift) - 1)]

    def _align(self, index: int) -> int | list[int]:
        source = self._source
        line = min(self._first_line + index, len(source.line_starts) - 1)
        line_start = source.line_starts[line]
        text = source.line_text(line)
        start = self._line_starts[index]
        end = self._line_starts[index + 1] - 1 if index + 1 < len(self._line_starts) else len(self._content)
        piece = self._content[start:end]
        hint = self._hints.get(line, 0)
        trimmed, wanted = text.rstrip(), piece.rstrip().lstrip(" ")
        lead = len(piece.rstrip()) - len(wanted)
        if wanted and trimmed.endswith(wanted):
            return line_start + len(trimmed) - len(wanted) - lead
        found = text.find(piece, hint) if piece else hint
        if found >= 0:
            self._hints[line] = found + len(piece)
            return line_start + found
        return self._align_chars(piece, text, line, hint)

    def _align_chars(self, piece: str, text: str, line: int, hint: int) -> list[int]:
        """Character-by-character alignment for content that lost characters (a tab partly inside the container's indent becomes spaces)."""
        line_start = self._source.line_starts[line]
        mapping: list[int] = []
        cursor = hint
        for char in piece:
            found = text.find(char, cursor)
            if found < 0:
                found = cursor
            mapping.append(line_start + found)
            cursor = min(found + 1, len(text))
        mapping.append(line_start + cursor)
        self._hints[line] = cursor
        return mapping


# ---------------------------------------------------------------------------
# the walk


def parse_body(
    source: SourceText,
    masked: str,
    dialect: str,
) -> BodyParse:
    """Parse ``masked`` (the note with frontmatter blanked, same length) into a :class:`BodyParse`."""
    md = markdown_parser(dialect)
    links_only = markdown_parser(dialect, full_inline=False)
    dendron = dialect == "dendron"
    if "\0" in masked:
        masked = masked.replace("\0", "\ufffd")  # what markdown-it's normalize rule does (same length)
    scanned = scan_blocks(masked) if USE_BLOCK_SCANNER else None
    if scanned is None:
        env: dict[str, Any] = {}
        records = block_records(md.parse(masked, env))
    else:
        records, env = scanned
    result = BodyParse()
    slugs = SlugCounter()
    definitions: list[BlockRecord] = []
    used_refs: set[str] = set()
    wikitargets: set[str] = set()
    references: dict[str, Any] = env.get("references", {})

    line_starts = source.line_starts
    links, code_ranges, prose_ranges = result.links, result.code_ranges, result.prose_ranges
    inline_syntax = _DENDRON_SYNTAX if dendron else _INLINE_SYNTAX
    for record in records:
        kind = record.kind
        if kind == "code":
            code_ranges.append((line_starts[record.start], _line_range_end(source, record.end)))
        elif kind == "definition":
            definitions.append(record)
        else:
            heading = record.heading
            prose_ranges.append((line_starts[record.start], _line_range_end(source, record.end)))
            content = record.content
            if record.first_in_item and _TASK_OPEN.match(content):
                result.tasks_open += 1
            if heading and not inline_syntax.search(content):
                _add_heading(result, record, content, source, slugs)  # its own plain text
                continue
            if not heading and not _may_link(content, dendron):
                if "^" in content:
                    _add_block_id(result, content, _InlineMap(source, record), source)
                continue
            mapper = _InlineMap(source, record)
            # Headings need every inline token (their text makes the slug); elsewhere the
            # scanner finds the few tokens we read, or declines and markdown-it runs.
            scanned_inline = None if heading else scan_inline(content, env.get("references"), dialect)
            children: Sequence[Token | InlineToken]
            if scanned_inline is None:
                parsed: list[Token] = []
                parser = md if heading else links_only
                parser.inline.parse(content, parser, env, parsed)
                children = parsed
                if heading:
                    _add_heading(result, record, _plain_text(parsed), source, slugs)
            else:
                children = scanned_inline
            offset = mapper.offset
            # One pass: each content line is aligned once whatever asks first, so the
            # links' and code spans' offsets do not depend on the order they are read in.
            for child in children:
                child_kind = child.type
                meta = child.meta
                if not meta or "src" not in meta:
                    continue
                if child_kind in _INLINE_CODE:
                    start, end = meta["src"]
                    code_ranges.append((offset(start), offset(end)))
                    continue
                link = _inline_link(child, child_kind, meta, mapper, source, references, dialect, used_refs)
                if link is None:
                    continue
                links.append(link)
                if child_kind == "wikilink":
                    # Foam labels its generated definitions by target or by the whole inner text.
                    wikitargets.add(link.target.casefold())
                    wikitargets.add(link.raw.lstrip("!")[2:-2].casefold())
            if not heading:
                _add_block_id(result, content, mapper, source)

    for definition in definitions:
        assert definition.meta is not None
        label = definition.meta["id"]
        if label in used_refs:
            continue
        if label.casefold() in wikitargets:
            # Foam appends ``[name]: name.md "Title"`` for each [[name]]: not a second link.
            continue
        definition_link = _definition_link(definition, source, label)
        if definition_link is not None:
            result.links.append(definition_link)
    result.code_ranges.sort()
    return result


def _may_link(content: str, dendron: bool) -> bool:
    """Whether inline content can hold a link or a code span (four substring searches, no loop)."""
    if "[" in content or "<" in content or "`" in content or "$" in content:
        return True
    return dendron and ("#" in content or "@" in content)


def _line_range_end(source: SourceText, end_line: int) -> int:
    return source.line_end(end_line - 1) if end_line > 0 else 0


def _inline_link(
    token: Token | InlineToken,
    kind: str,
    meta: dict[str, Any],
    mapper: _InlineMap,
    source: SourceText,
    references: dict[str, Any],
    dialect: str,
    used_refs: set[str],
) -> Link | None:
    """The link an inline token with recorded offsets stands for, if it is one."""
    if kind == "wikilink":
        return _wikilink(token, mapper, source, dialect)
    if kind == "hashtag":
        return _hashtag(token, mapper, source)
    if kind == "link_open" or kind == "image":
        return _markdown_link(token, meta, mapper, source, references, used_refs)
    return None


def _wikilink(token: Token | InlineToken, mapper: _InlineMap, source: SourceText, dialect: str) -> Link:
    start, end = token.meta["src"]
    embed = token.meta["embed"]
    parts = split_wikilink(token.content, dialect)
    target = f"dendron://{parts.vault}/{parts.target}" if parts.vault is not None else parts.target
    span_start, span_end = mapper.offset(start), mapper.offset(end)
    first = start + (3 if embed else 2)
    target_start, target_end = wikilink_target_range(token.content, dialect)
    inner_start = mapper.offset(first + target_start)
    inner_end = mapper.offset(first + target_end)
    return Link(
        kind="wikilink",
        raw=source.text[span_start:span_end],
        target=target,
        anchor=parts.anchor,
        label=parts.label,
        span=source.span(span_start, span_end),
        target_span=source.span(inner_start, inner_end),
        is_embed=embed,
        external=is_external(parts.target) and not parts.target.startswith("dendron:"),
    )


def _hashtag(token: Token | InlineToken, mapper: _InlineMap, source: SourceText) -> Link:
    start, end = token.meta["src"]
    span_start, span_end = mapper.offset(start), mapper.offset(end)
    raw = source.text[span_start:span_end]
    target = ("tags." if raw.startswith("#") else "user.") + raw[1:]
    return Link(
        kind="hashtag",
        raw=raw,
        target=target,
        anchor=None,
        label=raw,
        span=source.span(span_start, span_end),
        target_span=source.span(span_start + 1, span_end),
    )


def _markdown_link(
    token: Token | InlineToken,
    meta: dict[str, Any],
    mapper: _InlineMap,
    source: SourceText,
    references: dict[str, Any],
    used_refs: set[str],
) -> Link | None:
    start, end = meta["src"]
    span_start, span_end = mapper.offset(start), mapper.offset(end)
    raw = source.text[span_start:span_end]
    embed = token.type == "image"
    if token.markup == "autolink":
        href = raw[1:-1]
        return Link(
            kind="autolink",
            raw=raw,
            target=href,
            anchor=None,
            label=href,
            span=source.span(span_start, span_end),
            external=True,
        )
    label_range = meta.get("label_range")
    label = _label_text(mapper, source, label_range)
    if "dest" in meta:
        dest_start, dest_end = mapper.offset(meta["dest"][0]), mapper.offset(meta["dest"][1])
        written = source.text[dest_start:dest_end]
        target, anchor = split_destination(written)
        return Link(
            kind="markdown",
            raw=raw,
            target=target,
            anchor=anchor,
            label=label,
            span=source.span(span_start, span_end),
            target_span=source.span(dest_start, dest_end),
            is_embed=embed,
            external=is_external(target),
        )
    if "ref" in meta:
        from markdown_it.common.utils import normalizeReference

        key = normalizeReference(meta["ref"])
        reference = references.get(key)
        if reference is None:
            return None
        used_refs.add(key)
        dest = _definition_destination(source, reference["map"])
        if dest is None:
            return None
        written, dest_span = dest
        target, anchor = split_destination(written)
        return Link(
            kind="reference",
            raw=raw,
            target=target,
            anchor=anchor,
            label=label,
            span=source.span(span_start, span_end),
            target_span=dest_span,
            is_embed=embed,
            external=is_external(target),
        )
    return None


def _label_text(mapper: _InlineMap, source: SourceText, label_range: tuple[int, int] | None) -> str | None:
    """The visible text of a link label, as written in the note."""
    if not label_range:
        return None
    return source.text[mapper.offset(label_range[0]) : mapper.offset(label_range[1])]


def _definition_destination(source: SourceText, line_map: list[int]) -> tuple[str, Span] | None:
    start = source.line_starts[line_map[0]]
    end = _line_range_end(source, line_map[1])
    block = source.normalized[start:end]
    # A definition inside a block quote or list item carries the container's prefix.
    for prefix in _CONTAINER_PREFIX.finditer(block):
        match = _DEFINITION.match(block, prefix.end())
        if match:
            dest_start = start + match.start(2)
            dest_end = start + match.end(2)
            return source.text[dest_start:dest_end], source.span(dest_start, dest_end)
        break
    return None


def _definition_link(definition: BlockRecord, source: SourceText, label: str) -> Link | None:
    assert definition.meta is not None
    dest = _definition_destination(source, [definition.start, definition.end])
    if dest is None:
        return None
    written, dest_span = dest
    start = source.line_starts[definition.start]
    end = _line_range_end(source, definition.end)
    text = source.text[start:end]
    prefix = _CONTAINER_PREFIX.match(text)
    lead = prefix.end() if prefix else 0
    target, anchor = split_destination(written)
    return Link(
        kind="definition",
        raw=source.text[start + lead : end].rstrip(),
        target=target,
        anchor=anchor,
        label=definition.meta.get("label"),
        span=source.span(start + lead, start + lead + len(source.text[start + lead : end].rstrip())),
        target_span=dest_span,
        external=is_external(target),
    )


def _add_heading(result: BodyParse, record: BlockRecord, text: str, source: SourceText, slugs: SlugCounter) -> None:
    """Record a heading whose plain text is ``text``."""
    explicit = EXPLICIT_ID.search(text) if "{" in text else None
    explicit_id = None
    if explicit:
        explicit_id = explicit.group(1)
        text = text[: explicit.start()]
    level = record.heading
    start = source.line_starts[record.start]
    end = source.line_end(record.start)
    result.headings.append(
        Heading(level=level, text=text.strip(), slug=slugs.slug(text.strip()), span=source.span(start, end), explicit_id=explicit_id)
    )
    if level == 1 and result.h1 is None:
        result.h1 = text.strip()


def _plain_text(children: list[Token]) -> str:
    """The text content of inline tokens, as a browser's ``textContent`` would show it."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "text_special", "code_inline", "math_inline", "math_inline_double"):
            parts.append(child.content)
        elif child.type in ("wikilink", "hashtag"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _add_block_id(result: BodyParse, content: str, mapper: _InlineMap, source: SourceText) -> None:
    if "^" not in content:
        return
    last_line_start = content.rfind("\n") + 1
    match = _BLOCK_ID.search(content, last_line_start)
    if match:
        start = mapper.offset(match.start(1) - 1)
        end = mapper.offset(match.end(1))
        result.blocks.append(Block(id=match.group(1), span=source.span(start, end)))
