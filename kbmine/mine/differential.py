"""Differential mining: mine two halves of the KB independently and report where they disagree.

A convention that the older notes follow and the newer ones do not (or one
folder and not its sibling) is either drifting or was never one convention:
either way a person should look before accepting it as a rule for all. Each
half is mined on its own with the same settings; specs are matched by what
they speak about (kind, scope, key), so two vocabularies of the same key are
one disagreement, not two unrelated specs.

A spec found on one side only is reported only when the other side has
enough notes in its scope to have found it (``min_support``), and it does not
hold there: a folder that exists only among the older notes, or a spec the
other side left out because a stronger one implies it, is not a disagreement.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kbmine.errors import InputError
from kbmine.mine import Figures, evaluate, mine
from kbmine.mine.context import MineContext
from kbmine.mine.history import iso_date
from kbmine.mine.kinds import all_kinds
from kbmine.mine.spec import MineSettings, Spec
from kbmine.model import Note

__all__ = ["Differential", "Disagreement", "Half", "differential", "split_by_age", "split_by_folders"]

What = Literal["only-a", "only-b", "differs", "confidence"]
#: Confidence gap between the halves, for one spec found in both, worth reporting.
CONFIDENCE_GAP = 0.05


@dataclass(frozen=True)
class Half:
    """One side of the comparison: its notes, named for people."""

    label: str
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class Disagreement:
    """Specs about one subject that the halves do not share.

    ``a``/``b`` are the specs each side mined about the subject (none when it
    found none); ``on_a``/``on_b`` measure each side's own spec on its notes,
    or, for a spec found on one side only, that spec on both sides' notes.
    """

    what: What
    a: Spec | None
    b: Spec | None
    on_a: Figures
    on_b: Figures

    @property
    def spec(self) -> Spec:
        found = self.a or self.b
        assert found is not None
        return found


@dataclass(frozen=True)
class Differential:
    """The two halves, what each mined, and where they disagree."""

    a: Half
    b: Half
    mined_a: int
    mined_b: int
    agreed: int
    not_comparable: int
    disagreements: tuple[Disagreement, ...]


def split_by_age(notes: Mapping[str, Note], created: Mapping[str, int] | None) -> tuple[Half, Half]:
    """Older and newer halves by the date of each note's first commit; notes git does not
    know yet count as newest. Outside git (``created`` is ``None``), by path order."""
    population = sorted((note for note in notes.values() if note.content_hash), key=lambda n: n.path)
    if created is None:
        middle = len(population) // 2
        return Half("first half by path", tuple(population[:middle])), Half("second half by path", tuple(population[middle:]))
    unknown = max(created.values(), default=0) + 1
    population.sort(key=lambda note: (created.get(note.path, unknown), note.path))
    middle = len(population) // 2
    older, newer = population[:middle], population[middle:]
    boundary = created.get(newer[0].path) if newer else None
    when = "" if boundary is None else f" (first commit before {iso_date(boundary)})"
    later = "" if boundary is None else f" (first commit on or after {iso_date(boundary)})"
    return Half(f"older{when}", tuple(older)), Half(f"newer{later}", tuple(newer))


def split_by_folders(notes: Mapping[str, Note], first: str, second: str) -> tuple[Half, Half]:
    """The notes of two folders, each with paths made relative to its folder, so a spec
    over ``notes/daily`` and one over ``archive/daily`` are the same spec."""
    halves = []
    for folder in (first, second):
        prefix = folder.strip("/") + "/"
        inside = tuple(
            dataclasses.replace(note, path=path[len(prefix) :])
            for path, note in sorted(notes.items())
            if path.startswith(prefix) and note.content_hash
        )
        if not inside:
            raise InputError(f"--folders: no notes under {folder!r}")
        halves.append(Half(prefix.rstrip("/"), inside))
    return halves[0], halves[1]


def differential(a: Half, b: Half, settings: MineSettings, kinds: Iterable[str] = ()) -> Differential:
    """Mine both halves (each on all its notes: the other half is the test) and compare."""
    settings = dataclasses.replace(settings, holdout=0.0)
    chosen = tuple(kinds)
    mined_a = mine({note.path: note for note in a.notes}, settings, chosen).specs
    mined_b = mine({note.path: note for note in b.notes}, settings, chosen).specs
    sides_a, sides_b = _by_subject(mined_a), _by_subject(mined_b)
    found: list[Disagreement] = []
    agreed = not_comparable = 0
    for subject in sorted(set(sides_a) | set(sides_b), key=str):
        ours, theirs = sides_a.get(subject, []), sides_b.get(subject, [])
        pairs = list(zip(ours, theirs)) if ours and theirs else [(spec, None) for spec in ours] + [(None, spec) for spec in theirs]
        for left, right in pairs:
            subject_spec = left or right
            assert subject_spec is not None
            on_a, on_b = _measure(left or subject_spec, a.notes), _measure(right or subject_spec, b.notes)
            if left is None or right is None:
                other = on_a if left is None else on_b
                if other.support < settings.min_support:
                    not_comparable += 1
                    continue
                if other.confidence >= settings.min_confidence:
                    agreed += 1  # it holds there too: that side kept a stronger spec that implies it
                    continue
                found.append(Disagreement("only-b" if left is None else "only-a", left, right, on_a, on_b))
            elif left.params != right.params:
                found.append(Disagreement("differs", left, right, on_a, on_b))
            elif abs(left.confidence - right.confidence) >= CONFIDENCE_GAP:
                found.append(Disagreement("confidence", left, right, on_a, on_b))
            else:
                agreed += 1
    order = {"differs": 0, "only-a": 1, "only-b": 1, "confidence": 2}
    found.sort(key=lambda d: (order[d.what], -(d.on_a.support + d.on_b.support), d.spec.id))
    return Differential(a, b, len(mined_a), len(mined_b), agreed, not_comparable, tuple(found))


def vocabulary_change(disagreement: Disagreement) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """For two vocabularies of one key: the values only the first half uses, and only the second."""
    if disagreement.a is None or disagreement.b is None:
        return None
    ours, theirs = disagreement.a.parameters.get("values"), disagreement.b.parameters.get("values")
    if not isinstance(ours, tuple) or not isinstance(theirs, tuple):
        return None
    return tuple(v for v in ours if v not in theirs), tuple(v for v in theirs if v not in ours)


def _subject(spec: Spec) -> tuple[str, str, Any]:
    """What a spec speaks about: its kind, scope and key (or, for a kind without one, all it says)."""
    key = spec.parameters.get("key")
    return spec.kind, str(spec.scope), key if isinstance(key, str) else spec.params


def _by_subject(specs: Sequence[Spec]) -> dict[tuple[str, str, Any], list[Spec]]:
    grouped: dict[tuple[str, str, Any], list[Spec]] = {}
    for spec in sorted(specs, key=lambda s: s.id):
        grouped.setdefault(_subject(spec), []).append(spec)
    return grouped


def _measure(spec: Spec, notes: Sequence[Note]) -> Figures:
    kind = all_kinds()[spec.kind]
    context = MineContext.of({note.path: note for note in notes}) if kind.uses_context else None
    return evaluate(kind, spec.params, [note for note in notes if spec.scope.contains(note)], context)
