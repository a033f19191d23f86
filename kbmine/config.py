"""Configuration: ``kbmine.toml``, ``.kbmine.toml`` or ``[tool.kbmine]`` in ``pyproject.toml``.

The file is looked up from the checked folder upwards, so a KB nested in a
code repository picks up the repository's settings. Every key is validated:
a typo must fail loudly (exit 2) rather than silently disable a rule.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbmine.errors import ConfigError

__all__ = ["Config", "DIALECTS", "load_config", "find_config_file"]

#: The specs file (``kbmine mine`` writes it, ``kbmine check`` enforces its accepted specs), next to the config.
SPECS_FILE = "kbmine.specs.yaml"

DIALECTS = ("obsidian", "foam", "dendron")
SEVERITIES = ("error", "warning", "info", "off")
CONFIG_NAMES = ("kbmine.toml", ".kbmine.toml", "pyproject.toml")
#: Bytes above which a note is not read or parsed (KB107): forty times the largest note
#: of the corpora we test on, and about as much as markdown-it parses in parse_timeout.
DEFAULT_MAX_NOTE_SIZE = 4_000_000

#: Folders never treated as part of the KB: tool state, VCS internals, caches.
DEFAULT_EXCLUDE = (
    ".git/**",
    ".hg/**",
    ".svn/**",
    ".kbmine/**",
    ".obsidian/**",
    ".trash/**",
    ".foam/**",
    ".dendron.cache*",
    ".vscode/**",
    "node_modules/**",
    ".venv/**",
    "venv/**",
    "__pycache__/**",
)


@dataclass(frozen=True)
class Config:
    """Validated settings for one run; defaults suit an Obsidian-style vault."""

    dialect: str = "obsidian"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    extensions: tuple[str, ...] = (".md", ".markdown")
    parse_timeout: float = 10.0
    max_note_size: int = DEFAULT_MAX_NOTE_SIZE
    per_path_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str | None = None

    def parse_key(self) -> str:
        """A digest of the settings that change how a single note parses (for the cache)."""
        payload = json.dumps(
            {"dialect": self.dialect, "timeout": self.parse_timeout, "passage": self.passage_min_words},
            sort_keys=True,
        )
        return hashlib.sha1(payload.encode()).hexdigest()[:12]

    @property
    def passage_min_words(self) -> int:
        """Shortest paragraph (in words) that counts as a claim; computed at parse time."""
        value = self.rules.get("duplicate-claim", {}).get("min_words", 25)
        if not isinstance(value, int) or isinstance(value, bool) or value < 3:
            raise ConfigError("rules.duplicate-claim.min_words must be an integer >= 3")
        return value

    def rule_options(self, rule: str) -> dict[str, Any]:
        """Per-rule options from ``[tool.kbmine.rules.<rule>]`` (empty when unset)."""
        return self.rules.get(rule, {})


def specs_path(root: Path) -> Path:
    """The KB's specs file, refused when it is a symlink out of the KB.

    A cloned repository can carry ``kbmine.specs.yaml -> ../../somewhere``:
    ``kbmine mine`` then created or overwrote that file, ``specs accept``
    rewrote it, and every command showed bits of it in its errors. Notes are
    read through a symlink only when it stays in the KB (see
    :mod:`kbmine.files`); the specs file follows the same rule.
    """
    path = root / SPECS_FILE
    if path.is_symlink():
        real_root = os.path.realpath(root)
        if not os.path.realpath(path).startswith(real_root + os.sep):
            raise ConfigError(f"{path}: a symlink out of the KB; kbmine reads and writes its specs file only inside the KB")
    return path


def find_config_file(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """Return the first config file found from ``start`` upwards, with its kbmine table."""
    here = start.resolve()
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            table = _read_table(candidate)
            if table is not None:
                return candidate, table
    return None


def _read_table(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        if path.name == "pyproject.toml":
            # A broken pyproject.toml of some other project is not ours to judge,
            # unless it is the one that carries our table.
            return None
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc
    if path.name == "pyproject.toml":
        table = document.get("tool", {}).get("kbmine")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.kbmine] must be a table")
        return table
    return document


def load_config(start: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Find, read and validate the config for a KB at ``start``; apply CLI overrides."""
    found = find_config_file(start)
    table: dict[str, Any] = dict(found[1]) if found else {}
    source = str(found[0]) if found else None
    for key, value in (overrides or {}).items():
        if value is not None:
            table[key] = value
    return _validate(table, source)


def _validate(table: dict[str, Any], source: str | None) -> Config:
    where = source or "options"
    known = {
        "dialect",
        "include",
        "exclude",
        "respect_gitignore",
        "select",
        "ignore",
        "severity",
        "rules",
        "extensions",
        "parse_timeout",
        "max_note_size",
        "per_path_ignores",
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown config key {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    dialect = table.get("dialect", "obsidian")
    if dialect not in DIALECTS:
        raise ConfigError(f"{where}: dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{where}: severity must be a table of rule = level")
    for rule, level in severity.items():
        if level not in SEVERITIES:
            raise ConfigError(
                f"{where}: severity of {rule!r} must be one of {', '.join(SEVERITIES)}, not {level!r}"
            )
    rules = table.get("rules", {})
    if not isinstance(rules, dict) or not all(isinstance(v, dict) for v in rules.values()):
        raise ConfigError(f"{where}: rules must be a table of tables ([tool.kbmine.rules.NAME])")
    rules = {name: _rule_options(name, options, where) for name, options in rules.items()}
    timeout = table.get("parse_timeout", 10.0)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
        raise ConfigError(f"{where}: parse_timeout must be a positive number of seconds (inf for no limit)")
    max_size = table.get("max_note_size", DEFAULT_MAX_NOTE_SIZE)
    if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size <= 0:
        raise ConfigError(f"{where}: max_note_size must be a positive number of bytes")
    respect = table.get("respect_gitignore", True)
    if not isinstance(respect, bool):
        raise ConfigError(f"{where}: respect_gitignore must be true or false")
    per_path = table.get("per_path_ignores", {})
    if not isinstance(per_path, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in per_path.values()
    ):
        raise ConfigError(f'{where}: per_path_ignores must be a table of glob = ["rule", ...]')
    extensions = _string_list(table, "extensions", where) or (".md", ".markdown")
    if not all(ext.startswith(".") for ext in extensions):
        raise ConfigError(f"{where}: extensions must start with a dot, e.g. '.md'")
    return Config(
        dialect=dialect,
        include=_string_list(table, "include", where),
        exclude=_string_list(table, "exclude", where),
        respect_gitignore=respect,
        select=_string_list(table, "select", where),
        ignore=_string_list(table, "ignore", where),
        severity=dict(severity),
        rules=rules,
        extensions=tuple(ext.lower() for ext in extensions),
        parse_timeout=float(timeout),
        max_note_size=max_size,
        per_path_ignores={glob: tuple(names) for glob, names in per_path.items()},
        source=source,
    )


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _count(minimum: int) -> Callable[[Any], int | None]:
    def count(value: Any) -> int | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        return value if ok else None

    count.__doc__ = f"an integer >= {minimum}"
    return count


def _number(low: float, high: float = math.inf) -> Callable[[Any], float | None]:
    def number(value: Any) -> float | None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high
        return float(value) if ok and math.isfinite(value) else None

    number.__doc__ = f"a number from {low:g} to {high:g}" if math.isfinite(high) else f"a finite number >= {low:g}"
    return number


def _word(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _words(value: Any) -> list[str] | None:
    """One string is a list of one (as for ``exclude``): ``roots = "index.md"`` must not become
    the globs ``i``, ``n``, ``d``... when a rule iterates it."""
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


_flag.__doc__ = "true or false"
_word.__doc__ = "a string"
_words.__doc__ = "a list of strings"

#: What each rule option must be, checked when the config is read: a rule that reads ``float("x")``
#: or iterates an integer halfway through a run is an internal error, not a config error.
#: Options a rule declares but this table leaves out pass through unchecked.
RULE_OPTION_KINDS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "broken-link": {"hashtags": _flag},
    "duplicate-claim": {"min_words": _count(3), "similarity": _number(0.0, 1.0), "boilerplate_notes": _count(2)},
    "missing-link": {
        "min_length": _count(1), "max_share": _number(0.0, 1.0), "min_common": _count(0), "learn_labels": _flag,
        "plurals": _flag, "exclude": _words, "exclude_targets": _words,
    },
    "orphan-note": {"roots": _words},
    "stale-status": {
        "status_key": _word, "missing_status": _word, "live": _words, "dead": _words, "done": _words,
        "successor_keys": _words, "date_keys": _words, "max_age_days": _number(0.0), "date_tolerance_days": _number(0.0),
    },
}


def _rule_options(rule: str, options: dict[str, Any], where: str) -> dict[str, Any]:
    """``options`` with each known option checked (and one string made a list of one)."""
    kinds = RULE_OPTION_KINDS.get(rule, {})
    checked = dict(options)
    for key, value in options.items():
        kind = kinds.get(key)
        if kind is None:
            continue
        converted = kind(value)
        if converted is None:
            raise ConfigError(f"{where}: rules.{rule}.{key} must be {kind.__doc__}, not {value!r}")
        checked[key] = converted
    return checked


def _string_list(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, ())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)
