"""Facts about the code base itself: declared dependencies, the exception tree, single constants.

Each test reads the source (``ast``) or the package's metadata, so a drift fails here rather than
on a user's machine: a dependency imported but only present through another one, an exception
outside :class:`~monorepo_tools.errors.MonorepoError`, a default written twice.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import pkgutil
import re
import sys
import tomllib
from pathlib import Path

from engine_helpers import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import monorepo_tools
from monorepo_tools import errors
from monorepo_tools.errors import MonorepoError

PACKAGE = REPO / "monorepo_tools"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(monorepo_tools.__path__, "monorepo_tools.")
        if not info.name.endswith("__main__")
    )


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module name -> the files of monorepo_tools importing it (lazy imports too)."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "monorepo_tools":
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


def test_declared_dependencies_are_the_imported_ones() -> None:
    """Every distribution the tool imports is declared, and every declared one is imported."""
    declared = {
        canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]
    }
    providers = importlib.metadata.packages_distributions()
    imported: dict[str, set[str]] = {}
    for module, files in _third_party_imports().items():
        assert module in providers, f"{module} (imported by {sorted(files)}) is not installed"
        for dist in providers[module]:
            imported.setdefault(canonicalize_name(dist), set()).update(files)
    undeclared = {dist: sorted(files) for dist, files in imported.items() if dist not in declared}
    assert not undeclared, f"imported but not in [project].dependencies: {undeclared}"
    unused = sorted(declared - set(imported))
    assert not unused, f"in [project].dependencies but never imported: {unused}"


def test_build_is_a_benchmark_dependency_only() -> None:
    """pypa/build runs only as the snapshot benchmark's baseline (`python -m build`)."""
    names = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    assert "build" not in names
    bench = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["dependency-groups"]["bench"]}
    assert {"build", "pypiserver", "passlib"} <= bench


def _public_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
                and not attr.startswith("_")
            ):
                found[f"{name}.{attr}"] = value
    return found


def test_every_public_exception_is_a_monorepo_error() -> None:
    exceptions = _public_exceptions()
    assert "monorepo_tools.publish.local_index.IndexConflict" in exceptions
    outside = sorted(name for name, cls in exceptions.items() if not issubclass(cls, MonorepoError))
    assert not outside, f"outside the MonorepoError tree (see errors.py): {outside}"


def test_the_tree_in_errors_docstring_names_every_exception() -> None:
    doc = errors.__doc__ or ""
    missing = sorted(
        name
        for name, cls in _public_exceptions().items()
        if not re.search(rf"[├└─ ]{re.escape(cls.__name__)}\b", doc)
    )
    assert not missing, f"errors.py's tree does not show: {missing}"


def test_index_conflict_is_a_publish_error_with_exit_code_1() -> None:
    from monorepo_tools.errors import PublishError
    from monorepo_tools.publish.local_index import IndexConflict

    conflict = IndexConflict("demo-1.0-py3-none-any.whl", "aa" * 32, "bb" * 32)
    assert isinstance(conflict, PublishError) and conflict.exit_code == 1
    assert "demo-1.0-py3-none-any.whl" in str(conflict)


def test_source_date_epoch_default_is_written_once() -> None:
    from monorepo_tools.publish.build import DEFAULT_SOURCE_DATE_EPOCH

    sites = [
        str(path.relative_to(REPO))
        for path in PACKAGE.rglob("*.py")
        if DEFAULT_SOURCE_DATE_EPOCH in path.read_text(encoding="utf-8")
    ]
    assert sites == ["monorepo_tools/publish/build/model.py"]


def test_snapshot_outside_git_uses_the_default_epoch(tmp_path: Path) -> None:
    """No commit to take the time from (not a git checkout): the one default."""
    from monorepo_tools.commands.snapshot import _source_date_epoch
    from monorepo_tools.publish.build import DEFAULT_SOURCE_DATE_EPOCH

    assert _source_date_epoch(tmp_path) == DEFAULT_SOURCE_DATE_EPOCH

