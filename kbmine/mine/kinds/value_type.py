"""value_type: a frontmatter key's values share one type and format."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from kbmine.mine.kinds import Kind, Params, key_label, kind, matcher, scope_keys, shares
from kbmine.mine.spec import MineSettings, Scope, Spec
from kbmine.model import Note

#: Each type in words.
TYPES = {
    "boolean": "true or false",
    "number": "a number",
    "date": "an ISO date (YYYY-MM-DD)",
    "url": "a URL",
    "slug": "a slug (lowercase words joined by hyphens)",
    "list": "a list",
    "string": "a single line of text",
    "mapping": "a mapping of keys to values",
}
#: A value of the key type is also a value of these (a slug is a string).
BROADER = {"url": "string", "slug": "string", "date": "string"}

_ISO_DATE = matcher(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_URL = matcher(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_SLUG = matcher(r"(?=[a-z0-9-]*[a-z])[a-z0-9]+(?:-[a-z0-9]+)*")


def value_types(value: Any) -> set[str]:
    """Every type of :data:`TYPES` that ``value`` is (none for a null)."""
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, (int, float)):
        return {"number"}
    if isinstance(value, (dt.date, dt.time)):
        return {"date"}
    if isinstance(value, list):
        return {"list"}
    if isinstance(value, dict):
        return {"mapping"}
    if not isinstance(value, str):
        return set()
    found = {"string"} if "\n" not in value else set()
    for name, test in (("date", _ISO_DATE), ("url", _URL), ("slug", _SLUG)):
        if test(value):
            found.add(name)
    return found


@kind
class ValueType(Kind):
    """Values of one key that are all dates (or all URLs, or all slugs) make a value
    that is not one a mistake: a date typed as ``March 3``, a title where a slug
    belongs, a string where a list was meant.

    Every type that holds is proposed; the more specific one makes the broader
    one redundant (a slug is also a string).
    """

    name = "value_type"
    summary = "a frontmatter key's values share a type and format (date, URL, slug, list...)"
    priority = 30
    parameters = {"key": None, "type": tuple(TYPES)}

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        for key in scope_keys(notes, scope):
            having = [note.frontmatter[key] for note in notes if key in note.frontmatter]
            counts = Counter(name for value in having for name in value_types(value))
            for name in shares(counts, len(having), settings.min_confidence):
                yield {"key": key, "type": name}

    def applies(self, note: Note, params: Params) -> bool:
        return params["key"] in note.frontmatter

    def holds(self, note: Note, params: Params) -> bool:
        return params["type"] in value_types(note.frontmatter.get(params["key"]))

    def statement(self, scope: Scope, params: Params) -> str:
        return f"{scope.describe()} that has {key_label(params['key'])} gives it as {TYPES[params['type']]}"

    def fix(self, note: Note, params: Params) -> str:
        return f"write `{params['key']}` as {TYPES[params['type']]} (it is {note.frontmatter.get(params['key'])!r})"

    def implies(self, params: Params, other: Spec) -> bool:
        theirs = other.parameters
        return super().implies(params, other) or (
            other.kind == self.name and theirs["key"] == params["key"] and BROADER.get(params["type"]) == theirs["type"]
        )
