"""``python -m monorepo_tools`` runs the CLI."""

from .cli import entrypoint

entrypoint()
