"""The spec kinds that read the KB around a note (index_coverage, links_to_kind, link_value's
targets): found where they hold, not found without support or with too many counterexamples,
enforced by ``kbmine check``, replayed against each past commit's own notes, and killing
``kbmine specs test``'s dropped index entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clikit import run_cli
from minekit import MakeKB, find, mine_files, note
from test_mine_history import _commit, _git

import kbmine.kb
from kbmine.config import Config
from kbmine.mine.context import MineContext
from kbmine.mine.replay import replay


def _accept_and_check(root: Path, kind: str, **params: Any) -> tuple[str, list[dict[str, Any]]]:
    """Mine ``root``, accept its one spec of ``kind`` with ``params``; that spec's id and what
    ``kbmine check`` then reports for it."""
    mined = run_cli("mine", str(root), "--holdout", "0", "--format", "json")
    assert mined.returncode == 0, mined.stderr
    (spec,) = [s for s in json.loads(mined.stdout)["specs"] if s["kind"] == kind and all(s["params"].get(k) == v for k, v in params.items())]
    assert run_cli("specs", "accept", spec["id"], "--path", str(root)).returncode == 0
    checked = run_cli("check", str(root), "--select", "spec", "--format", "json")
    assert checked.returncode == 1, checked.stderr
    findings: list[dict[str, Any]] = json.loads(checked.stdout)["findings"]
    assert {f["rule"] for f in findings} == {f"spec/{spec['id']}"}
    return spec["id"], findings


# -- index_coverage -----------------------------------------------------------------------


def _indexed(listed: int, total: int = 12, index: str = "adr/README.md") -> dict[str, str]:
    files = {f"adr/a{i:02}.md": f"# A{i}\n\nText.\n" for i in range(total)}
    files[index] = "# ADRs\n\n" + "".join(f"- [A{i}](a{i:02}.md)\n" for i in range(listed))
    files["adr/old/a99.md"] = "# Archived\n"  # a subfolder's note: its own index's business
    files.update({f"other/o{i}.md": "# Other\n" for i in range(3)})
    return files


def test_index_coverage_found_with_the_unlisted_note_as_counterexample(make_kb: MakeKB) -> None:
    (spec,) = find(mine_files(make_kb(_indexed(listed=11))), "index_coverage")
    assert (str(spec.scope), spec.parameters, spec.support) == ("folder:adr", {"index": "adr/README.md"}, 12)
    assert spec.counterexamples == ("adr/a11.md",)
    assert spec.statement == "every note directly under adr/ is linked from the folder's index `adr/README.md`"


def test_index_coverage_found_for_a_kb_kept_in_one_folder(make_kb: MakeKB) -> None:
    files = {name: text for name, text in _indexed(listed=12).items() if not name.startswith("other/")}
    (spec,) = find(mine_files(make_kb(files)), "index_coverage")
    assert (str(spec.scope), spec.parameters, spec.counterexamples) == ("all", {"index": "adr/README.md"}, ())


def test_index_coverage_not_found_without_index_support_or_coverage(make_kb: MakeKB, tmp_path: Path) -> None:
    assert not find(mine_files(make_kb(_indexed(listed=8))), "index_coverage")  # 8 of 12 listed
    few = tmp_path / "few"
    for name, text in _indexed(listed=5, total=6).items():
        (few / name).parent.mkdir(parents=True, exist_ok=True)
        (few / name).write_text(text, encoding="utf-8")
    assert not find(mine_files(few), "index_coverage")  # 6 notes: too little support
    no_index = {name: text for name, text in _indexed(listed=12).items() if name != "adr/README.md"}
    no_index["adr/overview.md"] = "# Overview\n\n" + "".join(f"- [A{i}](a{i:02}.md)\n" for i in range(12))
    assert not find(mine_files(make_kb(no_index)), "index_coverage")  # a list, but not an index


def test_index_notes_follow_the_orphan_note_roots_then_the_folder_name(make_kb: MakeKB) -> None:
    root = make_kb({"adr/README.md": "# R\n", "adr/_toc.md": "# T\n", "adr/a.md": "# A\n", "logs/logs.md": "# L\n", "logs/x.md": "# X\n"})
    notes = kbmine.kb.load(root, Config(), use_cache=False).notes
    default = MineContext.of(notes)
    assert (default.index_of("adr"), default.index_of("logs"), default.index_of("")) == ("adr/README.md", "logs/logs.md", None)
    configured = MineContext.of(notes, Config(rules={"orphan-note": {"roots": ["_toc.md"]}}))
    assert configured.index_of("adr") == "adr/_toc.md" and configured.is_index("adr/_toc.md")


def test_index_coverage_enforced_by_check(make_kb: MakeKB) -> None:
    _, (finding,) = _accept_and_check(make_kb(_indexed(listed=11)), "index_coverage")
    assert (finding["path"], finding["line"], finding["column"]) == ("adr/a11.md", 1, 1)
    assert "add a link to this note to the index `adr/README.md` (e.g. `[A11](a11.md)`)" in finding["message"]


def test_dropped_index_entry_mutant_killed_by_the_accepted_spec(make_kb: MakeKB) -> None:
    root = make_kb(_indexed(listed=11))
    spec, _ = _accept_and_check(root, "index_coverage")
    (root / "adr/README.md").write_text(_indexed(listed=12)["adr/README.md"], encoding="utf-8")
    result = run_cli("specs", "test", str(root), "--kind", "drop-index-entry", "--format", "json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["kinds"]
    # one mutant per index note: it drops one entry of adr/README.md, and the spec reports that note
    # (here nothing else links to it, so orphan-note does too)
    assert (row["mutants"], row["killed"]) == (1, 1) and row["killers"] == {f"spec/{spec}": 1, "orphan-note": 1}


# -- links_to_kind ------------------------------------------------------------------------


def _linking(unlinked: int) -> dict[str, str]:
    """12 summaries each linking a source (``unlinked`` of them not), 12 sources, 14 other notes."""
    files = {f"sources/s{i:02}.md": note("# Source\n", type="source") for i in range(12)}
    files.update({f"misc/m{i:02}.md": note("# Misc\n\n[[m00]]\n", type="misc") for i in range(14)})
    for i in range(12):
        body = "# Summary\n\nNo source yet.\n" if i < unlinked else f"# Summary\n\nFrom [[s{i:02}]].\n"
        files[f"summaries/u{i:02}.md"] = note(body, type="summary")
    files["summaries/README.md"] = "# Summaries\n\n" + "".join(f"- [[u{i:02}]]\n" for i in range(12))  # an index: left out
    return files


def test_links_to_kind_found_once_for_a_folder_and_its_type(make_kb: MakeKB) -> None:
    mining = mine_files(make_kb(_linking(unlinked=1)))
    (spec,) = [s for s in find(mining, "links_to_kind") if str(s.scope) == "folder:summaries"]
    # the folder and `type: source` name the same notes: one of them is proposed, not both
    assert spec.parameters["target"] in ("folder:sources", "where:type=source")
    assert (spec.support, spec.counterexamples) == (12, ("summaries/u00.md",))
    assert spec.statement.startswith("every note under summaries/ links to at least one note ")
    # misc/ notes link among themselves (a peer) and to nothing else: nothing is said about them
    assert not [s for s in find(mining, "links_to_kind") if str(s.scope) in ("folder:misc", "where:type=misc")]


def test_links_to_kind_not_found_with_many_counterexamples_or_a_target_most_notes_are(make_kb: MakeKB) -> None:
    assert not [s for s in find(mine_files(make_kb(_linking(unlinked=4))), "links_to_kind") if "summar" in str(s.scope)]
    files = {path: text.replace("\n\nFrom", "\n\n[[m01]], from") for path, text in _linking(unlinked=0).items()}
    files.update({f"misc/extra{i:02}.md": note("# Misc\n", type="misc") for i in range(30)})
    # every summary links to misc/, but misc/ is most of the KB: "links to some note"
    targets = {str(s.parameters["target"]) for s in find(mine_files(make_kb(files)), "links_to_kind")}
    assert not {"folder:misc", "where:type=misc"} & targets


def test_links_to_kind_enforced_by_check(make_kb: MakeKB) -> None:
    root = make_kb(_linking(unlinked=1))
    (spec,) = [s for s in find(mine_files(root), "links_to_kind") if str(s.scope) == "folder:summaries"]
    _, (finding,) = _accept_and_check(root, "links_to_kind", target=spec.parameters["target"])
    assert (finding["path"], finding["line"], finding["column"]) == ("summaries/u00.md", 1, 1)
    assert "link the note to the note" in finding["message"] and "it links to none" in finding["message"]


# -- link_value with targets ----------------------------------------------------------------


def _parents(missing: int) -> dict[str, str]:
    files = {f"p{i}.md": "# Parent\n" for i in range(4)}
    files.update({f"c{i:02}.md": note(parent=f'"[[p{i % 4}]]"') for i in range(14)})
    files.update({f"x{i}.md": note(parent=f'"[[gone{i}]]"') for i in range(missing)})
    return files


def test_link_value_counts_a_link_to_a_missing_note_against_it(make_kb: MakeKB) -> None:
    (spec,) = find(mine_files(make_kb(_parents(missing=1))), "link_value", key="parent")
    assert (spec.support, spec.counterexamples) == (15, ("x0.md",))
    assert "each leading to an existing note" in spec.statement
    # a vocabulary of four links is the notes linked today, not a rule: link_value speaks for it
    assert not find(mine_files(make_kb(_parents(missing=1))), "enum_values", key="parent")
    assert not find(mine_files(make_kb(_parents(missing=3))), "link_value", key="parent")


def test_link_value_paths_resolve_relative_to_the_note_or_from_the_root(make_kb: MakeKB) -> None:
    files = {f"notes/n{i:02}.md": note(type="kb/types/note.md" if i % 2 else "../kb/types/note.md") for i in range(12)}
    files["notes/bad.md"] = note(type="kb/types/nothing.md")
    files["kb/types/note.md"] = "# Note type\n"
    (spec,) = find(mine_files(make_kb(files)), "link_value", key="type")
    assert spec.parameters["form"] == "path" and spec.counterexamples == ("notes/bad.md",)


def test_link_value_missing_target_enforced_by_check(make_kb: MakeKB) -> None:
    _, (finding,) = _accept_and_check(make_kb(_parents(missing=1)), "link_value", key="parent")
    assert (finding["path"], finding["line"], finding["column"]) == ("x0.md", 2, 1)
    assert "point `parent` at notes that exist ('[[gone0]]' leads to no note)" in finding["message"]


# -- history replay: each commit's notes --------------------------------------------------


def test_replay_judges_each_commit_against_its_own_notes(make_kb: MakeKB) -> None:
    root = make_kb({})
    _git(root, "init", "-q", "-b", "main")
    files = _indexed(listed=12)
    _commit(root, files, "c1: every ADR listed")
    _commit(root, {"adr/README.md": _indexed(listed=10)["adr/README.md"]}, "c2: two entries lost")
    _commit(root, {"adr/README.md": _indexed(listed=11)["adr/README.md"]}, "c3: one relisted by hand")
    mining = mine_files(root, min_confidence=0.9)
    (spec,) = find(mining, "index_coverage")
    found = replay(root, [spec], Config(), min_confidence=0.9, samples=10)
    assert found is not None and found.sampled == 3
    history = found.specs[spec.id]
    # a11's own blob never changed: only the index around it did, at c2 and c3
    assert (history.violations_now, history.fixed) == (1, 1)
    assert history.since is not None and history.held == round(1 / 3, 4)


def test_replay_resolves_link_values_among_the_notes_of_each_commit(make_kb: MakeKB) -> None:
    root = make_kb({})
    _git(root, "init", "-q", "-b", "main")
    _commit(root, _parents(missing=0), "c1: every parent exists")
    _git(root, "rm", "-q", "p3.md")
    _commit(root, {}, "c2: p3 deleted, its three children untouched")
    _commit(root, {"p3.md": "# Parent\n"}, "c3: p3 restored")
    (spec,) = find(mine_files(root), "link_value", key="parent")
    found = replay(root, [spec], Config(), min_confidence=0.9, samples=10)
    assert found is not None and found.sampled == 3
    history = found.specs[spec.id]
    # c03.md, c07.md and c11.md never changed: they broke at the second commit only because p3 was gone then
    assert (history.fixed, history.violations_now, history.held) == (3, 0, round(1 / 3, 4))
