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
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
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
    Indented output (SARIF, graph exports) comes from :func:`_indented`.
    """
    text: str | None = None
    if indent is None:
        try:
            text = (_SORTED if sort_keys else _COMPACT).encode(value)
        except (ValueError, TypeError):
            text = None
    if text is None:
        if indent is None:
            text = json.dumps(plain(value), ensure_ascii=False, allow_nan=False, sort_keys=sort_keys)
        else:
            text = _indented(value, " " * indent, sort_keys)
    try:
        text.encode("utf-8")  # a tenth of the cost of searching for lone surrogates, which are rare
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text


class _CompactEncoder:
    """``json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=plain).encode``, its C
    encoder made once: ``JSONEncoder.encode`` makes a new one per call, a quarter of the time
    of a report that encodes each of 5,700 findings on its own."""

    def __init__(self, sort_keys: bool) -> None:
        self._sort_keys = sort_keys
        self.reset()

    def reset(self) -> None:
        """A fresh C encoder (see :meth:`encode`)."""
        encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=self._sort_keys, default=plain)
        made = c_make_encoder and c_make_encoder(
            {}, plain, encode_basestring, None, encoder.key_separator, encoder.item_separator, self._sort_keys, False, False
        )
        self._encode: Callable[[Any], str] = (lambda value: "".join(made(value, 0))) if made else encoder.encode

    def encode(self, value: Any) -> str:
        """``value`` as compact JSON; raises as ``JSONEncoder.encode`` does. An encoder that failed
        part way may keep what it was in the middle of as "being encoded", and would take a later
        object at the same address for a cycle: after a failure the next call gets a fresh one."""
        if isinstance(value, str):
            return encode_basestring(value)
        try:
            return self._encode(value)
        except BaseException:
            self.reset()
            raise


#: The compact encoders :func:`dumps` uses, made once (a report calls it per finding).
_COMPACT = _CompactEncoder(sort_keys=False)
_SORTED = _CompactEncoder(sort_keys=True)


def _indented(value: Any, step: str, sort_keys: bool) -> str:
    """``json.dumps(plain(value), indent=len(step), ensure_ascii=False, sort_keys=sort_keys)``,
    character for character.

    The standard library writes indented JSON in Python, one generator per level
    that every token passes through, after :func:`plain` has copied the value:
    the SARIF report of 5,700 findings took 0.39 s that way. Here one recursive
    writer does both (strings still go through the C escaper), and :func:`plain`
    only sees what JSON cannot say as it is.
    """
    out: list[str] = []
    append = out.append
    string = encode_basestring

    def write(value: Any, level: str) -> None:
        kind = type(value)
        if kind is str:
            append(string(value))
        elif kind is dict:
            if not value:
                append("{}")
            elif not all(isinstance(key, str) for key in value):
                write(plain(value), level)  # keys to convert, which may collide: as plain() merges them
            else:
                inner = level + step
                before = "{\n" + inner
                for key, item in sorted(value.items()) if sort_keys else value.items():
                    append(before)
                    append(string(key))
                    append(": ")
                    write(item, inner)
                    before = ",\n" + inner
                append("\n" + level + "}")
        elif kind is list or kind is tuple:
            if not value:
                append("[]")
            else:
                inner = level + step
                before = "[\n" + inner
                for item in value:
                    append(before)
                    write(item, inner)
                    before = ",\n" + inner
                append("\n" + level + "]")
        elif value is None:
            append("null")
        elif value is True:
            append("true")
        elif value is False:
            append("false")
        elif kind is int:
            append(int.__repr__(value))
        elif kind is float and math.isfinite(value):
            append(float.__repr__(value))
        else:  # a subclass, a set, a date, NaN...: what plain() makes of it
            cleaned = plain(value)
            if isinstance(cleaned, str):
                append(string(cleaned))
            elif isinstance(cleaned, int):
                append(int.__repr__(cleaned))
            elif isinstance(cleaned, float):
                append(float.__repr__(cleaned))
            else:
                write(dict(cleaned) if isinstance(cleaned, dict) else list(cleaned), level)

    write(value, "")
    return "".join(out)


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids written as its Python escape."""
    return _NOT_XML.sub(lambda match: ascii(match.group())[1:-1], text)
