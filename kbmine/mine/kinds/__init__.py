"""The spec kinds: one module per kind in this package, registered on import.

A kind both mines and enforces its statement, so a spec is checked by the
very code that found it: ``propose`` suggests parameters from the notes of a
scope, ``applies``/``holds`` decide for one note, and the generic code in
:mod:`kbmine.mine` counts support and confidence, drops redundant
candidates and holds out notes to test on.

Most kinds judge a note by itself. A kind whose statement is about the KB
around the note (an index listing it, the notes it links to) sets
``uses_context`` and reads ``self.context``: every caller (mining,
``kbmine check``, history replay, ``kbmine specs test``) calls ``bind`` with
the :class:`~kbmine.mine.context.MineContext` of the KB state it judges
before asking, and for the other kinds ``bind`` is a no-op.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from kbmine.mine.spec import MineSettings, Scope, Spec, value_tokens
from kbmine.model import Note

if TYPE_CHECKING:
    from kbmine.mine.context import MineContext

__all__ = ["Kind", "KINDS", "kind", "all_kinds", "Params", "key_label"]

Params = Mapping[str, Any]


class Kind:
    """Base of every spec kind; subclasses override what differs."""

    name: ClassVar[str]
    summary: ClassVar[str]
    #: When two candidates say the same thing about the same notes, the lower wins.
    priority: ClassVar[int] = 50
    #: Each parameter and the values it may take (``None``: any), to validate the specs file.
    parameters: ClassVar[dict[str, tuple[str, ...] | None]]
    #: Whether the kind reads the KB around a note (``self.context``), not the note alone.
    uses_context: ClassVar[bool] = False
    _context: MineContext | None = None

    def bind(self, context: MineContext) -> Kind:
        """This kind judging notes of the KB ``context`` describes: a bound copy for a kind that
        uses the context, the kind itself for one that does not (it has nothing to bind)."""
        if not self.uses_context:
            return self
        bound = copy.copy(self)
        bound._context = context
        return bound

    @property
    def context(self) -> MineContext:
        """The KB this kind was bound to; asking an unbound kind is a programming error."""
        if self._context is None:
            raise RuntimeError(f"spec kind {self.name} reads the KB around a note: bind it to a MineContext first")
        return self._context

    def validate(self, params: Params) -> str | None:
        """Why ``params`` (as read from the specs file) cannot be enforced; ``None`` if they can."""
        for name, allowed in self.parameters.items():
            if name not in params:
                return f"missing parameter {name!r}"
            if allowed is not None and params[name] not in allowed:
                return f"parameter {name!r} must be one of {', '.join(allowed)}, not {params[name]!r}"
        return None

    def propose(self, notes: Sequence[Note], scope: Scope, settings: MineSettings) -> Iterable[Params]:
        """Parameters worth testing on the ``notes`` of ``scope`` (the caller counts and filters)."""
        raise NotImplementedError

    def applies(self, note: Note, params: Params) -> bool:
        """Whether ``note`` counts towards the spec's support (default: every note in scope)."""
        return True

    def holds(self, note: Note, params: Params) -> bool:
        raise NotImplementedError

    def statement(self, scope: Scope, params: Params) -> str:
        """The spec in plain words, for people deciding whether to accept it."""
        raise NotImplementedError

    def fix(self, note: Note, params: Params) -> str:
        """What to change in a note that breaks the spec."""
        raise NotImplementedError

    def anchor_key(self, params: Params) -> str | None:
        """The frontmatter key a violation is reported at (when the note has it)."""
        key = params.get("key")
        return key if isinstance(key, str) else None

    def implies(self, params: Params, other: Spec) -> bool:
        """Whether this spec, over a scope containing ``other``'s, makes ``other`` redundant."""
        return other.kind == self.name and other.parameters == dict(params)


KINDS: dict[str, Kind] = {}


def kind(cls: type[Kind]) -> type[Kind]:
    """Register the decorated class (one instance) under its ``name``."""
    if cls.name in KINDS:
        raise RuntimeError(f"spec kind {cls.name} registered twice")
    KINDS[cls.name] = cls()
    return cls


def all_kinds() -> dict[str, Kind]:
    """Every kind, importing each module of this package once."""
    if not getattr(all_kinds, "_loaded", False):
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        setattr(all_kinds, "_loaded", True)
    return dict(sorted(KINDS.items(), key=lambda item: (item[1].priority, item[0])))


def key_label(key: str) -> str:
    """A frontmatter key as shown in a statement."""
    return f"`{key}`"


#: Keys that only configure kbmine itself, never a convention of the KB.
TOOL_KEYS = frozenset({"kbmine"})


def scope_keys(notes: Sequence[Note], scope: Scope) -> list[str]:
    """The frontmatter keys used in ``notes``, minus the key that defines a value scope
    (in ``where:type=x`` every note trivially has ``type: x``)."""
    seen: dict[str, None] = {}
    for note in notes:
        for key in note.frontmatter:
            seen.setdefault(key)
    return sorted(k for k in seen if k not in TOOL_KEYS and k != scope.key)


def shares(counts: Mapping[str, int], total: int, threshold: float) -> list[str]:
    """The names whose count reaches ``threshold`` of ``total``."""
    return sorted(name for name, count in counts.items() if total and count / total >= threshold)


def single_value(note: Note, key: str) -> str | None:
    """The value of ``key`` when it is one scalar (or a one-item list), else ``None``."""
    tokens = value_tokens(note.frontmatter.get(key))
    return tokens[0] if tokens is not None and len(tokens) == 1 else None


Matcher = Callable[[str], bool]


def matcher(pattern: str) -> Matcher:
    """A full-match predicate for a regular expression."""
    compiled = re.compile(pattern)
    return lambda text: compiled.fullmatch(text) is not None
