"""Rewriting a staged ``pyproject.toml`` for a snapshot (tomlkit: comments and layout survive).

What changes: ``project.version`` becomes the snapshot version (and ``"version"`` leaves
``project.dynamic``, with ``[tool.setuptools.dynamic].version`` and scikit-build-core's version
provider: the version plugin has nothing left to compute); each runtime or optional requirement string listed in the plan's ``rewrites``
is replaced by its pinned form, *every* time it occurs (the same string in ``dependencies`` and
in an extra is pinned in both), also in the templates of uv-dynamic-versioning's metadata
hook (``[tool.hatch.metadata.hooks.uv-dynamic-versioning]``); Poetry's ``tool.poetry.version`` and the entries of
``[tool.poetry.dependencies]`` naming a monorepo package (a ``path``/``develop`` table becomes
``{ version = "==<snapshot>" }``, keeping ``optional``, ``extras``, ``markers``, ``python``),
which poetry-core reads for both Poetry 1 and Poetry 2 projects. Everything else, dev groups
included, is left byte-for-byte as it was.

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

import re
from collections.abc import Mapping

import tomlkit
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.items import AoT, Array, InlineTable, Table

from ...errors import PublishError

__all__ = ["rewrite_pyproject"]

_KEEP = ("optional", "extras", "markers", "python", "platform")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def rewrite_pyproject(
    text: str,
    version: str,
    rewrites: Mapping[str, str],
    poetry_pins: Mapping[str, str] | None = None,
    *,
    keep_dynamic_version: bool = False,
) -> str:
    """Return *text* with the snapshot *version* and the *rewrites* applied.

    *poetry_pins* (normalized name → snapshot version) are applied to ``[tool.poetry]``.
    With *keep_dynamic_version* ``[project]`` keeps ``dynamic = ["version"]`` and gets no
    static version (poetry-dynamic-versioning acts on a Poetry 2 project only while its version
    is dynamic: its bypass variable then gives the exact version, and its substitutions run).
    """
    document = tomlkit.parse(text)
    project = document.get("project")
    tool = document.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, Table | OutOfOrderTableProxy) else None
    has_poetry = isinstance(poetry, Table | OutOfOrderTableProxy)
    # A [project.x] table written after other tables makes "project" an out-of-order proxy.
    if not isinstance(project, Table | OutOfOrderTableProxy) and not has_poetry:
        raise PublishError("has no [project] table to rewrite")
    found: set[str] = set()
    if isinstance(project, Table | OutOfOrderTableProxy):
        dynamic = project.get("dynamic")
        dynamic_version = isinstance(dynamic, Array | list) and "version" in [
            str(d) for d in dynamic
        ]
        if not (keep_dynamic_version and dynamic_version):
            project["version"] = version
        if dynamic_version and not keep_dynamic_version:
            assert isinstance(dynamic, Array | list)
            for index, item in reversed(list(enumerate(list(dynamic)))):
                if str(item) == "version":
                    del dynamic[index]
            setuptools = tool.get("setuptools") if tool is not None else None
            spec = setuptools.get("dynamic") if setuptools is not None else None
            if spec is not None and "version" in spec:
                del spec["version"]
            if tool is not None:
                _drop_skbuild_version(tool)
        _rewrite_array(project.get("dependencies"), rewrites, found)
        optional = project.get("optional-dependencies")
        if optional is not None:
            for _extra, requirements in optional.items():
                _rewrite_array(requirements, rewrites, found)
        hook = _uvdv_hook(tool)
        if hook is not None:  # uv-dynamic-versioning's templates: monorepo ones pinned literally
            _rewrite_array(hook.get("dependencies"), rewrites, found)
            hook_optional = hook.get("optional-dependencies")
            if isinstance(hook_optional, Table | OutOfOrderTableProxy | InlineTable):
                for _extra, requirements in hook_optional.items():
                    _rewrite_array(requirements, rewrites, found)
    if has_poetry and poetry is not None:
        if "version" in poetry or not isinstance(project, Table | OutOfOrderTableProxy):
            poetry["version"] = version
        pins = dict(poetry_pins or {})
        done = _rewrite_poetry(poetry.get("dependencies"), pins)
        missing_pins = sorted(set(pins) - done)
        if missing_pins:
            raise PublishError(
                "could not find the Poetry dependencies "
                + ", ".join(repr(n) for n in missing_pins)
                + " to rewrite in [tool.poetry.dependencies]"
            )
    remaining = [r for r in rewrites if r not in found]
    if remaining:
        # The plan and the file disagree: never publish metadata we did not mean to write.
        missing = ", ".join(repr(r) for r in remaining)
        raise PublishError(f"could not find the requirement(s) {missing} to rewrite")
    return tomlkit.dumps(document)


def _uvdv_hook(tool: object) -> Table | OutOfOrderTableProxy | InlineTable | None:
    """``[tool.hatch.metadata.hooks.uv-dynamic-versioning]``, if there is one."""
    table: object = tool
    for key in ("hatch", "metadata", "hooks", "uv-dynamic-versioning"):
        if not isinstance(table, Table | OutOfOrderTableProxy | InlineTable):
            return None
        table = table.get(key)
    return table if isinstance(table, Table | OutOfOrderTableProxy | InlineTable) else None


def _drop_skbuild_version(tool: Table | OutOfOrderTableProxy) -> None:
    """scikit-build-core refuses a version provider for a field that is not dynamic: the
    provider goes with it (``[tool.scikit-build.metadata.version]``, or the
    ``[[tool.dynamic-metadata]]`` entry with ``field = "version"``)."""
    skbuild = tool.get("scikit-build")
    if isinstance(skbuild, Table | OutOfOrderTableProxy):
        metadata = skbuild.get("metadata")
        if (
            isinstance(metadata, Table | OutOfOrderTableProxy | InlineTable)
            and "version" in metadata
        ):
            del metadata["version"]
            if not metadata:
                del skbuild["metadata"]
    entries = tool.get("dynamic-metadata")
    if isinstance(entries, AoT | Array):
        for index in reversed(range(len(entries))):
            entry = entries[index]
            if isinstance(entry, Table | InlineTable | dict) and entry.get("field") == "version":
                del entries[index]
        if not len(entries):
            del tool["dynamic-metadata"]


def _rewrite_array(value: object, rewrites: Mapping[str, str], found: set[str]) -> None:
    if not isinstance(value, Array | list):
        return
    for index, item in enumerate(list(value)):
        original = str(item)
        if original in rewrites:
            value[index] = rewrites[original]
            found.add(original)


def _rewrite_poetry(table: object, pins: Mapping[str, str]) -> set[str]:
    """Pin the entries of ``[tool.poetry.dependencies]`` naming *pins*; the names done."""
    done: set[str] = set()
    if not isinstance(table, Table | OutOfOrderTableProxy | dict):
        return done
    for key in list(table.keys()):
        name = _norm(str(key))
        if name not in pins:
            continue
        spec = table[key]
        pinned = f"=={pins[name]}"
        if isinstance(spec, Table | InlineTable | dict):
            kept = tomlkit.inline_table()
            kept["version"] = pinned
            for field_name in _KEEP:
                if field_name in spec:
                    kept[field_name] = spec[field_name]
            table[key] = kept
        elif isinstance(spec, Array | list):  # one table per marker: pin each
            for index, entry in enumerate(list(spec)):
                if isinstance(entry, Table | InlineTable | dict):
                    kept = tomlkit.inline_table()
                    kept["version"] = pinned
                    for field_name in _KEEP:
                        if field_name in entry:
                            kept[field_name] = entry[field_name]
                    spec[index] = kept
                else:
                    spec[index] = pinned
        else:
            table[key] = pinned
        done.add(name)
    return done
