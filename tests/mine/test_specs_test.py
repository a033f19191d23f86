"""``kbmine specs test``: mutants injected into a copy of the KB, credited to the checks that report them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from clikit import run_cli as run_kbmine
from minekit import MakeKB, note


def _kb(make_kb: MakeKB) -> tuple[Path, str]:
    """Six notes with a `status` vocabulary (an accepted spec guards it) and a "Sources"
    section every note has (nothing guards it), all listed in the README."""
    names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
    files = {
        f"notes/{name}.md": note(
            f"# {name}\n\nSee [the next one]({names[(i + 1) % 6]}.md).\n\n## Sources\n\nNone.\n",
            status="draft" if i % 2 else "done",
        )
        for i, name in enumerate(names)
    }
    files["README.md"] = "# Home\n\n" + "".join(f"- [{name}](notes/{name}.md)\n" for name in names)
    root = make_kb(files)
    mined = json.loads(run_kbmine("mine", str(root), "--min-support", "5", "--holdout", "0", "--format", "json").stdout)
    (spec,) = [s["id"] for s in mined["specs"] if s["kind"] == "enum_values" and s["scope"] == "folder:notes"]
    assert run_kbmine("specs", "accept", spec, "--path", str(root)).returncode == 0
    return root, spec


def test_one_kind_killed_by_the_spec_one_surviving_as_a_gap(make_kb: MakeKB) -> None:
    root, spec = _kb(make_kb)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".kbmine" not in p.parts}
    result = run_kbmine("specs", "test", str(root), "--kind", "bad-enum", "--kind", "drop-section", "--count", "2")
    assert result.returncode == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    assert first.startswith("4 mutants in ") and "against 1 accepted spec and the built-in rules (0 findings before)" in first
    assert rest == [
        "  kind               mutants killed  killers",
        f"  bad-enum                 2      2  spec/{spec} 2",
        "  drop-section             2      0  -",
        "mutation score 50.0% (accepted specs alone 50.0%, built-in rules alone 0.0%)",
        "gaps in the KB's checker suite (mutants nothing reported):",
        "  drop-section       2 of 2 survived: remove a section heading most notes of the folder have",
        "    e.g. notes/foxtrot.md:8: dropped the heading 'Sources'",
        "    e.g. notes/alpha.md:8: dropped the heading 'Sources'",
    ]
    # the KB itself is never touched
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".kbmine" not in p.parts} == before


def test_json_report_every_kind_and_fail_under(make_kb: MakeKB) -> None:
    root, spec = _kb(make_kb)
    result = run_kbmine("specs", "test", str(root), "--count", "2", "--format", "json", "--fail-under", "0.95")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    kinds = {row["kind"]: row for row in document["kinds"]}
    assert kinds["bad-enum"]["killers"] == {f"spec/{spec}": 2} and kinds["drop-key"]["killers"] == {f"spec/{spec}": 2}
    # a link broken or a note renamed: the built-in broken-link rule reports it
    assert kinds["break-link"]["killed"] == kinds["break-link"]["mutants"] == 2
    assert set(kinds["break-link"]["killers"]) == {"broken-link"}
    assert kinds["rename-note"]["killed"] == 2 and "broken-link" in kinds["rename-note"]["killers"]
    # the dropped note stays linked from its neighbour, so nothing notices the missing index entry: a gap
    assert document["gaps"] == ["drop-index-entry", "drop-section"] and document["unattributed"] == 0
    killed = sum(row["killed"] for row in document["kinds"])
    assert document["score"] == round(killed / len(document["mutants"]), 4)
    for mutant in document["mutants"]:
        assert mutant["killed"] == bool(mutant["killers"]) and (mutant["first_finding"] is None) != mutant["killed"]
    again = run_kbmine("specs", "test", str(root), "--count", "2", "--format", "json")
    assert [m["description"] for m in json.loads(again.stdout)["mutants"]] == [m["description"] for m in document["mutants"]]


def test_unknown_kind_is_a_usage_error(make_kb: MakeKB) -> None:
    root = make_kb({"a.md": "# A\n"})
    result = run_kbmine("specs", "test", str(root), "--kind", "nope")
    assert result.returncode == 2 and result.stderr.startswith("kbmine: error: unknown mutant kind 'nope'")


def test_hostile_notes_are_copied_or_skipped_never_a_traceback(make_kb: MakeKB) -> None:
    root, _ = _kb(make_kb)
    (root / "notes" / "bad.md").write_text("---\nstatus: [unclosed\n---\n# bad\n", encoding="utf-8")
    (root / "notes" / "crlf.md").write_bytes(b"---\r\nstatus: done\r\n---\r\n# crlf\r\n\r\n## Sources\r\n")
    os.symlink("/etc/passwd", root / "notes" / "out.md")
    (root / os.fsdecode(b"notes/caf\xe9.md")).write_bytes(b"# cafe\n\nSee [alpha](alpha.md).\n")
    result = run_kbmine("specs", "test", str(root), "--count", "3", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert len(document["mutants"]) >= 15 and 0 < document["score"] < 1
