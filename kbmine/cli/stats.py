"""``kbmine stats`` and ``kbmine graph``: describe and export the link graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kbmine.cli import app
from kbmine.cli._common import DialectOption, JobsOption, NoCacheOption, PathArgument, emit, resolve_config

GRAPH_FORMATS = ("json", "graphml", "gexf", "dot")


@app.command()
def stats(
    path: PathArgument = Path("."),
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output format: text or json.")] = "text",
    dialect: DialectOption = None,
    no_cache: NoCacheOption = False,
    jobs: JobsOption = None,
) -> None:
    """Count notes, links by kind, resolved, broken, ambiguous, external, embeds, orphans, components."""
    from kbmine.errors import ConfigError
    from kbmine.kb import load
    from kbmine.stats import kb_stats

    if fmt not in ("text", "json"):
        raise ConfigError(f"--format must be text or json, not {fmt!r}")
    config = resolve_config(path, {"dialect": dialect})
    kb = load(path, config, use_cache=not no_cache, jobs=jobs)
    counts = kb_stats(kb)
    if fmt == "json":
        from kbmine.report.portable import dumps

        emit(dumps(counts, indent=2) + "\n", None, fmt)
        return
    width = max(len(key) for key in counts)
    for key, value in counts.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
        typer.echo(f"{key.replace('_', ' '):<{width}}  {value}")


@app.command()
def graph(
    path: PathArgument = Path("."),
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"Output format: {', '.join(GRAPH_FORMATS)}.")] = "json",
    dialect: DialectOption = None,
    no_cache: NoCacheOption = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export the link graph (notes, links, unresolved targets) for other tools."""
    from kbmine.errors import ConfigError
    from kbmine.graph import export_graph
    from kbmine.kb import load

    if fmt not in GRAPH_FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(GRAPH_FORMATS)}, not {fmt!r}")
    config = resolve_config(path, {"dialect": dialect})
    kb = load(path, config, use_cache=not no_cache)
    emit(export_graph(kb.graph, fmt), output, fmt)
