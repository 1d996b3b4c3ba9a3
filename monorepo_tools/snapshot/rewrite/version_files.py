"""The version file of a package (``__about__.py``, ``__init__.py``, ``VERSION``), staged with
the snapshot version, so that ``pkg.__version__`` says what the wheel's metadata says.

A Python file gets the string literal of its version assignment replaced (``__version__`` or
``VERSION``, the names hatch's default pattern and setuptools' ``attr`` read); any other file
(setuptools ``file:``) is the version and a newline.
"""

from __future__ import annotations

import re

from ...errors import PublishError

__all__ = ["rewrite_version_file"]

_ASSIGNMENT = re.compile(
    r"""^(?P<head>[ \t]*(?:__version__|VERSION|version)[ \t]*(?::[ \t]*str[ \t]*)?=[ \t]*)(?P<q>['"])(?P<v>[^'"\n]*)(?P=q)""",
    re.MULTILINE,
)


def rewrite_version_file(name: str, text: str, old: str, version: str) -> str:
    """*text* of the version file *name* with *old* replaced by the snapshot *version*."""
    if not name.endswith(".py"):
        return version + "\n"
    for match in _ASSIGNMENT.finditer(text):
        if match.group("v").lstrip("v") == old.lstrip("v") or not old:
            return text[: match.start("v")] + version + text[match.end("v") :]
    raise PublishError(f"{name}: no version assignment holding {old!r} to rewrite")
