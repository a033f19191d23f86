"""Round trip on every note of every corpus: spans address the stored bytes exactly.

For every link of ``kbmine.load(path, use_cache=False)``: the file's bytes
``[span.start:span.end]`` decode to ``link.raw``; ``target_span`` lies inside
the link (for a reference link: inside the file, at its definition); heading
and block spans lie inside the file; and line/column agree with the byte
offsets (line = newlines before the offset + 1, column = code points since the
line start + 1), for starts and ends alike.
"""

from __future__ import annotations

import pytest

from corpus_support import Positions, show
from kbmine.kb import KB

CORPORA = ("hyalo_kb", "foam_kb", "commonplace_kb")


def _round_trip(kb: KB) -> tuple[list[str], dict[str, int]]:
    problems: list[str] = []
    counts = {"notes": 0, "links": 0, "target_spans": 0, "headings": 0, "blocks": 0}
    for path, note in kb.notes.items():
        data = kb.read_bytes(path)
        assert note.size == len(data), path
        where = Positions(data)
        counts["notes"] += 1
        for link in note.links:
            counts["links"] += 1
            label = f"{path}: {link.kind} {link.raw[:60]!r}"
            problems += where.problems(link.span, label)
            if data[link.span.start : link.span.end].decode("utf-8", "replace") != link.raw:
                problems.append(f"{label}: bytes read {data[link.span.start:link.span.end][:60]!r}")
            target = link.target_span
            if target is None:
                continue
            counts["target_spans"] += 1
            problems += where.problems(target, f"{label} target_span")
            if link.kind != "reference" and not link.span.start <= target.start <= target.end <= link.span.end:
                problems.append(f"{label}: target_span {target.start}:{target.end} outside span {link.span.start}:{link.span.end}")
        for heading in note.headings:
            counts["headings"] += 1
            problems += where.problems(heading.span, f"{path}: heading {heading.text[:60]!r}")
        for block in note.blocks:
            counts["blocks"] += 1
            problems += where.problems(block.span, f"{path}: block ^{block.id}")
            if data[block.span.start : block.span.end] != f"^{block.id}".encode():
                problems.append(f"{path}: block ^{block.id} reads {data[block.span.start:block.span.end]!r}")
    return problems, counts


@pytest.mark.parametrize("corpus", CORPORA)
def test_round_trip(corpus: str, request: pytest.FixtureRequest) -> None:
    kb = request.getfixturevalue(corpus)
    problems, counts = _round_trip(kb)
    assert counts["notes"] == len(kb.notes) > 0
    assert counts["links"] > 0
    assert problems == [], f"{len(problems)} span problems:\n{show(problems)}"


def test_round_trip_covers_what_the_corpora_hold(hyalo_kb: KB, foam_kb: KB, commonplace_kb: KB) -> None:
    """The corpora really exercise frontmatter wikilinks, references, definitions, embeds and headings."""
    links = [link for kb in (hyalo_kb, foam_kb, commonplace_kb) for note in kb.notes.values() for link in note.links]
    kinds = {link.kind for link in links}
    assert {"wikilink", "markdown", "reference", "definition", "autolink"} <= kinds
    assert any(link.in_frontmatter for link in links)
    assert any(link.is_embed for link in links)
    assert any(not link.raw.isascii() for link in links)
    assert sum(len(note.headings) for note in commonplace_kb.notes.values()) > 1000
