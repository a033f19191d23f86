#!/usr/bin/env python3
"""Benchmark ``kbmine check`` against a bare parse of the same notes.

Usage::

    python scripts/bench.py                  # clone ../shared/corpora/commonplace-kb.bundle
    python scripts/bench.py --path DIR       # an existing KB (copied to a temp dir first)
    python scripts/bench.py --scale 2        # also a KB made of 2 copies: cold and warm on it
    python scripts/bench.py --json           # results as JSON on stdout (progress on stderr)

Cases, in one run, on a throwaway copy of the KB (nothing outside the temp dir is touched):

* ``bare parse``: ``frontmatter.loads`` + ``MarkdownIt("commonmark").parse`` of every ``.md``
  file (hidden folders such as ``.git`` skipped), in this process, on one core. File listing
  and imports are not timed, reading and parsing are. This is the yardstick; every other case
  is also shown as a ratio to it.
* ``cold``: ``kbmine cache clear`` then ``kbmine check ROOT --format json``.
* ``warm``: the same again, cache present, nothing changed.
* ``1 changed``: one line appended to one note, then check.
* ``10 renamed``: ten notes renamed (``os.rename``, new names never used before), then check.

Each kbmine run is a subprocess (``sys.executable -m kbmine``, so the kbmine of this
interpreter), timed wall-clock from spawn to reap, interpreter start-up included, as a user
sees it. Memory is measured two ways:

* ``peak RSS``: ``ru_maxrss`` from ``os.wait4`` on the child. The kernel folds in the peak of
  every descendant the child reaped (its pool workers), but as a *maximum*, not a sum: it is
  the largest single process of the tree. ``/usr/bin/time -f %M`` reads exactly this same
  number from its own ``wait4``, so it is not used.
* ``tree RSS`` (Linux only): the sum of the RSS of the child and all its descendants, read
  from ``/proc`` every 0.1 s by a sampling thread; the peak of that sum. Pages a forked
  worker still shares with its parent count once per process, so this is an upper bound
  on what the run really needed, and a short spike between two samples can be missed.

``--repeat K`` keeps the best time of K runs per case (and the largest RSS of them); every
repetition of ``cold`` clears the cache first, of ``1 changed`` appends another line, of
``10 renamed`` renames the ten notes again to fresh names. The findings of the cold and
the warm run must be the same set of ``(rule, path, line, column, message)``; a warning is
printed (and recorded in the JSON) when they are not.

Exit code 1 of ``kbmine check`` (findings) is normal; anything else aborts the benchmark.
Only the standard library and kbmine's own dependencies are used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scriptkit  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KBMINE_SHARED", REPO.parent / "shared"))
DEFAULT_BUNDLE = SHARED / "corpora" / "commonplace-kb.bundle"
SAMPLE_INTERVAL = 0.1
RENAME_COUNT = 10
MB = 1024 * 1024

CASE_LABELS = {
    "bare": "bare parse",
    "cold": "cold",
    "warm": "warm",
    "changed": "1 changed",
    "renamed": f"{RENAME_COUNT} renamed",
}


class BenchError(Exception):
    """A failure that makes the numbers meaningless: printed as one line, exit 2."""


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- git and copies


def git_env() -> dict[str, str]:
    return scriptkit.git_env("kbmine bench", "bench@example.invalid")


def git(*args: str, cwd: Path | None = None) -> str:
    if shutil.which("git") is None:
        raise BenchError("git is needed (to clone the bundle or to build the --scale copy) but is not on PATH")
    completed = subprocess.run(
        ["git", *args], cwd=cwd, env=git_env(), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise BenchError(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout


def kbmine_revision() -> str | None:
    """``<short sha>`` of the kbmine checkout being measured, ``+dirty`` when it has changes."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        return None
    try:
        sha = git("rev-parse", "--short", "HEAD", cwd=REPO).strip()
        dirty = git("status", "--porcelain", "--untracked-files=no", cwd=REPO).strip()
    except BenchError:
        return None
    return f"{sha}+dirty" if dirty else sha


def copy_tree(source: Path, target: Path, *, with_git: bool) -> None:
    """Copy a KB, never its kbmine cache (and its ``.git`` only when asked)."""
    skip = {".kbmine"} if with_git else {".kbmine", ".git"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        return skip.intersection(names) if Path(folder) == source else {".kbmine"}.intersection(names)

    shutil.copytree(source, target, symlinks=True, ignore=ignore)


def build_scaled(source: Path, target: Path, copies: int) -> None:
    """``copies`` copies of ``source`` under ``target/copy-<i>/``, one git repo at the top."""
    target.mkdir(parents=True)
    for index in range(copies):
        copy_tree(source, target / f"copy-{index}", with_git=False)
    git("init", "-q", str(target))
    git("add", "-A", cwd=target)
    git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "kbmine bench scaled KB", cwd=target)


# --------------------------------------------------------------------------- the yardstick


def markdown_files(root: Path) -> list[Path]:
    """Every ``.md`` file under ``root``, hidden folders (``.git``, ``.kbmine``...) skipped."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / name for name in sorted(files) if name.lower().endswith(".md"))
    return found


def bare_parse(files: list[Path]) -> tuple[float, int]:
    """Seconds to read and parse every file in-process; also how many had unparsable frontmatter."""
    import frontmatter
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    errors = 0
    started = time.perf_counter()
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        try:
            content = frontmatter.loads(text).content
        except Exception:  # noqa: BLE001  (bad YAML: kbmine reports it, parses the body anyway)
            errors += 1
            content = text
        md.parse(content)
    return time.perf_counter() - started, errors


# --------------------------------------------------------------------------- measuring a subprocess


class TreeSampler(threading.Thread):
    """Peak of the summed RSS of a process and its descendants, sampled from ``/proc``."""

    available = sys.platform.startswith("linux") and os.path.isdir("/proc")

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop_event = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while True:
            self.peak = max(self.peak, self.sample())
            if self._stop_event.wait(self.interval):
                return

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak

    def sample(self) -> int:
        parent: dict[int, int] = {}
        rss: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2 :].split()
            pid = int(name)
            parent[pid] = int(fields[1])  # field 4: ppid
            rss[pid] = int(fields[21])  # field 24: rss in pages
        children: dict[int, list[int]] = {}
        for pid, ppid in parent.items():
            children.setdefault(ppid, []).append(pid)
        total, stack = 0, [self.pid]
        while stack:
            pid = stack.pop()
            total += rss.get(pid, 0)
            stack.extend(children.get(pid, ()))
        return total * self._page


@dataclass
class Run:
    seconds: float
    peak_rss: int  # bytes, wait4 ru_maxrss
    tree_rss: int | None  # bytes, sampled sum over the tree
    exit_code: int
    findings: list[tuple[Any, ...]]


def run_check(root: Path, scratch: Path, *extra: str) -> Run:
    """Run ``kbmine check ROOT --format json`` as a subprocess; time it and measure its memory."""
    report = scratch / "report.json"
    errors = scratch / "stderr.txt"
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "kbmine", "check", str(root), "--format", "json", "-o", str(report), *extra]
    with open(errors, "wb") as stderr:
        started = time.perf_counter()
        # From the scratch folder: started in a checkout, ``-m kbmine`` would import the checkout's
        # sources rather than the kbmine installed, as a user's ``kbmine check`` runs it.
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, cwd=scratch
        )
        sampler = TreeSampler(process.pid) if TreeSampler.available else None
        if sampler is not None:
            sampler.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    tree = sampler.stop() if sampler is not None else None
    if code not in (0, 1):
        detail = errors.read_text(encoding="utf-8", errors="replace").strip()
        raise BenchError(f"`{' '.join(command)}` exited {code}:\n{detail}")
    document = json.loads(report.read_text(encoding="utf-8"))
    findings = [
        (f["rule"], f["path"], f["line"], f["column"], f["message"]) for f in document["findings"]
    ]
    return Run(seconds, usage.ru_maxrss * 1024, tree, code, findings)


def clear_cache(root: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "kbmine", "cache", "clear", str(root)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"kbmine cache clear {root} exited {completed.returncode}: {completed.stderr.strip()}")


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    case: str
    label: str
    seconds: float
    ratio: float = 1.0
    peak_rss_mb: float | None = None
    tree_rss_mb: float | None = None
    findings: int | None = None
    runs: list[float] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class KBResult:
    name: str
    scale: int
    root: str
    notes: int
    bytes: int
    cases: list[Case] = field(default_factory=list)


def mb(value: int | None) -> float | None:
    return None if value is None else round(value / MB, 1)


def best_of(runs: list[Run], name: str, bare: float, detail: dict[str, Any] | None = None) -> Case:
    fastest = min(runs, key=lambda r: r.seconds)
    trees = [r.tree_rss for r in runs if r.tree_rss is not None]
    return Case(
        case=name,
        label=CASE_LABELS[name],
        seconds=round(fastest.seconds, 3),
        ratio=round(fastest.seconds / bare, 2) if bare > 0 else 0.0,
        peak_rss_mb=mb(max(r.peak_rss for r in runs)),
        # The summed tree can never be below its largest process: a sample that missed the spike.
        tree_rss_mb=mb(max(max(trees), max(r.peak_rss for r in runs))) if trees else None,
        findings=len(fastest.findings),
        runs=[round(r.seconds, 3) for r in runs],
        detail=detail or {},
    )


def compare(name: str, cold: Run, warm: Run, warnings: list[str]) -> None:
    a, b = set(cold.findings), set(warm.findings)
    if a == b and len(cold.findings) == len(warm.findings):
        return
    only_cold, only_warm = sorted(a - b, key=repr), sorted(b - a, key=repr)
    message = (
        f"{name}: cold and warm findings differ ({len(cold.findings)} vs {len(warm.findings)} findings; "
        f"{len(only_cold)} only cold, {len(only_warm)} only warm)"
    )
    examples = [f"  only cold: {f}" for f in only_cold[:3]] + [f"  only warm: {f}" for f in only_warm[:3]]
    warnings.append("\n".join([message, *examples]))


def measure_kb(
    result: KBResult, root: Path, scratch: Path, repeat: int, mutations: bool, warnings: list[str]
) -> None:
    files = markdown_files(root)
    result.notes = len(files)
    result.bytes = sum(p.stat().st_size for p in files)
    tag = result.name if result.scale == 1 else f"{result.name} x{result.scale}"
    if not files:
        raise BenchError(f"{root}: no .md notes to benchmark")

    log(f"[{tag}] bare parse of {len(files)} notes ({result.bytes / MB:.1f} MB)")
    bare_runs = [bare_parse(files) for _ in range(repeat)]
    bare = min(seconds for seconds, _ in bare_runs)
    result.cases.append(
        Case(
            "bare",
            CASE_LABELS["bare"],
            round(bare, 3),
            1.0,
            peak_rss_mb=mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024),
            runs=[round(s, 3) for s, _ in bare_runs],
            detail={"frontmatter_errors": bare_runs[0][1], "in_process": True},
        )
    )

    colds: list[Run] = []
    for index in range(repeat):
        log(f"[{tag}] cold {index + 1}/{repeat}")
        clear_cache(root)
        colds.append(run_check(root, scratch))
    result.cases.append(best_of(colds, "cold", bare))

    warms: list[Run] = []
    for index in range(repeat):
        log(f"[{tag}] warm {index + 1}/{repeat}")
        warms.append(run_check(root, scratch))
    result.cases.append(best_of(warms, "warm", bare))
    compare(tag, colds[-1], warms[0], warnings)

    if not mutations:
        return

    changed = files[len(files) // 2]
    changes: list[Run] = []
    for index in range(repeat):
        with open(changed, "a", encoding="utf-8") as handle:
            handle.write(f"\nkbmine bench edit {index + 1}\n")
        log(f"[{tag}] 1 changed {index + 1}/{repeat}")
        changes.append(run_check(root, scratch))
    result.cases.append(best_of(changes, "changed", bare, {"note": changed.relative_to(root).as_posix()}))

    count = min(RENAME_COUNT, len(files))
    step = len(files) / count
    current = [files[int(i * step)] for i in range(count)]
    originals = [p.relative_to(root).as_posix() for p in current]
    renames: list[Run] = []
    for index in range(repeat):
        moved = []
        for path in current:
            stem = path.name[: -len(".md")].split(".bench-")[0]
            target = path.with_name(f"{stem}.bench-{index + 1}.md")
            os.rename(path, target)
            moved.append(target)
        current = moved
        log(f"[{tag}] {count} renamed {index + 1}/{repeat}")
        renames.append(run_check(root, scratch))
    case = best_of(renames, "renamed", bare, {"renamed": count, "notes": originals})
    case.label = f"{count} renamed"
    result.cases.append(case)


# --------------------------------------------------------------------------- output


def machine_info() -> dict[str, Any]:
    import kbmine

    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    return {
        "kbmine": kbmine.__version__,
        "kbmine_revision": kbmine_revision(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "load_start": load_average(),
    }


def load_average() -> float | None:
    """The 1-minute load average: other work on the machine makes every number noisier."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(info: dict[str, Any], results: list[KBResult], repeat: int, warnings: list[str]) -> None:
    revision = f" ({info['kbmine_revision']})" if info["kbmine_revision"] else ""
    print(
        f"kbmine {info['kbmine']}{revision} | python {info['python']} | {info['platform']} | "
        f"nproc {info['nproc']} | best of {repeat} | load {fmt(info['load_start'], '.2f')} at start, "
        f"{fmt(info['load_end'], '.2f')} at end"
    )
    print(
        "peak RSS: wait4 ru_maxrss (largest single process, pool workers included);"
        + (
            f" tree RSS: /proc sum over the process tree, sampled every {SAMPLE_INTERVAL} s"
            if TreeSampler.available
            else " tree RSS: not available on this platform"
        )
    )
    header = f"{'case':<12} {'seconds':>9} {'x bare':>7} {'peak RSS MB':>12} {'tree RSS MB':>12} {'findings':>9}"
    for result in results:
        scale = f" x{result.scale}" if result.scale > 1 else ""
        print()
        print(f"{result.name}{scale}: {result.notes} notes, {result.bytes / MB:.1f} MB  ({result.root})")
        print(header)
        print("-" * len(header))
        for case in result.cases:
            print(
                f"{case.label:<12} {case.seconds:>9.3f} {case.ratio:>7.2f} {fmt(case.peak_rss_mb, '.1f'):>12} "
                f"{fmt(case.tree_rss_mb, '.1f'):>12} {fmt(case.findings, 'd'):>9}"
            )
    bare = [r for r in results if r.scale == 1]
    for result in results:
        if result.scale > 1 and bare:
            base = {c.case: c.seconds for c in bare[0].cases}
            growth = ", ".join(
                f"{c.label} x{c.seconds / base[c.case]:.2f}" for c in result.cases if base.get(c.case)
            )
            print(f"\ngrowth at x{result.scale} (seconds vs x1): {growth}")
    print()
    for warning in warnings:
        print(f"WARNING: {warning}")
    if not warnings:
        print("ok: cold and warm findings are identical")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("kb", nargs="?", type=Path, help="the KB to measure (same as --path)")
    parser.add_argument("--path", type=Path, help="an existing KB; copied to a temp dir first, never modified")
    parser.add_argument("--scale", type=int, default=0, metavar="N", help="also measure cold and warm on N copies of the KB")
    parser.add_argument("--repeat", type=int, default=1, metavar="K", help="best of K runs per case (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (their path is printed)")
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE, help=f"git bundle to clone by default ({DEFAULT_BUNDLE})")
    args = parser.parse_args(argv)
    if args.kb is not None and args.path is not None and args.kb != args.path:
        parser.error("give the KB either as an argument or with --path, not both")
    args.path = args.path or args.kb
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.scale < 0 or args.scale == 1:
        parser.error("--scale must be 2 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import kbmine  # noqa: F401  (the kbmine measured is the one this interpreter runs)
    except ImportError:
        print(f"bench: error: kbmine is not importable by {sys.executable}; use the project's venv", file=sys.stderr)
        return 2
    info = machine_info()
    workdir = Path(tempfile.mkdtemp(prefix="kbmine-bench-"))
    warnings: list[str] = []
    results: list[KBResult] = []
    try:
        scratch = workdir / "scratch"
        scratch.mkdir()
        root = workdir / "kb"
        if args.path is not None:
            source = args.path.resolve()
            if not source.is_dir():
                raise BenchError(f"{args.path}: not a folder")
            log(f"copying {source} to {root}")
            copy_tree(source, root, with_git=True)
            name = source.name
        else:
            if not args.bundle.is_file():
                raise BenchError(f"{args.bundle}: no such bundle (give a KB with --path)")
            log(f"cloning {args.bundle}")
            git("clone", "-q", str(args.bundle), str(root))
            name = args.bundle.name.removesuffix(".bundle")
        scaled = workdir / f"kb-x{args.scale}"
        if args.scale:
            log(f"building {args.scale} copies in {scaled}")
            build_scaled(root, scaled, args.scale)  # before the mutating cases touch `root`

        base = KBResult(name, 1, str(root), 0, 0)
        results.append(base)
        measure_kb(base, root, scratch, args.repeat, True, warnings)
        if args.scale:
            bigger = KBResult(name, args.scale, str(scaled), 0, 0)
            results.append(bigger)
            measure_kb(bigger, scaled, scratch, args.repeat, False, warnings)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    info["load_end"] = load_average()
    if args.json:
        document = {
            **info,
            "repeat": args.repeat,
            "rss_method": "wait4 ru_maxrss (largest single process of the tree)",
            "tree_rss_method": f"/proc sampled every {SAMPLE_INTERVAL} s (sum over the tree)"
            if TreeSampler.available
            else None,
            "kept": str(workdir) if args.keep else None,
            "kbs": [asdict(r) for r in results],
            "warnings": warnings,
        }
        print(json.dumps(document, indent=2))
    else:
        print_table(info, results, args.repeat, warnings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
