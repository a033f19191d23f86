"""scripts/bench.py runs end to end on a tiny KB and reports every case (no ../shared needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
CASES = ["bare", "cold", "warm", "changed", "renamed"]


def test_bench_json_on_a_tiny_kb(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    (kb / "sub").mkdir(parents=True)
    names = ["alpha", "beta", "gamma", "delta", "sub/epsilon"]
    for index, name in enumerate(names):
        following = names[(index + 1) % len(names)]
        (kb / f"{name}.md").write_text(
            f"---\ntitle: {name}\ntags: [bench]\n---\n# {name}\n\nNext: [[{following.split('/')[-1]}]].\n"
            f"A broken one: [gone](missing-{index}.md).\n",
            encoding="utf-8",
        )
    before = {p: p.read_bytes() for p in kb.rglob("*") if p.is_file()}

    completed = subprocess.run(
        [sys.executable, str(BENCH), "--path", str(kb), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)

    assert document["kbmine"] and document["nproc"] >= 1
    assert document["warnings"] == []
    assert document["kept"] is None
    [result] = document["kbs"]
    assert result["notes"] == 5 and result["scale"] == 1
    cases = {case["case"]: case for case in result["cases"]}
    assert list(cases) == CASES
    for name, case in cases.items():
        assert case["seconds"] > 0, name
        assert case["ratio"] > 0, name
        assert case["peak_rss_mb"] > 0, name
        if name != "bare":
            assert case["findings"] > 0, name  # the broken links
    assert cases["cold"]["findings"] == cases["warm"]["findings"]
    assert cases["renamed"]["detail"]["renamed"] == 5
    assert not Path(result["root"]).exists()  # temp dirs removed without --keep

    # The KB given with --path is benchmarked on a copy: the original is untouched.
    assert {p: p.read_bytes() for p in kb.rglob("*") if p.is_file()} == before
    assert not (kb / ".kbmine").exists()


def test_scaling_json_on_tiny_synthetic_kbs() -> None:
    """scripts/scaling.py builds KBs of growing size and times both graph-wide rules on each."""
    script = BENCH.parent / "scaling.py"
    completed = subprocess.run(
        [sys.executable, str(script), "--base", "40", "--factors", "1,2", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    rows = json.loads(completed.stdout)
    assert [row["notes"] for row in rows] == [40, 80]
    for row in rows:
        assert row["missing-link"] > 0 and row["duplicate-claim"] > 0
        assert row["missing-link findings"] > 0
