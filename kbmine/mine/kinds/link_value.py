"""link_value: a frontmatter key's values are links to notes (wikilinks or note paths)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kbmine.mine.kinds import Kind, Params, key_label, kind, matcher, scope_keys, shares
from kbmine.mine.spec import MineSettings, Scope, Spec, value_tokens
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
    instead, or a link to a note that was renamed or never written, is a
    relation nobody can follow.

    The spec asks for the form (every value a wikilink, or every value a path
    to a ``.md`` note) and that every value resolves to a note of the KB, by
    the KB's one resolver: a wikilink as the dialect reads it, a path
    relative to the note, or else from the KB root (``kb/types/note.md``).
    A broken frontmatter wikilink is also ``broken-link`` (KB101); a broken
    frontmatter path is found only here.

    A vocabulary of link values (``enum_values`` on the same key, not
    required) is left out for this spec: its words are the notes linked
    today, and a link to a note added tomorrow is a new value it would flag
    while nothing is wrong. A *required* vocabulary is kept beside this spec,
    since it also says every note has the key.
    """

    name = "link_value"
    summary = "a frontmatter key's values are links to notes (wikilinks or note paths)"
    priority = 25
    parameters = {"key": None, "form": tuple(FORMS)}
    uses_context = True

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
        value = note.frontmatter.get(params["key"])
        return params["form"] in link_forms(value) and not self.dangling(note, value)

    def dangling(self, note: Note, value: object) -> list[str]:
        """The words of ``value`` that do not lead to a note of the KB."""
        return [token for token in value_tokens(value) or () if not self._resolves(note.path, token)]

    def _resolves(self, source: str, token: str) -> bool:
        resolve = self.context.resolve_value
        found = resolve(source, token)
        if found.status == "broken" and not token.startswith(("[[", ".", "/")):
            found = resolve(source, "/" + token)  # frontmatter paths are often written from the root
        return found.status == "note"

    def statement(self, scope: Scope, params: Params) -> str:
        return (
            f"{scope.describe()} that has {key_label(params['key'])} sets it to {FORMS[params['form']]} "
            "or a list of them, each leading to an existing note"
        )

    def fix(self, note: Note, params: Params) -> str:
        value = note.frontmatter.get(params["key"])
        if params["form"] in link_forms(value):
            missing = ", ".join(repr(token) for token in self.dangling(note, value))
            return f"point `{params['key']}` at notes that exist ({missing} leads to no note): fix the name or path, or write the note"
        return f"write `{params['key']}` as {FORMS[params['form']]} to the note it means (it is {value!r}); quote wikilinks in YAML"

    def implies(self, params: Params, other: Spec) -> bool:
        if super().implies(params, other):
            return True
        theirs = other.parameters
        return (
            other.kind == "enum_values"
            and theirs.get("key") == params["key"]
            and not theirs["required"]
            and all(params["form"] in link_forms(value) for value in theirs["values"])
        )
