"""``kbmine mine``: find the KB's conventions and propose them as specs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from kbmine import __version__
from kbmine.cli import app
from kbmine.cli._common import DialectOption, JobsOption, NoCacheOption, PathArgument, resolve_config
from kbmine.cli.specs import FormatOption, OutputFormat, spec_line, spec_record


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
        bool, typer.Option("--history", help="Also read git history: status values, transitions, terminal values.")
    ] = False,
    status_key: Annotated[str, typer.Option("--status-key", help="The frontmatter key --history follows.")] = "status",
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
    from kbmine.kb import load
    from kbmine.mine import mine as mine_notes
    from kbmine.mine.spec import MineSettings
    from kbmine.mine.specfile import SPECS_FILE, merge, read_entries

    settings = MineSettings(
        min_support=min_support,
        min_confidence=min_confidence,
        holdout=holdout,
        seed=seed,
        scope_keys=tuple(scope_keys) if scope_keys else MineSettings.scope_keys,
    )
    config = resolve_config(path, {"dialect": dialect})
    kb = load(path, config, use_cache=not no_cache, jobs=jobs)
    notes = kb.notes
    started = time.perf_counter()
    mining = mine_notes(notes, settings, kinds or ())
    seconds = time.perf_counter() - started
    lifecycle = None
    if history:
        from kbmine.mine.history import lifecycle as read_lifecycle

        started = time.perf_counter()
        lifecycle = read_lifecycle(kb.root, status_key)
        if lifecycle is None:
            kb.notice("--history: not a git repository (or git failed); no lifecycle mined")
        seconds_history = time.perf_counter() - started
    for notice in kb.notices:
        typer.echo(f"kbmine: note: {notice}", err=True)
    target = kb.root / SPECS_FILE
    before = target.read_text(encoding="utf-8") if target.is_file() else None
    states = {entry.spec.id: entry.state for entry in read_entries(before, str(target))}
    shown = [spec for spec in mining.specs if states.get(spec.id) != "rejected"]
    text, summary = merge(before, mining)
    if not dry_run and text != before:
        target.write_text(text, encoding="utf-8")
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
            "specs": [spec_record(spec, states.get(spec.id, "proposed")) for spec in shown],
        }
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
    for spec in shown[:top]:
        typer.echo("  " + spec_line(spec, states.get(spec.id, "proposed")))
    if len(shown) > top:
        typer.echo(f"  ... and {len(shown) - top} more (kbmine specs list)")
    if lifecycle is not None:
        typer.echo(f"lifecycle of `{lifecycle.key}` over {lifecycle.commits} commits ({seconds_history:.2f} s):")
        typer.echo("  values seen   " + ", ".join(f"{v} {n}" for v, n in lifecycle.seen.items()))
        typer.echo("  transitions   " + (", ".join(f"{a} -> {b} {n}" for (a, b), n in lifecycle.transitions.items()) or "none"))
        typer.echo("  terminal      " + (", ".join(lifecycle.terminal) or "none"))
    where = "would write" if dry_run else "wrote"
    typer.echo(
        f"{where} {target}: {len(summary.added)} new, {len(summary.updated)} updated, {len(summary.dropped)} dropped; "
        f"{summary.decided} decisions kept, {summary.skipped_rejected} rejected not proposed again"
    )
