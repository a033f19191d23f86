"""``kbmine mine``: find the KB's conventions and propose them as specs."""

from __future__ import annotations

import json
import sys
import time
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
    resolve_config,
)
from kbmine.cli.specs import FormatOption, OutputFormat, spec_line, spec_record

if TYPE_CHECKING:
    from kbmine.kb import KB
    from kbmine.mine import Mining
    from kbmine.mine.differential import Differential, Disagreement
    from kbmine.mine.history import Lifecycle
    from kbmine.mine.replay import Replay
    from kbmine.mine.spec import MineSettings


@app.command()
def mine(
    path: PathArgument = Path("."),
    min_support: Annotated[int, typer.Option("--min-support", min=1, help="Fewest notes a spec must apply to.")] = 10,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", min=0.01, max=1.0, help="Smallest share of those notes that must satisfy it.")
    ] = 0.9,
    holdout: Annotated[
        float, typer.Option("--holdout", min=0.0, max=0.9, help="Share of notes kept aside to test the specs on (0: none).")
    ] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the holdout split.")] = 0,
    kinds: Annotated[list[str] | None, typer.Option("--kind", help="Only these spec kinds (repeatable).")] = None,
    scope_keys: Annotated[
        list[str] | None, typer.Option("--scope-key", help="Frontmatter keys whose values make scopes (default: type).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="How many proposals to print (the file gets all).")] = 20,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the proposals; do not write the specs file.")] = False,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Also read git history: replay each spec over past commits (since when it holds, violations fixed "
            "by hand, true positives vs false alarms) and the status lifecycle (values, transitions, terminal values).",
        ),
    ] = False,
    samples: Annotated[
        int, typer.Option("--samples", min=1, help="Past commits --history replays the specs on, evenly spaced (plus HEAD).")
    ] = 50,
    status_key: Annotated[str, typer.Option("--status-key", help="The frontmatter key --history follows.")] = "status",
    differential: Annotated[
        bool,
        typer.Option("--differential", help="Also mine the older and the newer half of the notes apart and show where they disagree."),
    ] = False,
    folders: Annotated[
        tuple[str, str] | None,
        typer.Option("--folders", help="With --differential: compare these two folders instead of older and newer notes."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Mine the notes as they were at this commit (read from git, nothing checked out); implies --dry-run."),
    ] = None,
    fmt: FormatOption = OutputFormat.text,
    dialect: DialectOption = None,
    no_cache: NoCacheOption = False,
    jobs: JobsOption = None,
) -> None:
    """Mine the KB's conventions into specs and propose them in kbmine.specs.yaml.

    Decisions already in the file (accepted, rejected) are kept as they are;
    rejected specs are not proposed again. Review with `kbmine specs list`,
    then `kbmine specs accept ID` to have `kbmine check` enforce a spec.
    """
    from kbmine.errors import ConfigError
    from kbmine.kb import load
    from kbmine.mine import mine as mine_notes
    from kbmine.mine.spec import MineSettings
    from kbmine.mine.specfile import (
        SPECS_FILE,
        merge,
        read_entries,
        read_specs_file,
        write_specs_file,
    )

    if folders is not None and not differential:
        raise ConfigError("--folders only goes with --differential")

    settings = MineSettings(
        min_support=min_support,
        min_confidence=min_confidence,
        holdout=holdout,
        seed=seed,
        scope_keys=tuple(scope_keys) if scope_keys else MineSettings.scope_keys,
    )
    config = resolve_config(path, {"dialect": dialect})
    kb = load(path, config, use_cache=not no_cache, jobs=jobs)
    if at is not None:
        from kbmine.mine.history import notes_at

        notes = notes_at(kb.root, at, kb.config, kb.cache, jobs)
        dry_run = True
    else:
        notes = kb.notes
    from kbmine.mine.context import MineContext

    started = time.perf_counter()
    context = MineContext.of_kb(kb) if notes is kb.notes else MineContext.of(notes, kb.config)
    mining = mine_notes(notes, settings, kinds or (), context)
    seconds = time.perf_counter() - started
    lifecycle = None
    replayed = None
    if history:
        from kbmine.mine.history import lifecycle as read_lifecycle
        from kbmine.mine.replay import replay

        started = time.perf_counter()
        lifecycle = read_lifecycle(kb.root, status_key)
        mining = _with_vocabulary(mining, notes, status_key, lifecycle, settings, kinds)
        replayed = replay(kb.root, mining.specs, kb.config, min_confidence, samples + 1, kb.cache, jobs)
        if lifecycle is None or replayed is None:
            kb.notice("--history: not a git repository with commits (or git failed); no history read")
        seconds_history = time.perf_counter() - started
    if not history:
        mining = _with_vocabulary(mining, notes, status_key, None, settings, kinds)
    compared = _differential(kb, notes, settings, kinds or (), folders) if differential else None
    for notice in kb.notices:
        typer.echo(f"kbmine: note: {notice}", err=True)
    target = kb.root / SPECS_FILE
    before = read_specs_file(kb.root)
    states = {entry.spec.id: entry.state for entry in read_entries(before, str(target))}
    shown = [spec for spec in mining.specs if states.get(spec.id) != "rejected"]
    evidence = _vocabulary_evidence(mining, notes, lifecycle)
    text, summary = merge(before, mining, None if replayed is None else replayed.specs, evidence)
    if not dry_run and text != before:
        write_specs_file(kb.root, text)
    if fmt is OutputFormat.json:
        document = {
            "kbmine": __version__,
            "root": str(kb.root),
            "notes": mining.notes,
            "mined_on": mining.mined_on,
            "tested_on": mining.tested_on,
            "scopes": mining.scopes,
            "candidates": mining.candidates,
            "redundant": mining.redundant,
            "seconds": round(seconds, 3),
            "specs_file": None if dry_run else str(target),
            "added": list(summary.added),
            "updated": list(summary.updated),
            "dropped": list(summary.dropped),
            "specs": [_record(spec, states.get(spec.id, "proposed"), replayed, evidence.get(spec.id)) for spec in shown],
        }
        if at is not None:
            document["at"] = at
        if replayed is not None:
            document["history"] = {
                "seconds": round(seconds_history, 3),
                "commits": replayed.commits,
                "sampled": replayed.sampled,
                "blobs": replayed.blobs,
                "parsed": replayed.parsed,
            }
        if compared is not None:
            document["differential"] = _differential_record(compared)
        if lifecycle is not None:
            document["lifecycle"] = {
                "key": lifecycle.key,
                "seconds": round(seconds_history, 3),
                "commits": lifecycle.commits,
                "seen": lifecycle.seen,
                "current": lifecycle.current,
                "transitions": [{"from": a, "to": b, "notes": n} for (a, b), n in lifecycle.transitions.items()],
                "terminal": list(lifecycle.terminal),
                "quiet": {value: {"notes": n, "share": round(share, 4)} for value, (n, share) in lifecycle.quiet.items()},
            }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    typer.echo(
        f"mined {mining.notes} notes ({mining.mined_on} mined, {mining.tested_on} held out) in {seconds:.2f} s: "
        f"{len(mining.specs)} specs over {mining.scopes} scopes ({mining.candidates} candidates, {mining.redundant} redundant)"
    )
    from kbmine.mine.replay import history_line

    if at is not None:
        typer.echo(f"(the notes as they were at {at})")
    for spec in shown[:top]:
        typer.echo("  " + spec_line(spec, states.get(spec.id, "proposed")))
        if replayed is not None and spec.id in replayed.specs:
            typer.echo("      history: " + history_line(replayed.specs[spec.id]))
    if len(shown) > top:
        typer.echo(f"  ... and {len(shown) - top} more (kbmine specs list)")
    if replayed is not None:
        typer.echo(
            f"history: {len(replayed.specs)} specs replayed over {replayed.sampled} of {replayed.commits} commits "
            f"({replayed.blobs} note versions, {replayed.parsed} parsed in full) in {seconds_history:.2f} s with the lifecycle"
        )
    if lifecycle is not None:
        typer.echo(f"lifecycle of `{lifecycle.key}` over {lifecycle.commits} commits:")
        typer.echo("  values seen   " + ", ".join(f"{v} {n}" for v, n in lifecycle.seen.items()))
        typer.echo("  transitions   " + (", ".join(f"{a} -> {b} {n}" for (a, b), n in lifecycle.transitions.items()) or "none"))
        typer.echo("  terminal      " + (", ".join(lifecycle.terminal) or "none"))
    for spec_id, table in evidence.items():
        typer.echo(f"status vocabulary {spec_id} ({states.get(spec_id, 'proposed')}), classed for stale-status:")
        for value, figures in table.items():
            moves = "" if figures["in"] is None else f", {figures['in']} in / {figures['out']} out, terminal {'yes' if figures['terminal'] else 'no'}"
            typer.echo(f"  {value:<14}{figures['class']:<6} {figures['notes']} notes{moves}: {figures['why']}")
    if compared is not None:
        _print_differential(compared)
    where = "would write" if dry_run else "wrote"
    typer.echo(
        f"{where} {target}: {len(summary.added)} new, {len(summary.updated)} updated, {len(summary.dropped)} dropped; "
        f"{summary.decided} decisions kept, {summary.skipped_rejected} rejected not proposed again"
    )


def _record(spec: Any, state: str, replayed: Replay | None, evidence: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    from kbmine.mine.replay import history_record

    record = spec_record(spec, state)
    if replayed is not None and spec.id in replayed.specs:
        record["history"] = history_record(replayed.specs[spec.id])
    if evidence is not None:
        record["evidence"] = evidence
    return record


def _with_vocabulary(
    mining: Mining, notes: dict[str, Any], key: str, lifecycle: Lifecycle | None, settings: MineSettings, kinds: list[str] | None
) -> Mining:
    """``mining`` with the status vocabulary of ``key`` proposed among its specs: classed from
    the lifecycle when history was read, else from the notes alone (see its kind)."""
    import dataclasses

    from kbmine.mine.kinds.status_vocabulary import vocabulary_spec

    found = vocabulary_spec(notes, key, lifecycle, settings) if not kinds or "status_vocabulary" in kinds else None
    if found is None or found[0].support < settings.min_support or found[0].confidence < settings.min_confidence:
        return mining
    specs = sorted([*mining.specs, found[0]], key=lambda s: (-s.score, s.id))
    return dataclasses.replace(mining, specs=tuple(specs))


def _vocabulary_evidence(mining: Mining, notes: dict[str, Any], lifecycle: Lifecycle | None) -> dict[str, dict[str, dict[str, Any]]]:
    """Spec id → value → evidence, for each status vocabulary proposed (from history for the
    lifecycle's key, from the notes alone for another)."""
    from kbmine.mine.kinds.status_vocabulary import classify

    population = [note for note in notes.values() if note.content_hash]
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for spec in mining.specs:
        if spec.kind == "status_vocabulary":
            key = spec.parameters["key"]
            read = lifecycle if lifecycle is not None and lifecycle.key == key else None
            tables[spec.id] = {item.value: item.record() for item in classify(population, key, read)}
    return tables


def _differential(
    kb: KB, notes: dict[str, Any], settings: MineSettings, kinds: list[str] | tuple[str, ...], folders: tuple[str, str] | None
) -> Differential:
    from kbmine.mine.differential import differential, split_by_age, split_by_folders

    if folders is not None:
        first, second = split_by_folders(notes, *folders)
    else:
        dates = kb.git_dates
        first, second = split_by_age(notes, None if dates is None else {path: made for path, (made, _) in dates.items()})
    return differential(first, second, settings, kinds)


def _differential_record(compared: Differential) -> dict[str, Any]:
    from kbmine.mine.differential import vocabulary_change

    def side(figures: Any) -> dict[str, Any]:
        return {"support": figures.support, "confidence": round(figures.confidence, 4)}

    def one(item: Disagreement) -> dict[str, Any]:
        record: dict[str, Any] = {
            "what": item.what,
            "kind": item.spec.kind,
            "scope": str(item.spec.scope),
            "a": None if item.a is None else {"id": item.a.id, "statement": item.a.statement},
            "b": None if item.b is None else {"id": item.b.id, "statement": item.b.statement},
            "on_a": side(item.on_a),
            "on_b": side(item.on_b),
        }
        change = vocabulary_change(item)
        if change is not None:
            record["only_a_values"], record["only_b_values"] = list(change[0]), list(change[1])
        return record

    return {
        "a": {"label": compared.a.label, "notes": len(compared.a.notes), "specs": compared.mined_a},
        "b": {"label": compared.b.label, "notes": len(compared.b.notes), "specs": compared.mined_b},
        "agreed": compared.agreed,
        "not_comparable": compared.not_comparable,
        "disagreements": [one(item) for item in compared.disagreements],
    }


def _print_differential(compared: Differential) -> None:
    from kbmine.mine.differential import vocabulary_change

    a, b = compared.a, compared.b
    typer.echo(
        f"differential: a = {a.label}, {len(a.notes)} notes, {compared.mined_a} specs; "
        f"b = {b.label}, {len(b.notes)} notes, {compared.mined_b} specs"
    )
    typer.echo(
        f"  {compared.agreed} agree, {len(compared.disagreements)} disagree, "
        f"{compared.not_comparable} not comparable (too few notes of their scope on the other side)"
    )
    for item in compared.disagreements:
        figures = (
            f"a {item.on_a.confidence:.1%} of {item.on_a.support}, b {item.on_b.confidence:.1%} of {item.on_b.support}"
        )
        if item.what == "differs" and item.a is not None and item.b is not None:
            change = vocabulary_change(item)
            detail = (
                f"a adds {', '.join(change[0]) or 'nothing'}; b adds {', '.join(change[1]) or 'nothing'}"
                if change is not None
                else f"b: {item.b.statement}"
            )
            typer.echo(f"  differs     {item.a.statement} ({figures}); {detail}")
        else:
            typer.echo(f"  {item.what:<11} {item.spec.statement} ({figures})")
