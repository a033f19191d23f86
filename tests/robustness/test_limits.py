"""Bounded time and memory: size and CPU limits per note, and no quadratic corner left in the parse."""

from __future__ import annotations

import difflib
import os
import time
import tracemalloc
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

import kbmine.kb
import kbmine.parse.passages as passages
from kbmine.checks import broken_anchor
from kbmine.checks import run_checks
from kbmine.config import Config, load_config
from kbmine.errors import ConfigError
from kbmine.parse import parse_note


MakeKb = Callable[[Mapping[str, str | bytes]], Path]


def test_a_note_over_max_note_size_is_reported_and_not_read(make_kb: MakeKb) -> None:
    root = make_kb({"big.md": "# Big\n" + "text [[nowhere]]\n" * 100, "a.md": "[[big]] [b](big.md#big)\n"})
    kb = kbmine.kb.load(root, Config(max_note_size=1000), use_cache=False)
    assert kb.oversize == {"big.md": (root / "big.md").stat().st_size}
    assert kb.read_bytes("big.md") == b"" and kb.source("big.md") is None
    findings = run_checks(kb)
    timeouts = [f for f in findings if f.rule == "parse-timeout"]
    assert [(f.path, f.data["size"], f.data["max_note_size"]) for f in timeouts] == [("big.md", kb.oversize["big.md"], 1000)]
    assert "max_note_size" in timeouts[0].message
    # The note still exists: links to it resolve, and its unknown headings are not reported.
    assert not [f for f in findings if f.path == "a.md" and f.rule in ("broken-link", "broken-anchor")]
    # Its own (unparsed) links are not reported either.
    assert not [f for f in findings if f.path == "big.md" and f.rule == "broken-link"]


def test_max_note_size_is_validated_and_read_from_config(tmp_path: Path) -> None:
    (tmp_path / "kbmine.toml").write_text("max_note_size = 123\n")
    assert load_config(tmp_path).max_note_size == 123
    for bad in ("0", "-5", "1.5", "'big'", "true"):
        (tmp_path / "kbmine.toml").write_text(f"max_note_size = {bad}\n")
        with pytest.raises(ConfigError, match="max_note_size"):
            load_config(tmp_path)


def test_parse_timeout_accepts_infinity_and_refuses_nan(tmp_path: Path) -> None:
    (tmp_path / "kbmine.toml").write_text("parse_timeout = inf\n")
    assert load_config(tmp_path).parse_timeout == float("inf")
    (tmp_path / "kbmine.toml").write_text("parse_timeout = nan\n")
    with pytest.raises(ConfigError, match="parse_timeout"):
        load_config(tmp_path)


def test_no_time_limit_for_huge_or_infinite_timeouts() -> None:
    for timeout in (float("inf"), 1e308):
        note = parse_note("n.md", b"# A\n[[b]]\n", timeout=timeout)
        assert note.problems == () and [link.target for link in note.links] == ["b"]


_OVER_BUDGET = """
import json
from kbmine.parse import parse_note
parse_note("warm.md", b"---\\ntitle: Warm\\n---\\n[[a]] [a](a.md)\\n")  # build the parsers outside the budget
slow = ("[[a]] and [a](a.md) " * 20_000).encode()
note = parse_note("n.md", b"---\\ntitle: Kept\\n---\\n" + slow, timeout=0.05)
print(json.dumps([[p.rule, p.message] for p in note.problems] + [len(note.links), note.frontmatter]))
"""


def test_a_parse_over_its_cpu_budget_becomes_a_finding() -> None:
    """Run in a fresh interpreter: the CPU timer is process-wide state a test worker may share."""
    import json
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-c", _OVER_BUDGET], capture_output=True, text=True, timeout=120, check=True)
    *problems, links, frontmatter = json.loads(completed.stdout)
    assert [rule for rule, _ in problems] == ["parse-timeout"]
    assert "CPU time" in problems[0][1]
    assert links == 0 and frontmatter == {"title": "Kept"}


def test_passage_words_is_linear_on_unclosed_links() -> None:
    """These took 100 s and 15 s while each failed match rescanned the rest of the line."""
    started = time.process_time()
    for text in ("[[" * 50_000 + "x", "](" * 50_000 + "x", "][" * 50_000):
        passages.passage_words(text)
    assert time.process_time() - started < 2
    assert passages.passage_words("See [[Target|the label]] and [text](a.md) [ref][x]") == [
        "see", "the", "label", "and", "text", "ref"
    ]


def test_signatures_of_a_huge_passage_use_bounded_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    words = [f"w{i % 997}" for i in range(60_000)]
    small = [["alpha", "beta", "gamma", "delta"], ["x"] * 40]
    passages.signatures(small)  # the per-process tables (built once) are not what is measured
    tracemalloc.start()
    try:
        signed = passages.signatures([small[0], words, small[1]])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # One hash per shingle: memory grows with the words, never with words x slots.
    assert peak < 20_000_000
    monkeypatch.setattr(passages, "_BATCH", 1)
    assert passages.signatures([small[0], words, small[1]]) == signed


def test_mention_ranges_skip_text_without_words() -> None:
    note = parse_note("n.md", b"| [[a]] | [[b]] |\n\nword [[a]] more\n")
    text = "| [[a]] | [[b]] |\n\nword [[a]] more\n"
    assert [text[start:end] for start, end in note.mention_ranges] == ["word ", " more"]


def test_a_fifo_named_like_a_note_is_never_opened(make_kb: MakeKb) -> None:
    root = make_kb({"a.md": "[[pipe]]\n"})
    os.mkfifo(root / "pipe.md")
    kb = kbmine.kb.load(root, Config(), use_cache=False)
    assert "pipe.md" not in kb.contents
    findings = {(f.path, f.rule): f.message for f in run_checks(kb)}
    assert "FIFO" in findings["pipe.md", "unreadable-note"]
    assert ("a.md", "broken-link") not in findings


def test_reading_refuses_devices_and_oversize_files(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="not a regular file"):
        kbmine.kb._read("/dev/zero", 100)
    (tmp_path / "x.md").write_bytes(b"x" * 101)
    with pytest.raises(kbmine.kb.NoteTooLarge):
        kbmine.kb._read(str(tmp_path / "x.md"), 100)
    assert kbmine.kb._read(str(tmp_path / "x.md"), 101) == b"x" * 101


def test_a_timeout_that_fires_where_python_swallows_exceptions_still_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """The CPU timer can expire inside a gc callback (pytest registers one), where the
    exception is "ignored": the overrun must still be reported, the parse dropped, and
    nothing printed."""
    import gc

    def burn(phase: str, info: Mapping[str, int]) -> None:
        sum(range(20_000))

    threshold = gc.get_threshold()
    gc.callbacks.append(burn)
    gc.set_threshold(1)
    try:
        note = parse_note("a.md", b"{{" + b"[[a]] and [a](a.md) " * 3000 + b"}}", timeout=0.000001)
    finally:
        gc.callbacks.remove(burn)
        gc.set_threshold(*threshold)
    assert [problem.rule for problem in note.problems] == ["parse-timeout"]
    assert note.links == ()
    assert "ParseTimeout" not in capsys.readouterr().err


def test_did_you_mean_hints_for_broken_anchors_are_bounded(make_kb: MakeKb, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of links missing in a note of thousands of same-named headings took a minute:
    each broken anchor listed every heading and compared it (difflib) with the anchor."""
    compared = [0]
    original = difflib.get_close_matches

    def counting(word: str, possibilities: list[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
        compared[0] += len(possibilities)
        return original(word, possibilities, n, cutoff)

    monkeypatch.setattr(broken_anchor.difflib, "get_close_matches", counting)
    root = make_kb({
        "same.md": "## Same\n\n" * 3000,
        "links.md": "".join(f"[x](same.md#same-{i}) [[same#Same {i}]] " for i in range(2000, 6000)),
        "a-small.md": "# Installation\n\n[x](#instalation)\n",  # read first: the budget is not spent yet
    })
    findings = [f for f in run_checks(kbmine.kb.load(root, Config(), use_cache=False)) if f.rule == "broken-anchor"]
    assert len(findings) == 3000 + 4000 + 1  # same-3000.. (markdown), every "Same N" (wikilink), a-small.md
    assert compared[0] <= broken_anchor.HINT_BUDGET
    assert any(f.path == "a-small.md" and "did you mean 'installation'?" in f.message for f in findings)
