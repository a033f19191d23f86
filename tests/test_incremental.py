"""Cold, warm and incremental runs give exactly the findings of an uncached run.

The cache (parsed notes, per-note signatures and mention data, whole-run
findings) must never change an answer: after each change to the KB the
cached run is compared with a run that uses no cache at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbmine.checks import run_checks
from kbmine.config import load_config
from kbmine.kb import load

MakeKB = Callable[[Mapping[str, str | bytes]], Path]

CLAIM = (
    "Retrieval quality depends less on the embedding model than on how the notes are cut into "
    "passages, because a passage that mixes two claims is retrieved for neither of them."
)


def _findings(root: Path, use_cache: bool) -> list[tuple[str, str, int, int, str, str]]:
    kb = load(root, load_config(root), use_cache=use_cache, jobs=1)
    return [(f.rule, f.path, f.span.line, f.span.column, f.message, f.fingerprint) for f in run_checks(kb)]


def _same(root: Path) -> list[tuple[str, str, int, int, str, str]]:
    cached = _findings(root, use_cache=True)
    assert cached == _findings(root, use_cache=False)
    return cached


def _spy_on_parse(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every note this process parses from now on, as the parse is given it (a
    forked child's stay in the child)."""
    import kbmine.parse

    parsed: list[str] = []
    real = kbmine.parse.signed_notes

    def counted(items: list[tuple[str, bytes]], *args: object) -> object:
        parsed.extend(path for path, _ in items)
        return real(items, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(kbmine.parse, "signed_notes", counted)
    return parsed


@pytest.fixture
def kb_root(make_kb: MakeKB) -> Path:
    files: dict[str, str | bytes] = {
        "README.md": "# Home\n\n[Alpha notes](alpha-notes.md), [[beta-notes]], [Gamma](gamma.md)\n",
        "alpha-notes.md": f"# Alpha notes\n\n{CLAIM}\n\nSee [gone](gone.md).\n",
        "beta-notes.md": "---\nstatus: current\n---\n# Beta notes\n\nAlpha notes matter. [[gamma]]\n",
        "gamma.md": "---\nstatus: superseded\n---\n# Gamma\n\n[[alpha-notes#Nowhere]]\n",
    }
    return make_kb(files)


def test_cold_warm_and_incremental_runs_agree(kb_root: Path) -> None:
    cold = _same(kb_root)
    assert {rule for rule, *_ in cold} >= {"broken-link", "broken-anchor", "missing-link", "stale-status"}
    warm = _same(kb_root)
    assert warm == cold

    # One note changed: a duplicated claim appears and a broken link is fixed.
    beta = kb_root / "beta-notes.md"
    beta.write_text(beta.read_text(encoding="utf-8") + f"\n{CLAIM}\n", encoding="utf-8")
    alpha = kb_root / "alpha-notes.md"
    alpha.write_text(alpha.read_text(encoding="utf-8").replace("gone.md", "gamma.md"), encoding="utf-8")
    changed = _same(kb_root)
    assert changed != cold
    assert any(rule == "duplicate-claim" for rule, *_ in changed)

    # A note renamed: its inbound links break, its own findings move with it.
    (kb_root / "gamma.md").rename(kb_root / "gamma-renamed.md")
    renamed = _same(kb_root)
    assert any(rule == "broken-link" and path == "README.md" for rule, path, *_ in renamed)

    # A note deleted, another added.
    (kb_root / "gamma-renamed.md").unlink()
    (kb_root / "delta.md").write_text("# Delta\n\nBeta notes and alpha notes.\n", encoding="utf-8")
    _same(kb_root)


def test_config_change_invalidates_cached_findings(kb_root: Path) -> None:
    before = _same(kb_root)
    (kb_root / "kbmine.toml").write_text('ignore = ["missing-link"]\n', encoding="utf-8")
    after = _same(kb_root)
    assert after != before and not any(rule == "missing-link" for rule, *_ in after)


def test_a_one_note_edit_rescans_and_rescores_only_that_note(kb_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Graph-wide rules reuse the other notes' per-note work from the cache."""
    from kbmine.checks import missing_link

    (kb_root / "delta.md").write_text(f"# Delta\n\n{CLAIM}\n", encoding="utf-8")
    cold = _same(kb_root)
    assert any(rule == "duplicate-claim" for rule, *_ in cold)

    scanned: list[str] = []
    real_mentions = missing_link.MentionMatcher.mentions_in
    def mentions_in(self: missing_link.MentionMatcher, notes: Any, **kw: Any) -> Any:
        scanned.extend(note.path for note, _ in notes)
        return real_mentions(self, notes, **kw)

    monkeypatch.setattr(missing_link.MentionMatcher, "mentions_in", mentions_in)
    compared: list[tuple[str, str]] = []
    from rapidfuzz import fuzz

    real_ratio = fuzz.ratio
    def ratio(a: str, b: str, **kw: Any) -> float:
        compared.append((a, b))
        return real_ratio(a, b, **kw)

    monkeypatch.setattr(fuzz, "ratio", ratio)

    beta = kb_root / "beta-notes.md"
    edited = CLAIM.replace("depends less", "depends far less")
    beta.write_text(beta.read_text(encoding="utf-8") + f"\n{edited}\n", encoding="utf-8")
    scanned.clear()
    cached = _findings(kb_root, use_cache=True)
    assert scanned == ["beta-notes.md"]
    # alpha and delta hold the same bytes (never compared); only the pairs with the
    # edited copy in beta are, and as their contents are the same, once for both.
    assert len(compared) == 1
    assert any(rule == "duplicate-claim" and path == "beta-notes.md" for rule, path, *_ in cached)
    monkeypatch.undo()
    assert cached == _findings(kb_root, use_cache=False)


def test_passage_signatures_come_from_the_cache_or_a_new_parse(kb_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Signatures are kept out of the cached notes: fetched by content hash, and parsed again if that entry is gone."""
    (kb_root / "delta.md").write_text(f"# Delta\n\n{CLAIM}\n", encoding="utf-8")
    _same(kb_root)
    parsed = _spy_on_parse(monkeypatch)
    kb = load(kb_root, load_config(kb_root), jobs=1)
    notes = kb.notes
    signatures = kb.passage_signatures(["alpha-notes.md", "delta.md", "README.md"])
    assert not parsed  # every note and signature came from the cache
    assert len(signatures["alpha-notes.md"]) == 512 * len(notes["alpha-notes.md"].passages) > 0
    assert signatures["README.md"] == b""

    kb.cache._db.execute("DELETE FROM derived WHERE kind = 'signatures'")
    again = load(kb_root, load_config(kb_root), jobs=1)
    assert again.passage_signatures(["alpha-notes.md"]) == {"alpha-notes.md": signatures["alpha-notes.md"]}
    assert parsed == ["alpha-notes.md"]
    monkeypatch.undo()
    _same(kb_root)


def test_resolutions_are_reused_until_a_target_changes(kb_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A prose edit resolves only the edited note's links again; a renamed heading resolves them all."""
    from kbmine.resolve import Resolver

    _same(kb_root)
    resolved: list[str] = []
    real = Resolver.resolve
    def resolve(self: Resolver, source: str, link: Any) -> Any:
        resolved.append(source)
        return real(self, source, link)

    monkeypatch.setattr(Resolver, "resolve", resolve)

    def links_resolved() -> set[str]:
        resolved.clear()
        kb = load(kb_root, load_config(kb_root), jobs=1)
        kb.resolutions
        return set(resolved)

    links_resolved()  # the first cached run stores them
    assert links_resolved() == set()
    beta = kb_root / "beta-notes.md"
    beta.write_text(beta.read_text(encoding="utf-8") + "\nMore prose.\n", encoding="utf-8")
    assert links_resolved() == {"beta-notes.md"}
    alpha = kb_root / "alpha-notes.md"
    alpha.write_text(alpha.read_text(encoding="utf-8") + "\n## Nowhere\n", encoding="utf-8")  # gamma's anchor now exists
    assert links_resolved() == {"README.md", "alpha-notes.md", "beta-notes.md", "gamma.md"}
    monkeypatch.undo()
    assert not any(rule == "broken-anchor" for rule, *_ in _same(kb_root))


def test_a_warm_check_imports_neither_the_parser_nor_numpy(kb_root: Path) -> None:
    """A warm run replays the stored report: importing the parser or numpy would cost it more than the rest."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from kbmine.cli import main\n"
        f"sys.argv = ['kbmine', 'check', {str(kb_root)!r}, '--format', 'json', '-o', {str(kb_root.parent / 'report.json')!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('markdown_it', 'numpy', 'networkx', 'ruamel') if m in sys.modules))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)  # cold: fills the cache
    warm = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert warm.stdout.strip().splitlines()[-1] == "[]"


def test_the_light_parse_modules_do_not_import_the_parser() -> None:
    """Reading a note's text or passages (duplicate-claim's child, a run that parses nothing)
    must not bring markdown-it and YAML with it: the parse is imported on first use."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import kbmine.parse.passages, kbmine.parse.text, kbmine.band_index\n"
        "print(sorted(m for m in ('markdown_it', 'yaml', 'kbmine.parse.notes') if m in sys.modules))\n"
        "from kbmine.parse import parse_note\n"
        "print(parse_note('a.md', b'# A\\n').title)\n"
    )
    shown = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout.splitlines()
    assert shown == ["[]", "A"]


def test_a_tiny_source_budget_changes_no_finding(kb_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoded sources are dropped least recently used first; the answer must not depend on it."""
    import kbmine.kb

    (kb_root / "delta.md").write_text(f"# Delta\n\n{CLAIM}\n\nAlpha notes and Beta notes.\n", encoding="utf-8")
    roomy = _findings(kb_root, use_cache=False)
    monkeypatch.setattr(kbmine.kb, "SOURCE_CACHE_BYTES", 1)
    kb = load(kb_root, load_config(kb_root), use_cache=False, jobs=1)
    tight = [(f.rule, f.path, f.span.line, f.span.column, f.message, f.fingerprint) for f in run_checks(kb)]
    assert tight == roomy
    assert len(kb._sources) == 1


def test_a_rename_rescans_only_the_notes_it_can_change(make_kb: MakeKB, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a rename the last run's mention scans are carried over where no new or vanished name can matter."""
    from kbmine.checks import missing_link

    files: dict[str, str | bytes] = {
        f"topic-{i}.md": f"# Topic {i}\n\nThis note talks about the Widget Factory, number {i}.\n" for i in range(12)
    }
    files["widget-factory.md"] = "# Widget Factory\n\nMakes widgets. See [[topic-1]].\n"
    files["misc-notes.md"] = "# Sundry Remarks\n\nOdds and ends. See [[topic-2]].\n"
    files["mentions-new.md"] = "# Mentions\n\nThe sprocket works will open soon.\n"
    root = make_kb(files)
    _same(root)

    scanned: list[tuple[str, int]] = []
    real_mentions = missing_link.MentionMatcher.mentions_in
    def mentions_in(self: missing_link.MentionMatcher, notes: Any, **kw: Any) -> Any:
        scanned.extend((note.path, len(self.keys)) for note, _ in notes)
        return real_mentions(self, notes, **kw)

    monkeypatch.setattr(missing_link.MentionMatcher, "mentions_in", mentions_in)
    # A new file name that one note mentions; the old one nobody did.
    (root / "misc-notes.md").rename(root / "sprocket-works.md")
    cached = _findings(root, use_cache=True)
    monkeypatch.undo()
    assert cached == _findings(root, use_cache=False)
    assert any(rule == "missing-link" and path == "mentions-new.md" for rule, path, *_ in cached)
    everything = max(keys for _, keys in scanned)
    assert {path for path, keys in scanned if keys == everything} == {"mentions-new.md"}
    assert len([path for path, keys in scanned if keys < everything]) == len(files)  # each probed for the new name


OTHER_CLAIM = (
    "A link that names its target by a stable identifier survives renames, while a link that names a path "
    "breaks the moment someone tidies the folders, which is why wikis drift."
)


def _edit(text: str, kind: str) -> str:
    """One edit of a note's text that moves, repeats, changes or removes passages."""
    if kind == "insert above":
        return text.replace("\n\n", "\n\nA new opening line.\n\n", 1)
    if kind == "append":
        return text + "\nOne more short line.\n"
    if kind == "repeat claim":
        return text + f"\n{CLAIM}\n"
    if kind == "other claim":
        return text + f"\n{OTHER_CLAIM}\n"
    if kind == "drop first claim":
        return text.replace(CLAIM, "", 1)
    if kind == "reword claim":
        return text.replace("depends less", "depends much less", 1)
    return text.replace("\n\n", "\n\n\n", 1)  # "blank line": every offset below moves by one byte


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["alpha-notes.md", "beta-notes.md", "delta.md"]),
            st.sampled_from(["insert above", "append", "repeat claim", "other claim", "drop first claim", "reword claim", "blank line"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_duplicate_claims_follow_passages_that_move_repeat_and_go(make_kb: MakeKB, edits: list[tuple[str, str]]) -> None:
    """Passages keep their ids when edits above move them (see kbmine.band_index.passage_ids):
    whatever the edits, a cached run finds what an uncached one does."""
    root = make_kb(
        {
            "alpha-notes.md": f"# Alpha notes\n\n{CLAIM}\n\n{OTHER_CLAIM}\n",
            "beta-notes.md": f"# Beta notes\n\n{CLAIM}\n\n{CLAIM}\n",
            "delta.md": f"# Delta\n\n{OTHER_CLAIM}\n",
        }
    )
    for name in ("alpha-notes.md", "beta-notes.md", "delta.md"):  # a fresh start for each example
        (root / name).write_text((root / name).read_text(encoding="utf-8"), encoding="utf-8")
    _same(root)
    for path, kind in edits:
        note = root / path
        note.write_text(_edit(note.read_text(encoding="utf-8"), kind), encoding="utf-8")
        _same(root)


def test_a_warm_run_decodes_no_note(kb_root: Path) -> None:
    """The cached findings are found by a key made without the notes' parses (contents, mtimes, HEAD)."""
    _same(kb_root)
    kb = load(kb_root, load_config(kb_root), jobs=1)
    assert run_checks(kb) and "notes" not in kb.__dict__


def _operate(root: Path, operation: str, index: int) -> None:
    """One change to the KB of :func:`test_any_sequence_of_changes_gives_the_findings_of_an_uncached_run`."""
    notes = sorted(path for path in root.glob("*.md"))
    note = notes[index % len(notes)]
    other = notes[(index + 1) % len(notes)]
    text = note.read_text(encoding="utf-8")
    if operation == "mention":
        note.write_text(text + f"\nSee {other.stem.replace('-', ' ')} for more.\n", encoding="utf-8")
    elif operation == "link":
        note.write_text(text + f"\n[{other.stem}]({other.name})\n", encoding="utf-8")
    elif operation == "status":
        status = "superseded" if "status: current" in text else "done" if "status: superseded" in text else "current"
        note.write_text(f"---\nstatus: {status}\n---\n" + text.split("---\n", 2)[-1], encoding="utf-8")
    elif operation == "successor":  # prose before a link: in a dead note it names the successor
        note.write_text(text.replace("[", "superseded by [", 1), encoding="utf-8")
    elif operation == "shift":  # everything below moves: the findings of an edited note move with it
        head, _, body = text.rpartition("---\n")
        note.write_text(f"{head}{_}Moved down.\n\n- [ ] open task\n\n{body}", encoding="utf-8")
    elif operation == "claim":
        note.write_text(text + f"\n{CLAIM}\n", encoding="utf-8")
    elif operation == "touch":
        note.write_text(text, encoding="utf-8")
    elif operation == "rename":
        note.rename(note.with_name(f"{note.stem}-x.md"))
    elif operation == "delete" and len(notes) > 2:
        note.unlink()
    else:
        (root / f"new-{index}.md").write_text(f"# New {index}\n\nAbout {other.stem.replace('-', ' ')}.\n", encoding="utf-8")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["mention", "link", "status", "successor", "shift", "claim", "touch", "rename", "delete", "add"]
            ),
            st.integers(0, 9),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_sequence_of_changes_gives_the_findings_of_an_uncached_run(
    tmp_path_factory: pytest.TempPathFactory, changes: list[tuple[str, int]]
) -> None:
    root = tmp_path_factory.mktemp("kb")
    (root / "alpha-notes.md").write_text(f"---\nstatus: current\n---\n# Alpha notes\n\n{CLAIM}\n\n[[beta-notes]]\n", encoding="utf-8")
    (root / "beta-notes.md").write_text("# Beta notes\n\nAlpha notes matter. [Gamma](gamma.md) [gone](gone.md)\n", encoding="utf-8")
    (root / "gamma.md").write_text(f"---\nstatus: superseded\n---\n# Gamma\n\n{CLAIM}\n", encoding="utf-8")
    _same(root)
    for operation, index in changes:
        _operate(root, operation, index)
        _same(root)


def test_an_edited_note_is_parsed_beside_the_decoding_of_the_others(kb_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a small edit of a big KB the edited notes are parsed in a forked child while this
    process decodes the cached ones; the findings are those of an uncached run."""
    import kbmine.kb
    import kbmine.parallel

    _same(kb_root)
    monkeypatch.setattr(kbmine.kb, "PARALLEL_MIN_BYTES", 1)  # every KB is big enough here
    monkeypatch.setattr(kbmine.parallel, "PARALLEL_MIN_BYTES", 1)
    asides: list[bool] = []  # whether each parse aside was forked
    real_aside = kbmine.kb._parse_aside

    def aside(*args: object) -> object:
        made = real_aside(*args)  # type: ignore[arg-type]
        asides.append(made is not None and made.apart)
        return made

    monkeypatch.setattr(kbmine.kb, "_parse_aside", aside)
    parsed_here = _spy_on_parse(monkeypatch)
    beta = kb_root / "beta-notes.md"
    beta.write_text(beta.read_text(encoding="utf-8") + f"\n{CLAIM}\n", encoding="utf-8")
    cached = _findings(kb_root, use_cache=True)
    assert asides == [True]
    assert parsed_here == []  # the child parsed it: what it records stays in the child
    monkeypatch.undo()
    assert cached == _findings(kb_root, use_cache=False)
    assert any(rule == "duplicate-claim" and path == "beta-notes.md" for rule, path, *_ in cached)
