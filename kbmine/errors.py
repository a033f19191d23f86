"""The few errors kbmine raises; the CLI maps each to one clear line and exit code 2."""

from __future__ import annotations

__all__ = ["KbmineError", "ConfigError", "InputError"]


class KbmineError(Exception):
    """An error caused by the user's input or environment, not a bug in kbmine."""


class ConfigError(KbmineError):
    """The configuration (file or command-line options) is invalid."""


class InputError(KbmineError):
    """The path to check cannot be used (missing, not a directory, unreadable)."""
