"""``kbmine specs``: review mined specs and record decisions on them."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kbmine import __version__
from kbmine.cli import app
from kbmine.cli._common import (
    DialectOption,
    JobsOption,
    NoCacheOption,
    PathArgument,
    emit,
    kb_folder,
    resolve_config,
)

if TYPE_CHECKING:
    from kbmine.mine.mutants import MutationReport
    from kbmine.mine.review import Verdict
    from kbmine.mine.spec import Spec
    from kbmine.mine.specfile import State
    from kbmine.model import Note

specs_app = typer.Typer(
    help="Review, accept, reject and edit mined specs (kbmine.specs.yaml); re-test them (review) and the checker suite (test).",
    no_args_is_help=True,
)
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
    from kbmine.mine.specfile import read_specs_file

    return read_specs_file(root)


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
        record = spec_record(spec, entry.state)
        if entry.evidence is not None:
            record["evidence"] = entry.evidence
        sys.stdout.write(json.dumps(record, indent=2) + "\n")
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
    if entry.evidence:
        lines.append("  evidence    value: class, notes at HEAD, notes moved in / out, terminal, why")
        lines.extend(
            f"    {value}: {figures.get('class')}, {figures.get('notes')} notes, {figures.get('in')} in / {figures.get('out')} out, "
            f"terminal {figures.get('terminal')}: {figures.get('why')}"
            for value, figures in entry.evidence.items()
        )
    if spec.counterexamples:
        lines.append("  counterexamples" + (f" (first {len(spec.counterexamples)})" if entry.violations > len(spec.counterexamples) else ""))
        lines.extend(f"    {p}" for p in spec.counterexamples)
    typer.echo("\n".join(lines))


def _decide(ids: list[str], path: Path, state: State, fmt: OutputFormat) -> None:
    from kbmine.mine.specfile import SPECS_FILE, decide, write_specs_file

    root = _root(path)
    text = _read(root)
    updated = decide(text, ids, state)
    if updated != text:
        write_specs_file(root, updated)
    if fmt is OutputFormat.json:
        _json({"state": state, "ids": ids, "specs_file": str(root / SPECS_FILE)})
        return
    typer.echo(f"{state} {len(ids)} spec{'s' if len(ids) != 1 else ''} in {root / SPECS_FILE}")


def _json(document: Any) -> None:
    emit(json.dumps(document, indent=2) + "\n", None, "json")


@specs_app.command("accept")
def accept(ids: IdsArgument, path: KBOption = Path("."), fmt: FormatOption = OutputFormat.text) -> None:
    """Accept specs: `kbmine check` enforces them from now on (rule spec/<id>)."""
    _decide(ids, path, "accepted", fmt)


@specs_app.command("reject")
def reject(ids: IdsArgument, path: KBOption = Path("."), fmt: FormatOption = OutputFormat.text) -> None:
    """Reject specs: they are remembered and never proposed again."""
    _decide(ids, path, "rejected", fmt)


def _notes(path: Path, dialect: str | None, jobs: int | None) -> tuple[Path, dict[str, Note]]:
    """The KB root and its notes, for measuring specs on them."""
    from kbmine.kb import load

    config = resolve_config(path, {"dialect": dialect})
    kb = load(kb_folder(path), config, jobs=jobs)
    notes = kb.notes
    for notice in kb.notices:
        typer.echo(f"kbmine: note: {notice}", err=True)
    return kb.root, notes


@specs_app.command("review")
def review(
    path: PathArgument = Path("."),
    apply: Annotated[
        list[str] | None, typer.Option("--apply", help="Carry out the proposal for this spec id (repeatable).")
    ] = None,
    slack: Annotated[
        float, typer.Option("--slack", min=0.0, max=1.0, help="How much the violation rate may grow before a spec is flagged.")
    ] = 0.05,
    new_value_notes: Annotated[
        int, typer.Option("--new-value-notes", min=1, help="Notes a value outside a vocabulary needs to be flagged.")
    ] = 3,
    retire_below: Annotated[
        float, typer.Option("--retire-below", min=0.0, max=1.0, help="Confidence under which an unrescuable spec is retired.")
    ] = 0.5,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", min=0.01, max=1.0, help="How well a relaxed spec must hold.")
    ] = 0.9,
    fmt: FormatOption = OutputFormat.text,
    dialect: DialectOption = None,
    jobs: JobsOption = None,
) -> None:
    """Re-test accepted specs on the KB as it is now; propose to relax or retire those that drifted.

    A spec is flagged when its violation rate grew more than `--slack` past
    the rate recorded when it was accepted, or when a value outside its
    vocabulary is used by `--new-value-notes` notes or more. The proposal is
    the relaxation that holds best on today's notes (a widened vocabulary, a
    key no longer required, a broader type, a narrower scope), else today's
    confidence as the new record; a spec under `--retire-below` that nothing
    rescues is to retire. `--apply ID` carries the proposal out in the specs
    file: the relaxed spec is accepted in place of the old one (which is
    rejected, so it is never proposed again), or the spec is retired.
    """
    from kbmine.errors import ConfigError
    from kbmine.mine.review import ReviewSettings
    from kbmine.mine.review import review as review_specs
    from kbmine.mine.specedit import apply_verdict
    from kbmine.mine.specfile import SPECS_FILE, read_entries, write_specs_file

    root, notes = _notes(path, dialect, jobs)
    text = _read(root)
    settings = ReviewSettings(slack, new_value_notes, retire_below, min_confidence)
    verdicts = review_specs(notes, read_entries(text, str(root / SPECS_FILE)), settings)
    by_id = {verdict.accepted.id: verdict for verdict in verdicts}
    applied: list[str] = []
    for spec_id in apply or ():
        if spec_id not in by_id:
            raise ConfigError(f"--apply {spec_id}: no accepted spec with that id; `kbmine specs list --state accepted` shows them")
        if by_id[spec_id].action == "keep":
            raise ConfigError(f"--apply {spec_id}: the spec still holds; there is nothing to apply")
    for spec_id in dict.fromkeys(apply or ()):
        text = apply_verdict(text, by_id[spec_id])
        applied.append(spec_id)
    if applied:
        write_specs_file(root, text or "")
    if fmt is OutputFormat.json:
        _json({"kbmine": __version__, "root": str(root), "specs": [_verdict_record(v) for v in verdicts], "applied": applied})
        return
    typer.echo(_review_text(verdicts, applied, root / SPECS_FILE, path))


def _verdict_record(verdict: Verdict) -> dict[str, Any]:
    now = verdict.now
    return {
        "id": verdict.accepted.id,
        "statement": verdict.accepted.statement,
        "action": verdict.action,
        "reasons": list(verdict.reasons),
        "recorded": {
            "support": verdict.accepted.support,
            "confidence": round(verdict.accepted.confidence, 4),
            "violations": verdict.recorded_violations,
        },
        "now": {
            "support": now.support,
            "confidence": round(now.confidence, 4),
            "violations": len(now.counterexamples),
            "counterexamples": list(now.counterexamples),
        },
        "relaxed": None if verdict.relaxed is None else {"how": verdict.how, **spec_record(verdict.relaxed, "proposed")},
    }


def _review_text(verdicts: list[Verdict], applied: list[str], target: Path, path: Path) -> str:
    if not verdicts:
        return "no accepted specs to review (`kbmine specs accept ID` accepts one)"
    lines = []
    for verdict in verdicts:
        spec, now = verdict.accepted, verdict.now
        figures = (
            f"{now.support} notes {now.confidence:.1%} ({len(now.counterexamples)} violations); "
            f"accepted at {spec.support} notes {spec.confidence:.1%} ({verdict.recorded_violations})"
        )
        lines.append(f"{spec.id}  {verdict.action:<6}  {figures}  {spec.statement}")
        lines.extend(f"    why: {reason}" for reason in verdict.reasons)
        if verdict.relaxed is not None:
            relaxed = verdict.relaxed
            lines.append(f"    relax: {verdict.how}")
            if relaxed.id != spec.id:
                lines.append(f"      -> {relaxed.id}  {relaxed.support} notes {relaxed.confidence:.1%}  {relaxed.statement}")
    flagged = [v.accepted.id for v in verdicts if v.action != "keep" and v.accepted.id not in applied]
    lines.append(
        f"{len(verdicts)} accepted spec{'s' if len(verdicts) != 1 else ''}: "
        f"{sum(v.action == 'keep' for v in verdicts)} hold, {sum(v.action == 'relax' for v in verdicts)} to relax, "
        f"{sum(v.action == 'retire' for v in verdicts)} to retire"
    )
    if applied:
        lines.append(f"applied {', '.join(applied)} in {target}")
    if flagged:
        lines.append(f"apply with: kbmine specs review {path} --apply {' --apply '.join(flagged)}")
    return "\n".join(lines)


def _in_editor(text: str) -> str:
    """``text`` as the person left it in ``$VISUAL`` / ``$EDITOR`` (default ``vi``)."""
    import os
    import shlex
    import subprocess
    import tempfile

    from kbmine.errors import InputError

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        if not sys.stdin.isatty():
            # vi without a terminal waits forever on a pipe or /dev/null.
            raise InputError("no $VISUAL or $EDITOR, and no terminal for vi: set EDITOR, or use --set/--scope")
        editor = "vi"
    with tempfile.TemporaryDirectory(prefix="kbmine-spec-") as folder:
        target = Path(folder) / "spec.yaml"
        target.write_text(text, encoding="utf-8")
        try:
            completed = subprocess.run(f"{editor} {shlex.quote(str(target))}", shell=True, check=False)
        except OSError as exc:
            raise InputError(f"cannot run the editor {editor!r}: {exc}") from None
        if completed.returncode != 0:
            raise InputError(f"the editor {editor!r} exited with status {completed.returncode}; spec unchanged")
        try:
            return target.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"the editor {editor!r} removed the file; spec unchanged") from None
        except UnicodeDecodeError:
            raise InputError(f"the editor {editor!r} saved text that is not UTF-8; spec unchanged") from None


@specs_app.command("edit")
def edit(
    spec_id: Annotated[str, typer.Argument(help="A spec id.")],
    path: KBOption = Path("."),
    assignments: Annotated[
        list[str] | None, typer.Option("--set", help="NAME=VALUE: set a parameter (lists comma-separated; repeatable).")
    ] = None,
    scope: Annotated[str | None, typer.Option("--scope", help="New scope: all, folder:PATH or where:KEY=VALUE.")] = None,
    editor: Annotated[bool, typer.Option("--editor", help="Edit the spec's scope and parameters in $EDITOR.")] = False,
    fmt: FormatOption = OutputFormat.text,
    dialect: DialectOption = None,
    jobs: JobsOption = None,
) -> None:
    """Change a spec's scope or parameters; its statement and figures are measured again.

    `--set values=a,b,c`, `--set required=false`, `--scope folder:notes`; with
    none of these in a terminal (or with `--editor`), `$EDITOR` opens on the
    spec's scope and parameters. The id stays, so decisions and suppressions
    still refer to it. A bad edit is an error and leaves the file unchanged.
    """
    from kbmine.errors import ConfigError
    from kbmine.mine.spec import Scope
    from kbmine.mine.specedit import (
        edit_spec,
        editable_block,
        parse_assignments,
        parse_block,
    )
    from kbmine.mine.specfile import SPECS_FILE, read_entries, write_specs_file

    root = _root(path)
    text = _read(root)
    found = [e for e in read_entries(text, str(root / SPECS_FILE)) if e.spec.id == spec_id]
    if not found:
        raise ConfigError(f"no spec {spec_id!r} in {SPECS_FILE}; `kbmine specs list` shows them")
    spec = found[0].spec
    if editor and (assignments or scope is not None):
        raise ConfigError("--editor edits the whole spec: give it alone, or use --set/--scope without it")
    if editor or (not assignments and scope is None):
        if not editor and not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise ConfigError("nothing to change: give --set NAME=VALUE or --scope SCOPE (or --editor)")
        block = editable_block(spec)
        edited = _in_editor(block)
        if edited == block:
            typer.echo(f"spec {spec_id} unchanged (the editor saved nothing new)")
            return
        new_scope, params = parse_block(edited, spec)
    else:
        new_scope = Scope.parse(scope) if scope is not None else spec.scope
        params = parse_assignments(spec, assignments or ())
    _, notes = _notes(root, dialect, jobs)
    updated, result = edit_spec(text, spec_id, new_scope, params, list(notes.values()))
    changed = updated != text
    if changed:
        write_specs_file(root, updated)
    if fmt is OutputFormat.json:
        _json({"changed": changed, "spec": spec_record(result, found[0].state), "specs_file": str(root / SPECS_FILE)})
        return
    if not changed:
        typer.echo(f"spec {spec_id} unchanged")
        return
    typer.echo(f"edited spec {spec_id} in {root / SPECS_FILE}:\n  {spec_line(result, found[0].state)}")


@specs_app.command("test")
def test(
    path: PathArgument = Path("."),
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="Mutants of each kind.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the choice of mutation sites.")] = 0,
    kinds: Annotated[list[str] | None, typer.Option("--kind", help="Only these mutant kinds (repeatable).")] = None,
    fail_under: Annotated[
        float | None, typer.Option("--fail-under", min=0.0, max=1.0, help="Exit 1 when the mutation score is below this.")
    ] = None,
    fmt: FormatOption = OutputFormat.text,
    dialect: DialectOption = None,
    no_cache: NoCacheOption = False,
    jobs: JobsOption = None,
) -> None:
    """Mutation-test the checker suite: inject small defects into a copy of the KB and
    report which accepted specs and built-in rules catch each.

    The KB itself is never touched (its parse cache, if it has one, is only
    read): its notes and specs file are copied to a temporary folder, where each mutant kind (`--kind`; all by default) strikes
    `--count` notes chosen with `--seed`. A mutant is killed when a check
    reports something new in the notes it changed (or the notes linking to
    them); a kind with survivors is a gap in the KB's checker suite.
    """
    from kbmine.cache import default_cache_path
    from kbmine.kb import load
    from kbmine.mine.mutants import run_mutation_test
    from kbmine.mine.specfile import accepted_specs

    config = resolve_config(path, {"dialect": dialect})
    root = kb_folder(path)
    accepted_specs(root)  # a bad specs file is named as the user's, not as the temporary copy
    # An existing parse cache is read (never written): the KB gets no .kbmine/ it did not have.
    kb = load(root, config, use_cache=not no_cache and default_cache_path(root).is_file(), jobs=jobs)
    report = run_mutation_test(kb, kinds or (), count, seed, jobs)
    if fmt is OutputFormat.json:
        _json(mutation_record(report, kb.root))
    else:
        typer.echo(mutation_text(report))
    if fail_under is not None and (report.score or 0.0) < fail_under:
        raise typer.Exit(1)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def mutation_text(report: MutationReport) -> str:
    """The mutation report for people: a row per mutant kind, the score, the gaps."""
    from kbmine.mine.mutants import MUTANT_KINDS

    heading = (
        f"{len(report.outcomes)} mutants in {report.batches} batch{'es' if report.batches != 1 else ''} "
        f"against {report.specs} accepted spec{'s' if report.specs != 1 else ''} and the built-in rules "
        f"({report.baseline} findings before), {report.seconds:.1f} s"
    )
    lines = [heading, f"  {'kind':<18} {'mutants':>7} {'killed':>6}  killers"]
    for row in report.by_kind():
        killers = ", ".join(f"{name} {n}" for name, n in row.killers) or "-"
        lines.append(f"  {row.kind:<18} {row.mutants:>7} {row.killed:>6}  {killers}")
    lines.append(
        f"mutation score {_share(report.score)} (accepted specs alone {_share(report.score_by(True))}, "
        f"built-in rules alone {_share(report.score_by(False))})"
    )
    gaps = report.gaps()
    if gaps:
        lines.append("gaps in the KB's checker suite (mutants nothing reported):")
        for row in gaps:
            what = "no candidate site" if not row.mutants else f"{row.survived} of {row.mutants} survived"
            lines.append(f"  {row.kind:<18} {what}: {MUTANT_KINDS[row.kind]}")
            for outcome in [o for o in report.outcomes if o.mutant.kind == row.kind and not o.killed][:2]:
                lines.append(f"    e.g. {outcome.mutant.path}:{outcome.mutant.line}: {outcome.mutant.description}")
    else:
        lines.append("no gaps: every mutant was reported")
    if report.unattributed:
        lines.append(f"({report.unattributed} new findings fell outside every mutant's notes and were not credited)")
    return "\n".join(lines)


def mutation_record(report: MutationReport, root: Path) -> dict[str, Any]:
    """The mutation report as JSON."""
    from kbmine.mine.mutants import MUTANT_KINDS

    return {
        "kbmine": __version__,
        "root": str(root),
        "specs": report.specs,
        "baseline_findings": report.baseline,
        "batches": report.batches,
        "seconds": round(report.seconds, 3),
        "score": None if report.score is None else round(report.score, 4),
        "score_specs_only": None if report.score_by(True) is None else round(report.score_by(True) or 0.0, 4),
        "score_rules_only": None if report.score_by(False) is None else round(report.score_by(False) or 0.0, 4),
        "unattributed": report.unattributed,
        "kinds": [
            {
                "kind": row.kind,
                "description": MUTANT_KINDS[row.kind],
                "candidates": row.candidates,
                "mutants": row.mutants,
                "killed": row.killed,
                "killers": dict(row.killers),
            }
            for row in report.by_kind()
        ],
        "gaps": [row.kind for row in report.gaps()],
        "mutants": [
            {
                "id": o.mutant.id,
                "kind": o.mutant.kind,
                "path": o.mutant.path,
                "line": o.mutant.line,
                "description": o.mutant.description,
                "killed": o.killed,
                "killers": list(o.killers),
                "first_finding": o.first or None,
            }
            for o in report.outcomes
        ],
    }
