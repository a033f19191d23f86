"""status_vocabulary: the values a KB's ``status`` takes, each classed live, dead or done.

``stale-status`` (KB203) can only judge a status it can class: a live note
linking to a dead one is stale, a done note with open tasks is not done. Its
built-in vocabulary knows ``current`` and ``superseded``, not a KB's own
words (``seedling``, ``speculative``, ``sunset``). This kind proposes the
KB's vocabulary with a class per value; once accepted, ``stale-status``
classes statuses by it (explicit config still wins), and ``kbmine check``
reports a status outside it as a spec violation.

How a value is classed (:func:`classify`), conservatively: a value the
built-in vocabulary knows keeps its class. Otherwise, with git history (the
:class:`~kbmine.mine.history.Lifecycle` of the key):

- **dead or done**: the value is terminal (notes change to it and nearly
  never leave), some note reached it from a live value, and most notes that
  reached it never changed again (``QUIET``). It is *dead* when it is named
  like an end by replacement (superseded, replaced, sunset...) or most of
  its notes name a successor (``superseded_by`` and the like); else *done*.
- **live**: at least ``MIN_EXITS`` notes left it for another value: a stage
  notes pass through (``seedling -> current``) is a status of live work.
- anything else stays **other** (unclassed: stale-status ignores it).

Without history terminality cannot be seen, so only the name or a majority
of notes naming a successor can make an unknown value dead; every other
unknown value stays *other*. A wrong *live* or *dead* would raise findings
on every note linking across it, so no guess is made without evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from kbmine.mine.kinds import Kind, Params, key_label, kind, single_value
from kbmine.mine.spec import MineSettings, Scope, Spec, value_tokens
from kbmine.model import Note

if TYPE_CHECKING:
    from kbmine.mine.history import Lifecycle

__all__ = ["CLASSES", "StatusVocabulary", "ValueEvidence", "classify", "status_classes", "vocabulary_spec"]

#: The classes a value can get, as stale-status reads them; ``other`` is no class.
CLASSES = ("live", "dead", "done", "other")
#: The key proposed without being asked (``kbmine mine --status-key`` follows another with --history).
STATUS_KEY = "status"
#: Fewest notes a value needs to enter the vocabulary (fewer: a typo or a one-off, left as a counterexample).
MIN_VALUE_NOTES = 2
#: Share of the notes that reached a terminal value and never changed again, for it to be an end state.
QUIET = 0.8
#: Notes that must have left a value for it to be a live stage.
MIN_EXITS = 2
#: Share of a value's notes naming a successor for it to be dead.
SUCCESSOR_SHARE = 0.5
_DEAD_NAME = re.compile(
    r"supersed|replac|obsolet|deprecat|retir|archiv|outdat|abandon|withdraw|sunset|discontinu|defunct|legacy|dead", re.IGNORECASE
)


@dataclass(frozen=True)
class ValueEvidence:
    """Why one value got its class: what the notes at HEAD and (with history) the lifecycle show."""

    value: str
    notes: int
    successors: int
    #: Notes that changed to / away from the value (``None`` without history).
    into: int | None
    out: int | None
    terminal: bool | None
    #: Of the notes whose status last changed to it, the share never changed again.
    stayed: float | None
    proposed: str
    why: str

    def record(self) -> dict[str, Any]:
        """As plain data, for the specs file and JSON."""
        return {
            "notes": self.notes,
            "successors": self.successors,
            "in": self.into,
            "out": self.out,
            "terminal": self.terminal,
            "stayed": None if self.stayed is None else round(self.stayed, 3),
            "class": self.proposed,
            "why": self.why,
        }


def _defaults() -> dict[str, str]:
    """Value → class in stale-status's built-in vocabulary (dead wins over done over live, as there)."""
    from kbmine.checks.stale_status import DEAD, DONE, LIVE

    return {word: name for name, words in (("live", LIVE), ("done", DONE), ("dead", DEAD)) for word in words}


def _names_successor(note: Note) -> bool:
    from kbmine.checks.stale_status import SUCCESSOR_KEYS

    return any(note.frontmatter.get(key) not in (None, "", []) for key in SUCCESSOR_KEYS)


def classify(notes: Sequence[Note], key: str, lifecycle: Lifecycle | None) -> tuple[ValueEvidence, ...]:
    """The vocabulary of ``key`` over ``notes`` (values at least ``MIN_VALUE_NOTES`` notes use),
    each value with its proposed class and evidence, most used first (see the module docs)."""
    users: Counter[str] = Counter()
    successors: Counter[str] = Counter()
    for note in notes:
        value = single_value(note, key)
        if value is None:
            continue
        users[value] += 1
        successors[value] += _names_successor(note)
    known = _defaults()
    into: Counter[str] = Counter()
    out: Counter[str] = Counter()
    sources: dict[str, set[str]] = {}
    if lifecycle is not None:
        for (before, after), count in lifecycle.transitions.items():
            out[before] += count
            into[after] += count
            sources.setdefault(after, set()).add(before)
    vocabulary = [value for value, count in users.most_common() if count >= MIN_VALUE_NOTES]
    classes = {value: known[value.lower()] for value in vocabulary if value.lower() in known}
    # stages first: a terminal value is an end of live work only once the live values are known
    if lifecycle is not None:
        for value in vocabulary:
            if value not in classes and out[value] >= MIN_EXITS and value not in lifecycle.terminal:
                classes[value] = "live"
    evidence = []
    for value in vocabulary:
        count, named = users[value], successors[value]
        deadly = bool(_DEAD_NAME.search(value)) or named >= SUCCESSOR_SHARE * count
        stayed = lifecycle.quiet.get(value, (0, None))[1] if lifecycle is not None else None
        terminal = None if lifecycle is None else value in lifecycle.terminal
        if value.lower() in known:
            proposed, why = classes[value], "the built-in vocabulary"
        elif value in classes:
            proposed, why = "live", f"{out[value]} notes moved on from it: a stage of live work"
        elif lifecycle is None:
            proposed = "dead" if deadly else "other"
            why = (
                "named like an end by replacement, or most of its notes name a successor (no history read)"
                if deadly
                else "no history read: whether notes stop changing at it is unknown"
            )
        elif terminal and stayed is not None and stayed >= QUIET and any(classes.get(s) == "live" for s in sources.get(value, ())):
            proposed = "dead" if deadly else "done"
            why = f"terminal, reached from live values, {stayed:.0%} of its notes never changed again" + (
                "; named like a replacement or its notes name successors" if deadly else ""
            )
        else:
            proposed, why = "other", "not enough lifecycle evidence to class it"
        evidence.append(ValueEvidence(value, count, named, into[value] if lifecycle else None,
                                      out[value] if lifecycle else None, terminal, stayed, proposed, why))
    return tuple(evidence)


def _params(key: str, evidence: Sequence[ValueEvidence]) -> dict[str, Any]:
    params: dict[str, Any] = {"key": key}
    for name in CLASSES:
        params[name] = tuple(sorted(item.value for item in evidence if item.proposed == name))
    return params


def status_classes(params: Params) -> dict[str, str]:
    """Value (lower case) → class, from an accepted spec's parameters; ``other`` values are left out."""
    return {str(value).strip().lower(): name for name in ("live", "done", "dead") for value in params.get(name, ())}


@kind
class StatusVocabulary(Kind):
    """A status key's vocabulary with its lifecycle classes, which ``stale-status`` enforces."""

    name = "status_vocabulary"
    summary = "the values of the status key, each classed live, dead or done for stale-status"
    priority = 15
    parameters: ClassVar[dict[str, tuple[str, ...] | None]] = {"key": None, "live": None, "dead": None, "done": None, "other": None}

    def validate(self, params: Params) -> str | None:
        problem = super().validate(params)
        if problem is not None:
            return problem
        seen: set[str] = set()
        for name in CLASSES:
            values = params[name]
            if not isinstance(values, tuple) or not all(isinstance(value, str) for value in values):
                return f"parameter {name!r} must be a list of values"
            if seen & set(values):
                return f"value {min(seen & set(values))!r} is in two classes"
            seen |= set(values)
        return None

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        """Nothing per scope: ``kbmine mine`` proposes the one vocabulary of the KB through
        :func:`vocabulary_spec`, with the lifecycle evidence only the command reads from git."""
        return ()

    def applies(self, note: Note, params: Params) -> bool:
        return params["key"] in note.frontmatter

    def holds(self, note: Note, params: Params) -> bool:
        tokens = value_tokens(note.frontmatter[params["key"]])
        allowed = {value for name in CLASSES for value in params[name]}
        return tokens is not None and len(tokens) == 1 and tokens[0] in allowed

    def statement(self, scope: Scope, params: Params) -> str:
        parts = [f"{name} {', '.join(f'`{v}`' for v in params[name])}" for name in CLASSES if params[name]]
        return f"{scope.describe()} that has {key_label(params['key'])} sets it to a value of its lifecycle ({'; '.join(parts)})"

    def fix(self, note: Note, params: Params) -> str:
        return (
            f"set `{params['key']}` to one of the accepted values (it is {note.frontmatter.get(params['key'])!r}); "
            "if the new value is legitimate, `kbmine specs review` proposes the widened vocabulary"
        )

    def implies(self, params: Params, other: Spec) -> bool:
        """Only its own repeats: an ``enum_values`` spec on the same key says less (no classes) but
        is a decision of its own (enforced as a plain vocabulary), so both are proposed."""
        return super().implies(params, other)


def vocabulary_spec(
    notes: Mapping[str, Note], key: str, lifecycle: Lifecycle | None, settings: MineSettings
) -> tuple[Spec, tuple[ValueEvidence, ...]] | None:
    """The status vocabulary of ``key`` mined on ``notes`` with the evidence of ``lifecycle``,
    with figures and a holdout measured as for every other spec; ``None`` when the key
    has no vocabulary (too few notes per value)."""
    import dataclasses

    from kbmine.mine import _spec, evaluate, freeze_params, holdout_split
    from kbmine.mine.spec import Holdout

    population = [note for note in notes.values() if note.content_hash]
    evidence = classify(population, key, lifecycle)
    having = sum(1 for note in population if key in note.frontmatter)
    if not evidence or len(evidence) * 2 > having:
        return None
    implementation = StatusVocabulary()
    params = freeze_params(_params(key, evidence))
    train, test = holdout_split(population, settings)
    mined, tested = evaluate(implementation, params, train), evaluate(implementation, params, test)
    spec = _spec(implementation, Scope(), params, evaluate(implementation, params, population))
    holdout = Holdout(mined.support, mined.confidence, tested.support, tested.confidence if tested.support else None)
    return dataclasses.replace(spec, holdout=holdout), evidence
