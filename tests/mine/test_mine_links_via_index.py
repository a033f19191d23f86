"""links_via_index: outside notes reach a folder's notes through its index — found where
they do, not found where they link straight in, and enforced by ``kbmine check``."""

from __future__ import annotations

from minekit import MakeKB, find, mine_files
from test_mine_graph_kinds import _accept_and_check


def _kb(straight: int, linkers: int = 12) -> dict[str, str]:
    """An ``adr/`` folder with an index; ``linkers`` outside notes link into it, the first
    ``straight`` of them to a member note instead of the index."""
    files = {f"adr/a{i}.md": f"# A{i}\n\nText.\n" for i in range(4)}
    files["adr/README.md"] = "# ADRs\n\n" + "".join(f"- [A{i}](a{i}.md)\n" for i in range(4))
    for i in range(linkers):
        target = "../adr/a1.md" if i < straight else "../adr/README.md"
        files[f"notes/n{i:02}.md"] = f"# N{i}\n\nSee [the decisions]({target}).\n"
    return files


def test_found_when_outside_notes_link_the_index(make_kb: MakeKB) -> None:
    (spec,) = find(mine_files(make_kb(_kb(straight=1))), "links_via_index")
    assert (str(spec.scope), spec.parameters, spec.support) == ("all", {"index": "adr/README.md"}, 12)
    assert spec.counterexamples == ("notes/n00.md",)
    assert "only through its index `adr/README.md`" in spec.statement


def test_not_found_where_outside_notes_link_straight_in(make_kb: MakeKB) -> None:
    assert not find(mine_files(make_kb(_kb(straight=5))), "links_via_index")  # 7 of 12
    assert not find(mine_files(make_kb(_kb(straight=0, linkers=3))), "links_via_index")  # too few linkers


def test_enforced_at_the_note_that_bypasses_the_index(make_kb: MakeKB) -> None:
    root = make_kb(_kb(straight=0))
    (root / "notes" / "new.md").write_text("# New\n\nSee [A2](../adr/a2.md).\n", encoding="utf-8")
    _, findings = _accept_and_check(root, "links_via_index", index="adr/README.md")
    assert [(f["path"], f["line"]) for f in findings] == [("notes/new.md", 1)]
    assert "link the index `adr/README.md` (`../adr/README.md`) instead of `adr/a2.md`" in findings[0]["message"]
