"""scripts/relink_history.py on a tiny made-up history: renames, a person's repairs, kbmine's verdicts.

The history has three notes renamed in one commit and links left broken;
later a person repairs one link as kbmine would, points another at a
different note, and deletes a third. The script must find exactly the
three broken links, the two repairs, and judge kbmine equal on one and
different on the other.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import git_env

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "relink_history.py"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, capture_output=True, env=git_env(), check=True)


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit(root: Path, message: str, files: dict[str, str] | None = None) -> None:
    write(root, files or {})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def test_cases_repairs_and_verdicts(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(
        root,
        "notes",
        {
            "index.md": "# Index\n\nRead [Setup](setup.md) and [[guide]].\n",
            "b.md": "# B\n\nSee [the setup](setup.md).\n",
            "setup.md": "# Setup\n\nInstall it, then configure it and run the tests.\n",
            "guide.md": "# Guide\n\nA longer guide to everything in here, written once.\n",
            "other.md": "# Other\n\n[[index]] [[b]]\n",
        },
    )
    git(root, "mv", "setup.md", "installation.md")
    git(root, "mv", "guide.md", "handbook.md")
    commit(root, "rename setup and guide, links left broken")
    commit(root, "unrelated", {"other.md": "# Other\n\n[[index]] [[b]] and more.\n"})
    commit(
        root,
        "repair the links by hand",
        {
            "index.md": "# Index\n\nRead [Setup](installation.md) and [[other]].\n",
            "b.md": "# B\n\nNo link here any more.\n",
        },
    )

    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--source", str(root), "--json", "--max-cases", "10"],
        capture_output=True,
        text=True,
        env=git_env(),
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    document = json.loads(completed.stdout)
    summary = document["summary"]
    assert summary["broken_links"] == 3
    assert summary["outcomes"] == {"repaired": 2, "link deleted or rewritten": 1}
    assert (summary["sampled"], summary["kbmine_proposed"], summary["equal"], summary["different"], summary["missed"]) == (2, 2, 1, 1, 0)
    by_raw = {case["raw"]: case for case in document["cases"]}
    setup = by_raw["[Setup](setup.md)"]
    assert (setup["kbmine"], setup["same_text"], setup["human_target"]) == ("equal", True, "installation.md")
    guide = by_raw["[[guide]]"]
    assert (guide["kbmine"], guide["kbmine_target"], guide["human_target"]) == ("different", "handbook.md", "other.md")
    assert guide["human_to_renamed"] is False
