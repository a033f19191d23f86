"""``kbmine check`` ends its process without freeing the KB (kbmine.cli.run): nothing a normal
exit would have done for the user may be lost (output, exit code, a closed cache database)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

MakeKB = Callable[[Mapping[str, str | bytes]], Path]

FILES: dict[str, str | bytes] = {
    "index.md": "# Index\n\n[Alpha](alpha.md) and [gone](gone.md)\n",
    "alpha.md": "---\ntitle: Alpha\ndate: 2024-01-02\n---\n# Alpha\n\nBack to [[index]].\n",
}


def _kbmine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kbmine", *args], capture_output=True, text=True, timeout=120, check=False)


def test_output_exit_code_and_cache_survive_the_fast_exit(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb(FILES)
    for run in ("cold", "warm"):
        piped = _kbmine("check", str(root), "--format", "json")
        assert piped.returncode == 1, (run, piped.stderr)
        written = tmp_path / f"{run}.json"
        assert _kbmine("check", str(root), "--format", "json", "-o", str(written)).returncode == 1
        assert piped.stdout == written.read_text(encoding="utf-8")
        assert [f["rule"] for f in json.loads(piped.stdout)["findings"]] == ["broken-link"]
        # The database was closed: sqlite folded its write-ahead log back and removed it.
        assert not (root / ".kbmine" / "cache.sqlite-wal").exists()
    assert _kbmine("check", str(root), "--exit-zero").returncode == 0
    text = _kbmine("check", str(root), "--format", "text")
    assert "broken-link" in text.stdout and text.stdout.endswith("\n")


def test_main_inside_another_program_returns_to_it(make_kb: MakeKB) -> None:
    """Only the process entry point exits fast: a script calling ``main`` goes on after it."""
    root = make_kb(FILES)
    script = (
        "import sys\n"
        "from kbmine.cli import main\n"
        f"sys.argv = ['kbmine', 'check', {str(root)!r}, '--format', 'json', '-o', {str(root.parent / 'out.json')!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    print('after main', exc.code)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "after main 1"


def test_an_interrupt_after_the_command_is_done_prints_no_traceback() -> None:
    """Ctrl-C landing in the interpreter's clean-up (in some finalizer) is ignored, not printed as a traceback."""
    script = (
        "import os, signal, sys, time\n"
        "import kbmine.cli as cli\n"
        "class Late:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        time.sleep(0.2)\n"
        "sys.modules['__main__'].late = Late()  # finalised at shutdown, after the command\n"
        "sys.argv = ['kbmine', 'rules']\n"
        "cli.run()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "KeyboardInterrupt" not in result.stderr
