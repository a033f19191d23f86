"""Notes → a networkx ``MultiDiGraph``: one node per note, one edge per link occurrence.

Targets that do not resolve to a note get a node of their own
(``kind="unresolved"`` / ``"file"`` ...) so broken and ambiguous links stay
visible in the graph; external URLs are left out. All data lives in node and
edge attributes, so graph algorithms need nothing but the graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import networkx as nx

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["build_graph", "note_subgraph", "orphans", "export_graph"]


def build_graph(kb: KB) -> nx.MultiDiGraph[str]:
    """The link graph of ``kb`` (see module docstring for its shape)."""
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(root=str(kb.root))
    for path, note in kb.notes.items():
        graph.add_node(path, kind="note", path=path, title=note.title, frontmatter=note.frontmatter)
    for note, link, resolution in kb.links():
        if resolution.status == "external":
            continue
        if resolution.status == "note" and resolution.path is not None:
            target = resolution.path
        elif resolution.status in ("file", "dir") and resolution.path is not None:
            target = f"{resolution.status}:{resolution.path}"
            graph.add_node(target, kind=resolution.status, path=resolution.path)
        else:
            target = f"{resolution.status}:{link.target}"
            graph.add_node(target, kind=resolution.status, path=link.target)
        graph.add_edge(
            note.path,
            target,
            kind=link.kind,
            raw=link.raw,
            anchor=link.anchor,
            embed=link.is_embed,
            frontmatter=link.in_frontmatter,
            line=link.span.line,
            column=link.span.column,
            start=link.span.start,
            end=link.span.end,
            status=resolution.status,
            resolved=resolution.resolved,
            anchor_ok=resolution.anchor_ok,
        )
    return graph


def note_subgraph(graph: nx.MultiDiGraph[str]) -> nx.MultiDiGraph[str]:
    """The graph restricted to note nodes (a view, no copy)."""
    return graph.subgraph([n for n, attrs in graph.nodes(data=True) if attrs.get("kind") == "note"])


def orphans(graph: nx.MultiDiGraph[str]) -> list[str]:
    """Notes no *other* note links to."""
    result = []
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") != "note":
            continue
        if not any(source != node for source, _ in graph.in_edges(node)):
            result.append(node)
    return sorted(result)


def _flat(value: Any) -> Any:
    """An attribute value graphml and gexf can hold: a scalar, or JSON text for containers."""
    from kbmine.report.portable import dumps, xml_text

    if value is None:
        return ""
    if isinstance(value, (int, float, bool)):
        return value
    return xml_text(value if isinstance(value, str) else dumps(value, sort_keys=True))


def export_graph(graph: nx.MultiDiGraph[str], fmt: str) -> str:
    """Serialise the graph as ``json`` (node-link), ``graphml``, ``gexf`` or ``dot``."""
    if fmt == "json":
        from kbmine.report.portable import dumps

        # Not indented: a graph of 100k links is 30 MB, and indenting takes json's slow path.
        return dumps(nx.node_link_data(graph, edges="edges"), sort_keys=True)
    flat: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    flat.graph.update({k: _flat(v) for k, v in graph.graph.items()})
    for node, attrs in graph.nodes(data=True):
        flat.add_node(_flat(node), **{k: _flat(v) for k, v in attrs.items()})
    for source, target, key, attrs in graph.edges(keys=True, data=True):
        flat.add_edge(_flat(source), _flat(target), key=key, **{k: _flat(v) for k, v in attrs.items()})
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(flat)) + "\n"
    if fmt == "gexf":
        return "\n".join(nx.generate_gexf(flat)) + "\n"
    if fmt == "dot":
        return _dot(flat)
    raise ValueError(f"unknown graph format {fmt!r}")


def _dot(graph: nx.MultiDiGraph[str]) -> str:
    def quote(text: Any) -> str:
        return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = ["digraph kb {"]
    for node, attrs in graph.nodes(data=True):
        label = attrs.get("title") or attrs.get("path") or node
        style = "" if attrs.get("kind") == "note" else ", style=dashed"
        lines.append(f"  {quote(node)} [label={quote(label)}{style}];")
    for source, target, attrs in graph.edges(data=True):
        color = "" if attrs.get("resolved") else ", color=red"
        lines.append(f"  {quote(source)} -> {quote(target)} [label={quote(attrs.get('kind'))}{color}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
