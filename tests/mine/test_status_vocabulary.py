"""The status vocabulary spec: classed from history (and, with less evidence, from HEAD alone),
accepted through the CLI, then read by stale-status; and flagged by review when it gains a value."""

from __future__ import annotations

import json
from pathlib import Path

from clikit import run_cli as run_kbmine
from minekit import MakeKB, note
from test_mine_history import _commit, _git

import kbmine.kb
from kbmine.config import Config
from kbmine.mine.history import lifecycle
from kbmine.mine.kinds.status_vocabulary import classify

OLD = [f"old/o{i}.md" for i in range(5)]
FINISHED = [f"work/w{i}.md" for i in range(5)]


def _kb(make_kb: MakeKB) -> Path:
    """Notes start as `seedling`, become `current`; five end `gone` naming a successor, five end
    `wrapped` naming none; a current hub links to a gone note. None of the three words is in the
    built-in vocabulary."""
    root = make_kb({"README.md": "# Home\n"})
    _git(root, "init", "-q", "-b", "main")
    names = OLD + FINISHED
    _commit(root, {name: note(status="seedling") for name in names}, "seedlings")
    _commit(root, {name: note(status="current") for name in names}, "grown")
    _commit(root, {"new.md": note("# New\n", status="current")}, "the successor")
    ends = {name: note(status="gone", successor="new.md") for name in OLD}
    ends |= {name: note(status="wrapped") for name in FINISHED}
    _commit(root, ends, "ended")
    _commit(root, {"hub.md": note("# Hub\n\nSee [the old one](old/o0.md).\n", status="current")}, "hub")
    _commit(root, {"sprout.md": note(status="seedling"), "sprout2.md": note(status="seedling")}, "sprouts")
    return root


def _classes(evidence: tuple[object, ...]) -> dict[str, str]:
    return {item.value: item.proposed for item in evidence}  # type: ignore[attr-defined]


def test_classed_from_history_and_from_head(make_kb: MakeKB) -> None:
    root = _kb(make_kb)
    notes = list(kbmine.kb.load(root, Config(), use_cache=False).notes.values())
    found = lifecycle(root)
    assert found is not None and set(found.terminal) == {"gone", "wrapped"}
    with_history = _classes(classify(notes, "status", found))
    # gone: terminal, reached from current, notes name a successor; wrapped: the same, none named;
    # seedling: ten notes moved on from it
    assert with_history == {"gone": "dead", "wrapped": "done", "seedling": "live", "current": "live"}
    # at HEAD alone terminality is unknown: only the successors make `gone` dead
    assert _classes(classify(notes, "status", None)) == {"gone": "dead", "wrapped": "other", "seedling": "other", "current": "live"}


def test_accepted_vocabulary_feeds_stale_status(make_kb: MakeKB) -> None:
    root = _kb(make_kb)
    before = run_kbmine("check", str(root), "--select", "stale-status", "--format", "json")
    assert before.returncode == 0, before.stdout
    mined = run_kbmine("mine", str(root), "--history", "--min-support", "3", "--holdout", "0", "--format", "json")
    assert mined.returncode == 0, mined.stderr
    (spec,) = [s for s in json.loads(mined.stdout)["specs"] if s["kind"] == "status_vocabulary"]
    assert spec["params"] == {"key": "status", "live": ["current", "seedling"], "dead": ["gone"], "done": ["wrapped"], "other": []}
    assert spec["evidence"]["gone"] == {
        "notes": 5, "successors": 5, "in": 5, "out": 0, "terminal": True, "stayed": 1.0, "class": "dead",
        "why": "terminal, reached from live values, 100% of its notes never changed again; named like a replacement or its notes name successors",
    }
    assert "history" in spec  # replayed like every other spec
    # the proposal alone changes nothing; `specs show` gives the evidence for deciding
    assert run_kbmine("check", str(root), "--select", "stale-status").returncode == 0
    shown = run_kbmine("specs", "show", spec["id"], "--path", str(root)).stdout
    assert "    wrapped: done, 5 notes, 5 in / 0 out, terminal True:" in shown
    assert run_kbmine("specs", "accept", spec["id"], "--path", str(root)).returncode == 0
    after = run_kbmine("check", str(root), "--select", "stale-status", "--format", "json")
    assert after.returncode == 1
    (finding,) = json.loads(after.stdout)["findings"]
    assert finding["path"] == "hub.md"
    assert finding["data"] == {"kind": "links-to-dead", "target": "old/o0.md", "status": "gone", "successor": "new.md"}


def test_explicit_config_wins_over_the_accepted_vocabulary(make_kb: MakeKB) -> None:
    root = _kb(make_kb)
    mined = json.loads(run_kbmine("mine", str(root), "--history", "--min-support", "3", "--holdout", "0", "--format", "json").stdout)
    (spec,) = [s["id"] for s in mined["specs"] if s["kind"] == "status_vocabulary"]
    run_kbmine("specs", "accept", spec, "--path", str(root))
    (root / "kbmine.toml").write_text('[rules.stale-status]\nlive = ["current", "gone"]\n', encoding="utf-8")
    assert run_kbmine("check", str(root), "--select", "stale-status").returncode == 0


def test_review_flags_a_new_status_value(make_kb: MakeKB) -> None:
    root = _kb(make_kb)
    mined = json.loads(run_kbmine("mine", str(root), "--min-support", "3", "--holdout", "0", "--format", "json").stdout)
    (spec,) = [s["id"] for s in mined["specs"] if s["kind"] == "status_vocabulary"]
    run_kbmine("specs", "accept", spec, "--path", str(root))
    review = json.loads(run_kbmine("specs", "review", str(root), "--format", "json").stdout)
    assert {v["id"]: v["action"] for v in review["specs"]}[spec] == "keep"
    for name in ("p1", "p2", "p3"):
        (root / f"{name}.md").write_text(note(status="sunsetted"), encoding="utf-8")
    verdict = {v["id"]: v for v in json.loads(run_kbmine("specs", "review", str(root), "--format", "json").stdout)["specs"]}[spec]
    assert verdict["action"] == "relax"
    assert "the vocabulary gained `sunsetted` (3 notes)" in verdict["reasons"]
    relaxed = verdict["relaxed"]
    # the new value reads as an end by replacement, so it joins the dead values
    assert relaxed["params"]["dead"] == ["gone", "sunsetted"] and relaxed["confidence"] == 1.0
    assert run_kbmine("check", str(root), "--select", "spec").returncode == 1
    assert run_kbmine("specs", "review", str(root), "--apply", spec).returncode == 0
    assert run_kbmine("check", str(root), "--select", "spec").returncode == 0
    # the widened vocabulary is what stale-status reads now: a live note linking a sunsetted one is stale
    (root / "p4.md").write_text(note("[[p1]]\n", status="current"), encoding="utf-8")
    stale = json.loads(run_kbmine("check", str(root), "--select", "stale-status", "--format", "json").stdout)["findings"]
    assert [(f["path"], f["data"]["status"]) for f in stale] == [("hub.md", "gone"), ("p4.md", "sunsetted")]


def test_no_vocabulary_without_repeated_values(make_kb: MakeKB) -> None:
    root = make_kb({f"n{i}.md": note(status=f"s{i}") for i in range(12)})
    mined = json.loads(run_kbmine("mine", str(root), "--min-support", "3", "--holdout", "0", "--format", "json").stdout)
    assert not [s for s in mined["specs"] if s["kind"] == "status_vocabulary"]
