"""Options and helpers shared by several commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kbmine.config import DIALECTS, Config, load_config
from kbmine.errors import ConfigError, InputError

PathArgument = Annotated[
    Path, typer.Argument(help="The KB folder to read (default: the current folder).", show_default=False)
]
DialectOption = Annotated[
    str | None, typer.Option("--dialect", help=f"Link dialect: {', '.join(DIALECTS)} (default: config or obsidian).")
]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Parse every note afresh; do not read or write the cache.")]
JobsOption = Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes for parsing (default: all cores).")]


def kb_folder(path: Path) -> Path:
    """``path`` made absolute, or the one-line error that it is not a folder to work on."""
    if not path.exists():
        raise InputError(f"{path}: no such folder")
    if not path.is_dir():
        raise InputError(f"{path}: not a folder (kbmine works on a folder of notes)")
    return path.resolve()


def resolve_config(path: Path, overrides: dict[str, Any]) -> Config:
    if not path.exists():
        raise ConfigError(f"{path}: no such folder")
    return load_config(path if path.is_dir() else path.parent, overrides)


def progress_callback() -> Any:
    """A rich progress bar on stderr when it is a terminal; otherwise nothing."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("parsing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True,
        console=__import__("rich.console", fromlist=["Console"]).Console(stderr=True),
    )
    task = bar.add_task("parse", total=None)

    def update(done: int, total: int) -> None:
        if total >= 200:
            if not bar.live.is_started:
                bar.start()
            bar.update(task, completed=done, total=total)

    return bar, update


#: Formats read by programs: UTF-8 whatever the locale, as JSON, XML and Graphviz expect.
MACHINE_FORMATS = frozenset({"json", "sarif", "junit", "graphml", "gexf", "dot"})


def emit(report: str | bytes, output: Path | None, fmt: str) -> None:
    """Write a report (text, or text already encoded by :func:`as_written`) to ``output`` or stdout.

    A machine format goes out as UTF-8 bytes even under a Latin-1 or ASCII
    locale; text for people follows the terminal's encoding. A file name that
    is not UTF-8 is written as its own bytes, as the terminal shows it.
    """
    if output is not None or fmt in MACHINE_FORMATS:
        data = as_written(report, output, fmt)
        assert isinstance(data, bytes)
        if output is not None:
            output.write_bytes(data)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
    else:
        sys.stdout.write(report if isinstance(report, str) else report.decode("utf-8", "surrogateescape"))


def as_written(report: str | bytes, output: Path | None, fmt: str) -> str | bytes:
    """``report`` as :func:`emit` writes it: UTF-8 bytes to a file or in a machine format, else text.

    Encoded once, the same bytes go out and into the cache (a report kept as
    bytes pickles and unpickles in a fifth of the time of its text: 4.6 MB of
    JSON for commonplace's findings).
    """
    if isinstance(report, str) and (output is not None or fmt in MACHINE_FORMATS):
        return report.encode("utf-8", "surrogateescape")
    return report


def display_prefix(root: Path) -> str:
    """The KB root relative to the working folder, with a slash, for CI annotations."""
    try:
        relative = os.path.relpath(root, Path.cwd())
    except ValueError:
        return ""
    if relative == "." or relative.startswith(".."):
        return ""
    return relative.replace(os.sep, "/") + "/"
