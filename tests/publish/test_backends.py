"""Every backend builds, at exactly the snapshot version, with its monorepo pins (issue 7).

Real builds of the layout fixtures (``tests/fixtures/layout-*``): plan → stage (the rewriters)
→ ``build_all`` (real backends in real build environments) → the built wheel's ``METADATA``
and the sdist's ``PKG-INFO`` say the snapshot version and ``==`` pins, which
``verify_distribution`` also checks (item 5). Backends: hatchling (+ hatch.toml version path),
hatch-vcs, setuptools (pyproject attr/file, setup.cfg), setuptools-scm, poetry-core (Poetry 1
and 2), pdm-backend (file and scm), flit-core, uv_build (its binary found on PATH), an in-tree
backend, poetry-dynamic-versioning (its own backend, Poetry 1 and 2: the bypass variable gives
the version, its substitutions write it) and uv-dynamic-versioning. Backends that run a native
tool (meson-python, scikit-build-core, maturin) are built in ``test_backends_compiled.py``.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from engine_helpers import GIT_ENV, copy_fixture

from monorepo_tools.commands.check import check
from monorepo_tools.config import load_config
from monorepo_tools.publish.build import BuildRequest, build_all
from monorepo_tools.publish.check_dists import verify_distribution
from monorepo_tools.publish.run import _build_request
from monorepo_tools.publish.stage import stage_package
from monorepo_tools.snapshot.plan import Plan, make_plan
from monorepo_tools.snapshot.versions import SnapshotId
from monorepo_tools.workspace import load_workspace

pytestmark = pytest.mark.slow


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )


def _plan(root: Path, tags: tuple[str, ...] = ()) -> Plan:
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "initial")
    for tag in tags:
        _git(root, "tag", tag)
    workspace = load_workspace(load_config(root), use_cache=False)
    return make_plan(check(workspace), SnapshotId(7, "--snapshot-id"))


def _metadata(wheel: Path) -> tuple[str, list[str]]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        meta = HeaderParser().parsestr(archive.read(name).decode())
    return meta["Version"], _normal(meta.get_all("Requires-Dist") or [])


def _normal(requires: list[str]) -> list[str]:
    """Requirements as packaging writes them (poetry-core writes ``name (==1.0)``)."""
    from packaging.requirements import Requirement

    return sorted(str(Requirement(r)) for r in requires)


def _pkg_info(sdist: Path) -> tuple[str, list[str]]:
    with tarfile.open(sdist) as archive:
        (member,) = [
            m
            for m in archive.getmembers()
            if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
        ]
        handle = archive.extractfile(member)
        assert handle is not None
        meta = HeaderParser().parsestr(handle.read().decode())
    return meta["Version"], _normal(meta.get_all("Requires-Dist") or [])


# poetry-dynamic-versioning's default pattern (v*), a pattern-prefix, uv-dynamic-versioning's
DUNAMAI_TAGS = ("v2.1.0", "pdv2-v0.4.0", "uvdv-v1.2.0")

# fixture, tags, package -> (snapshot version, the pins its wheel must carry)
CASES = [
    ("layout-hatch-toml", (), "about-pkg", "2.3.0.dev7", []),
    (
        "layout-hatch-vcs",
        ("integrations/chroma-v4.4.0",),
        "chroma-integration",
        "4.4.1.dev7",
        ["core-lib==0.9.0.dev7"],
    ),
    ("layout-hatch-vcs", ("integrations/chroma-v4.4.0",), "core-lib", "0.9.0.dev7", []),
    ("layout-setuptools-dynamic", (), "attr-pkg", "1.5.0.dev7", ["file-pkg==0.7.1.dev7"]),
    ("layout-setuptools-dynamic", (), "file-pkg", "0.7.1.dev7", []),
    ("layout-setuptools-dynamic", (), "import-pkg", "2.7.0.dev7", ["attr-pkg==1.5.0.dev7"]),
    (
        "layout-setup-cfg",
        (),
        "cfg-pkg",
        "1.1.0.dev7",
        ["cfg-base==1.0.3.dev7", 'cfg-base==1.0.3.dev7; extra == "base"', "requests>=2"],
    ),
    ("layout-poetry", (), "poetry-app", "1.4.0.dev7", None),
    ("layout-poetry", (), "poetry2-lib", "2.0.0.dev7", ["poetry-lib==0.2.0.dev7"]),
    ("layout-pdm-backend", ("pdm-scm-5.1.0",), "pdm-file", "3.1.0.dev7", ["pdm-scm==5.1.1.dev7"]),
    ("layout-pdm-backend", ("pdm-scm-5.1.0",), "pdm-scm", "5.1.1.dev7", []),
    ("layout-flit", (), "flitty", "0.4.2.dev7", []),
    ("layout-dunamai", DUNAMAI_TAGS, "pdv", "2.1.1.dev7", []),
    ("layout-dunamai", DUNAMAI_TAGS, "pdv2", "0.4.1.dev7", ["pdv==2.1.1.dev7"]),
    ("layout-dunamai", DUNAMAI_TAGS, "uvdv", "1.2.1.dev7", []),
    (
        "layout-dunamai",
        DUNAMAI_TAGS,
        "uvdv-hook",  # uv-dynamic-versioning's metadata hook renders the pinned templates
        "3.0.0.dev7",
        [
            "typing-extensions>=4",
            "uvdv==1.2.1.dev7",
            'uvdv[cli]==1.2.1.dev7; python_version >= "3.8" and extra == "cli"',
        ],
    ),
    ("layout-backends", (), "uvb", "0.8.0.dev7", []),
    ("layout-backends", (), "intree", "0.5.0.dev7", ["uvb==0.8.0.dev7"]),
]


@pytest.mark.parametrize(
    ("fixture", "tags", "name", "version", "pins"),
    CASES,
    ids=[f"{c[0]}-{c[2]}" for c in CASES],
)
def test_every_backend_builds_the_snapshot_with_its_pins(
    tmp_path: Path,
    build_cache: Path,
    fixture: str,
    tags: tuple[str, ...],
    name: str,
    version: str,
    pins: list[str] | None,
) -> None:
    root = copy_fixture(fixture, tmp_path)
    plan = _plan(root, tags)
    planned = plan.package(name)
    assert planned.version == version
    staged = stage_package(root, planned, tmp_path / "staging")
    request = _build_request(planned, staged)  # what the snapshot builds (backend-path too)
    assert request.backend_path == (("_build",) if name == "intree" else ())
    result = build_all([request], tmp_path / "dist", jobs=1, cache_dir=build_cache)[name]
    assert result.ok, result.error
    assert result.wheel is not None and result.sdist is not None
    wheel_version, wheel_requires = _metadata(result.wheel)
    sdist_version, sdist_requires = _pkg_info(result.sdist)
    assert wheel_version == sdist_version == version
    if pins is None:  # Poetry renders its own specifiers: check the monorepo ones only
        wheel_requires = [r for r in wheel_requires if r.startswith("poetry")]
        sdist_requires = [r for r in sdist_requires if r.startswith("poetry")]
        pins = ["poetry-lib==0.2.0.dev7", 'poetry2-lib[fast]==2.0.0.dev7; extra == "pretty"']
    assert wheel_requires == _normal(pins)
    assert sdist_requires in ([], wheel_requires) or sorted(sdist_requires) == wheel_requires
    for built in (result.wheel, result.sdist):
        assert (
            verify_distribution(
                built, name, version, plan.versions, plan.unpublished, planned.flavour
            )
            == []
        )


@pytest.mark.parametrize(("name", "version"), [("pdv", "2.1.1.dev7"), ("pdv2", "0.4.1.dev7")])
def test_poetry_dynamic_versioning_substitutes_the_snapshot_version(
    tmp_path: Path, build_cache: Path, name: str, version: str
) -> None:
    """The real plugin (its backend, Poetry 1 and Poetry 2 projects) takes the version from
    ``POETRY_DYNAMIC_VERSIONING_BYPASS`` (the staged copy is no git checkout: without it dunamai
    would fail) and writes it where it templates the version, ``__version__ = "0.0.0"``."""
    root = copy_fixture("layout-dunamai", tmp_path)
    planned = _plan(root, DUNAMAI_TAGS).package(name)
    assert dict(planned.build_environment) == {"POETRY_DYNAMIC_VERSIONING_BYPASS": version}
    staged = stage_package(root, planned, tmp_path / "staging")
    request = _build_request(planned, staged)
    result = build_all([request], tmp_path / "dist", jobs=1, cache_dir=build_cache)[name]
    assert result.ok and result.wheel is not None and result.sdist is not None, result.error
    assert _metadata(result.wheel)[0] == version
    with zipfile.ZipFile(result.wheel) as wheel:
        module = wheel.read(f"{name}/__init__.py").decode()
    assert f'__version__ = "{version}"' in module
    with tarfile.open(result.sdist) as archive:
        (member,) = [m for m in archive.getmembers() if m.name.endswith(f"/{name}/__init__.py")]
        handle = archive.extractfile(member)
        assert handle is not None
        assert f'__version__ = "{version}"' in handle.read().decode()
    # without the bypass variable the plugin looks for git tags, and the staged copy has none
    bare = BuildRequest(name, staged, planned.build_requires, planned.build_backend)
    other = build_all([bare], tmp_path / "dist-bare", jobs=1, cache_dir=build_cache)[name]
    assert not other.ok and "Unable to detect version control system" in (other.error or "")


def test_a_wrong_pin_in_built_metadata_is_caught(tmp_path: Path, build_cache: Path) -> None:
    """Item 5: a metadata hook that pins a monorepo package at a version that does not exist
    (here: the base version, ``hook-base==1.0.0``) fails verification, the requirement quoted."""
    root = copy_fixture("layout-metadata-hook", tmp_path)
    workspace = load_workspace(load_config(root), use_cache=False)
    result = check(workspace)
    assert [f.code for f in result.findings] == ["unpinnable-metadata"]  # caught before build
    hooked = workspace.packages["hooked"]
    staged = tmp_path / "staged"
    import shutil

    shutil.copytree(root / hooked.path, staged)
    request = BuildRequest("hooked", staged, hooked.build_requires, hooked.build_backend)
    built = build_all([request], tmp_path / "dist", jobs=1, cache_dir=build_cache)["hooked"]
    assert built.ok and built.wheel is not None, built.error
    problems = verify_distribution(
        built.wheel, "hooked", "1.0.0", {"hook-base": "1.0.0.dev7"}, (), "pep621"
    )
    assert (
        problems and "'hook-base==1.0.0'" in problems[0] and "hook-base==1.0.0.dev7" in problems[0]
    )
    internal = verify_distribution(built.wheel, "hooked", "1.0.0", {}, ("hook-base",))
    assert internal and "has no snapshot version in this run" in internal[0]
