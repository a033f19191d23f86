"""The ``kbmine`` command: a thin Typer layer over the library.

Exit codes are decided here and only here: 0 clean, 1 findings, 2 usage,
config or I/O error. Errors print one line; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from kbmine import __version__
from kbmine.errors import KbmineError

__all__ = ["app", "main"]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

app = typer.Typer(
    name="kbmine",
    help="Check, mine and mutate knowledge bases of linked markdown notes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kbmine {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors (for bug reports).")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Check, mine and mutate knowledge bases of linked markdown notes."""
    _state["debug"] = debug or bool(os.environ.get("KBMINE_DEBUG"))


def fail(message: str) -> typer.Exit:
    """Print one error line to stderr and return the exit to raise."""
    typer.echo(f"kbmine: error: {message}", err=True)
    return typer.Exit(EXIT_ERROR)


def _register() -> None:
    from kbmine.cli import cache, check, mine, mutate, rules, specs, stats  # noqa: F401  (commands register on import)


def main() -> None:
    """Console entry point: run the app, turning every error into one line and exit 2.

    Typer (standalone mode) handles usage errors (exit 2), ``typer.Exit`` and
    Ctrl-C itself; what escapes it is ours to translate.
    """
    _register()
    debug = "--debug" in sys.argv or bool(os.environ.get("KBMINE_DEBUG"))
    try:
        app()
    except SystemExit:
        raise
    except KbmineError as exc:
        if debug:
            raise
        typer.echo(f"kbmine: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        typer.echo("kbmine: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        if debug:
            raise
        where = f" {exc.filename}:" if exc.filename else ""
        typer.echo(f"kbmine: error:{where} {exc.strerror or exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # the promise: never a traceback on user input
        if debug:
            raise
        typer.echo(
            f"kbmine: internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)", err=True
        )
        sys.exit(EXIT_ERROR)
