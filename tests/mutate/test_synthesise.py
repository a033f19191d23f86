"""kbmine mutate --kind synthesise: a hub note for a dense cluster that nothing gathers yet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kbmine.checks import run_checks
from kbmine.kb import load
from kbmine.mutate.edits import apply_edits
from kbmine.mutate.synthesise import Cluster, _index_entry, propose_hubs, verify_hub
from kbmine.parse.passages import passage_words
from tests.conftest import run_kbmine
from tests.mutate.test_mutate import branch_file, git, make_repo, mutate, user_state

TOPIC = ["retrieval chunking", "retrieval ranking", "retrieval caching", "retrieval evaluation", "retrieval latency"]
OTHER = ["garden soil", "garden watering", "garden pests", "garden tools", "garden seasons"]


def _cluster_files(names: list[str], folder: str) -> dict[str, str]:
    files = {}
    for index, name in enumerate(names):
        others = [n for n in names if n != name]
        links = " ".join(f"[{o.title()}]({o.replace(' ', '-')}.md)" for o in others[:3])
        files[f"{folder}/{name.replace(' ', '-')}.md"] = (
            f"---\ndescription: What {name} means here [[x]].\n---\n# {name.title()}\n\n"
            f"About {name}, number {index}. {links}\n"
        )
    return files


def _repo(tmp_path: Path) -> Path:
    files = {
        "README.md": "# Home\n\n- [Notes](notes/README.md)\n",
        "notes/README.md": "# Notes\n\n- [Garden](garden-soil.md)\n",
        **_cluster_files(TOPIC, "notes"),
        **_cluster_files(OTHER, "notes"),
    }
    # The garden notes already have a hub: an index linking all of them.
    files["notes/garden.md"] = "# Garden\n\n" + "".join(f"- [{n}]({n.replace(' ', '-')}.md)\n" for n in OTHER)
    return make_repo(tmp_path / "repo", files)


def test_hub_for_the_cluster_without_one_linked_from_the_index(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    before = user_state(root)
    run = mutate(root, "--kind", "synthesise")
    assert user_state(root) == before
    [commit] = run["committed"]
    assert commit["action"] == "hub"
    hub_path = next(p for p in commit["paths"] if p != "notes/README.md")
    assert hub_path == "notes/notes-on-retrieval.md"
    hub = branch_file(root, hub_path).decode()
    assert hub.startswith("---\ndescription: Notes on retrieval — 5 closely linked notes, each with its own summary\n---\n")
    for name in TOPIC:
        assert f"]({name.replace(' ', '-')}.md): What {name} means here x." in hub
    assert "garden" not in hub
    assert branch_file(root, "notes/README.md").endswith(b"- [Notes on retrieval](notes-on-retrieval.md)\n")

    git(root, "checkout", "-q", "kbmine/review")
    check = run_kbmine("check", str(root), "--select", "broken-link,orphan-note", "--format", "json", "--no-cache")
    assert [f for f in json.loads(check.stdout)["findings"] if f["path"] == hub_path] == []
    git(root, "checkout", "-q", "main")
    assert mutate(root, "--kind", "synthesise")["proposed"] == 0


def test_a_writer_can_replace_the_text(tmp_path: Path) -> None:
    root = _repo(tmp_path)

    def writer(cluster: Cluster, hub_path: str) -> str:
        return "Custom: " + ", ".join(f"[{m.title}]({m.path.rsplit('/', 1)[-1]})" for m in cluster.members)

    [mutation] = propose_hubs(load(root, use_cache=False), writer)
    ((_, text),) = mutation.new_files
    assert b"Custom: [Retrieval Caching](retrieval-caching.md)" in text


def test_hub_text_follows_the_index_and_reads_well(tmp_path: Path) -> None:
    files = {
        "README.md": "# Home\n\n- [Notes](notes/README.md) — the notes\n- [Extra](extra/README.md) — more notes\n",
        "notes/README.md": "# Notes\n\n- [Garden](garden-soil.md) — where the garden notes start\n",
        "extra/README.md": "# Extra retrieval notes\n\n- [Home](../README.md) — back\n",
        **_cluster_files(TOPIC[:4], "notes"),
        "extra/retrieval-budget.md": (
            "# Retrieval Budget\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nDated 2024.\n\n"
            "The budget caps how much **retrieval** may cost. More [here](../notes/retrieval-chunking.md).\n"
            "[Ranking](../notes/retrieval-ranking.md) [Caching](../notes/retrieval-caching.md)\n"
        ),
    }
    files["notes/retrieval-chunking.md"] += "[Budget](../extra/retrieval-budget.md)\n"
    files["notes/retrieval-ranking.md"] += "[Budget](../extra/retrieval-budget.md)\n"
    [mutation] = propose_hubs(load(make_repo(tmp_path / "repo", files), use_cache=False))
    ((hub_path, data),) = mutation.new_files
    assert hub_path == "notes/notes-on-retrieval.md"
    hub = data.decode()
    # The hub's own folder first, other folders named by their index; entries use the index's " — ".
    assert hub.index("- [Retrieval Caching](retrieval-caching.md) — What retrieval caching means here x.") < hub.index(
        "## Extra retrieval notes"
    )
    # A table and a three-word line are not a summary; links and emphasis become plain text.
    assert "- [Retrieval Budget](../extra/retrieval-budget.md) — The budget caps how much retrieval may cost." in hub
    [edit] = mutation.edits
    assert edit.path == "notes/README.md" and edit.new == b"- [Notes on retrieval](notes-on-retrieval.md)\n"


def test_names_with_spaces_are_percent_encoded_and_the_hub_verifies(tmp_path: Path) -> None:
    names = [f"retrieval {word}" for word in ("chunking", "ranking", "caching", "latency", "budget", "scoring", "storage")]
    files = {"my notes/README.md": "# My notes\n"}
    for index, name in enumerate(names):
        links = " ".join(f"[{o}](<{o}.md>)" for o in (names * 2)[index + 1 : index + 4])
        files[f"my notes/{name}.md"] = f"# {name.title()}\n\nAll about {name} and its neighbours. {links}\n"
    kb = load(make_repo(tmp_path / "repo", files), use_cache=False)
    [mutation] = propose_hubs(kb)
    ((hub_path, data),) = mutation.new_files
    # The folder names its notes in lowercase words with spaces; so is the hub.
    assert hub_path == "my notes/notes on retrieval.md"
    assert "- [Retrieval Caching](retrieval%20caching.md): All about retrieval caching and its neighbours.\n" in data.decode()
    assert verify_hub(kb, mutation, {"my notes/README.md": kb.read_bytes("my notes/README.md")}) is None
    [edit] = mutation.edits
    assert edit.new == b"- [Notes on retrieval](notes%20on%20retrieval.md)\n"


def test_the_index_lists_the_hub_next_to_the_topic_it_already_lists(tmp_path: Path) -> None:
    index = "# Home\r\n\r\n- [Soil](soil.md)\r\n  - [Water](water.md) — how often\r\n\r\nA closing paragraph.\r\n"
    kb = load(make_repo(tmp_path / "repo", {"index.md": index, "soil.md": "# Soil\n", "water.md": "# Water\n"}))
    edit = _index_entry(kb, "index.md", {"water.md"}, "- [Hub](hub.md)", "hub.md")
    assert apply_edits(kb.read_bytes("index.md"), [edit]) == (
        b"# Home\r\n\r\n- [Soil](soil.md)\r\n  - [Water](water.md) \xe2\x80\x94 how often\r\n  - [Hub](hub.md)\r\n"
        b"\r\nA closing paragraph.\r\n"
    )
    # No list item links the topic: the entry goes at the end.
    edit = _index_entry(kb, "index.md", {"other.md"}, "- [Hub](hub.md)", "hub.md")
    assert apply_edits(kb.read_bytes("index.md"), [edit]).endswith(b"paragraph.\r\n- [Hub](hub.md)\r\n")


def test_the_hub_title_names_what_sets_the_cluster_apart(tmp_path: Path) -> None:
    # Every title in this KB starts with the label "Ingest:": what kind of note, not what about.
    files = {
        "README.md": "# Home\n\n- [Notes](notes/README.md)\n",
        "notes/README.md": "# Notes\n",
        **_cluster_files([f"ingest {n}" for n in TOPIC], "notes"),
        **_cluster_files([f"ingest {n}" for n in OTHER], "notes"),
    }
    files = {path: text.replace("\n# Ingest ", "\n# Ingest: ") for path, text in files.items()}
    # Enough other notes that "ingest" is not common KB-wide: rarity alone would keep it in the title.
    files.update({f"notes/paper-{i}.md": f"# Paper {i}\n" for i in range(30)})
    titles = sorted(Path(path).name for m in propose_hubs(load(make_repo(tmp_path / "repo", files))) for path, _ in m.new_files)
    assert titles == ["notes-on-garden.md", "notes-on-retrieval.md"]


def test_communities_are_the_same_whatever_the_hash_seed() -> None:
    # networkx's Louvain iterates over sets of nodes (a subgraph on a set of paths, too); with
    # path strings their order followed PYTHONHASHSEED, and a big community split into topics
    # differently from run to run (on commonplace: 51 or 52 hubs, some with other members).
    script = """
import random, networkx as nx
from kbmine.mutate.synthesise import _louvain
rng = random.Random(5)
names = [f"n/{i:03d}-{'x' * (i % 7)}.md" for i in range(400)]
graph = nx.Graph()
graph.add_nodes_from(names)
for i, name in enumerate(names):
    for _ in range(3):
        j = (i + rng.randrange(-15, 15)) % 400 if rng.random() < 0.8 else rng.randrange(400)
        graph.add_edge(name, names[j])
big = max(_louvain(graph, graph.nodes), key=len)
print(sorted(sorted(part) for part in _louvain(graph, set(big))))
"""
    runs = {
        subprocess.run(
            [sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(runs) == 1 and runs.pop().count("n/") > 40


def test_a_hub_among_adrs_is_not_an_adr(tmp_path: Path) -> None:
    adrs = {p: t.replace("---\n", "---\ntype: adr\nstatus: accepted\n", 1) for p, t in _cluster_files(TOPIC, "adr").items()}
    files = {
        "README.md": "# Home\n\n- [ADRs](adr/README.md)\n",
        "adr/README.md": "# Decisions\n",
        **adrs,
        **{p: t.replace("---\n", "---\ntype: note\n", 1) for p, t in _cluster_files(OTHER, "notes").items()},
        "notes/garden.md": "# Garden\n\n" + "".join(f"- [{n}]({n.replace(' ', '-')}.md)\n" for n in OTHER),
    }
    [mutation] = propose_hubs(load(make_repo(tmp_path / "repo", files), use_cache=False))
    ((_, data),) = mutation.new_files
    # Both folders agree on a description, each on its own type: only the description is a KB convention.
    assert data.decode().startswith("---\ndescription: Notes on retrieval — 5 closely linked notes, each with its own summary\n---\n")


def test_dead_members_are_not_listed_and_entries_stay_shorter_than_a_passage(tmp_path: Path) -> None:
    files = dict(_cluster_files(TOPIC, "notes"))
    files["notes/retrieval-caching.md"] = files["notes/retrieval-caching.md"].replace("---\n", "---\nstatus: superseded\n", 1)
    long = " ".join(f"word{i}" for i in range(40))
    files["notes/retrieval-ranking.md"] = files["notes/retrieval-ranking.md"].replace(
        "description: What retrieval ranking means here [[x]].", f"description: {long}"
    )
    files.update({"README.md": "# Home\n\n- [Notes](notes/README.md)\n", "notes/README.md": "# Notes\n"})
    [mutation] = propose_hubs(load(make_repo(tmp_path / "repo", files), use_cache=False))
    hub = mutation.new_files[0][1].decode()
    assert "retrieval-caching.md" not in hub and "4 closely linked notes" in hub
    # 25-word passages are compared: the title (2 words) and the summary stay under that.
    shortened = " ".join(f"word{i}" for i in range(21)) + " ..."
    assert f"- [Retrieval Ranking](retrieval-ranking.md): {shortened}\n" in hub


def test_with_no_index_the_most_linked_member_links_the_hub(tmp_path: Path) -> None:
    # No README or index anywhere: the hub must still not be an orphan.
    files = _cluster_files(TOPIC, "notes")
    # "retrieval caching" is linked by every other member: the topic's way in.
    files["notes/retrieval-latency.md"] += "[[retrieval-caching]]\n"
    files["notes/retrieval-evaluation.md"] += "[[retrieval-caching]]\n"
    kb = load(make_repo(tmp_path / "repo", files), use_cache=False)
    [mutation] = propose_hubs(kb)
    ((hub_path, _),) = mutation.new_files
    [edit] = mutation.edits
    assert edit.path == "notes/retrieval-caching.md" and edit.start == edit.end == len(kb.read_bytes(edit.path))
    # The member writes markdown links, so the hub's link is one.
    # Every title here says "retrieval": the hub is named after what sets members apart.
    assert hub_path == "notes/notes-on-caching-and-chunking.md"
    assert edit.new == b"\nSee also [Notes on caching and chunking](notes-on-caching-and-chunking.md), a map of the notes on this topic.\n"
    assert "linked from notes/retrieval-caching.md, the member most linked within the cluster" in mutation.body
    assert verify_hub(kb, mutation, {edit.path: kb.read_bytes(edit.path)}) is None


def test_a_hub_title_other_notes_write_is_not_proposed(tmp_path: Path) -> None:
    files = {"README.md": "# Home\n\n- [Notes](notes/README.md)\n", "notes/README.md": "# Notes\n", **_cluster_files(TOPIC, "notes")}
    [mutation] = propose_hubs(load(make_repo(tmp_path / "alone", files), use_cache=False))
    assert mutation.new_files[0][0] == "notes/notes-on-retrieval.md"
    # A note outside the cluster already writes the phrase the hub would be titled.
    files["elsewhere.md"] = "# Elsewhere\n\nWe keep our notes on retrieval short. [Home](README.md)\n"
    assert propose_hubs(load(make_repo(tmp_path / "repo", files), use_cache=False)) == []


def test_a_member_whose_name_one_more_link_would_wake_is_left_out(tmp_path: Path) -> None:
    from kbmine.checks import run_checks

    member = "notes/retrieval-latency.md"
    files = {"README.md": "# Home\n\n- [Notes](notes/README.md)\n", "notes/README.md": "# Notes\n", **_cluster_files(TOPIC, "notes")}
    # Notes that link it from their frontmatter: the rule counts them, the graph of topics does not.
    fan = "---\nrelated: '[[retrieval-latency]]'\n---\n# Fan {}\n"
    files.update({f"fans/fan-{i}.md": fan.format(i) for i in range(5)})
    kb = load(make_repo(tmp_path / "probe", files), use_cache=False)
    linking = {note.path for note, _, r in kb.links() if r.path == member}
    # Written unlinked in just more notes than twice those linking it: missing-link calls it a common word...
    files.update({f"talk/talk-{i}.md": f"# Talk {i}\n\nWe measured retrieval latency today.\n" for i in range(2 * len(linking) + 2)})
    kb = load(make_repo(tmp_path / "repo", files), use_cache=False)
    assert not [f for f in run_checks(kb) if f.rule == "missing-link" and f.data["target"] == member]
    # ...until one more note links it: then every one of those notes reports it.
    files["fans/one-more.md"] = fan.format("one more")
    woken = load(make_repo(tmp_path / "woken", files), use_cache=False)
    assert len([f for f in run_checks(woken) if f.rule == "missing-link" and f.data["target"] == member]) == 2 * len(linking) + 2
    # So the hub, which would be that one more link, does not list it.
    [mutation] = propose_hubs(kb)
    ((_, data),) = mutation.new_files
    assert b"retrieval-latency.md" not in data and b"retrieval-caching.md" in data


def test_entries_count_words_as_duplicate_claim_does(tmp_path: Path) -> None:
    # "self-improving" is two words to duplicate-claim: an entry counted by spaces reached 25 words.
    files = dict(_cluster_files(TOPIC, "notes"))
    hyphenated = " ".join(f"w{i}-x{i}" for i in range(20))
    files["notes/retrieval-ranking.md"] = files["notes/retrieval-ranking.md"].replace(
        "description: What retrieval ranking means here [[x]].", f"description: {hyphenated}"
    ).replace("# Retrieval Ranking", "# Self-improving retrieval-ranking")
    files.update({"README.md": "# Home\n\n- [Notes](notes/README.md)\n", "notes/README.md": "# Notes\n"})
    kb = load(make_repo(tmp_path / "repo", files), use_cache=False)
    [mutation] = propose_hubs(kb)
    hub = mutation.new_files[0][1].decode()
    [entry] = [line for line in hub.splitlines() if "retrieval-ranking.md" in line]
    assert entry.endswith(" ...")
    assert len(passage_words(entry)) < kb.config.passage_min_words
    assert verify_hub(kb, mutation, {p: kb.read_bytes(p) for p in {e.path for e in mutation.edits}}) is None


def test_a_hub_holding_a_passage_as_long_as_a_claim_is_refused(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    kb = load(root, use_cache=False)

    def writer(cluster: Cluster, hub_path: str) -> str:
        links = ", ".join(f"[{m.title}]({m.path.rsplit('/', 1)[-1]})" for m in cluster.members)
        return f"{links}.\n\n" + " ".join(f"word{i}" for i in range(30)) + "\n"

    [mutation] = propose_hubs(kb, writer)
    before = {p: kb.read_bytes(p) for p in {e.path for e in mutation.edits}}
    assert verify_hub(kb, mutation, before) == "the hub would hold a passage of 25 words or more"


def test_a_summary_links_a_name_missing_link_reports(tmp_path: Path) -> None:
    # A frontmatter description is never scanned for mentions; listed in the hub, its "vector store"
    # is one, as it is in garden-soil.md, where the rule reports it.
    files = dict(_cluster_files(TOPIC, "notes"))
    files["notes/retrieval-ranking.md"] = files["notes/retrieval-ranking.md"].replace(
        "description: What retrieval ranking means here [[x]].", "description: How a vector store orders what it finds."
    )
    files.update({
        "README.md": "# Home\n\n- [Notes](notes/README.md)\n",
        "notes/README.md": "# Notes\n\n- [Store](vector-store.md)\n- [Soil](garden-soil.md)\n",
        "notes/vector-store.md": "# Vector store\n\nKeeps embeddings.\n",
        "notes/garden-soil.md": "# Garden soil\n\nNot a vector store.\n",
    })
    kb = load(make_repo(tmp_path / "repo", files), use_cache=False)
    findings = run_checks(kb)
    assert any(f.rule == "missing-link" and f.data["target"] == "notes/vector-store.md" for f in findings)
    [mutation] = propose_hubs(kb)
    hub = mutation.new_files[0][1].decode()
    assert "): How a [vector store](vector-store.md) orders what it finds." in hub


def test_a_member_whose_name_one_more_link_makes_a_mention_in_another_case_is_left_out(tmp_path: Path) -> None:
    # "hindsight" is the note "Hindsight" written in another case: a mention only while no more notes
    # write it so than twice the notes linking it (four members do). Nine notes write it: one more
    # link (the hub's) and "in hindsight" would be linked to the note in each of them.
    names = ["hindsight", *TOPIC[:4]]
    files = {"README.md": "# Home\n\n- [Notes](notes/README.md)\n", "notes/README.md": "# Notes\n", **_cluster_files(names, "notes")}
    files.update({f"talk/talk-{i}.md": f"# Talk {i}\n\nIn hindsight the plan {i} was wrong.\n" for i in range(9)})
    kb = load(make_repo(tmp_path / "repo", files), use_cache=False)
    assert not [f for f in run_checks(kb) if f.rule == "missing-link" and f.data["target"] == "notes/hindsight.md"]
    files["notes/one-more.md"] = "# One more\n\n[[hindsight]]\n"
    woken = load(make_repo(tmp_path / "woken", files), use_cache=False)
    assert len([f for f in run_checks(woken) if f.rule == "missing-link" and f.data["target"] == "notes/hindsight.md"]) == 9
    [mutation] = propose_hubs(kb)
    ((_, data),) = mutation.new_files
    assert b"hindsight.md" not in data and b"retrieval-caching.md" in data
