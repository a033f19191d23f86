"""The differential check shared by the block scanner's unit and corpus tests: scanner == markdown-it."""

from __future__ import annotations

from typing import Any

from kbmine.parse.block import BlockRecord, block_records, scan_blocks
from kbmine.parse.markdown import markdown_parser


def markdown_it_reading(text: str, dialect: str = "obsidian") -> tuple[list[BlockRecord], dict[str, Any]]:
    """What the body walk reads of markdown-it's block parse of ``text``: its records and its ``env``."""
    env: dict[str, Any] = {}
    return block_records(markdown_parser(dialect).parse(text, env)), env


def differs(text: str, dialect: str = "obsidian") -> tuple[Any, Any] | None:
    """``None`` when the scanner agrees with markdown-it (or declines), else both readings."""
    scanned = scan_blocks(text)
    if scanned is None:
        return None
    theirs = markdown_it_reading(text, dialect)
    return None if scanned == theirs else (scanned, theirs)
