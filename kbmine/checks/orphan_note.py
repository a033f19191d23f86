"""KB204 orphan-note."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.files import glob_matcher
from kbmine.model import Finding, Span

if TYPE_CHECKING:
    from kbmine.kb import KB

#: Entry points nobody needs to link to: folder landings and the KB's home.
DEFAULT_ROOTS = ("README.md", "readme.md", "index.md", "_index.md", "INDEX.md", "home.md", "Home.md", "*.README.md")


@rule("KB204", "orphan-note", "warning", "no other note links to this note", options=("roots",), scope="faces")
def orphan_note(kb: KB, options: dict[str, Any]) -> Iterator[Finding]:
    """A note no other note links to (frontmatter links and embeds count).

    Nobody browsing the KB can reach it: it is either missing from an index
    or obsolete. A link reference definition no link uses (``[x]: x.md``,
    left behind when ``[[x]]`` or ``[text][x]`` was deleted, as Foam's
    generated ones are) is not a link: nothing renders it. An ambiguous link
    (``[[setup]]`` with two ``setup.md``) links each note it may mean: the
    defect is the ambiguity, which ambiguous-link reports. So does a link
    broken by a rename or move not committed yet (git shows the old note
    missing and the new one, byte for byte the same, untracked): it still
    says which note it meant, and broken-link reports it where it is fixed.

    Index and root notes are exempt (option ``roots``: globs, default
    ``README.md``, ``index.md``, ``home.md`` and the like), but only the
    top-most ones: a folder's ``README.md`` under a folder that has an index
    of its own is reached through that index, so it must be linked like any
    note (``work/README.md`` lists ``work/trial/README.md``). A glob with a
    folder in it (``daily/*.md``) exempts whatever it matches. Fix: link it
    from its folder's index or a related note, or delete it.

    Fail: ``notes/lost-idea.md`` with no inbound links.
    Pass: ``notes/README.md`` lists ``[Lost idea](lost-idea.md)``.
    """
    exempt = _exemptions(tuple(options.get("roots", DEFAULT_ROOTS)), kb.notes)
    inbound: set[str] = set()
    for note, link, resolution in kb.links():
        if link.kind == "definition":  # the parser keeps only unused definitions as links of their own
            continue
        if resolution.status == "note" and resolution.path is not None and resolution.path != note.path:
            inbound.add(resolution.path)
        elif resolution.status == "ambiguous":
            inbound.update(candidate for candidate in resolution.candidates if candidate != note.path)
        elif (moved := kb.moved_target(note.path, link, resolution)) is not None and moved != note.path:
            inbound.add(moved)  # broken by a move not committed yet: broken-link reports it, the fix is there
    for path, note in kb.notes.items():
        if path in inbound or exempt(path):
            continue
        if any(p.rule == "unreadable-note" for p in note.problems):
            continue
        message = (
            f"no other note links to {path!r} ({note.title!r}); readers cannot reach it: "
            "link it from its folder's index or a related note, or delete it if obsolete"
        )
        finding = Finding("KB204", "orphan-note", "warning", path, Span(0, 0, 1, 1, 1, 1), message, {"title": note.title})
        yield finding.with_fingerprint("orphan")


def _exemptions(roots: tuple[str, ...], paths: Iterable[str]) -> Callable[[str], bool]:
    """Whether a note is an entry point: matched by a folder glob, or the top-most index of its branch.

    A name glob (``README.md``) marks the index of the folder it sits in;
    an index whose ancestor folders hold none is where readers come in.
    """
    names = glob_matcher(tuple(p for p in roots if "/" not in p.rstrip("/")))
    folders = glob_matcher(tuple(p for p in roots if "/" in p.rstrip("/")))
    indexed = {posixpath.dirname(p) for p in paths if names is not None and names.match(p)}

    def exempt(path: str) -> bool:
        if folders is not None and folders.match(path):
            return True
        if names is None or not names.match(path):
            return False
        folder = posixpath.dirname(path)
        while folder:
            folder = posixpath.dirname(folder)
            if folder in indexed:
                return False
        return True

    return exempt
