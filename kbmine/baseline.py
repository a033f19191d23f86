"""Baselines: adopt kbmine on an old KB and gate only new findings.

A baseline file records the findings that exist today. Later runs drop
every finding the baseline already knows: the same fingerprint (rule, note
and the text involved, never the line), or, for a note that was renamed or
moved since, the same path-free identity with a baseline path that no
longer exists. Each baseline entry absorbs at most one finding, so a second
copy of an old problem still shows up.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kbmine import __version__
from kbmine.errors import ConfigError
from kbmine.model import Finding

__all__ = ["write_baseline", "read_baseline", "filter_new"]

_FORMAT = 1


def write_baseline(path: Path, findings: Sequence[Finding]) -> None:
    entries = [
        {"fingerprint": f.fingerprint, "identity": f.identity, "rule": f.rule, "path": f.path, "message": f.message}
        for f in findings
    ]
    document = {"kbmine_baseline": _FORMAT, "kbmine": __version__, "findings": entries}
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_baseline(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable kbmine baseline: {exc}") from None
    if not isinstance(document, dict) or document.get("kbmine_baseline") != _FORMAT or not isinstance(document.get("findings"), list):
        raise ConfigError(f"{path}: not a kbmine baseline (format {_FORMAT})")
    return [e for e in document["findings"] if isinstance(e, dict)]


def filter_new(findings: Iterable[Finding], baseline: list[dict[str, Any]], existing_paths: set[str]) -> list[Finding]:
    """The findings the baseline does not account for."""
    by_fingerprint: Counter[str] = Counter(str(e.get("fingerprint")) for e in baseline)
    moved: Counter[str] = Counter(
        str(e.get("identity")) for e in baseline if e.get("path") not in existing_paths and e.get("identity")
    )
    new: list[Finding] = []
    for finding in findings:
        if by_fingerprint[finding.fingerprint] > 0:
            by_fingerprint[finding.fingerprint] -= 1
        elif finding.identity and moved[finding.identity] > 0:
            moved[finding.identity] -= 1
        else:
            new.append(finding)
    return new
