"""Indented JSON (SARIF, graph exports) is written by kbmine's own writer: it must match the
standard library's ``json.dumps(plain(value), indent=...)`` character for character."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kbmine.report.portable import dumps, plain


class _Level(enum.IntEnum):
    LOW = 1


class _Name(str):
    """A ``str`` subclass, as YAML loaders hand out."""


def _reference(value: Any, indent: int, sort_keys: bool) -> str:
    """What :func:`dumps` wrote before it had a writer of its own."""
    text = json.dumps(plain(value), ensure_ascii=False, allow_nan=False, indent=indent, sort_keys=sort_keys)
    return "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=8) | st.sampled_from(
    ["", "a\"b\\c", "tab\there\nline", "\udc80name", "é✓", "\x00\x1f"]
)
_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXT,
    st.builds(_Name, _TEXT),
    st.just(_Level.LOW),
    st.dates(),
    st.datetimes(max_value=dt.datetime(2100, 1, 1)),
    st.frozensets(st.integers(0, 5), max_size=3),
)
_KEY = st.one_of(_TEXT, st.integers(-3, 3), st.booleans(), st.none(), st.floats(allow_nan=False, width=16))
_VALUE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_KEY, inner, max_size=4),
        st.dictionaries(_TEXT, inner, max_size=3).map(OrderedDict),
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(_VALUE, st.sampled_from([0, 2, 4]), st.booleans())
def test_indented_output_is_the_standard_librarys(value: Any, indent: int, sort_keys: bool) -> None:
    assert dumps(value, indent=indent, sort_keys=sort_keys) == _reference(value, indent, sort_keys)


def test_colliding_keys_merge_as_plain_merges_them() -> None:
    value = {"nested": {1: "int", "1": "str", None: "none", 2.5: "float"}, "empty": {}, "list": [[], ()]}
    assert dumps(value, indent=2) == _reference(value, 2, False)
    assert json.loads(dumps(value, indent=2))["nested"] == {"1": "str", "null": "none", "2.5": "float"}
