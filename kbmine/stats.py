"""Counts that describe a KB at a glance (``kbmine stats``)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["kb_stats"]


def kb_stats(kb: KB) -> dict[str, Any]:
    """Notes, links by kind and outcome, orphans and connected components."""
    import networkx as nx

    from kbmine.graph import note_subgraph, orphans

    by_kind: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    wikilinks_body = wikilinks_frontmatter = embeds = broken_anchors = 0
    for _, link, resolution in kb.links():
        by_kind[link.kind] += 1
        by_status[resolution.status] += 1
        if link.kind == "wikilink":
            if link.in_frontmatter:
                wikilinks_frontmatter += 1
            else:
                wikilinks_body += 1
        embeds += link.is_embed
        broken_anchors += resolution.anchor_ok is False
    graph = kb.graph
    notes_only = note_subgraph(graph)
    return {
        "notes": len(kb.notes),
        "files": len(kb.files),
        "bytes": sum(note.size for note in kb.notes.values()),
        "links": sum(by_kind.values()),
        "links_by_kind": dict(sorted(by_kind.items())),
        "wikilinks": wikilinks_body + wikilinks_frontmatter,
        "wikilinks_in_body": wikilinks_body,
        "wikilinks_in_frontmatter": wikilinks_frontmatter,
        "embeds": embeds,
        "resolved": by_status["note"] + by_status["file"] + by_status["dir"],
        "broken": by_status["broken"],
        "broken_anchors": broken_anchors,
        "ambiguous": by_status["ambiguous"],
        "escapes": by_status["escapes"],
        "external": by_status["external"],
        "orphans": len(orphans(graph)),
        "components": nx.number_weakly_connected_components(notes_only) if len(notes_only) else 0,
        "unreadable": sum(1 for note in kb.notes.values() if any(p.rule == "unreadable-note" for p in note.problems)),
    }
