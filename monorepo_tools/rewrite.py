"""Rewriting a staged ``pyproject.toml`` for a snapshot (tomlkit: comments and layout survive).

Only two things change: ``project.version`` becomes the snapshot version, and each runtime or
optional requirement string listed in the plan's ``rewrites`` is replaced by its pinned form.
Everything else, dev groups included, is left byte-for-byte as it was.

>>> text = '''[project]
... name = "a"
... version = "0.1.0"  # base
... dependencies = [
...     "b @ file:../b",  # sibling
...     "requests>=2",
... ]
... '''
>>> print(rewrite_pyproject(text, "0.1.0.dev7", {"b @ file:../b": "b==0.1.0.dev7"}), end="")
[project]
name = "a"
version = "0.1.0.dev7"  # base
dependencies = [
    "b==0.1.0.dev7",  # sibling
    "requests>=2",
]
"""

from __future__ import annotations

from collections.abc import Mapping

import tomlkit
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.items import Array, Table

from .errors import PublishError

__all__ = ["rewrite_pyproject"]


def rewrite_pyproject(text: str, version: str, rewrites: Mapping[str, str]) -> str:
    """Return *text* with the snapshot *version* and the *rewrites* applied."""
    document = tomlkit.parse(text)
    project = document.get("project")
    # A [project.x] table written after other tables makes "project" an out-of-order proxy.
    if not isinstance(project, Table | OutOfOrderTableProxy):
        raise PublishError("has no [project] table to rewrite")
    project["version"] = version
    remaining = dict(rewrites)
    _rewrite_array(project.get("dependencies"), remaining)
    optional = project.get("optional-dependencies")
    if optional is not None:
        for _extra, requirements in optional.items():
            _rewrite_array(requirements, remaining)
    if remaining:
        # The plan and the file disagree: never publish metadata we did not mean to write.
        missing = ", ".join(repr(r) for r in remaining)
        raise PublishError(f"could not find the requirement(s) {missing} to rewrite")
    return tomlkit.dumps(document)


def _rewrite_array(value: object, remaining: dict[str, str]) -> None:
    if not isinstance(value, Array | list):
        return
    for index, item in enumerate(list(value)):
        original = str(item)
        if original in remaining:
            value[index] = remaining.pop(original)
