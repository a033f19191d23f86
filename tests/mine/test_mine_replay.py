"""History replay: since when a spec holds, violations fixed by hand (across renames), and the
oracle figures (flagged notes later fixed vs never changed), in the specs file and the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from minekit import MakeKB, note
from test_mine_history import _commit, _git

from kbmine.config import Config
from kbmine.mine.replay import history_from_record, history_record, replay
from kbmine.mine.spec import Scope, Spec, spec_id
from tests.conftest import run_kbmine

OWNER = Spec(
    id=spec_id("required_key", Scope(), (("key", "owner"),)),
    kind="required_key",
    scope=Scope(),
    statement="every note has `owner`",
    params=(("key", "owner"),),
    support=0,
    confidence=0.0,
    counterexamples=(),
)


def _with(i: int, body: str = "# Note\n") -> str:
    return note(body, owner=f"person {i}")


def _history(make_kb: MakeKB) -> Path:
    """30 notes, five without `owner`; people add it to three of them over three commits."""
    root = make_kb({})
    _git(root, "init", "-q", "-b", "main")
    files = {f"notes/n{i:02}.md": _with(i) if i < 25 else note(f"# Note {i}\n") for i in range(30)}
    _commit(root, files, "c1: five notes lack an owner")
    _git(root, "mv", "notes/n25.md", "notes/twenty-five.md")
    _commit(root, {"notes/n29.md": note("# Note 29\n\nEdited, still no owner.\n")}, "c2: rename n25, edit n29")
    _commit(root, {"notes/twenty-five.md": _with(25), "notes/n26.md": _with(26)}, "c3: two fixed by hand")
    _commit(root, {"notes/n27.md": _with(27), "notes/n30.md": note("# Note 30\n")}, "c4: one more fixed, a new one lacks it")
    return root


def _head(root: Path, back: int = 0) -> str:
    return subprocess.run(
        ["git", "rev-parse", f"HEAD~{back}"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_fixes_across_a_rename_are_true_positives_and_untouched_notes_false_alarms(make_kb: MakeKB) -> None:
    root = _history(make_kb)
    found = replay(root, [OWNER], Config(), min_confidence=0.9, samples=10)
    assert found is not None and (found.commits, found.sampled) == (4, 4)
    history = found.specs[OWNER.id]
    # 25/30, 25/30, then 27/30 and 28/31: it holds from c3 on
    assert history.since == _head(root, 1) and history.held == 0.5
    # twenty-five (flagged as n25, fixed after its rename) and n26 at c3, n27 at c4
    assert (history.fixed, history.fixed_in) == (3, 2)
    assert history.true_positives == 3
    assert history.false_alarms == 1  # n28: flagged from c1 and never changed
    assert history.other == 1  # n29: edited, still without an owner
    assert history.violations_now == 3  # n28, n29 and n30 (flagged at HEAD only: not judged)
    assert history.precision == 0.75 and history.verdict == "strong"
    assert history_from_record(history_record(history)).fixed == 3


def test_a_spec_that_only_now_holds_is_weak_and_one_that_never_held_is_not_holding(make_kb: MakeKB) -> None:
    root = make_kb({})
    _git(root, "init", "-q", "-b", "main")
    for i in range(12):
        _commit(root, {f"n{i:02}.md": note(f"# Note {i}\n")}, f"note {i} without owner")
    _commit(root, {f"n{i:02}.md": _with(i) for i in range(12)}, "owners everywhere, in one sweep")
    found = replay(root, [OWNER], Config(), min_confidence=0.9, samples=13)
    assert found is not None
    history = found.specs[OWNER.id]
    assert history.since == _head(root) and history.held == round(1 / 13, 4)
    # twelve fixes, all in one sweep: not a habit
    assert (history.fixed, history.fixed_in, history.verdict) == (12, 1, "weak")
    title = Spec(OWNER.id + "x", "required_key", Scope(), "", (("key", "title"),), 0, 0.0, ())
    assert replay(root, [title], Config(), 0.9, samples=5).specs[title.id].verdict == "not-holding"  # type: ignore[union-attr]


def test_outside_git_there_is_no_replay(make_kb: MakeKB) -> None:
    assert replay(make_kb({"a.md": note(owner="x")}), [OWNER], Config(), 0.9) is None


def test_mine_history_json_and_specs_file_keep_the_figures(make_kb: MakeKB) -> None:
    root = _history(make_kb)
    result = run_kbmine("mine", str(root), "--history", "--holdout", "0", "--samples", "10", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["history"]["commits"] == 4 and document["history"]["sampled"] == 4
    (spec,) = [s for s in document["specs"] if s["kind"] == "required_key" and s["params"] == {"key": "owner"}]
    figures = spec["history"]
    assert (figures["verdict"], figures["fixed"], figures["true_positives"], figures["false_alarms"]) == ("strong", 3, 3, 1)
    assert figures["since"] == _head(root, 1)[:12] and figures["precision"] == 0.75
    specs_file = root / "kbmine.specs.yaml"
    text = specs_file.read_text(encoding="utf-8")
    assert "history: {verdict: strong" in text
    # a comment survives a re-mine without --history, and so do the replayed figures
    specs_file.write_text(text.replace(f"id: {spec['id']}\n", f"id: {spec['id']}  # checked by hand\n"), encoding="utf-8")
    assert run_kbmine("mine", str(root), "--holdout", "0").returncode == 0
    again = specs_file.read_text(encoding="utf-8")
    assert "# checked by hand" in again and "history: {verdict: strong" in again
    shown = run_kbmine("mine", str(root), "--history", "--holdout", "0", "--samples", "10", "--dry-run").stdout
    assert "history: strong: held since" in shown and "3 later fixed / 1 never changed (precision 75%)" in shown


def test_mine_at_a_past_commit_reads_the_notes_from_git(make_kb: MakeKB) -> None:
    root = _history(make_kb)
    result = run_kbmine("mine", str(root), "--at", "HEAD~3", "--holdout", "0", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["notes"] == 30 and document["at"] == "HEAD~3" and document["specs_file"] is None
    assert not (root / "kbmine.specs.yaml").exists()
    # at c1 only 25 of 30 notes had an owner: not required then (as it is at HEAD)
    assert not [s for s in document["specs"] if s["kind"] == "required_key" and s["params"] == {"key": "owner"}]
    now = json.loads(run_kbmine("mine", str(root), "--holdout", "0", "--dry-run", "--format", "json").stdout)
    assert [s for s in now["specs"] if s["kind"] == "required_key" and s["params"] == {"key": "owner"}]
    bad = run_kbmine("mine", str(root), "--at", "no-such-rev")
    assert bad.returncode == 2 and "no such commit" in bad.stderr and "Traceback" not in bad.stderr


def test_replayed_figures_never_touch_a_decided_spec(make_kb: MakeKB) -> None:
    from minekit import mine_files

    from kbmine.mine.specfile import decide, merge, read_entries

    root = _history(make_kb)
    mining = mine_files(root)
    found = replay(root, mining.specs, Config(), 0.9, samples=10)
    assert found is not None
    owner = next(s.id for s in mining.specs if s.kind == "required_key" and s.parameters == {"key": "owner"})
    other = next(s.id for s in mining.specs if s.id != owner)
    text = decide(merge(None, mining)[0], [other], "accepted")
    text = merge(text, mining, found.specs)[0]
    entries = {entry.spec.id: entry for entry in read_entries(text)}
    assert entries[other].state == "accepted" and entries[other].history is None
    history = entries[owner].history
    assert history is not None and (history.verdict, history.true_positives, history.false_alarms) == ("strong", 3, 1)
    # the history sits between the holdout and the counterexamples in every proposal
    block = text.split(f"id: {owner}")[1].split("- id:")[0]
    assert block.index("holdout:") < block.index("history:") < block.index("counterexamples:")
    assert merge(text, mining, found.specs)[0] == text, "replaying again with the same figures changes nothing"
