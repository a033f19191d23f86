"""link_value: a frontmatter key's values are links to notes (wikilinks or note paths)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, key_label, kind, matcher, scope_keys, shares
from kbmine.mine.spec import MineSettings, Scope, value_tokens
from kbmine.model import Note
from kbmine.parse.wikilinks import WIKILINK

#: Each form in words, and the test a value must pass.
FORMS = {
    "wikilink": "a wikilink (`[[note]]`)",
    "path": "a path to a markdown note (`folder/note.md`)",
}
_PATH = matcher(r"(?![A-Za-z][A-Za-z0-9+.-]*:)[^\s\[\]<>|*?]+\.(?:md|markdown)(?:#\S*)?")
_TESTS = {"wikilink": lambda token: WIKILINK.fullmatch(token) is not None, "path": _PATH}


def link_forms(value: object) -> set[str]:
    """The forms of :data:`FORMS` every word of ``value`` has (none for a null, an empty list or a mapping)."""
    tokens = value_tokens(value)
    if not tokens:
        return set()
    return {form for form, test in _TESTS.items() if all(test(token) for token in tokens)}


@kind
class LinkValue(Kind):
    """``superseded_by: "[[adr-0007]]"``, ``type: kb/types/note.md``: a key whose values
    point at other notes is a relation, and a bare name or title typed there
    instead is a relation nobody can follow.

    The spec asks for the form (every value a wikilink, or every value a path
    to a ``.md`` note). Whether the target exists is checked where the whole
    KB is known: a kind sees one note at a time, so it leaves wikilinks in
    frontmatter to ``broken-link`` (KB101), which resolves them with the KB's
    one resolver. Frontmatter paths are not resolved by any rule yet.
    """

    name = "link_value"
    summary = "a frontmatter key's values are links to notes (wikilinks or note paths)"
    priority = 25
    parameters = {"key": None, "form": tuple(FORMS)}

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        for key in scope_keys(notes, scope):
            having = [note.frontmatter[key] for note in notes if self.applies(note, {"key": key})]
            counts = Counter(form for value in having for form in link_forms(value))
            for form in shares(counts, len(having), settings.min_confidence):
                yield {"key": key, "form": form}

    def applies(self, note: Note, params: Params) -> bool:
        """A key left empty (``related: []``, ``superseded_by:``) links nowhere yet, and is no counterexample."""
        return note.frontmatter.get(params["key"]) not in (None, "", [])

    def holds(self, note: Note, params: Params) -> bool:
        return params["form"] in link_forms(note.frontmatter.get(params["key"]))

    def statement(self, scope: Scope, params: Params) -> str:
        return f"{scope.describe()} that has {key_label(params['key'])} sets it to {FORMS[params['form']]} or a list of them"

    def fix(self, note: Note, params: Params) -> str:
        return (
            f"write `{params['key']}` as {FORMS[params['form']]} to the note it means "
            f"(it is {note.frontmatter.get(params['key'])!r}); quote wikilinks in YAML"
        )
