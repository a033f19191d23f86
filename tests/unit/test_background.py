"""Rules run in a forked child give the findings, notices and cache entries they give in-process."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import kbmine.parallel
from kbmine.cache import ParseCache
from kbmine.checks import run_checks
from kbmine.config import load_config
from kbmine.kb import load
from kbmine.parallel import Background

MakeKB = Callable[[Mapping[str, str | bytes]], Path]

CLAIM = (
    "Retrieval quality depends less on the embedding model than on how the notes are cut into "
    "passages, because a passage that mixes two claims is retrieved for neither of them."
)


def test_background_runs_in_a_child_and_returns_its_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    seen: list[str] = []
    job = Background(lambda: os.getpid(), size=1, in_child=lambda: seen.append("child"))
    assert job.result() != os.getpid()
    assert seen == []  # in_child ran in the child only


def test_background_runs_here_when_too_small_and_raises_what_the_work_raises() -> None:
    assert Background(lambda: os.getpid(), size=0).result() == os.getpid()

    def fail() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        Background(fail, size=0).result()


def test_a_child_that_dies_without_answering_has_its_work_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    parent = os.getpid()

    def die_in_the_child() -> int:
        if os.getpid() != parent:
            os._exit(9)  # killed, out of memory: no answer comes back
        return 42

    job = Background(die_in_the_child, size=1)
    assert job.apart and job.result() == 42


def test_a_big_answer_and_an_unpicklable_error_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    big = Background(lambda: b"x" * 5_000_000, size=1)  # far more than a pipe holds
    assert big.result() == b"x" * 5_000_000

    class Odd(Exception):
        def __reduce__(self) -> str:
            raise TypeError("cannot pickle")

    def fail() -> None:
        raise Odd("the reason")

    with pytest.raises(RuntimeError, match="Odd: the reason"):
        Background(fail, size=1).result()


def _age(root: Path) -> None:
    """Date every note an hour back, as if written long before the next run reads it."""
    then = time.time() - 3600
    for path in root.glob("*.md"):
        os.utime(path, (then, then))


def test_a_rule_run_apart_gives_the_same_findings_and_fills_the_cache(
    make_kb: MakeKB, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = make_kb(
        {
            "a.md": f"# A\n\n{CLAIM}\n",
            "b.md": f"# B\n\n{CLAIM}\n",
            "c.md": "# C\n\n[[a]] [[missing]]\n",
        }
    )

    def findings(use_cache: bool) -> list[tuple[str, str, int, str]]:
        kb = load(root, load_config(root), use_cache=use_cache, jobs=2)
        return [(f.rule, f.path, f.span.line, f.message) for f in run_checks(kb)]

    inline = findings(use_cache=False)
    assert any(rule == "duplicate-claim" for rule, *_ in inline)
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    children = tmp_path / "children.txt"
    real = ParseCache.detach_after_fork

    def detach(cache: ParseCache) -> None:
        with children.open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        real(cache)

    monkeypatch.setattr(ParseCache, "detach_after_fork", detach)
    _age(root)  # settled: a run reads (and stores the hash of) only the notes changed since one read them
    assert findings(use_cache=True) == inline
    (root / "c.md").write_text("# C\n\n[[a]] [[missing]] [[gone]]\n", encoding="utf-8")
    _age(root)
    apart = findings(use_cache=True)
    assert apart != inline and apart == findings(use_cache=False)
    kb = load(root, load_config(root), jobs=2)
    assert kb.cache.get_blob("duplicate-bands:4:64", "") is not None  # written by the child
    pids = children.read_text(encoding="utf-8").split()
    # Each cached run forked a child for the rule and one for each cache write (the hashes of the
    # files it read, the notes it parsed, its findings); the last load read no file.
    assert len(pids) == 8 and str(os.getpid()) not in pids


def test_while_waiting_gets_the_findings_made_so_far_and_the_report_stays_the_same(
    make_kb: MakeKB, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbmine.report import ReportContext, format_findings
    from kbmine.report.json import JsonLines

    root = make_kb({"a.md": f"# A\n\n{CLAIM}\n", "b.md": f"# B\n\n{CLAIM}\n", "c.md": "# C\n\n[[a]] [[missing]]\n"})
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 0)
    lines = JsonLines()
    handed: list[list[str]] = []

    def prepare(findings: list[Any]) -> None:
        handed.append(sorted({f.rule for f in findings}))
        lines.add(findings)

    kb = load(root, load_config(root), use_cache=False, jobs=2)
    findings = run_checks(kb, while_waiting=prepare)
    assert len(handed) == 1 and "broken-link" in handed[0] and "duplicate-claim" not in handed[0]
    context = ReportContext(root=str(root), version="0")
    prepared = format_findings("json", findings, replace(context, lines=lines))
    assert prepared == format_findings("json", findings, context)
    assert any(f.rule == "duplicate-claim" for f in findings)
    # The lines written while waiting are the ones the report used: every other rule's finding is that very object.
    written = [f for f in findings if lines._lines.get(id(f), (None,))[0] is f]
    assert written == [f for f in findings if f.rule != "duplicate-claim"]

