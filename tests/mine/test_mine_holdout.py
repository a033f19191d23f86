"""Holdout: specs are decided on the mined notes and measured on the notes kept aside."""

from __future__ import annotations

from minekit import MakeKB, find, mine_files, note

from kbmine.mine import holdout_split
from kbmine.mine.spec import MineSettings


def _kb(make_kb: MakeKB) -> dict[str, str]:
    files = {f"n{i:03}.md": note(status="draft" if i % 2 else "current") for i in range(100)}
    for i in range(0, 100, 20):
        files[f"n{i:03}.md"] = note(status=f"wip-{i}")
    return files


def test_split_is_seeded_stable_and_about_the_asked_share(make_kb: MakeKB) -> None:
    import kbmine.kb
    from kbmine.config import Config

    notes = list(kbmine.kb.load(make_kb(_kb(make_kb)), Config(), use_cache=False).notes.values())
    mined, held = holdout_split(notes, MineSettings(holdout=0.3, seed=1))
    again = holdout_split(notes, MineSettings(holdout=0.3, seed=1))
    other = holdout_split(notes, MineSettings(holdout=0.3, seed=2))
    assert [n.path for n in held] == [n.path for n in again[1]]
    assert [n.path for n in held] != [n.path for n in other[1]]
    assert 15 <= len(held) <= 45 and len(mined) + len(held) == 100
    # a note keeps its side when other notes come and go
    fewer = holdout_split(notes[:50], MineSettings(holdout=0.3, seed=1))
    assert {n.path for n in fewer[1]} == {n.path for n in held if n.path in {m.path for m in notes[:50]}}


def test_holdout_figures_are_measured_on_the_held_out_notes(make_kb: MakeKB) -> None:
    mining = mine_files(make_kb(_kb(make_kb)), holdout=0.3, seed=3)
    assert mining.mined_on + mining.tested_on == 100 and mining.tested_on > 0
    (spec,) = find(mining, "enum_values", key="status")
    holdout = spec.holdout
    assert holdout is not None and holdout.tested_confidence is not None
    assert holdout.mined_on + holdout.tested_on == spec.support == 100
    bad = {f"n{i:03}.md" for i in range(0, 100, 20)}
    assert set(spec.counterexamples) == bad
    # recompute both sides from the split itself
    import kbmine.kb
    from kbmine.config import Config

    notes = list(kbmine.kb.load(make_kb(_kb(make_kb)), Config(), use_cache=False).notes.values())
    mined, held = holdout_split(notes, MineSettings(holdout=0.3, seed=3))
    assert holdout.tested_confidence == sum(n.path not in bad for n in held) / len(held)
    assert holdout.mined_confidence == sum(n.path not in bad for n in mined) / len(mined)
    assert spec.confidence == 0.95


def test_no_holdout_mines_on_everything(make_kb: MakeKB) -> None:
    mining = mine_files(make_kb(_kb(make_kb)), holdout=0.0)
    assert (mining.mined_on, mining.tested_on) == (100, 0)
    (spec,) = find(mining, "enum_values", key="status")
    assert spec.holdout is not None and spec.holdout.tested_confidence is None
