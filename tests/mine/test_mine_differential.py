"""Differential mining: two halves mined apart, and where their specs disagree."""

from __future__ import annotations

import json

from minekit import MakeKB, note

import kbmine.kb
from kbmine.config import Config
from kbmine.mine.differential import (
    differential,
    split_by_age,
    split_by_folders,
    vocabulary_change,
)
from kbmine.mine.spec import MineSettings
from tests.conftest import run_kbmine


def _two_folders() -> dict[str, str]:
    files = {f"old/n{i:02}.md": note(status="draft" if i % 2 else "current", owner=f"p{i}") for i in range(14)}
    files.update({f"new/n{i:02}.md": note(status="open" if i % 2 else "closed", owner=f"q{i}") for i in range(14)})
    return files


def test_two_folders_with_different_vocabularies_disagree(make_kb: MakeKB) -> None:
    notes = kbmine.kb.load(make_kb(_two_folders()), Config(), use_cache=False).notes
    a, b = split_by_folders(notes, "old", "new")
    assert (a.label, len(a.notes), b.label, len(b.notes)) == ("old", 14, "new", 14)
    assert all(not n.path.startswith(("old/", "new/")) for n in a.notes + b.notes)
    result = differential(a, b, MineSettings())
    (status,) = [d for d in result.disagreements if d.spec.parameters.get("key") == "status"]
    assert status.what == "differs" and str(status.spec.scope) == "all"
    assert vocabulary_change(status) == (("current", "draft"), ("closed", "open"))
    # each side holds its own vocabulary
    assert (status.on_a.confidence, status.on_b.confidence) == (1.0, 1.0)
    # `owner` is required on both sides: that agrees
    assert result.agreed >= 1
    assert not [d for d in result.disagreements if d.spec.parameters.get("key") == "owner"]


def test_a_spec_one_half_breaks_is_found_on_one_side_only(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": note(owner=f"p{i}") for i in range(12)}
    files.update({f"m{i:02}.md": note(title=f"t{i}") if i % 2 else note(owner=f"q{i}") for i in range(12)})
    notes = kbmine.kb.load(make_kb(files), Config(), use_cache=False).notes
    created = {path: (0 if path.startswith("n") else 100) for path in notes}
    older, newer = split_by_age(notes, created)
    assert {n.path[0] for n in older.notes} == {"n"} and {n.path[0] for n in newer.notes} == {"m"}
    assert older.label.startswith("older") and newer.label.startswith("newer")
    result = differential(older, newer, MineSettings())
    (owner,) = [d for d in result.disagreements if d.spec.parameters.get("key") == "owner"]
    assert owner.what == "only-a" and owner.b is None
    assert (owner.on_a.support, owner.on_a.confidence, owner.on_b.support, owner.on_b.confidence) == (12, 1.0, 12, 0.5)
    # outside git: halves by path order
    first, second = split_by_age(notes, None)
    assert len(first.notes) == len(second.notes) == 12 and first.notes[0].path == "m00.md"


def test_differential_through_the_cli(make_kb: MakeKB) -> None:
    root = make_kb(_two_folders())
    result = run_kbmine("mine", str(root), "--differential", "--folders", "old", "new", "--dry-run", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)["differential"]
    assert document["a"] == {"label": "old", "notes": 14, "specs": document["a"]["specs"]}
    (status,) = [d for d in document["disagreements"] if "status" in (d["a"] or d["b"])["statement"]]
    assert status["what"] == "differs" and status["only_b_values"] == ["closed", "open"]
    text = run_kbmine("mine", str(root), "--differential", "--folders", "old", "new", "--dry-run").stdout
    assert "differential: a = old, 14 notes" in text and "b adds closed, open" in text
    # outside git the halves are by path order; still a report
    assert "differential" in json.loads(run_kbmine("mine", str(root), "--differential", "--dry-run", "--format", "json").stdout)
    for bad, needle in [(("--folders", "old", "new"), "only goes with --differential"), (("--differential", "--folders", "old", "nope"), "no notes under")]:
        failed = run_kbmine("mine", str(root), "--dry-run", *bad)
        assert failed.returncode == 2 and needle in failed.stderr and "Traceback" not in failed.stderr
