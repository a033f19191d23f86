"""``kbmine mutate`` and ``kbmine review``: fixes as commits on a review branch, and their review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kbmine.cli import app
from kbmine.cli._common import PathArgument
from kbmine.gitops import Repository, ReviewCommit

review_app = typer.Typer(
    help="Review the fixes kbmine mutate proposed: list, show, accept (cherry-pick) or reject them.",
    no_args_is_help=True,
)
app.add_typer(review_app, name="review")

BranchOption = Annotated[str, typer.Option("--branch", help="The review branch.")]
KbOption = Annotated[Path, typer.Option("--path", "-C", help="The KB folder (inside the git repository).")]


@app.command("mutate")
def mutate_command(
    path: PathArgument = Path("."),
    kind: Annotated[str, typer.Option("--kind", help="Comma-separated mutation kinds: relink, extract, synthesise.")] = "relink",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N fixes this run.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the fixes as unified diffs; commit nothing.")] = False,
    branch: BranchOption = "kbmine/review",
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes for parsing.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Propose fixes for the KB at PATH, one git commit each, on a review branch.

    Your working tree, index and current branch are never touched: the fixes
    are made in a temporary worktree from HEAD (or from the review branch if
    it already builds on HEAD). Accept them with `kbmine review accept`.
    """
    from kbmine.mutate.engine import mutate

    _text_or_json(fmt)
    kinds = [k.strip() for k in kind.split(",") if k.strip()]
    run = mutate(path, kinds, limit=limit, dry_run=dry_run, branch=branch, jobs=jobs)
    if fmt == "json":
        document = {
            "branch": run.branch,
            "base": run.base,
            "dry_run": dry_run,
            "proposed": run.proposed,
            "committed": [_mutation_json(m, sha=sha) for m, sha in run.committed],
            "diffs": [_mutation_json(m, diff=diff) for m, diff in run.diffs],
            "skipped": [_mutation_json(m, reason=reason) for m, reason in run.skipped],
        }
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    for mutation, diff in run.diffs:
        typer.echo(f"# {mutation.subject}  [{mutation.confidence}]")
        typer.echo(diff)
    for mutation, sha in run.committed:
        typer.echo(f"{sha[:12]}  {mutation.subject}")
    for mutation, reason in run.skipped:
        typer.echo(f"skipped: {mutation.subject}: {reason}", err=True)
    made = len(run.diffs) if dry_run else len(run.committed)
    verb = "would commit" if dry_run else f"committed on {run.branch}"
    typer.echo(f"{made} fix{'es' if made != 1 else ''} {verb} ({run.proposed} proposed, {len(run.skipped)} skipped)")


def _mutation_json(mutation: object, **extra: str) -> dict[str, object]:
    from kbmine.mutate.model import Mutation

    assert isinstance(mutation, Mutation)
    return {
        "kind": mutation.kind,
        "action": mutation.action,
        "rule": mutation.rule,
        "fingerprint": mutation.fingerprint,
        "confidence": mutation.confidence,
        "subject": mutation.subject,
        "paths": list(mutation.paths),
        **extra,
    }


def _text_or_json(fmt: str) -> None:
    """Refuse any other ``--format`` (review list once printed text for ``--format xml``)."""
    from kbmine.cli import fail

    if fmt not in ("text", "json"):
        raise fail(f"unknown format {fmt!r}; use text or json")


def _pending(path: Path, branch: str) -> tuple[Repository, list[ReviewCommit]]:
    """The repository and the fixes on ``branch`` that are not on HEAD yet."""
    repo = Repository(path)
    tip = repo.branch_tip(branch)
    if tip is None:
        return repo, []
    return repo, repo.review_commits(repo.head(), tip)


@review_app.command("list")
def review_list(
    path: KbOption = Path("."),
    branch: BranchOption = "kbmine/review",
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """List the fixes waiting on the review branch: id, kind, files and subject."""
    _text_or_json(fmt)
    _, rows = _pending(path, branch)
    if fmt == "json":
        typer.echo(
            json.dumps(
                [
                    {"id": c.sha, "subject": c.subject, "files": list(c.files), "trailers": c.trailers}
                    for c in rows
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for c in rows:
        kind = c.trailers.get("Kbmine-Mutation", "?")
        typer.echo(f"{c.sha[:12]}  {kind:<22} {c.subject}")
    typer.echo(f"{len(rows)} pending on {branch}")


@review_app.command("show")
def review_show(
    commit: Annotated[str, typer.Argument(help="A commit id from `kbmine review list`.")],
    path: KbOption = Path("."),
    branch: BranchOption = "kbmine/review",
) -> None:
    """Show one fix: why it was made and its diff."""
    repo = Repository(path)
    typer.echo(repo.show(_find(path, branch, [commit])[0]))


@review_app.command("accept")
def review_accept(
    commits: Annotated[list[str] | None, typer.Argument(help="Commit ids from `kbmine review list`.")] = None,
    accept_all: Annotated[bool, typer.Option("--all", help="Accept every pending fix.")] = False,
    path: KbOption = Path("."),
    branch: BranchOption = "kbmine/review",
) -> None:
    """Apply fixes to your current branch (cherry-pick); refuses on a dirty tree or mid-merge."""
    from kbmine.cli import fail

    repo = Repository(path)
    if accept_all:
        shas = [c.sha for c in _pending(path, branch)[1]]
    elif commits:
        shas = _find(path, branch, commits)
    else:
        raise fail("name the fixes to accept, or use --all")
    if not shas:
        typer.echo("nothing to accept")
        return
    with repo.lock():
        repo.cherry_pick(shas)
    typer.echo(f"accepted {len(shas)} fix{'es' if len(shas) != 1 else ''} onto the current branch")


@review_app.command("reject")
def review_reject(
    commits: Annotated[list[str], typer.Argument(help="Commit ids from `kbmine review list`.")],
    path: KbOption = Path("."),
    branch: BranchOption = "kbmine/review",
) -> None:
    """Drop fixes from the review branch and never propose them again."""
    from kbmine.mutate.engine import mutate, remember_rejected

    shas = set(_find(path, branch, commits))
    repo, rows = _pending(path, branch)
    with repo.lock():
        repo.check_review_branch(branch)
        remember_rejected(repo, [c.trailers.get("Kbmine-Fingerprint", "") for c in rows if c.sha in shas])
        base = repo.merge_base(repo.head(), repo.branch_tip(branch) or repo.head())
        lost = set(repo.rebuild_without(branch, base, shas))
    typer.echo(f"rejected {len(shas)} fix{'es' if len(shas) != 1 else ''}; they will not be proposed again")
    if lost:
        # Fixes on the same lines cannot be replayed by cherry-pick: propose them afresh on the new branch.
        replay = {c.trailers.get("Kbmine-Fingerprint", "") for c in rows if c.sha in lost}
        run = mutate(path, branch=branch, only=replay)
        typer.echo(f"{len(run.committed)} fix{'es' if len(run.committed) != 1 else ''} on the same lines re-made")


def _find(path: Path, branch: str, prefixes: list[str]) -> list[str]:
    """Full ids of the pending commits named by ``prefixes`` (in branch order)."""
    from kbmine.errors import ConfigError

    _, rows = _pending(path, branch)
    found: list[str] = []
    for prefix in prefixes:
        matches = [c.sha for c in rows if c.sha.startswith(prefix.lower())] if len(prefix) >= 4 else []
        if len(matches) != 1:
            problem = "matches several" if matches else "is not a pending fix on " + branch
            raise ConfigError(f"{prefix!r} {problem} (see `kbmine review list`)")
        found.append(matches[0])
    return [c.sha for c in rows if c.sha in found]
