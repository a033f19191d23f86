"""KB300 spec: a note breaks a convention the KB's owners accepted in ``kbmine.specs.yaml``."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.config import SPECS_FILE, specs_path
from kbmine.errors import ConfigError
from kbmine.model import Finding, Note, Span

if TYPE_CHECKING:
    from kbmine.kb import KB
    from kbmine.mine.spec import Spec
    from kbmine.parse.text import SourceText

_ZERO = Span(0, 0, 1, 1, 1, 1)


def specs_digest(kb: KB) -> str:
    """The specs file's content digest: accepting or rejecting a spec must invalidate cached findings."""

    try:
        data = specs_path(kb.root).read_bytes()
    except OSError:
        return "no-specs"
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@rule(
    "KB300",
    "spec",
    "warning",
    "a note breaks a spec accepted in kbmine.specs.yaml",
    inputs=specs_digest,
)
def spec(kb: KB, options: dict[str, Any]) -> Iterator[Finding]:
    """A note that breaks a convention you accepted after ``kbmine mine`` found it.

    ``kbmine mine`` proposes specs (a required key, a vocabulary, a value
    type, a folder's value, a file name pattern, a required section, a key
    implying another, link-valued keys whose targets exist, titles matching
    file names, a minimum of outbound links, a folder's index listing its
    notes, notes of one kind linking to notes of another, a folder entered
    only through its index, the status
    vocabulary with its live/dead/done classes) with their evidence in
    ``kbmine.specs.yaml``; ``kbmine specs accept ID`` makes one enforced (an
    accepted status vocabulary also tells stale-status which values are dead). Each finding's rule is ``spec/<id>`` and its message
    states the convention and the edit that restores it. It sits at the
    frontmatter key the spec is about when the note has it, else at line 1.
    To allow an exception, suppress ``spec/<id>`` (or ``KB300``) in that note;
    if exceptions pile up, reject the spec or mine it again.
    """
    specs = enforced_specs(kb.root)
    if not specs:
        return
    # Imported only when a spec is enforced: the miner's package brings the parser along.
    from kbmine.mine.context import MineContext
    from kbmine.mine.kinds import all_kinds

    kinds = all_kinds()
    context = MineContext.of_kb(kb) if any(kinds[s.kind].uses_context for s in specs) else None
    for accepted in specs:
        kind, params = kinds[accepted.kind], accepted.parameters
        if context is not None:
            kind = kind.bind(context)
        for note in kb.notes.values():
            if not note.content_hash or not accepted.scope.contains(note):
                continue
            if not kind.applies(note, params) or kind.holds(note, params):
                continue
            key = kind.anchor_key(params)
            message = f"breaks spec {accepted.id} ({SPECS_FILE}): {accepted.statement}; {kind.fix(note, params)}"
            finding = Finding(
                code="KB300",
                rule=f"spec/{accepted.id}",
                severity="warning",
                path=note.path,
                span=_anchor(kb.source(note.path), note, key),
                message=message,
                data={"spec": accepted.id, "kind": accepted.kind, "scope": str(accepted.scope), "params": params},
            )
            yield finding.with_fingerprint(accepted.id, repr(note.frontmatter.get(key)) if key else "")


def enforced_specs(root: Path) -> tuple[Spec, ...]:
    """The accepted specs at ``root``, read once per content of the file: ruamel.yaml is slow,
    and ``kbmine specs test`` checks the same specs file once per batch of mutants."""

    try:
        text = specs_path(root).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{root / SPECS_FILE}: cannot read: {exc}") from None
    return _parse_accepted(text, str(root / SPECS_FILE))


@functools.lru_cache(maxsize=4)
def _parse_accepted(text: str, where: str) -> tuple[Spec, ...]:
    from kbmine.mine.specfile import read_entries

    return tuple(entry.spec for entry in read_entries(text, where) if entry.state == "accepted")


def _anchor(source: SourceText | None, note: Note, key: str | None) -> Span:
    """The span of frontmatter ``key`` when the note has it, else of the note's first line."""
    if source is None:
        return _ZERO
    if key is not None and key in note.frontmatter:
        from kbmine.parse.frontmatter import find_frontmatter

        block = find_frontmatter(source.normalized)
        if block is not None:
            pattern = re.compile(rf"^(['\"]?){re.escape(key)}\1[ \t]*:", re.MULTILINE)
            match = pattern.search(source.normalized, block.text_start, block.text_end)
            if match is not None:
                return source.span(match.start(), match.start() + 2 * len(match.group(1)) + len(key))
    return source.span(0, source.line_end(0))
