"""The only module that talks to git.

Hot paths that run on every ``kbmine check`` (which files git ignores) call the
git binary directly: importing gitpython alone costs more than the whole
warm check is allowed to take. Repository work (history, commits) goes
through gitpython.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kbmine.errors import KbmineError

__all__ = [
    "GitError",
    "Repository",
    "ReviewCommit",
    "changed_since",
    "clean_git_env",
    "dirty_files",
    "file_dates",
    "head_commit",
    "start_dirty_files",
    "start_work_tree_files",
    "work_tree_files",
    "WorkTreeFiles",
]


#: Commit messages as kbmine parses them, whatever ``i18n.logOutputEncoding`` the repository sets
#: (UTF-16 put NUL bytes into every commit id ``git log`` printed: review accept was an internal error).
_UTF8_LOG = ("-c", "i18n.logOutputEncoding=UTF-8")


def clean_git_env() -> dict[str, str]:
    """The environment minus ``GIT_*`` variables that would redirect git to another repo."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    return env


def _git_output(root: Path, *args: str, timeout: float) -> str | None:
    """The output of ``git -C root ARGS`` (undecodable bytes kept as surrogates).

    ``None`` when git is missing, times out or fails: outside a work tree
    these queries have no answer, and the callers fall back.
    """
    return _start_git(root, *args, timeout=timeout)()


def _start_git(root: Path, *args: str, timeout: float) -> Callable[[], str | None]:
    """Start ``git -C root ARGS``; the call returned waits for its output (see :func:`_git_output`).

    git runs (and a thread reads its output, so a long one never stalls on
    a full pipe) while the caller does something else.
    """
    try:
        process = subprocess.Popen(
            ["git", "-C", str(root), *_UTF8_LOG, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=clean_git_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return lambda: None
    stdout = process.stdout
    assert stdout is not None
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.append(stdout.read()), daemon=True)
    reader.start()

    def finish() -> str | None:
        reader.join(timeout)
        if reader.is_alive():  # git hangs: stop it, which ends its output and the reader with it
            process.kill()
            reader.join(5)
        code = process.wait()
        if reader.is_alive():
            return None  # the reader keeps the pipe it still reads from
        stdout.close()
        if code != 0 or not output:
            return None
        return output[0].decode("utf-8", "surrogateescape")

    return finish


@dataclass(frozen=True)
class WorkTreeFiles:
    """What git says of the files under a KB root (paths relative to it)."""

    #: The files git tracks or would track (not ignored).
    unignored: frozenset[str]
    #: Of those, the ones git does not track yet.
    untracked: frozenset[str]
    #: Files git tracks that are missing from the work tree (deleted, or moved away, not committed yet).
    missing: frozenset[str]


def work_tree_files(root: Path) -> WorkTreeFiles | None:
    """What git says of the files under ``root``, from one ``ls-files``; ``None`` outside a work tree."""
    return start_work_tree_files(root)()


def start_work_tree_files(root: Path) -> Callable[[], WorkTreeFiles | None]:
    """Start :func:`work_tree_files`; the call returned waits for its answer (git lists the
    files while the caller walks the folders)."""
    listing = _start_git(root, "ls-files", "-z", "-t", "--cached", "--others", "--deleted", "--exclude-standard", timeout=60)
    return lambda: _work_tree_files(listing())


def _work_tree_files(listed: str | None) -> WorkTreeFiles | None:
    if listed is None:
        return None
    unignored: set[str] = set()
    untracked: set[str] = set()
    missing: set[str] = set()
    for entry in listed.split("\0"):
        if len(entry) < 3:
            continue
        tag, path = entry[0], entry[2:]  # "H path" tracked, "? path" untracked, "R path" removed (lowercase: assumed unchanged)
        if tag == "?":
            untracked.add(path)
        elif tag in "Rr":
            missing.add(path)
            continue
        unignored.add(path)
    return WorkTreeFiles(frozenset(unignored), frozenset(untracked), frozenset(missing))


def head_commit(root: Path) -> str | None:
    """The commit id of HEAD for the repository containing ``root`` (``None`` if none)."""
    out = _git_output(root, "rev-parse", "--verify", "-q", "HEAD", timeout=30)
    if out is None:
        return None
    return out.strip() or None


def file_dates(root: Path) -> dict[str, tuple[int, int]] | None:
    """``path → (created, last modified)`` commit times (epoch seconds) for files under ``root``.

    One ``git log`` pass with rename detection, read newest first: a path's
    last modification is the first commit that touches it, its creation the
    last one, and a rename hands the older history to the file's current path.
    ``None`` when ``root`` is not in a git work tree or git fails.
    """
    log = _git_output(
        root, "log", "-z", "--format=%x01%ct", "--name-status", "-M", "--no-merges", "--relative", "--", ".", timeout=300
    )
    if log is None:
        return None
    tokens = log.split("\0")
    dates: dict[str, tuple[int, int]] = {}
    current: dict[str, str] = {}  # historical path -> path it has today
    when = 0
    index = 0
    while index < len(tokens):
        token = tokens[index].lstrip("\n")
        index += 1
        if token.startswith("\x01"):
            when = int(token[1:] or 0)
            continue
        if not token:
            continue
        status = token[0]
        if status in "RC" and index + 1 < len(tokens):
            old, new = tokens[index], tokens[index + 1]
            index += 2
            path = current.get(new, new)
            dates[path] = (when, dates.get(path, (when, when))[1])
            if status == "R":
                current[old] = path
            continue
        if index >= len(tokens):
            break
        path = tokens[index]
        index += 1
        path = current.get(path, path)
        if path in dates:
            dates[path] = (when, dates[path][1])
        else:
            dates[path] = (when, when)
    return dates


def file_versions(root: Path, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], bytes] | None:
    """The content of each ``(revision, path)`` (path relative to ``root``) that exists, from one ``cat-file``.

    ``None`` when git fails; a pair whose file did not exist at that revision is left out.
    """
    if not wanted:
        return {}
    request = "".join(f"{revision}:./{path}\n" for revision, path in wanted).encode("utf-8", "surrogateescape")
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "cat-file", "--batch"],
            input=request, capture_output=True, env=clean_git_env(), timeout=120, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    output, position, versions = completed.stdout, 0, {}
    for pair in wanted:  # one answer per request line, in order: "<id> blob <size>" + content, or "... missing"
        end = output.find(b"\n", position)
        if end < 0:
            break
        fields = output[position:end].split()
        position = end + 1
        if len(fields) != 3 or not fields[2].isdigit():
            continue  # "<request> missing" (or ambiguous): no content follows
        size = int(fields[2])
        if fields[1] == b"blob":
            versions[pair] = output[position : position + size]
        position += size + 1
    return versions


def dirty_files(root: Path) -> set[str] | None:
    """Paths under ``root`` (relative to it) that differ from HEAD or are untracked."""
    return start_dirty_files(root)()


def start_dirty_files(root: Path) -> Callable[[], set[str] | None]:
    """Start :func:`dirty_files`; the call returned waits for its answer (git works meanwhile)."""
    status = _start_git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", ".", timeout=60)
    prefix = _start_git(root, "rev-parse", "--show-prefix", timeout=30)
    return lambda: _dirty_files(status(), prefix())


def _dirty_files(status: str | None, prefix: str | None) -> set[str] | None:
    if status is None or prefix is None:
        return None
    base = prefix.strip()
    entries = status.split("\0")
    dirty: set[str] = set()
    skip = False
    for entry in entries:
        if skip:
            skip = False
            continue
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        if "R" in status or "C" in status:
            skip = True  # the next entry is the rename's source
        if path.startswith(base):
            dirty.add(path[len(base) :])
    return dirty


def changed_since(root: Path, ref: str) -> tuple[set[str], set[str]] | None:
    """Files under ``root`` changed since ``ref`` (committed, staged, unstaged or untracked),
    and the old paths of files deleted or renamed since; ``None`` if ``ref`` is unknown."""
    if _git_output(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", timeout=30) is None:
        return None
    diff = _git_output(root, "diff", "-z", "--name-status", "-M", "--relative", ref, "--", ".", timeout=120)
    if diff is None:
        return None
    untracked = _git_output(root, "ls-files", "-z", "--others", "--exclude-standard", timeout=60) or ""
    changed: set[str] = set()
    gone: set[str] = set()
    tokens = diff.split("\0")
    index = 0
    while index < len(tokens):
        status = tokens[index]
        index += 1
        if not status:
            continue
        if status[0] in "RC" and index + 1 < len(tokens):
            old, new = tokens[index], tokens[index + 1]
            index += 2
            changed.add(new)
            if status[0] == "R":
                gone.add(old)
        elif index < len(tokens):
            path = tokens[index]
            index += 1
            (gone if status[0] == "D" else changed).add(path)
    changed.update(p for p in untracked.split("\0") if p)
    return changed, gone


# -- repository work for mutations (gitpython) ---------------------------------


class GitError(KbmineError):
    """The repository is in a state kbmine will not work in, or git refused."""


def _verb(args: tuple[str, ...]) -> str:
    """The git subcommand of ``args`` (after any ``-c key=value`` options), for messages."""
    words = list(args)
    while words and words[0] == "-c":
        words = words[2:]
    return words[0] if words else "git"


def _reason(stderr: str) -> str:
    """The line of git's stderr that says what went wrong.

    The first ``error:`` line names the cause (``unable to unlink old 'a.md':
    Permission denied``); a ``fatal:`` line after it only says that the
    command failed, so it is the answer only when there is no ``error:``.
    """
    lines = [line.strip().removeprefix("stderr: ").strip("'\" ") for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    fatal = [line for line in lines if line.startswith("fatal:")]
    return errors[0] if errors else (fatal or lines or [""])[-1]


#: For kbmine's own git operations (its throwaway worktrees, the review branch): the user's
#: hooks are for the user's operations. A post-checkout hook ran in every throwaway worktree,
#: and a failing reference-transaction hook stopped every mutate. Accepting fixes onto the
#: user's branch (:meth:`Repository.cherry_pick`) is the user's operation and runs them
#: (undoing a failed accept does not: it only puts back what was there).
_NO_HOOKS = ("-c", "core.hooksPath=/dev/null")

#: The identity of the commits kbmine proposes (a person's name goes on them when accepted).
BOT_IDENTITY = {
    "GIT_AUTHOR_NAME": "kbmine",
    "GIT_AUTHOR_EMAIL": "kbmine@localhost.invalid",
    "GIT_COMMITTER_NAME": "kbmine",
    "GIT_COMMITTER_EMAIL": "kbmine@localhost.invalid",
}


@dataclass(frozen=True)
class ReviewCommit:
    """A commit on the review branch and the trailers kbmine wrote into it."""

    sha: str
    subject: str
    body: str
    files: tuple[str, ...]
    trailers: dict[str, str]


def _require_gitpython() -> None:
    """Import gitpython, which refuses to load when the git program cannot be run: say so in one line."""
    try:
        import git  # noqa: F401
    except ImportError:
        raise GitError("git is not installed or not on PATH (kbmine mutate and review run git)") from None


#: The variables that tie git to one repository (``git rev-parse --local-env-vars``).
_REPOSITORY_VARIABLES = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE", "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE", "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_PREFIX", "GIT_INTERNAL_SUPER_PREFIX", "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
)


def _leave_callers_repository() -> None:
    """Drop the caller's repository from this process's environment, as git does when it
    enters a submodule. Run from a git hook or ``git rebase --exec``, the environment names
    that repository's git dir and index, and GitPython adds the process environment to every
    git it runs: ``kbmine mutate`` staged its fixes into the caller's real index, and
    discovery, HEAD and the dirty check read another repository than the KB's. The KB's
    repository is found from its folder; the user's identity (``GIT_AUTHOR_*``) stays.
    """
    for name in _REPOSITORY_VARIABLES:
        os.environ.pop(name, None)


def _own_folder(path: Path) -> Path:
    """``path`` made a folder of kbmine's state, refusing a symlink (to a folder outside the
    repository, the worktrees and the lock would be made there)."""
    if path.is_symlink():
        raise GitError(f"{path}: is a symlink; kbmine keeps its state only inside the git directory")
    path.mkdir(exist_ok=True)
    return path


def open_state_file(path: Path, flags: int) -> int:
    """A descriptor on a file of kbmine's state, created if missing, never through a symlink
    and never truncated (``open(path, "w")`` on a planted link emptied the file it named)."""
    try:
        return os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise GitError(f"{path}: is a symlink; kbmine keeps its state only inside the git directory") from None
        raise


class Repository:
    """The git repository holding a KB: the review branch, temporary worktrees, rename history.

    The user's working tree, index and current branch are never touched by
    anything here except :meth:`cherry_pick` (``kbmine review accept``, which
    the user asks for and which refuses to run on a dirty tree).
    """

    def __init__(self, kb_root: Path) -> None:
        _require_gitpython()
        _leave_callers_repository()
        import git

        try:
            self._repo = git.Repo(kb_root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(f"{kb_root}: not inside a git repository (kbmine mutate proposes fixes as commits)") from None
        if self._repo.bare or self._repo.working_tree_dir is None:
            raise GitError(f"{kb_root}: a bare repository has no notes to mutate")
        self.root = Path(self._repo.working_tree_dir).resolve()
        self.git_dir = Path(self._repo.git_dir).resolve()
        #: The KB folder relative to the repository root ("" when they are the same).
        self.kb_prefix = Path(kb_root).resolve().relative_to(self.root).as_posix().strip(".")
        # GitPython opens a repository git itself refuses ("dubious ownership": owned by another
        # user); every later git then failed in its own way, "0 pending" and "nothing to accept"
        # included. Asked once here, git says why in one line.
        self._git("rev-parse", "--git-dir")

    def _git(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
        import git

        command = git.Git(str(cwd or self.root))
        try:
            out: str = command.execute(
                ["git", *_UTF8_LOG, *args], env={**clean_git_env(), **(env or {})}, with_extended_output=False,
                strip_newline_in_stdout=True,
            )
        except git.GitCommandError as exc:
            raise GitError(f"git {_verb(args)} failed: {_reason(str(exc.stderr or ''))or exc.status}") from None
        return out

    def _identity(self) -> dict[str, str]:
        """The user's committer identity if git knows one, else kbmine's (a CI box may have none)."""
        try:
            self._git("var", "GIT_COMMITTER_IDENT")
        except GitError:
            return {k: v for k, v in BOT_IDENTITY.items() if k.startswith("GIT_COMMITTER")}
        return {}

    # -- state ---------------------------------------------------------------

    def head(self) -> str:
        # Asked of git, not of GitPython's object database: its cat-file process could die
        # under it, and the broken pipe reached the CLI as a closed stdout (a silent exit 1).
        try:
            return self._git("rev-parse", "--verify", "-q", "HEAD^{commit}")
        except GitError:
            pass
        # HEAD names a branch with no commit: a fresh repository, or (when other refs exist)
        # an orphan or deleted branch, where "no commits yet" would be wrong.
        if self._git("for-each-ref", "--count=1", "refs/heads"):
            branch = self._git("symbolic-ref", "-q", "--short", "HEAD")
            raise GitError(f"{self.root}: HEAD is on branch {branch!r}, which has no commits yet")
        raise GitError(f"{self.root}: the repository has no commits yet")

    def branch_tip(self, branch: str) -> str | None:
        ref = f"refs/heads/{branch}"
        try:
            return self._git("rev-parse", "--verify", "-q", ref)
        except GitError:
            return None

    def check_review_branch(self, branch: str) -> None:
        """Refuse a ``--branch`` that kbmine must not move: it is the user's, not a review branch.

        Moving a branch checked out in a worktree (``--branch main``, or the review
        branch checked out to look at it) changes that worktree's HEAD under it:
        its files then show every fix reverted. A branch with commits of the
        user's own that HEAD lacks would be reset to HEAD plus fixes, and those
        commits lost. A name ``git branch`` refuses (``HEAD``, ``-x``, ``a..b``)
        made a ref that confuses git ever after, or failed only after the work.
        """
        try:
            valid = self._git("check-ref-format", "--branch", branch) == branch and branch != "@"
        except GitError:
            valid = False
        if not valid:
            raise GitError(f"--branch {branch!r}: not a valid branch name")
        ref = f"refs/heads/{branch}"
        listing = self._git("worktree", "list", "--porcelain")
        for block in listing.split("\n\n"):
            lines = block.splitlines()
            if f"branch {ref}" in lines:
                where = lines[0].removeprefix("worktree ") if lines else "a worktree"
                raise GitError(
                    f"--branch {branch}: checked out in {where}; kbmine moves only a review branch "
                    "no worktree has checked out (check out another branch first)"
                )
        tip = self.branch_tip(branch)
        if tip is None:
            return
        foreign = self._git("rev-list", "--count", "--invert-grep", "--grep=^Kbmine-Fingerprint: ", tip, "--not", self.head())
        if foreign != "0":
            raise GitError(
                f"--branch {branch}: has {foreign} commit(s) that are not kbmine fixes and not on HEAD; "
                "kbmine would rewrite it (name a review branch of kbmine's own)"
            )

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self._git("merge-base", "--is-ancestor", ancestor, descendant)
        except GitError:
            return False
        return True

    def merge_base(self, a: str, b: str) -> str:
        return self._git("merge-base", a, b)

    def refuse_unsafe_state(self) -> None:
        """Refuse to change the user's branch mid-merge, detached or with uncommitted changes."""
        for marker, what in (
            ("MERGE_HEAD", "a merge"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase or am"),
        ):
            if (self.git_dir / marker).exists():
                raise GitError(f"{self.root}: {what} is in progress; finish or abort it first")
        if (self.git_dir / "index.lock").exists():
            raise GitError(
                f"{self.git_dir / 'index.lock'} exists: another git process is running, or one crashed "
                "(remove the file if none is running); nothing was changed"
            )
        if self._repo.head.is_detached:
            raise GitError(f"{self.root}: HEAD is detached; check out a branch to accept commits onto")
        if self._git("status", "--porcelain", "--untracked-files=no"):
            raise GitError(f"{self.root}: uncommitted changes; commit or stash them first (nothing was changed)")

    # -- worktrees and commits -------------------------------------------------

    @contextmanager
    def worktree(self, commit: str) -> Iterator[Path]:
        """A throwaway detached worktree at ``commit`` under ``.git/kbmine``; removed afterwards, even on Ctrl-C.

        It lives in the git directory so that nothing is ever written outside
        the repository, and the user's own working tree is never involved.
        """
        worktrees = _own_folder(self.state_dir() / "worktrees")
        parent = Path(tempfile.mkdtemp(prefix="wt-", dir=worktrees))
        path = parent / "tree"
        try:
            self._git(*_NO_HOOKS, "worktree", "add", "--detach", "--quiet", str(path), commit)
            yield path
        finally:
            try:
                self._git(*_NO_HOOKS, "worktree", "remove", "--force", str(path))
            except GitError:
                pass
            shutil.rmtree(parent, ignore_errors=True)
            try:
                self._git("worktree", "prune")
            except GitError:
                pass

    def commit(self, worktree: Path, paths: list[str], message: str) -> str:
        """Commit ``paths`` (relative to the repository root) in ``worktree``; the new commit id."""
        self._git("add", "--", *paths, cwd=worktree)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as handle:
            handle.write(message)
        try:
            self._git(
                "-c", "commit.gpgsign=false", *_NO_HOOKS,
                "commit", "--quiet", "--no-verify", "-F", handle.name,
                cwd=worktree, env=BOT_IDENTITY,
            )
        finally:
            os.unlink(handle.name)
        return self._git("rev-parse", "HEAD", cwd=worktree)

    def move_branch(self, branch: str, new: str, old: str | None) -> None:
        """Point ``branch`` at ``new`` if it still points at ``old`` (atomic compare-and-swap)."""
        self._git(*_NO_HOOKS, "update-ref", f"refs/heads/{branch}", new, old or "0" * 40)

    def review_commits(self, base: str, tip: str) -> list[ReviewCommit]:
        """The commits on ``tip`` whose change is not in ``base`` yet, oldest first, with files and trailers.

        ``--cherry-pick`` leaves out commits already accepted (cherry-picked
        onto ``base``'s branch), so they stop showing as pending.
        """
        out = self._git(
            "log", "--reverse", "--cherry-pick", "--right-only", "--no-merges",
            "--format=%x01%H%x02%B%x02", "--name-only", f"{base}...{tip}",
        )
        commits: list[ReviewCommit] = []
        for chunk in out.split("\x01")[1:]:
            sha, message, files = chunk.split("\x02", 2)
            lines = message.strip().splitlines()
            trailers = {}
            for line in reversed(lines):
                key, sep, value = line.partition(": ")
                if not sep or not key.startswith("Kbmine-"):
                    break
                trailers[key] = value.strip()
            subject = lines[0] if lines else ""
            commits.append(
                ReviewCommit(sha, subject, "\n".join(lines[1:]).strip(), tuple(f for f in files.split("\n") if f), trailers)
            )
        return commits

    def show(self, sha: str) -> str:
        return self._git("show", "--stat", "--patch", "--format=fuller", sha)

    def cherry_pick(self, shas: list[str]) -> None:
        """Apply ``shas`` onto the current branch; on conflict abort and leave everything as it was."""
        self.refuse_unsafe_state()
        before = self.head()
        try:
            self._git("-c", "commit.gpgsign=false", "cherry-pick", "--allow-empty", *shas, env=self._identity())
        except GitError as exc:
            # Undoing runs without hooks: a reference-transaction hook that refused the
            # cherry-pick refused its abort too, leaving it "in progress" behind our back.
            if (self.git_dir / "CHERRY_PICK_HEAD").exists() or (self.git_dir / "sequencer").exists():
                try:
                    self._git(*_NO_HOOKS, "cherry-pick", "--abort")
                except GitError:
                    pass
            if self.head() != before:  # some fixes went in before one failed
                self._git(*_NO_HOOKS, "reset", "--quiet", "--keep", before)
            raise GitError(
                f"accepting failed and was undone, nothing changed ({exc}); if the notes changed since the "
                "fixes were proposed, run kbmine mutate again"
            ) from None

    def rebuild_without(self, branch: str, base: str, drop: set[str]) -> list[str]:
        """Rewrite ``branch`` (on ``base``) without the commits in ``drop``.

        Returns the commits that could not be replayed without them (their
        edits overlapped a dropped one); the next ``kbmine mutate`` proposes
        those fixes again.
        """
        old = self.branch_tip(branch)
        if old is None:
            return []
        keep = [c.sha for c in self.review_commits(base, old) if c.sha not in drop]
        lost: list[str] = []
        with self.worktree(base) as tree:
            for sha in keep:
                try:
                    self._git(
                        "-c", "commit.gpgsign=false", *_NO_HOOKS, "cherry-pick", "--allow-empty", sha, cwd=tree, env=BOT_IDENTITY
                    )
                except GitError:
                    self._git(*_NO_HOOKS, "cherry-pick", "--abort", cwd=tree)
                    lost.append(sha)
            new = self._git("rev-parse", "HEAD", cwd=tree)
        self.move_branch(branch, new, old)
        return lost

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One kbmine mutation run per repository at a time."""
        import fcntl

        descriptor = open_state_file(self.state_dir() / "lock", os.O_RDWR)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise GitError(f"{self.root}: another kbmine run is changing the review branch; try again when it ends") from None
            yield
        finally:
            os.close(descriptor)

    def state_dir(self) -> Path:
        """``.git/kbmine``: state that must never show up in the working tree (rejected fixes, the lock)."""
        return _own_folder(self.git_dir / "kbmine")

    # -- history -------------------------------------------------------------------

    def renames(self, tree: str) -> dict[str, str]:
        """Every path a note had in history → the path it has in commit ``tree`` (chains followed).

        One ``git log`` pass with rename detection over the whole history;
        paths are relative to the repository root. A path that exists in
        ``tree`` is never mapped (it was re-created), and a path renamed to
        two different places is left out: kbmine never guesses.
        """
        out = self._git("log", "-z", "--format=%x01", "--name-status", "-M", "--diff-filter=R", tree)
        tokens = out.split("\0")
        moves: list[tuple[str, str]] = []
        index = 0
        while index < len(tokens):
            token = tokens[index].lstrip("\n\x01")
            index += 1
            if token.startswith("R") and index + 1 < len(tokens):
                moves.append((tokens[index], tokens[index + 1]))
                index += 2
        present = set(self._git("ls-tree", "-r", "--name-only", "-z", tree).split("\0"))
        forward: dict[str, set[str]] = defaultdict(set)
        for old, new in moves:
            forward[old].add(new)
        mapping: dict[str, str] = {}
        for old in forward:
            if old in present:
                continue
            seen = {old}
            current = old
            while current not in present:
                targets = forward.get(current)
                if not targets or len(targets) != 1:
                    break
                (current,) = targets
                if current in seen:
                    break
                seen.add(current)
            if current in present:
                mapping[old] = current
        return mapping
