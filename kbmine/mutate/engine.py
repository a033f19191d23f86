"""Run mutations: propose, verify and commit each fix on the review branch.

Everything happens in a throwaway worktree of the review branch (or of HEAD
when there is no branch yet, or when HEAD moved past it) inside ``.git``:
the user's working tree, index and current branch are never touched. Each
verified mutation becomes one commit, and the branch moves after each
commit with a compare-and-swap, so an interrupted run leaves the branch at
the last complete commit. Fixes already on the branch are not proposed
again (their findings are gone from its tree) and rejected fixes are
remembered by fingerprint in ``.git/kbmine/rejected``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from kbmine.checks import run_checks
from kbmine.config import Config, load_config
from kbmine.errors import ConfigError
from kbmine.gitops import Repository, open_state_file
from kbmine.kb import KB, load
from kbmine.model import Edit, Finding
from kbmine.mutate.edits import EditConflict, apply_edits
from kbmine.mutate.extract import propose_extracts, verify_extract
from kbmine.mutate.model import Mutation
from kbmine.mutate.relink import propose_relinks
from kbmine.mutate.synthesise import propose_hubs, verify_hub
from kbmine.mutate.verify import NoteParser, verify_relink

__all__ = ["KINDS", "MutationRun", "mutate", "read_rejected", "remember_rejected"]

KINDS = ("relink", "extract", "synthesise")
DEFAULT_BRANCH = "kbmine/review"
#: Checks of the fixed tree per run: fixes can make new findings appear (see :func:`mutate`). A run
#: stops at the first round that commits nothing; on commonplace three rounds left 266 findings that a
#: fourth round links (265 verified), so the cap is well past that.
ROUNDS = 8


@dataclass
class MutationRun:
    """What a run did: commits made (or diffs, on a dry run) and fixes skipped with the reason."""

    branch: str
    base: str
    committed: list[tuple[Mutation, str]] = field(default_factory=list)
    diffs: list[tuple[Mutation, str]] = field(default_factory=list)
    skipped: list[tuple[Mutation, str]] = field(default_factory=list)
    proposed: int = 0


def mutate(
    kb_path: Path,
    kinds: Collection[str] = ("relink",),
    *,
    limit: int | None = None,
    dry_run: bool = False,
    branch: str = DEFAULT_BRANCH,
    jobs: int | None = None,
    only: set[str] | None = None,
    rules: Collection[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> MutationRun:
    """Propose fixes for the KB at ``kb_path`` as commits on ``branch`` (or diffs, with ``dry_run``).

    ``only`` restricts the run to fixes with these fingerprints (used to
    replay fixes that had to be dropped when a neighbour was rejected);
    ``rules`` to fixes of findings of these rules (names such as
    ``broken-link``), so a run about broken links does not spend its time
    verifying a thousand linked mentions. After a round of commits the
    fixed tree is checked again (up to ``ROUNDS`` times): fixes can make new
    findings appear, e.g. a name linked in many notes stops counting as a
    common word, and the branch should leave nothing new behind: a run
    without ``relink`` still relinks what its own commits woke (see
    :func:`_caused`).
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ConfigError(f"unknown mutation kind {min(unknown)!r}; kinds: {', '.join(KINDS)}")
    repo = Repository(kb_path)
    with repo.lock():
        head = repo.head()
        if not dry_run:
            repo.check_review_branch(branch)
        tip = repo.branch_tip(branch)
        base = tip if tip is not None and repo.is_ancestor(head, tip) else head
        run = MutationRun(branch, base)
        rejected = read_rejected(repo)
        renames = _kb_renames(repo, base)
        with repo.worktree(base) as tree:
            kb_root = tree / repo.kb_prefix if repo.kb_prefix else tree
            attempted: set[str] = set()
            branch_at = tip
            config = _load_config(repo, tree, kb_root)
            known: set[str] | None = None
            #: Fixes that overlapped a fix made before them in their round, by fingerprint (see _apply_all).
            deferred: dict[str, tuple[Mutation, str]] = {}
            #: Relinks made once more because a later fix undid them (see below).
            redone: set[str] = set()
            for round_index in range(ROUNDS):
                kb = load(kb_root, config, use_cache=False, jobs=jobs)
                if progress:
                    progress(f"checking {len(kb.notes)} notes")
                findings = run_checks(kb)
                if known is None:
                    known = {f.fingerprint for f in findings}
                # A finding a relink of this run fixed is back: a later fix took the link away (an
                # extract moved the passage holding it, leaving a mention it could not see). Once more.
                back = {f.fingerprint for f in findings} & {m.fingerprint for m, _ in run.committed if m.kind == "relink"}
                attempted -= back - redone
                redone |= back
                proposed: list[Mutation] = []
                if "relink" in kinds:
                    proposed += propose_relinks(kb, findings, renames)
                elif round_index > 0:
                    # The run's own commits woke these findings (see _caused): fix them, relink or not.
                    proposed += propose_relinks(kb, _caused(findings, known), renames)
                # Later rounds only relink: moving text or adding hubs on top of this run's
                # own fixes would rewrite what a person has not reviewed yet; except the fixes
                # an earlier fix of the run overlapped, made now over it rather than dropped.
                if "extract" in kinds and (round_index == 0 or deferred):
                    proposed += _first_or_deferred(propose_extracts(kb, findings), round_index, deferred)
                if "synthesise" in kinds and (round_index == 0 or deferred):
                    proposed += _first_or_deferred(propose_hubs(kb), round_index, deferred)
                mutations = [
                    m
                    for m in proposed
                    if m.fingerprint not in rejected
                    and m.fingerprint not in attempted
                    and (only is None or m.fingerprint in only)
                    and (rules is None or m.rule in rules)
                ]
                for mutation in mutations:
                    deferred.pop(mutation.fingerprint, None)
                # A deferred fix not proposed again: the fix it overlapped (or another) did away with its finding.
                run.skipped += [(m, f"{reason}; its finding is gone from the fixed tree") for m, reason in deferred.values()]
                deferred.clear()
                attempted.update(m.fingerprint for m in mutations)
                run.proposed += len(mutations)
                made = len(run.committed)
                remaining = None if limit is None else limit - made
                if not mutations or remaining == 0:
                    break
                for mutation, reason in _apply_all(repo, kb, tree, mutations, run, branch_at, remaining, dry_run):
                    attempted.discard(mutation.fingerprint)
                    deferred[mutation.fingerprint] = (mutation, reason)
                if dry_run or len(run.committed) == made:
                    break
                # Fixes change what the rules see (a linked concept is no longer a common
                # word, say); check the fixed tree again so the branch ends at a fixed point.
                branch_at = run.committed[-1][1]
            run.skipped += deferred.values()
    return run


def _first_or_deferred(mutations: list[Mutation], round_index: int, deferred: Collection[str]) -> list[Mutation]:
    """All of ``mutations`` in a run's first round; after it, only those an earlier fix overlapped."""
    return mutations if round_index == 0 else [m for m in mutations if m.fingerprint in deferred]


def _caused(findings: list[Finding], known: set[str]) -> list[Finding]:
    """The findings the run's own commits brought, which a run of any kind must not leave behind.

    Extract and synthesise add notes and move text, and that changes what
    ``missing-link`` reports beyond the notes they touch: a passage moved
    out of its copies leaves fewer notes writing the names it holds (a name
    just over the common-word limit becomes a mention in the others), and a
    name a moved passage or a hub's summary writes is a mention in its new
    note. Those mentions are linked in the rounds after the run's first, as
    a relink run links any.
    """
    return [f for f in findings if f.fingerprint not in known]


def _load_config(repo: Repository, tree: Path, kb_root: Path) -> Config:
    """The KB's config as committed; an error in it names the user's file, not the throwaway worktree's copy."""
    try:
        return load_config(kb_root)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace(str(tree), str(repo.root))) from None


def _in_repo(repo: Repository, path: str) -> str:
    """A KB path as a path from the repository's root."""
    return f"{repo.kb_prefix}/{path}" if repo.kb_prefix else path


def _apply_all(
    repo: Repository,
    kb: KB,
    tree: Path,
    mutations: list[Mutation],
    run: MutationRun,
    tip: str | None,
    limit: int | None,
    dry_run: bool,
) -> list[tuple[Mutation, str]]:
    """Verify and commit ``mutations`` in order, each on the bytes the ones before it left.

    Every mutation was computed on the tree the round started from, and its
    edits are moved past the fixes already made (see :func:`_rebase`). One
    that overlaps such a fix (an extract whose passage holds a link a relink
    just repaired) cannot be moved: it is returned, with the reason, to be
    proposed again on the fixed tree in the next round, where it is made
    over the earlier fix instead of dropped. The run keeps each committed
    mutation with its edits as made, on the bytes the commit before left.
    """
    conflicts: list[tuple[Mutation, str]] = []
    current: dict[str, bytes] = {}
    applied: dict[str, list[Edit]] = {}
    branch_at = tip
    done = 0
    parse = NoteParser(kb)
    for mutation in mutations:
        if limit is not None and done >= limit:
            break
        paths = list(dict.fromkeys(edit.path for edit in mutation.edits))
        before = {path: current[path] if path in current else kb.read_bytes(path) for path in paths}
        try:
            rebased = replace(mutation, edits=tuple(_rebase(edit, applied.get(edit.path, [])) for edit in mutation.edits))
            after = {path: apply_edits(before[path], [e for e in rebased.edits if e.path == path]) for path in paths}
        except EditConflict as exc:
            conflicts.append((mutation, f"conflicts with an earlier fix: {exc}"))
            continue
        if any(new in current or new in kb.notes for new, _ in mutation.new_files):
            run.skipped.append((mutation, "its new note's path is taken"))
            continue
        linked = [path for path in [*paths, *(new for new, _ in mutation.new_files)] if (tree / _in_repo(repo, path)).is_symlink()]
        if linked:
            # Written through, the fix lands in the note the link names (then "git commit" finds
            # nothing to commit and the whole run stopped), or outside the tree if it dangles.
            run.skipped.append((mutation, f"{linked[0]} is a symlink; fix the note it points to"))
            continue
        if mutation.kind == "extract":
            problem = verify_extract(kb, rebased, before)
        elif mutation.kind == "synthesise":
            problem = verify_hub(kb, rebased, before)
        else:
            (path,) = paths
            problem = verify_relink(kb, rebased, before[path], after[path], parse)
        if problem is not None:
            run.skipped.append((mutation, problem))
            continue
        done += 1
        for path in paths:
            # The edits as computed on the original bytes: _rebase measures every later edit,
            # also computed there, against them (a shifted copy would be measured wrongly).
            applied.setdefault(path, []).extend(e for e in mutation.edits if e.path == path)
        current.update(after)
        current.update(dict(mutation.new_files))
        if dry_run:
            diffs = [_diff(path, before[path], after[path]) for path in paths]
            diffs += [_diff(path, b"", data) for path, data in mutation.new_files]
            run.diffs.append((rebased, "".join(diffs)))
            continue
        written = []
        for path, data in [*after.items(), *mutation.new_files]:
            repo_path = _in_repo(repo, path)
            target = tree / repo_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written.append(repo_path)
        sha = repo.commit(tree, written, mutation.message())
        repo.move_branch(run.branch, sha, branch_at)
        branch_at = sha
        run.committed.append((rebased, sha))
    return conflicts


def _rebase(edit: Edit, applied: list[Edit]) -> Edit:
    """``edit`` (computed on the original bytes) shifted past the edits already applied to its note.

    ``applied`` holds those edits as computed on the original bytes too, in
    the order they were made, which need not be their order in the note.
    """
    shift = 0
    for earlier in applied:
        if earlier.end <= edit.start:
            shift += len(earlier.new) - (earlier.end - earlier.start)
        elif earlier.start < edit.end and edit.start < earlier.end or earlier.start == edit.start:
            raise EditConflict(f"{edit.path}:{edit.start}-{edit.end}: overlaps a fix already made")
    return Edit(edit.path, edit.start + shift, edit.end + shift, edit.old, edit.new, edit.reason)


def _diff(path: str, before: bytes, after: bytes) -> str:
    old = before.decode("utf-8", "replace").splitlines(keepends=True)
    new = after.decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}"))


def _kb_renames(repo: Repository, commit: str) -> dict[str, str]:
    """Renames from history with paths relative to the KB folder (renames across its edge dropped)."""
    prefix = f"{repo.kb_prefix}/" if repo.kb_prefix else ""
    return {
        old[len(prefix) :]: new[len(prefix) :]
        for old, new in repo.renames(commit).items()
        if old.startswith(prefix) and new.startswith(prefix)
    }


def read_rejected(repo: Repository) -> set[str]:
    """Fingerprints of fixes a person rejected; never proposed again."""
    path = repo.state_dir() / "rejected"
    if not path.is_file():
        return set()
    # Damaged bytes are lines that match no fingerprint, not a reason to stop.
    return {line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()}


def remember_rejected(repo: Repository, fingerprints: Iterable[str]) -> None:
    known = read_rejected(repo)
    new = [f for f in fingerprints if f and f not in known]
    if new:
        descriptor = open_state_file(repo.state_dir() / "rejected", os.O_WRONLY | os.O_APPEND)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.writelines(f"{f}\n" for f in new)
