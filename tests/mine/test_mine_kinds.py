"""Each spec kind: a small KB where it must be found, and ones where it must not
(too few notes, too many counterexamples). Redundant candidates are dropped."""

from __future__ import annotations

from minekit import MakeKB, find, mine_files, note


def test_required_key_found_with_its_counterexample(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": note(owner=f"person {i}", title=f"Note {i} of many") for i in range(19)}
    files["n19.md"] = note(title="The odd one")
    mining = mine_files(make_kb(files))
    (spec,) = find(mining, "required_key", key="owner")
    assert str(spec.scope) == "all"
    assert (spec.support, spec.counterexamples) == (20, ("n19.md",))
    assert spec.confidence == 0.95
    assert "`owner`" in spec.statement


def test_required_key_not_found_below_support_or_confidence(make_kb: MakeKB) -> None:
    few = mine_files(make_kb({f"n{i}.md": note(owner=f"person {i}") for i in range(5)}))
    assert not find(few, "required_key", key="owner")
    files = {f"n{i:02}.md": note(owner=f"person {i}") if i % 3 else note(title=f"T{i}") for i in range(30)}
    assert not find(mine_files(make_kb(files)), "required_key", key="owner")


def test_enum_values_found_and_required_key_folded_in(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": note(status="draft" if i % 2 else "current") for i in range(20)}
    files["n20.md"] = note(status="wip")
    mining = mine_files(make_kb(files))
    (spec,) = find(mining, "enum_values", key="status")
    assert spec.parameters["values"] == ("current", "draft")
    assert spec.parameters["required"] is True
    assert spec.counterexamples == ("n20.md",)
    # implied by the required vocabulary: neither proposed separately
    assert not find(mining, "required_key", key="status")
    assert not find(mining, "value_type", key="status")


def test_enum_values_not_found_for_free_text_or_scattered_values(make_kb: MakeKB) -> None:
    free = {f"n{i:02}.md": note(summary=f"about thing {i}") for i in range(20)}
    assert not find(mine_files(make_kb(free)), "enum_values", key="summary")
    scattered = {f"n{i:02}.md": note(status=["a", "b", "c", "d", "e"][i % 5] if i < 12 else f"s{i}") for i in range(20)}
    assert not find(mine_files(make_kb(scattered)), "enum_values", key="status")


def test_value_type_iso_date_found(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": note(created=f"2024-01-{i + 1:02}", title=f"Title {i}") for i in range(15)}
    mining = mine_files(make_kb(files))
    (spec,) = find(mining, "value_type", key="created")
    assert spec.parameters["type"] == "date" and spec.confidence == 1.0


def test_value_type_specific_type_makes_string_redundant(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": note(source=f"https://example.org/{i}") for i in range(15)}
    mining = mine_files(make_kb(files))
    assert [s.parameters["type"] for s in find(mining, "value_type", key="source")] == ["url"]


def test_value_type_not_found_for_mixed_types(make_kb: MakeKB) -> None:
    values = ["2024-01-01", "yesterday", "[a, b]", "3", "true"]
    files = {f"n{i:02}.md": note(created=values[i % 5]) for i in range(20)}
    assert not find(mine_files(make_kb(files)), "value_type", key="created")


def test_folder_implies_value_found(make_kb: MakeKB) -> None:
    files = {f"notes/n{i:02}.md": note(type="note") for i in range(12)}
    files.update({f"ideas/i{i:02}.md": note(type="idea") for i in range(12)})
    files["notes/stray.md"] = note(type="idea")
    mining = mine_files(make_kb(files))
    (spec,) = find(mining, "folder_implies_value", key="type", value="note")
    assert str(spec.scope) == "folder:notes"
    assert spec.counterexamples == ("notes/stray.md",)
    assert find(mining, "folder_implies_value", key="type", value="idea")
    # the folder's one value makes a one-word vocabulary there redundant
    assert not [s for s in find(mining, "enum_values", key="type") if str(s.scope) == "folder:notes"]


def test_folder_implies_value_not_found_for_a_mixed_folder(make_kb: MakeKB) -> None:
    files = {f"notes/n{i:02}.md": note(type="note" if i % 2 else "idea") for i in range(20)}
    assert not find(mine_files(make_kb(files)), "folder_implies_value")


def test_filename_pattern_found_per_folder(make_kb: MakeKB) -> None:
    files = {f"daily/2024-03-{i + 1:02}.md": note() for i in range(12)}
    files.update({f"topics/topic-number-{i}.md": note() for i in range(12)})
    files["topics/README.md"] = note()  # index notes are exempt
    mining = mine_files(make_kb(files))
    patterns = {(str(s.scope), s.parameters["pattern"]) for s in find(mining, "filename_pattern")}
    assert ("folder:daily", "date-prefix") in patterns
    assert ("all", "kebab-case") in patterns
    # a date prefix is a number prefix: the broader pattern is redundant
    assert ("folder:daily", "number-prefix") not in patterns


def test_filename_pattern_not_found_for_mixed_names(make_kb: MakeKB) -> None:
    names = ["Some Title", "another_one", "third-note", "Fourth.Note"]
    files = {f"{names[i % 4]} {i}.md": note() for i in range(20)}
    assert not find(mine_files(make_kb(files)), "filename_pattern")


def test_required_section_found(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": f"# Note {i}\n\nText.\n\n## Relevant Notes\n\n- [[n00]]\n" for i in range(12)}
    files["n12.md"] = "# Note 12\n\nNo closing section.\n"
    mining = mine_files(make_kb(files))
    (spec,) = find(mining, "required_section", heading="Relevant Notes")
    assert spec.counterexamples == ("n12.md",)


def test_required_section_not_found_when_half_the_notes_lack_it(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": f"# Note {i}\n\n" + ("## Relevant Notes\n" if i % 2 else "") for i in range(20)}
    assert not find(mine_files(make_kb(files)), "required_section")


def test_same_statement_in_a_narrower_scope_is_redundant(make_kb: MakeKB) -> None:
    files = {f"a/n{i:02}.md": note(owner=f"ann {i}") for i in range(12)}
    files.update({f"b/n{i:02}.md": note(owner=f"bob {i}") for i in range(12)})
    mining = mine_files(make_kb(files))
    assert [str(s.scope) for s in find(mining, "required_key", key="owner")] == ["all"]


def test_type_values_are_scopes(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": note(type="adr", decision=f"d{i}") for i in range(12)}
    files.update({f"m{i:02}.md": note(type="memo") for i in range(12)})
    mining = mine_files(make_kb(files))
    (spec,) = find(mining, "required_key", key="decision")
    assert str(spec.scope) == "where:type=adr" and spec.support == 12


def test_ranking_prefers_confidence_times_log_support(make_kb: MakeKB) -> None:
    files = {f"n{i:02}.md": note(owner="ann", status="x" if i else "y") for i in range(30)}
    mining = mine_files(make_kb(files))
    scores = [s.score for s in mining.specs]
    assert scores == sorted(scores, reverse=True)
