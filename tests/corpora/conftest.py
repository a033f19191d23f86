"""Fixtures for the end-to-end tests on the real corpora in ``../shared/corpora``.

Everything here builds on the root ``corpora`` and ``commonplace`` fixtures,
so every test skips cleanly when the shared corpora are absent. The corpora
are read-only: the CLI always runs with ``--no-cache`` from a temporary
working folder, and the library with ``use_cache=False``. Each corpus is
loaded (and each CLI report produced) at most once per session.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from corpus_support import cli_json, load_kb  # noqa: E402


def _corpus(corpora: Path, name: str) -> Path:
    path = corpora / name
    if not path.is_dir():
        pytest.skip(f"../shared/corpora/{name} is not present")
    return path


@pytest.fixture(scope="session")
def hyalo(corpora: Path) -> Path:
    return _corpus(corpora, "hyalo-kb")


@pytest.fixture(scope="session")
def foam(corpora: Path) -> Path:
    return _corpus(corpora, "foam-docs")


@pytest.fixture(scope="session")
def cli_cwd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch working folder for CLI runs, so nothing lands next to the corpora."""
    return tmp_path_factory.mktemp("cli-cwd")


# -- library loads (use_cache=False), once per session ---------------------------


@pytest.fixture(scope="session")
def hyalo_kb(hyalo: Path):  # type: ignore[no-untyped-def]
    return load_kb(hyalo)


@pytest.fixture(scope="session")
def foam_kb(foam: Path):  # type: ignore[no-untyped-def]
    return load_kb(foam, dialect="foam")


@pytest.fixture(scope="session")
def commonplace_kb(commonplace: Path):  # type: ignore[no-untyped-def]
    """The commonplace clone, loaded once (about 20 s on two cores: 2,013 notes, 31 MB)."""
    return load_kb(commonplace)


# -- CLI reports (--no-cache), once per session ----------------------------------


@pytest.fixture(scope="session")
def hyalo_stats(hyalo: Path, cli_cwd: Path) -> dict:
    return cli_json("stats", hyalo, cwd=cli_cwd, expect_exit=0)[0]


@pytest.fixture(scope="session")
def hyalo_check(hyalo: Path, cli_cwd: Path) -> tuple[dict, int]:
    return cli_json("check", hyalo, cwd=cli_cwd)


@pytest.fixture(scope="session")
def foam_stats(foam: Path, cli_cwd: Path) -> dict:
    return cli_json("stats", foam, "--dialect", "foam", cwd=cli_cwd, expect_exit=0)[0]


@pytest.fixture(scope="session")
def foam_check(foam: Path, cli_cwd: Path) -> tuple[dict, int]:
    return cli_json("check", foam, "--dialect", "foam", cwd=cli_cwd)


@pytest.fixture(scope="session")
def commonplace_report(commonplace_kb) -> dict:  # type: ignore[no-untyped-def]
    """``kbmine check --select KB1 --format json`` on the clone root, in-process from the one load.

    Same rules, same formatter as the CLI; running the CLI as well would parse
    the 31 MB a second time (about 20 s). Only the KB1xx rules (links and
    parse problems): the content rules (missing-link, duplicate-claim) take
    another 20 s on this corpus.
    """
    from kbmine import __version__
    from kbmine.checks import run_checks, select_rules
    from kbmine.report import ReportContext, format_findings

    findings = run_checks(commonplace_kb, select_rules(("KB1",)))
    context = ReportContext(root=str(commonplace_kb.root), version=__version__, notes=len(commonplace_kb.notes))
    return json.loads(format_findings("json", findings, context))
