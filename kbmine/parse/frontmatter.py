"""Frontmatter: find its fences, load it safely, bound its size, find wikilinks in its values.

YAML is loaded through python-frontmatter's handler with a safe loader (no
``!!python`` tag ever executes) that also records duplicate keys. The result
is copied into plain containers under a node budget: an alias bomb
("billion laughs") shares nodes cheaply inside PyYAML but would explode any
rule that walks it, so it is refused with a finding instead. Frontmatter is
only ever read here; kbmine never writes it back through a YAML library.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from kbmine.parse.wikilinks import WIKILINK

__all__ = ["FrontmatterBlock", "find_frontmatter", "load_frontmatter", "frontmatter_wikilinks"]

_OPEN = re.compile(r"\A(---|\+\+\+)[ \t]*\n")
_CLOSE = {"---": re.compile(r"\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)"), "+++": re.compile(r"\n\+\+\+[ \t]*(?:\n|\Z)")}
_TOP_KEY = re.compile(r"^([^\s#:'\"-][^:\n]*?|\"[^\"\n]*\"|'[^'\n]*'):(?:[ \t]|$)", re.MULTILINE)
#: Enough for any real note; an alias bomb blows through it at once.
NODE_BUDGET = 20_000
DEPTH_LIMIT = 64
#: Python's default limit on printing an integer in decimal; over it ``str()`` raises.
_INT_DIGITS = 4300
#: Integers this wide or narrower have at most ``_INT_DIGITS`` decimal digits.
_INT_BITS = int(_INT_DIGITS * 3.3219)


class FrontmatterError(Exception):
    """Frontmatter that cannot be used; ``line`` is 0-based within the note."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


@dataclass(slots=True)
class FrontmatterBlock:
    """Where the frontmatter sits: ``text_start:text_end`` is the YAML/TOML, ``end`` the body start."""

    fence: str
    text_start: int
    text_end: int
    end: int
    closed: bool = True
    duplicates: list[tuple[str, int]] = field(default_factory=list)


def find_frontmatter(text: str) -> FrontmatterBlock | None:
    """Locate a ``---`` (YAML) or ``+++`` (TOML) block at the very start of the note."""
    opening = _OPEN.match(text)
    if not opening:
        return None
    fence = opening.group(1)
    closing = _CLOSE[fence].search(text, opening.end() - 1)
    if not closing:
        return FrontmatterBlock(fence, opening.end(), len(text), 0, closed=False)
    return FrontmatterBlock(fence, opening.end(), closing.start() + 1, closing.end())


class _DuplicateKeyLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """A safe loader that notes duplicate mapping keys instead of silently keeping the last."""

    duplicates: list[tuple[str, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    _DuplicateKeyLoader.duplicates.append((key_node.value, key_node.start_mark.line))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]

    def construct_calendar_date(self, node: yaml.ScalarNode) -> Any:
        """A timestamp the calendar rejects (``2024-02-30``, ``25:00``) stays the string
        it is written as, as YAML 1.2 and Obsidian read it, instead of failing the
        whole frontmatter; so does ``!!timestamp`` on text that is no timestamp at all."""
        if not self.timestamp_regexp.match(node.value):
            return self.construct_scalar(node)
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)


_DuplicateKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _DuplicateKeyLoader.construct_calendar_date)


def load_frontmatter(block: FrontmatterBlock, text: str) -> dict[str, Any]:
    """Parse the block into a plain ``dict`` or raise :class:`FrontmatterError`."""
    raw = text[block.text_start : block.text_end]
    first_line = text.count("\n", 0, block.text_start)
    if block.fence == "+++":
        try:
            data: Any = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            raise FrontmatterError(f"invalid TOML frontmatter: {exc}", first_line) from None
        except RecursionError:
            raise FrontmatterError("TOML frontmatter is nested too deeply", first_line) from None
        except ValueError as exc:
            # tomllib hands a decimal integer of 5,000 digits to int(), which refuses it.
            raise FrontmatterError(f"invalid TOML frontmatter: {exc}", first_line) from None
    else:
        _DuplicateKeyLoader.duplicates = []
        try:
            data = YAMLHandler().load(raw, Loader=_DuplicateKeyLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = first_line + (mark.line if mark else 0)
            problem = exc.problem or exc.context or "syntax error"
            raise FrontmatterError(f"invalid YAML frontmatter: {problem}", line) from None
        except yaml.YAMLError as exc:
            raise FrontmatterError(f"invalid YAML frontmatter: {exc}", first_line) from None
        except RecursionError:
            raise FrontmatterError("YAML frontmatter is nested too deeply", first_line) from None
        except (ValueError, TypeError, OverflowError) as exc:
            # A value its tag cannot build: ``!!float abc``, an integer of 5,000 digits.
            raise FrontmatterError(f"invalid YAML frontmatter: {exc}", first_line) from None
        block.duplicates = [(key, first_line + line) for key, line in _DuplicateKeyLoader.duplicates]
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontmatterError(
            f"frontmatter must be a mapping of keys to values, not a {_yaml_kind(data)}", first_line
        )
    budget = [NODE_BUDGET]
    return {_key(key, first_line): _plain(value, budget, 1, first_line) for key, value in data.items()}


def _yaml_kind(value: Any) -> str:
    return "list" if isinstance(value, list) else "scalar value"


def _plain(value: Any, budget: list[int], depth: int, line: int) -> Any:
    """Copy ``value`` into fresh containers, refusing bombs (too many nodes) and deep nesting."""
    budget[0] -= 1
    if budget[0] < 0:
        raise FrontmatterError(
            f"frontmatter expands to more than {NODE_BUDGET} values (an alias bomb?); refused", line
        )
    if depth > DEPTH_LIMIT:
        raise FrontmatterError(f"frontmatter is nested deeper than {DEPTH_LIMIT} levels; refused", line)
    if isinstance(value, dict):
        return {_key(k, line): _plain(v, budget, depth + 1, line) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, budget, depth + 1, line) for v in value]
    if isinstance(value, (set, frozenset)):
        # A ``!!set`` iterates in hash order, which changes from run to run.
        return sorted((_plain(v, budget, depth + 1, line) for v in value), key=repr)
    if isinstance(value, int) and value.bit_length() > _INT_BITS:
        _refuse_huge_int(line)
    if isinstance(value, (str, int, float, bool, dt.date, dt.time)) or value is None:
        return value
    return str(value)


def _key(key: Any, line: int) -> str:
    """A mapping key as the string every rule reads it as (a huge integer key is refused, as its value would be)."""
    if isinstance(key, int) and key.bit_length() > _INT_BITS:
        _refuse_huge_int(line)
    return str(key)


def _refuse_huge_int(line: int) -> None:
    """Python will not print an integer past its digit limit (JSON, graph exports and the
    miner all print values), so one written in hex or octal (``0xfff…``, which loads without
    that check) is refused like the decimal one the loader already refuses."""
    raise FrontmatterError(f"invalid frontmatter: an integer of more than {_INT_DIGITS} digits", line)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _in_comment_or_key(text: str, start: int, end: int) -> bool:
    """Whether the match at ``start:end`` sits in a YAML comment or is (part of) a mapping key."""
    line_start = text.rfind("\n", 0, start) + 1
    quote = ""
    for position in range(line_start, start):
        char = text[position]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == line_start or text[position - 1] in " \t"):
            return True
    line_end = text.find("\n", end)
    rest = text[end : line_end if line_end >= 0 else len(text)]
    return bool(re.match(r"[\"']?\s*:(?:\s|$)", rest))


def _yaml_forms(raw: str) -> tuple[str, ...]:
    """How a wikilink written in YAML may read once loaded (quote escapes undone)."""
    forms = [raw, raw.replace("''", "'")]
    if "\\" in raw:
        try:
            forms.append(raw.encode("latin-1", "backslashreplace").decode("unicode_escape"))
        except UnicodeDecodeError:
            pass
    return tuple(dict.fromkeys(forms))


def frontmatter_wikilinks(
    data: dict[str, Any], text: str, block: FrontmatterBlock
) -> list[tuple[int, int, str, bool, str | None]]:
    """Wikilinks written in frontmatter values: ``(start, end, inner, embed, top-level key)``.

    Only wikilinks that are part of a loaded value count (one in a YAML comment
    or a key does not); each is located in the raw frontmatter text for its
    exact span, and ``inner`` is the loaded form (YAML escapes undone).
    """
    wanted = Counter(
        match.group(0) for string in _strings(data) if "[[" in string for match in WIKILINK.finditer(string)
    )
    if not wanted:
        return []
    found: list[tuple[int, int, str, bool, str | None]] = []
    keys = [(m.start(), m.group(1).strip("'\"")) for m in _TOP_KEY.finditer(text, block.text_start, block.text_end)]
    for match in WIKILINK.finditer(text, block.text_start, block.text_end):
        if _in_comment_or_key(text, match.start(), match.end()):
            continue
        loaded = next((form for form in _yaml_forms(match.group(0)) if wanted[form] > 0), None)
        if loaded is None:
            continue
        wanted[loaded] -= 1
        key = None
        for position, name in keys:
            if position > match.start():
                break
            key = name
        inner = WIKILINK.fullmatch(loaded)
        found.append((match.start(), match.end(), inner.group(2) if inner else match.group(2), bool(match.group(1)), key))
    return found
