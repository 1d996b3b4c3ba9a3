"""The single source of the tool's version (read by hatchling and by the cache key)."""

__version__ = "0.1.0"
