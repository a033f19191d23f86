"""``kbmine check``: run the rules and report findings (the CI gate)."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from kbmine import __version__
from kbmine.cli import EXIT_CLEAN, EXIT_FINDINGS, app, hold_until_exit
from kbmine.cli._common import (
    DialectOption,
    JobsOption,
    NoCacheOption,
    PathArgument,
    as_written,
    display_prefix,
    emit,
    progress_callback,
    resolve_config,
)
from kbmine.report import FORMATTERS


def _split(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


@app.command()
def check(
    path: PathArgument = Path("."),
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"Output format: {', '.join(FORMATTERS)}.")] = "text",
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these rules (names or codes, comma-separated).")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules (names or codes).")] = None,
    dialect: DialectOption = None,
    no_cache: NoCacheOption = False,
    jobs: JobsOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")] = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")] = False,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="Report only findings this baseline file does not know.")] = None,
    write_baseline: Annotated[Path | None, typer.Option("--write-baseline", help="Record today's findings as the baseline in FILE.")] = None,
    changed_since: Annotated[str | None, typer.Option("--changed-since", help="Only notes changed since this git ref, and notes whose links the change affects.")] = None,
    report_unused: Annotated[bool, typer.Option("--report-unused-suppressions", help="Report suppressions that silence nothing.")] = False,
) -> None:
    """Check a KB: broken links and anchors, missing links, duplicated claims, stale statuses and more.

    Exit code 0: no findings; 1: findings; 2: usage, config or I/O error.
    """
    from kbmine.checks import run_checks, run_key, select_rules
    from kbmine.errors import ConfigError
    from kbmine.kb import load
    from kbmine.report import ReportContext, format_findings

    if fmt not in FORMATTERS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATTERS)}, not {fmt!r}")
    config = resolve_config(path, {"dialect": dialect, "select": _split(select), "ignore": _split(ignore)})
    rules = select_rules(config.select, config.ignore)
    bar, update = progress_callback()
    try:
        kb = load(path, config, use_cache=not no_cache, jobs=jobs, progress=update)
    finally:
        if bar is not None:
            bar.stop()
    hold_until_exit(kb)
    color = fmt == "text" and output is None and sys.stdout.isatty()
    context = ReportContext(
        root=str(kb.root), version=__version__, color=color, notes=kb.stats.notes, prefix=display_prefix(kb.root)
    )
    # A plain run on an unchanged KB prints the report it printed last time: on a
    # warm run, unpickling thousands of findings and encoding them again would
    # cost more than everything else together.
    replayable = changed_since is None and baseline is None and write_baseline is None and fmt != "github"
    findings_key = run_key(kb, rules, report_unused_suppressions=report_unused)
    report_key = f"{findings_key}:{fmt}:{context!r}"
    stored = kb.cache.get_blob("report", report_key) if replayable and kb.cache is not None else None
    if isinstance(stored, tuple) and len(stored) == 3 and isinstance(stored[0], (str, bytes)):
        report, failing_count, notices = stored
        for notice in notices:
            typer.echo(f"kbmine: note: {notice}", err=True)
        emit(report, output, fmt)
        raise typer.Exit(EXIT_FINDINGS if failing_count and not exit_zero else EXIT_CLEAN)
    prepare = None
    if fmt == "json":
        from kbmine.report.json import JsonLines

        lines = JsonLines()
        context = dataclasses.replace(context, lines=lines)
        prepare = lines.add  # written while the run waits for duplicate-claim's child
    findings = run_checks(kb, rules, report_unused_suppressions=report_unused, key=findings_key, while_waiting=prepare)
    if changed_since is not None:
        from kbmine.scope import affected_notes

        scope = affected_notes(kb, changed_since)
        findings = [f for f in findings if f.path in scope]
    if write_baseline is not None:
        from kbmine.baseline import write_baseline as save

        save(write_baseline, findings)
        typer.echo(f"kbmine: wrote {len(findings)} findings to the baseline {write_baseline}", err=True)
    if baseline is not None:
        from kbmine.baseline import filter_new, read_baseline

        findings = filter_new(findings, read_baseline(baseline), set(kb.hashes) | set(kb.read_errors) | set(kb.oversize))
    for notice in kb.notices:
        typer.echo(f"kbmine: note: {notice}", err=True)
    report = as_written(format_findings(fmt, findings, context), output, fmt)
    failing = [f for f in findings if f.severity != "info"]
    if replayable and kb.cache is not None:
        kb.cache.put_blob("report", report_key, (report, len(failing), list(kb.notices)))
    emit(report, output, fmt)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary_file:
        from kbmine.report.github import step_summary

        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(step_summary(findings, context))
    raise typer.Exit(EXIT_FINDINGS if failing and not exit_zero and write_baseline is None else EXIT_CLEAN)
