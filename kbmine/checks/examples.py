"""Each rule's pass, fail and fix examples, kept as data files next to the rules.

``kbmine/checks/examples/<rule-name>.txt`` holds cases in a small text format,
read by the tests (every case must behave as written) and by ``kbmine
explain`` (which prints them)::

    ### fail: a renamed note
    === notes/a.md
    See [setup](setup.md).
    === notes/install.md
    # Install
    >>> notes/a.md:1:5

    ### pass: ...

    ### fix: ...
    (files)
    >>> notes/a.md:1:5
    <<< notes/a.md
    See [setup](install.md).

``=== PATH`` starts a file of the case's mini KB (its lines follow verbatim),
``>>> PATH:LINE:COL`` is a finding the rule must report (a fail or fix case
lists all of them; a pass case none), and in a fix case ``<<< PATH`` gives the
note's text after applying the findings' suggested edits.

Two escapes keep hostile cases readable: ``=== PATH (latin-1)`` stores the
file in that encoding instead of UTF-8, and ``{{N*TEXT}}`` in a file's text
stands for TEXT repeated N times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Example", "load_examples", "EXAMPLES_DIR"]

EXAMPLES_DIR = Path(__file__).parent / "examples"
_REPEAT = re.compile(r"\{\{(\d+)\*(.*?)\}\}")
_HEADER = re.compile(r"(?P<path>.+?)(?:\s+\((?P<encoding>[\w-]+)\))?\s*$")


@dataclass
class Example:
    """One case: kind (pass, fail, fix), title, files, expected findings and fixed texts."""

    kind: str
    title: str
    files: dict[str, str] = field(default_factory=dict)
    expected: list[tuple[str, int, int]] = field(default_factory=list)
    fixed: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)

    def file_bytes(self) -> dict[str, bytes]:
        """The mini KB's files as bytes: repeats expanded, each in its encoding."""
        return {
            path: _REPEAT.sub(lambda m: m.group(2) * int(m.group(1)), text).encode(self.encodings.get(path, "utf-8"))
            for path, text in self.files.items()
        }

    def render(self) -> str:
        lines = [f"{self.kind}: {self.title}"]
        for path, text in self.files.items():
            encoding = self.encodings.get(path)
            lines.append(f"  {path} ({encoding}):" if encoding else f"  {path}:")
            lines.extend(f"    | {line}" for line in text.rstrip("\n").splitlines())
        for path, line, column in self.expected:
            lines.append(f"  -> finding at {path}:{line}:{column}")
        for path, text in self.fixed.items():
            lines.append(f"  {path} after the fix:")
            lines.extend(f"    | {line}" for line in text.rstrip("\n").splitlines())
        return "\n".join(lines)


def load_examples(rule: str) -> list[Example]:
    """The examples of ``rule`` (empty when it has no example file)."""
    path = EXAMPLES_DIR / f"{rule}.txt"
    if not path.is_file():
        return []
    examples: list[Example] = []
    target: dict[str, str] | None = None
    current_path = ""
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("### "):
            kind, _, title = line[4:].strip().partition(":")
            examples.append(Example(kind.strip(), title.strip()))
            target = None
        elif not examples:
            continue
        elif line.startswith("=== "):
            header = _HEADER.match(line[4:].strip())
            assert header is not None
            current_path = header["path"]
            if header["encoding"]:
                examples[-1].encodings[current_path] = header["encoding"]
            target = examples[-1].files
            target[current_path] = ""
        elif line.startswith("<<< "):
            current_path = line[4:].strip()
            target = examples[-1].fixed
            target[current_path] = ""
        elif line.startswith(">>> "):
            where, line_no, column = line[4:].strip().rsplit(":", 2)
            examples[-1].expected.append((where, int(line_no), int(column)))
            target = None
        elif target is not None:
            target[current_path] += line
    for example in examples:
        for files in (example.files, example.fixed):
            for name, text in files.items():
                files[name] = text.rstrip("\n") + "\n" if text.strip() else ""
    return examples
