"""Rule options of the wrong type or range are config errors when the file is read, not internal errors mid-run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kbmine.checks import all_rules
from kbmine.config import RULE_OPTION_KINDS, load_config
from kbmine.errors import ConfigError

BAD = [
    ("stale-status", "max_age_days", '"x"'),
    ("stale-status", "max_age_days", "nan"),
    ("stale-status", "date_tolerance_days", "[1]"),
    ("stale-status", "status_key", "[1, 2]"),
    ("duplicate-claim", "similarity", '"abc"'),
    ("duplicate-claim", "similarity", "5"),
    ("duplicate-claim", "boilerplate_notes", '"x"'),
    ("missing-link", "min_length", '"x"'),
    ("missing-link", "min_length", "0"),
    ("missing-link", "max_share", "inf"),
    ("missing-link", "min_common", "true"),
    ("missing-link", "exclude", "5"),
    ("missing-link", "exclude_targets", "[1]"),
    ("missing-link", "plurals", '"no"'),
    ("orphan-note", "roots", "5"),
    ("orphan-note", "roots", "[5]"),
    ("broken-link", "hashtags", '"yes"'),
]


def write_config(root: Path, rule: str, option: str, value: str) -> Path:
    root.mkdir(exist_ok=True)
    (root / "kbmine.toml").write_text(f"[rules.{rule}]\n{option} = {value}\n")
    (root / "a.md").write_text("# A\n\nThe lighthouse keeper. [[b]]\n")
    (root / "b.md").write_text("# B\n\n[[a]]\n")
    return root


@pytest.mark.parametrize(("rule", "option", "value"), BAD, ids=[f"{r}.{o}={v}" for r, o, v in BAD])
def test_a_bad_rule_option_names_the_file_and_the_option(tmp_path: Path, rule: str, option: str, value: str) -> None:
    root = write_config(tmp_path, rule, option, value)
    with pytest.raises(ConfigError, match=rf"kbmine\.toml: rules\.{rule}\.{option} must be "):
        load_config(root)


def test_one_string_is_a_list_of_one_not_its_characters(tmp_path: Path) -> None:
    """``roots = "index.md"`` once became the globs i, n, d, e, x...; ``exclude = "drafts/**"`` too."""
    root = write_config(tmp_path, "orphan-note", "roots", '"index.md"')
    assert load_config(root).rule_options("orphan-note") == {"roots": ["index.md"]}


def test_every_checked_option_is_one_its_rule_declares() -> None:
    rules = all_rules()
    for name, kinds in RULE_OPTION_KINDS.items():
        assert name in rules, name
        assert set(kinds) <= set(rules[name].options), (name, set(kinds) - set(rules[name].options))


@pytest.mark.parametrize("command", [("check",), ("mine", "--dry-run")])
def test_the_cli_says_so_in_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    root = write_config(tmp_path, "orphan-note", "roots", "5")
    completed = subprocess.run(
        [sys.executable, "-m", "kbmine", command[0], str(root), *command[1:]], capture_output=True, check=False, timeout=60
    )
    assert completed.returncode == 2
    lines = completed.stderr.decode().strip().splitlines()
    assert lines == [f"kbmine: error: {root / 'kbmine.toml'}: rules.orphan-note.roots must be a list of strings, not 5"]


def test_an_unknown_rule_in_per_path_ignores_is_refused(tmp_path: Path) -> None:
    """A typo there once suppressed nothing and said nothing."""
    root = write_config(tmp_path, "orphan-note", "roots", '["a.md"]')
    with (root / "kbmine.toml").open("a") as handle:
        handle.write('\n[per_path_ignores]\n"**" = ["missing-link", "orphan-notes"]\n')
    completed = subprocess.run(
        [sys.executable, "-m", "kbmine", "check", str(root)], capture_output=True, check=False, timeout=60
    )
    assert completed.returncode == 2
    assert completed.stderr.decode().strip().splitlines() == [
        "kbmine: error: per_path_ignores.**: unknown rule 'orphan-notes'; `kbmine rules` lists them"
    ]
