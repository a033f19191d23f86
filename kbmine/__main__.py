"""``python -m kbmine`` runs the CLI."""

from kbmine.cli import main

main()
