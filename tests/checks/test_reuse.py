"""The rules that judge one note at a time judge only the edited notes again (see
``kbmine.checks.reuse``), and their findings are exactly those of an uncached run."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from kbmine import checks
from kbmine.checks import all_rules, run_checks
from kbmine.checks.reuse import _LAST_RUN
from kbmine.config import load_config
from kbmine.kb import KB, load
from kbmine.model import Finding
from tests.conftest import git_env
from tests.test_incremental import _findings, _same

MakeKB = Callable[[Mapping[str, str | bytes]], Path]

FILES = {
    "README.md": "# Home\n\n[Current](current.md) [Old](old.md) [Done](done.md) [Plain](plain.md)\n",
    "current.md": "---\nstatus: current\n---\n# Current\n\nRead [Old](old.md) and [gone](gone.md).\n",
    "old.md": "---\nstatus: superseded\n---\n# Old\n\nSee also [Current](current.md).\n",
    "done.md": "---\nstatus: done\n---\n# Done\n\n- [x] finished\n",
    "plain.md": "# Plain\n\nNothing here links [nowhere](nowhere.md).\n",
    "lonely.md": "# Lonely\n\nNobody links here.\n",
}


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[frozenset[str] | None]]:
    """Each call of the rules that may reuse findings, with the notes it was asked to judge (``None``: all)."""
    calls: dict[str, list[frozenset[str] | None]] = {}
    for name, rule in all_rules().items():
        if rule.scope == "kb":
            continue

        def spy(kb: KB, options: dict[str, Any], *, judged: Iterable[str] | None = None, _rule: Any = rule) -> list[Finding]:
            calls.setdefault(_rule.name, []).append(None if judged is None else frozenset(judged))
            if judged is None:
                return list(_rule.check(kb, options))
            return list(_rule.check(kb, options, judged=judged))

        monkeypatch.setitem(checks.RULES, name, dataclasses.replace(rule, check=spy))
    return calls


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_an_edit_that_keeps_faces_judges_only_the_edited_note(make_kb: MakeKB, judged: dict[str, list[Any]]) -> None:
    root = make_kb(FILES)
    before = _same(root)
    assert {"broken-link", "orphan-note", "stale-status"} <= {rule for rule, *_ in before}
    judged.clear()
    # Prose above the links: every finding of the note moves down two lines.
    current = root / "current.md"
    current.write_text(current.read_text(encoding="utf-8").replace("# Current\n", "# Current\n\nA new line.\n"), encoding="utf-8")
    after = _findings(root, use_cache=True)
    assert judged["broken-link"] == [frozenset({"current.md"})]
    assert judged["stale-status"] == [frozenset({"current.md"})]
    assert "orphan-note" not in judged  # reads faces only: its findings stand whole
    assert after == _findings(root, use_cache=False)
    moved = {(rule, line) for rule, path, line, *_ in after if path == "current.md"}
    assert moved == {("broken-link", 8), ("stale-status", 8)}


def test_an_edit_that_changes_a_face_runs_the_rules_in_full(make_kb: MakeKB, judged: dict[str, list[Any]]) -> None:
    root = make_kb(FILES)
    _same(root)
    judged.clear()
    _append(root / "plain.md", "\n[Lonely](lonely.md)\n")  # a new link: lonely.md is no orphan any more
    after = _findings(root, use_cache=True)
    assert judged["broken-link"] == [None] and judged["orphan-note"] == [None]
    assert after == _findings(root, use_cache=False)
    assert not any(rule == "orphan-note" and path == "lonely.md" for rule, path, *_ in after)


def test_a_new_successor_phrase_in_a_dead_note_reaches_the_notes_that_link_it(
    make_kb: MakeKB, judged: dict[str, list[Any]]
) -> None:
    """stale-status reads a dead note's prose ("superseded by [link]"): an edit there judges every note again."""
    root = make_kb(FILES)
    before = _same(root)
    assert any("it names no successor" in message for _, path, _, _, message, _ in before if path == "current.md")
    judged.clear()
    old = root / "old.md"
    old.write_text(old.read_text(encoding="utf-8").replace("See also [Current]", "Superseded by [Current]"), encoding="utf-8")
    after = _findings(root, use_cache=True)
    assert judged["stale-status"] == [None]
    assert judged["broken-link"] == [frozenset({"old.md"})]
    assert after == _findings(root, use_cache=False)
    # current.md is now old.md's successor: its link back to its predecessor is no finding.
    assert not any(rule == "stale-status" and path == "current.md" for rule, path, *_ in after)


def test_a_damaged_state_is_a_miss(make_kb: MakeKB, judged: dict[str, list[Any]]) -> None:
    root = make_kb(FILES)
    _same(root)
    kb = load(root, load_config(root), jobs=1)
    kb.cache.put_blob(_LAST_RUN, "latest", ({"current.md": "x"}, {"broken-link": ("key", b"not findings", ())}))
    kb.cache.close()
    judged.clear()
    _append(root / "current.md", "\nMore prose.\n")
    assert _same(root)
    assert judged["broken-link"][0] is None


def test_notices_come_back_with_reused_findings(make_kb: MakeKB) -> None:
    root = make_kb(FILES)  # not in git: stale-status says it skipped its checks on dates
    kb = load(root, load_config(root), jobs=1)
    run_checks(kb)
    assert any("not a git work tree" in notice for notice in kb.notices)
    _append(root / "plain.md", "\nMore prose.\n")
    kb = load(root, load_config(root), jobs=1)
    run_checks(kb)
    assert any("not a git work tree" in notice for notice in kb.notices)


def test_a_commit_runs_the_rules_that_read_git_in_full(make_kb: MakeKB, judged: dict[str, list[Any]]) -> None:
    root = make_kb(FILES)

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], env=git_env(), check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "first")
    _same(root)
    judged.clear()
    _append(root / "plain.md", "\nMore prose.\n")
    git("commit", "-q", "-am", "more prose")
    after = _findings(root, use_cache=True)
    assert judged["stale-status"] == [None]  # HEAD moved: git dates may have changed
    assert judged["broken-link"] == [frozenset({"plain.md"})]
    assert after == _findings(root, use_cache=False)
