"""One reader per metadata flavour; :func:`read_package` picks the one a folder needs.

=================  ==========================================================================
flavour            when
=================  ==========================================================================
``pep621``         ``pyproject.toml`` has ``[project]`` (Poetry 2's ``[tool.poetry]`` adds to it)
``poetry``         ``pyproject.toml`` has ``[tool.poetry]`` and no ``[project]``
``setup.cfg``      no ``[project]``/``[tool.poetry]``, and ``setup.cfg`` has ``[metadata]``
``setup.py``       only ``setup.py`` says anything: the backend's PEP 517 metadata is needed
=================  ==========================================================================

A ``pyproject.toml`` with none of these (only tool settings such as ``[tool.ruff]``) is not a
package: it is skipped with a note (code ``config-only``), never a critical finding. Reading is
pure apart from the package's own files (``setup.cfg``, ``hatch.toml``, the version file); it
never fails: whatever is wrong becomes a :class:`~..model.Problem` of the package.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

from ...requirements import canonicalize_name
from ..model import Dependency, EdgeKind, Package, Problem
from .common import check_name, problem
from .pep621 import Common, read_common, read_project
from .toml import TomlError, loads

__all__ = ["PRIMARY_FILES", "read_package"]

PRIMARY_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
_ROOT_ONLY = ("packages",)  # root [tool.monorepo] keys (config.py), fine on the root package


def _fallback(folder: str, root: Path) -> str:
    base = posixpath.basename(folder) if folder != "." else root.name
    return canonicalize_name(base) or "root"


def _decode(data: bytes, file: str) -> tuple[str | None, Problem | None]:
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, problem(
            "(file)",
            f"is not UTF-8 (byte {data[exc.start]:#04x} at offset {exc.start}: {exc.reason})",
            "save the file as UTF-8",
            line=line,
            file=None if file == "pyproject.toml" else file,
        )


def _read_text(package_dir: str, name: str) -> bytes | None:
    path = os.path.join(package_dir, name)
    try:
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as handle:
            return handle.read(16 * 1024 * 1024 + 1)
    except OSError:
        return None


def read_package(root: Path, folder: str, data: bytes, primary: str = "pyproject.toml") -> Package:
    """Turn the bytes of ``<root>/<folder>/<primary>`` into a :class:`Package`."""
    package_dir = posixpath.normpath(posixpath.join(root.as_posix(), folder))
    fallback = _fallback(folder, root)
    if primary != "pyproject.toml":
        return _read_without_pyproject(package_dir, folder, fallback, primary, data, {})
    text, bad = _decode(data, primary)
    if bad is not None or text is None:
        return Package(fallback, folder, problems=(bad,) if bad else ())
    try:
        doc = loads(text)
    except TomlError as exc:
        return Package(
            fallback,
            folder,
            problems=(
                Problem(
                    "(file)",
                    f"is not valid TOML: {exc.reason}",
                    "remove the byte order mark (save as UTF-8 without BOM)"
                    if "byte order mark" in exc.reason
                    else "fix the TOML syntax at that position",
                    exc.line,
                    exc.column,
                ),
            ),
        )
    problems: list[Problem] = []
    project = doc.get("project")
    tool = doc.get("tool") if isinstance(doc.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if project is not None and not isinstance(project, dict):
        problems.append(problem("[project]", "must be a table", "write [project] as a table"))
        project = {}
    if isinstance(project, dict):
        return _read_pep621(doc, project, poetry, package_dir, folder, fallback, problems)
    if isinstance(poetry, dict) and ("name" in poetry or "dependencies" in poetry):
        return _read_poetry(doc, poetry, package_dir, folder, fallback, problems)
    for other in ("setup.cfg", "setup.py"):
        raw = _read_text(package_dir, other)
        if raw is not None:
            return _read_without_pyproject(package_dir, folder, fallback, other, raw, doc)
    return Package(
        fallback,
        folder,
        problems=(
            problem(
                "[project]",
                "holds only tool settings (no [project], no [tool.poetry], no setup.cfg or "
                "setup.py): not a package, skipped",
                f'nothing to do if it is not a package; otherwise add [project] with name = "{fallback}"',
                code="config-only",
            ),
        ),
    )


def _package(
    common: Common,
    folder: str,
    fallback: str,
    declared: str | None,
    problems: list[Problem],
    **values: Any,
) -> Package:
    name = canonicalize_name(declared) if declared else fallback
    dependencies: list[Dependency] = values.pop("dependencies", [])
    return Package(
        name=name,
        path=folder,
        declared_name=declared,
        status=common.status,
        status_declared=common.status_declared,
        dependencies=tuple(dependencies) + tuple(common.dev),
        uv_sources=common.uv_sources,
        unknown_keys=tuple(k for k in common.unknown if folder != "." or k not in _ROOT_ONLY),
        build_requires=common.build_requires,
        build_backend=common.build_backend,
        base_version=common.base_version,
        problems=tuple(problems),
        **values,
    )


def _read_pep621(
    doc: dict[str, Any],
    project: dict[str, Any],
    poetry: object,
    package_dir: str,
    folder: str,
    fallback: str,
    problems: list[Problem],
) -> Package:
    later: list[Problem] = []
    common = read_common(doc, package_dir, later)
    read = read_project(doc, project, package_dir, fallback, common, problems)
    problems += later
    dependencies = list(read.dependencies)
    needs = read.needs_metadata
    if isinstance(poetry, dict):  # Poetry 2: [tool.poetry] adds to [project]
        from .poetry import poetry_sources, read_poetry_dependencies

        runtime_in_poetry = "dependencies" in read.dynamic or "dependencies" not in project
        extra = read_poetry_dependencies(poetry, package_dir, problems, runtime_in_poetry)
        if not runtime_in_poetry:
            extra += poetry_sources(poetry, package_dir)
        dependencies += extra
        if runtime_in_poetry:
            needs = tuple(n for n in needs if n != "dependencies")
    return _package(
        common,
        folder,
        fallback,
        read.declared,
        problems,
        version=read.version,
        dynamic=read.dynamic,
        dependencies=dependencies,
        flavour="pep621",
        files=("pyproject.toml", *read.files),
        version_source=read.version_source,
        version_file=read.version_file,
        tag_pattern=read.tag_pattern,
        tag_root=read.tag_root,
        needs_metadata=needs,
    )


def _read_poetry(
    doc: dict[str, Any],
    poetry: dict[str, Any],
    package_dir: str,
    folder: str,
    fallback: str,
    problems: list[Problem],
) -> Package:
    from .poetry import read_poetry_dependencies

    common = read_common(doc, package_dir, problems)
    declared = check_name(poetry.get("name"), "tool.poetry.name", fallback, problems)
    version = poetry.get("version")
    if version is not None and not isinstance(version, str):
        problems.append(
            problem(
                "tool.poetry.version",
                f"must be a string, got {version!r}",
                'write version = "0.1.0"',
            )
        )
        version = None
    source = "tool.poetry.version"
    tool = doc.get("tool", {})
    pattern = None
    dynamic: tuple[str, ...] = ()
    pdv = tool.get("poetry-dynamic-versioning") if isinstance(tool, dict) else None
    if isinstance(pdv, dict) and pdv.get("enable") is True:
        from ..version_sources import _dunamai

        found = _dunamai("poetry-dynamic-versioning", pdv)
        source, pattern, version, dynamic = found.source, found.tag_pattern, None, ("version",)
    deps = read_poetry_dependencies(poetry, package_dir, problems, True)
    return _package(
        common,
        folder,
        fallback,
        declared,
        problems,
        version=version,
        dynamic=dynamic,
        dependencies=deps,
        flavour="poetry",
        version_source=source,
        tag_pattern=pattern,
    )


def _read_without_pyproject(
    package_dir: str,
    folder: str,
    fallback: str,
    primary: str,
    data: bytes,
    doc: dict[str, Any],
) -> Package:
    """A ``setup.cfg`` or ``setup.py`` package (with or without a pyproject for build-system)."""
    problems: list[Problem] = []
    common = (
        read_common(doc, package_dir, problems)
        if doc
        else Common(
            build_requires=("setuptools>=40.8.0",), build_backend="setuptools.build_meta:__legacy__"
        )
    )
    files = (primary, "pyproject.toml") if doc else (primary,)
    if primary == "setup.cfg":
        from .setupcfg import parse_setup_cfg

        text, bad = _decode(data, primary)
        if bad is not None or text is None:
            return Package(fallback, folder, problems=(bad,) if bad else (), files=files)
        cfg = parse_setup_cfg(text, package_dir, problems)
        if cfg.has_metadata and cfg.name is not None:
            declared = check_name(cfg.name, "metadata.name", fallback, problems)
            found = cfg.version
            if found is not None and found.error and common.base_version is None:
                problems.append(
                    problem(
                        "metadata.version",
                        found.error,
                        found.fix or "",
                        code="dynamic-version",
                        file="setup.cfg",
                    )
                )
            return _package(
                common,
                folder,
                fallback,
                declared,
                problems,
                version=found.version if found else None,
                dynamic=()
                if found is not None and found.source == "setup.cfg metadata.version"
                else ("version",),
                dependencies=cfg.dependencies,
                flavour="setup.cfg",
                files=(*files, *(found.files if found else ())),
                version_source=found.source if found else "",
                version_file=found.file if found else None,
                needs_metadata=() if found is not None else ("version",),
            )
        if os.path.isfile(os.path.join(package_dir, "setup.py")):
            primary, files = "setup.py", (*files, "setup.py")
        else:
            problems.append(
                problem(
                    "metadata.name",
                    "is missing",
                    f"add [metadata] with name = {fallback}",
                    file="setup.cfg",
                )
            )
            return Package(
                fallback, folder, problems=tuple(problems), files=files, flavour="setup.cfg"
            )
    # setup.py only: nothing can be read statically; the backend's metadata is needed.
    return _package(
        common,
        folder,
        fallback,
        fallback,
        problems,
        flavour="setup.py",
        files=files,
        version_source="",
        dynamic=("version", "dependencies"),
        needs_metadata=("name", "version", "dependencies"),
    )


# re-exported for the cache's toolchain key
_ = EdgeKind
