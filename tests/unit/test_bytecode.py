"""kbmine.bytecode: kbmine's own .pyc files are written once, even under PYTHONDONTWRITEBYTECODE."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from kbmine.bytecode import keep_own_bytecode


def _module(tmp_path: Path, name: str, text: str = "VALUE = 41 + 1\n") -> tuple[Path, Path]:
    """A module ``name`` imported from a source file in ``tmp_path`` (as an editable install's would be)."""
    source = tmp_path / f"{name.rsplit('.', 1)[-1]}.py"
    source.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, source)
    assert spec is not None and spec.loader is not None and spec.cached is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return source, Path(spec.cached)


@pytest.fixture
def no_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)


def test_a_kbmine_module_imported_from_source_gets_its_pyc(tmp_path: Path, no_bytecode: None) -> None:
    source, cached = _module(tmp_path, "kbmine._bytecode_probe")
    try:
        assert not cached.exists()
        keep_own_bytecode()
        assert cached.is_file()
        data = cached.read_bytes()
        assert data[:4] == importlib.util.MAGIC_NUMBER
        source.write_text("VALUE = 7\n", encoding="utf-8")  # edited: the .pyc is outdated
        os.utime(source, ns=(cached.stat().st_mtime_ns + 10**9,) * 2)
        keep_own_bytecode()
        assert cached.read_bytes() != data
    finally:
        del sys.modules["kbmine._bytecode_probe"]


def test_other_packages_are_left_as_the_setting_says(tmp_path: Path, no_bytecode: None) -> None:
    _, cached = _module(tmp_path, "someone_elses_module")
    try:
        keep_own_bytecode()
        assert not cached.exists()
    finally:
        del sys.modules["someone_elses_module"]


def test_an_unwritable_folder_is_no_error(tmp_path: Path, no_bytecode: None) -> None:
    _, cached = _module(tmp_path, "kbmine._bytecode_probe_ro")
    try:
        (tmp_path / "__pycache__").write_text("a file where the folder would go", encoding="utf-8")
        keep_own_bytecode()
        assert not cached.exists()
    finally:
        del sys.modules["kbmine._bytecode_probe_ro"]

