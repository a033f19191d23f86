"""scripts/inject.py --mutate on a tiny KB: inject, kbmine mutate, accept everything, score.

A plain folder of four linked notes (it becomes a git repository in the
copy): renamed notes must be relinked to their new names and links replaced
by their text restored, with nothing wrong written and nothing new found.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import git_env

INJECT = Path(__file__).resolve().parent.parent / "scripts" / "inject.py"

NOTES = {
    "index.md": "# Index\n\n- [Spreading activation](spreading-activation.md)\n- [[memory-palace|Memory palace]]\n- [[retrieval-practice]]\n",
    "spreading-activation.md": "# Spreading activation\n\nRelated to [[memory-palace]] and [Retrieval practice](retrieval-practice.md).\n",
    "memory-palace.md": "# Memory palace\n\nBuilds on [[spreading-activation]].\n",
    "retrieval-practice.md": "# Retrieval practice\n\nSee [[index]] and the [[memory-palace]].\n",
}


def test_repairs_are_scored_after_accepting(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    for name, text in NOTES.items():
        (kb / name).write_text(text, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, str(INJECT), "--mutate", "--path", str(kb), "--count", "3", "--json", "--workdir", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        env=git_env(),
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    [corpus] = json.loads(completed.stdout)["corpora"]
    results = {r["kind"]: r for r in corpus["kinds"]}
    assert sorted(results) == ["rename", "unlink"]
    rename, unlink = results["rename"], results["unlink"]
    assert rename["sites"] >= 3 and rename["repaired_share"] == 1.0
    assert unlink["sites"] == 3 and unlink["repaired_share"] == 1.0 and unlink["restored_in_place"] == 3
    for result in results.values():
        assert result["wrong_share"] == 0.0 and result["commits_touching_sites"] == result["sites"]
        assert result["injected_findings_left"] == 0 and result["new_findings"] == 0
        assert result["pending_after_accept"] == 0
    assert not (kb / ".git").exists(), "the KB itself was touched"
