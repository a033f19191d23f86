"""duplicate-claim places and scores passages without its notes' offset tables, and a one-note change agrees with a cold run.

The rule decodes a passage from its own bytes and builds its span from the
byte offsets it already has; these tests hold both to what the note's
:class:`~kbmine.parse.text.SourceText` says, in notes with a BOM, CRLF line
ends, UTF-16 and wide characters. The stored band table and scores make a
one-note change compare only that note's pairs: its findings must equal a
run without any cache, edit after edit.
"""

from __future__ import annotations

import codecs
import random
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from kbmine import band_index
from kbmine.checks import all_rules, duplicate_claim, run_checks, select_rules
from kbmine.config import load_config
from kbmine.kb import load
from kbmine.model import Span
from kbmine.parse.passages import passage_words

MakeKB = Callable[[Mapping[str, str | bytes]], Path]

CLAIM = (
    "Retrieval quality depends less on the embedding model than on how the notes are cut into passages, "
    "because a passage that mixes two claims is retrieved for neither — and a passage that splits "
    "one claim loses the context that makes it true (naïve chunking, 分块)."
)
OTHER = (
    "A link that points at a heading breaks silently when the heading is renamed, so anchors should be "
    "checked on every commit and the check should say which heading the link most likely meant to reach."
)


def _notes() -> dict[str, str | bytes]:
    return {
        "plain.md": f"# Plain\n\nIntro line.\n\n{CLAIM}\n\n{OTHER}\n",
        "bom.md": codecs.BOM_UTF8 + f"# With BOM\n\nSome words — first.\n\n{CLAIM}\n".encode(),
        "crlf.md": f"# CRLF\r\n\r\nÉlan, ünïcode.\r\n\r\n{CLAIM.replace('less', 'far less')}\r\n\r\n{OTHER}\r\n".encode(),
        "wide.md": f"# 宽\n\n这是一个说明。\n\n- {CLAIM}\n".encode(),
        "utf16.md": codecs.BOM_UTF16_LE + f"# UTF-16\n\n{OTHER.replace('silently', 'quietly')}\n".encode("utf-16-le"),
    }


def _duplicates(root: Path, use_cache: bool) -> list[tuple[str, Span, str, str, object]]:
    kb = load(root, load_config(root), use_cache=use_cache, jobs=1)
    findings = run_checks(kb, select_rules(["duplicate-claim"]))
    return [(f.path, f.span, f.message, f.fingerprint, f.data) for f in findings]


def test_spans_and_words_are_those_of_the_decoded_note(make_kb: MakeKB) -> None:
    root = make_kb(_notes())
    kb = load(root, load_config(root), use_cache=False, jobs=1)
    findings = list(all_rules()["duplicate-claim"].check(kb, {}))
    assert {f.path for f in findings} >= {"bom.md", "crlf.md", "utf16.md"}
    for finding in findings:
        source = kb.source(finding.path)
        assert source is not None
        start, end = source.char_offset(finding.span.start), source.char_offset(finding.span.end)
        assert finding.span == source.span(start, end)
        preview = " ".join(passage_words(source.text[start:end])[:12])
        assert f'"{preview}..."' in finding.message
        for other in finding.data["others"]:
            other_source = kb.source(other["path"])
            assert other_source is not None
            assert other["line"] == other_source.span(other_source.char_offset(other["start_byte"]), 0).line


@pytest.mark.parametrize("drift", [0.01, 1.0])
def test_one_note_changes_give_the_findings_of_a_cold_run(make_kb: MakeKB, monkeypatch: pytest.MonkeyPatch, drift: float) -> None:
    """Edit after edit, cached runs agree with uncached ones, whether the stored band table is
    rewritten each time or kept and brought up to date from the first run's (``drift`` 1.0)."""
    from rapidfuzz import fuzz

    monkeypatch.setattr(duplicate_claim, "_BAND_DRIFT", drift)
    # Notes that repeat nothing: an edit changes a small share of the passages, as in a real
    # KB, so the stored band table is updated rather than rebuilt.
    vocabulary = [f"{stem}{number}" for stem in ("claim", "note", "link", "graph") for number in range(50)]
    fillers = {f"filler/{index}.md": " ".join(random.Random(index).sample(vocabulary, 40)) + "\n" for index in range(80)}
    root = make_kb({**_notes(), **fillers})
    cold = _duplicates(root, use_cache=True)
    assert cold == _duplicates(root, use_cache=False) and cold

    edits: list[tuple[str, str]] = [
        ("plain.md", f"\n{OTHER.replace('breaks', 'fails')}\n"),  # a new copy of a claim
        ("wide.md", "\nOne more short line.\n"),  # no passage changes, the note's id does
        ("bom.md", f"\n{CLAIM.replace('Retrieval', 'Search')}\n"),
    ]
    seen = cold
    real_ratio, real_build = fuzz.ratio, band_index.build
    compared: list[tuple[str, str]] = []
    built: list[int] = []
    for path, appended in edits:
        note = root / path
        note.write_bytes(note.read_bytes() + appended.encode())
        compared.clear()
        built.clear()
        with monkeypatch.context() as patch:
            patch.setattr(fuzz, "ratio", lambda a, b, **kw: compared.append((a, b)) or real_ratio(a, b, **kw))
            patch.setattr(band_index, "build", lambda ids, matrix: built.append(len(ids)) or real_build(ids, matrix))
            changed = _duplicates(root, use_cache=True)
        assert not built  # the stored table was brought up to date, not rebuilt
        # Only pairs with a passage of the edited note are compared again.
        texts = {" ".join(passage_words(block)) for block in note.read_text(encoding="utf-8-sig").split("\n\n")}
        assert all(a in texts or b in texts for a, b in compared)
        assert changed == _duplicates(root, use_cache=False)
        assert changed != seen or path == "wide.md"
        seen = changed

    # An edit far from every duplicate: each finding is last run's, none is placed or worded again.
    made: list[str] = []
    real_finding = duplicate_claim._finding
    (root / "filler/3.md").write_text("A short line now.\n", encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(duplicate_claim, "_finding", lambda facts, passage, others: made.append(passage.path) or real_finding(facts, passage, others))
        assert _duplicates(root, use_cache=True) == seen
    assert made == []

    (root / "crlf.md").unlink()  # a note gone: its pairs leave the stored scores
    assert _duplicates(root, use_cache=True) == _duplicates(root, use_cache=False)
