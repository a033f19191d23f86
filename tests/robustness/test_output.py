"""Outputs stay parseable whatever the notes hold, and every error is one line with exit 2."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

import kbmine.kb
from kbmine.config import Config
from kbmine.graph import export_graph
from kbmine.model import Finding, Span
from kbmine.report import FORMATTERS, ReportContext, format_findings
from kbmine.report.portable import dumps, xml_text


def strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(name)

    return json.loads(text.encode("utf-8"), parse_constant=refuse)


def test_dumps_is_strict_json_in_valid_utf8() -> None:
    value = {"nan": float("nan"), "inf": [float("inf"), -float("inf")], "when": dt.date(2024, 2, 29), "name": "caf\udce9"}
    text = dumps(value)
    assert strict(text) == {"nan": "NaN", "inf": ["Infinity", "-Infinity"], "when": "2024-02-29", "name": "caf\udce9"}
    assert os.fsencode(strict(text)["name"]) == b"caf\xe9"  # type: ignore[index]


def test_xml_text_spells_what_xml_cannot_hold() -> None:
    assert xml_text("bell\x07 nul\x00 \udcff ok\t\n") == "bell\\x07 nul\\x00 \\udcff ok\t\n"


def test_graph_exports_parse_with_control_characters_and_odd_values(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    (root / "ctrl.md").write_text(
        '---\ntitle: "bell\\a nul\\0"\nn: .nan\nwhen: 2024-01-01\n---\n# Ctrl\n[[missing \x01]] [[good]]\n'
    )
    (root / "good.md").write_text("# Good\n")
    graph = kbmine.kb.load(root, Config(), use_cache=False).graph
    for fmt in ("graphml", "gexf"):
        ElementTree.fromstring(export_graph(graph, fmt))
    document = strict(export_graph(graph, "json"))
    assert isinstance(document, dict)
    ctrl = next(node for node in document["nodes"] if node["id"] == "ctrl.md")
    assert ctrl["frontmatter"] == {"title": "bell\x07 nul\x00", "n": "NaN", "when": "2024-01-01"}


def test_report_formats_survive_control_characters_and_undecodable_names() -> None:
    finding = Finding(
        "KB101", "broken-link", "error", "bad\udcffname.md", Span(0, 5, 1, 1, 1, 6), "broken link [[x\x01]]: nan", {"n": float("nan")}
    )
    context = ReportContext(root="/kb", version="0")
    outputs = {fmt: format_findings(fmt, [finding], context) for fmt in FORMATTERS}
    strict(outputs["json"])
    strict(outputs["sarif"])
    ElementTree.fromstring(outputs["junit"])
    assert "bad\udcffname.md" in outputs["text"] and "bad\udcffname.md" in outputs["github"]


def kbmine_cli(*args: str, cwd: Path, encoding: str | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KBMINE", "PYTHONIOENCODING"))}
    if encoding is not None:
        env["PYTHONIOENCODING"] = encoding  # strict errors, as CI set-ups often have it
    return subprocess.run([sys.executable, "-m", "kbmine", *args], cwd=cwd, env=env, capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize(
    "args",
    [
        ("check", ".", "--bogus"),
        ("check", ".", "--jobs", "0"),
        ("check", ".", "--format"),
        ("frobnicate",),
        ("check", ".", "."),
        ("check", "does-not-exist"),
        ("cache", "clear", "does-not-exist"),
        ("cache", "clear", "a.md"),
        ("review", "list", "--format", "xml"),
    ],
    ids=[
        "unknown-option", "bad-value", "missing-value", "unknown-command", "extra-argument", "no-folder", "cache-no-folder",
        "cache-a-file", "review-list-format",
    ],
)
def test_every_usage_error_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "a.md").write_text("# A\n")
    completed = kbmine_cli(*args, cwd=tmp_path)
    assert completed.returncode == 2
    lines = completed.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kbmine: error: "), lines
    assert completed.stdout == b""


@pytest.mark.parametrize("encoding", [None, "utf-8", "ascii", "latin-1"])
def test_names_that_are_not_utf8_reach_every_output(tmp_path: Path, encoding: str | None) -> None:
    root = tmp_path / "kb"
    root.mkdir()
    (root / os.fsdecode(b"caf\xe9.md")).write_text("# Caf\u00e9 \u2603\n[[missing]]\n")
    for fmt in ("text", "github", "json"):
        completed = kbmine_cli("check", "kb", "--format", fmt, "--no-cache", cwd=tmp_path, encoding=encoding)
        assert completed.returncode == 1, completed.stderr
        assert b"error" not in completed.stderr, completed.stderr
        if fmt == "json":
            document = strict(completed.stdout.decode("utf-8"))
            assert isinstance(document, dict)
            assert {os.fsencode(finding["path"]) for finding in document["findings"]} == {b"caf\xe9.md"}


@pytest.mark.parametrize(
    ("closed", "args", "code"),
    [
        (">&-", ("check", "."), 1),
        ("2>&-", ("check", "."), 1),
        (">&- 2>&-", ("graph", ".", "--format", "json"), 0),
        ("2>&-", ("check", "does-not-exist"), 2),
    ],
    ids=["stdout", "stderr", "both", "stderr-on-error"],
)
def test_a_stream_closed_before_the_start_is_not_an_internal_error(
    tmp_path: Path, closed: str, args: tuple[str, ...], code: int
) -> None:
    """Python leaves a stream closed at start ``None``: the progress check and the final flush
    each raised on it (an internal error, then a traceback). What goes there is dropped now;
    the exit code still tells, and the other stream still says what it must."""
    (tmp_path / "a.md").write_text("# A\n\n[[missing]]\n")
    script = f'exec "$@" {closed}'
    completed = subprocess.run(
        ["sh", "-c", script, "sh", sys.executable, "-m", "kbmine", *args],
        cwd=tmp_path, capture_output=True, timeout=120, check=False,
    )
    assert completed.returncode == code, completed.stderr
    assert b"Traceback" not in completed.stderr + completed.stdout
    assert b"internal error" not in completed.stderr
    if closed == "2>&-":
        assert completed.stdout if code == 1 else completed.stdout == b""
