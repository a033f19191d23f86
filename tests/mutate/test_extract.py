"""kbmine mutate --kind extract: a duplicated claim moves into its own note, linked from each place."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import git_env, run_kbmine
from tests.mutate.test_mutate import branch_file, git, make_repo, mutate, user_state

CLAIM = (
    "Retrieval quality depends less on the embedding model than on how the notes are cut into passages. "
    "A passage that mixes two claims is retrieved for neither of them, and a passage that splits one claim "
    "loses the context that makes it true."
)
NEW = "notes/retrieval-quality-depends-less-on-the-embedding-model.md"


def _repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {
            "notes/a.md": f"---\ntype: note\ntags: [retrieval]\n---\n# A\n\n{CLAIM}\n",
            "notes/b.md": f"---\ntype: note\n---\n# B\n\nIntro.\n\n{CLAIM.replace('the notes', 'notes')}\n",
            "notes/c.md": "---\ntype: note\n---\n# C\n\n[[a]] [[b]]\n",
            "README.md": "# Home\n\n[C](notes/c.md)\n",
        },
    )


def test_extract_moves_the_claim_once_and_links_every_place(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    before = user_state(root)
    run = mutate(root, "--kind", "extract")
    assert user_state(root) == before
    assert [c["action"] for c in run["committed"]] == ["extract"]
    new = branch_file(root, NEW).decode()
    assert new.startswith("---\ntype: note\n---\n# Retrieval quality depends less on the embedding model\n\n")
    assert CLAIM in new
    for path in ("notes/a.md", "notes/b.md"):
        text = branch_file(root, path).decode()
        assert "a passage that splits one claim" not in text
        assert "(retrieval-quality-depends-less-on-the-embedding-model.md)" in text
    # The frontmatter and everything outside the passage is byte for byte what it was.
    assert branch_file(root, "notes/a.md").startswith(b"---\ntype: note\ntags: [retrieval]\n---\n# A\n\n")

    git(root, "checkout", "-q", "kbmine/review")
    check = run_kbmine("check", str(root), "--select", "duplicate-claim,broken-link,orphan-note", "--format", "json", "--no-cache")
    assert json.loads(check.stdout)["findings"] == []
    git(root, "checkout", "-q", "main")
    assert mutate(root, "--kind", "extract")["proposed"] == 0


def test_extract_dry_run_shows_the_new_note(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    run = mutate(root, "--kind", "extract", "--dry-run")
    [diff] = run["diffs"]
    assert f"+++ b/{NEW}" in diff["diff"] and not run["committed"]


def test_unknown_kind_is_a_usage_error(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    result = run_kbmine("mutate", str(root), "--kind", "rewrite", env=git_env())
    assert result.returncode == 2 and "unknown mutation kind 'rewrite'" in result.stderr
