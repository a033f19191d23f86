"""Output every consumer can read: strict JSON (RFC 8259) and XML 1.0, both in valid UTF-8.

Frontmatter reaches the JSON outputs as YAML or TOML loaded it, so it can
hold NaN and infinities (no JSON number says them) and dates; file names that
are not UTF-8 reach them as lone surrogates (Python's ``surrogateescape``),
which no UTF-8 writer can encode. :func:`dumps` writes the numbers as the
strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, dates in ISO 8601, and
escapes lone surrogates as ``\\udcXX``, so a name's original bytes stay
recoverable (``os.fsencode``) while the document stays valid.

XML 1.0 cannot carry most control characters at all, escaped or not, and a
title or link target may contain them: :func:`xml_text` spells each such
character (and each lone surrogate) as a visible ``\\xNN`` / ``\\udcXX``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

__all__ = ["dumps", "plain", "xml_text"]

#: Values JSON says exactly as they are (``bool`` is an ``int``, but spelt out for clarity).
_EXACT = (str, bool, int, type(None))
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def plain(value: Any) -> Any:
    """``value`` with every part JSON can say exactly kept and the rest turned into strings."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        if all(type(key) is str for key in value) and all(type(item) in _EXACT for item in value.values()):
            return value  # the common flat record (a finding's data, a graph edge): nothing to convert
        return {_key(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(item) for item in value), key=repr)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _key(key: Any) -> str:
    """A mapping key as JSON's own encoder spells the scalars it accepts as keys."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    return str(plain(key))


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Serialise ``value`` as strict JSON text that encodes to UTF-8 without error.

    Compact output goes straight to the C encoder, with :func:`plain` only for
    the values it cannot say (sets, dates, other objects); a NaN or an odd
    mapping key makes it start over through :func:`plain` as a whole. Reports
    of thousands of findings are written this way, one finding per call.
    """
    text: str | None = None
    if indent is None:
        try:
            text = (_SORTED if sort_keys else _COMPACT).encode(value)
        except (ValueError, TypeError):
            text = None
    if text is None:
        text = json.dumps(plain(value), ensure_ascii=False, allow_nan=False, indent=indent, sort_keys=sort_keys)
    try:
        text.encode("utf-8")  # a tenth of the cost of searching for lone surrogates, which are rare
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text


#: The compact encoders :func:`dumps` uses, made once (a report calls it per finding).
_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=plain)
_SORTED = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, default=plain)


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids written as its Python escape."""
    return _NOT_XML.sub(lambda match: ascii(match.group())[1:-1], text)
