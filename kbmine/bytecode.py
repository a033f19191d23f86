"""kbmine's own bytecode, written once even where ``PYTHONDONTWRITEBYTECODE`` is set.

With that setting (common in containers and CI images) Python compiles every
module that has no ``.pyc`` from source, on every run. pip writes kbmine's
``.pyc`` files when it installs the package, but an editable install, or a
run from a checkout, never gets them: about 140 modules were compiled on each
one-note check of commonplace, 0.1 s of its 1 s, and 45 ms of a warm run's
250. So at the end of a command, the kbmine modules this run imported from
source get their ``.pyc`` written, where their folder is writable. Other
packages are left as the setting says.
"""

from __future__ import annotations

import os
import sys

__all__ = ["keep_own_bytecode"]


def keep_own_bytecode() -> None:
    """Write the missing or outdated ``.pyc`` of the kbmine modules imported so far (see the module)."""
    if not sys.dont_write_bytecode:
        return  # Python wrote them itself
    for name, module in list(sys.modules.items()):
        if name != "kbmine" and not name.startswith("kbmine."):
            continue
        spec = getattr(module, "__spec__", None)
        source, cached = getattr(spec, "origin", None), getattr(spec, "cached", None)
        if not isinstance(source, str) or not isinstance(cached, str) or not source.endswith(".py"):
            continue
        try:
            if os.stat(cached).st_mtime_ns >= os.stat(source).st_mtime_ns:
                continue
        except OSError:
            pass  # no .pyc yet (or no source): write it
        import py_compile  # only now: importing it costs more than the rest of a run's check (14 ms)

        try:
            py_compile.compile(source, cfile=cached, doraise=True)
        except (OSError, py_compile.PyCompileError):
            continue  # a read-only install: nothing to keep
