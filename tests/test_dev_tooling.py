"""``dev.py`` and ``noxfile.py``: arguments, the hermetic environment, one list of tools.

``dev.py`` is loaded by path, as ``python3 dev.py`` runs it (it is no module of the package).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from engine_helpers import REPO
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from monorepo_tools._env import INDEX_VARIABLES, hermetic_env


def _load_dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_under_test", REPO / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = _load_dev()


@pytest.mark.parametrize(
    "argv",
    [
        ["tests", "--durations=40"],
        ["tests", "--", "--durations=40"],  # the user's separator is not doubled
    ],
)
def test_posargs_with_or_without_a_separator(argv: list[str]) -> None:
    command = dev.nox_command(argv)
    assert command[1:] == ["-s", "tests", "--", "--durations=40"]


def test_no_posargs_no_separator() -> None:
    assert dev.nox_command(["quick"])[1:] == ["-s", "quick"]
    assert dev.nox_command(["--list"])[1:] == ["--list"]


def test_a_second_separator_reaches_pytest() -> None:
    """Only the leading ``--`` is dev.py's; a later one is the user's argument."""
    command = dev.nox_command(["tests", "--", "-k", "x", "--", "tests/test_rules.py"])
    assert command[1:] == ["-s", "tests", "--", "-k", "x", "--", "tests/test_rules.py"]


def test_dev_py_uses_the_tools_hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """One definition (monorepo_tools/_env.py): every index variable goes, PIP_NO_INDEX too."""
    for name in INDEX_VARIABLES:
        monkeypatch.setenv(name, "https://example.invalid/simple")
    monkeypatch.setenv("PIP_CERT", "/etc/ssl/certs/ca.pem")  # trust settings stay
    env = dev.hermetic_env()
    assert env == hermetic_env()
    assert not set(INDEX_VARIABLES) & set(env)
    assert {"PIP_NO_INDEX", "UV_DEFAULT_INDEX"} <= set(INDEX_VARIABLES)
    assert env["PIP_CERT"] == "/etc/ssl/certs/ca.pem"
    assert env["PIP_CONFIG_FILE"] == os.devnull and env["UV_NO_CONFIG"] == "1"


def test_dev_py_does_not_import_the_package() -> None:
    """dev.py runs before .venv-dev exists: only the stdlib, and _env.py by path."""
    probe = (
        "import runpy, sys; dev = runpy.run_path('dev.py', run_name='probe');"
        "assert 'PIP_CONFIG_FILE' in dev['hermetic_env']() and dev['tools']();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'monorepo_tools'))"
    )
    # -S: no site-packages at all, as on a bare python3 (networkx, packaging, ... absent).
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _noxfile_metadata() -> dict[str, object]:
    return tomllib.loads(dev._script_block(REPO / "noxfile.py"))


def test_tools_come_from_the_noxfile_header() -> None:
    metadata = _noxfile_metadata()
    assert dev.tools() == metadata["dependencies"]
    names = {canonicalize_name(Requirement(r).name) for r in dev.tools()}
    assert {"nox", "uv"} <= names


def test_noxfile_header_agrees_with_pyproject_and_needs_version() -> None:
    """The header repeats what the noxfile imports from the project: same specifiers."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    project = {
        canonicalize_name(req.name): req.specifier
        for req in map(Requirement, pyproject["project"]["dependencies"])
    }
    header = {
        canonicalize_name(req.name): req.specifier
        for req in map(Requirement, dev.tools())
    }
    shared = set(project) & set(header)
    assert shared >= {"networkx", "packaging"}
    assert {name: header[name] for name in shared} == {name: project[name] for name in shared}
    needs = re.search(
        r'^nox\.needs_version = "([^"]+)"', (REPO / "noxfile.py").read_text(), re.MULTILINE
    )
    assert needs is not None
    assert SpecifierSet(needs.group(1)) == header["nox"]
    assert _noxfile_metadata()["requires-python"] == pyproject["project"]["requires-python"]


def test_script_block_is_required(tmp_path: Path) -> None:
    noxfile = tmp_path / "noxfile.py"
    noxfile.write_text("import nox\n")
    with pytest.raises(SystemExit, match="PEP 723"):
        dev._script_block(noxfile)
