"""The structural and implication spec kinds: a small KB where each must be found, ones
where it must not, and an accepted spec of each kind enforced by ``kbmine check``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clikit import run_cli
from minekit import MakeKB, find, mine_files, note


def enforced(root: Path, kind: str, **params: Any) -> list[dict[str, Any]]:
    """Mine ``root``, accept the one spec of ``kind`` with ``params``, and return what
    ``kbmine check`` then reports for it."""
    mined = run_cli("mine", str(root), "--holdout", "0", "--format", "json")
    assert mined.returncode == 0, mined.stderr
    (spec,) = [
        s for s in json.loads(mined.stdout)["specs"] if s["kind"] == kind and all(s["params"].get(k) == v for k, v in params.items())
    ]
    assert run_cli("specs", "accept", spec["id"], "--path", str(root)).returncode == 0
    checked = run_cli("check", str(root), "--select", "spec", "--format", "json")
    assert checked.returncode == 1, checked.stderr
    findings: list[dict[str, Any]] = json.loads(checked.stdout)["findings"]
    assert {f["rule"] for f in findings} == {f"spec/{spec['id']}"}
    return findings


def _superseded_kb(make_kb: MakeKB, pairs: int = 12) -> Path:
    files = {f"n{i:02}.md": note(status="current", owner=f"o{i}") for i in range(20)}
    files.update({f"s{i:02}.md": note(status="superseded", superseded_by=f"n{i:02}", owner=f"o{i}") for i in range(pairs)})
    files["s99.md"] = note(status="superseded", owner="o")
    return make_kb(files)


def test_key_implies_key_value_premise_found(make_kb: MakeKB) -> None:
    mining = mine_files(_superseded_kb(make_kb))
    (spec,) = find(mining, "key_implies_key", then_key="superseded_by")
    assert (spec.parameters["if_key"], spec.parameters["if_value"]) == ("status", "superseded")
    assert (spec.support, spec.counterexamples) == (13, ("s99.md",))
    assert "`status` set to `superseded`" in spec.statement
    # owner is on every note: "has status => has owner" would say nothing
    assert not find(mining, "key_implies_key", then_key="owner")


def test_key_implies_key_presence_premise_makes_value_premises_redundant(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": note(source=f"https://e.org/{i}", accessed="2024-01-01", kind="a" if i % 2 else "b") for i in range(24)}
    files.update({f"m{i:02}.md": note(title=f"t{i}", **({"accessed": "2024-02-02"} if i < 5 else {})) for i in range(20)})
    mining = mine_files(make_kb(files))
    # source and kind always come together: kind (first by name) speaks for both
    assert not find(mining, "key_implies_key", if_key="source", then_key="accessed")
    # "kind is a" and "kind is b" each imply accessed too, but "has kind" says both at once
    assert [s.parameters["if_value"] for s in find(mining, "key_implies_key", if_key="kind", then_key="accessed")] == [""]


def test_key_implies_key_one_direction_for_keys_that_always_come_together(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": note(isbn=f"i{i}", publisher=f"p{i}") for i in range(12)}
    files.update({f"m{i:02}.md": note(title=f"t{i}") for i in range(20)})
    specs = find(mine_files(make_kb(files)), "key_implies_key")
    assert [(s.parameters["if_key"], s.parameters["then_key"]) for s in specs] == [("isbn", "publisher")]


def test_key_implies_key_not_found_below_support_or_confidence(make_kb: MakeKB) -> None:
    few = mine_files(_superseded_kb(make_kb, pairs=5))
    assert not find(few, "key_implies_key", then_key="superseded_by")
    files = {f"n{i:02}.md": note(status="current") for i in range(20)}
    files.update({f"s{i:02}.md": note(status="superseded", **({"superseded_by": "x"} if i % 2 else {})) for i in range(20)})
    assert not find(mine_files(make_kb(files)), "key_implies_key", then_key="superseded_by")


def test_key_implies_key_enforced_by_check(make_kb: MakeKB) -> None:
    (finding,) = enforced(_superseded_kb(make_kb), "key_implies_key", then_key="superseded_by")
    assert finding["path"] == "s99.md" and finding["line"] == 2
    assert "add `superseded_by:`" in finding["message"]


def _related_kb(make_kb: MakeKB, plain: int = 1) -> Path:
    files = {f"n{i:02}.md": note(related=f'"[[n{(i + 1) % 12:02}]]"') for i in range(12)}
    files.update({f"l{i:02}.md": note(related=['"[[n00]]"', f'"[[n{i:02}|see]]"']) for i in range(4)})
    files.update({f"e{i:02}.md": note(related="[]") for i in range(6)})  # empty: links nowhere yet
    files.update({f"p{i:02}.md": note(related="a plain title") for i in range(plain)})
    return make_kb(files)


def test_link_value_wikilinks_found_and_empty_values_not_counted(make_kb: MakeKB) -> None:
    mining = mine_files(_related_kb(make_kb))
    (spec,) = find(mining, "link_value", key="related")
    assert spec.parameters["form"] == "wikilink"
    assert (spec.support, spec.counterexamples) == (17, ("p00.md",))


def test_link_value_note_paths_found(make_kb: MakeKB) -> None:
    files = {f"notes/n{i:02}.md": note(type="kb/types/note.md" if i % 2 else "../types/idea.md") for i in range(12)}
    files.update({"kb/types/note.md": "# Note\n", "types/idea.md": "# Idea\n"})
    mining = mine_files(make_kb(files))
    assert [s.parameters["form"] for s in find(mining, "link_value", key="type")] == ["path"]


def test_link_value_not_found_for_urls(make_kb: MakeKB) -> None:
    urls = {f"n{i:02}.md": note(source=f"https://example.org/{i}.md") for i in range(12)}
    assert not find(mine_files(make_kb(urls)), "link_value")


def test_link_value_not_found_with_too_many_plain_values(make_kb: MakeKB) -> None:
    assert not find(mine_files(make_kb({f"n{i}.md": note(related=f'"[[n{i}]]"') for i in range(5)})), "link_value")
    assert not find(mine_files(_related_kb(make_kb, plain=5)), "link_value")


def test_link_value_enforced_by_check(make_kb: MakeKB) -> None:
    (finding,) = enforced(_related_kb(make_kb), "link_value", key="related")
    assert finding["path"] == "p00.md" and finding["line"] == 2
    assert "write `related` as a wikilink" in finding["message"]


def _titled_kb(make_kb: MakeKB, wrong: int = 1) -> Path:
    files = {f"topics/link-rule-{i}.md": f"# Link Rule {i}\n\nText.\n" for i in range(12)}
    files["topics/README.md"] = "# Topics\n"  # index notes are exempt
    files["topics/untitled.md"] = "No heading.\n"
    files.update({f"topics/old-name-{i}.md": f"# New Title {i}\n" for i in range(wrong)})
    return make_kb(files)


def test_title_matches_filename_found(make_kb: MakeKB) -> None:
    (spec,) = find(mine_files(_titled_kb(make_kb)), "title_matches_filename")
    assert (str(spec.scope), spec.support, spec.counterexamples) == ("all", 13, ("topics/old-name-0.md",))


def test_title_matches_filename_not_found_with_many_mismatches(make_kb: MakeKB) -> None:
    assert not find(mine_files(_titled_kb(make_kb, wrong=4)), "title_matches_filename")


def test_title_matches_filename_enforced_by_check(make_kb: MakeKB) -> None:
    (finding,) = enforced(_titled_kb(make_kb), "title_matches_filename")
    assert finding["path"] == "topics/old-name-0.md" and "rename the note to `new-title-0.md`" in finding["message"]


def _linked_kb(make_kb: MakeKB, islands: int = 1) -> Path:
    files = {f"n{i:02}.md": f"# N{i}\n\n[[n{(i + 1) % 12:02}]] [b](n{(i + 2) % 12:02}.md) [[n{(i + 3) % 12:02}]] [[n{(i + 3) % 12:02}|again]]\n" for i in range(12)}
    files["n12.md"] = "# N12\n\n[[n00]] [[n01]] <https://example.org> ![[n02]]\n"
    files.update({f"z{i}.md": "# Island\n\nNo links.\n" for i in range(islands)})
    return make_kb(files)


def test_min_outbound_links_found_with_the_largest_minimum(make_kb: MakeKB) -> None:
    mining = mine_files(_linked_kb(make_kb, islands=0))
    # 12 of 13 notes link to 3 distinct notes: 3 needs 12/13 = 92% >= 90%; URLs and embeds do not count
    (spec,) = find(mining, "min_outbound_links")
    assert (spec.parameters["min"], spec.counterexamples) == (3, ("n12.md",))


def test_min_outbound_links_not_found_when_many_notes_link_nowhere(make_kb: MakeKB) -> None:
    assert not find(mine_files(_linked_kb(make_kb, islands=4)), "min_outbound_links")


def test_min_outbound_links_enforced_by_check(make_kb: MakeKB) -> None:
    findings = enforced(_linked_kb(make_kb, islands=0), "min_outbound_links")
    assert [f["path"] for f in findings] == ["n12.md"] and "it links to 2, at least 3 wanted" in findings[0]["message"]
