"""KB203 stale-status: a note's status says it is live while the facts say otherwise."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from kbmine.checks import rule
from kbmine.checks.spec import enforced_specs, specs_digest
from kbmine.model import Finding, Link, Note, Span

if TYPE_CHECKING:
    from kbmine.kb import KB

LIVE = (
    "current", "active", "accepted", "draft", "in-progress", "in_progress", "wip", "open", "planned",
    "proposed", "todo", "ongoing", "published", "review", "in-review", "live", "stable", "evergreen",
)
DEAD = (
    "superseded", "deprecated", "archived", "retired", "obsolete", "wont-do", "wontdo", "won't-do",
    "abandoned", "rejected", "cancelled", "canceled", "dropped", "withdrawn", "replaced", "dead", "outdated",
)
DONE = ("completed", "complete", "done", "closed", "resolved", "finished", "shipped", "merged", "fixed", "implemented")
WORK_IN_PROGRESS = ("draft", "in-progress", "in_progress", "wip")
SUCCESSOR_KEYS = (
    "superseded_by", "superseded-by", "supersededBy", "successor", "replaced_by", "replaced-by", "replacedBy",
    "see_instead", "see-instead",
)
#: Frontmatter keys whose links point at predecessors on purpose.
LINEAGE_KEYS = ("supersedes", "replaces", "previous", "predecessor", "predecessors", "prev", "derived_from", "history")
DATE_KEYS = (
    "updated", "last_updated", "last-updated", "lastUpdated", "modified", "last_modified", "last-modified",
    "date_modified", "updated_at", "last_reviewed", "last-reviewed", "reviewed",
)
_SUCCESSOR_PHRASE = re.compile(r"(?:superseded|replaced|obsoleted)\s+(?:by|with)|successor|see\s+instead", re.IGNORECASE)
_OPEN_TASK = re.compile(r"^[ \t>]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[ \](?:[ \t]|$)", re.MULTILINE)
_ZERO = Span(0, 0, 1, 1, 1, 1)
_DAY = 86400


def _words(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError


def _option(options: dict[str, Any], key: str, default: tuple[str, ...]) -> frozenset[str]:
    try:
        return frozenset(v.strip().lower() for v in _words(options.get(key, default)))
    except TypeError:
        from kbmine.errors import ConfigError

        raise ConfigError(f"rules.stale-status.{key} must be a list of strings") from None


def _vocabulary(kb: KB, options: dict[str, Any], key: str) -> dict[str, str]:
    """Status value → live, dead or done: the built-in vocabulary of each class the config does
    not set, then the accepted ``status_vocabulary`` specs of ``key``, then the configured lists."""
    order = (("live", LIVE), ("done", DONE), ("dead", DEAD))  # dead wins over done over live
    classes = {word: name for name, default in order if name not in options for word in _option(options, name, default)}
    for accepted in enforced_specs(kb.root):
        if accepted.kind == "status_vocabulary" and accepted.parameters.get("key") == key:
            # Imported only here: the miner's package brings the parser with it (a tenth of a second).
            from kbmine.mine.kinds.status_vocabulary import status_classes

            classes.update(status_classes(accepted.parameters))
    classes.update({word: name for name, default in order if name in options for word in _option(options, name, default)})
    return classes


def _classes(kb: KB, options: dict[str, Any]) -> dict[str, tuple[str | None, str]]:
    """Each note's status word (``None``: none) and its class: live, dead, done or other."""
    key = str(options.get("status_key", "status"))
    vocabulary = _vocabulary(kb, options, key)
    missing = str(options.get("missing_status", "live")).lower()
    classes: dict[str, tuple[str | None, str]] = {}
    for path, note in kb.notes.items():
        value = note.frontmatter.get(key)
        if value is None:
            classes[path] = (None, missing)
        else:
            word = str(value).strip().lower()
            classes[path] = (word, vocabulary.get(word, "other"))
    return classes


def _dead_notes(kb: KB, options: dict[str, Any]) -> list[str]:
    """The dead notes, whose whole text the rule reads while judging the notes that link them
    (a "superseded by [link]" in their prose names their successor)."""
    return [path for path, (_, kind) in _classes(kb, options).items() if kind == "dead"]


@rule(
    "KB203",
    "stale-status",
    "warning",
    "a note's status contradicts its links, its successor, its age or its tasks",
    options=(
        "status_key", "live", "dead", "done", "missing_status", "successor_keys", "date_keys", "max_age_days",
        "date_tolerance_days",
    ),
    uses_git=True,
    inputs=specs_digest,
    scope="note",
    reads=_dead_notes,
)
def stale_status(kb: KB, options: dict[str, Any], *, judged: Collection[str] | None = None) -> Iterator[Finding]:
    """A ``status`` that says a note is live while the facts say otherwise.

    (a) a live note links to a dead one (superseded, deprecated, archived...):
    the finding sits at the link and names the dead note's successor when it
    has one; (b) a ``superseded`` note names no successor (a
    ``superseded_by`` key, or a "superseded by [link]" in its text), reported
    at the note only when no live note links it (else the findings at those
    links say so: one defect, reported where it is fixed); (c) a
    draft or in-progress note untouched in git for ``max_age_days`` (180);
    (d) a date field (``updated``, ``last_reviewed``...) in the future or
    further than ``date_tolerance_days`` (60) from the note's last commit;
    (e) a done note (completed, closed...) with open ``- [ ]`` tasks.
    A note without status counts as live (``missing_status``). The live,
    dead and done vocabularies, the status key and the successor keys are
    options. A ``status_vocabulary`` spec accepted in ``kbmine.specs.yaml``
    (``kbmine mine`` proposes the KB's own values, classed from its history)
    adds to the built-in vocabulary and overrides it; a vocabulary set in
    the config wins over both. Outside git, (c) and (d) are skipped with one notice.

    Fail: ``status: current`` and a link to ``old-design.md`` whose status is ``superseded``.
    Fix: link the successor named in the finding instead, or update the status.
    """
    key = str(options.get("status_key", "status"))
    classes = _classes(kb, options)
    successor_keys = _option(options, "successor_keys", SUCCESSOR_KEYS)
    date_keys = _option(options, "date_keys", DATE_KEYS)
    max_age = float(options.get("max_age_days", 180))
    tolerance = float(options.get("date_tolerance_days", 60))
    judging = kb.judged_notes(judged)
    # All links resolved at once (and cached), or only the notes that need them (see kbmine.checks.reuse).
    resolutions_of = kb.resolutions.__getitem__ if judged is None else kb.resolutions_of
    successors: dict[str, str | None] = {}

    def successor(path: str) -> str | None:
        """The successor of dead note ``path``, found once."""
        if path not in successors:
            successors[path] = _successor(kb, kb.notes[path], successor_keys)
        return successors[path]

    def dead_links(path: str) -> Iterator[tuple[Link, str]]:
        """The links of note ``path``, if live, to dead notes (not lineage links, not from a dead note's successor)."""
        if classes[path][1] != "live":
            return
        for link, resolution in zip(kb.notes[path].links, resolutions_of(path)):
            target = resolution.path
            if resolution.status != "note" or target is None or target == path or classes[target][1] != "dead":
                continue
            if link.in_frontmatter and (link.frontmatter_key or "").lower() in LINEAGE_KEYS + tuple(successor_keys):
                continue
            if successor(target) == path:
                continue
            yield link, target

    # (a) live → dead
    linked_dead: set[str] | None = set() if judged is None else None  # the dead notes live ones link
    for path in judging:
        word = classes[path][0]
        for link, target in dead_links(path):
            if linked_dead is not None:
                linked_dead.add(target)
            dead_word = classes[target][0]
            named = successor(target)
            status_text = f"status {word!r}" if word else "no status (counts as live)"
            instead = f"; link its successor {named!r} instead" if named else "; it names no successor"
            message = (
                f"live note ({status_text}) links to {target!r}, which is {dead_word!r}: readers are sent to "
                f"outdated material{instead}"
            )
            data = {"kind": "links-to-dead", "target": target, "status": dead_word, "successor": named}
            finding = Finding("KB203", "stale-status", "warning", path, link.span, message, data)
            yield finding.with_fingerprint("links-to-dead", target, link.raw)

    # (b) superseded without successor, reported at the note when no live note links it
    for path in judging:
        word = classes[path][0]
        if word == "superseded" and successor(path) is None:
            if linked_dead is None:
                linked_dead = {target for linking in kb.notes for _, target in dead_links(linking)}
            if path in linked_dead:
                continue
            note = kb.notes[path]
            message = (
                f"{path!r} is superseded but names no successor; readers cannot find what replaced it: "
                f"add `superseded_by: <path of the successor>` to its frontmatter"
            )
            finding = Finding("KB203", "stale-status", "warning", path, _status_span(kb, note, key), message, {"kind": "no-successor", "status": word})
            yield finding.with_fingerprint("no-successor")

    # (e) done with open tasks
    for path, note in judging.items():
        word, kind = classes[path]
        if kind != "done" or not note.tasks_open:
            continue
        span = _first_open_task(kb, note)
        message = (
            f"status {word!r} but {note.tasks_open} open task{'s' if note.tasks_open != 1 else ''} `- [ ]` remain: "
            "tick or drop them, or reopen the note"
        )
        finding = Finding("KB203", "stale-status", "warning", path, span, message, {"kind": "open-tasks", "status": word, "open_tasks": note.tasks_open})
        yield finding.with_fingerprint("open-tasks")

    # (c), (d) need git
    dates = kb.git_dates
    if dates is None:
        kb.notice("stale-status: not a git work tree; checks on note age and date fields were skipped")
        return
    now = dt.datetime.now(dt.UTC).timestamp()
    for path, note in judging.items():
        word, kind = classes[path]
        when = dates.get(path)
        if when is None:
            continue
        modified = when[1]
        if word in WORK_IN_PROGRESS and now - modified > max_age * _DAY:
            days = int((now - modified) / _DAY)
            message = (
                f"status {word!r} but untouched in git for {days} days (limit {max_age:g}): finish it, "
                "mark it abandoned, or delete it"
            )
            finding = Finding("KB203", "stale-status", "warning", path, _status_span(kb, note, key), message, {"kind": "untouched", "status": word, "days": days})
            yield finding.with_fingerprint("untouched")
        for field in note.frontmatter:
            if field.lower() not in date_keys:
                continue
            stamp = _timestamp(note.frontmatter[field])
            if stamp is None:
                continue
            if stamp > now + _DAY:
                problem = "is in the future"
            elif abs(stamp - modified) > tolerance * _DAY:
                last = dt.datetime.fromtimestamp(modified, dt.UTC).date().isoformat()
                problem = f"disagrees with git, which last changed the note on {last}"
            else:
                continue
            message = f"{field}: {note.frontmatter[field]} {problem} (tolerance {tolerance:g} days): update the field"
            finding = Finding("KB203", "stale-status", "warning", path, _status_span(kb, note, field), message, {"kind": "date-mismatch", "field": field, "git_modified": modified})
            yield finding.with_fingerprint("date", field)


def _timestamp(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1e9 < value < 1e10:
        return float(value)
    if isinstance(value, str):
        try:
            return _timestamp(dt.datetime.fromisoformat(value.strip()))
        except ValueError:
            return None
    return None


def _successor(kb: KB, note: Note, keys: frozenset[str]) -> str | None:
    """The note that replaces a dead one: a successor key in frontmatter, else "superseded by [link]"."""
    resolutions = kb.resolutions_of(note.path)
    for link, resolution in zip(note.links, resolutions):
        if link.in_frontmatter and (link.frontmatter_key or "").lower() in keys and resolution.status == "note":
            return resolution.path
    for field, value in note.frontmatter.items():
        if field.lower() not in keys:
            continue
        for candidate in value if isinstance(value, list) else [value]:
            if isinstance(candidate, str) and candidate.strip() and "[[" not in candidate:
                probe = Link("markdown", candidate, candidate.strip(), None, None, _ZERO)
                resolution = kb.resolver.resolve(note.path, probe)
                if resolution.status == "note":
                    return resolution.path
    source = kb.source(note.path)
    if source is None:
        return None
    for link, resolution in zip(note.links, resolutions):
        if link.in_frontmatter or resolution.status != "note" or resolution.path == note.path:
            continue
        start = source.char_offset(link.span.start)
        line_start = source.normalized.rfind("\n", 0, start) + 1
        if _SUCCESSOR_PHRASE.search(source.normalized, max(line_start, start - 200), start):
            return resolution.path
    return None


def _status_span(kb: KB, note: Note, key: str) -> Span:
    """The span of the ``key:`` line in the frontmatter (line 1 when it cannot be found)."""
    source = kb.source(note.path)
    if source is None or not note.has_frontmatter:
        return _ZERO
    body = source.char_offset(note.body_start)
    match = re.search(rf"^{re.escape(key)}\s*:.*$", source.normalized[:body], re.MULTILINE)
    if not match:
        return _ZERO
    return source.span(match.start(), match.end())


def _first_open_task(kb: KB, note: Note) -> Span:
    source = kb.source(note.path)
    if source is None:
        return _ZERO
    code = [(source.char_offset(a), source.char_offset(b)) for a, b in note.code_ranges]
    for match in _OPEN_TASK.finditer(source.normalized, source.char_offset(note.body_start)):
        if not any(a <= match.start() < b for a, b in code):
            end = source.line_end(source.line_of(match.start()))
            return source.span(match.start() + len(match.group(0)) - len(match.group(0).lstrip(" \t>")), end)
    return _ZERO
