"""``kbmine cache``: inspect or clear the parse cache."""

from __future__ import annotations

from pathlib import Path

import typer

from kbmine.cli import app
from kbmine.cli._common import PathArgument, kb_folder

cache_app = typer.Typer(help="Manage the parse cache (.kbmine/cache.sqlite).", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("clear")
def clear(path: PathArgument = Path(".")) -> None:
    """Delete every cached parse of the KB at PATH."""
    from kbmine.cache import default_cache_path, remove_cache

    target = default_cache_path(kb_folder(path))
    typer.echo(f"cleared {target}" if remove_cache(target) else f"no cache at {target}")


@cache_app.command("path")
def where(path: PathArgument = Path(".")) -> None:
    """Print where the cache of the KB at PATH lives."""
    from kbmine.cache import default_cache_path

    typer.echo(str(default_cache_path(kb_folder(path))))
