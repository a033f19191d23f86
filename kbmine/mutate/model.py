"""What a mutation is: the edits of one fix, why it is made, and what must hold afterwards."""

from __future__ import annotations

from dataclasses import dataclass

from kbmine.model import Edit

__all__ = ["Expectation", "Mutation"]


@dataclass(frozen=True, slots=True)
class Expectation:
    """What verification checks in note ``path`` after the edits: a link to ``target`` resolves.

    ``added`` says whether the note gains a link (a mention turned into a
    link) or keeps its link count (a link retargeted).
    """

    path: str
    target: str
    anchor: str | None
    added: bool


@dataclass(frozen=True, slots=True)
class Mutation:
    """One fix, committed on its own: byte-span edits plus the story of why.

    ``fingerprint`` is the fingerprint of the finding the fix resolves: it is
    written as a commit trailer, remembered when the fix is rejected, and
    what makes a second run propose nothing twice.
    """

    kind: str  # relink, extract, synthesise
    action: str  # link-mention, follow-rename, successor, anchor, fuzzy; extract; hub
    rule: str
    fingerprint: str
    edits: tuple[Edit, ...]
    #: For relink: the link that must resolve afterwards (extract and synthesise check their own invariants).
    expect: Expectation | None
    subject: str
    body: str
    confidence: str = "high"
    #: New notes (KB-relative path, bytes); they must not exist yet.
    new_files: tuple[tuple[str, bytes], ...] = ()
    #: For extract: the claim's words, which afterwards must live in the new note only.
    claim: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """The KB-relative paths the mutation writes."""
        return tuple(dict.fromkeys([edit.path for edit in self.edits] + [path for path, _ in self.new_files]))

    def message(self) -> str:
        """The commit message: subject, why, and the trailers tools read back."""
        trailers = (
            f"Kbmine-Mutation: {self.kind}/{self.action}\n"
            f"Kbmine-Rule: {self.rule}\n"
            f"Kbmine-Fingerprint: {self.fingerprint}\n"
            f"Kbmine-Confidence: {self.confidence}\n"
        )
        return f"{self.subject}\n\n{self.body.strip()}\n\n{trailers}"
