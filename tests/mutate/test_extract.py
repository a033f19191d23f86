"""kbmine mutate --kind extract: a duplicated claim moves into its own note, linked from each place."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from kbmine.checks import run_checks
from kbmine.kb import load
from kbmine.mutate.edits import apply_edits
from kbmine.mutate.extract import propose_extracts, verify_extract
from kbmine.mutate.model import Mutation
from tests.conftest import git_env, run_kbmine
from tests.mutate.test_mutate import (
    branch_file,
    git,
    make_repo,
    mutate,
    renamed,
    user_state,
)

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
        # a.md and b.md have no links of their own: the link takes the KB's style (wikilinks, in c.md).
        assert "[[retrieval-quality-depends-less-on-the-embedding-model|details]]" in text
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


# --- what the new note looks like, computed in process on small KBs (no git needed) ---

LONG = (
    "A retained theory is worth more than an equivalent pile of cases because one revision at the level of the "
    "theory changes many downstream conclusions at once, and no pile of cases offers a single place to make it."
)


def _extracts(make_kb: Callable[[Mapping[str, str | bytes]], Path], files: Mapping[str, str]) -> list[Mutation]:
    kb = load(make_kb(files), use_cache=False)
    return propose_extracts(kb, [f for f in run_checks(kb) if f.rule == "duplicate-claim"])


def test_title_file_name_and_frontmatter_follow_the_claim_and_the_folder(make_kb: Callable[..., Path]) -> None:
    front = "---\ndescription: {d}\ntype: kb/types/note.md\n---\n"
    files = {
        f"notes/{name}.md": front.format(d=f"About {name}") + f"# {name}\n\n[[other]]\n"
        for name in ("theories-compress-cases", "cases-are-evidence", "revision-needs-a-rationale")
    }
    files["notes/first-holder-of-the-claim.md"] = front.format(d="One") + f"# First\n\n{LONG}\n"
    files["notes/second-holder-of-the-claim.md"] = front.format(d="Two") + f"# Second\n\n- {LONG}\n"
    [mutation] = _extracts(make_kb, files)
    ((path, data),) = mutation.new_files
    # The name is cut at the folder's name length (60 here), at a word that carries meaning.
    assert path == "notes/a-retained-theory-is-worth-more-than-an-equivalent-pile.md"
    assert data.decode().startswith(
        "---\ndescription: A retained theory is worth more than an equivalent pile of cases because one revision "
        "at the level of the theory changes many downstream conclusions at once, and no pile of cases offers a "
        "single place to make it.\ntype: kb/types/note.md\n---\n"
        "# A retained theory is worth more than an equivalent pile of cases\n\n" + LONG + "\n"
    )
    replaced = {edit.path: edit.new.decode() for edit in mutation.edits}
    # The list item stays a list item; a one-sentence claim leaves just the link, in the note's style.
    assert replaced["notes/second-holder-of-the-claim.md"] == (
        "- See [[a-retained-theory-is-worth-more-than-an-equivalent-pile|"
        "A retained theory is worth more than an equivalent pile of cases]]."
    )


def test_the_copy_with_working_links_is_the_home(make_kb: Callable[..., Path]) -> None:
    claim = (
        "Error correction works with [above-chance oracles](oracles.md): first construct an oracle whose true "
        "positive rate beats its false positive rate, then amplify it through decorrelated repetition of checks."
    )
    files = {
        "notes/oracles.md": "# Oracles\n\n[Home](correction.md)\n",
        "notes/correction.md": f"# Correction\n\n{claim}\n",
        # A work packet copied the paragraph into another folder, where its link is broken.
        "work/packet.md": f"# Packet\n\n[Note](../notes/correction.md)\n\n{claim}\n",
    }
    [mutation] = _extracts(make_kb, files)
    ((path, _),) = mutation.new_files
    assert path.startswith("notes/error-correction-works-with-above-chance-oracles")


def test_a_shared_citation_is_not_a_claim(make_kb: Callable[..., Path]) -> None:
    entry = (
        "Kang, M., Chen, W.-N., Han, D., Inan, H. A., Wutschitz, L., Chen, Y., Sim, R., and Rajmohan, S. (2025). "
        "ACON: Optimizing context compression for long-horizon LLM agents. URL https://arxiv.org/abs/2510.00615."
    )
    files = {"sources/a.md": f"# A\n\n{entry}\n", "sources/b.md": f"# B\n\n{entry}\n", "index.md": "[a](sources/a.md)"}
    assert _extracts(make_kb, files) == []


def test_two_claims_moved_out_of_the_same_notes_are_both_committed(tmp_path: Path) -> None:
    # The second extract edits notes the first already linked to a note that only the review branch
    # has; counting that link as newly broken used to reject every later extract in those notes.
    other = (
        "Passages that mix two claims are retrieved for neither, so a chunker should cut at claim boundaries "
        "and never in the middle of an argument, whatever the token budget of the embedding model says."
    )
    root = make_repo(
        tmp_path / "repo",
        {
            "notes/a.md": f"# A\n\n{CLAIM}\n\n{other}\n",
            "notes/b.md": f"# B\n\n{CLAIM}\n\nBetween.\n\n{other}\n",
            "README.md": "# Home\n\n[A](notes/a.md) [B](notes/b.md)\n",
        },
    )
    run = mutate(root, "--kind", "extract")
    assert [c["action"] for c in run["committed"]] == ["extract", "extract"] and run["skipped"] == []
    text = branch_file(root, "notes/b.md").decode()
    assert "(passages-that-mix-two-claims-are-retrieved-for-neither.md)" in text
    assert "(retrieval-quality-depends-less-on-the-embedding-model.md)" in text


def test_a_shared_table_is_not_a_claim(make_kb: Callable[..., Path]) -> None:
    table = "| Page type | Count |\n|---|---|\n" + "".join(f"| guide number {i} of the set | {i} |\n" for i in range(12))
    label = "**By type** (top 12):\n"
    files = {"a.md": f"# A\n\n{label}{table}", "b.md": f"# B\n\n{label}{table}", "index.md": "[a](a.md) [b](b.md)"}
    kb = load(make_kb(files), use_cache=False)
    duplicates = [f for f in run_checks(kb) if f.rule == "duplicate-claim"]
    assert duplicates and propose_extracts(kb, duplicates) == []


def test_a_claim_pointing_at_its_own_notes_heading_is_not_moved(make_kb: Callable[..., Path]) -> None:
    claim = (
        "Retrieval quality depends less on the embedding model than on how the notes are cut into passages, "
        "as the [cutting rules](#cutting) below show for every kind of note we keep in this knowledge base."
    )
    files = {
        "a.md": f"# A\n\n{claim}\n\n## Cutting\n\nRules.\n",
        "b.md": f"# B\n\n{claim}\n\n## Cutting\n\nRules.\n",
        "index.md": "[a](a.md) [b](b.md) [n](notes-on-passages.md)\n",
        # A name missing-link looks for: the new note is read for mentions, its links resolved.
        "notes-on-passages.md": "# Notes on passages\n\n[a](a.md)\n",
    }
    root = make_kb(files)
    kb = load(root, use_cache=False)
    [mutation] = propose_extracts(kb, [f for f in run_checks(kb) if f.rule == "duplicate-claim"])
    before = {path: kb.read_bytes(path) for path in ("a.md", "b.md")}
    assert verify_extract(kb, mutation, before) == "the new note would have a broken anchor: [cutting rules](#cutting)"


def test_a_first_sentence_ending_in_emphasis_stays_balanced(make_kb: Callable[..., Path]) -> None:
    claim = (
        "**Index semantics preserved.** When the index is given, the snapshot is the source of truth and the "
        "listed files filter into it, never past it, which matches what the index already means."
    )
    [mutation] = _extracts(make_kb, {"a.md": f"# A\n\n5. {claim}\n", "b.md": f"# B\n\n- {claim}\n", "i.md": "[a](a.md) [b](b.md)"})
    assert {edit.path: edit.new.decode() for edit in mutation.edits} == {
        "a.md": "5. **Index semantics preserved.** See [details](index-semantics-preserved.md).",
        "b.md": "- **Index semantics preserved.** See [details](index-semantics-preserved.md).",
    }


def test_a_shared_index_entry_is_not_a_claim(make_kb: Callable[..., Path]) -> None:
    entry = (
        "- [Rule-based context selection needs a pre-existing signal](signal.md) — explains why a targeted push needs "
        "an identifier already on the table or a content inference, and grounds the read-back signal of each review."
    )
    files = {"signal.md": "# Rule-based context selection needs a pre-existing signal\n", "a.md": f"# A\n\n{entry}\n", "b.md": f"# B\n\n{entry}\n"}
    kb = load(make_kb(files), use_cache=False)
    duplicates = [f for f in run_checks(kb) if f.rule == "duplicate-claim"]
    assert duplicates and propose_extracts(kb, duplicates) == []


def test_a_title_other_notes_write_gives_way_to_one_nobody_writes(make_kb: Callable[..., Path]) -> None:
    claim = (
        "**Cost.** Every retrieval call pays for the whole context window again, so a long transcript costs more "
        "per question than the answer is worth, and caching the prefix only delays the bill."
    )
    files = {
        "notes/a.md": f"# Agent memory\n\n{claim}\n",
        "notes/b.md": f"# Budgets\n\n{claim}\n",
        "index.md": "[a](notes/a.md) [b](notes/b.md)",
        # "Cost" is a title the KB never writes otherwise, but here it is, mid-sentence and capitalised.
        "notes/c.md": "# C\n\nWe track Cost per run. [a](a.md)\n",
    }
    [mutation] = _extracts(make_kb, files)
    ((path, data),) = mutation.new_files
    # "Cost" is written in c.md: the next sentence names the note instead.
    assert path == "notes/every-retrieval-call-pays-for-the-whole-context-window-again.md"
    assert data.decode().startswith("# Every retrieval call pays for the whole context window again\n")
    # And when that phrase is written elsewhere too, the first title is qualified by the note it comes from.
    files["notes/d.md"] = "# D\n\nEvery retrieval call pays for the whole context window again. [b](b.md)\n"
    [mutation] = _extracts(make_kb, files)
    ((path, data),) = mutation.new_files
    assert path == "notes/cost-agent-memory.md" and data.decode().startswith("# Cost (Agent memory)\n")


def test_a_copy_keeps_its_link_to_a_note_only_the_claim_linked(make_kb: Callable[..., Path]) -> None:
    claim = (
        "Every change to a shared note passes the [review gate](gate.md) before it lands, so a reviewer sees the "
        "claim, the evidence and the notes it touches at once, and nothing reaches the library unread by a person."
    )
    files = {
        "notes/gate.md": "# Review gate\n\n[a](a.md)\n",
        # a.md names the review gate outside the claim too; the claim holds its only link there.
        "notes/a.md": f"# A\n\nThe review gate is strict.\n\n{claim}\n",
        "notes/b.md": f"# B\n\n{claim}\n",
        "index.md": "[a](notes/a.md) [b](notes/b.md)",
    }
    kb = load(make_kb(files), use_cache=False)
    [mutation] = propose_extracts(kb, [f for f in run_checks(kb) if f.rule == "duplicate-claim"])
    a_edits = sorted((e for e in mutation.edits if e.path == "notes/a.md"), key=lambda e: e.start)
    assert [(e.old, e.new) for e in a_edits[:1]] == [(b"review gate", b"[review gate](gate.md)")]
    # b.md never names it outside the claim: only the claim's own edit.
    assert len([e for e in mutation.edits if e.path == "notes/b.md"]) == 1
    before = {path: kb.read_bytes(path) for path in ("notes/a.md", "notes/b.md")}
    assert verify_extract(kb, mutation, before) is None
    after = apply_edits(before["notes/a.md"], a_edits).decode()
    assert after.startswith("# A\n\nThe [review gate](gate.md) is strict.\n\n")


def test_the_new_note_links_what_its_home_linked_around_the_claim(make_kb: Callable[..., Path]) -> None:
    claim = (
        "Each accepted change writes a line to the provenance trail with its author and the evidence it cites, "
        "so a later reader can tell a reviewed claim from a pasted one without asking anyone who was there."
    )
    files = {
        "notes/prov.md": "# Provenance trail\n\n[a](a.md)\n",
        # a.md links the trail above the claim: in a.md the claim's mention is covered, in the new note it is not.
        "notes/a.md": f"# A\n\nSee [Provenance trail](prov.md).\n\n{claim}\n",
        "notes/b.md": f"# B\n\n{claim}\n",
        "index.md": "[a](notes/a.md) [b](notes/b.md)",
    }
    kb = load(make_kb(files), use_cache=False)
    [mutation] = propose_extracts(kb, [f for f in run_checks(kb) if f.rule == "duplicate-claim"])
    ((_, data),) = mutation.new_files
    assert "writes a line to the [provenance trail](prov.md) with its author" in data.decode()
    before = {path: kb.read_bytes(path) for path in ("notes/a.md", "notes/b.md")}
    assert verify_extract(kb, mutation, before) is None


def _new_findings(root: Path, before: set[str]) -> list[dict]:
    check = run_kbmine("check", str(root), "--select", "missing-link", "--format", "json", "--no-cache")
    return [f for f in json.loads(check.stdout)["findings"] if f["fingerprint"] not in before]


def _copies(claim: str) -> dict[str, str]:
    """Two notes holding ``claim``: notes/a.md, and notes/b.md after an intro."""
    return {
        "notes/a.md": f"---\ntype: note\n---\n# A\n\n{claim}\n",
        "notes/b.md": f"---\ntype: note\n---\n# B\n\nIntro.\n\n{claim}\n",
    }


def test_the_new_note_links_a_name_missing_link_reports_in_the_claim(tmp_path: Path) -> None:
    # The claim names "Passage cutting", unlinked in both copies (a finding in each): in the new
    # note the name would be a new finding, so the extract commit links it there itself.
    claim = CLAIM.replace("cut into passages", "cut into passages (passage cutting)")
    root = make_repo(
        tmp_path / "repo",
        {
            **_copies(claim),
            "notes/passage-cutting.md": "---\ntype: note\n---\n# Passage cutting\n\n[[a]] [[b]]\n",
            "README.md": "# Home\n\n[[passage-cutting]]\n",
        },
    )
    before = {f["fingerprint"] for f in _new_findings(root, set())}
    run = mutate(root, "--kind", "extract")
    assert [c["action"] for c in run["committed"]] == ["extract"]
    assert b"[[passage-cutting|passage cutting]]" in branch_file(root, NEW)
    git(root, "checkout", "-q", "kbmine/review")
    assert _new_findings(root, before) == []


def test_an_extract_run_links_the_mentions_its_own_commits_woke(tmp_path: Path) -> None:
    # "vector store" is written unlinked in four notes, one over the limit of three: a common word.
    # Extract moves the claim out of a.md and b.md into one new note, and three notes are left
    # writing it: now a mention in each. An extract-only run still links them (relink commits after
    # the extract), so the branch leaves no finding behind.
    claim = CLAIM.replace("A passage that mixes", "A vector store holding a passage that mixes")
    files = {
        "pyproject.toml": "[tool.kbmine.rules.missing-link]\nmin_common = 3\nmax_share = 0.0\n",
        **_copies(claim),
        "notes/vector-store.md": "---\ntype: note\n---\n# Vector store\n\n[[a]] [[b]] [[c]] [[d]]\n",
        "notes/c.md": "# C\n\nA vector store keeps embeddings. [[a]]\n",
        "notes/d.md": "# D\n\nEvery vector store is an index. [[a]]\n",
        "README.md": "# Home\n\n[[c]] [[d]] [[vector-store]]\n",
    }
    root = make_repo(tmp_path / "repo", files)
    before = {f["fingerprint"] for f in _new_findings(root, set())}
    run = mutate(root, "--kind", "extract")
    assert [c["action"] for c in run["committed"]] == ["extract", "link-mention", "link-mention", "link-mention"]
    assert [c["subject"].rsplit(" in ", 1)[1] for c in run["committed"][1:]] == ["notes/c.md", "notes/d.md", NEW]
    git(root, "checkout", "-q", "kbmine/review")
    assert _new_findings(root, before) == []


def test_an_extract_over_a_link_a_relink_repaired_is_made_in_the_next_round_not_dropped(tmp_path: Path) -> None:
    """Both copies of a claim link a renamed note: the relinks come first, each inside a copy.

    The extract, computed on the same bytes, overlaps them and cannot be
    moved past them; it used to be dropped as "conflicts with an earlier
    fix". Now it is proposed again on the fixed tree and moves the claim
    with its repaired link.
    """
    claim = CLAIM.replace("cut into passages.", "cut into passages, as [the setup](setup.md) explains.")
    files = {
        **_copies(claim),
        "notes/setup.md": "---\ntype: note\n---\n# Setup\n\n[A](a.md) [B](b.md)\n",
        "README.md": "# Home\n\n[A](notes/a.md) [B](notes/b.md) [Setup](notes/setup.md)\n",
    }
    root = renamed(make_repo(tmp_path / "repo", files), "notes/setup.md", "notes/installation.md")
    run = mutate(root, "--kind", "relink,extract")
    assert [c["action"] for c in run["committed"]] == ["follow-rename", "follow-rename", "follow-rename", "extract"]
    assert run["skipped"] == []
    new = branch_file(root, NEW).decode()
    assert "as [the setup](installation.md) explains." in new and "a passage that splits one claim" in new
    for path in ("notes/a.md", "notes/b.md"):
        assert "a passage that splits one claim" not in branch_file(root, path).decode()


def test_a_mention_whose_link_an_extract_moved_away_is_linked_again_in_a_later_round(tmp_path: Path) -> None:
    """The first mention of "vector index" (a name learned from link text) lies in a claim both notes copy.

    The relinks link it there first; the extract, made in the next round,
    moves the claim and its link away, and the note's later mention is the
    first unlinked one: the same finding again, fixed again.
    """
    claim = CLAIM.replace("A passage that mixes", "A vector index holding a passage that mixes")
    files = {
        **_copies(claim),
        "notes/a.md": f"---\ntype: note\n---\n# A\n\n{claim}\n\nThe vector index is rebuilt nightly.\n",
        "notes/index-store.md": "---\ntype: note\n---\n# Index store\n\n[[a]] [[b]]\n",
        "notes/c.md": "# C\n\nSee the [vector index](index-store.md). [[a]]\n",
        "notes/d.md": "# D\n\nOr the [vector index](index-store.md). [[b]]\n",
        "README.md": "# Home\n\n[[c]] [[d]]\n",
    }
    root = make_repo(tmp_path / "repo", files)
    run = mutate(root, "--kind", "relink,extract")
    git(root, "checkout", "-q", "kbmine/review")
    assert _new_findings(root, set()) == []
    assert [c["action"] for c in run["committed"]] == ["link-mention", "link-mention", "extract", "link-mention"]
    assert b"The [[index-store|vector index]] is rebuilt nightly." in branch_file(root, "notes/a.md")
