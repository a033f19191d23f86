"""Change one entry of the specs file by hand (``kbmine specs edit``) or as ``kbmine specs review`` proposes.

Both keep the file as a person left it: the entry is changed in place
through ruamel.yaml, so comments, key order and the other entries stay as
they were. Every change is validated first (a parameter the kind does not
have, a value it does not accept, an empty vocabulary, a scope that does not
parse, a statement another spec already makes); a bad change is a
:class:`~kbmine.errors.ConfigError` and nothing is written.

An edited spec keeps its id: decisions, suppressions (``spec/<id>``) and
history refer to it. Its statement and figures are measured again on the
current notes, so ``kbmine specs show`` and ``kbmine specs review`` speak
about the spec as it now reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kbmine.errors import ConfigError
from kbmine.mine import freeze_params
from kbmine.mine.kinds import all_kinds
from kbmine.mine.review import Verdict, measure
from kbmine.mine.spec import Scope, Spec
from kbmine.mine.specfile import SPECS_FILE, _dump, _fill, _load, _refuse_wide_integers
from kbmine.model import Note

__all__ = ["EDITABLE", "apply_verdict", "edit_spec", "editable_block", "parse_assignments", "parse_block"]

#: The fields of an entry a person may edit; the rest is measured.
EDITABLE = ("scope", "params")


def editable_block(spec: Spec) -> str:
    """The spec's editable fields as YAML, for ``$EDITOR``."""
    lines = [
        f"# kbmine specs edit {spec.id} ({spec.kind}): {spec.statement}",
        "# Change the scope (all, folder:PATH or where:KEY=VALUE) or the parameters; save and quit.",
        f"scope: {spec.scope}",
        "params:",
    ]
    for key, value in spec.params:
        shown = "[" + ", ".join(_yaml_scalar(v) for v in value) + "]" if isinstance(value, tuple) else _yaml_scalar(value)
        lines.append(f"  {key}: {shown}")
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    import json

    text = str(value)
    plain = text and text.strip() == text and not any(c in text for c in ":#,[]{}&*!|>'\"%@`") and text.lower() not in ("true", "false", "null", "~")
    return text if plain else json.dumps(text, ensure_ascii=False)


def parse_block(text: str, spec: Spec) -> tuple[Scope, dict[str, Any]]:
    """The scope and parameters of an edited :func:`editable_block`, validated against ``spec``'s kind."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise ConfigError(f"the edited spec is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict):
        raise ConfigError("the edited spec must be a mapping with `scope` and `params`")
    _refuse_wide_integers(document, "the edited spec")
    unknown = sorted(set(document) - set(EDITABLE))
    if unknown:
        raise ConfigError(f"only {' and '.join(EDITABLE)} can be edited, not {unknown[0]!r}")
    params = document.get("params", dict(spec.params))
    if not isinstance(params, dict):
        raise ConfigError("`params` must be a mapping of parameter names to values")
    scope = Scope.parse(str(document.get("scope", spec.scope)))
    return scope, _validated(spec, {str(k): v for k, v in params.items()})


def parse_assignments(spec: Spec, assignments: Sequence[str]) -> dict[str, Any]:
    """``spec``'s parameters with ``NAME=VALUE`` assignments applied (a list parameter takes
    comma-separated values, a boolean one true/false), validated."""
    params = dict(spec.params)
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        name = name.strip()
        if not equals or not name:
            raise ConfigError(f"--set {assignment!r}: expected NAME=VALUE")
        if name not in params:
            raise ConfigError(f"--set {name}: {spec.kind} specs have no parameter {name!r} (they have {', '.join(params)})")
        current = params[name]
        if isinstance(current, tuple):
            params[name] = [word.strip() for word in text.split(",") if word.strip()]
        elif isinstance(current, bool):
            if text.strip().lower() not in ("true", "false"):
                raise ConfigError(f"--set {name}: expected true or false, not {text!r}")
            params[name] = text.strip().lower() == "true"
        else:
            params[name] = text.strip()
    return _validated(spec, params)


def _validated(spec: Spec, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` checked against the kind: the same names, the same shapes, allowed values."""
    kind = all_kinds()[spec.kind]
    known = dict(spec.params)
    for name in params:
        if name not in known:
            raise ConfigError(f"{spec.kind} specs have no parameter {name!r} (they have {', '.join(known)})")
    checked: dict[str, Any] = {}
    for name, old in known.items():
        value = params.get(name, old)
        if isinstance(old, tuple):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
                raise ConfigError(f"parameter {name!r} must be a non-empty list of values")
            value = tuple(sorted({str(v).strip() for v in value}))
        elif isinstance(old, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"parameter {name!r} must be true or false, not {value!r}")
        elif not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
            raise ConfigError(f"parameter {name!r} must be a non-empty value, not {value!r}")
        else:
            value = str(value).strip()
        checked[name] = value
    problem = kind.validate(checked)
    if problem is not None:
        raise ConfigError(problem)
    return checked


def edit_spec(text: str | None, spec_id: str, scope: Scope, params: Mapping[str, Any], notes: Sequence[Note]) -> tuple[str, Spec]:
    """The file's text with spec ``spec_id`` saying ``params`` over ``scope`` (its figures
    measured on ``notes``), and the edited spec. Raises :class:`ConfigError` if the id is
    unknown or another spec already says the same."""
    document = _load(text, SPECS_FILE)
    items = {str(item.get("id")): item for item in document["specs"]} if document is not None else {}
    if spec_id not in items:
        raise ConfigError(f"no spec {spec_id!r} in {SPECS_FILE}; `kbmine specs list` shows them")
    item = items[spec_id]
    kind = str(item["kind"])
    wanted = (str(scope), freeze_params(dict(params)))
    for other_id, other in items.items():
        if other_id != spec_id and str(other.get("kind")) == kind and (str(other.get("scope")), _frozen(other)) == wanted:
            raise ConfigError(f"spec {other_id} already says this; edit or decide on that one instead")
    edited = measure(kind, scope, params, notes, spec_id)
    if not edited.support and scope != Scope.parse(str(item.get("scope", "all"))):
        raise ConfigError(f"scope {scope} holds no note the spec applies to; is the folder or value spelled right?")
    _fill(item, edited)
    return _dump(document), edited


def _frozen(item: Any) -> tuple[tuple[str, Any], ...]:
    params = item.get("params") or {}
    return freeze_params({str(k): v for k, v in params.items()}) if isinstance(params, dict) else ()


def apply_verdict(text: str | None, verdict: Verdict) -> str:
    """The file's text with a review verdict carried out.

    ``relax`` with a new statement adds the relaxed spec as accepted (noting the
    spec it ``relaxes``) and retires the old one (state ``rejected``, so it is
    never proposed again, with ``retired_by`` naming its successor); ``relax``
    of the same statement refreshes the recorded figures; ``retire`` rejects the
    spec and records why. ``keep`` changes nothing.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    document = _load(text, SPECS_FILE)
    items = {str(item.get("id")): item for item in document["specs"]} if document is not None else {}
    old = verdict.accepted.id
    if old not in items:
        raise ConfigError(f"no spec {old!r} in {SPECS_FILE}; `kbmine specs list` shows them")
    if verdict.action == "keep":
        return _dump(document)
    if verdict.action == "retire":
        items[old]["state"] = "rejected"
        items[old]["retired"] = "; ".join(verdict.reasons)
        return _dump(document)
    relaxed = verdict.relaxed
    assert relaxed is not None
    if relaxed.id == old:
        _fill(items[old], relaxed)
        return _dump(document)
    item = items.get(relaxed.id)
    if item is None:
        item = CommentedMap()
        item["id"] = relaxed.id
        item["state"] = "accepted"
        _fill(item, relaxed)
        document["specs"].append(item)
    item["state"] = "accepted"
    item["relaxes"] = old
    items[old]["state"] = "rejected"
    items[old]["retired_by"] = relaxed.id
    document["specs"] = CommentedSeq(sorted(document["specs"], key=lambda i: (str(i["kind"]), str(i["scope"]), str(i["id"]))))
    return _dump(document)
