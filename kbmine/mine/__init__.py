"""Mine a KB's own conventions into candidate specs, each with its evidence.

Pure functions over parsed notes: nothing here reads files or writes. The
steps are the same for every kind (see :mod:`kbmine.mine.kinds`):

1. keep a seeded, stable share of the notes aside (the holdout);
2. list the scopes with enough mined notes: the whole KB, each folder, each
   value of a scope key such as ``type``;
3. ask every kind for candidate parameters per scope and keep those with
   enough support and confidence on the mined notes;
4. drop candidates a kept one implies (the same statement over a narrower
   scope, a required key implied by a required vocabulary);
5. measure what is left on the held-out notes and on the whole KB, and rank.

Deciding on the mined notes only and measuring on the rest is what makes
the holdout figure an honest estimate of how well a spec will hold.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kbmine.errors import ConfigError
from kbmine.mine.context import MineContext
from kbmine.mine.kinds import Kind, Params, all_kinds
from kbmine.mine.spec import Holdout, MineSettings, Scope, Spec, spec_id, value_tokens
from kbmine.model import Note

__all__ = ["Mining", "mine", "evaluate", "freeze_params", "holdout_split", "candidate_scopes"]


@dataclass(frozen=True)
class Mining:
    """What one mining run found and on what: specs ranked best first, and the counts behind them."""

    specs: tuple[Spec, ...]
    notes: int
    mined_on: int
    tested_on: int
    scopes: int
    candidates: int
    redundant: int


@dataclass(frozen=True)
class Figures:
    support: int
    confidence: float
    counterexamples: tuple[str, ...]


def mine(
    notes: Mapping[str, Note],
    settings: MineSettings | None = None,
    kinds: Iterable[str] = (),
    context: MineContext | None = None,
) -> Mining:
    """Mine ``notes`` (path → note, the whole KB) with ``settings``; ``kinds`` limits the spec
    kinds (default all). Links resolve in ``context`` (default: among ``notes``, read as an
    Obsidian vault with the default index notes); pass the KB's own to honour its config."""
    settings = settings or MineSettings()
    context = context or MineContext.of(notes)
    registry = {name: kind.bind(context) for name, kind in all_kinds().items()}
    unknown = sorted(set(kinds) - set(registry))
    if unknown:
        raise ConfigError(f"unknown spec kind {unknown[0]!r} (known: {', '.join(registry)})")
    chosen = [registry[name] for name in kinds] if kinds else list(registry.values())
    population = [note for note in notes.values() if note.content_hash]
    train, test = holdout_split(population, settings)
    scopes = candidate_scopes(population, train, settings)
    found: list[Spec] = []
    for scope, members in scopes.items():
        sample = [note for note in train if note.path in members]
        for kind in chosen:
            for proposed in kind.propose(sample, scope, settings):
                params = freeze_params(proposed)
                figures = evaluate(kind, params, sample)
                if figures.support >= settings.min_support and figures.confidence >= settings.min_confidence:
                    found.append(_spec(kind, scope, params, figures))
    kept = _drop_redundant(found, scopes, registry)
    specs = []
    for spec in kept:
        kind, members = registry[spec.kind], scopes[spec.scope]
        mined = (spec.support, spec.confidence)
        tested = evaluate(kind, spec.params, [note for note in test if note.path in members])
        whole = evaluate(kind, spec.params, [note for note in population if note.path in members])
        holdout = Holdout(mined[0], mined[1], tested.support, tested.confidence if tested.support else None)
        specs.append(dataclasses.replace(_spec(kind, spec.scope, spec.params, whole), holdout=holdout))
    specs.sort(key=lambda s: (-s.score, s.id))
    return Mining(tuple(specs), len(population), len(train), len(test), len(scopes), len(found), len(found) - len(kept))


def evaluate(
    kind: Kind, params: tuple[tuple[str, Any], ...] | Params, notes: Sequence[Note], context: MineContext | None = None
) -> Figures:
    """Support (notes the spec applies to), confidence (share that satisfy it) and the counterexamples.

    ``notes`` may be a part of the KB (a scope, the held-out notes); a kind that reads the KB
    around them must already be bound, or get the whole KB's ``context`` here.
    """
    if context is not None:
        kind = kind.bind(context)
    mapping = dict(params)
    support = 0
    broken: list[str] = []
    for note in notes:
        if kind.applies(note, mapping):
            support += 1
            if not kind.holds(note, mapping):
                broken.append(note.path)
    confidence = (support - len(broken)) / support if support else 0.0
    return Figures(support, confidence, tuple(broken))


def freeze_params(params: Params) -> tuple[tuple[str, Any], ...]:
    """Parameters as sorted pairs with lists made tuples: hashable, and one form for the id."""
    return tuple(sorted((key, tuple(value) if isinstance(value, list) else value) for key, value in params.items()))


def holdout_split(notes: Sequence[Note], settings: MineSettings) -> tuple[list[Note], list[Note]]:
    """``(mined, held out)``: each note's side depends only on its path and the seed, so a
    note stays on its side as the KB grows and re-mining gives the same figures."""
    if settings.holdout <= 0:
        return list(notes), []
    mined: list[Note] = []
    held: list[Note] = []
    for note in notes:
        digest = hashlib.blake2b(f"{settings.seed}\0{note.path}".encode("utf-8", "surrogatepass"), digest_size=8)
        (held if int.from_bytes(digest.digest(), "big") / 2**64 < settings.holdout else mined).append(note)
    return mined, held


def candidate_scopes(population: Sequence[Note], train: Sequence[Note], settings: MineSettings) -> dict[Scope, frozenset[str]]:
    """Scope → the paths of every note in it, for scopes with ``min_support`` mined notes.

    Broadest first (KB, folders by depth, then values); a scope with exactly the
    notes of an earlier one (a KB kept in one folder) is left out, since every
    spec over it would repeat one over the earlier scope.
    """
    folders: Counter[str] = Counter()
    for note in train:
        parts = note.path.split("/")[:-1]
        folders.update("/".join(parts[: depth + 1]) for depth in range(len(parts)))
    values: Counter[tuple[str, str]] = Counter()
    for key in settings.scope_keys:
        for note in train:
            tokens = value_tokens(note.frontmatter.get(key))
            if tokens is not None and len(tokens) == 1:
                values[(key, tokens[0])] += 1
    ordered = [Scope()] if len(train) >= settings.min_support else []
    ordered += [
        Scope(folder=folder)
        for folder in sorted(folders, key=lambda f: (f.count("/"), f))
        if folders[folder] >= settings.min_support
    ]
    ordered += [Scope(key=key, value=value) for (key, value), count in sorted(values.items()) if count >= settings.min_support]
    scopes: dict[Scope, frozenset[str]] = {}
    seen: set[frozenset[str]] = set()
    for scope in ordered:
        members = frozenset(note.path for note in population if scope.contains(note))
        if members not in seen:
            seen.add(members)
            scopes[scope] = members
    return scopes


def _spec(kind: Kind, scope: Scope, params: tuple[tuple[str, Any], ...], figures: Figures) -> Spec:
    return Spec(
        id=spec_id(kind.name, scope, params),
        kind=kind.name,
        scope=scope,
        statement=kind.statement(scope, dict(params)),
        params=params,
        support=figures.support,
        confidence=figures.confidence,
        counterexamples=figures.counterexamples,
    )


def _drop_redundant(found: list[Spec], scopes: Mapping[Scope, frozenset[str]], registry: Mapping[str, Kind]) -> list[Spec]:
    """The candidates that no other candidate implies over a scope containing theirs.

    Two candidates that imply each other (a folder's one value, and the same
    value as a one-word vocabulary) keep the one of the broader scope, then of
    the stronger kind.
    """
    order = sorted(found, key=lambda s: (-len(scopes[s.scope]), registry[s.kind].priority, str(s.scope), s.id))
    rank = {id(spec): position for position, spec in enumerate(order)}
    within: dict[tuple[Scope, Scope], bool] = {}

    def covers(stronger: Spec, weaker: Spec) -> bool:
        if stronger is weaker or not registry[stronger.kind].implies(stronger.parameters, weaker):
            return False
        pair = (weaker.scope, stronger.scope)
        if pair not in within:
            within[pair] = scopes[weaker.scope] <= scopes[stronger.scope]
        return within[pair]

    def redundant(spec: Spec) -> bool:
        return any(covers(other, spec) and not (covers(spec, other) and rank[id(spec)] < rank[id(other)]) for other in order)

    return [spec for spec in order if not redundant(spec)]
