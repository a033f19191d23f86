"""The specs file (``kbmine.specs.yaml`` at the KB root): proposals and the decisions on them.

It is meant to be committed and reviewed like code, so it is written in a
stable order (kind, scope, id) with one spec per block, and rewritten through
ruamel.yaml so the comments a reviewer adds survive the next ``kbmine mine``.
It is also read through ruamel.yaml (YAML 1.2), so a vocabulary word such as
``no`` or ``on`` reads back as the string it was written as.

Functions here take and return text; the CLI decides when to write it.
A person's decision is never overwritten: ``accepted`` and ``rejected``
entries are left exactly as they are, and a rejected spec is not proposed
again. Proposals that mining no longer finds are dropped.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from kbmine.config import SPECS_FILE, specs_path
from kbmine.errors import ConfigError
from kbmine.mine import Mining, freeze_params
from kbmine.mine.kinds import Kind, all_kinds
from kbmine.mine.replay import SpecHistory, history_from_record, history_record
from kbmine.mine.spec import Holdout, Scope, Spec

__all__ = ["SPECS_FILE", "STATES", "Entry", "MergeSummary", "accepted_specs", "decide", "merge", "read_entries"]

State = Literal["proposed", "accepted", "rejected"]
STATES: tuple[State, ...] = ("proposed", "accepted", "rejected")
#: Counterexamples listed per spec; the rest are counted in ``violations``.
LISTED = 10
HEADER = """\
kbmine specs: conventions mined from this KB by `kbmine mine`, with their evidence.
state: proposed | accepted | rejected. Accepted specs are enforced by `kbmine check`
(rule spec/<id>); rejected ones are never proposed again. `kbmine specs accept ID`
and `kbmine specs reject ID` set it for you; comments you add here are kept."""


@dataclass(frozen=True)
class Entry:
    """One spec of the file with the decision on it, its recorded violation count and,
    when ``kbmine mine --history`` replayed it, what its history showed."""

    spec: Spec
    state: State
    violations: int
    history: SpecHistory | None = None
    #: Per-value evidence of a status vocabulary (value → notes, transitions, terminal, class, why).
    evidence: Mapping[str, Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class MergeSummary:
    """What a ``kbmine mine`` changed in the file."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    dropped: tuple[str, ...]
    decided: int
    skipped_rejected: int


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(text: str | None, where: str, editable: bool = True) -> Any:
    """The file's document: round-trip (comments kept) for editing, else plain and twice as fast.

    ``kbmine check`` reads the accepted specs on every cold run; the
    round-trip loader spent half a second on a 200-spec file.
    """
    if not text or not text.strip():
        return None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = (_yaml() if editable else YAML(typ="safe")).load(text)
    except YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if document is None:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("specs", []), list):
        raise ConfigError(f"{where}: expected a mapping with a `specs` list")
    _refuse_wide_integers(document, where)
    return document


#: Python will not print an integer of more than 4300 digits (``0xfff…`` loads without that check).
_INT_BITS = 14_284


def _refuse_wide_integers(document: Any, where: str) -> None:
    """Refuse an integer too long to print anywhere in the file: a ``min`` or a ``support`` of
    ``0xfff…`` loaded fine and failed later, as an internal error, in every command that shows it."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, int) and value.bit_length() > _INT_BITS:
            raise ConfigError(f"{where}: an integer of more than 4300 digits")


def read_entries(text: str | None, where: str = SPECS_FILE) -> list[Entry]:
    """Every spec of the file's text, validated (a bad entry is a config error naming its id)."""
    document = _load(text, where, editable=False)
    if document is None:
        return []
    return [_entry(item, where) for item in document.get("specs", [])]


def write_specs_file(root: Path, text: str) -> None:
    """Write the KB's specs file (the one place commands do)."""
    specs_path(root).write_text(text, encoding="utf-8")


def read_specs_file(root: Path) -> str | None:
    """The text of the KB's specs file, ``None`` when there is none.

    Every command reads it through here, so a file that is not UTF-8 or not a
    file is the same one-line error everywhere (``specs list`` once took a
    folder for no file, and a binary file was an internal error).
    """
    path = specs_path(root)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def accepted_specs(root: Path) -> list[Spec]:
    """The accepted specs of the KB at ``root`` (none when it has no specs file)."""
    text = read_specs_file(root)
    if text is None:
        return []
    return [entry.spec for entry in read_entries(text, str(root / SPECS_FILE)) if entry.state == "accepted"]


def merge(
    text: str | None,
    mining: Mining,
    history: Mapping[str, SpecHistory] | None = None,
    evidence: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> tuple[str, MergeSummary]:
    """The file's new text after a mining run, and what changed.

    Decided entries stay untouched (comments and all); proposals are refreshed
    in place or added; proposals no longer mined are dropped. ``history``
    (spec id → replayed figures) refreshes a proposal's ``history``; without
    it the figures of an earlier replay stay, stamped with the commit they
    were replayed up to. ``evidence`` (spec id → value → figures) is written
    under a status vocabulary proposal, for the person deciding on it.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    document = _load(text, SPECS_FILE)
    if document is None:
        document = CommentedMap()
        document.yaml_set_start_comment(HEADER)
        document["version"] = 1
        document["specs"] = CommentedSeq()
    old = {str(item.get("id")): item for item in document["specs"] if isinstance(item, dict)}
    for item in old.values():
        _state(item, SPECS_FILE)
    states = {key: str(item.get("state")) for key, item in old.items()}
    mined = {spec.id: spec for spec in mining.specs}
    items = [item for key, item in old.items() if states[key] != "proposed"]
    added: list[str] = []
    updated: list[str] = []
    for spec in mining.specs:
        if spec.id in old and states[spec.id] != "proposed":
            continue
        if spec.id in old:
            item = old[spec.id]
            before = dict(item)
            _fill(item, spec, (history or {}).get(spec.id), (evidence or {}).get(spec.id))
            if dict(item) != before:
                updated.append(spec.id)
        else:
            item = CommentedMap()
            _fill(item, spec, (history or {}).get(spec.id), (evidence or {}).get(spec.id))
            added.append(spec.id)
        items.append(item)
    dropped = sorted(key for key in old if states[key] == "proposed" and key not in mined)
    items.sort(key=lambda item: (str(item["kind"]), str(item["scope"]), str(item["id"])))
    document["specs"] = CommentedSeq(items)
    summary = MergeSummary(
        added=tuple(added),
        updated=tuple(updated),
        dropped=tuple(dropped),
        decided=sum(1 for state in states.values() if state != "proposed"),
        skipped_rejected=sum(1 for key in mined if states.get(key) == "rejected"),
    )
    return _dump(document), summary


def decide(text: str | None, ids: Iterable[str], state: State) -> str:
    """The file's text with the specs ``ids`` set to ``state`` (an unknown id is an error)."""
    document = _load(text, SPECS_FILE)
    if document is not None:
        for item in document["specs"]:
            _entry(item, SPECS_FILE)  # a scalar or tagged entry has no id to match or state to set
    items = {str(item.get("id")): item for item in document["specs"]} if document is not None else {}
    for spec_id in ids:
        if spec_id not in items:
            raise ConfigError(f"no spec {spec_id!r} in {SPECS_FILE}; `kbmine specs list` shows them")
        items[spec_id]["state"] = state
    return _dump(document) if document is not None else ""


def _dump(document: Any) -> str:
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def _fill(item: Any, spec: Spec, history: SpecHistory | None = None, evidence: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Write ``spec``'s fields into a file entry, in a fixed key order, keeping its comments."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    params = CommentedMap()
    for key, value in spec.params:
        if isinstance(value, tuple):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        params[key] = value
    holdout = CommentedMap()
    if spec.holdout is not None:
        holdout.update(
            mined_on=spec.holdout.mined_on,
            mined_confidence=round(spec.holdout.mined_confidence, 3),
            tested_on=spec.holdout.tested_on,
            tested_confidence=None if spec.holdout.tested_confidence is None else round(spec.holdout.tested_confidence, 3),
        )
    holdout.fa.set_flow_style()
    fields: dict[str, Any] = {
        "id": spec.id,
        "state": item.get("state", "proposed"),
        "kind": spec.kind,
        "scope": str(spec.scope),
        "statement": spec.statement,
        "params": params,
        "support": spec.support,
        "confidence": round(spec.confidence, 3),
        "violations": len(spec.counterexamples),
        "holdout": holdout,
    }
    if history is not None:
        replayed = CommentedMap(history_record(history))
        replayed.fa.set_flow_style()
        fields["history"] = replayed
    elif "history" in item:
        fields["history"] = item["history"]
    if evidence is not None:
        table = CommentedMap()
        for value, figures in evidence.items():
            row = CommentedMap(figures)
            row.fa.set_flow_style()
            table[value] = row
        fields["evidence"] = table
    elif "evidence" in item:
        fields["evidence"] = item["evidence"]
    fields["counterexamples"] = CommentedSeq(spec.counterexamples[:LISTED])
    for position, (key, value) in enumerate(fields.items()):
        if key in item and _same(item[key], value):
            continue
        if key in item:
            item[key] = value
        else:
            item.insert(min(position, len(item)), key, value)


def _same(old: Any, new: Any) -> bool:
    """Equal as plain data (so unchanged fields keep their comments and flow style)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return dict(old) == dict(new)
    if isinstance(old, list) and isinstance(new, list):
        return list(old) == list(new)
    return bool(old == new)


def _state(item: Mapping[str, Any], where: str) -> State:
    state = item.get("state", "proposed")
    if state not in STATES:
        raise ConfigError(f"{where}: spec {item.get('id')}: state must be one of {', '.join(STATES)}, not {state!r}")
    return cast(State, state)


def _entry(item: Any, where: str) -> Entry:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise ConfigError(f"{where}: every spec needs an `id` string")
    state = _state(item, where)
    name = item.get("kind")
    kinds = all_kinds()
    if name not in kinds:
        raise ConfigError(f"{where}: spec {item['id']}: unknown kind {name!r} (known: {', '.join(kinds)})")
    params = item.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{where}: spec {item['id']}: `params` must be a mapping")
    scope = Scope.parse(str(item.get("scope", "all")))
    frozen = freeze_params({str(key): value for key, value in params.items()})
    kind = kinds[str(name)]
    problem = kind.validate(dict(frozen))
    if problem is not None:
        raise ConfigError(f"{where}: spec {item['id']}: {problem}")
    try:
        return _figures(item, state, kind, scope, frozen)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{where}: spec {item['id']}: bad figures: {exc}") from None


def _figures(item: Any, state: State, kind: Kind, scope: Scope, frozen: tuple[tuple[str, Any], ...]) -> Entry:
    holdout = item.get("holdout")
    figures = (
        Holdout(
            int(holdout.get("mined_on") or 0),
            float(holdout.get("mined_confidence") or 0.0),
            int(holdout.get("tested_on") or 0),
            None if holdout.get("tested_confidence") is None else float(holdout["tested_confidence"]),
        )
        if isinstance(holdout, dict)
        else None
    )
    replayed = item.get("history")
    spec = Spec(
        id=item["id"],
        kind=kind.name,
        scope=scope,
        statement=str(item.get("statement") or kind.statement(scope, dict(frozen))),
        params=frozen,
        support=int(item.get("support") or 0),
        confidence=float(item.get("confidence") or 0.0),
        counterexamples=tuple(str(path) for path in item.get("counterexamples") or ()),
        holdout=figures,
    )
    history = history_from_record(replayed) if isinstance(replayed, dict) else None
    found = item.get("evidence")
    evidence = (
        {str(value): dict(figures) for value, figures in found.items() if isinstance(figures, dict)} if isinstance(found, dict) else None
    )
    return Entry(spec, state, int(item.get("violations") or 0), history, evidence)
