"""scripts/inject.py --mutate follows an injected place through kbmine's commits one commit at a time."""

from __future__ import annotations

from inject import Site, trace

from kbmine.model import Edit
from kbmine.mutate.model import Expectation, Mutation


def _fix(path: str, start: int, end: int, new: bytes, target: str = "other.md") -> Mutation:
    edit = Edit(path, start, end, b"x" * (end - start), new)
    return Mutation("relink", "link-mention", "missing-link", f"{start}", (edit,), Expectation(path, target, None, True), "s", "b")


def test_a_place_moves_by_each_commit_on_the_bytes_the_one_before_left() -> None:
    """The second commit was computed after the first shrank the note by 40 bytes.

    Its edit at 85-90 lies after the place (now at 60-80); measured against
    the injected bytes it would have seemed to lie before it (at 100), and
    the link would have been looked for at 58, not found, and the repaired
    link scored as not repaired.
    """
    site = Site("a.md", 100, 120, "b.md", "b", "[b](b.md)")
    shrink, after, over = _fix("a.md", 0, 50, b"0123456789"), _fix("a.md", 85, 90, b""), _fix("a.md", 62, 65, b"yyyyyy", "b.md")
    traced = trace(site, [shrink, after, over], "rename")
    assert (traced.site.start, traced.site.end) == (60, 83)
    assert [(place.start, place.end) for place in traced.places] == [(100, 120), (60, 80), (60, 80), (60, 83)]
    assert traced.touching == [over]
    assert trace(site, [_fix("b.md", 0, 50, b"")], "rename").site == site  # another note's edits move nothing here


def test_a_place_an_extract_moves_goes_with_its_passage_into_the_new_note() -> None:
    site = Site("a.md", 100, 120, "b.md", "b", "[b](b.md)")
    repair = _fix("a.md", 104, 108, b"b.md", "b.md")
    extract = Mutation(
        "extract", "extract", "duplicate-claim", "e", (Edit("a.md", 90, 200, b"x" * 110, b"See [claim](claim.md)."),),
        None, "s", "b", new_files=(("claim.md", b"# Claim\n"),),
    )
    traced = trace(site, [repair, extract, _fix("a.md", 0, 10, b"")], "rename")
    assert traced.moved_to == "claim.md" and traced.touching == [repair, extract]
