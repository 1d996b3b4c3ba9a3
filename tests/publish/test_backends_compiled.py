"""Backends that run a program of their build environment build the snapshot (issue 7 item 6).

Real builds of ``tests/fixtures/layout-compiled``, as in ``test_backends.py``: plan → stage →
``build_all`` (real backends, build environments from PyPI) → the wheel's ``METADATA`` and the
sdist's ``PKG-INFO`` say the snapshot version and ``==`` pins, ``verify_distribution`` agrees,
and what the native tool compiled in says the snapshot version too:

* **meson-python** runs ``meson`` and ``ninja`` found on PATH: the backend's PATH here holds
  only ``git`` (meson dist runs it) after what the build tool puts first (the build env's
  ``bin/``), so both run from build environments (ninja from the ``ninja`` package meson-python
  asks for when there is none on PATH). The version comes from ``project()`` of meson.build (staged with the
  snapshot version: ``meson_pkg/_version.py``, configured from ``meson.project_version()``,
  says it); ``meson dist`` archives the staged copy's one commit.
* **scikit-build-core** runs ``cmake`` (the system's, else the ``cmake`` package it asks for)
  and compiles a C library (loaded with ctypes: no Python headers needed) with the system's C
  compiler; the version comes from its regex provider; the library, loaded from the wheel,
  reports ``SKBUILD_PROJECT_VERSION_FULL``.
* **maturin** (``bindings = "bin"``, no crates: builds offline) runs ``maturin`` from the build
  env, and maturin runs ``cargo`` from the *user's* PATH, kept after the build env's ``bin/``.
  cargo comes from ``.ci/provision/rust.sh`` (rustup's ``~/.cargo/bin`` or Debian's cargo; it
  also makes sure of the C compiler both use); with ``CI=true`` a missing one fails. The version comes from Cargo.toml, staged as
  ``0.3.0-dev.7``: the binary in the wheel prints it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import copy_fixture, tool_env
from test_backends import _metadata, _normal, _pkg_info, _plan

from monorepo_tools._env import backend_env
from monorepo_tools.publish.build import BuildResult, build_all
from monorepo_tools.publish.check_dists import verify_distribution
from monorepo_tools.publish.run import _build_request
from monorepo_tools.publish.stage import stage_package
from monorepo_tools.snapshot.plan import Plan

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
RUST = REPO / ".ci" / "provision" / "rust.sh"
SYSTEM_PATH = "/usr/bin:/bin"


@pytest.fixture(scope="session")
def cargo_dir() -> str:
    """The folder holding cargo, provisioned by ``.ci/provision/rust.sh`` when missing (with
    the C compiler that rustc links with and scikit-build-core's CMake project compiles with)."""
    done = subprocess.run(["bash", str(RUST)], capture_output=True, text=True, timeout=1800)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not os.access(Path(lines[-1], "cargo"), os.X_OK):
        message = f"cargo / cc could not be provisioned ({RUST}): {done.stderr.strip()[-1500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        print(message)
        pytest.skip(message)
    return lines[-1]


def _build(
    tmp_path: Path, build_cache: Path, plan: Plan, root: Path, name: str, path: str
) -> BuildResult:
    planned = plan.package(name)
    staged = stage_package(root, planned, tmp_path / "staging")
    request = _build_request(planned, staged)  # what the snapshot builds
    # the backend's PATH: the build env's bin/ (put first by build_all), then only *path*
    env = backend_env({**os.environ, "PATH": path})
    result = build_all([request], tmp_path / "dist", jobs=1, env=env, cache_dir=build_cache)[name]
    assert result.ok, result.error
    assert result.wheel is not None and result.sdist is not None
    wheel_version, wheel_requires = _metadata(result.wheel)
    sdist_version, sdist_requires = _pkg_info(result.sdist)
    assert wheel_version == sdist_version == planned.version
    pins = [f"{dep}=={version}" for dep, version in planned.pins]
    assert wheel_requires == _normal(pins)
    assert sorted(sdist_requires) in ([], wheel_requires)
    for built in (result.wheel, result.sdist):
        problems = verify_distribution(
            built, name, planned.version, plan.versions, plan.unpublished, planned.flavour
        )
        assert problems == []
    return result


def _sdist_file(sdist: Path, name: str) -> str:
    with tarfile.open(sdist) as archive:
        (member,) = [m for m in archive.getmembers() if m.name.split("/", 1)[-1] == name]
        handle = archive.extractfile(member)
        assert handle is not None
        return handle.read().decode()


@pytest.fixture
def compiled(tmp_path: Path) -> tuple[Path, Plan]:
    root = copy_fixture("layout-compiled", tmp_path)
    return root, _plan(root)


def test_meson_python_builds_the_snapshot(
    tmp_path: Path, build_cache: Path, compiled: tuple[Path, Plan]
) -> None:
    root, plan = compiled
    assert plan.package("meson-pkg").version == "1.2.0.dev7"
    assert plan.package("meson-pkg").pins == (("skb-pkg", "0.9.1.dev7"),)
    # The backend's PATH holds git (meson dist runs it) and nothing else: meson, and ninja
    # (which meson-python then asks for: the "ninja" package), run from the build env.
    only_git = tmp_path / "only-git"
    only_git.mkdir()
    git = shutil.which("git")
    assert git is not None
    (only_git / "git").symlink_to(git)
    result = _build(tmp_path, build_cache, plan, root, "meson-pkg", str(only_git))
    assert result.wheel is not None and result.sdist is not None
    with zipfile.ZipFile(result.wheel) as wheel:
        assert wheel.read("meson_pkg/_version.py").decode() == '__version__ = "1.2.0.dev7"\n'
    assert "version: '1.2.0.dev7'" in _sdist_file(result.sdist, "meson.build")
    assert "+ meson setup" in result.log and "+ meson dist" in result.log
    found = re.findall(r"Found ninja-\S+ at (\S+)", result.log)
    assert found and all(Path(n).parents[2] == build_cache for n in found), found


def test_scikit_build_core_builds_the_snapshot(
    tmp_path: Path, build_cache: Path, compiled: tuple[Path, Plan], cargo_dir: str
) -> None:
    root, plan = compiled
    assert plan.package("skb-pkg").version == "0.9.1.dev7"
    result = _build(tmp_path, build_cache, plan, root, "skb-pkg", SYSTEM_PATH)
    assert result.wheel is not None and result.sdist is not None
    assert '__version__ = "0.9.1.dev7"' in _sdist_file(result.sdist, "src/skb_pkg/__init__.py")
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(result.wheel) as wheel:
        assert "skb_pkg/libskbver.so" in wheel.namelist()
        wheel.extractall(unpacked)
    assert "-py3-none-" in result.wheel.name  # wheel.py-api = "py3": no Python ABI in the tag
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import skb_pkg; print(skb_pkg.__version__, skb_pkg.built_version())",
        ],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
    )
    assert imported.stdout.split() == ["0.9.1.dev7", "0.9.1.dev7"]


def test_maturin_builds_the_snapshot_with_cargo_from_the_users_path(
    tmp_path: Path, build_cache: Path, compiled: tuple[Path, Plan], cargo_dir: str
) -> None:
    root, plan = compiled
    planned = plan.package("maturin-bin")
    assert (planned.version, planned.version_file) == ("0.3.0.dev7", "Cargo.toml")
    # cargo only on the user's PATH (not in the build env): found after the build env's bin/
    result = _build(tmp_path, build_cache, plan, root, "maturin-bin", f"{cargo_dir}:{SYSTEM_PATH}")
    assert result.wheel is not None and result.sdist is not None
    assert 'version = "0.3.0-dev.7"' in _sdist_file(result.sdist, "Cargo.toml")
    assert 'version = "0.3.0-dev.7"' in _sdist_file(result.sdist, "Cargo.lock")
    with zipfile.ZipFile(result.wheel) as wheel:
        (script,) = [n for n in wheel.namelist() if n.endswith(".data/scripts/maturin-bin")]
        binary = tmp_path / "maturin-bin"
        binary.write_bytes(wheel.read(script))
    binary.chmod(0o755)
    ran = subprocess.run([str(binary)], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "maturin-bin 0.3.0-dev.7"  # env!("CARGO_PKG_VERSION")


def test_snapshot_builds_every_compiled_backend_end_to_end(
    tmp_path: Path, build_cache: Path, cargo_dir: str, pypiserver: Any
) -> None:
    """``monorepo snapshot --dry-run`` as a user runs it, in a git checkout: staging in
    ``.monorepo/staging`` (meson-python's staged copy is a repository nested in the checkout),
    the three backends built in dependency order, verified, the working tree untouched."""
    root = copy_fixture("layout-compiled", tmp_path)
    _plan(root)  # a git checkout with one commit (the plan itself is the CLI's)
    before = _tree(root)
    report = tmp_path / "summary.json"
    env = tool_env(
        build_cache,
        MONOREPO_REPOSITORY_URL=pypiserver.url,
        MONOREPO_INDEX_URL=pypiserver.index_url,
        MONOREPO_REPOSITORY_USERNAME=pypiserver.username,
        MONOREPO_REPOSITORY_PASSWORD=pypiserver.password,
        PATH=f"{os.environ.get('PATH', '')}{os.pathsep}{cargo_dir}",
    )
    args = ["snapshot", "--root", str(root), "--snapshot-id", "7", "--dry-run"]
    done = subprocess.run(
        [sys.executable, "-m", "monorepo_tools", *args, "--summary-json", str(report)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    packages = {p["name"]: p for p in json.loads(report.read_text())["packages"]}
    assert {n: p["outcome"] for n, p in packages.items()} == {
        "skb-pkg": "built",
        "meson-pkg": "built",
        "maturin-bin": "built",
    }
    assert {n: p["version"] for n, p in packages.items()} == {
        "skb-pkg": "0.9.1.dev7",
        "meson-pkg": "1.2.0.dev7",
        "maturin-bin": "0.3.0.dev7",
    }
    assert _tree(root) == before


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {".git", ".monorepo"} & set(p.relative_to(root).parts)
    }
