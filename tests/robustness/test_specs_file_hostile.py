"""A hand-edited or damaged ``kbmine.specs.yaml`` is one config error naming the file, in every command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kbmine.errors import ConfigError
from kbmine.mine.specfile import accepted_specs, decide, read_entries, read_specs_file

SPEC = """version: 1
specs:
  - id: 48a2460f
    state: accepted
    kind: min_outbound_links
    scope: all
    params:
      min: {min}
    support: {support}
    confidence: 1.0
"""


@pytest.mark.parametrize(
    "text",
    [
        SPEC.format(min="0x" + "f" * 5000, support=4),
        SPEC.format(min=1, support="0x" + "f" * 5000),
        "version: 1\nspecs:\n  - {id: a, kind: min_outbound_links, params: {min: [1, 0x" + "f" * 5000 + "]}}\n",
    ],
    ids=["param", "support", "nested"],
)
def test_an_integer_too_long_to_print_is_refused_on_reading(text: str) -> None:
    """It loaded, then every command that printed it (check, specs show) was an internal error."""
    with pytest.raises(ConfigError, match="an integer of more than 4300 digits"):
        read_entries(text)
    with pytest.raises(ConfigError, match="an integer of more than 4300 digits"):
        decide(text, ["48a2460f"], "accepted")


@pytest.mark.parametrize(
    "text",
    ["version: 1\nspecs: [5, 'x', null]\n", "version: 1\nspecs: !!python/object/apply:os.system ['true']\n"],
    ids=["scalars", "python-tag"],
)
def test_accepting_from_a_file_of_entries_without_ids_is_a_config_error(text: str) -> None:
    """``specs accept`` and ``reject`` read the file with the round-trip loader and called ``.get`` on each entry."""
    with pytest.raises(ConfigError, match="every spec needs an `id` string"):
        decide(text, ["48a2460f"], "accepted")


def test_a_specs_file_that_is_not_text_or_not_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "kbmine.specs.yaml").write_bytes(b"\xff\xfe\x00version")
    with pytest.raises(ConfigError, match=r"kbmine\.specs\.yaml: cannot read: 'utf-8' codec"):
        read_specs_file(tmp_path)
    folder = tmp_path / "folder"
    (folder / "kbmine.specs.yaml").mkdir(parents=True)
    with pytest.raises(ConfigError, match="Is a directory"):
        accepted_specs(folder)
    assert read_specs_file(tmp_path / "nothing-here") is None


@pytest.mark.parametrize(
    "args",
    [("specs", "list", "{kb}"), ("specs", "accept", "48a2460f", "-p", "{kb}"), ("specs", "test", "{kb}", "-n", "1")],
    ids=["list", "accept", "test"],
)
def test_every_specs_command_names_the_users_file(tmp_path: Path, args: tuple[str, ...]) -> None:
    """A binary file was an internal error in specs list/show/accept/reject/edit/review and mine;
    ``specs test`` named the temporary copy it checks instead of the user's file."""
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "a.md").write_text("# A\n\n[[b]]\n")
    (kb / "b.md").write_text("# B\n\n[[a]]\n")
    (kb / "kbmine.specs.yaml").write_bytes(b"\xff\xfe\x00version")
    argv = [arg.replace("{kb}", str(kb)) for arg in args]
    completed = subprocess.run([sys.executable, "-m", "kbmine", *argv], capture_output=True, timeout=120, check=False)
    assert completed.returncode == 2
    lines = completed.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kbmine: error: {kb / 'kbmine.specs.yaml'}: cannot read:"), lines


@pytest.mark.parametrize(
    ("editor", "message"),
    [
        ("printf '\\377\\376' >", "saved text that is not UTF-8; spec unchanged"),
        ("rm", "removed the file; spec unchanged"),
        ("cp {huge}", "the edited spec: an integer of more than 4300 digits"),
        ("", "no $VISUAL or $EDITOR, and no terminal for vi"),
    ],
    ids=["binary", "removed", "huge-integer", "no-editor-no-terminal"],
)
def test_specs_edit_survives_what_the_editor_leaves(tmp_path: Path, editor: str, message: str) -> None:
    """Each was an internal error; with no editor set and no terminal, vi waited forever."""
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "a.md").write_text("# A\n\n[[b]]\n")
    (kb / "b.md").write_text("# B\n\n[[a]]\n")
    specs = SPEC.format(min=1, support=2)
    (kb / "kbmine.specs.yaml").write_text(specs)
    env = {k: v for k, v in os.environ.items() if k not in ("VISUAL", "EDITOR")}
    huge = tmp_path / "huge.yaml"
    huge.write_text("scope: all\nparams: {min: 0x" + "f" * 5000 + "}\n")
    if editor:
        editor = editor.replace("{huge}", str(huge))
        script = tmp_path / "editor.sh"
        script.write_text(f'#!/bin/sh\n{editor} "$1"\n')
        script.chmod(0o755)
        env["EDITOR"] = str(script)
    completed = subprocess.run(
        [sys.executable, "-m", "kbmine", "specs", "edit", "48a2460f", "-p", str(kb), "--editor"],
        capture_output=True, stdin=subprocess.DEVNULL, env=env, timeout=60, check=False,
    )
    assert completed.returncode == 2
    lines = completed.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kbmine: error:") and message in lines[0], lines
    assert (kb / "kbmine.specs.yaml").read_text() == specs


def test_a_specs_file_symlinked_out_of_the_kb_is_neither_read_nor_written(tmp_path: Path) -> None:
    """A cloned repository can carry ``kbmine.specs.yaml -> ../elsewhere``: mine created the file
    it named, specs accept rewrote it, and check showed its content in an error."""
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "a.md").write_text("# A\n\n[[b]]\n")
    (kb / "b.md").write_text("# B\n\n[[a]]\n")
    outside = tmp_path / "outside.yaml"
    (kb / "kbmine.specs.yaml").symlink_to("../outside.yaml")
    for args in (("mine", str(kb), "--holdout", "0", "--min-support", "2"), ("check", str(kb))):
        completed = subprocess.run([sys.executable, "-m", "kbmine", *args], capture_output=True, timeout=120, check=False)
        assert completed.returncode == 2
        assert completed.stderr.decode().strip().splitlines()[-1].endswith("a symlink out of the KB; kbmine reads and writes its specs file only inside the KB")
    assert not outside.exists()
    outside.write_text(SPEC.format(min=1, support=2).replace("accepted", "proposed"))
    before = outside.read_text()
    with pytest.raises(ConfigError, match="a symlink out of the KB"):
        accepted_specs(kb)
    completed = subprocess.run(
        [sys.executable, "-m", "kbmine", "specs", "accept", "48a2460f", "-p", str(kb)], capture_output=True, timeout=120, check=False
    )
    assert completed.returncode == 2 and outside.read_text() == before
    # A symlink that stays in the KB is the user's own arrangement, and is followed.
    (kb / "kbmine.specs.yaml").unlink()
    (kb / "real.yaml").write_text(before)
    (kb / "kbmine.specs.yaml").symlink_to("real.yaml")
    assert [spec.id for spec in accepted_specs(kb)] == []
    assert read_specs_file(kb) == before
