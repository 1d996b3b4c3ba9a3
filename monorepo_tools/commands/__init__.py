"""One module per command; each exposes a typed function the CLI (and Python callers) use."""
