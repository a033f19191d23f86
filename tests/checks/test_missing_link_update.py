"""missing-link after an edit of a few notes updates the last run's findings instead of judging every
note again (see ``missing_link._updated``): the findings must be exactly those of a fresh run."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbmine.checks import missing_link as rule_module
from kbmine.checks import run_checks, select_rules
from kbmine.config import load_config
from kbmine.kb import load

#: Titles of the notes; a note writes some of the others' titles (a mention, unless it links them).
TITLES = ["Context engineering", "Agent memory", "Review gates", "Tool loop", "Knowledge graph", "Spec mining"]
#: Seven notes write "tool loop" (six loops and n4): with ``min_common`` 7 an eighth makes it a common word.
COMMON_LIMIT = 7


def _write_kb(root: Path) -> None:
    (root / "notes").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f"[tool.kbmine.rules.missing-link]\nmin_common = {COMMON_LIMIT}\nmax_share = 0.0\n", encoding="utf-8"
    )
    for index, title in enumerate(TITLES):
        body = f"# {title}\n\nWhat {title.lower()} means here.\n"
        if index:
            body += f"\nIt builds on {TITLES[index - 1]} and links [the next](n{(index + 1) % len(TITLES)}.md).\n"
        (root / "notes" / f"n{index}.md").write_text(body, encoding="utf-8")
    for index in range(COMMON_LIMIT - 1):
        (root / "notes" / f"loop{index}.md").write_text(f"# Loop {index}\n\nThe tool loop runs again.\n", encoding="utf-8")


def _findings(root: Path, *, use_cache: bool) -> list[tuple[str, str, int, str]]:
    kb = load(root, load_config(root), use_cache=use_cache)
    found = run_checks(kb, select_rules(["missing-link"]))
    return [(f.path, f.data["target"], f.span.start, f.fingerprint) for f in found]


@pytest.fixture
def full_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each full run of the rule (the ones the update could not spare)."""
    runs: list[str] = []
    full_run = rule_module._full_run

    def recorded(*args: object) -> object:
        runs.append("full")
        return full_run(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(rule_module, "_full_run", recorded)
    return runs


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(text)


def _updated_findings(root: Path, full_runs: list[str]) -> list[tuple[str, str, int, str]]:
    """The findings of a cached run, which must have been an update (no full run)."""
    full_runs.clear()
    found = _findings(root, use_cache=True)
    assert full_runs == []
    return found


def test_an_edit_that_adds_and_removes_mentions_is_an_update(tmp_path: Path, full_runs: list[str]) -> None:
    root = tmp_path / "kb"
    _write_kb(root)
    first = _findings(root, use_cache=True)
    assert full_runs == ["full"] and first == _findings(root, use_cache=False)
    _append(root / "notes" / "n0.md", "\nLater: Review gates and Spec mining, and Agent memory too.\n")
    added = _updated_findings(root, full_runs)
    assert added == _findings(root, use_cache=False)
    assert {target for path, target, _, _ in added if path == "notes/n0.md"} >= {"notes/n2.md", "notes/n5.md"}
    note = root / "notes" / "n2.md"
    note.write_text(note.read_text(encoding="utf-8").replace("What review gates means here.", "Nothing else."), encoding="utf-8")
    assert _updated_findings(root, full_runs) == _findings(root, use_cache=False)
    _append(root / "notes" / "n0.md", "\nOne more line, no names.\n")
    assert _updated_findings(root, full_runs) == _findings(root, use_cache=False)


def test_a_name_that_turns_common_makes_a_full_run(tmp_path: Path, full_runs: list[str]) -> None:
    root = tmp_path / "kb"
    _write_kb(root)
    before = _findings(root, use_cache=True)
    assert sum(target == "notes/n3.md" for _, target, _, _ in before) == COMMON_LIMIT  # the loops and n4
    _append(root / "notes" / "n5.md", "\nAnd the tool loop once more.\n")  # an eighth note writes it: common
    full_runs.clear()
    after = _findings(root, use_cache=True)
    assert full_runs == ["full"]
    assert after == _findings(root, use_cache=False)
    # Only n4's "Tool loop", in the title's capitals mid-sentence, still names the note.
    assert [path for path, target, _, _ in after if target == "notes/n3.md"] == ["notes/n4.md"]


def test_a_note_that_changes_its_face_makes_a_full_run(tmp_path: Path, full_runs: list[str]) -> None:
    root = tmp_path / "kb"
    _write_kb(root)
    _findings(root, use_cache=True)
    note = root / "notes" / "n1.md"
    note.write_text(note.read_text(encoding="utf-8").replace("# Agent memory", "# Agent recall"), encoding="utf-8")
    full_runs.clear()
    assert _findings(root, use_cache=True) == _findings(root, use_cache=False)
    assert full_runs == ["full", "full"]


_EDITS = st.lists(
    st.tuples(
        st.integers(0, len(TITLES) - 1),
        st.sampled_from(["mention", "link", "title", "alias", "common", "rewrite"]),
        st.integers(0, len(TITLES) - 1),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=_EDITS)
def test_every_sequence_of_edits_gives_the_findings_of_a_fresh_run(tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, str, int]]) -> None:
    root = tmp_path_factory.mktemp("kb") / "kb"
    _write_kb(root)
    _findings(root, use_cache=True)
    for note_index, kind, other in edits:
        note = root / "notes" / f"n{note_index}.md"
        text = note.read_text(encoding="utf-8")
        if kind == "mention":
            text += f"\nSee how {TITLES[other]} fits.\n"
        elif kind == "link":
            text += f"\n[{TITLES[other]}](n{other}.md)\n"
        elif kind == "title":
            text = text.replace("# ", f"# {TITLES[other]} ", 1)
        elif kind == "alias":
            text = f"---\naliases: [{TITLES[other]} notes]\n---\n" + text
        elif kind == "common":
            text += "\nThe tool loop again.\n"
        else:
            text = f"# {TITLES[note_index]}\n\nRewritten around {TITLES[other]}.\n"
        note.write_text(text, encoding="utf-8")
        assert _findings(root, use_cache=True) == _findings(root, use_cache=False)
