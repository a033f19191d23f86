"""duplicate-claim reports the copy written last, by the passage's age, not the note's.

In throwaway git repos (isolated from the user's config): a paragraph copied
today into a note older than the original is the copy reported, committed or
not; and editing a note elsewhere, or renaming it without committing, does not
move an old duplicate's finding onto the other copy.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from kbmine.checks import run_checks, select_rules
from kbmine.config import load_config
from kbmine.kb import load
from tests.conftest import git_env

CLAIM = (
    "Retrieval quality depends less on the embedding model than on how the notes are cut into passages, "
    "because a passage that mixes two claims is retrieved for neither of them and a passage that splits "
    "one claim loses the context that makes it true."
)
COPY = CLAIM.replace("the notes", "notes").replace("splits one", "splits a")


def _git(root: Path, *args: str, date: str | None = None) -> None:
    env = git_env()
    if date is not None:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, check=True)


def _commit(root: Path, files: dict[str, str], date: str) -> None:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", f"notes of {date}", date=date)


def _reported(root: Path) -> list[str]:
    kb = load(root, load_config(root), use_cache=False)
    return sorted(f.path for f in run_checks(kb, select_rules(["duplicate-claim"])))


def test_a_copy_added_to_an_old_note_is_reported_committed_or_not(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _commit(root, {"old.md": "# Old\n\nAn old note.\n"}, "2024-01-01T00:00:00")
    _commit(root, {"original.md": f"# Original\n\n{CLAIM}\n"}, "2024-06-01T00:00:00")
    (root / "old.md").write_text(f"# Old\n\nAn old note.\n\n{COPY}\n", encoding="utf-8")
    assert _reported(root) == ["old.md"]  # uncommitted: absent from HEAD's old.md
    _commit(root, {}, "2025-01-01T00:00:00")
    assert _reported(root) == ["old.md"]  # committed last: absent from HEAD^'s old.md
    (root / "notes").mkdir()
    (root / "old.md").rename(root / "notes" / "old.md")  # moved, not committed: dated as at its old place
    assert _reported(root) == ["notes/old.md"]


def _two_copies(tmp_path: Path) -> Path:
    """A repository whose first.md has the claim and second.md, committed later, its copy."""
    root = tmp_path / "kb"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _commit(root, {"first.md": f"# First\n\n{CLAIM}\n"}, "2024-01-01T00:00:00")
    _commit(root, {"second.md": f"# Second\n\n{COPY}\n"}, "2024-06-01T00:00:00")
    assert _reported(root) == ["second.md"]
    return root


def test_editing_a_note_elsewhere_does_not_move_the_finding(tmp_path: Path) -> None:
    root = _two_copies(tmp_path)
    (root / "first.md").write_text(f"# First\n\n{CLAIM}\n\nA new closing line.\n", encoding="utf-8")
    assert _reported(root) == ["second.md"]  # first.md is newer now, its passage is not
    _commit(root, {}, "2025-01-01T00:00:00")
    assert _reported(root) == ["second.md"]


def test_renaming_the_older_copy_does_not_move_the_finding(tmp_path: Path) -> None:
    root = _two_copies(tmp_path)
    (root / "notes").mkdir()
    (root / "first.md").rename(root / "notes" / "renamed-first.md")  # not committed: untracked, HEAD's first.md gone
    assert _reported(root) == ["second.md"]
    # A note that is new indeed (its passage in no note gone from HEAD) still holds the newest copy.
    (root / "notes" / "renamed-first.md").rename(root / "first.md")
    (root / "brand-new.md").write_text(f"# Brand new\n\n{COPY} And one more clause.\n", encoding="utf-8")
    assert _reported(root) == ["brand-new.md", "second.md"]

