"""The names a new note would carry, and where the KB already writes them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kbmine.kb import load
from kbmine.mutate.mentions import Mentions, names_of


def test_names_are_the_title_the_file_name_and_plurals_one_word_names_as_written() -> None:
    assert names_of("Review gate", "review_gate") == {"review gate": frozenset(), "review gates": frozenset()}
    # A one-word title matches only as written; a one-word file name under a longer title is no name.
    assert names_of("Cost", "cost") == {"cost": frozenset({"Cost"})}
    assert "cost" not in names_of("Cost of context", "cost")


def test_a_name_clashes_when_a_note_outside_its_places_writes_it(make_kb: Callable[..., Path]) -> None:
    kb = load(
        make_kb({
            "a.md": "# A\n\nThe review gate holds.\n",
            "b.md": "# B\n\n`review gate` in code is no mention.\n",
            "c.md": "# Cost\n\nNothing.\n",
        }),
        use_cache=False,
    )
    mentions = Mentions.scan(kb, [("Review gate", "review-gate"), ("Merge queue", "merge-queue")])
    assert mentions.found == {"review gate": frozenset({"a.md"})}
    assert mentions.clashes("Review gate", "notes/review-gate.md", linking=set())
    # a.md will link the new note, so the rule leaves its mention alone.
    assert not mentions.clashes("Review gate", "notes/review-gate.md", linking={"a.md"})
    assert not mentions.clashes("Merge queue", "notes/merge-queue.md", linking=set())
    # An existing note's name is taken: sharing it would make both ambiguous.
    assert mentions.clashes("Cost", "notes/cost-2.md", linking=set())
    assert mentions.clashes("Merge queue", "notes/merge-queue.md", linking=set(), planned={"merge queue"})


def test_mentions_uses_only_the_rules_public_names() -> None:
    """kbmine.mutate.mentions reads prose through missing-link's public surface, never its private helpers."""
    import ast

    import kbmine.mutate.mentions as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    private = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kbmine")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []
