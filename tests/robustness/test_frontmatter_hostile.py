"""Hostile frontmatter becomes a finding or a plain value, never an exception or a side effect."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kbmine.kb
from kbmine.checks import run_checks
from kbmine.config import Config
from kbmine.parse import parse_note
from kbmine.report.portable import dumps


def rules_of(text: str) -> list[str]:
    return [problem.rule for problem in parse_note("n.md", text.encode()).problems]


def test_a_date_the_calendar_rejects_stays_the_string_written() -> None:
    note = parse_note(
        "n.md", b"---\ndate: 2024-02-30\ntitle: T\nwhen: [2024-13-01, 2024-01-02]\nts: !!timestamp soon\n---\n# T\n"
    )
    assert note.problems == ()
    assert note.frontmatter == {
        "date": "2024-02-30", "title": "T", "when": ["2024-13-01", dt.date(2024, 1, 2)], "ts": "soon"
    }


def test_values_a_tag_cannot_build_are_invalid_frontmatter() -> None:
    for value in ("!!float abc", "!!int " + "9" * 5000, "!!binary not-base64!!"):
        assert rules_of(f"---\na: {value}\n---\n") == ["invalid-frontmatter"], value


def test_integers_too_long_to_print_are_invalid_frontmatter() -> None:
    """Hex and octal load without Python's digit check, and TOML's decimal hits it inside
    tomllib: each would later break printing (JSON, graph exports, the miner)."""
    for text in (
        "---\nn: 0x" + "f" * 5000 + "\n---\n",
        "---\nn: 0" + "7" * 6000 + "\n---\n",
        "---\nnested: {a: [0x" + "f" * 5000 + "]}\n---\n",
        "---\n? 0x" + "f" * 5000 + "\n: key\n---\n",
        "+++\nn = " + "9" * 5000 + "\n+++\n",
        "+++\nn = 0x" + "f" * 5000 + "\n+++\n",
    ):
        assert rules_of(text) == ["invalid-frontmatter"], text[:12]
    assert parse_note("n.md", b"---\nn: 0x" + b"f" * 3000 + b"\n---\n").problems == ()


def test_deep_toml_and_yaml_are_refused_not_a_recursion_error() -> None:
    assert rules_of("+++\na = " + "[" * 3000 + "]" * 3000 + "\n+++\n") == ["invalid-frontmatter"]
    assert rules_of("---\na: " + "[" * 10_000 + "]" * 10_000 + "\n---\n") == ["invalid-frontmatter"]
    assert rules_of("---\na: " + "{b: " * 5000 + "c" + "}" * 5000 + "\n---\n") == ["invalid-frontmatter"]


def test_impossible_toml_dates_are_invalid_frontmatter() -> None:
    assert rules_of("+++\ndate = 2024-02-30\n+++\n") == ["invalid-frontmatter"]


def test_python_tags_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    for payload in (
        f'x: !!python/object/apply:os.system ["touch {marker}"]',
        f'!!python/object/apply:os.system ["touch {marker}"]',
        "x: !!python/name:os.system",
        f'x: !<tag:yaml.org,2002:python/object/apply:os.system> ["touch {marker}"]',
    ):
        assert rules_of(f"---\n{payload}\n---\n") == ["invalid-frontmatter"], payload
    assert not marker.exists()


def test_a_yaml_set_loads_in_a_stable_order() -> None:
    note = parse_note("n.md", b"---\ntags: !!set {zeta, alpha, mid}\n---\n")
    assert note.frontmatter == {"tags": ["alpha", "mid", "zeta"]}


def test_nan_and_infinity_reach_json_as_strings() -> None:
    note = parse_note("n.md", b"---\na: .nan\nb: .inf\nc: -.inf\nd: 1.0e+400\n---\n")
    assert dumps(note.frontmatter) == '{"a": "NaN", "b": "Infinity", "c": "-Infinity", "d": "Infinity"}'


YAML_PIECES = st.sampled_from(
    [
        "a", "b: ", ": ", "- ", "? ", "\n", "  ", "\t", "[", "]", "{", "}", ",", "&x ", "*x", "<<: *x", "!!set ",
        "!!binary ", "!!python/object:os.system ", "!custom ", "'", '"', "#", "|", ">", "2024-02-30", "2024-01-01",
        "25:61:61", ".nan", "-.inf", "1e400", "0x" + "f" * 40, "null", "~", "true", "[[good]]", "![[x|y]]", "...",
        "---", "%YAML 1.1\n", "\x00", "\x07", "\u2028", "\ufeff",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(YAML_PIECES, max_size=40).map("".join), st.sampled_from(["---", "+++"]))
def test_frontmatter_soup_never_raises_and_always_serialises(body: str, fence: str) -> None:
    note = parse_note("n.md", f"{fence}\n{body}\n{fence}\n# Body [[good]]\n".encode("utf-8", "surrogatepass"))
    assert isinstance(note.frontmatter, dict)
    assert all(isinstance(key, str) for key in note.frontmatter)
    dumps(note.frontmatter).encode("utf-8")
    assert {problem.rule for problem in note.problems} <= {"invalid-frontmatter", "unreadable-note"}


def test_a_suppression_list_of_non_strings_is_read_not_an_internal_error(tmp_path: Path) -> None:
    """``kbmine: {ignore: [1, {a: b}]}`` was a TypeError (joining non-strings) in every check."""
    (tmp_path / "a.md").write_text("---\nkbmine: {ignore: [1, {a: b}, null, broken-link]}\n---\n# A\n[[missing]]\n")
    (tmp_path / "b.md").write_text("---\nkbmine: {ignore: 5}\n---\n# B\n[[missing]] [[a]]\n")
    findings = run_checks(kbmine.kb.load(tmp_path, Config(), use_cache=False), report_unused_suppressions=True)
    assert {(f.path, f.rule) for f in findings if f.rule in ("broken-link", "unused-suppression")} == {
        ("b.md", "broken-link"), ("b.md", "unused-suppression")
    }
