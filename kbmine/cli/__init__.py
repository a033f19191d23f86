"""The ``kbmine`` command: a thin Typer layer over the library.

Exit codes are decided here and only here: 0 clean, 1 findings, 2 usage,
config or I/O error. Errors print one line; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import codecs
import io
import os
import signal
import sys
from typing import Annotated, Any

# kbmine does no linear algebra, and OpenBLAS's idle threads spin: a tenth of a second of
# CPU in a check after a one-note edit, taken from the rule running beside them. Only
# numpy imported after this reads it, so it is set before anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer

try:  # Typer vendors click since 0.20; older releases use click itself.
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, NoArgsIsHelpError  # type: ignore[no-redef,import-not-found]

from kbmine import __version__
from kbmine.errors import KbmineError

__all__ = ["app", "hold_until_exit", "main", "run"]

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


#: The module that registers each command. Only the invoked command's module is
#: imported: a warm ``kbmine check`` finishes in about half a second, and the
#: other modules' imports and Typer's per-parameter set-up were a fifth of it.
_COMMAND_MODULES = {
    "cache": "cache",
    "check": "check",
    "mine": "mine",
    "mutate": "mutate",
    "review": "mutate",
    "rules": "rules",
    "explain": "rules",
    "specs": "specs",
    "stats": "stats",
    "graph": "stats",
}


def _register(argv: list[str]) -> None:
    """Import the module of the command named in ``argv``, or all of them (help, a typo)."""
    import importlib

    command = next((arg for arg in argv if not arg.startswith("-")), None)
    wanted = [_COMMAND_MODULES[command]] if command in _COMMAND_MODULES else list(dict.fromkeys(_COMMAND_MODULES.values()))
    for module in wanted:
        importlib.import_module(f"kbmine.cli.{module}")  # commands register on import


def _terminate_like_ctrl_c(main_pid: int) -> Any:
    """A SIGTERM handler (a CI timeout, ``kill``) that unwinds like Ctrl-C, so ``finally`` blocks run.

    Killed outright, ``kbmine mutate`` would leave its throwaway worktree
    registered in ``.git/worktrees``. Worker processes inherit the handler
    and must still just end when their pool terminates them.
    """

    def terminate(signum: int, frame: object) -> None:
        if os.getpid() != main_pid:
            os._exit(128 + signum)
        raise KeyboardInterrupt

    return terminate


#: What the finishing command left to the end of the process (see :func:`run`); ``None`` when
#: kbmine runs inside another program (tests, a script calling :func:`main`), which goes on after it.
_held: list[Any] | None = None


def hold_until_exit(kb: Any) -> None:
    """Keep ``kb`` (a :class:`kbmine.kb.KB`) until the process ends, for :func:`run` to close."""
    if _held is not None:
        _held.append(kb)


def run() -> None:
    """The process's entry point (``kbmine``, ``python -m kbmine``): :func:`main`, then an exit
    that leaves the memory to the operating system.

    After a one-note edit a check holds millions of objects (notes, mention
    scans, findings); freeing them one by one, then finalising every module,
    took 0.2-0.3 s wall on commonplace, a tenth to a fifth of the run (mypy ends the same
    way, for the same reason). What a normal exit does that matters is done
    first: the held KBs' caches are closed (sqlite folds its write-ahead log
    back into the database on the last close) and the output streams flushed.
    Only a command that held its KB ends so: the others may leave files to
    the interpreter to flush and close.
    """
    global _held
    _held = []
    code: str | int | None = EXIT_CLEAN
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    # The command is done (or has cleaned up after Ctrl-C): an interrupt now would only land in
    # the interpreter's clean-up, inside some finalizer (GitPython's config parsers), and print
    # its traceback as "Exception ignored".
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _held or not isinstance(code, int):
        sys.exit(code)
    for kb in _held:
        if kb.cache is not None:
            kb.cache.close()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let the interpreter report it as it would
        sys.exit(code)
    os._exit(code)


def main() -> None:
    """Run the app, turning every error into one line and exit 2.

    Typer runs outside its standalone mode so that usage errors (an unknown
    option, a bad value) reach us too and print as one line like every other
    error, instead of a framed usage box; ``typer.Exit`` comes back as the
    exit code and Ctrl-C as 130.
    """
    _register(sys.argv[1:])
    _tolerant_output()
    debug = "--debug" in sys.argv or bool(os.environ.get("KBMINE_DEBUG"))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # ``python -m kbmine`` let it kill the import
    signal.signal(signal.SIGTERM, _terminate_like_ctrl_c(os.getpid()))
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help())
        sys.exit(EXIT_ERROR)
    except ClickException as exc:
        context = getattr(exc, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        typer.echo(f"kbmine: error: {exc.format_message()}{hint}", err=True)
        sys.exit(EXIT_ERROR)
    except typer.Abort:
        typer.echo("kbmine: interrupted", err=True)
        sys.exit(130)
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
    sys.exit(code if isinstance(code, int) else EXIT_CLEAN)


def _tolerant_output() -> None:
    """Let stdout and stderr write any file name and any text.

    A name that is not UTF-8 reaches the output as lone surrogates
    (``surrogateescape``): on a UTF-8 stream they go out as the name's own
    bytes, as ``ls`` and git print them; a stream in another encoding shows
    what it cannot encode as a backslash escape rather than failing the run.
    A stream closed before the start (``kbmine check >&-``) is ``None`` in
    Python: what would go there is dropped, and the exit code still tells.
    """
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (open until the process ends)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            utf8 = codecs.lookup(stream.encoding).name == "utf-8"
            stream.reconfigure(errors="surrogateescape" if utf8 else "backslashreplace")
