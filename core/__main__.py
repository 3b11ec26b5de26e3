"""``python -m core`` runs the ``guyub`` CLI."""

from core.cli import main

main()
