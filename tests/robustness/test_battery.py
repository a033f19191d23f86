"""Every case of the abuse battery (``scripts/abuse.py``), small and quick, as a test.

Each case builds a hostile KB in a temporary folder and runs the kbmine
commands on it in subprocesses; the battery checks exit codes, the one-line
error contract, tracebacks, strict JSON/XML, memory, that nothing outside
the KB (or, for mutate and review, in its git repository beyond what the
command promises) changed, that no write landed outside the case folder
(traced with strace where it works) and that the secret next to it never
leaks. A case's own commands run, then the phases it asks pytest for
(mine and specs; mutate and review outside git and in a repository made
of the hostile notes). Here the time budget is CPU seconds (kbmine and its
workers), because the machines that run the tests are shared; a 60 s
wall-clock guard still catches a hang.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

import abuse

#: CPU seconds one command may use (the battery's own budget is 10 s of wall time).
CPU_LIMIT = 10.0
#: Wall seconds before a command counts as hung and is killed.
HANG_GUARD = 60.0


@pytest.mark.parametrize("name", sorted(abuse.CASES))
def test_case(name: str) -> None:
    results = abuse.run_case(name, small=True, quick=True, timeout=HANG_GUARD, cpu_limit=CPU_LIMIT)
    skipped = [result.skipped for result in results if result.skipped is not None]
    if skipped and len(skipped) == len(results):
        pytest.skip(skipped[0])
    failures = [f"{result.line()}\n    " + "\n    ".join(result.details()) for result in results if not result.passed]
    known = abuse.CASES[name].known_bug
    if known:
        # Reported, not fixed yet: the case must still fail (when it passes, drop ``known_bug``).
        assert failures, f"{name} passes now: remove its known_bug ({known})"
        pytest.xfail(known)
    assert not failures, "\n".join(failures)


@pytest.mark.skipif(abuse._strace() is None, reason="strace is missing or cannot trace here")
def test_the_battery_catches_a_write_outside_the_case_folder(tmp_path: Path) -> None:
    """The write tracer is the only guard against writes the snapshots cannot see: prove it fires."""
    escaped = tmp_path / "escaped"
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\ntouch "{escaped}"\nrm -f "{escaped}"\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    harness = abuse.Harness(small=True, quick=True, timeout=HANG_GUARD, python=str(python))
    results = harness.run_case(replace(abuse.CASES["frontmatter/yaml-scalar"], quick_commands=(abuse.CHECK_JSON,)))
    assert [r.command for r in results] == ["check-json"]
    assert any(f"wrote outside the case folder: openat {escaped}" in reason for reason in results[0].reasons), results[0].reasons
