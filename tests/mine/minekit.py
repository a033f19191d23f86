"""Build small KBs for mining tests and mine them without the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import kbmine.kb
from kbmine.config import Config
from kbmine.mine import Mining, mine
from kbmine.mine.spec import MineSettings, Spec

MakeKB = Callable[[Mapping[str, str | bytes]], Path]


def note(body: str = "# Note\n", **frontmatter: Any) -> str:
    """A note with simple ``key: value`` frontmatter (lists written inline)."""
    if not frontmatter:
        return body
    lines = []
    for key, value in frontmatter.items():
        if isinstance(value, list):
            value = "[" + ", ".join(value) + "]"
        lines.append(f"{key}: {value}")
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def mine_files(root: Path, **settings: Any) -> Mining:
    kb = kbmine.kb.load(root, Config(), use_cache=False)
    return mine(kb.notes, MineSettings(**{"holdout": 0.0, **settings}))


def find(mining: Mining, kind: str, **params: Any) -> list[Spec]:
    """The mined specs of ``kind`` whose parameters include ``params``."""
    wanted = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    return [s for s in mining.specs if s.kind == kind and all(s.parameters.get(k) == v for k, v in wanted.items())]
