#!/usr/bin/env python3
"""The abuse battery: hostile knowledge bases thrown at every kbmine command.

Each case builds a hostile KB in a fresh temporary folder::

    <tmp>/kb/         the KB under test (the PATH given to kbmine)
    <tmp>/sentinel/   a folder next to the KB holding a secret; must stay untouched
    <tmp>/home/       HOME and XDG_CACHE_HOME of the kbmine process
    <tmp>/tmp/        TMPDIR of the kbmine process
    <tmp>/out/        captured stdout/stderr (written by this script)

and runs every command on it as a subprocess (``python -m kbmine``) with a
10 s timeout: the case's own commands (check in three formats, stats, graph,
cache), then three phases: ``specs`` (mine, dry and real, specs list, show,
accept, and check with the accepted spec), ``outside-git`` (mutate and
review on a KB outside any repository: exit 2 saying so) and ``in-git``
(the harness commits the hostile KB with two unlinked mentions to a fresh
repository, or uses the case's own odd repository, and runs mutate --dry-run,
mutate, review list/show/reject/accept and check, then ``git fsck``).
One line per (case, command)::

    PASS  frontmatter/invalid-yaml   check-text   exit=1   0.52s  rss=  48MiB  traceback=no

then a last line ``N passed, N failed``. A (case, command) passes when

- it exits in time (10 s) with the expected code: 0/1 (clean/findings), or 2
  where an error is the documented outcome, and then stderr is exactly one
  line ``kbmine: error: ...`` (never ``internal error``) naming what it must;
- no ``Traceback (most recent call last)`` appears on stdout or stderr;
- peak RSS (``getrusage(RUSAGE_CHILDREN)`` of kbmine, printed per command) stays under 1 GiB;
- JSON output (``--format json``) is strict JSON (no NaN/Infinity) of the
  documented shape, and graphml/gexf output is well-formed XML;
- nothing changed in the sentinel folder or next to the KB, the KB's bytes,
  modes and file set are unchanged (``.kbmine/`` excepted, and what the
  command promises: ``kbmine.specs.yaml`` for mine and specs accept, the
  fixes' files for review accept), nothing is left in TMPDIR, the secret and
  ``/etc/passwd`` never show in any output, no ``!!python`` payload ran, and
  no child process is left running;
- in a git repository: HEAD, the index, every ref and every file of the git
  directory (objects, reflogs and kbmine's own ``.git/kbmine`` aside) are
  unchanged, except that mutate and review reject may move ``kbmine/review``
  (only ever to whole kbmine fixes) and review accept may move the current
  branch forward; ``git fsck`` stays clean;
- no write of kbmine or any process it starts lands outside the case folder:
  every file-changing system call is traced with ``strace -f`` (where strace
  works; ``--no-trace`` turns it off) and its path checked;
- cached and ``--no-cache`` runs report the same findings, and the three
  check formats agree on the exit code.

Running as root, kbmine is started through ``setpriv`` without
CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH, so file permissions (``chmod 000``,
read-only KB) are enforced as for a normal user; if that is impossible the
permission cases are reported as skipped.

Usage::

    python scripts/abuse.py                 # every case, full sizes
    python scripts/abuse.py --small         # smaller big-file cases (as in pytest)
    python scripts/abuse.py -k links/ -k git/   # only cases whose name contains one of these
    python scripts/abuse.py --list          # list the cases
    python scripts/abuse.py --keep          # keep the temporary folders (printed)
    python scripts/abuse.py --small --quick --timeout 60 --cpu-limit 10   # as pytest runs it

``tests/robustness/`` imports this file (``CASES``, ``run_case``) and runs the
same cases under pytest, small and quick, with the 10 s budget counted in CPU
seconds (a test machine shared with other jobs makes wall time meaningless)
and a 60 s wall-clock guard against hangs.
"""

from __future__ import annotations

import argparse
import codecs
import functools
import hashlib
import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

TIMEOUT = 10.0
RSS_LIMIT_KIB = 1024 * 1024  # 1 GiB
#: Address-space cap of each kbmine process: far above the RSS limit, low enough to protect the machine.
ADDRESS_SPACE_CAP = 4 * 1024**3
TRACEBACK = b"Traceback (most recent call last)"
SECRET = "KBMINE-SENTINEL-SECRET-5f1d2c9e"
TOP_LEVEL = frozenset({"kb", "sentinel", "home", "tmp", "out"})
OK = frozenset({0, 1})
ERROR = frozenset({2})


def _passwd_marker() -> str | None:
    """A line of /etc/passwd that must never show in kbmine's output."""
    try:
        with open("/etc/passwd", encoding="utf-8", errors="replace") as handle:
            first = handle.readline().strip()
    except OSError:
        return None
    return first or None


PASSWD_LINE = _passwd_marker()


# ---------------------------------------------------------------------------
# commands


@dataclass(frozen=True)
class Command:
    """One kbmine invocation.

    ``{kb}`` in ``args`` is replaced by the case's PATH argument, ``{spec}``
    by a spec id the case's ``mine`` proposed, ``{fix}``/``{fix-last}`` by
    the first/last commit its ``mutate`` made. Without such an id the
    command gets one that names nothing and must fail with exit 2.
    """

    name: str
    args: tuple[str, ...]
    output: str | None = None  # what stdout must be: check-json, stats-json, graph-json, xml, json
    #: Exit codes when the case does not say otherwise.
    expect: frozenset[int] = frozenset({0, 1})
    #: What its exit-2 line must name when ``expect`` (not the case) decided the outcome.
    mentions: tuple[str, ...] = ()
    #: Top-level names in the KB this command may write (``kbmine.specs.yaml`` for mine and accept).
    changes: tuple[str, ...] = ()
    #: What it may do to the git repository holding the KB: nothing, move the review
    #: branch (``review``), or move the current branch forward by cherry-picks (``accept``).
    git: str = "none"


CHECK_TEXT = Command("check-text", ("check", "{kb}", "--format", "text"))
CHECK_JSON = Command("check-json", ("check", "{kb}", "--format", "json"), "check-json")
CHECK_GITHUB = Command("check-github", ("check", "{kb}", "--format", "github"))
STATS_JSON = Command("stats-json", ("stats", "{kb}", "--format", "json"), "stats-json")
GRAPH_JSON = Command("graph-json", ("graph", "{kb}", "--format", "json"), "graph-json")
CHECK_JSON_NOCACHE = Command("check-json-nocache", ("check", "{kb}", "--format", "json", "--no-cache"), "check-json")
CACHE_CLEAR = Command("cache-clear", ("cache", "clear", "{kb}"))

#: The commands the issue asks for, on every case.
CORE = (CHECK_TEXT, CHECK_JSON, CHECK_GITHUB, STATS_JSON, GRAPH_JSON)
#: Cache consistency and ``cache clear``: the script runs them on every case, pytest where they matter.
EXTRA = (CHECK_JSON_NOCACHE, CACHE_CLEAR)
ALL = CORE + EXTRA
#: What pytest (``--quick``) runs on a case unless the case says otherwise: the whole
#: pipeline once (parse, every rule, the JSON contract) and the graph export. The text
#: formats only re-print the same findings (a second check is a findings-cache hit), so
#: pytest runs them where names, targets or messages are odd (``quick_commands=CORE``).
#: Every kbmine start costs half a second of CPU, and pytest must stay quick.
QUICK = (CHECK_JSON, GRAPH_JSON)
#: For the cache cases: a run that writes the cache, runs that read it, and ``cache clear``.
CACHE_QUICK = (CHECK_JSON, CHECK_TEXT, STATS_JSON, CACHE_CLEAR)

#: A spec or fix id that names nothing (used when the case has none to offer).
NO_SUCH_ID = "0000dead"
#: ``--min-support 2`` so that the small hostile KBs yield specs to show and accept.
_MINE = ("mine", "{kb}", "--format", "json", "--min-support", "2")
MINE_DRY = Command("mine-dry-run", (*_MINE, "--dry-run"), "mine-json")
#: Mined on every note (no holdout), so that even a KB of five notes yields specs.
MINE = Command("mine", (*_MINE, "--holdout", "0"), "mine-json", changes=("kbmine.specs.yaml",))
SPECS_LIST = Command("specs-list", ("specs", "list", "{kb}", "--format", "json"), "json")
SPECS_SHOW = Command("specs-show", ("specs", "show", "{spec}", "-p", "{kb}", "--format", "json"), "json")
SPECS_ACCEPT = Command("specs-accept", ("specs", "accept", "{spec}", "-p", "{kb}"), changes=("kbmine.specs.yaml",))
#: The accepted spec checked on the hostile notes (its findings differ from the plain check's).
CHECK_ACCEPTED = Command("check-accepted", ("check", "{kb}", "--format", "json"), "check-json")
#: Mining and reviewing specs: every case whose PATH is a KB, after the commands above.
SPECS = (MINE_DRY, MINE, SPECS_LIST, SPECS_SHOW, SPECS_ACCEPT, CHECK_ACCEPTED)

_GIT = frozenset({2})
MUTATE_DRY = Command("mutate-dry-run", ("mutate", "{kb}", "--dry-run", "--format", "json"), "json", git="none")
MUTATE = Command("mutate", ("mutate", "{kb}", "--format", "json"), "json", git="review")
REVIEW_LIST = Command("review-list", ("review", "list", "-C", "{kb}", "--format", "json"), "json")
REVIEW_SHOW = Command("review-show", ("review", "show", "{fix}", "-C", "{kb}"))
REVIEW_REJECT = Command("review-reject", ("review", "reject", "{fix-last}", "-C", "{kb}"), git="review")
REVIEW_ACCEPT = Command("review-accept", ("review", "accept", "--all", "-C", "{kb}"), git="accept")
#: The KB as accepting left it, checked again.
CHECK_AFTER_ACCEPT = Command("check-after-accept", ("check", "{kb}", "--format", "json"), "check-json")
#: mutate and review on a KB that is not in a git repository: exit 2 saying so.
OUTSIDE_GIT = tuple(
    replace(command, name=command.name + "-no-git", expect=_GIT, mentions=("git",))
    for command in (MUTATE_DRY, MUTATE, REVIEW_LIST, REVIEW_SHOW, REVIEW_ACCEPT)
)
#: mutate and review once the harness has committed the case's KB to a fresh repository
#: (with two notes that mention each other unlinked, so there are fixes to review).
IN_GIT = (MUTATE_DRY, MUTATE, REVIEW_LIST, REVIEW_SHOW, REVIEW_REJECT, REVIEW_ACCEPT, CHECK_AFTER_ACCEPT)
#: The phases after a case's own commands: ``specs``, ``outside-git`` (SPECS, OUTSIDE_GIT)
#: and ``in-git`` (IN_GIT, in a repository the harness makes).
PHASES = ("specs", "outside-git", "in-git")


# ---------------------------------------------------------------------------
# cases


@dataclass
class Ctx:
    """The folders of one case and what the build wants checked."""

    tmp: Path
    small: bool
    target: str = ""
    env_extra: dict[str, str] = field(default_factory=dict)
    kb_mutable: bool = False  # the case itself changes the KB while kbmine runs
    extra_top: set[str] = field(default_factory=set)  # more allowed names next to the KB
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def kb(self) -> Path:
        return self.tmp / "kb"

    @property
    def sentinel(self) -> Path:
        return self.tmp / "sentinel"

    @property
    def home(self) -> Path:
        return self.tmp / "home"

    @property
    def out(self) -> Path:
        return self.tmp / "out"

    @property
    def marker(self) -> Path:
        """Created by a ``!!python`` payload if it ever executes."""
        return self.tmp / "PWNED"

    def size(self, full: int, small: int) -> int:
        return small if self.small else full

    def write(self, relative: str | bytes, content: str | bytes) -> Path:
        """Write a file under the KB (text as UTF-8 bytes, exactly as given)."""
        if isinstance(relative, bytes):
            target_bytes = os.fsencode(self.kb) + b"/" + relative
            os.makedirs(os.path.dirname(target_bytes), exist_ok=True)
            with open(target_bytes, "wb") as handle:
                handle.write(content if isinstance(content, bytes) else content.encode("utf-8"))
            return Path(os.fsdecode(target_bytes))
        target = self.kb / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return target


Builder = Callable[[Ctx], "str | None"]  # returns a reason to skip, or None


@dataclass
class Case:
    name: str
    build: Builder
    commands: tuple[Command, ...] = ALL
    #: Acceptable exit codes: one set for all commands, or per command name (default: the command's own).
    expect: frozenset[int] | dict[str, frozenset[int]] = OK
    #: Substrings the one error line must contain when the exit code is 2.
    mentions: tuple[str, ...] = ()
    slow: bool = False
    #: Strings that must never appear on stdout (e.g. paths only reachable through a symlink out of the KB).
    forbidden: tuple[str, ...] = ()
    #: Commands pytest runs (default: those of QUICK this case has).
    quick_commands: tuple[Command, ...] | None = None
    runner: Callable[[Case, Ctx, Harness], list[Result]] | None = None
    doc: str = ""
    #: The PHASES the script runs after the case's commands (default: all three when the
    #: case runs the usual commands on a KB, none for cases that test one command's options).
    phases: tuple[str, ...] | None = None
    #: A bug this case finds that is reported but not fixed yet: pytest expects the case to fail.
    known_bug: str = ""
    #: The phases pytest runs (each costs a few kbmine starts: only where they test something new;
    #: tests/robustness/test_git_edges.py covers the odd git states the script runs in full).
    quick_phases: tuple[str, ...] = ()

    def expected(self, command: Command) -> tuple[frozenset[int], tuple[str, ...]]:
        """The exit codes ``command`` may end with here, and what an exit-2 line must name."""
        if isinstance(self.expect, dict):
            if command.name in self.expect:
                return self.expect[command.name], self.mentions
            return command.expect, command.mentions
        if self.expect == ERROR:  # the case fails every command (a bad PATH, say): for its reason
            return self.expect, self.mentions
        if command.expect == ERROR:  # the command fails for its own reason (no repository, no such id)
            return self.expect | ERROR, command.mentions
        if self.expect == OK:
            return command.expect, command.mentions
        return self.expect, self.mentions

    def commands_for(self, quick: bool) -> tuple[Command, ...]:
        if not quick:
            return self.commands
        if self.quick_commands is not None:
            return self.quick_commands
        return tuple(c for c in self.commands if c in QUICK) or self.commands

    def phases_for(self, quick: bool) -> tuple[str, ...]:
        if quick:
            return self.quick_phases
        if self.phases is not None:
            return self.phases
        return PHASES if self.commands == ALL and self.runner is None else ()


CASES: dict[str, Case] = {}


def case(name: str, **options: Any) -> Callable[[Builder], Builder]:
    """Register the decorated builder as case ``name`` (``group/what``)."""

    def register(build: Builder) -> Builder:
        if name in CASES:
            raise RuntimeError(f"case {name} registered twice")
        CASES[name] = Case(name, build, doc=(build.__doc__ or "").strip(), **options)
        return build

    return register


def _plain_notes(ctx: Ctx) -> None:
    """A couple of well-formed notes so every KB has something normal in it too."""
    ctx.write("good.md", "---\ntitle: Good\naliases: [fine]\n---\n# Good\n\nSee [[other]] and [other](other.md#other).\n")
    ctx.write("other.md", "# Other\n\nBack to [[good]].\n")


# -- frontmatter -------------------------------------------------------------


@case("frontmatter/invalid-yaml", quick_commands=CORE, quick_phases=("specs",))
def _fm_invalid_yaml(ctx: Ctx) -> None:
    """YAML that does not parse, in several ways, one note each."""
    _plain_notes(ctx)
    ctx.write("unclosed-flow.md", "---\ntitle: [unclosed\ntags: x\n---\n# A\n[[good]]\n")
    ctx.write("unterminated-quote.md", "---\ntitle: 'never closed\n---\n# B\n")
    ctx.write("bad-indent.md", "---\na: 1\n  b: 2\n c: 3\n---\n# C\n")
    ctx.write("colons.md", "---\n: : :\n- x\ny: z\n---\n")
    ctx.write("unhashable-key.md", "---\n? [a, b]\n: 1\n? {c: d}\n: 2\n---\n")
    ctx.write("undefined-alias.md", "---\na: *nowhere\n---\n")
    ctx.write("unknown-tag.md", "---\na: !custom thing\nb: !!str ok\n---\n")
    ctx.write("two-documents.md", "---\na: 1\n---\nb: 2\n---\n")
    ctx.write("control-chars.md", "---\ntitle: \"bell \x07 and \x1b escape\"\n---\n")
    ctx.write("binary-tag.md", "---\nb: !!binary not-base64!!\n---\n")
    return None


@case("frontmatter/yaml-list")
def _fm_list(ctx: Ctx) -> None:
    """Frontmatter that is a YAML list, not a mapping."""
    _plain_notes(ctx)
    ctx.write("list.md", "---\n- a\n- b\n- [[good]]\n---\n# List\n")
    ctx.write("nested-list.md", "---\n- - - x\n---\n")
    return None


@case("frontmatter/yaml-scalar")
def _fm_scalar(ctx: Ctx) -> None:
    """Frontmatter that is a scalar (string, number, null, bool) or empty."""
    _plain_notes(ctx)
    ctx.write("string.md", "---\njust a string\n---\n# S\n")
    ctx.write("number.md", "---\n42\n---\n")
    ctx.write("null.md", "---\nnull\n---\n")
    ctx.write("bool.md", "---\ntrue\n---\n")
    ctx.write("empty.md", "---\n---\n# Empty fm\n")
    ctx.write("blank.md", "---\n\n\n---\n")
    ctx.write("comment-only.md", "---\n# just a comment\n---\n")
    return None


@case("frontmatter/duplicate-keys")
def _fm_duplicates(ctx: Ctx) -> None:
    """Duplicate keys at the top level, nested, and through merge keys."""
    _plain_notes(ctx)
    ctx.write("dup.md", "---\ntitle: A\ntitle: B\ntags: [x]\ntags: [y]\n---\n# D\n")
    ctx.write("nested-dup.md", "---\na:\n  b: 1\n  b: 2\n---\n")
    ctx.write("merge.md", "---\nbase: &base {x: 1, y: 2}\nchild:\n  <<: *base\n  x: 3\n  <<: *base\n---\n")
    ctx.write("many-dups.md", "---\n" + "k: v\n" * 5000 + "---\n")
    return None


@case("frontmatter/tabs")
def _fm_tabs(ctx: Ctx) -> None:
    """Tabs in YAML indentation (forbidden by YAML) and as separators."""
    _plain_notes(ctx)
    ctx.write("tab-indent.md", "---\ntitle: x\n\tindented: y\n---\n# T\n")
    ctx.write("tab-list.md", "---\na:\n\t- b\n---\n")
    ctx.write("tab-separator.md", "---\ntitle:\tvalue\ttabbed\n---\n")
    ctx.write("tab-fence.md", "---\t\ntitle: x\n---\t\n")
    return None


@case("frontmatter/alias-bomb", quick_phases=("specs", "in-git"))
def _fm_alias_bomb(ctx: Ctx) -> None:
    """The YAML "billion laughs": nine levels of nine aliases each."""
    _plain_notes(ctx)
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    ctx.write("bomb.md", "---\n" + "\n".join(lines) + "\n---\n# Bomb\n[[good]]\n")
    # A quieter bomb hidden under a key rules look at.
    ctx.write(
        "bomb-aliases.md",
        "---\nx: &x [a, b, c, d, e, f, g, h, i, j]\ny: &y [*x, *x, *x, *x, *x, *x, *x, *x, *x, *x]\n"
        "z: &z [*y, *y, *y, *y, *y, *y, *y, *y, *y, *y]\naliases: [*z, *z, *z, *z, *z, *z, *z, *z, *z, *z]\n---\n",
    )
    return None


@case("frontmatter/deep-nesting")
def _fm_deep(ctx: Ctx) -> None:
    """10k levels of nested flow sequences and mappings; 1k levels of block mappings."""
    _plain_notes(ctx)
    depth = 10_000
    ctx.write("deep-seq.md", "---\na: " + "[" * depth + "]" * depth + "\n---\n# Deep\n")
    ctx.write("deep-map.md", "---\na: " + "{b: " * depth + "c" + "}" * depth + "\n---\n")
    ctx.write("deep-unbalanced.md", "---\na: " + "[" * depth + "\n---\n")
    block = "".join("  " * level + f"k{level}:\n" for level in range(1000)) + "  " * 1000 + "leaf\n"
    ctx.write("deep-block.md", "---\n" + block + "---\n")
    ctx.write("deep-anchor.md", "---\na: &x " + "[" * 200 + "1" + "]" * 200 + "\nb: [*x, *x, *x]\n---\n")
    return None


@case("frontmatter/python-tag", quick_phases=("specs", "in-git"))
def _fm_python_tag(ctx: Ctx) -> None:
    """``!!python/...`` tags that would run a command if ever constructed (they must not)."""
    _plain_notes(ctx)
    marker = str(ctx.marker)
    payloads = {
        "apply-os-system.md": f'x: !!python/object/apply:os.system ["touch {marker}"]',
        "apply-subprocess.md": f'x: !!python/object/apply:subprocess.call [["touch", "{marker}"]]',
        "new-os-system.md": f'x: !!python/object/new:os.system ["touch {marker}"]',
        "whole-document.md": f'!!python/object/apply:os.system ["touch {marker}"]',
        "name.md": "x: !!python/name:os.system",
        "module.md": "x: !!python/module:os",
        "in-title.md": f'title: !!python/object/apply:os.system ["touch {marker}"]',
        "in-aliases.md": f'aliases: [!!python/object/apply:os.system ["touch {marker}"]]',
        "local-tag.md": f'x: !<tag:yaml.org,2002:python/object/apply:os.system> ["touch {marker}"]',
    }
    for name, payload in payloads.items():
        ctx.write(name, f"---\n{payload}\n---\n# {name}\n")
    return None


@case("frontmatter/odd-dates")
def _fm_odd_dates(ctx: Ctx) -> None:
    """Dates YAML's timestamp pattern matches but the calendar rejects, and other odd ones."""
    _plain_notes(ctx)
    values = {
        "feb-30": "2024-02-30",
        "year-zero": "0000-01-01",
        "month-13": "2024-13-01",
        "month-zero": "2024-00-10",
        "not-leap": "2023-02-29",
        "hour-25": "2021-01-01T25:00:00",
        "leap-second": "2016-12-31T23:59:60Z",
        "tz-overflow": "2024-01-01T00:00:00+25:00",
        "short": "2024-1-1",
        "five-digit-year": "99999-01-01",
        "valid-leap": "2024-02-29",
        "far-future": "9999-12-31T23:59:59.999999999Z",
    }
    for name, value in values.items():
        ctx.write(f"date-{name}.md", f"---\ndate: {value}\ntitle: {name}\n---\n# {name}\n[[good]]\n")
    ctx.write("date-key.md", "---\n2024-02-30: as a key\n---\n")
    ctx.write("date-in-list.md", "---\ndates: [2024-01-01, 2024-02-30]\n---\n")
    ctx.write("date-title.md", "---\ntitle: 2024-02-30\naliases: [2024-02-30]\n---\n")
    ctx.write("toml-date.md", "+++\ndate = 2024-02-30\n+++\n# toml\n")
    ctx.write("toml-time.md", "+++\nt = 24:00:00\n+++\n")
    return None


@case("frontmatter/special-floats")
def _fm_special_floats(ctx: Ctx) -> None:
    """NaN and infinities in frontmatter (JSON has no such numbers)."""
    _plain_notes(ctx)
    ctx.write("floats.md", "---\na: .nan\nb: .inf\nc: -.inf\nd: 1.0e+400\ntitle: .nan\n---\n# F\n[[good]]\n")
    ctx.write("toml-floats.md", "+++\nx = nan\ny = inf\nz = -inf\n+++\n")
    return None


@case("frontmatter/odd-values", quick_commands=CORE)
def _fm_odd_values(ctx: Ctx) -> None:
    """Non-string keys and titles/aliases of the wrong type."""
    _plain_notes(ctx)
    ctx.write("keys.md", "---\n1: a\nnull: c\ntrue: d\n1.5: e\n---\n")
    ctx.write("title-list.md", "---\ntitle: [a, b]\naliases: {a: 1}\n---\n# H\n")
    ctx.write("aliases-mixed.md", "---\naliases: [1, null, '', '  ', [nested], '[[good]]']\nalias: 5\n---\n")
    ctx.write("aliases-comma.md", "---\naliases: 'a, b, , c'\n---\n")
    ctx.write("set.md", "---\ntags: !!set {a, b}\nblob: !!binary aGVsbG8=\nts: !!timestamp 2001-12-14\n---\n")
    ctx.write("huge-string.md", "---\ntitle: " + "x" * 200_000 + "\n---\n")
    ctx.write("wikilinks-in-fm.md", "---\nup: '[[good]]'\nrel: ['[[other]]', '[[missing]]', '![[embed]]']\nnested: {a: {b: '[[good#Good]]'}}\n---\n")
    return None


@case("frontmatter/huge-integers")
def _fm_huge_integers(ctx: Ctx) -> None:
    """Integers past Python's 4300-digit print limit: hex and octal YAML (loaded without the check), as a key, in TOML."""
    _plain_notes(ctx)
    ctx.write("hex.md", "---\ntitle: Hex\nn: 0x" + "f" * 5000 + "\n---\n# Hex\n[[good]]\n")
    ctx.write("octal.md", "---\nn: [0" + "7" * 6000 + "]\n---\n")
    ctx.write("key.md", "---\n? 0x" + "f" * 5000 + "\n: key\n---\n")
    ctx.write("toml-decimal.md", "+++\nn = " + "9" * 5000 + "\n+++\n")
    ctx.write("toml-hex.md", "+++\nn = 0x" + "f" * 5000 + "\n+++\n")
    ctx.write("just-fits.md", "---\nstatus: draft\nn: 0x" + "f" * 3000 + "\n---\n# Fits\n")
    return None


@case("frontmatter/merge-keys-and-odd-types", quick_commands=(CHECK_JSON,))
def _fm_merge_and_types(ctx: Ctx) -> None:
    """Merge keys (``<<:``) into title/status/aliases, titles, aliases and statuses of every YAML type,
    fences with trailing spaces or CRLF, a BOM before the fence, frontmatter with no body."""
    _plain_notes(ctx)
    ctx.write("merge.md", "---\nbase: &b {title: Merged, status: draft, aliases: [m1]}\n<<: *b\n---\n# Merge\n[[good]]\n")
    ctx.write("merge-list.md", "---\na: &a {x: 1}\nb: &b {status: done}\n<<: [*a, *b]\ntitle: ML\n---\n")
    ctx.write("merge-bad.md", "---\n<<: 5\ntitle: x\n---\n")
    ctx.write("complex-key.md", "---\n? [a]\n: b\n1: one\ntitle: C\n---\n")
    for kind, value in {"list": "[x, y]", "dict": "{a: b}", "number": "42", "null": "", "bool": "yes", "date": "2024-01-01"}.items():
        ctx.write(f"title-{kind}.md", f"---\ntitle: {value}\naliases: {value}\nstatus: {value}\n---\n# T {kind}\n[[good]]\n")
    ctx.write("aliases-nested.md", "---\naliases: [[a, [b]], {c: d}, 1, 2.5, true, null]\n---\n")
    ctx.write("bom-fm.md", codecs.BOM_UTF8 + "---\ntitle: Bom\nstatus: draft\n---\n# Bom\n[[good]]\n".encode())
    ctx.write("trailing-space-fence.md", "---   \ntitle: TS\n---  \n# TS\n[[other]]\n")
    ctx.write("crlf-fm.md", "---\r\ntitle: CR\r\naliases: [crx]\r\n---\r\n# CR\r\n[[good]]\r\n")
    ctx.write("fm-only.md", "---\ntitle: Only\n---")
    ctx.write("toml-odd.md", "+++\ntitle = 'T'\naliases = 'str'\nstatus = 5\n+++\n# T\n")
    return None


@case("links/odd-combinations", quick_commands=(CHECK_JSON,))
def _links_odd_combinations(ctx: Ctx) -> None:
    """Wikilinks mixing ``|``, ``#`` and ``^``, self-links, links in tables and footnotes, HTML
    anchors, links to folders, ``..`` that stays inside, percent-escapes, NFC links to an NFD name."""
    _plain_notes(ctx)
    ctx.write("blocks.md", "# Blocks\n\n## Sub Head\n\npara ^blk1\n")
    nfd = unicodedata.normalize("NFD", "café")
    ctx.write(f"{nfd}.md", "# Café\n")
    odd = [
        "[[blocks|x#y]]", "[[blocks#Sub Head|alias]]", "[[blocks#^blk1|x]]", "[[blocks^blk1]]", "[[blocks#Sub Head#^blk1]]",
        "[[#Links]] [[#^nope]] [[links]] [self](links.md#links)", "![[image.png|100x200]] ![[blocks#Sub Head|100x]]",
        "[a](<blocks.md>) [c](blocks%2emd) [d](%2e%2e/kb/blocks.md) [e](./%2E%2E/x.md) [g](C:\\x\\y.md) [h](C:/x/y.md)",
        "[ref][BLOCKS REF] [ref2][blocks ref]",
        "| a | [[blocks]] |\n|---|---|\n| [x](other.md) | [[blocks\\|alias]] |",
        "text[^1]\n\n[^1]: see [[other]] and [y](blocks.md)",
        "<a href=\"blocks.md\">x</a> <a href='../sentinel/secret.md'>y</a>",
        "[folder](sub/) [folder2](sub) [[sub]] [root](/) [dot](.)",
        f"[[café]] [nfc](café.md) [[{nfd}]] [nfd]({nfd}.md)",
        "[in](sub/../blocks.md) [in2](./sub/./../other.md#other) [[sub/../blocks]]",
        "[enc](bl%6Fcks.md) [percent](100%.md) [pct2](a%2Fb.md) [[a\nb]] [[blocks\tx]]",
    ]
    ctx.write("links.md", "# Links\n\n" + "\n\n".join(odd) + "\n\n[blocks ref]: blocks.md\n")
    ctx.write("sub/x.md", "# X\n[[../blocks]] [up](../blocks.md)\n")
    return None


@case("frontmatter/unclosed-fence")
def _fm_unclosed(ctx: Ctx) -> None:
    """Frontmatter fences that are never closed."""
    _plain_notes(ctx)
    ctx.write("unclosed.md", "---\ntitle: x\n# body\n[[good]]\n")
    ctx.write("unclosed-toml.md", "+++\ntitle = 'x'\n# body\n")
    ctx.write("fence-only.md", "---")
    ctx.write("fence-newline.md", "---\n")
    ctx.write("dots-close.md", "---\ntitle: dots\n...\n# Body\n")
    ctx.write("four-dashes.md", "----\ntitle: x\n----\n")
    ctx.write("late-fence.md", "\n---\ntitle: x\n---\n")
    return None


@case("frontmatter/toml")
def _fm_toml(ctx: Ctx) -> None:
    """``+++`` TOML frontmatter: valid, invalid, and unusual."""
    _plain_notes(ctx)
    ctx.write("valid.md", "+++\ntitle = \"Toml\"\naliases = [\"tee\"]\nup = \"[[good]]\"\n+++\n# Toml\n[[tee]]\n")
    ctx.write("invalid.md", "+++\ntitle = \n+++\n")
    ctx.write("duplicate.md", "+++\na = 1\na = 2\n+++\n")
    ctx.write("tables.md", "+++\n[[items]]\nname = 'a'\n[[items]]\nname = '[[other]]'\n[deep.er.table]\nx = 1\n+++\n")
    ctx.write("datetime.md", "+++\nwhen = 1979-05-27T07:32:00-08:00\nlocal = 1979-05-27\n+++\n")
    ctx.write("deep-toml.md", "+++\na = " + "[" * 3000 + "]" * 3000 + "\n+++\n")
    ctx.write("inline-table.md", "+++\na = " + "{b = " * 500 + "1" + "}" * 500 + "\n+++\n")
    return None


@case("frontmatter/huge", slow=True)
def _fm_huge(ctx: Ctx) -> None:
    """A frontmatter block with hundreds of thousands of keys."""
    _plain_notes(ctx)
    keys = ctx.size(200_000, 30_000)
    ctx.write("huge-fm.md", "---\n" + "".join(f"key{i}: value {i}\n" for i in range(keys)) + "---\n# Huge\n")
    return None


# -- bytes -------------------------------------------------------------------


@case("bytes/latin-1", quick_commands=CORE)
def _bytes_latin1(ctx: Ctx) -> None:
    """A note saved as Latin-1 (invalid UTF-8)."""
    _plain_notes(ctx)
    ctx.write("latin.md", "---\ntitle: Café\n---\n# Café crème\n[[good]] [x](other.md)\n".encode("latin-1"))
    ctx.write("links-to-latin.md", "[[latin]] [l](latin.md#café-crème)\n")
    return None


@case("bytes/utf8-bom")
def _bytes_bom(ctx: Ctx) -> None:
    """UTF-8 with a byte-order mark, before frontmatter and before a heading."""
    _plain_notes(ctx)
    ctx.write("bom-fm.md", codecs.BOM_UTF8 + "---\ntitle: Bom\n---\n# Héllo\n[[good]] [x](missing.md)\n".encode())
    ctx.write("bom-heading.md", codecs.BOM_UTF8 + "# Heading\n[[bom-fm#Héllo]] [y](nowhere.md)\n".encode())
    ctx.write("double-bom.md", codecs.BOM_UTF8 * 2 + b"# Two BOMs\n[[good]]\n")
    return None


@case("bytes/utf16", quick_commands=CORE)
def _bytes_utf16(ctx: Ctx) -> None:
    """UTF-16 LE and BE with BOM, truncated UTF-16, UTF-16 without BOM, UTF-32."""
    _plain_notes(ctx)
    text = "---\ntitle: Wide\n---\n# Wïde\n[[good]] [x](missing.md) [y](other.md#other)\n"
    ctx.write("le.md", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    ctx.write("be.md", codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    ctx.write("truncated.md", codecs.BOM_UTF16_LE + text.encode("utf-16-le")[:-1])
    ctx.write("lone-surrogate.md", codecs.BOM_UTF16_LE + b"#\x00 \x00\x00\xd8\n\x00")
    ctx.write("no-bom.md", text.encode("utf-16-le"))
    ctx.write("utf32.md", codecs.BOM_UTF32_LE + text.encode("utf-32-le"))
    ctx.write("crlf16.md", codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le"))
    return None


@case("bytes/line-endings", quick_commands=CORE)
def _bytes_line_endings(ctx: Ctx) -> None:
    """CRLF, lone CR, mixed endings, and unicode line separators."""
    _plain_notes(ctx)
    body = "---\ntitle: Ends\n---\n# Ends\n\n[[good]] and [x](missing.md)\n\n## Sub\n[y](#sub) [[#Nope]]\n"
    ctx.write("crlf.md", body.replace("\n", "\r\n"))
    ctx.write("cr.md", body.replace("\n", "\r"))
    ctx.write("mixed.md", "---\r\ntitle: M\n---\r# Mixed\r\n[[good]]\r[x](missing.md)\n\r\n[[other]]\r")
    ctx.write("crlf-nonascii.md", "# Ünïcödé\r\n\r\n[[góód]] [x](mïssing.md)\r\n".replace("\n", "\n"))
    ctx.write("separators.md", "# Sep\u2028[[good]]\u2029[x](missing.md)\x85[[other]]\x0c[[nope]]\x0b\n")
    ctx.write("cr-cr-lf.md", "# A\r\r\n[[good]]\r\r\n[x](missing.md)\n")
    return None


@case("bytes/nul-and-binary", quick_commands=CORE, quick_phases=("in-git",))
def _bytes_binary(ctx: Ctx) -> None:
    """NUL bytes early and late, a PNG, random bytes and a gzip, all named ``.md``."""
    _plain_notes(ctx)
    rng = random.Random(1234)
    ctx.write("nul-early.md", b"# Nul\x00\n[[good]]\n")
    ctx.write("nul-late.md", b"# Late nul\n" + b"plain text line\n" * 600 + b"[[go\x00od]] [x](a\x00b.md) \x00\n[[good]]\n")
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        + rng.randbytes(4096)
    )
    ctx.write("image.md", png)
    ctx.write("random.md", rng.randbytes(64 * 1024))
    no_nul = bytes(b or 1 for b in rng.randbytes(64 * 1024))
    ctx.write("random-no-nul.md", no_nul)
    ctx.write("gzip.md", b"\x1f\x8b\x08\x00" + rng.randbytes(2048))
    ctx.write("links-to-binary.md", "[[image]] [r](random.md) ![[image.md]]\n")
    return None


@case("bytes/empty")
def _bytes_empty(ctx: Ctx) -> None:
    """Empty and nearly empty notes."""
    _plain_notes(ctx)
    for name, content in {
        "empty.md": b"",
        "newline.md": b"\n",
        "spaces.md": b"   \n\t\n",
        "bom-only.md": codecs.BOM_UTF8,
        "bom16-only.md": codecs.BOM_UTF16_LE,
        "hash.md": b"#",
        "bracket.md": b"[[",
        "bang.md": b"![[]]",
    }.items():
        ctx.write(name, content)
    ctx.write("links-to-empty.md", "[[empty]] [[empty#x]] [e](empty.md#nothing)\n")
    return None


@case("bytes/invalid-utf8")
def _bytes_invalid_utf8(ctx: Ctx) -> None:
    """Encoded surrogates, overlong forms, truncated sequences, stray continuation bytes."""
    _plain_notes(ctx)
    ctx.write("surrogate.md", b"# S\n\xed\xa0\x80 [[good]]\n")
    ctx.write("overlong.md", b"# O\n\xc0\xaf\xe0\x80\xaf [[good]]\n")
    ctx.write("truncated.md", b"# T\n[[good]] \xe2\x82")
    ctx.write("continuation.md", b"\x80\x80# C\n")
    ctx.write("late-bad-byte.md", b"# L\n" + b"ok line [[good]]\n" * 2000 + b"\xff\n")
    return None


@case("bytes/unicode-tricks", quick_commands=CORE)
def _bytes_unicode(ctx: Ctx) -> None:
    """Bidi overrides, zero-width characters, combining marks and emoji in links and headings."""
    _plain_notes(ctx)
    ctx.write("bidi.md", "# \u202eevil\u202c heading\n[[go\u200bod]] [x](oth\u202eer.md) [[\u202egood]]\n")
    ctx.write("combining.md", "# e\u0301\u0301\u0301\n[[good#Go\u0301od]] [[" + "a" + "\u0300" * 5000 + "]]\n")
    ctx.write("emoji.md", "# 🚀 Launch 👩‍👩‍👧\n[[🚀]] [r](🚀.md) [[emoji#🚀 Launch 👩‍👩‍👧]]\n")
    ctx.write("🚀.md", "# rocket\n")
    ctx.write("fullwidth.md", "# Ｆｕｌｌ\n[[ｇｏｏｄ]] [x](．．/．．/etc/passwd)\n")
    ctx.write("nbsp.md", "#\u00a0Nbsp\n[[good\u00a0]] [x](good.md#\u00a0)\n")
    return None


@case("bytes/50mb-note", slow=True, quick_phases=("specs", "in-git"))
def _bytes_50mb(ctx: Ctx) -> None:
    """One 50 MB note of paragraphs with links, headings and code (5 MB in quick runs)."""
    _plain_notes(ctx)
    paragraph_with_link = "Lorem ipsum dolor sit amet, consectetur [[good]] adipiscing elit, sed do [x](other.md) tempor.\n\n"
    paragraph_plain = "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.\n\n"
    paragraph_code = "Duis aute irure `dolor` in reprehenderit in voluptate velit esse cillum dolore eu fugiat.\n\n"
    chunk = "## Section\n\n" + paragraph_with_link + paragraph_plain * 2 + paragraph_code + paragraph_plain * 4
    target = ctx.size(50, 5) * 1024 * 1024
    ctx.write("huge.md", "# Huge\n\n" + chunk * (target // len(chunk) + 1))
    return None


@case("bytes/note-at-size-limit", slow=True, quick_commands=(CHECK_JSON, MINE_DRY))
def _bytes_at_limit(ctx: Ctx) -> None:
    """A note just under ``max_note_size`` (3.9 MB; 1 MB in quick runs): read and parsed in full by every command."""
    _plain_notes(ctx)
    paragraph = "Lorem ipsum dolor sit amet, [[good]] consectetur adipiscing elit, sed do [x](other.md) tempor.\n\n"
    plain = "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.\n\n"
    chunk = "## Section\n\n" + paragraph + plain * 6
    target = ctx.size(3_900_000, 1_000_000)
    ctx.write("big.md", ("# Big\n\n" + chunk * (target // len(chunk) + 1))[:target])
    return None


@case("bytes/5mb-line", slow=True)
def _bytes_5mb_line(ctx: Ctx) -> None:
    """A single 5 MB line with links sprinkled in (1 MB in quick runs)."""
    _plain_notes(ctx)
    piece = "word " * 40 + "[[good]] " + "more words here " * 5 + "[x](other.md) "
    target = ctx.size(5, 1) * 1024 * 1024
    ctx.write("long-line.md", (piece * (target // len(piece) + 1))[:target])
    ctx.write("long-plain-line.md", "x" * target)
    return None


@case("bytes/100k-links", slow=True)
def _bytes_100k_links(ctx: Ctx) -> None:
    """100k links in one note (20k in quick runs), 1% of them broken."""
    _plain_notes(ctx)
    count = ctx.size(100_000, 20_000)
    lines = []
    for i in range(count // 2):
        broken = i % 50 == 0
        lines.append(f"- [[{'missing' if broken else 'good'}]] [t](other.md#{'nope' if broken else 'other'})\n")
    ctx.write("many-links.md", "# Many\n\n" + "".join(lines))
    return None


@case("bytes/nested-brackets")
def _bytes_brackets(ctx: Ctx) -> None:
    """10k nested ``[``, ``[[`` and ``![`` (link label parsing)."""
    _plain_notes(ctx)
    n = 10_000
    ctx.write("brackets.md", "[" * n + "x" + "]" * n + "\n")
    ctx.write("wiki-brackets.md", "[[" * (n // 2) + "good" + "]]" * (n // 2) + "\n")
    ctx.write("image-brackets.md", "![" * n + "x" + "](a.md)" * n + "\n")
    ctx.write("open-brackets.md", "[" * n + "\n")
    ctx.write("link-dest.md", "[a](" * n + "\n")
    ctx.write("ref-brackets.md", "[" * n + "]: x.md\n" + "[x][" * n + "\n")
    return None


@case("bytes/nested-quotes")
def _bytes_quotes(ctx: Ctx) -> None:
    """10k nested block quotes."""
    _plain_notes(ctx)
    n = 10_000
    ctx.write("quotes.md", "> " * n + "[[good]]\n")
    ctx.write("quotes-tight.md", ">" * n + " [x](missing.md)\n")
    ctx.write("quotes-lines.md", "".join(">" * i + " x\n" for i in range(0, 2000, 1)))
    return None


@case("bytes/nested-lists")
def _bytes_lists(ctx: Ctx) -> None:
    """10k nested list items (bullet, ordered, mixed with quotes)."""
    _plain_notes(ctx)
    n = 10_000
    ctx.write("bullets.md", "- " * n + "[[good]]\n")
    ctx.write("ordered.md", "1. " * n + "[x](missing.md)\n")
    ctx.write("mixed.md", "- > " * (n // 2) + "[[other]]\n")
    ctx.write("indented.md", "".join("  " * i + "- item [[good]]\n" for i in range(1500)))
    return None


@case("bytes/pathological-inline")
def _bytes_pathological(ctx: Ctx) -> None:
    """Inline input known to be slow for markdown parsers: emphasis runs, backticks, ``<``."""
    _plain_notes(ctx)
    ctx.write("emphasis.md", "*a **b " * 20_000 + "[[good]]\n")
    ctx.write("underscores.md", "_a __b " * 20_000 + "\n")
    ctx.write("backticks.md", "`a``b" * 20_000 + "[[good]]\n")
    ctx.write("angles.md", "<" * 50_000 + "[[good]]\n")
    ctx.write("autolink.md", "<a:" * 20_000 + "\n")
    ctx.write("dollars.md", "$a$$" * 20_000 + "[x](missing.md)\n")
    ctx.write("escapes.md", "\\[" * 50_000 + "\n")
    ctx.write("entities.md", "&#x" * 30_000 + "\n")
    # 2000 columns; 50 rows (100k links) or 10 in quick runs: the cost of links is bytes/100k-links' case.
    rows = ctx.size(50, 10)
    ctx.write("table.md", "| a |" * 2000 + "\n" + "|---|" * 2000 + "\n" + ("| [[good]] |" * 2000 + "\n") * rows)
    return None


@case("bytes/parallel-parse")
def _bytes_parallel(ctx: Ctx) -> None:
    """Enough notes and bytes (24 x ~150 KB) to take the process-pool path, with hostile notes among them."""
    _plain_notes(ctx)
    plain = "Plain prose without any link in it, the common case of a long note body.\n\n"
    linked = "Some text with [[good]] and [a link](other.md) and `code`.\n\n"
    block = plain * 49 + linked
    for i in range(24):
        body = block * 40  # ~150 KB, 40 links
        ctx.write(f"bulk/n{i:02}.md", f"# Bulk {i}\n\n" + body + f"[[bulk/n{(i + 1) % 24:02}]] [[missing-{i}]]\n")
    ctx.write("bulk/bad-yaml.md", "---\ntitle: [unclosed\n---\n" + linked * 100)
    ctx.write("bulk/binary.md", b"\x00\x01\x02" * 1000)
    ctx.write("bulk/deep.md", "> " * 10_000 + "x\n")
    return None


# -- filesystem ----------------------------------------------------------------


@case("fs/symlink-loop")
def _fs_symlink_loop(ctx: Ctx) -> None:
    """A folder symlink to its parent, one to itself, and two file symlinks pointing at each other."""
    _plain_notes(ctx)
    ctx.write("sub/inner.md", "# Inner\n[[good]] [up](up/good.md) [l](loop-a.md)\n")
    os.symlink("..", ctx.kb / "sub" / "up")
    os.symlink(".", ctx.kb / "self")
    os.symlink("loop-b.md", ctx.kb / "loop-a.md")
    os.symlink("loop-a.md", ctx.kb / "loop-b.md")
    os.symlink("sub", ctx.kb / "sub-alias")
    os.symlink("../sub", ctx.kb / "sub" / "again")
    return None


@case("fs/symlink-outside", quick_commands=CORE, forbidden=("outdir/folder", "[[x]]"), quick_phases=("specs", "in-git"))
def _fs_symlink_outside(ctx: Ctx) -> None:
    """Symlinks (file and folder, relative and absolute) to a secret outside the KB, and to /etc/passwd."""
    _plain_notes(ctx)
    os.symlink("../sentinel/secret.md", ctx.kb / "leak.md")
    os.symlink(str(ctx.sentinel / "secret.md"), ctx.kb / "abs-leak.md")
    os.symlink("../sentinel", ctx.kb / "outdir")
    os.symlink("/etc/passwd", ctx.kb / "passwd.md")
    os.symlink("/etc", ctx.kb / "etc")
    ctx.write(
        "links.md",
        "# Links\n[[leak]] ![[leak]] ![[abs-leak]] [s](outdir/secret.md) [[outdir/secret]] "
        "[p](passwd.md) ![[passwd]] [e](etc/passwd) ![[etc/passwd]] [[leak#Secret]]\n",
    )
    return None


@case("fs/dangling-symlink")
def _fs_dangling(ctx: Ctx) -> None:
    """Symlinks whose targets do not exist."""
    _plain_notes(ctx)
    os.symlink("nowhere.md", ctx.kb / "dangling.md")
    os.symlink("no-such-folder", ctx.kb / "dangling-dir")
    os.symlink("/nonexistent/absolute.md", ctx.kb / "dangling-abs.md")
    ctx.write("links.md", "[[dangling]] [d](dangling.md) [f](dangling-dir/x.md)\n")
    return None


@case("fs/unreadable")
def _fs_unreadable(ctx: Ctx) -> str | None:
    """A ``chmod 000`` note, a ``chmod 000`` folder and a folder without execute permission."""
    _plain_notes(ctx)
    reason = permissions_skip_reason()
    if reason:
        return reason
    locked = ctx.write("locked.md", "# Locked\n")
    ctx.write("closed/inside.md", "# Inside\n")
    ctx.write("noexec/inside.md", "# Noexec\n")
    ctx.write("links.md", "[[locked]] [l](locked.md#locked) [[inside]] [n](noexec/inside.md)\n")
    os.chmod(locked, 0)
    os.chmod(ctx.kb / "closed", 0)
    os.chmod(ctx.kb / "noexec", 0o644)
    def reopen() -> None:
        os.chmod(ctx.kb / "closed", 0o755)
        os.chmod(ctx.kb / "noexec", 0o755)

    ctx.cleanups.append(reopen)
    return None


@case("fs/names-with-spaces", quick_commands=CORE)
def _fs_spaces(ctx: Ctx) -> None:
    """File and folder names with spaces (leading, trailing, doubled)."""
    _plain_notes(ctx)
    ctx.write("my note.md", "# My note\n[[other note]] [x](sub%20dir/another%20note.md) [y](<sub dir/another note.md>)\n")
    ctx.write("sub dir/another note.md", "# Another\n[[my note]] [b](../my%20note.md#my-note)\n")
    ctx.write(" leading.md", "# Leading\n[[ leading]]\n")
    ctx.write("trailing .md", "# Trailing\n[[trailing ]]\n")
    ctx.write("double  space.md", "[[double  space]] [[double space]]\n")
    return None


@case("fs/names-special", quick_commands=CORE, quick_phases=("in-git",))
def _fs_special_names(ctx: Ctx) -> None:
    """Newline, tab, colon, comma, percent, hash, question mark, brackets, backslash, leading dash in names."""
    _plain_notes(ctx)
    names = [
        "new\nline.md", "tab\there.md", "colon:name.md", "comma,name.md", "percent%41.md", "hash#name.md",
        "question?.md", "-rf.md", "[[brackets]].md", "back\\slash.md", "pipe|name.md", "dot..md",
        "quote\"name.md", "star*.md", "caret^x.md", ".hidden.md", "::error file=x::pwned.md",
    ]
    for name in names:
        ctx.write(name, f"# {name!r}\n[[good]] [x](missing.md)\n")
    ctx.write("links.md", "".join(f"[[{n[:-3]}]] [l](<{n}>)\n" for n in names if "\n" not in n))
    return None


@case("fs/names-invalid-utf8", quick_commands=CORE)
def _fs_invalid_utf8_names(ctx: Ctx) -> None:
    """File and folder names that are not valid UTF-8 (Linux allows any bytes)."""
    _plain_notes(ctx)
    ctx.write(b"latin\xe9.md", "# Latin name\n[[good]] [x](missing.md)\n")
    ctx.write(b"bad\xff\xfename.md", "# FF FE\n")
    ctx.write(b"dir\xff/inner.md", "# Inner\n[[good]] [[nope]]\n")
    ctx.write("links.md", "[[latin\u00e9]] [[bad\ufffd\ufffdname]] [x](latin%E9.md) [y](dir%FF/inner.md)\n")
    return None


@case(
    "fs/names-invalid-utf8-mentioned",
    quick_commands=(CHECK_JSON,),
)
def _fs_invalid_utf8_mentioned(ctx: Ctx) -> None:
    """A note whose file name is not UTF-8, mentioned by title in other notes (wikilink and markdown style)."""
    _plain_notes(ctx)
    ctx.write(b"zanzibar\xe9.md", "# Zanzibar Harbour\n\nText.\n")
    ctx.write("walk.md", "# Walk\n\nWe saw the Zanzibar Harbour today. [[other]]\n")
    ctx.write("md/walk.md", "# Walk\n\nWe saw the Zanzibar Harbour today. [other](../other.md)\n")
    return None


@case("fs/unicode-nfc-nfd", quick_commands=CORE)
def _fs_nfc_nfd(ctx: Ctx) -> None:
    """Two notes whose names differ only in Unicode normalisation (NFC vs NFD)."""
    _plain_notes(ctx)
    nfc = unicodedata.normalize("NFC", "café")
    nfd = unicodedata.normalize("NFD", "café")
    assert nfc != nfd
    ctx.write(f"{nfc}.md", f"# {nfc}\nNFC. [[{nfd}]]\n")
    ctx.write(f"{nfd}.md", f"# {nfd}\nNFD. [[{nfc}]]\n")
    ctx.write("links.md", f"[[{nfc}]] [[{nfd}]] [a]({nfc}.md) [b]({nfd}.md) [c](caf%C3%A9.md) [d](cafe%CC%81.md)\n")
    return None


@case("fs/case-only-names", quick_commands=CORE)
def _fs_case(ctx: Ctx) -> None:
    """Notes whose names differ only in case."""
    _plain_notes(ctx)
    ctx.write("Note.md", "# Note\n")
    ctx.write("note.md", "# note\n")
    ctx.write("NOTE.md", "# NOTE\n")
    ctx.write("Dir/a.md", "# A\n")
    ctx.write("dir/a.md", "# a\n")
    ctx.write("links.md", "[[note]] [[Note]] [x](Note.md) [y](nOtE.md) [[dir/a]] [z](DIR/a.md)\n")
    return None


@case("fs/deep-folders")
def _fs_deep(ctx: Ctx) -> None:
    """A note 200 folders deep, linking up to the root and back."""
    _plain_notes(ctx)
    deep = "/".join(["d"] * 200)
    ctx.write(f"{deep}/deep.md", "# Deep\n[[good]] [up](" + "../" * 200 + "good.md) [too far](" + "../" * 201 + "x.md)\n")
    ctx.write("to-deep.md", f"[[deep]] [d]({deep}/deep.md) [[{deep}/deep]]\n")
    return None


@case("fs/dir-named-md")
def _fs_dir_md(ctx: Ctx) -> None:
    """Folders named like notes (``x.md/``, ``y.markdown/``)."""
    _plain_notes(ctx)
    ctx.write("x.md/inner.md", "# Inner\n[[good]]\n")
    (ctx.kb / "y.markdown").mkdir()
    (ctx.kb / "empty.md").mkdir()
    ctx.write("links.md", "[[x]] [x](x.md) [i](x.md/inner.md) [[y]] [[empty]]\n")
    return None


@case("fs/special-files")
def _fs_special_files(ctx: Ctx) -> None:
    """A FIFO named ``.md`` (opening it would block forever), symlinks to it and to /dev/zero."""
    _plain_notes(ctx)
    os.mkfifo(ctx.kb / "pipe.md")
    os.symlink("pipe.md", ctx.kb / "pipe-link.md")
    os.symlink("/dev/zero", ctx.kb / "zero.md")
    os.symlink("/dev/stdin", ctx.kb / "stdin.md")
    ctx.write("links.md", "[[pipe]] [[zero]] [[stdin]]\n")
    return None


@case("fs/readonly-kb", expect={"mine": ERROR, "review-accept": ERROR}, mentions=("Permission denied",))
def _fs_readonly(ctx: Ctx) -> str | None:
    """``chmod -R a-w`` on the KB: the cache goes elsewhere; mine and review accept, which must write notes, say why not."""
    _plain_notes(ctx)
    reason = permissions_skip_reason()
    if reason:
        return reason
    ctx.write("sub/note.md", "# Sub\n[[good]] [x](missing.md)\n")
    for path in sorted(ctx.kb.rglob("*"), reverse=True) + [ctx.kb]:
        mode = os.lstat(path).st_mode
        os.chmod(path, stat.S_IMODE(mode) & ~0o222)

    def restore() -> None:
        for path in [ctx.kb, *ctx.kb.rglob("*")]:
            os.chmod(path, stat.S_IMODE(os.lstat(path).st_mode) | 0o200)

    ctx.cleanups.append(restore)
    return None


def _vanishing_runner(case_: Case, ctx: Ctx, harness: Harness) -> list[Result]:
    """Run each command while a thread deletes, recreates and renames notes and folders."""
    results = []
    for command in case_.commands_for(harness.quick):
        stop = threading.Event()
        thread = threading.Thread(target=_mutate, args=(ctx, stop), daemon=True)
        thread.start()
        try:
            results.append(harness.execute(case_, ctx, command))
        finally:
            stop.set()
            thread.join()
    return results


def _mutate(ctx: Ctx, stop: threading.Event) -> None:
    count = ctx.data["vanish"]
    i = 0
    while not stop.is_set():
        note = ctx.kb / "vanish" / f"n{i % count}.md"
        try:
            note.unlink()
            note.write_text(f"# Back {i}\n[[good]]\n")
            flux, flux2 = ctx.kb / "flux", ctx.kb / "flux2"
            if flux.exists():
                flux.rename(flux2)
            else:
                flux2.rename(flux)
            shape = ctx.kb / "shape.md"
            if shape.is_dir():
                shape.rmdir()
                shape.write_text("# Shape\n")
            else:
                shape.unlink()
                shape.mkdir()
        except OSError:
            pass
        i += 1
        time.sleep(0.0005)


@case("fs/vanishing-files", runner=_vanishing_runner)
def _fs_vanishing(ctx: Ctx) -> None:
    """Notes deleted, recreated and renamed (files and folders) while kbmine runs."""
    _plain_notes(ctx)
    ctx.kb_mutable = True
    count = ctx.size(1500, 600)
    ctx.data["vanish"] = count
    for i in range(count):
        ctx.write(f"vanish/n{i}.md", f"# N{i}\n[[good]] [[vanish/n{(i + 1) % count}]]\n")
    for i in range(50):
        ctx.write(f"flux/f{i}.md", f"# F{i}\n[[good]]\n")
    ctx.write("shape.md", "# Shape\n")
    return None


# -- cache -------------------------------------------------------------------


@case("cache/corrupt-db", quick_commands=CACHE_QUICK)
def _cache_corrupt(ctx: Ctx) -> None:
    """``.kbmine/cache.sqlite`` is garbage."""
    _plain_notes(ctx)
    ctx.write(".kbmine/cache.sqlite", b"this is not a database" * 100)
    return None


@case("cache/dir-is-a-file", quick_commands=CACHE_QUICK)
def _cache_dir_file(ctx: Ctx) -> None:
    """``.kbmine`` is a regular file, so the cache folder cannot be made."""
    _plain_notes(ctx)
    ctx.write(".kbmine", "not a folder\n")
    return None


@case("cache/db-is-a-folder", quick_commands=CACHE_QUICK, expect={"cache-clear": OK | ERROR})
def _cache_db_dir(ctx: Ctx) -> None:
    """``.kbmine/cache.sqlite`` is a folder."""
    _plain_notes(ctx)
    (ctx.kb / ".kbmine" / "cache.sqlite").mkdir(parents=True)
    return None


@case("cache/dir-symlink-outside", quick_commands=CACHE_QUICK)
def _cache_dir_symlink(ctx: Ctx) -> None:
    """``.kbmine`` is a symlink to a folder outside the KB: the cache must not be written there."""
    _plain_notes(ctx)
    (ctx.sentinel / "cachedir").mkdir()
    os.symlink("../sentinel/cachedir", ctx.kb / ".kbmine")
    return None


@case("cache/db-symlink-outside", quick_commands=CACHE_QUICK)
def _cache_db_symlink(ctx: Ctx) -> None:
    """``.kbmine/cache.sqlite`` is a symlink to an (empty) file outside the KB."""
    _plain_notes(ctx)
    (ctx.kb / ".kbmine").mkdir()
    os.symlink("../../sentinel/victim.sqlite", ctx.kb / ".kbmine" / "cache.sqlite")
    return None


# -- links -------------------------------------------------------------------


@case("links/escape-root", quick_commands=CORE)
def _links_escape(ctx: Ctx) -> None:
    """``../../../etc/passwd``, ``/etc/passwd``, ``file://``, ``%2e%2e%2f`` and friends."""
    _plain_notes(ctx)
    targets = [
        "../../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "FILE:///etc/passwd", "file:/etc/passwd",
        "file://localhost/etc/passwd", "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%2f..%2f..%2fetc%2fpasswd",
        "%2e%2e/%2e%2e/%2e%2e/etc/passwd", "%252e%252e%252fetc%252fpasswd", "..\\..\\..\\etc\\passwd",
        "....//....//etc/passwd", "/../../../etc/passwd", "///etc/passwd", "sub/../../../etc/passwd",
        "../sentinel/secret.md", "../sentinel/secret", "./../sentinel/secret.md", "~/.ssh/id_rsa", "~root/.bashrc",
        "/proc/self/environ", "/dev/zero", "C:\\Windows\\win.ini", "\\\\server\\share\\x.md", "..", ".", "/",
    ]
    lines = ["# Escapes\n"]
    for target in targets:
        lines.append(f"[md]({target}) [img](<{target}>) [[{target}]] ![[{target}]]\n")
    lines.append("<file:///etc/passwd> <file:///../sentinel/secret.md>\n")
    lines.append("[ref]: ../../../etc/passwd\n[ref2]: %2e%2e/%2e%2e/sentinel/secret.md\n\n[x][ref] [y][ref2]\n")
    lines.append("[a](../sentinel/secret.md#secret) [[../sentinel/secret#Secret]]\n")
    ctx.write("escapes.md", "".join(lines))
    ctx.write("sub/nested.md", "[[../../sentinel/secret]] [x](../../sentinel/secret.md) [y](../../etc/passwd)\n")
    return None


@case("links/nul-in-target", quick_commands=CORE)
def _links_nul(ctx: Ctx) -> None:
    """NUL in link targets, raw (past the binary sniff) and percent-encoded."""
    _plain_notes(ctx)
    padding = "padding line without any link at all\n" * 300  # > 8000 bytes: the binary sniff looks no further
    ctx.write(
        "nul.md",
        "# Nul\n" + padding + "[x](a\x00b.md) [[go\x00od]] ![[x\x00]] [y](good.md\x00/../../../etc/passwd)\n"
        "[e](a%00b.md) [f](good.md%00.png) [[good%00]] [g](%00) [h](good.md#%00)\n",
    )
    ctx.write("nul-encoded-only.md", "[e](a%00b.md) [f](good.md%00../../etc/passwd) [[x%00]]\n")
    return None


def _links_odd_build(ctx: Ctx, dialect: str | None = None) -> None:
    _plain_notes(ctx)
    if dialect:
        ctx.write("kbmine.toml", f'dialect = "{dialect}"\n')
    odd = [
        "[[#]]", "[[|]]", "[[^]]", "[[#^]]", "[[good#]]", "[[good#^]]", "[[good#a#b#c#d]]", "[[good|]]", "[[|good]]",
        "[x](<>)", "[x]( )", "[x](#)", "[x](?)", "[x](?q=1#frag)", "[x](good.md?x#Good)", "[x](%)", "[x](%zz)",
        "[x](%ff%fe)", "[x](%C0%AF)", "[x](javascript:alert(1))", "[x](data:text/html,<b>x</b>)", "[x](mailto:)",
        "[x](//evil.example/x)", "[x](http://)", "[x](a:b)", "[[dendron://vault/x]]", "[[dendron://]]",
        "[[dendron:///x]]", "![[good#start:#end]]", "![[good.*]]", "[[*]]", "[[**/*]]", "[[good\\|label]]",
        "[[good#Good|label|more]]", "[x][undefined]", "[^footnote]", "[[good]]]]", "[[[good]]]", "![[good]]x![[good]]",
        "[x](good.md \"title\")", "[x](good.md 'unterminated)", "[[" + "a" * 100_000 + "]]",
        "[x](" + "b/" * 20_000 + ")", "[[" + "../" * 5000 + "etc/passwd]]", "[x](#" + "h" * 50_000 + ")",
    ]
    ctx.write("odd.md", "# Odd\n\n" + "\n\n".join(odd) + "\n\n[^footnote]: [[good]]\n")
    ctx.write("code.md", "```\n[[inside-code]]\n```\n`[[inline]]` <!-- [[comment]] --> $[[math]]$\n\n    [[indented]]\n")
    return None


@case("links/anchor-storm")
def _links_anchor_storm(ctx: Ctx) -> None:
    """Thousands of links to anchors missing in a note of thousands of same-named headings
    (each "did you mean" compared the anchor with every heading: over a minute)."""
    _plain_notes(ctx)
    headings, links = ctx.size(20_000, 3_000), ctx.size(30_000, 4_000)
    ctx.write("same.md", "## Same\n\n" * headings)
    ctx.write("links.md", "".join(f"[x](same.md#same-{i}) [[same#Same {i}]] " for i in range(headings // 2, headings // 2 + links)))
    return None


@case("links/odd-targets", quick_commands=CORE)
def _links_odd(ctx: Ctx) -> None:
    """Empty, malformed, huge and scheme-tricky link targets (obsidian dialect)."""
    return _links_odd_build(ctx)


@case("links/odd-targets-dendron")
def _links_odd_dendron(ctx: Ctx) -> None:
    """The same odd targets read with the dendron dialect (from kbmine.toml)."""
    return _links_odd_build(ctx, "dendron")


@case("links/odd-targets-foam")
def _links_odd_foam(ctx: Ctx) -> None:
    """The same odd targets read with the foam dialect (from kbmine.toml)."""
    return _links_odd_build(ctx, "foam")


# -- CLI ---------------------------------------------------------------------

_NO_CACHE_CLEAR = tuple(c for c in ALL if c is not CACHE_CLEAR)


@case(
    "cli/nonexistent-path", expect=ERROR, mentions=("does-not-exist",), quick_commands=ALL,
    phases=("specs", "outside-git"), quick_phases=("specs", "outside-git"),
)
def _cli_nonexistent(ctx: Ctx) -> None:
    """PATH does not exist: exit 2 with one line naming it."""
    ctx.target = str(ctx.tmp / "does-not-exist")
    return None


@case("cli/file-not-folder", expect=ERROR, mentions=("note.md",), quick_commands=ALL, phases=("specs", "outside-git"))
def _cli_file(ctx: Ctx) -> None:
    """PATH is a file, not a folder: exit 2."""
    _plain_notes(ctx)
    ctx.write("note.md", "# A note\n[[good]]\n")
    ctx.target = str(ctx.kb / "note.md")
    return None


@case(
    "cli/bad-format",
    commands=(
        Command("check-format-bogus", ("check", "{kb}", "--format", "bogus")),
        Command("stats-format-bogus", ("stats", "{kb}", "--format", "bogus")),
        Command("graph-format-bogus", ("graph", "{kb}", "--format", "bogus")),
        Command("check-format-empty", ("check", "{kb}", "--format", "")),
    ),
    expect=ERROR,
    mentions=("format",),
)
def _cli_bad_format(ctx: Ctx) -> None:
    """``--format bogus`` on check, stats and graph: exit 2."""
    _plain_notes(ctx)
    return None


@case(
    "cli/usage-errors",
    commands=(
        Command("check-unknown-option", ("check", "{kb}", "--bogus")),
        Command("check-jobs-zero", ("check", "{kb}", "--jobs", "0")),
        Command("check-missing-value", ("check", "{kb}", "--format")),
        Command("check-unknown-rule", ("check", "{kb}", "--select", "no-such-rule")),
        Command("unknown-command", ("frobnicate", "{kb}")),
        Command("check-two-paths", ("check", "{kb}", "{kb}")),
    ),
    expect=ERROR,
)
def _cli_usage(ctx: Ctx) -> None:
    """Usage errors (unknown option, bad value, unknown rule, unknown command): exit 2 with one error line."""
    _plain_notes(ctx)
    return None


@case(
    "cli/dialect-bogus",
    commands=(
        Command("check-dialect-bogus", ("check", "{kb}", "--dialect", "bogus")),
        Command("stats-dialect-bogus", ("stats", "{kb}", "--format", "json", "--dialect", "bogus")),
        Command("graph-dialect-bogus", ("graph", "{kb}", "--format", "json", "--dialect", "bogus")),
    ),
    expect=ERROR,
    mentions=("dialect", "bogus"),
)
def _cli_dialect(ctx: Ctx) -> None:
    """``--dialect bogus``: exit 2."""
    _plain_notes(ctx)
    return None


#: Every command that reads the config fails on a bad one (specs list/show/accept only read the specs file).
_CONFIG_EXPECT = {c.name: ERROR for c in (*_NO_CACHE_CLEAR, MINE_DRY, MINE, CHECK_ACCEPTED, MUTATE_DRY, MUTATE, CHECK_AFTER_ACCEPT)}


@case("cli/config-unknown-key", expect=_CONFIG_EXPECT, mentions=("kbmine.toml", "colour"), quick_commands=ALL)
def _cli_config_unknown(ctx: Ctx) -> None:
    """``kbmine.toml`` with an unknown key: exit 2 with one line naming the file and the key."""
    _plain_notes(ctx)
    ctx.write("kbmine.toml", 'colour = "red"\n')
    return None


@case("cli/config-invalid-toml", expect=_CONFIG_EXPECT, mentions=("kbmine.toml",), quick_commands=ALL)
def _cli_config_invalid(ctx: Ctx) -> None:
    """``kbmine.toml`` that is not TOML: exit 2 with one line naming the file."""
    _plain_notes(ctx)
    ctx.write("kbmine.toml", "dialect = [\n")
    return None


@case("cli/config-pyproject-unknown-key", expect=_CONFIG_EXPECT, mentions=("pyproject.toml", "bogus"))
def _cli_config_pyproject(ctx: Ctx) -> None:
    """``[tool.kbmine]`` in ``pyproject.toml`` with an unknown key: exit 2."""
    _plain_notes(ctx)
    ctx.write("pyproject.toml", "[project]\nname = 'x'\n[tool.kbmine]\nbogus = 1\n")
    return None


@case("cli/config-binary", expect=_CONFIG_EXPECT, mentions=("kbmine.toml",))
def _cli_config_binary(ctx: Ctx) -> None:
    """``kbmine.toml`` that is binary / not UTF-8: exit 2."""
    _plain_notes(ctx)
    ctx.write("kbmine.toml", b"\xff\xfe\x00dialect = 'x'\x00")
    return None


@case("cli/config-wrong-types", expect=_CONFIG_EXPECT, mentions=("kbmine.toml",))
def _cli_config_types(ctx: Ctx) -> None:
    """Config values of the wrong type: exit 2."""
    _plain_notes(ctx)
    ctx.write("kbmine.toml", 'dialect = 5\nexclude = "x"\n')
    return None


#: mutate reads the config as committed (a fresh, readable copy in its worktree).
_UNREADABLE_EXPECT = {name: codes for name, codes in _CONFIG_EXPECT.items() if not name.startswith("mutate")}


@case("cli/config-unreadable", expect=_UNREADABLE_EXPECT, mentions=("kbmine.toml",))
def _cli_config_unreadable(ctx: Ctx) -> str | None:
    """``kbmine.toml`` that cannot be read (chmod 000): exit 2 naming it."""
    _plain_notes(ctx)
    reason = permissions_skip_reason()
    if reason:
        return reason
    os.chmod(ctx.write("kbmine.toml", 'dialect = "obsidian"\n'), 0)
    return None


@case("cli/config-is-a-folder")
def _cli_config_dir(ctx: Ctx) -> None:
    """A folder named ``kbmine.toml``: not a config, ignored."""
    _plain_notes(ctx)
    (ctx.kb / "kbmine.toml").mkdir()
    return None


def _timeout_case(value: str) -> Builder:
    def build(ctx: Ctx) -> None:
        _plain_notes(ctx)
        ctx.write("kbmine.toml", f"parse_timeout = {value}\n")
        ctx.write("deep.md", "> " * 3000 + "[[good]]\n")
        return None

    build.__doc__ = f"``parse_timeout = {value}`` in kbmine.toml: a clean run or exit 2 naming the file."
    return build


for _value, _label in (("inf", "inf"), ("nan", "nan"), ("1e308", "huge"), ("1e-9", "tiny")):
    case(
        f"cli/config-parse-timeout-{_label}",
        expect=OK if _label == "tiny" else OK | ERROR,
        mentions=("kbmine.toml",),
    )(_timeout_case(_value))


@case(
    "cli/graph-other-formats",
    commands=(
        Command("graph-graphml", ("graph", "{kb}", "--format", "graphml"), "xml"),
        Command("graph-gexf", ("graph", "{kb}", "--format", "gexf"), "xml"),
        Command("graph-dot", ("graph", "{kb}", "--format", "dot")),
    ),
)
def _cli_graph_formats(ctx: Ctx) -> None:
    """graphml, gexf and dot exports of a KB with control characters and odd values in titles and frontmatter."""
    _plain_notes(ctx)
    ctx.write("ctrl.md", "---\ntitle: \"bell\\a nul\\0 esc\\e\"\nwhen: 2024-01-01\nn: .nan\n---\n# Ctrl\n[[good]] [[missing \x01]]\n")
    ctx.write("quotes.md", "# \"quoted\" <xml> & 'dot' \\\" }\n[[good]] [x](a\"b.md)\n")
    ctx.write("nested.md", "---\na: {b: [1, {c: d}]}\ntags: [x, y]\n---\n[[other]]\n")
    return None


# -- git ---------------------------------------------------------------------


def _git_env(ctx: Ctx) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(ctx.home),
        GIT_AUTHOR_NAME="Abuse",
        GIT_AUTHOR_EMAIL="abuse@example.invalid",
        GIT_COMMITTER_NAME="Abuse",
        GIT_COMMITTER_EMAIL="abuse@example.invalid",
        GIT_AUTHOR_DATE="2024-01-01T00:00:00Z",
        GIT_COMMITTER_DATE="2024-01-01T00:00:00Z",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def _git(ctx: Ctx, *args: str) -> str:
    return _git_in(ctx, ctx.kb, *args)


def _git_in(ctx: Ctx, folder: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=folder, env=_git_env(ctx), capture_output=True, text=True, check=True, timeout=60,
    )
    return completed.stdout


def _no_git() -> str | None:
    return None if shutil.which("git") else "git is not installed"


def _git_kb(ctx: Ctx, commit: bool = True) -> None:
    _plain_notes(ctx)
    ctx.write(".gitignore", "ignored.md\n")
    ctx.write("ignored.md", "# Ignored\n[[missing-from-ignored]]\n")
    ctx.write("tracked.md", "# Tracked\n[[good]] [x](missing.md)\n")
    _add_fixable(ctx)
    _git(ctx, "init", "-q")
    if commit:
        _git(ctx, "add", "-A")
        _git(ctx, "commit", "-q", "-m", "first")


def _not_in_repo(path: Path) -> str | None:
    completed = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--is-inside-work-tree"],
        capture_output=True, env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, check=False,
    )
    return "the temporary folder is inside a git work tree" if completed.returncode == 0 else None


_IN_GIT_ONLY = ("in-git",)
#: mutate and review commands, by name.
_GIT_NAMES = tuple(command.name for command in IN_GIT if command.name.startswith(("mutate", "review")))
#: No commits yet: nothing to mutate from, nothing pending to review or accept.
_EMPTY_REPO = {"mutate-dry-run": ERROR, "mutate": ERROR, "review-list": OK}
#: Fixes are made as usual; accepting them onto the user's branch is refused.
_REFUSE_ACCEPT = {"review-accept": ERROR}
#: A repository git itself cannot read: each command either works or says why not in one line.
_MAY_REFUSE = {name: OK | ERROR for name in (*_GIT_NAMES, "check-after-accept")}


@case("git/not-a-repo", phases=("specs", "outside-git"), quick_phases=("outside-git",))
def _git_not_repo(ctx: Ctx) -> str | None:
    """A KB that is not in a git repository."""
    _plain_notes(ctx)
    ctx.write("ignored.md", "# Not ignored here\n")
    return _not_in_repo(ctx.kb) if shutil.which("git") else None


@case("git/empty-repo", phases=_IN_GIT_ONLY, quick_phases=_IN_GIT_ONLY, expect=_EMPTY_REPO, mentions=("no commits",))
def _git_empty(ctx: Ctx) -> str | None:
    """``git init`` only: no commits, everything untracked."""
    if _no_git():
        return _no_git()
    _git_kb(ctx, commit=False)
    return None


@case("git/index-lock", phases=_IN_GIT_ONLY, quick_phases=_IN_GIT_ONLY, expect=_REFUSE_ACCEPT, mentions=("index.lock",))
def _git_index_lock(ctx: Ctx) -> str | None:
    """A repository with ``.git/index.lock`` present (another git is running, or crashed)."""
    if _no_git():
        return _no_git()
    _git_kb(ctx)
    ctx.write("untracked.md", "# Untracked\n[[good]]\n")
    (ctx.kb / "tracked.md").write_text("# Tracked, modified\n[[good]] [x](missing.md)\n")
    (ctx.kb / ".git" / "index.lock").write_bytes(b"")
    return None


@case("git/detached-head", phases=_IN_GIT_ONLY, quick_phases=_IN_GIT_ONLY, expect=_REFUSE_ACCEPT, mentions=("detached",))
def _git_detached(ctx: Ctx) -> str | None:
    """A repository checked out at a detached HEAD."""
    if _no_git():
        return _no_git()
    _git_kb(ctx)
    ctx.write("second.md", "# Second\n[[good]]\n")
    _git(ctx, "add", "-A")
    _git(ctx, "commit", "-q", "-m", "second")
    _git(ctx, "checkout", "-q", "--detach", "HEAD~1")
    return None


@case("git/corrupt-repo", phases=_IN_GIT_ONLY, expect=_MAY_REFUSE)
def _git_corrupt(ctx: Ctx) -> str | None:
    """``.git/HEAD`` is garbage and ``.git/index`` is truncated."""
    if _no_git():
        return _no_git()
    _git_kb(ctx)
    (ctx.kb / ".git" / "HEAD").write_bytes(b"garbage\x00\xff\n")
    (ctx.kb / ".git" / "index").write_bytes(b"DIRC\x00")
    return None


@case("git/gitfile-elsewhere", phases=_IN_GIT_ONLY, expect=_MAY_REFUSE)
def _git_gitfile(ctx: Ctx) -> None:
    """``.git`` is a file pointing at a git dir that does not exist."""
    _plain_notes(ctx)
    ctx.write(".git", "gitdir: /nonexistent/repo/.git\n")
    return None


@case("git/no-git-binary", phases=("outside-git",), quick_phases=("outside-git",))
def _git_missing(ctx: Ctx) -> None:
    """``git`` is not on PATH at all."""
    _plain_notes(ctx)
    empty = ctx.tmp / "tmp" / "emptybin"
    empty.mkdir(parents=True)
    ctx.env_extra["PATH"] = str(empty)
    return None


_BRANCH_COMMANDS = (
    Command("mutate-branch-current", ("mutate", "{kb}", "--branch", "main", "--format", "json")),
    Command("mutate-branch-users", ("mutate", "{kb}", "--branch", "dev", "--format", "json")),
    Command("mutate-branch-head", ("mutate", "{kb}", "--branch", "HEAD", "--format", "json")),
    Command("mutate-branch-dash", ("mutate", "{kb}", "--branch", "-x", "--format", "json")),
)


@case("git/branch-option", commands=_BRANCH_COMMANDS, expect=ERROR, mentions=("--branch",), quick_commands=_BRANCH_COMMANDS[:2])
def _git_branch_option(ctx: Ctx) -> str | None:
    """``mutate --branch`` naming the checked-out branch, a branch of the user's own, or no valid
    branch name: refused before any work, every ref left where it was."""
    if _no_git():
        return _no_git()
    _git_kb(ctx)
    _git(ctx, "branch", "dev")
    _git(ctx, "checkout", "-q", "dev")
    ctx.write("dev-only.md", "# Dev only\n\nThe user's own work. [[good]]\n")
    _git(ctx, "add", "-A")
    _git(ctx, "commit", "-q", "-m", "the user's own work")
    _git(ctx, "checkout", "-q", "main")
    return None


@case("git/index-lock-clean", phases=_IN_GIT_ONLY, expect=_REFUSE_ACCEPT, mentions=("index.lock",))
def _git_index_lock_clean(ctx: Ctx) -> str | None:
    """A clean repository with ``.git/index.lock`` present: mutate works, accepting refuses."""
    if _no_git():
        return _no_git()
    _git_kb(ctx)
    (ctx.kb / ".git" / "index.lock").write_bytes(b"")
    return None


def _stopped(ctx: Ctx, *args: str) -> None:
    """Run a git command that must stop on a conflict (a non-zero exit is the point)."""
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args], cwd=ctx.kb, env=_git_env(ctx), capture_output=True, check=False,
        timeout=60,
    )


def _diverged(ctx: Ctx) -> None:
    """A repository whose branches ``main`` and ``side`` both changed the same line of tracked.md."""
    _git_kb(ctx)
    _git(ctx, "checkout", "-q", "-b", "side")
    (ctx.kb / "tracked.md").write_text("# Tracked\nside\n")
    _git(ctx, "commit", "-qam", "side")
    _git(ctx, "checkout", "-q", "main")
    (ctx.kb / "tracked.md").write_text("# Tracked\nmain\n")
    _git(ctx, "commit", "-qam", "main")


def _in_progress(operation: str, marker: str, *args: str) -> Builder:
    def build(ctx: Ctx) -> str | None:
        if _no_git():
            return _no_git()
        _diverged(ctx)
        if operation == "revert":
            (ctx.kb / "tracked.md").write_text("# Tracked\nmain again\n")
            _git(ctx, "commit", "-qam", "main again")
        if operation.startswith("rebase"):
            _git(ctx, "checkout", "-q", "side")
        _stopped(ctx, *args)
        if not (ctx.kb / ".git" / marker).exists():
            return f"git did not stop with .git/{marker}"
        return None

    build.__doc__ = f"A {operation} stopped on a conflict (``.git/{marker}``): mutate works from HEAD, accepting refuses."
    return build


for _operation, _marker, _args in (
    ("merge", "MERGE_HEAD", ("merge", "side")),
    ("rebase", "rebase-merge", ("rebase", "main")),
    ("rebase-apply", "rebase-apply", ("rebase", "--apply", "main")),
    ("cherry-pick", "CHERRY_PICK_HEAD", ("cherry-pick", "side")),
    ("revert", "REVERT_HEAD", ("revert", "--no-edit", "HEAD~1")),
):
    case(
        f"git/{_operation}-in-progress", phases=_IN_GIT_ONLY, expect=_REFUSE_ACCEPT,
        mentions=("in progress",),
    )(_in_progress(_operation, _marker, *_args))


@case("git/shallow-clone", phases=_IN_GIT_ONLY)
def _git_shallow(ctx: Ctx) -> str | None:
    """The KB is a ``--depth 1`` clone: fixes are made, reviewed and accepted as usual."""
    if _no_git():
        return _no_git()
    # Build the origin in the KB folder, move it aside and clone it back with one commit.
    _git_kb(ctx)
    ctx.write("second.md", "# Second\n\nThe zebra crossing again. [[good]]\n")
    _git(ctx, "add", "-A")
    _git(ctx, "commit", "-q", "-m", "second")
    origin = ctx.tmp / "origin"
    ctx.extra_top.add("origin")
    ctx.kb.rename(origin)
    try:
        _git_in(ctx, ctx.tmp, "clone", "-q", "--depth", "1", f"file://{origin}", str(ctx.kb))
    except subprocess.CalledProcessError as exc:
        return f"could not clone: {exc.stderr.strip()[:200]}"
    return None if (ctx.kb / ".git" / "shallow").exists() else "the clone is not shallow"


@case("git/kb-in-subfolder", phases=_IN_GIT_ONLY)
def _git_subfolder(ctx: Ctx) -> str | None:
    """The KB is a folder with a space and an accent in a larger repository; notes outside it are never touched."""
    if _no_git():
        return _no_git()
    folder = "notes dir é/"
    ctx.target = str(ctx.kb / folder)
    ctx.write(folder + "good.md", "---\ntitle: Good\n---\n# Good\n\nSee [[other]].\n")
    ctx.write(folder + "other.md", "# Other\n\nBack to [[good]].\n")
    ctx.write(folder + "sub dir/Zèbra note.md", "# Zèbra Note\n\nA note with an accented name. [[good]]\n")
    ctx.write(folder + "sub dir/mentions.md", "# Mentions\n\nSee the zèbra note. [[good]]\n")
    _add_fixable(ctx, folder)
    ctx.write("outside.md", "# Outside\n\nThe zebra crossing and the lighthouse keeper, outside the KB.\n")
    _git(ctx, "init", "-q")
    _git(ctx, "add", "-A")
    _git(ctx, "commit", "-q", "-m", "first")
    return None


@case("git/linked-worktree", phases=_IN_GIT_ONLY)
def _git_worktree(ctx: Ctx) -> str | None:
    """The KB is a linked worktree (``git worktree add``) of another repository, on its own branch."""
    if _no_git():
        return _no_git()
    origin = ctx.kb / "origin"
    ctx.write("origin/good.md", "---\ntitle: Good\n---\n# Good\n\nSee [[other]].\n")
    ctx.write("origin/other.md", "# Other\n\nBack to [[good]].\n")
    _add_fixable(ctx, "origin/")
    _git_in(ctx, origin, "init", "-q")
    _git_in(ctx, origin, "add", "-A")
    _git_in(ctx, origin, "commit", "-q", "-m", "first")
    _git_in(ctx, origin, "worktree", "add", "-q", "-b", "wt-branch", str(ctx.kb / "wt"))
    ctx.target = str(ctx.kb / "wt")
    return None


def _concurrent_mutate_runner(case_: Case, ctx: Ctx, harness: Harness) -> list[Result]:
    """Two ``kbmine mutate`` at once: one waits its turn or refuses in one line; no fix is made twice."""
    pair = [replace(MUTATE, name=f"mutate#{i}") for i in (1, 2)]
    results = harness.execute_many(case_, ctx, pair)
    if all(result.code == 2 for result in results):
        results[1].reasons.append("both concurrent runs refused")
    listed = harness.execute(case_, ctx, REVIEW_LIST)
    results.append(listed)
    if isinstance(listed.document, list):
        fingerprints = [c.get("trailers", {}).get("Kbmine-Fingerprint") for c in listed.document if isinstance(c, dict)]
        if len(fingerprints) != len(set(fingerprints)):
            listed.reasons.append(f"a fix was committed twice: {fingerprints}")
        if not fingerprints:
            listed.reasons.append("no fix was made at all")
    problem = _fsck(ctx)
    if problem:
        listed.reasons.append(problem)
    return results


@case(
    "git/concurrent-mutate", runner=_concurrent_mutate_runner,
    expect={"mutate#1": OK | ERROR, "mutate#2": OK | ERROR}, mentions=("another kbmine run",),
)
def _git_concurrent_mutate(ctx: Ctx) -> str | None:
    """Two ``kbmine mutate`` runs at the same time on one repository (the lock)."""
    if _no_git():
        return _no_git()
    for i in range(150):
        ctx.write(f"many/n{i}.md", f"# N{i}\n\nWe met the lighthouse keeper. [[many/n{(i + 7) % 150}]]\n")
    _git_kb(ctx)
    return None


def _concurrent_runner(case_: Case, ctx: Ctx, harness: Harness) -> list[Result]:
    """Two ``kbmine check --format json`` at once: cold cache, then warm; both succeed with the same findings."""
    results: list[Result] = []
    for round_name in ("cold", "warm", "nocache"):
        command = CHECK_JSON_NOCACHE if round_name == "nocache" else CHECK_JSON
        pair = [Command(f"{command.name}#{i}-{round_name}", command.args, command.output) for i in (1, 2)]
        got = harness.execute_many(case_, ctx, pair)
        first, second = got
        if first.findings is not None and second.findings is not None and first.findings != second.findings:
            second.reasons.append(
                f"concurrent runs disagree: {len(first.findings)} vs {len(second.findings)} findings"
            )
        if first.code != second.code:
            second.reasons.append(f"concurrent runs disagree on the exit code: {first.code} vs {second.code}")
        results.extend(got)
    return results


@case("git/concurrent-checks", runner=_concurrent_runner)
def _git_concurrent(ctx: Ctx) -> str | None:
    """Two ``kbmine check`` runs at the same time on the same KB (a git repo with 300 notes)."""
    if _no_git():
        return _no_git()
    for i in range(300):
        ctx.write(f"many/n{i}.md", f"# N{i}\n[[good]] [[many/n{(i + 7) % 300}]] [[missing-{i % 13}]] [x](n{i}.md#nope)\n")
    _git_kb(ctx)
    return None


# ---------------------------------------------------------------------------
# the harness


@dataclass
class Result:
    case: str
    command: str
    argv: list[str] = field(default_factory=list)
    code: int | None = None
    seconds: float = 0.0
    rss_kib: int = 0
    traceback: bool = False
    timed_out: bool = False
    cpu: float = 0.0
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    stderr_tail: str = ""
    stdout_head: str = ""
    findings: list[Any] | None = None
    document: Any = None

    @property
    def passed(self) -> bool:
        return self.skipped is None and not self.reasons

    @property
    def status(self) -> str:
        return "SKIP" if self.skipped is not None else "PASS" if self.passed else "FAIL"

    def line(self) -> str:
        code = "TIMEOUT" if self.timed_out else str(self.code)
        if self.skipped is not None:
            return f"SKIP  {self.case:40} {self.command:24} ({self.skipped})"
        return (
            f"{self.status}  {self.case:40} {self.command:24} exit={code:>3} {self.seconds:6.2f}s "
            f"cpu={self.cpu:6.2f}s rss={self.rss_kib / 1024:5.0f}MiB traceback={'yes' if self.traceback else 'no'}"
        )

    def details(self) -> list[str]:
        out = [f"reason: {reason}" for reason in self.reasons]
        if self.reasons:
            out.append("argv: " + " ".join(_shell_quote(a) for a in self.argv))
            if self.stderr_tail:
                out.append("stderr (tail): " + self.stderr_tail.replace("\n", "\n               "))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case, "command": self.command, "argv": self.argv, "code": self.code,
            "seconds": round(self.seconds, 3), "cpu": round(self.cpu, 3), "rss_kib": self.rss_kib, "traceback": self.traceback,
            "timed_out": self.timed_out, "status": self.status, "reasons": self.reasons, "notes": self.notes,
            "skipped": self.skipped, "stderr_tail": self.stderr_tail,
        }


def _shell_quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


#: Started between the harness and kbmine: a process forked from the (possibly large) harness
#: carries the harness's resident pages into its ``ru_maxrss``, so kbmine is forked from this
#: small interpreter instead and its own peak RSS (including reaped pool workers) is written to
#: the file named by argv[1] (``getrusage(RUSAGE_CHILDREN)``: kbmine and every process it reaped), with its CPU seconds. Exit status and signals are passed through.
#: argv[2] caps kbmine's address space (a runaway read of /dev/zero must not take the machine down).
_RSS_WRAPPER = """
import os, resource, signal, sys
pid = os.fork()
if pid == 0:
    try:
        limit = int(sys.argv[2])
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.execv(sys.argv[3], sys.argv[3:])
    finally:
        os._exit(127)
for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(number, lambda sig, frame: os.kill(pid, sig))
_, status = os.waitpid(pid, 0)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as handle:
    handle.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime:.3f}")
code = os.waitstatus_to_exitcode(status)
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
os._exit(code)
"""


def _cap_prefix() -> list[str]:
    """As root, run kbmine without the capabilities that bypass file permissions."""
    if os.geteuid() != 0 or os.environ.get("ABUSE_KEEP_CAPS"):
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return []
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


@functools.lru_cache(maxsize=1)
def _permission_probe() -> str | None:
    """``None`` when kbmine's processes are subject to file permissions, else why not."""
    if os.geteuid() != 0:
        return None
    prefix = _cap_prefix()
    if not prefix:
        return "running as root and cannot drop CAP_DAC_OVERRIDE (no setpriv, or ABUSE_KEEP_CAPS set)"
    with tempfile.TemporaryDirectory(prefix="kbmine-abuse-probe-") as folder:
        probe = Path(folder) / "locked"
        probe.write_text("x")
        os.chmod(probe, 0)
        completed = subprocess.run(
            [*prefix, sys.executable, "-c", f"open({str(probe)!r}).read()"], capture_output=True, check=False
        )
    if completed.returncode == 0:
        return "running as root: file permissions are not enforced even without CAP_DAC_OVERRIDE"
    return None


def permissions_skip_reason() -> str | None:
    return _permission_probe()


def _snapshot(root: Path, ignore: Iterable[str] = ()) -> dict[str, tuple[Any, ...]]:
    """Every path under ``root`` (no symlink followed) with its type, mode and content hash.

    ``ignore`` names relative paths (at any depth) left out with everything below them.
    """
    ignored = set(ignore)
    found: dict[str, tuple[Any, ...]] = {}
    if not os.path.lexists(root):
        return found
    base = os.fsencode(root)
    stack = [b""]
    while stack:
        relative = stack.pop()
        folder = base + (b"/" + relative if relative else b"")
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            found[os.fsdecode(relative) + "/"] = ("unlistable", exc.errno)
            continue
        for name in names:
            rel = relative + b"/" + name if relative else name
            path = base + b"/" + rel
            key = os.fsdecode(rel)
            if key in ignored:
                continue
            try:
                info = os.lstat(path)
            except OSError as exc:
                found[key] = ("vanished", exc.errno)
                continue
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode):
                found[key] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[key] = ("dir", mode)
                stack.append(rel)
            elif stat.S_ISREG(info.st_mode):
                try:
                    digest = hashlib.sha256()
                    with open(path, "rb") as handle:
                        for block in iter(lambda: handle.read(1 << 20), b""):
                            digest.update(block)
                    found[key] = ("file", mode, info.st_size, digest.hexdigest())
                except OSError:
                    found[key] = ("file", mode, info.st_size, "unreadable", info.st_mtime_ns)
            else:
                found[key] = ("other", stat.S_IFMT(info.st_mode), mode)
    return found


# -- git state ---------------------------------------------------------------------


def _harness_git(ctx: Ctx, *args: str) -> subprocess.CompletedProcess[str]:
    """A read-only git query of the harness about the case's repository (never refreshes the index)."""
    folder = Path(ctx.target) if Path(ctx.target).is_dir() else ctx.kb
    env = {**_git_env(ctx), "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(
        ["git", *args], cwd=folder, env=env, capture_output=True, text=True, errors="surrogateescape", check=False,
        timeout=60,
    )


def _git_ok(ctx: Ctx, *args: str) -> bool:
    return _harness_git(ctx, *args).returncode == 0


def _git_lines(ctx: Ctx, *args: str) -> list[str]:
    """The output of a ``-z`` git query, split (empty when git fails)."""
    completed = _harness_git(ctx, *args)
    return [item for item in completed.stdout.split("\0") if item] if completed.returncode == 0 else []


def _git_dir(ctx: Ctx) -> Path | None:
    """The (common) git directory of the repository holding the case's PATH, if git reads one."""
    if not Path(ctx.target).is_dir() or shutil.which("git") is None or "PATH" in ctx.env_extra:
        return None
    completed = _harness_git(ctx, "rev-parse", "--path-format=absolute", "--git-common-dir")
    if completed.returncode != 0:
        return None
    gitdir = Path(completed.stdout.strip())
    return gitdir if gitdir.is_relative_to(ctx.tmp) else None


def _toplevel_prefix(ctx: Ctx) -> str:
    """The work tree root of the PATH's repository relative to the KB folder, with a slash ("" if the same)."""
    top = _harness_git(ctx, "rev-parse", "--show-toplevel").stdout.strip()
    relative = os.path.relpath(top, ctx.kb) if top else "."
    return "" if relative == "." else relative + "/"


def _kb_relative(ctx: Ctx, name: str) -> str:
    """``name`` inside the case's PATH, relative to the KB folder (the keys of its snapshot)."""
    relative = os.path.relpath(os.path.join(ctx.target, name), ctx.kb)
    return relative


def _kbmine_state(key: str) -> bool:
    """Paths of a git directory that belong to kbmine: its state folder and the review branch."""
    parts = key.split("/")
    return (
        parts[0] == "kbmine"
        or (parts[0] == "worktrees" and len(parts) > 2 and parts[2] == "kbmine")
        or key == "refs/heads/kbmine"
        or key.startswith("refs/heads/kbmine/")
    )


#: Files of a git dir (or a linked worktree's) that accepting fixes (a cherry-pick) rewrites.
_ACCEPT_WRITES = frozenset({"index", "ORIG_HEAD", "COMMIT_EDITMSG", "AUTO_MERGE"})


def _repo_state(gitdir: Path) -> dict[str, tuple[Any, ...]]:
    """Every file of the git directory but objects, reflogs and kbmine's own state: HEAD, index, refs, config, markers."""
    return {
        k: v
        for k, v in _snapshot(gitdir, ("objects",)).items()
        if not _kbmine_state(k) and "logs" not in k.split("/")[:3]
    }


def _refs(ctx: Ctx) -> dict[str, str]:
    """Every ref with its commit, plus ``HEAD`` and the branch it names (``HEAD-branch``)."""
    refs: dict[str, str] = {}
    for line in _harness_git(ctx, "for-each-ref", "--format=%(refname) %(objectname)").stdout.splitlines():
        name, _, sha = line.partition(" ")
        refs[name] = sha
    refs["HEAD"] = _harness_git(ctx, "rev-parse", "-q", "--verify", "HEAD").stdout.strip()
    refs["HEAD-branch"] = _harness_git(ctx, "symbolic-ref", "-q", "HEAD").stdout.strip()
    return refs


def _fsck(ctx: Ctx) -> str | None:
    """``git fsck`` of the case's repository: ``None`` when clean."""
    completed = _harness_git(ctx, "fsck", "--no-progress", "--no-dangling")
    if completed.returncode == 0 and not completed.stdout.strip():
        return None
    return "git fsck is not clean: " + (completed.stdout + completed.stderr).strip().replace("\n", " | ")[:300]


#: Notes the in-git phase adds: each mentions the other two without a link, so mutate has fixes to make.
FIXABLE = {
    "zebra-crossing.md": "# Zebra Crossing\n\nStripes on the road. [[good]]\n",
    "lighthouse-keeper.md": "# Lighthouse Keeper\n\nKeeps the light. [[good]]\n",
    "walk.md": "# Walk\n\nWe met the lighthouse keeper at the zebra crossing. [[good]]\n",
}


def _add_fixable(ctx: Ctx, folder: str = "") -> None:
    for name, text in FIXABLE.items():
        ctx.write(f"{folder}{name}", text)


def _commit_kb(ctx: Ctx) -> str | None:
    """Make the case's KB a repository with one commit of everything (hostile notes included)."""
    if not Path(ctx.target).is_dir():
        return "PATH is not a folder"
    _add_fixable(ctx, _kb_relative(ctx, "") if Path(ctx.target) != ctx.kb else "")
    try:
        _git(ctx, "init", "-q")
        # Files git cannot add (a FIFO, say) stay untracked, as in a real repository.
        subprocess.run(
            ["git", "add", "-A", "--ignore-errors"], cwd=ctx.kb, env=_git_env(ctx), capture_output=True, check=False,
            timeout=120,
        )
        _git(ctx, "commit", "-q", "--no-verify", "-m", "hostile notes")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        return f"could not commit the KB: {str(detail).strip()[:200]}"
    return None


def _bind(ctx: Ctx, command: Command) -> Command:
    """``command`` as it runs here: with no spec or fix to name, it must fail (exit 2)."""
    for placeholder in ("{spec}", "{fix}", "{fix-last}"):
        if placeholder in command.args and placeholder[1:-1] not in ctx.data:
            args = tuple(NO_SUCH_ID if a == placeholder else a for a in command.args)
            if command.expect == ERROR:  # it fails anyway, for its own reason
                return replace(command, args=args)
            return replace(command, args=args, expect=ERROR, mentions=(NO_SUCH_ID,))
    return command


# -- write tracing -------------------------------------------------------------------

#: System calls that change the file system (plus those that move the working folder).
_WRITE_CALLS = (
    "open", "openat", "openat2", "creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink",
    "unlinkat", "rmdir", "symlink", "symlinkat", "link", "linkat", "truncate", "chmod", "fchmodat",
)
_CWD_CALLS = ("chdir", "fchdir", "clone", "clone3", "fork", "vfork")
_OPEN_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
#: Places every process may write: the bit bucket, terminals and POSIX semaphores (multiprocessing).
_ALWAYS_WRITABLE = ("/dev/null", "/dev/tty", "/dev/pts/", "/dev/shm/")


@functools.lru_cache(maxsize=1)
def _strace() -> str | None:
    """The strace binary, if it can trace a child here (seccomp filtering keeps it cheap)."""
    binary = shutil.which("strace")
    if binary is None:
        return None
    # The same options as the real runs: an architecture without some of the calls (no plain
    # open() on arm64) makes strace refuse them, and then the battery runs untraced.
    probe = subprocess.run(
        [*_cap_prefix(), *_strace_options(binary, Path(os.devnull)), "true"], capture_output=True, check=False
    )
    return binary if probe.returncode == 0 else None


def _strace_options(binary: str, trace_path: Path) -> list[str]:
    calls = ",".join(_WRITE_CALLS + _CWD_CALLS)
    return [binary, "-f", "--seccomp-bpf", "-qq", "-y", "-s", "65535", "-e", f"trace={calls}", "-o", str(trace_path), "--"]


def _trace_prefix(trace_path: Path) -> list[str]:
    binary = _strace()
    return [] if binary is None else _strace_options(binary, trace_path)


_TRACE_LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")
_TRACE_RESULT = re.compile(r"^(.*)\)\s+=\s+(.*)$")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
#: A directory fd argument followed by a path; ``-y`` shows the fd's path (also for AT_FDCWD).
_FD_PATH = re.compile(r"(?:^|,\s*)(AT_FDCWD|-?\d+)(?:<([^>]*)>)?\s*,\s*\"")


def _c_string(text: str) -> str:
    """An strace string literal (C escapes) back to the path it names."""
    raw = codecs.escape_decode(text.encode("latin-1", "backslashreplace"))[0]
    return os.fsdecode(raw) if isinstance(raw, bytes) else str(raw)


def _writes_outside(trace_path: Path, allowed_root: Path) -> list[str]:
    """Paths outside ``allowed_root`` that the traced processes wrote to (successful calls only)."""
    try:
        text = trace_path.read_text(encoding="latin-1")
    except OSError:
        return []
    roots = {str(allowed_root), os.path.realpath(allowed_root)}
    cwd: dict[str, str] = {}
    pending: dict[str, str] = {}
    outside: list[str] = []
    for line in text.splitlines():
        match = _TRACE_LINE.match(line)
        if not match:
            continue
        pid, resumed, call, rest = match.group(1), match.group(2), match.group(3), match.group(4)
        if rest.endswith("<unfinished ...>"):
            pending[pid] = (call or resumed or "") + "\x00" + rest[: -len("<unfinished ...>")]
            continue
        if resumed:
            name, _, head = pending.pop(pid, resumed + "\x00").partition("\x00")
            call, rest = name, head + rest
        assert call is not None
        ended = _TRACE_RESULT.match(rest)
        if not ended or ended.group(2).startswith(("-1", "?")):
            continue
        args, result = ended.group(1), ended.group(2)
        here = cwd.get(pid, str(allowed_root))
        if call in ("clone", "clone3", "fork", "vfork"):
            child = result.split()[0].split("<")[0]
            cwd.setdefault(child, here)  # the child may have moved already (its lines can come first)
            continue
        strings = [_c_string(m) for m in _STRING.findall(args)]
        if call == "chdir" and strings:
            cwd[pid] = os.path.normpath(os.path.join(here, strings[0]))
            continue
        if call == "fchdir":
            fd = re.search(r"<([^>]*)>", args)
            if fd:
                cwd[pid] = fd.group(1)
            continue
        if call not in _WRITE_CALLS or not strings:
            continue
        if call in ("open", "openat", "openat2", "creat"):
            if call != "creat" and not any(flag in args for flag in _OPEN_WRITE_FLAGS):
                continue
            opened = re.search(r"<([^>]*)>", result)
            targets = [opened.group(1)] if opened else [_join(args, strings[0], here)]
        elif call in ("rename", "renameat", "renameat2", "link", "linkat"):
            dirs = [m.group(2) for m in _FD_PATH.finditer(args)] or [None, None]
            targets = [os.path.join(d or here, s) for d, s in zip(dirs + [None] * 2, strings[:2])]
        elif call in ("symlink", "symlinkat"):
            targets = [_join(args.split(",", 1)[-1], strings[-1], here)]
        else:
            targets = [_join(args, strings[0], here)]
        for target in targets:
            target = os.path.normpath(target)
            if any(target == root or target.startswith(root + "/") for root in roots):
                continue
            if target.startswith(_ALWAYS_WRITABLE):
                continue
            outside.append(f"{call} {target}")
    return list(dict.fromkeys(outside))


def _join(args: str, path: str, here: str) -> str:
    """``path`` of a call resolved against its directory fd (``-y`` shows its path) or the working folder."""
    if path.startswith("/"):
        return path
    fd = _FD_PATH.search(args)
    if fd and fd.group(2):
        return os.path.join(fd.group(2), path)
    return os.path.join(here, path)


def _diff(before: dict[str, Any], after: dict[str, Any], limit: int = 5) -> str:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    parts = []
    for label, items in (("added", added), ("removed", removed), ("changed", changed)):
        if items:
            shown = ", ".join(repr(i) for i in items[:limit]) + (" ..." if len(items) > limit else "")
            parts.append(f"{label} {shown}")
    return "; ".join(parts)


def _strict_json(data: bytes) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


@dataclass
class _Running:
    command: Command
    argv: list[str]
    proc: subprocess.Popen[bytes]
    started: float
    stdout_path: Path
    stderr_path: Path
    rss_path: Path
    trace_path: Path
    code: int | None = None
    rss_kib: int = 0
    cpu: float = 0.0
    seconds: float = 0.0
    timed_out: bool = False
    stray: bool = False


class Harness:
    """Runs commands for cases and checks every promise after each one."""

    def __init__(self, *, small: bool = False, quick: bool = False, timeout: float = TIMEOUT, keep: bool = False,
                 python: str | None = None, log: Callable[[Result], None] | None = None,
                 cpu_limit: float | None = None, trace: bool = True) -> None:
        self.small = small
        self.quick = quick
        self.timeout = timeout
        #: When set, the budget is CPU seconds (kbmine and its workers) and ``timeout`` only
        #: catches hangs: on a machine shared with other work, wall time measures the others.
        self.cpu_limit = cpu_limit
        #: Trace file-system writes with strace (where it works) to prove none lands outside the case folder.
        self.trace = trace and _trace_prefix(Path(os.devnull)) != []
        self.keep = keep
        self.python = python or sys.executable
        self.log = log
        self._counter = 0
        self._lock = threading.Lock()

    # -- case lifecycle --------------------------------------------------------

    def run_case(self, case_: Case) -> list[Result]:
        tmp = Path(tempfile.mkdtemp(prefix="kbmine-abuse-"))
        ctx = Ctx(tmp=tmp, small=self.small)
        try:
            for folder in (ctx.kb, ctx.sentinel, ctx.home / ".cache", ctx.out, tmp / "tmp"):
                folder.mkdir(parents=True, exist_ok=True)
            (ctx.sentinel / "secret.md").write_text(f"# Secret\n\n{SECRET}\n")
            (ctx.sentinel / "victim.sqlite").write_bytes(b"")
            (ctx.sentinel / "folder").mkdir()
            (ctx.sentinel / "folder" / "note.md").write_text(f"[[x]] {SECRET}\n")
            ctx.target = str(ctx.kb)
            try:
                skip = case_.build(ctx)
            except OSError as exc:  # a case that cannot be built here (e.g. the file system refuses a name)
                skip = f"could not build: {type(exc).__name__}: {exc}"
            if skip:
                result = Result(case_.name, "*", skipped=skip)
                self._emit(result)
                return [result]
            self._baseline(ctx)
            ctx.data["sentinel"] = _snapshot(ctx.sentinel)
            ctx.data["top"] = set(os.listdir(tmp))
            ctx.data["home"] = _snapshot(ctx.home)
            if case_.runner is not None:
                results = case_.runner(case_, ctx, self)
            else:
                results = self._sequential(case_, ctx)
            for phase in case_.phases_for(self.quick):
                results.extend(self._phase(case_, ctx, phase))
            return results
        finally:
            for cleanup in reversed(ctx.cleanups):
                try:
                    cleanup()
                except OSError:
                    pass
            if self.keep:
                print(f"# kept {tmp}", file=sys.stderr)
            else:
                _force_rmtree(tmp)

    def _sequential(self, case_: Case, ctx: Ctx) -> list[Result]:
        return [self.execute(case_, ctx, command) for command in case_.commands_for(self.quick)]

    def _baseline(self, ctx: Ctx) -> None:
        """Snapshot the KB (and its repository, if it has one) as the commands must leave them."""
        gitdir = _git_dir(ctx)
        ignored = {".kbmine", _kb_relative(ctx, ".kbmine")}
        if gitdir is not None:
            ctx.data["gitdir"] = gitdir
            ignored.add(os.path.relpath(gitdir, ctx.kb))
            ctx.data["repo"] = _repo_state(gitdir)
            ctx.data["refs"] = _refs(ctx)
        ctx.data["ignored"] = frozenset(ignored)
        ctx.data["kb"] = _snapshot(ctx.kb, ignored)

    def _phase(self, case_: Case, ctx: Ctx, phase: str) -> list[Result]:
        """Run one of the PHASES after the case's own commands (see PHASES)."""
        if phase == "specs":
            return [self.execute(case_, ctx, command) for command in SPECS]
        in_repo = (
            "gitdir" in ctx.data
            or os.path.lexists(ctx.kb / ".git")
            or (Path(ctx.target).is_dir() and _not_in_repo(Path(ctx.target)) is not None)
        )
        if phase == "outside-git":
            if in_repo:
                return []
            return [self.execute(case_, ctx, command) for command in OUTSIDE_GIT]
        if ctx.kb_mutable or _no_git():
            return []
        if not in_repo:
            problem = _commit_kb(ctx)
            if problem:
                result = Result(case_.name, "in-git", skipped=problem)
                self._emit(result)
                return [result]
            self._baseline(ctx)
        results = [self.execute(case_, ctx, command) for command in IN_GIT]
        if "gitdir" in ctx.data:
            fsck = Result(case_.name, "git-fsck", code=0)
            problem = _fsck(ctx)
            if problem:
                fsck.reasons.append(problem)
            self._emit(fsck)
            results.append(fsck)
        return results

    # -- running ---------------------------------------------------------------

    def execute(self, case_: Case, ctx: Ctx, command: Command) -> Result:
        return self.execute_many(case_, ctx, [command])[0]

    def execute_many(self, case_: Case, ctx: Ctx, commands: list[Command]) -> list[Result]:
        """Start ``commands`` at once, wait for all, then check each (snapshots are shared)."""
        running = [self._spawn(ctx, _bind(ctx, command)) for command in commands]
        threads = [threading.Thread(target=self._wait, args=(r,)) for r in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results = [self._result(case_, ctx, r) for r in running]
        self._check_filesystem(ctx, results, [r.command for r in running])
        for result, run in zip(results, running):
            self._check_writes(ctx, run, result)
        for result in results:
            self._consistency(ctx, result)
            self._emit(result)
        return results

    def _env(self, ctx: Ctx) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("GIT_", "KBMINE", "XDG_")) and k not in ("CI", "HOME", "TMPDIR")
        }
        env.update(
            HOME=str(ctx.home),
            XDG_CACHE_HOME=str(ctx.home / ".cache"),
            TMPDIR=str(ctx.tmp / "tmp"),
        )
        env.update(ctx.env_extra)
        return env

    def _spawn(self, ctx: Ctx, command: Command) -> _Running:
        with self._lock:
            self._counter += 1
            number = self._counter
        args = [a.replace("{kb}", ctx.target) for a in command.args]
        args = [ctx.data.get(a[1:-1], a) if a in ("{spec}", "{fix}", "{fix-last}") else a for a in args]
        stdout_path = ctx.out / f"{number}.{command.name}.stdout"
        stderr_path = ctx.out / f"{number}.{command.name}.stderr"
        rss_path = ctx.out / f"{number}.{command.name}.rss"
        trace_path = ctx.out / f"{number}.{command.name}.trace"
        python = shutil.which(self.python) or self.python
        argv = [
            *_cap_prefix(), sys.executable, "-I", "-S", "-c", _RSS_WRAPPER, str(rss_path), str(ADDRESS_SPACE_CAP),
            *(_trace_prefix(trace_path) if self.trace else []), python, "-m", "kbmine", *args,
        ]
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(
                argv, cwd=ctx.tmp, env=self._env(ctx), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True,
            )
        return _Running(
            command, [python, "-m", "kbmine", *args], proc, started, stdout_path, stderr_path, rss_path, trace_path
        )

    def _wait(self, running: _Running) -> None:
        proc = running.proc
        reaped = threading.Event()
        lock = threading.Lock()

        def signal_group(number: int) -> None:
            with lock:
                if not reaped.is_set():
                    try:
                        os.killpg(proc.pid, number)
                    except ProcessLookupError:
                        pass

        def expire() -> None:
            # SIGTERM first (the wrapper passes it on and still reports kbmine's peak RSS), then SIGKILL.
            running.timed_out = True
            signal_group(signal.SIGTERM)

        remaining = max(0.0, running.started + self.timeout - time.perf_counter())
        timers = [threading.Timer(remaining, expire), threading.Timer(remaining + 2.0, signal_group, (signal.SIGKILL,))]
        for timer in timers:
            timer.daemon = True
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        running.seconds = time.perf_counter() - running.started
        with lock:
            reaped.set()
        for timer in timers:
            timer.cancel()
        running.code = os.waitstatus_to_exitcode(status)
        proc.returncode = running.code  # reaped here: keep subprocess from waiting on a reused pid
        try:
            rss, cpu = running.rss_path.read_text().split()
            running.rss_kib, running.cpu = int(rss), float(cpu)
        except (OSError, ValueError):  # the wrapper could not report: its own (inflated) figures
            running.rss_kib, running.cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        # Anything of ours still alive in the group (pool workers, git) was left behind: report and end it.
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        if not running.timed_out:
            time.sleep(0.2)  # a worker may be exiting right now
            try:
                os.killpg(proc.pid, 0)
                running.stray = True
            except (ProcessLookupError, PermissionError):
                return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    # -- checking --------------------------------------------------------------

    def _result(self, case_: Case, ctx: Ctx, running: _Running) -> Result:
        command = running.command
        stdout = running.stdout_path.read_bytes()
        stderr = running.stderr_path.read_bytes()
        result = Result(
            case_.name, command.name, running.argv, running.code, running.seconds, running.rss_kib,
            traceback=TRACEBACK in stdout or TRACEBACK in stderr, timed_out=running.timed_out, cpu=running.cpu,
        )
        result.stderr_tail = stderr.decode("utf-8", "replace").strip()[-1500:]
        result.stdout_head = stdout[:500].decode("utf-8", "replace")
        reasons = result.reasons
        expected, mentions = case_.expected(command)
        if running.timed_out:
            reasons.append(f"did not finish in {self.timeout:g}s (killed)")
        if self.cpu_limit is not None and running.cpu > self.cpu_limit:
            reasons.append(f"used {running.cpu:.1f}s of CPU, more than {self.cpu_limit:g}s")
        elif running.code not in expected:
            reasons.append(f"exit code {running.code}, expected {'/'.join(map(str, sorted(expected)))}")
        if result.traceback:
            reasons.append("a Python traceback was printed")
        if running.rss_kib > RSS_LIMIT_KIB:
            reasons.append(f"peak RSS {running.rss_kib // 1024} MiB exceeds {RSS_LIMIT_KIB // 1024} MiB")
        if running.stray:
            reasons.append("left processes running after it exited")
        text_err = stderr.decode("utf-8", "replace")
        if b"internal error" in stderr:
            reasons.append("reported an internal error: " + _first_line(text_err, "internal error"))
        if running.code == 2 and not running.timed_out and not result.traceback:
            lines = [line for line in text_err.splitlines() if line.strip()]
            if len(lines) != 1 or not lines[0].startswith("kbmine: error:"):
                shown = " | ".join(lines[:4]) + (" | ..." if len(lines) > 4 else "")
                reasons.append(f"exit 2 must print exactly one line 'kbmine: error: ...'; got {len(lines)}: {shown}")
            else:
                missing = [m for m in mentions if m not in lines[0]]
                if missing and 2 in expected:
                    reasons.append(f"error line does not name {', '.join(map(repr, missing))}: {lines[0]}")
        elif running.code in OK and text_err.strip():
            result.notes.append("stderr: " + text_err.strip().splitlines()[0][:200])
        for secret, label in ((SECRET.encode(), "the sentinel secret"), ((PASSWD_LINE or "").encode(), "/etc/passwd")):
            if secret and (secret in stdout or secret in stderr):
                reasons.append(f"{label} appears in the output")
        for needle in case_.forbidden:
            if needle.encode() in stdout:
                reasons.append(f"output mentions {needle!r}, which is only reachable outside the KB")
        if running.code in OK and not running.timed_out and command.output:
            problem = self._check_output(command.output, stdout, result)
            if problem:
                reasons.append(problem)
        return result

    @staticmethod
    def _check_output(kind: str, stdout: bytes, result: Result) -> str | None:
        if kind == "xml":
            try:
                ElementTree.fromstring(stdout)
            except ElementTree.ParseError as exc:
                return f"output is not well-formed XML: {exc}"
            return None
        try:
            document = _strict_json(stdout)
        except (ValueError, UnicodeDecodeError) as exc:
            return f"output is not strict JSON: {str(exc)[:200]}"
        result.document = document
        if kind == "json":
            return None
        if not isinstance(document, dict):
            return "JSON output is not an object"
        if kind == "mine-json":
            if not isinstance(document.get("specs"), list):
                return "mine JSON lacks the 'specs' list"
        elif kind == "check-json":
            findings = document.get("findings")
            if not isinstance(findings, list) or not isinstance(document.get("summary"), dict):
                return "check JSON lacks the 'findings' list or 'summary' object"
            result.findings = findings
            failing = [f for f in findings if not isinstance(f, dict) or f.get("severity") != "info"]
            if bool(failing) != (result.code == 1):
                return f"exit code {result.code} with {len(failing)} findings above info"
        elif kind == "stats-json" and not isinstance(document.get("notes"), int):
            return "stats JSON lacks 'notes'"
        elif kind == "graph-json" and not ("nodes" in document and ("edges" in document or "links" in document)):
            return "graph JSON lacks 'nodes'/'edges'"
        return None

    def _check_filesystem(self, ctx: Ctx, results: list[Result], commands: list[Command]) -> None:
        problems = []
        if ctx.marker.exists():
            problems.append("a !!python payload ran (marker file created)")
            ctx.marker.unlink()
        sentinel = _snapshot(ctx.sentinel)
        if sentinel != ctx.data["sentinel"]:
            problems.append("wrote outside the KB, in the sentinel folder: " + _diff(ctx.data["sentinel"], sentinel))
            ctx.data["sentinel"] = sentinel
        top = set(os.listdir(ctx.tmp))
        new = top - ctx.data["top"] - ctx.extra_top
        if new:
            problems.append(f"created {sorted(new)} next to the KB")
            ctx.data["top"] = top
        leftovers = [name for name in os.listdir(ctx.tmp / "tmp") if name not in ctx.data.setdefault("tmp", set(os.listdir(ctx.tmp / "tmp")))]
        if leftovers:
            problems.append(f"left {sorted(leftovers)[:3]} in TMPDIR")
            ctx.data["tmp"] |= set(leftovers)
        accepted: set[str] = set()
        if "gitdir" in ctx.data:
            problems.extend(self._check_repo(ctx, commands, accepted))
        if not ctx.kb_mutable:
            kb = _snapshot(ctx.kb, ctx.data["ignored"])
            if kb != ctx.data["kb"]:
                allowed = {_kb_relative(ctx, name) for command in commands for name in command.changes} | accepted
                changed = {k for k in set(kb) | set(ctx.data["kb"]) if kb.get(k) != ctx.data["kb"].get(k)}
                if changed - allowed:
                    problems.append(
                        "changed the KB: " + _diff({k: ctx.data["kb"].get(k) for k in changed - allowed if k in ctx.data["kb"]},
                                                   {k: kb.get(k) for k in changed - allowed if k in kb})
                    )
                ctx.data["kb"] = kb
        home = _snapshot(ctx.home)
        if home != ctx.data["home"]:
            for result in results:
                result.notes.append("wrote under HOME/XDG_CACHE_HOME: " + _diff(ctx.data["home"], home, 2))
            ctx.data["home"] = home
        for result in results:
            result.reasons.extend(problems)
            self._remember(ctx, result)

    def _check_repo(self, ctx: Ctx, commands: list[Command], accepted: set[str]) -> list[str]:
        """The repository is as before, but for what the commands promise (``Command.git``).

        ``accepted`` receives the KB paths an accepted fix changed (they may differ in the tree).
        """
        problems = []
        gitdir: Path = ctx.data["gitdir"]
        promises = {command.git for command in commands}
        before, after = ctx.data["repo"], _repo_state(gitdir)
        refs_before, refs_after = ctx.data["refs"], _refs(ctx)
        allowed: set[str] = set()
        review = "refs/heads/kbmine/review"
        if "accept" in promises and refs_before.get("HEAD") != refs_after.get("HEAD"):
            old, new = refs_before.get("HEAD", ""), refs_after.get("HEAD", "")
            if not _git_ok(ctx, "merge-base", "--is-ancestor", old, new):
                problems.append(f"accepting moved the branch from {old[:12]} to {new[:12]}, which does not build on it")
            branch = refs_after.get("HEAD-branch", "")
            allowed |= {branch, "refs/heads", "refs"}
            # What a cherry-pick writes, in the git dir or (in a linked worktree) the worktree's own.
            allowed |= {k for k in set(before) | set(after) if k.rpartition("/")[2] in _ACCEPT_WRITES}
            top = _toplevel_prefix(ctx)
            for path in _git_lines(ctx, "diff", "--name-only", "-z", old, new):
                accepted.add(top + path)
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)} - allowed
        if changed:
            problems.append("changed the repository: " + _diff({k: before[k] for k in changed if k in before},
                                                               {k: after[k] for k in changed if k in after}))
        moved = {k for k in set(refs_before) | set(refs_after) if refs_before.get(k) != refs_after.get(k)}
        moved -= {"HEAD", "HEAD-branch", refs_after.get("HEAD-branch", "")} if "accept" in promises else set()
        if "review" in promises:
            moved.discard(review)
            tip = refs_after.get(review)
            if tip and refs_after.get("HEAD"):
                messages = _git_lines(ctx, "log", "-z", "--format=%B", f"{refs_after['HEAD']}..{tip}")
                if any("Kbmine-Fingerprint:" not in message for message in messages):
                    problems.append("the review branch holds a commit that is not a whole kbmine fix")
        if moved:
            problems.append("moved refs: " + ", ".join(f"{k} {refs_before.get(k, '-')[:12]}->{refs_after.get(k, '-')[:12]}" for k in sorted(moved)))
        if promises & {"review", "accept"}:
            problem = _fsck(ctx)
            if problem:
                problems.append(problem)
        ctx.data["repo"], ctx.data["refs"] = after, refs_after
        return problems

    def _remember(self, ctx: Ctx, result: Result) -> None:
        """Keep the ids later commands of the case refer to (``{spec}``, ``{fix}``, ``{fix-last}``)."""
        document = result.document
        if result.command == "mine" and isinstance(document, dict):
            ids = [s.get("id") for s in document.get("specs", []) if isinstance(s, dict) and s.get("state") == "proposed"]
            if ids:
                ctx.data["spec"] = ids[0]
        if result.command == "mutate" and isinstance(document, dict):
            shas = [c.get("sha") for c in document.get("committed", []) if isinstance(c, dict)]
            if shas:
                ctx.data["fix"], ctx.data["fix-last"] = shas[0], shas[-1]

    def _check_writes(self, ctx: Ctx, running: _Running, result: Result) -> None:
        """Fail the command if its trace shows a write outside the case folder."""
        if not self.trace:
            return
        outside = _writes_outside(running.trace_path, ctx.tmp)
        if outside:
            result.reasons.append(f"wrote outside the case folder: {', '.join(outside[:3])}" + (" ..." if len(outside) > 3 else ""))

    def _consistency(self, ctx: Ctx, result: Result) -> None:
        if ctx.kb_mutable:
            return
        codes = ctx.data.setdefault("codes", {})
        if result.command in ("check-text", "check-json", "check-github") and result.code in OK:
            others = {name: code for name, code in codes.items() if code != result.code}
            if others:
                result.reasons.append(f"exit {result.code} differs from {others}")
            codes[result.command] = result.code
        if result.command == "check-json" and result.findings is not None:
            ctx.data["findings"] = result.findings
        if result.command == "check-json-nocache" and result.findings is not None and "findings" in ctx.data:
            cached = ctx.data["findings"]
            if cached != result.findings:
                result.reasons.append(
                    f"--no-cache findings differ from the cached run's ({len(result.findings)} vs {len(cached)}): "
                    + _first_difference(cached, result.findings)
                )

    def _emit(self, result: Result) -> None:
        if self.log is not None:
            self.log(result)


def _first_line(text: str, needle: str) -> str:
    for line in text.splitlines():
        if needle in line:
            return line.strip()[:300]
    return ""


def _first_difference(a: list[Any], b: list[Any]) -> str:
    for x, y in zip(a, b):
        if x != y:
            return f"cached {json.dumps(x)[:200]} vs fresh {json.dumps(y)[:200]}"
    return "one list is a prefix of the other"


def _force_rmtree(path: Path) -> None:
    def fix(function: Any, target: str, exc: Any) -> None:
        try:
            os.chmod(os.path.dirname(target), 0o755)
            os.chmod(target, 0o755)
        except OSError:
            pass
        try:
            function(target)
        except OSError:
            pass

    for root, dirs, _ in os.walk(path):
        for name in dirs:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                try:
                    os.chmod(full, 0o755)
                except OSError:
                    pass
    shutil.rmtree(path, onerror=fix)


def run_case(
    name: str, *, small: bool = False, quick: bool = False, timeout: float = TIMEOUT, cpu_limit: float | None = None
) -> list[Result]:
    """Run one case by name (the pytest entry point)."""
    return Harness(small=small, quick=quick, timeout=timeout, cpu_limit=cpu_limit).run_case(CASES[name])


# ---------------------------------------------------------------------------
# main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="only", action="append", default=[], help="run cases whose name contains this")
    parser.add_argument("--small", action="store_true", help="smaller sizes for the big-file cases")
    parser.add_argument("--quick", action="store_true", help="the five core commands only (as pytest does)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="wall seconds per command (default 10)")
    parser.add_argument("--cpu-limit", type=float, help="also fail a command that uses more CPU seconds than this")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--json", type=Path, help="also write every result to this JSON file")
    parser.add_argument("--python", help="interpreter that has kbmine installed (default: this one)")
    parser.add_argument("--no-trace", action="store_true", help="do not trace file-system writes with strace")
    options = parser.parse_args(argv)

    selected = [c for c in CASES.values() if not options.only or any(k in c.name for k in options.only)]
    if options.list:
        for c in selected:
            print(f"{c.name:40} {'[slow] ' if c.slow else ''}{c.doc.splitlines()[0] if c.doc else ''}")
        return 0
    probe = _permission_probe()
    prefix = _cap_prefix()
    print(f"# kbmine abuse battery: {len(selected)} cases, timeout {options.timeout:g}s, python {options.python or sys.executable}")
    if prefix:
        print("# running as root: kbmine runs without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (" + " ".join(prefix) + ")")
    if probe:
        print(f"# permission cases will be skipped: {probe}")
    if not options.no_trace and _strace() is None:
        print("# strace is missing or cannot trace here: writes outside the case folder are only found by snapshots")
    sys.stdout.flush()

    def log(result: Result) -> None:
        print(result.line())
        for detail in result.details():
            print(f"      {detail}")
        sys.stdout.flush()

    harness = Harness(small=options.small, quick=options.quick, timeout=options.timeout, keep=options.keep,
                      python=options.python, log=log, cpu_limit=options.cpu_limit, trace=not options.no_trace)
    results: list[Result] = []
    started = time.perf_counter()
    for c in selected:
        try:
            results.extend(harness.run_case(c))
        except Exception as exc:  # a harness bug must not hide the other cases
            broken = Result(c.name, "*", reasons=[f"harness error: {type(exc).__name__}: {exc}"])
            log(broken)
            results.append(broken)
    passed = sum(r.status == "PASS" for r in results)
    failed = sum(r.status == "FAIL" for r in results)
    skipped = [r for r in results if r.status == "SKIP"]
    if options.json:
        options.json.write_text(json.dumps([r.to_dict() for r in results], indent=1) + "\n")
    failing = sorted({r.case for r in results if r.status == "FAIL"})
    if failing:
        print(f"# failing cases: {', '.join(failing)}")
    for name in failing:
        if CASES[name].known_bug:
            print(f"# known bug, reported: {name}: {CASES[name].known_bug}")
    print(f"# {len(skipped)} skipped" + (": " + "; ".join(f"{r.case} ({r.skipped})" for r in skipped) if skipped else ""))
    ran = [r for r in results if r.status != "SKIP" and r.argv]
    if ran:
        peak = max(ran, key=lambda r: r.rss_kib)
        slowest = max(ran, key=lambda r: r.seconds)
        print(
            f"# {len({r.case for r in ran})} cases, {len(ran)} commands in {time.perf_counter() - started:.0f}s; "
            f"peak RSS {peak.rss_kib / 1024:.0f} MiB ({peak.case} {peak.command}); "
            f"slowest {slowest.seconds:.1f}s ({slowest.case} {slowest.command})"
        )
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
