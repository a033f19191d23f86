"""The specs file: stable, commented, and a person's decisions survive re-mining."""

from __future__ import annotations

import pytest
from minekit import MakeKB, mine_files, note

from kbmine.errors import ConfigError
from kbmine.mine.specfile import accepted_specs, decide, merge, read_entries


def _files(extra: int = 0) -> dict[str, str]:
    files = {f"n{i:02}.md": note(f"# N{i}\n\n## Relevant Notes\n", status="draft" if i % 2 else "current", owner=f"p{i}") for i in range(20)}
    files.update({f"x{i}.md": note(f"# X{i}\n\n## Relevant Notes\n", status="draft", owner=f"q{i}", extra="e") for i in range(extra)})
    return files


def test_round_trip_keeps_decisions_and_comments(make_kb: MakeKB) -> None:
    mining = mine_files(make_kb(_files()))
    text, summary = merge(None, mining)
    assert len(summary.added) == len(mining.specs) >= 3 and not summary.updated
    entries = read_entries(text)
    assert [e.spec.id for e in entries] == sorted(
        (e.spec.id for e in entries), key=lambda i: next((e.spec.kind, str(e.spec.scope), i) for e in entries if e.spec.id == i)
    )
    assert {e.state for e in entries} == {"proposed"}
    by_kind = {e.spec.kind: e.spec.id for e in entries}
    accepted, rejected = by_kind["enum_values"], by_kind["required_section"]
    text = decide(text, [accepted], "accepted")
    text = decide(text, [rejected], "rejected")
    text = text.replace(f"id: {accepted}\n", f"id: {accepted}  # agreed in review\n")
    again, summary = merge(text, mining)
    assert "# agreed in review" in again
    assert summary.decided == 2 and summary.skipped_rejected == 1 and not summary.added
    states = {e.spec.id: e.state for e in read_entries(again)}
    assert states[accepted] == "accepted" and states[rejected] == "rejected"
    assert merge(again, mining)[0] == again, "re-mining an unchanged KB changes nothing"


def test_proposals_no_longer_mined_are_dropped_decisions_stay(make_kb: MakeKB, tmp_path_factory: pytest.TempPathFactory) -> None:
    first = mine_files(make_kb(_files()))
    text, _ = merge(None, first)
    keep = next(e.spec.id for e in read_entries(text) if e.spec.kind == "required_key")
    text = decide(text, [keep], "accepted")
    # a KB where `owner` is missing from most notes: its proposal goes, the decision stays
    files = {f"n{i:02}.md": note(status="draft") for i in range(20)}
    root = tmp_path_factory.mktemp("other")
    for name, content in files.items():
        (root / name).write_text(content, encoding="utf-8")
    text, summary = merge(text, mine_files(root))
    ids = {e.spec.id: e.state for e in read_entries(text)}
    assert ids[keep] == "accepted"
    assert summary.dropped and all(spec_id not in ids for spec_id in summary.dropped)


def test_accepted_specs_and_bad_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert accepted_specs(tmp_path) == []
    (tmp_path / "kbmine.specs.yaml").write_text(
        "specs:\n  - id: '00000001'\n    state: accepted\n    kind: required_key\n    scope: all\n    params: {key: 'no'}\n",
        encoding="utf-8",
    )
    (spec,) = accepted_specs(tmp_path)
    assert spec.id == "00000001" and spec.parameters == {"key": "no"} and "`no`" in spec.statement
    for bad, needle in [
        ("specs:\n  - id: a\n    state: maybe\n    kind: required_key\n", "state"),
        ("specs:\n  - id: a\n    kind: nonsense\n", "unknown kind"),
        ("specs:\n  - id: a\n    kind: value_type\n    params: {key: k, type: colour}\n", "type"),
        ("specs:\n  - id: a\n    kind: required_key\n    scope: galaxy\n    params: {key: k}\n", "scope"),
        ("specs: [\n", "YAML"),
    ]:
        (tmp_path / "kbmine.specs.yaml").write_text(bad, encoding="utf-8")
        with pytest.raises(ConfigError, match=needle):
            accepted_specs(tmp_path)


def test_decide_unknown_id_is_an_error(make_kb: MakeKB) -> None:
    text, _ = merge(None, mine_files(make_kb(_files())))
    with pytest.raises(ConfigError, match="no spec"):
        decide(text, ["nope"], "accepted")


def test_the_fast_reader_reads_what_the_round_trip_reader_reads(make_kb: MakeKB) -> None:
    """check reads specs with the plain loader; it must see the same entries as the editing loader."""
    from kbmine.mine.specfile import _entry, _load

    text, _ = merge(None, mine_files(make_kb(_files(extra=4))))
    text = decide(text, [read_entries(text)[0].spec.id], "accepted") + "# a trailing comment\n"
    editable = [_entry(item, "specs") for item in _load(text, "specs", editable=True)["specs"]]
    assert read_entries(text) == editable and len(editable) >= 3
