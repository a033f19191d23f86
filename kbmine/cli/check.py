"""``kbmine check``: run the rules and report findings (the CI gate)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kbmine import __version__
from kbmine.cli import EXIT_CLEAN, EXIT_FINDINGS, app
from kbmine.cli._common import (
    DialectOption,
    JobsOption,
    NoCacheOption,
    PathArgument,
    display_prefix,
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
) -> None:
    """Check a KB: broken links and anchors, ambiguous links, bad frontmatter and more.

    Exit code 0: no findings; 1: findings; 2: usage, config or I/O error.
    """
    from kbmine.checks import run_checks, select_rules
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
    findings = run_checks(kb, rules)
    color = fmt == "text" and output is None and sys.stdout.isatty()
    context = ReportContext(
        root=str(kb.root), version=__version__, color=color, notes=kb.stats.notes, prefix=display_prefix(kb.root)
    )
    for notice in kb.notices:
        typer.echo(f"kbmine: note: {notice}", err=True)
    report = format_findings(fmt, findings, context)
    if output is not None:
        output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    raise typer.Exit(EXIT_FINDINGS if findings and not exit_zero else EXIT_CLEAN)
