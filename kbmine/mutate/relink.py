"""relink: turn findings about links into the edits that fix them.

Five repairs, in order of confidence:

- ``link-mention``: a ``missing-link`` mention becomes a link in the note's
  own style (the rule already computed the edit);
- ``follow-rename``: a ``broken-link`` whose target was renamed in git
  history (chains of renames followed) points at the note's current path,
  keeping the link's form, anchor and label;
- ``successor``: a live note's link to a superseded note (``stale-status``)
  points at the successor the dead note names;
- ``anchor``: a ``broken-anchor`` whose heading was reworded points at the
  one heading that is clearly the same;
- ``fuzzy``: a broken link with one clearly closest note name, as a last
  resort, marked lower confidence. With two close candidates nothing is
  proposed: kbmine never guesses.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, unquote

from kbmine.model import Edit, Finding, Link, Note, relative_path, spellable
from kbmine.mutate.model import Expectation, Mutation

if TYPE_CHECKING:
    from kbmine.kb import KB

__all__ = ["propose_relinks"]

#: rapidfuzz scores (0-100) for the last-resort repairs: the best must reach
#: ``_FUZZY_BEST`` and beat the runner-up by ``_FUZZY_MARGIN``.
_FUZZY_BEST = 90.0
_FUZZY_MARGIN = 10.0
_NOTE_EXTENSIONS = (".md", ".markdown")
#: How a markdown link reached its note: relative to the linking note, from the vault root, by unique file name.
_Reach = Literal["relative", "root", "name"]
#: A reference definition line, ``[label]: destination``, as Foam generates them.
_DEFINITION_LINE = re.compile(r"^ {0,3}\[([^\]\n]+)\]:[ \t]*(<[^>\n]*>|\S+)", re.MULTILINE)


def propose_relinks(kb: KB, findings: Iterable[Finding], renames: Mapping[str, str]) -> list[Mutation]:
    """The relink mutations for ``findings`` (KB-relative ``renames``: old path → current path)."""
    findings = list(findings)
    links = {(path, link.span.start): link for path, note in kb.notes.items() for link in note.links}
    by_old_name = _renamed_names(renames)
    successors = {
        str(f.data.get("target")): str(f.data["successor"])
        for f in findings
        if f.rule == "stale-status" and f.data.get("kind") == "links-to-dead" and isinstance(f.data.get("successor"), str)
    }
    mutations: list[Mutation] = []
    for finding in findings:
        link = links.get((finding.path, finding.span.start))
        mutation: Mutation | None = None
        if finding.rule == "missing-link":
            mutation = _link_mention(kb, finding)
        elif link is None:
            continue
        elif finding.rule == "broken-link":
            mutation = _follow_rename(kb, finding, link, renames, by_old_name) or _fuzzy(kb, finding, link)
        elif finding.rule == "stale-status" and finding.data.get("kind") == "links-to-dead":
            mutation = _successor(kb, finding, link, successors)
        elif finding.rule == "broken-anchor":
            mutation = _anchor(kb, finding, link)
        if mutation is not None:
            mutations.append(mutation)
    return mutations


# -- the five repairs ------------------------------------------------------------


def _link_mention(kb: KB, finding: Finding) -> Mutation | None:
    target = str(finding.data.get("target", ""))
    if not finding.edits or target not in kb.notes:
        return None
    mention = str(finding.data.get("mention", ""))
    return Mutation(
        "relink",
        "link-mention",
        finding.rule,
        finding.fingerprint,
        finding.edits,
        Expectation(finding.path, target, None, added=True),
        f"relink: link {mention!r} to {target} in {finding.path}",
        f"{finding.path}:{finding.span.line} mentions {mention!r}, the "
        f"{'title' if mention.lower() == kb.notes[target].title.lower() else 'name'} of {target}, "
        f"without linking it ({finding.code} {finding.rule}). The first mention becomes "
        f"{finding.data.get('suggestion')}; the visible text is unchanged.",
    )


def _follow_rename(
    kb: KB, finding: Finding, link: Link, renames: Mapping[str, str], by_old_name: Mapping[str, set[str]]
) -> Mutation | None:
    renamed = _renamed_target(kb, finding, link, renames, by_old_name)
    if renamed is None:
        return None
    new, reach = renamed
    edits = _retarget(kb, finding.path, link, new, reach)
    if edits is None:
        return None
    return Mutation(
        "relink",
        "follow-rename",
        finding.rule,
        finding.fingerprint,
        edits,
        Expectation(finding.path, new, link.anchor, added=False),
        f"relink: follow the rename of {link.target} to {new} in {finding.path}",
        f"{finding.path}:{finding.span.line} links {link.raw!r}, which is broken ({finding.code} "
        f"{finding.rule}). Git history shows the note was renamed to {new}; the link now points "
        f"there, keeping its form, label and anchor.",
    )


def _successor(kb: KB, finding: Finding, link: Link, successors: Mapping[str, str]) -> Mutation | None:
    """Point the link at the dead note's successor, following a chain of dead successors to its live end.

    ``successors`` maps dead notes to the successor they name (as far as the
    findings show); a successor that is dead too and names none is left to
    verification, which refuses to trade one dead target for another.
    """
    successor = finding.data.get("successor")
    dead = str(finding.data.get("target", ""))
    if not isinstance(successor, str):
        return None
    chain = [dead]
    while successor in successors and successor not in chain:
        chain.append(successor)
        successor = successors[successor]
    if successor not in kb.notes or successor == finding.path or successor in chain:
        return None
    edits = _retarget(kb, finding.path, link, successor)
    if edits is None:
        return None
    return Mutation(
        "relink",
        "successor",
        finding.rule,
        finding.fingerprint,
        edits,
        Expectation(finding.path, successor, None if link.anchor is None else link.anchor, added=False),
        f"relink: point {finding.path} at {successor}, the successor of {dead}",
        f"{finding.path} is live but links to {dead}, which is {finding.data.get('status')!r} "
        f"({finding.code} {finding.rule}); "
        + (
            f"{dead} names {successor} as its successor"
            if len(chain) == 1
            else f"its successors run {' -> '.join([*chain[1:], successor])}, the last one live"
        )
        + ", so the link now points there.",
    )


def _anchor(kb: KB, finding: Finding, link: Link) -> Mutation | None:
    resolved = finding.data.get("resolved")
    note = kb.notes.get(str(resolved)) if resolved else None
    if note is None or not link.anchor or link.anchor.startswith("^") or "#" in link.anchor:
        return None
    wikilink = link.kind == "wikilink"
    choices = list(dict.fromkeys(h.text if wikilink else h.slug for h in note.headings))
    new_anchor = _single_best(link.anchor, choices)
    if new_anchor is None:
        return None
    source = kb.source(finding.path)
    if source is None or link.target_span is None:
        return None
    old = link.anchor.encode(source.encoding)
    if wikilink:
        start = link.target_span.end + len("#".encode(source.encoding))
    else:
        written = kb.read_bytes(finding.path)[link.target_span.start : link.target_span.end]
        hash_at = written.find(b"#")
        if hash_at < 0:
            return None
        start = link.target_span.start + hash_at + 1
        old = written[hash_at + 1 :].rstrip(b">")
    end = start + len(old)
    if kb.read_bytes(finding.path)[start:end] != old or old.decode(source.encoding, "replace") != link.anchor:
        return None  # written percent-encoded or otherwise not as parsed: leave it to a person
    edit = Edit(finding.path, start, end, old, new_anchor.encode(source.encoding), "repair the anchor")
    return Mutation(
        "relink",
        "anchor",
        finding.rule,
        finding.fingerprint,
        (edit,),
        Expectation(finding.path, note.path, new_anchor, added=False),
        f"relink: anchor #{link.anchor} -> #{new_anchor} in {finding.path}",
        f"{finding.path}:{finding.span.line} links {link.raw!r}, but {note.path} has no heading "
        f"{link.anchor!r} ({finding.code} {finding.rule}). Its one heading that reads nearly the "
        f"same is {new_anchor!r}; the link now points there.",
    )


def _fuzzy(kb: KB, finding: Finding, link: Link) -> Mutation | None:
    """The last resort: a unique note with the same name elsewhere, or one clear near-name in the same folder.

    Near-names are only looked for in the folder the link points into (a
    typo or a small rename there), never across the KB, where a copy such as
    ``x.snapshot.md`` or an unrelated ``Agent-S.md`` for ``AGENTS.md`` would
    be a wrong guess.
    """
    name = link.target.rsplit("/", 1)[-1]
    if "." in name and not name.lower().endswith(_NOTE_EXTENSIONS):
        return None  # an image or other file: a near name is more likely a different file
    wanted = _stem(link.target)
    if len(wanted) < 4:
        return None
    if link.kind == "wikilink":
        folder = None
    else:
        looked_for = str(finding.data.get("resolved") or "")
        if not looked_for or looked_for.startswith("../"):
            return None
        folder = posixpath.dirname(looked_for)
    same_name = [path for path in kb.notes if _stem(path) == wanted]
    if len(same_name) == 1:
        new = same_name[0]
    else:
        if same_name:
            return None  # several notes carry that name: never guess
        stems: dict[str, list[str]] = defaultdict(list)
        for path in kb.notes:
            if folder is None or posixpath.dirname(path) == folder:
                stems[_stem(path)].append(path)
        best = _single_best(wanted, list(stems))
        if best is None or len(stems[best]) != 1:
            return None
        (new,) = stems[best]
    edits = _retarget(kb, finding.path, link, new)
    if edits is None:
        return None
    return Mutation(
        "relink",
        "fuzzy",
        finding.rule,
        finding.fingerprint,
        edits,
        Expectation(finding.path, new, link.anchor, added=False),
        f"relink: repair the broken link to {link.target} with {new} in {finding.path} (fuzzy match: check it)",
        f"{finding.path}:{finding.span.line} links {link.raw!r}, which is broken ({finding.code} "
        f"{finding.rule}), and git history records no rename for it. {new} is the one note whose "
        f"name is the same or clearly the closest; lower confidence: read the target before accepting.",
        confidence="low",
    )


# -- helpers ---------------------------------------------------------------------


def _single_best(wanted: str, choices: list[str]) -> str | None:
    """The one choice clearly closest to ``wanted``, or ``None`` when there is no clear winner."""
    from rapidfuzz import fuzz, process

    ranked = process.extract(wanted, choices, scorer=fuzz.ratio, limit=2)
    if not ranked or ranked[0][1] < _FUZZY_BEST:
        return None
    if len(ranked) > 1 and ranked[1][1] > ranked[0][1] - _FUZZY_MARGIN:
        return None
    return str(ranked[0][0])


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    for extension in _NOTE_EXTENSIONS:
        if name.lower().endswith(extension):
            name = name[: -len(extension)]
    return name.lower().replace("_", "-").replace(" ", "-")


def _renamed_names(renames: Mapping[str, str]) -> dict[str, set[str]]:
    """Old note names as a wikilink writes them (stem, or path without extension) → current paths."""
    names: dict[str, set[str]] = defaultdict(set)
    for old, new in renames.items():
        if not old.lower().endswith(_NOTE_EXTENSIONS):
            continue
        noext = old.rsplit(".", 1)[0].casefold()
        parts = noext.split("/")
        for index in range(len(parts)):
            names["/".join(parts[index:])].add(new)
    return names


def _renamed_target(
    kb: KB, finding: Finding, link: Link, renames: Mapping[str, str], by_old_name: Mapping[str, set[str]]
) -> tuple[str, _Reach] | None:
    """The current path of the note (or file) the broken link named before it was renamed, and how it reached it.

    A markdown link is read as the resolver reads it: relative to the note;
    then, in the obsidian dialect, from the vault root and by unique file
    name. The first reading that names a renamed path wins, and the repair
    is written the same way.
    """
    if link.kind == "wikilink":
        return _single_existing(kb, by_old_name.get(link.target.removesuffix(".md").casefold(), set()), "relative")
    readings: list[tuple[_Reach, set[str]]] = []
    looked_for = str(finding.data.get("resolved") or "")
    readings.append(("relative", _renamed_as(looked_for, renames)))
    target = link.target
    if kb.config.dialect == "obsidian" and target and not target.startswith(("/", "./", "../")):
        readings.append(("root", _renamed_as(posixpath.normpath(target), renames)))
        if "/" not in target.rstrip("/"):
            name = target.casefold()
            readings.append(
                ("name", {new for old, new in renames.items() if old.rsplit("/", 1)[-1].casefold() in (name, name + ".md")})
            )
    for reach, candidates in readings:
        if candidates:
            return _single_existing(kb, candidates, reach)
    return None


def _renamed_as(path: str, renames: Mapping[str, str]) -> set[str]:
    """Where ``path`` (as a link names it: ``.md`` may be left out) was renamed to."""
    return {renames[c] for c in (path, path + ".md", path + ".markdown") if c in renames}


def _single_existing(kb: KB, candidates: set[str], reach: _Reach) -> tuple[str, _Reach] | None:
    existing = {path for path in candidates if path in kb.notes or path in kb.resolver.files}
    return (next(iter(existing)), reach) if len(existing) == 1 else None


def _retarget(kb: KB, path: str, link: Link, new: str, reach: _Reach = "relative") -> tuple[Edit, ...] | None:
    """The edits that point ``link`` (in note ``path``) at ``new``, keeping everything else as written.

    ``reach`` says how a markdown link is written: relative to the note, from
    the vault root, or as a bare file name (kept only while the name stays
    unique). A wikilink's Foam-generated reference definition moves with it
    (see :func:`_foam_definition_edit`).
    """
    source = kb.source(path)
    if source is None or link.target_span is None:
        return None
    data = kb.read_bytes(path)
    start, end = link.target_span.start, link.target_span.end
    old = data[start:end]
    written = old.decode(source.encoding, "replace")
    if link.kind == "wikilink":
        replacement = _wikilink_target(kb, link, new)
    elif link.kind in ("markdown", "reference"):
        if reach == "name" and _same_name_count(kb, new) != 1:
            reach = "relative"
        replacement = _markdown_destination(kb.notes[path], written, link.target, new, reach)
    else:
        return None
    if replacement is None or replacement == written:
        return None
    edit = Edit(path, start, end, old, replacement.encode(source.encoding), f"point the link at {new}")
    if link.kind != "wikilink":
        return (edit,)
    definition = _foam_definition_edit(kb, path, link, written, replacement, new)
    return (edit,) if definition is None else (edit, definition)


def _foam_definition_edit(kb: KB, path: str, link: Link, written: str, replacement: str, new: str) -> Edit | None:
    """Foam's reference definition for a retargeted wikilink, regenerated for its new target.

    Foam writes ``[name]: path.md "Title"`` at the end of a note for each
    ``[[name]]``, and the parser reads that definition as part of the
    wikilink rather than as a link of its own. Left alone after the wikilink
    is retargeted it would surface as a second, broken link; so it gets the
    new name and destination, as Foam would write it. With several wikilinks
    of that name in the note, the fix of the last one moves it: until then
    the others still use it.
    """
    note = kb.notes[path]
    source = kb.source(path)
    if source is None or link.target_span is None:
        return None
    inner = link.raw.lstrip("!")[2:-2]
    names = {link.target.casefold(), inner.casefold()}
    for other in note.links:
        if (
            other.kind == "wikilink"
            and other.span.start > link.span.start
            and {other.target.casefold(), other.raw.lstrip("!")[2:-2].casefold()} & names
        ):
            return None
    found = [
        match
        for match in _DEFINITION_LINE.finditer(source.text)
        if " ".join(match.group(1).split()).casefold() in names
        and not any(a <= source.byte_offset(match.start()) < b for a, b in note.code_ranges)
    ]
    if len(found) != 1:
        return None
    (match,) = found
    label = match.group(1)
    destination = match.group(2)
    target = unquote(destination[1:-1] if destination.startswith("<") else destination).partition("#")[0]
    new_destination = _markdown_destination(note, destination, target, new)
    if new_destination is None:
        return None
    if " ".join(label.split()).casefold() == link.target.casefold():
        new_label = replacement
    else:
        new_label = inner.replace(written, replacement, 1)
    start, end = source.byte_offset(match.start(1)), source.byte_offset(match.end(2))
    text = new_label + source.text[match.end(1) : match.start(2)] + new_destination
    data = kb.read_bytes(path)
    return Edit(path, start, end, data[start:end], text.encode(source.encoding), f"move the wikilink's definition to {new}")


def _wikilink_target(kb: KB, link: Link, new: str) -> str | None:
    if new not in kb.notes:
        return new  # a file: wikilinks to files are written with their path
    name = kb.resolver.wikilink_name(new)
    if "/" in link.target and "/" not in name:
        name = new.rsplit(".", 1)[0]  # the link was written as a path: keep it a path
    if link.target.lower().endswith(".md"):
        name += ".md"
    return name


def _writes_dot_slash(note: Note) -> bool:
    """Whether the note writes most links into its own folder as ``./x.md`` rather than ``x.md``.

    A link that climbed out (``../old/x.md``) and now points down says
    nothing about that habit; the note's other links do.
    """
    down = [
        link.target
        for link in note.links
        if link.kind in ("markdown", "reference") and not link.external and link.target
        and not link.target.startswith(("../", "/"))
    ]
    return 2 * sum(1 for target in down if target.startswith("./")) > len(down)


def _same_name_count(kb: KB, path: str) -> int:
    name = path.rsplit("/", 1)[-1].casefold()
    return sum(1 for other in (*kb.notes, *kb.resolver.files) if other.rsplit("/", 1)[-1].casefold() == name)


def _markdown_destination(note: Note, written: str, target: str, new: str, reach: _Reach = "relative") -> str | None:
    """``written`` (a link destination whose path reads ``target``) pointing at ``new``: same style, anchor and brackets."""
    angle = written.startswith("<") and written.endswith(">")
    inner = written[1:-1] if angle else written
    path_part, hash_sign, anchor = inner.partition("#")
    if target.startswith("/"):
        destination = "/" + new
    elif reach == "root":
        destination = new
    elif reach == "name":
        destination = new.rsplit("/", 1)[-1]
    else:
        destination = relative_path(new, posixpath.dirname(note.path))
        dotted = path_part.startswith("./") or (path_part.startswith("../") and _writes_dot_slash(note))
        if dotted and not destination.startswith("../"):
            destination = "./" + destination
    if not target.lower().endswith(_NOTE_EXTENSIONS) and destination.lower().endswith(".md") and new.lower().endswith(".md"):
        destination = destination[:-3]  # the note used extensionless links
    if not spellable(destination):
        return None
    if not angle:
        destination = quote(destination, safe="/-_.~()!$&'*+,;=:@")
    elif ">" in destination or "\n" in destination:
        return None
    rebuilt = destination + hash_sign + anchor
    return f"<{rebuilt}>" if angle else rebuilt
