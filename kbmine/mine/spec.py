"""The records spec mining produces: where a spec applies, what it says, and its evidence.

A spec is a candidate rule the KB already follows. It must stay falsifiable,
so it never travels without its figures: how many notes it applies to, the
share that satisfy it, which notes do not, and how it fared on notes it was
not mined from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from kbmine.errors import ConfigError
from kbmine.model import Note

__all__ = ["Scope", "Holdout", "Spec", "MineSettings", "spec_id", "value_tokens"]


@dataclass(frozen=True, order=True)
class Scope:
    """The notes a spec speaks about: the whole KB, a folder (with its subfolders), or
    the notes whose frontmatter ``key`` has ``value``."""

    folder: str = ""
    key: str = ""
    value: str = ""

    def contains(self, note: Note) -> bool:
        if self.folder:
            return note.path.startswith(self.folder + "/")
        if self.key:
            tokens = value_tokens(note.frontmatter.get(self.key))
            return tokens is not None and len(tokens) == 1 and tokens[0] == self.value
        return True

    def describe(self) -> str:
        """The scope in words, as the subject of a statement."""
        if self.folder:
            return f"every note under {self.folder}/"
        if self.key:
            return f"every note with {self.key}: {self.value}"
        return "every note"

    def __str__(self) -> str:
        if self.folder:
            return f"folder:{self.folder}"
        if self.key:
            return f"where:{self.key}={self.value}"
        return "all"

    @classmethod
    def parse(cls, text: str) -> Scope:
        """The inverse of ``str(scope)``, as stored in the specs file."""
        if text == "all":
            return cls()
        if text.startswith("folder:") and len(text) > len("folder:"):
            return cls(folder=text[len("folder:") :])
        if text.startswith("where:") and "=" in text:
            key, value = text[len("where:") :].split("=", 1)
            if key:
                return cls(key=key, value=value)
        raise ConfigError(f"unknown scope {text!r} (expected all, folder:PATH or where:KEY=VALUE)")


@dataclass(frozen=True)
class Holdout:
    """Confidence where the spec was mined and on the notes kept aside from mining."""

    mined_on: int
    mined_confidence: float
    tested_on: int
    tested_confidence: float | None


@dataclass(frozen=True)
class Spec:
    """A mined regularity with its evidence over the whole KB.

    ``params`` is the kind's parameters as sorted ``(name, value)`` pairs (values
    are strings, booleans or tuples of strings) so the spec is hashable and
    its id depends on nothing but what it says.
    """

    id: str
    kind: str
    scope: Scope
    statement: str
    params: tuple[tuple[str, Any], ...]
    support: int
    confidence: float
    counterexamples: tuple[str, ...]
    holdout: Holdout | None = None

    @cached_property
    def parameters(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def score(self) -> float:
        """Rank: a rule every note follows beats one most notes follow, and many notes beat few."""
        return self.confidence * math.log(max(self.support, 1))


@dataclass(frozen=True)
class MineSettings:
    """Thresholds for mining; defaults suit a KB of hundreds to thousands of notes."""

    min_support: int = 10
    min_confidence: float = 0.9
    #: Share of notes kept aside to test what was mined on the rest (0 mines on everything).
    holdout: float = 0.3
    seed: int = 0
    #: A vocabulary larger than this is not an enum.
    max_vocabulary: int = 12
    #: Frontmatter keys whose values make scopes (``type: note``).
    scope_keys: tuple[str, ...] = ("type",)

    def __post_init__(self) -> None:
        if self.min_support < 1:
            raise ConfigError("min_support must be at least 1")
        if not 0.0 < self.min_confidence <= 1.0:
            raise ConfigError("min_confidence must be in (0, 1]")
        if not 0.0 <= self.holdout < 1.0:
            raise ConfigError("holdout must be in [0, 1)")


def spec_id(kind: str, scope: Scope, params: tuple[tuple[str, Any], ...]) -> str:
    """A stable id from what the spec says (not its figures), so re-mining finds the same id
    and a decision recorded against it sticks."""
    payload = json.dumps([kind, str(scope), [[k, _jsonable(v)] for k, v in params]], sort_keys=True)
    return hashlib.sha1(payload.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def value_tokens(value: Any) -> tuple[str, ...] | None:
    """A frontmatter value as the vocabulary words it uses: one for a scalar, one per item
    of a list of scalars; ``None`` when it has no such words (missing, null, a mapping)."""
    if isinstance(value, list):
        items = [_token(item) for item in value]
        return None if any(item is None for item in items) else tuple(item for item in items if item is not None)
    token = _token(value)
    return None if token is None else (token,)


def _token(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return None
