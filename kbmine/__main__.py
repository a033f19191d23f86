"""``python -m kbmine`` runs the CLI."""

import signal

# Ctrl-C while the CLI is still importing ends the process quietly (by the signal, as
# for any program) instead of printing a traceback from deep inside an import;
# ``main`` restores Python's handler once it can turn the interrupt into exit 130.
signal.signal(signal.SIGINT, signal.SIG_DFL)

from kbmine.cli import run

run()
