"""``kbmine specs``: review mined specs and record decisions on them."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kbmine.cli import app
from kbmine.cli._common import PathArgument

if TYPE_CHECKING:
    from kbmine.mine.spec import Spec
    from kbmine.mine.specfile import State

specs_app = typer.Typer(help="Review, accept and reject mined specs (kbmine.specs.yaml).", no_args_is_help=True)
app.add_typer(specs_app, name="specs")


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="text or json.")]
KBOption = Annotated[Path, typer.Option("--path", "-p", help="The KB folder (default: the current folder).")]
IdsArgument = Annotated[list[str], typer.Argument(help="Spec ids, as `kbmine specs list` shows them.")]


def spec_record(spec: Spec, state: str) -> dict[str, Any]:
    """A spec as JSON: what it says, its decision and its evidence."""
    holdout = spec.holdout
    return {
        "id": spec.id,
        "state": state,
        "kind": spec.kind,
        "scope": str(spec.scope),
        "statement": spec.statement,
        "params": {key: list(value) if isinstance(value, tuple) else value for key, value in spec.params},
        "support": spec.support,
        "confidence": round(spec.confidence, 4),
        "score": round(spec.score, 4),
        "counterexamples": list(spec.counterexamples),
        "holdout": None
        if holdout is None
        else {
            "mined_on": holdout.mined_on,
            "mined_confidence": round(holdout.mined_confidence, 4),
            "tested_on": holdout.tested_on,
            "tested_confidence": None if holdout.tested_confidence is None else round(holdout.tested_confidence, 4),
        },
    }


def spec_line(spec: Spec, state: str) -> str:
    """One line per spec: id, state, figures, statement."""
    held = ""
    if spec.holdout is not None and spec.holdout.tested_confidence is not None:
        held = f" held-out {spec.holdout.tested_confidence:6.1%} of {spec.holdout.tested_on}"
    return f"{spec.id}  {state:<8}  {spec.support:>5} notes {spec.confidence:6.1%}{held}  {spec.statement}"


def _read(root: Path) -> str | None:
    from kbmine.mine.specfile import SPECS_FILE

    path = root / SPECS_FILE
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _root(path: Path) -> Path:
    from kbmine.errors import InputError

    if not path.is_dir():
        raise InputError(f"{path}: not a folder")
    return path.resolve()


@specs_app.command("list")
def list_specs(
    path: PathArgument = Path("."),
    state: Annotated[str | None, typer.Option("--state", help="Only specs in this state: proposed, accepted or rejected.")] = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """List the specs of the KB's specs file, best first, with their figures."""
    from kbmine.errors import ConfigError
    from kbmine.mine.specfile import STATES, read_entries

    if state is not None and state not in STATES:
        raise ConfigError(f"--state must be one of {', '.join(STATES)}, not {state!r}")
    entries = [e for e in read_entries(_read(_root(path))) if state is None or e.state == state]
    entries.sort(key=lambda e: (-e.spec.score, e.spec.id))
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps([spec_record(e.spec, e.state) for e in entries], indent=2) + "\n")
        return
    for entry in entries:
        typer.echo(spec_line(entry.spec, entry.state))


@specs_app.command("show")
def show(
    spec_id: Annotated[str, typer.Argument(help="A spec id.")],
    path: KBOption = Path("."),
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """Show one spec: its statement, parameters, figures and counterexamples."""
    from kbmine.errors import ConfigError
    from kbmine.mine.specfile import SPECS_FILE, read_entries

    found = [e for e in read_entries(_read(_root(path))) if e.spec.id == spec_id]
    if not found:
        raise ConfigError(f"no spec {spec_id!r} in {SPECS_FILE}; `kbmine specs list` shows them")
    entry = found[0]
    spec = entry.spec
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(spec_record(spec, entry.state), indent=2) + "\n")
        return
    lines = [
        f"spec {spec.id} ({entry.state}): {spec.statement}",
        f"  kind        {spec.kind}",
        f"  scope       {spec.scope}",
        f"  params      {', '.join(f'{k}={list(v) if isinstance(v, tuple) else v}' for k, v in spec.params)}",
        f"  support     {spec.support} notes, confidence {spec.confidence:.1%}, {entry.violations} counterexamples",
    ]
    if spec.holdout is not None:
        tested = "n/a" if spec.holdout.tested_confidence is None else f"{spec.holdout.tested_confidence:.1%}"
        lines.append(
            f"  holdout     mined on {spec.holdout.mined_on}: {spec.holdout.mined_confidence:.1%}; "
            f"held out {spec.holdout.tested_on}: {tested}"
        )
    if spec.counterexamples:
        lines.append("  counterexamples" + (f" (first {len(spec.counterexamples)})" if entry.violations > len(spec.counterexamples) else ""))
        lines.extend(f"    {p}" for p in spec.counterexamples)
    typer.echo("\n".join(lines))


def _decide(ids: list[str], path: Path, state: State) -> None:
    from kbmine.mine.specfile import SPECS_FILE, decide

    root = _root(path)
    text = _read(root)
    updated = decide(text, ids, state)
    if updated != text:
        (root / SPECS_FILE).write_text(updated, encoding="utf-8")
    typer.echo(f"{state} {len(ids)} spec{'s' if len(ids) != 1 else ''} in {root / SPECS_FILE}")


@specs_app.command("accept")
def accept(ids: IdsArgument, path: KBOption = Path(".")) -> None:
    """Accept specs: `kbmine check` enforces them from now on (rule spec/<id>)."""
    _decide(ids, path, "accepted")


@specs_app.command("reject")
def reject(ids: IdsArgument, path: KBOption = Path(".")) -> None:
    """Reject specs: they are remembered and never proposed again."""
    _decide(ids, path, "rejected")
