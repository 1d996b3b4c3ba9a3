"""The version file of a package (``__about__.py``, ``__init__.py``, ``VERSION``), staged with
the snapshot version, so that ``pkg.__version__`` says what the wheel's metadata says.

A Python file gets the string literal of its version assignment replaced (``__version__`` or
``VERSION``, the names hatch's default pattern and setuptools' ``attr`` read); ``meson.build``
its ``project()`` version literal (:mod:`.native`); a file that holds only the version
(setuptools ``file:``, meson's ``files('VERSION')``) is the version and a newline; any other
file gets its one occurrence of the old version replaced, and is refused (never clobbered)
when it has none or several.
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
    if name.rsplit("/", 1)[-1] == "meson.build":
        from .native import rewrite_meson_build

        return rewrite_meson_build(text, old, version)
    if not name.endswith(".py"):
        if text.strip() == old or not old:
            return version + "\n"
        if old and text.count(old) == 1:
            return text.replace(old, version)
        raise PublishError(
            f"{name}: holds {old!r} {text.count(old)} times, so the snapshot version cannot be "
            "written in its place; fix: keep the version alone in the file, or set a static "
            "version in [project]"
        )
    for match in _ASSIGNMENT.finditer(text):
        if match.group("v").lstrip("v") == old.lstrip("v") or not old:
            return text[: match.start("v")] + version + text[match.end("v") :]
    raise PublishError(f"{name}: no version assignment holding {old!r} to rewrite")
