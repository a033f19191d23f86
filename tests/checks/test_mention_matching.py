"""The mention matcher against a plain reference: every whole-word place a folded name occurs.

:meth:`MentionMatcher.mentions` matches names on a blanked copy of the text
(only word starts, punctuation as spaces) and checks the doubtful matches
afterwards, for speed. The reference here searches the folded text for each
name the obvious way; both must choose the same mentions.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kbmine.checks.missing_link import _JOINERS, MentionMatcher, fold_name
from kbmine.parse import parse_note
from kbmine.parse.text import decode_note

#: Names with joiners, punctuation, a shared word, a leading dot, accents, a Greek final sigma.
NAMES = ["Tool loop", "tool", "loop guard", "e.g. loop", "Schema-and-lint", ".net", "Lida: a scan", "café noir", "c++", "ΛΟΓΟΣ"]
PIECES = ["tool", "loop", "guard", "schema", "and", "lint", "e", "g", "net", "lida", "a", "scan", "café", "noir", "c", "x", "Tool", "CAFÉ", "ΛΟΓΟΣ", "λογος", "λογοσ", "İ"]
GLUE = [" ", " ", " ", "-", "_", ".", ". ", ", ", ": ", "\n", "(", ")", "*", "/", "+", "++", "—", "'", "[", "]", "é", "\\", "\t", "😀"]


def _joined(text: str, index: int, step: int) -> bool:
    """Whether the character at ``index`` continues the word across a joiner, or is a ``/``."""
    if not 0 <= index < len(text):
        return False
    if text[index] == "/":
        return True
    beyond = index + step
    return text[index] in "-_." and 0 <= beyond < len(text) and text[beyond].isalnum()


def _in_brackets(text: str, start: int, end: int) -> bool:
    """Whether ``start:end`` sits inside ``[...]`` on its line."""
    line_start = text.rfind("\n", 0, start) + 1
    opening = text.rfind("[", line_start, start)
    if opening < 0 or text.rfind("]", opening, start) >= 0:
        return False
    line_end = text.find("\n", end)
    closing = text.find("]", end, line_end if line_end >= 0 else len(text))
    return closing >= 0 and text.find("[", end, closing) < 0


def _reference(text: str, keys: list[str], prose: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """Every whole-word occurrence of each key inside one ``prose`` range of the folded text, then longest first without overlap."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lowercase is longer ("İ") stays, and no other changes by context
        lowered = "".join(char.lower() if len(char.lower()) == 1 else char for char in text)
    folded = _JOINERS.sub(" ", lowered.replace("\n", " ").replace("\t", " "))
    candidates = []
    for key in keys:
        start = folded.find(key)
        while start >= 0:
            end = start + len(key)
            whole = (start == 0 or not folded[start - 1].isalnum()) and (end == len(folded) or not folded[end].isalnum())
            inside = any(low <= start and end <= high for low, high in prose)
            if whole and inside and not (_joined(text, start - 1, -1) or _joined(text, end, 1) or _in_brackets(text, start, end)):
                if text[start - 1 : start] != "\\":
                    candidates.append((start, -end, key))
            start = folded.find(key, start + 1)
    chosen, cursor = [], -1
    for start, negative_end, key in sorted(candidates):
        if start >= cursor:
            chosen.append((key, text[start:-negative_end]))
            cursor = -negative_end
    return chosen


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(PIECES + GLUE), min_size=1, max_size=40))
def test_the_matcher_chooses_what_a_plain_search_of_the_folded_text_chooses(parts: list[str]) -> None:
    text = "".join(parts)
    data = text.encode()
    note = parse_note("a.md", data)
    source = decode_note(data)
    keys = sorted({fold_name(name) for name in NAMES})
    found = [(key, mention) for key, _, _, mention in MentionMatcher.build(keys).mentions(note, source)]
    flat = source.char_offsets([offset for pair in note.mention_ranges for offset in pair]).tolist()
    assert found == _reference(source.normalized, keys, list(zip(flat[::2], flat[1::2])))


def test_names_with_punctuation_match_only_as_written() -> None:
    data = b"Lida: a scan here, lida a scan there, c++ and c+ and .net or a.net\n"
    note = parse_note("a.md", data)
    keys = sorted({fold_name(name) for name in NAMES})
    found = [mention for _, _, _, mention in MentionMatcher.build(keys).mentions(note, decode_note(data))]
    assert found == ["Lida: a scan", "c++", ".net"]


def test_the_plane_lowercased_block_by_block_is_each_character_lowercased_alone() -> None:
    """The table missing-link's scan (and signing) reads text through: a character whose
    lowercase is longer ("İ") stays as it is, every other is its own lowercase."""
    from kbmine.parse.passages import lowercase_table

    plane = "".join(" " if 0xD800 <= code < 0xE000 else chr(code) for code in range(0x10000))
    expected = [ord(low) if len(low := char.lower()) == 1 else ord(char) for char in plane]
    assert lowercase_table().tolist() == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES + GLUE), min_size=1, max_size=40), st.lists(st.sampled_from(NAMES), min_size=1, unique=True))
def test_a_matcher_for_the_text_finds_what_the_matcher_for_every_name_finds(parts: list[str], names: list[str]) -> None:
    from kbmine.checks.missing_link import Names

    text = "".join(parts)
    data = text.encode()
    note, source = parse_note("a.md", data), decode_note(data)
    keys = {fold_name(name): "t.md" for name in names}
    words = {key: frozenset({name}) for name in names if " " not in (key := fold_name(name))}
    titles = {key: frozenset({name}) for name in names if " " in (key := fold_name(name))}
    every = Names(keys, words, titles, frozenset(), frozenset(), {})
    assert every.matcher_for([source.normalized]).mentions(note, source) == every.matcher().mentions(note, source)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_a_name_is_blanked_as_the_regex_blanks_it(name: str) -> None:
    from kbmine.checks.missing_link import _NOT_ALNUM, _scan_word

    assert _scan_word(name) == " " + _NOT_ALNUM.sub(" ", name) + " "
