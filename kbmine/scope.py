"""Which notes a change touches, for ``kbmine check --changed-since REF``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kbmine.errors import InputError

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["affected_notes"]


def affected_notes(kb: KB, ref: str) -> set[str]:
    """Notes changed since ``ref`` plus the notes whose links the change affects.

    A note is affected when it links to a changed note (its anchors may have
    moved) or to a path that was deleted or renamed away since ``ref`` (its
    link is now broken).
    """
    from kbmine import gitops

    changes = gitops.changed_since(kb.root, ref)
    if changes is None:
        raise InputError(f"--changed-since {ref}: not a commit of the git repository at {kb.root}")
    changed, gone = changes
    affected = {path for path in changed if path in kb.notes}
    for note, _, resolution in kb.links():
        target = resolution.path
        if target is None:
            continue
        if target in changed or target in gone or target + ".md" in gone:
            affected.add(note.path)
    return affected
