"""Sentences and titles from a note's own words, deterministically (no model).

Extract names its new note after the claim and keeps the claim's first
sentence at each former place; synthesise describes each member by its
first sentence. Both need the same three things: markdown reduced to the
text a reader sees, the first sentence found without splitting at "et al."
or a list number, and a sentence shortened to a title at a clause boundary
rather than after a fixed count of words.
"""

from __future__ import annotations

import re

__all__ = ["DANGLING", "block_marker", "first_sentence", "plain_text", "title_from", "without_label"]

#: A title longer than this many words is cut at a clause boundary.
TITLE_WORDS = 12
#: ... and a cut keeps at least this many words.
MIN_TITLE_WORDS = 4
#: A title longer than this many characters loses words from its end (a list of paths is no title).
TITLE_CHARS = 90
#: Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    {"al", "cf", "dr", "e.g", "eg", "etc", "fig", "i.e", "ie", "jr", "mr", "mrs", "ms", "no", "pp", "prof", "sr", "st", "vol", "vs"}
)
#: Words a clause starts with: a title may end just before one.
_CLAUSE_WORDS = frozenset({
    "although", "because", "but", "hence", "if", "instead", "rather", "since", "so", "than", "though", "thus",
    "unless", "until", "when", "where", "whereas", "whether", "which", "while", "yet",
})
#: Words a title must not end on (it would read as cut off).
DANGLING = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "in", "into", "is",
    "its", "not", "of", "on", "or", "so", "than", "that", "the", "their", "to", "when", "where", "which",
    "while", "with", "without",
})
_BLOCK_MARKER = re.compile(r"^[ \t]*(?:(?:>[ \t]?)+|[-*+][ \t]+(?:\[[ xX]\][ \t]+)?|\d{1,9}[.)][ \t]+|#{1,6}[ \t]+)")
_SENTENCE_END = re.compile(r"[.!?][\"')\]*_”’`]*\s+(?=\[|[\"'(*_“‘`]*[A-Z0-9`])")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"!?\[([^\]]+)\]\[[^\]]*\]")
_WIKI_LINK = re.compile(r"!?\[\[([^\]|#]*)(?:#[^\]|]*)?(?:\|([^\]]*))?\]\]")
_BRACKETS = re.compile(r"\[([^\]]+)\]")
#: Emphasis, strike-through and code marks; underscores only at word edges (``snake_case`` stays).
_EMPHASIS = re.compile(r"(\*\*|\*|~~|`+)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\3(?!\w)")
_LABEL = re.compile(r"^(\*\*|__|\*|_)[^*_\n]{1,40}?(?::\1|\1:)[ \t]+(?=\S)")
_TAG = re.compile(r"</?[A-Za-z][^>\n]*>")


def block_marker(text: str) -> str:
    """The list, quote or heading marker ``text`` starts with ("- ", "12. ", "> "), or ``""``."""
    match = _BLOCK_MARKER.match(text)
    return match.group(0) if match else ""


def plain_text(markdown: str) -> str:
    """What a reader sees of ``markdown``: one line, links as their text, no emphasis, code or block marks."""
    text = " ".join(markdown.split())
    text = _WIKI_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _REF_LINK.sub(r"\1", _MD_LINK.sub(r"\1", text))
    text = _BRACKETS.sub(r"\1", _TAG.sub("", text))
    previous = None
    while previous != text:
        previous, text = text, _EMPHASIS.sub(lambda m: m.group(2) or m.group(4), text)
    return text[len(block_marker(text)) :].strip()


def without_label(markdown: str) -> str:
    """``markdown`` without a leading emphasised label ("**Why:** ...", "*Note*: ..."): a label is no claim."""
    return _LABEL.sub("", markdown, count=1)


def first_sentence(text: str) -> str:
    """The first sentence of one line of ``text`` (all of it when it holds one sentence).

    A period ends a sentence only before a capital, a digit, a link or an
    opening quote, and never after an abbreviation, an initial ("J.") or
    a list number at the start ("61.").
    """
    text = text.strip()
    for match in _SENTENCE_END.finditer(text):
        words = text[: match.start() + 1].split()
        last = words[-1].rstrip(".!?").lstrip("(\"'[*_").lower() if words else ""
        if text[match.start()] == "." and (
            last in _ABBREVIATIONS or len(last) == 1 and last.isalpha() or len(words) == 1 and last.isdigit()
        ):
            continue
        # The sentence keeps what closes with it ('.**', '."', '.)'): a cut inside would unbalance it.
        return text[: match.end()].strip()
    return text


def title_from(sentence: str) -> str:
    """A title for a claim from its first sentence: whole if short, else cut at a clause boundary.

    The cut is the last comma, semicolon, colon, dash or clause word
    ("because", "which", "while"...) that keeps between ``MIN_TITLE_WORDS``
    and ``TITLE_WORDS`` words; with none, the first ``TITLE_WORDS`` words.
    Either way the title does not end on a word that leaves it hanging
    ("the", "of", "and").
    """
    words = sentence.split()
    # Two clauses joined by a semicolon: the first is the claim.
    semicolon = next((i + 1 for i, w in enumerate(words) if w.endswith(";") and i + 1 >= MIN_TITLE_WORDS), None)
    if semicolon is not None:
        words = words[:semicolon]
    if len(words) > TITLE_WORDS:
        cut = 0
        for index in range(MIN_TITLE_WORDS, TITLE_WORDS + 1):
            word = words[index - 1]
            following = words[index] if index < len(words) else ""
            if word[-1:] in ",;:" or following in ("—", "–", "-", "--") or following.lower() in _CLAUSE_WORDS or following.startswith("("):
                cut = index
        words = words[: cut or TITLE_WORDS]
    while len(words) > MIN_TITLE_WORDS and len(" ".join(words)) > TITLE_CHARS:
        words.pop()
    title = " ".join(words).strip(" .,;:!?-—–*_\"'`()[]")
    if title.count("(") > title.count(")"):
        # Cut inside a parenthesis: end before it, or drop the bracket when too little precedes it.
        before = title[: title.rfind("(")].rstrip(" ,;:—–-")
        title = before if len(before.split()) >= MIN_TITLE_WORDS else title.replace("(", "")
    while " " in title and title.rsplit(" ", 1)[-1].lower().strip(",;:") in DANGLING:
        title = title.rsplit(" ", 1)[0].rstrip(" ,;:—–-")
    return title[:1].upper() + title[1:]
