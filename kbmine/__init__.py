"""kbmine: check, mine and mutate knowledge bases of linked markdown notes."""

from __future__ import annotations

__version__ = "0.1.0"
