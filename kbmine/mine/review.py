"""Re-test accepted specs on the KB as it is now: which still hold, which to relax, which to retire.

A spec is accepted on the figures of the day it was mined (support,
confidence, violations: the specs file keeps them, and nothing rewrites a
decided entry). KBs move on. When a spec's violation rate has grown well
past that record, or a key's vocabulary has gained a value several notes
use (a value the recorded counterexamples already had is not new; a status vocabulary
counts too), the spec is probably stricter than the KB's real convention, and
enforcing it as it stands turns a change of habit into a pile of findings.
Each such spec gets a proposal:

- **relax**: the weakest change that makes it hold again, measured on the
  current notes: a widened vocabulary, a key no longer required, a broader
  type or file name pattern, a narrower scope (the largest subfolder where
  it still holds); failing those, the same spec at today's confidence (its
  recorded figures refreshed, so growth is measured from now);
- **retire**: its confidence collapsed (or its scope is empty) and no
  relaxation brings it back.

Pure functions over parsed notes; :mod:`kbmine.mine.specedit` writes the
outcome into the specs file.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kbmine.mine import _spec, evaluate, freeze_params
from kbmine.mine.context import MineContext
from kbmine.mine.kinds import all_kinds
from kbmine.mine.kinds.status_vocabulary import CLASSES, classify
from kbmine.mine.spec import Scope, Spec, value_tokens
from kbmine.mine.specfile import Entry
from kbmine.model import Note

__all__ = ["Action", "ReviewSettings", "Verdict", "measure", "review"]

Action = Literal["keep", "relax", "retire"]


@dataclass(frozen=True)
class ReviewSettings:
    """When a spec is flagged and what a relaxation must achieve."""

    #: The violation rate may grow this much (absolute share) past the recorded one before it is flagged.
    slack: float = 0.05
    #: A value outside the vocabulary is flagged once this many notes use it.
    new_value_notes: int = 3
    #: Below this confidence, a spec no relaxation rescues is retired.
    retire_below: float = 0.5
    #: A relaxation (other than refreshing the figures) must hold at least this well.
    min_confidence: float = 0.9
    #: Fewest notes a narrower scope needs.
    min_support: int = 5


@dataclass(frozen=True)
class Verdict:
    """One accepted spec re-tested: its recorded and current figures, why it was flagged,
    and what to do (with the relaxed spec, measured on the current notes, for ``relax``)."""

    accepted: Spec
    recorded_violations: int
    now: Spec
    action: Action
    reasons: tuple[str, ...] = ()
    relaxed: Spec | None = None
    how: str = ""

    @property
    def recorded_rate(self) -> float:
        return self.recorded_violations / self.accepted.support if self.accepted.support else 0.0

    @property
    def rate(self) -> float:
        return len(self.now.counterexamples) / self.now.support if self.now.support else 0.0


def measure(kind: str, scope: Scope, params: Iterable[tuple[str, Any]] | Mapping[str, Any], notes: Sequence[Note], spec: str = "") -> Spec:
    """A spec of ``kind`` over ``scope`` with ``params``, its figures measured on ``notes``;
    ``spec`` keeps an existing id (an edited spec stays the spec people refer to)."""
    frozen = freeze_params(dict(params))
    implementation = all_kinds()[kind]
    members = [note for note in notes if note.content_hash and scope.contains(note)]
    context = MineContext.of({note.path: note for note in notes}) if implementation.uses_context else None
    measured = _spec(implementation, scope, frozen, evaluate(implementation, frozen, members, context))
    return dataclasses.replace(measured, id=spec) if spec else measured


def review(notes: Mapping[str, Note], entries: Iterable[Entry], settings: ReviewSettings | None = None) -> list[Verdict]:
    """A verdict for every accepted spec of ``entries``, in the order given."""
    settings = settings or ReviewSettings()
    population = [note for note in notes.values() if note.content_hash]
    return [_verdict(entry, population, settings) for entry in entries if entry.state == "accepted"]


def _verdict(entry: Entry, notes: Sequence[Note], settings: ReviewSettings) -> Verdict:
    accepted = entry.spec
    now = dataclasses.replace(measure(accepted.kind, accepted.scope, accepted.params, notes, accepted.id), holdout=accepted.holdout)
    verdict = Verdict(accepted, entry.violations, now, "keep")
    reasons: list[str] = []
    if not now.support:
        reasons.append("its scope holds no notes any more")
    elif verdict.rate > verdict.recorded_rate + settings.slack and len(now.counterexamples) > entry.violations:
        reasons.append(
            f"violations grew from {entry.violations} of {accepted.support} ({verdict.recorded_rate:.1%}) "
            f"to {len(now.counterexamples)} of {now.support} ({verdict.rate:.1%})"
        )
    gained = _gained_values(entry, now, notes, settings)
    if gained:
        reasons.append("the vocabulary gained " + ", ".join(f"`{value}` ({count} notes)" for value, count in gained))
    if not reasons:
        return verdict
    options = [(how, spec) for how, spec in _relaxations(accepted, notes, gained, settings) if spec.support]
    good = [(how, spec) for how, spec in options if spec.confidence >= settings.min_confidence and spec.id != accepted.id]
    if good:
        how, relaxed = max(good, key=lambda option: (option[1].support, option[1].confidence))
        return dataclasses.replace(verdict, action="relax", reasons=tuple(reasons), relaxed=relaxed, how=how)
    if not now.support or now.confidence < settings.retire_below:
        return dataclasses.replace(verdict, action="retire", reasons=(*reasons, f"its confidence is {now.confidence:.1%}"))
    how = f"keep it and accept today's confidence ({now.confidence:.1%}, was {accepted.confidence:.1%}) as the new record"
    return dataclasses.replace(verdict, action="relax", reasons=tuple(reasons), relaxed=now, how=how)


def _gained_values(entry: Entry, now: Spec, notes: Sequence[Note], settings: ReviewSettings) -> list[tuple[str, int]]:
    """Values outside a vocabulary (or a folder's one value) that enough notes of the scope
    use and that spread since the spec was accepted: a note uses one that was not among the
    recorded counterexamples (or, when the record lists only some, violations grew)."""
    spec = entry.spec
    params = spec.parameters
    if spec.kind == "enum_values":
        allowed = set(params["values"])
    elif spec.kind == "folder_implies_value":
        allowed = {str(params["value"])}
    elif spec.kind == "status_vocabulary":
        allowed = {value for name in CLASSES for value in params[name]}
    else:
        return []
    users: dict[str, list[str]] = {}
    for note in notes:
        if spec.scope.contains(note):
            for value in set(value_tokens(note.frontmatter.get(params["key"])) or ()) - allowed:
                users.setdefault(value, []).append(note.path)
    complete = entry.violations <= len(spec.counterexamples)
    recorded = set(spec.counterexamples)

    def spread(paths: list[str]) -> bool:
        return any(path not in recorded for path in paths) if complete else len(now.counterexamples) > entry.violations

    gained = [(value, len(paths)) for value, paths in users.items() if len(paths) >= settings.new_value_notes and spread(paths)]
    return sorted(gained, key=lambda item: (-item[1], item[0]))


def _relaxations(spec: Spec, notes: Sequence[Note], gained: list[tuple[str, int]], settings: ReviewSettings) -> list[tuple[str, Spec]]:
    """Each weaker statement worth measuring, with how it relaxes the spec."""
    from kbmine.mine.kinds import filename_pattern, value_type

    params = dict(spec.parameters)
    new_values = tuple(value for value, _ in gained)
    options: list[tuple[str, Spec]] = []
    if spec.kind == "enum_values":
        widened = {**params, "values": tuple(sorted({*params["values"], *new_values}))}
        if new_values:
            options.append((f"widen the vocabulary with {_words(new_values)}", measure(spec.kind, spec.scope, widened, notes)))
        if params["required"]:
            optional = {**widened, "required": False}
            options.append(("stop requiring the key" + (" and widen the vocabulary" if new_values else ""), measure(spec.kind, spec.scope, optional, notes)))
    if spec.kind == "status_vocabulary" and new_values:
        options.append((f"add {_words(new_values)} to the vocabulary, classed as the notes at HEAD suggest", _widened_vocabulary(spec, notes, new_values)))
    if spec.kind == "folder_implies_value" and new_values:
        vocabulary = {"key": params["key"], "values": tuple(sorted({str(params["value"]), *new_values})), "required": True}
        options.append((f"allow {_words(new_values)} besides `{params['value']}`", measure("enum_values", spec.scope, vocabulary, notes)))
    broader = {"value_type": value_type.BROADER, "filename_pattern": filename_pattern.BROADER}.get(spec.kind, {})
    name = "type" if spec.kind == "value_type" else "pattern"
    if params.get(name) in broader:
        wider = {**params, name: broader[params[name]]}
        options.append((f"accept any {broader[params[name]]} {name}", measure(spec.kind, spec.scope, wider, notes)))
    for scope in _narrower_scopes(spec.scope, notes, settings):
        options.append((f"narrow the scope to {scope}", measure(spec.kind, scope, params, notes)))
    return options


def _widened_vocabulary(spec: Spec, notes: Sequence[Note], new_values: Sequence[str]) -> Spec:
    """A status vocabulary with ``new_values`` added in the class :func:`classify` gives them from
    the notes alone (no history: an unknown value stays unclassed unless it reads as dead)."""
    params = dict(spec.parameters)
    found = {item.value: item.proposed for item in classify([n for n in notes if spec.scope.contains(n)], params["key"], None)}
    for value in new_values:
        name = found.get(value, "other")
        params[name] = tuple(sorted({*params[name], value}))
    return measure(spec.kind, spec.scope, params, notes)


def _narrower_scopes(scope: Scope, notes: Sequence[Note], settings: ReviewSettings) -> list[Scope]:
    """The folders one level inside ``scope`` (top-level folders for the whole KB) with enough notes."""
    if scope.key:
        return []
    depth = scope.folder.count("/") + 1 if scope.folder else 0
    counts: Counter[str] = Counter()
    for note in notes:
        parts = note.path.split("/")[:-1]
        if len(parts) > depth and scope.contains(note):
            counts["/".join(parts[: depth + 1])] += 1
    return [Scope(folder=folder) for folder, n in sorted(counts.items()) if n >= settings.min_support]


def _words(values: Sequence[str]) -> str:
    return ", ".join(f"`{value}`" for value in values)
