"""``python -m monorepo_tools`` runs the CLI."""

import sys

try:
    from .cli import entrypoint
except KeyboardInterrupt:  # Ctrl-C while starting up: exit 130, no traceback
    print("monorepo: interrupted", file=sys.stderr)
    sys.exit(130)

entrypoint()
