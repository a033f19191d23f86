"""Where a new note goes and how it is named: the folder's naming style, a name free in the whole KB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kbmine.kb import load
from kbmine.mutate.newnote import NameStyle, free_path, name_style, note_text, slug


@pytest.mark.parametrize(
    ("names", "style", "expected"),
    [
        (["alpha-beta", "gamma-delta-x", "epsilon-zeta"], NameStyle("-", True, 60), "cafe-au-lait-is-a-claim"),
        (["Alpha Beta", "Gamma Delta", "Epsilon Zeta"], NameStyle(" ", False, 60), "Cafe au lait is a claim"),
        (["alpha_beta", "gamma_delta", "epsilon_zeta"], NameStyle("_", True, 60), "cafe_au_lait_is_a_claim"),
    ],
)
def test_names_follow_the_folder(
    make_kb: Callable[..., Path], names: list[str], style: NameStyle, expected: str
) -> None:
    kb = load(make_kb({f"notes/{n}.md": f"# {n}\n" for n in names}), use_cache=False)
    assert name_style(kb, "notes") == style
    assert slug("Café au lait is a claim!", style) == expected


def test_a_long_name_is_cut_at_a_word_that_carries_meaning() -> None:
    assert slug("One two three four five six of the seven", NameStyle("-", True, 30)) == "one-two-three-four-five-six"
    assert slug("***", fallback="claim") == "claim"


def test_a_name_used_in_another_folder_is_not_free(make_kb: Callable[..., Path]) -> None:
    # [[topic]] would be ambiguous between two notes named topic.md, so the new one is numbered.
    kb = load(make_kb({"a/topic.md": "# Topic\n", "b/Topic-2.md": "# Topic 2\n"}), use_cache=False)
    assert free_path(kb, "b", "topic") == "b/topic-3.md"
    assert free_path(kb, "b", "other", planned={"c/other.md"}) == "b/other-2.md"


def test_note_text_writes_one_frontmatter_block() -> None:
    assert note_text({"type": "note", "tags": ["a", "b"]}, "T", "Body.\n\n") == (
        "---\ntype: note\ntags:\n- a\n- b\n---\n# T\n\nBody.\n"
    )
    assert note_text({}, "T", "Body.") == "# T\n\nBody.\n"
