"""The differential check shared by the scanner's unit and corpus tests: scanner == markdown-it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kbmine.parse.inline import scan_inline
from kbmine.parse.markdown import markdown_parser

#: The tokens the body walk reads; everything else markdown-it makes is thrown away.
READ = frozenset({"wikilink", "link_open", "image", "code_inline", "html_inline"})


def read_tokens(tokens: Iterable[Any]) -> list[tuple[Any, ...]]:
    """What the body walk sees of ``tokens``: kind, recorded offsets and shape, wikilink text, autolink mark."""
    return [
        (
            token.type,
            sorted(token.meta.items()),
            token.content if token.type == "wikilink" else "",
            token.markup if token.type == "link_open" else "",
        )
        for token in tokens
        if token.type in READ and token.meta and "src" in token.meta
    ]


def markdown_it_tokens(content: str, references: Mapping[str, Any] | None, dialect: str) -> list[tuple[Any, ...]]:
    md = markdown_parser(dialect, full_inline=False)
    env: dict[str, Any] = {} if references is None else {"references": dict(references)}
    tokens: list[Any] = []
    md.inline.parse(content, md, env, tokens)
    return read_tokens(tokens)


def differs(content: str, references: Mapping[str, Any] | None, dialect: str = "obsidian") -> tuple[Any, Any] | None:
    """``None`` when the scanner agrees with markdown-it (or declines), else both readings."""
    scanned = scan_inline(content, references, dialect)
    if scanned is None:
        return None
    ours, theirs = read_tokens(scanned), markdown_it_tokens(content, references, dialect)
    return None if ours == theirs else (ours, theirs)


def paragraph_contents(text: str, dialect: str) -> tuple[list[str], Mapping[str, Any] | None]:
    """The inline content of every non-heading block of ``text``, and its reference definitions."""
    env: dict[str, Any] = {}
    tokens = markdown_parser(dialect).parse(text, env)
    contents = [
        token.content
        for index, token in enumerate(tokens)
        if token.type == "inline" and not (index and tokens[index - 1].type == "heading_open")
    ]
    return contents, env.get("references")


def block_tokens_differ(text: str, dialect: str = "obsidian") -> bool:
    """Whether the block parse with first-character dispatch differs from markdown-it's own chains."""

    def key(tokens: list[Any], env: dict[str, Any]) -> list[Any]:
        return [
            (t.type, t.map, t.content, t.info, t.markup, t.tag, t.nesting, repr(sorted((t.meta or {}).items(), key=str)), t.attrs)
            for t in tokens
        ] + [repr(env)]

    fast_env: dict[str, Any] = {}
    plain_env: dict[str, Any] = {}
    fast = markdown_parser(dialect).parse(text, fast_env)
    plain = markdown_parser(dialect, True, False).parse(text, plain_env)
    return key(fast, fast_env) != key(plain, plain_env)
