"""KB106 unreadable-note."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.checks._problems import problem_findings
from kbmine.model import Finding

if TYPE_CHECKING:
    from kbmine.kb import KB


@rule("KB106", "unreadable-note", "error", "a note that cannot be read as text", scope="note")
def unreadable_note(kb: KB, options: dict[str, Any], *, judged: Collection[str] | None = None) -> Iterator[Finding]:
    """A ``.md`` file kbmine could not read: not UTF-8 (or UTF-16 with a BOM),
    binary content, permission denied, a dangling symlink or one pointing
    outside the KB, a folder named like a note. The rest of the KB is still
    checked; links to the file still count as resolved. Fix: re-save the file
    as UTF-8, or move the binary out of the KB.
    """
    yield from problem_findings(kb, "KB106", "unreadable-note", judged)
