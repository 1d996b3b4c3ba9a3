"""build_all: real hatchling/setuptools builds of tiny packages made in tmp_path.

The build environments are cached in one folder for the whole session (``build_cache``), so
only the first test pays for creating them (uv installs from its own cache).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from monorepo_tools.errors import PublishError
from monorepo_tools.publish import build as build_module
from monorepo_tools.publish.build import (
    DEFAULT_BUILD_REQUIRES,
    LEGACY_BACKEND,
    BuildEnvError,
    BuildRequest,
    BuildResult,
    build_all,
    ensure_build_env,
)
from monorepo_tools.publish.build.hooks import _HookCall

HATCHLING = ("hatchling",)
pytestmark = pytest.mark.slow  # real builds in real environments: `nox -s quick` skips them


def make_package(
    parent: Path,
    name: str,
    version: str = "0.1.0.dev7",
    *,
    dependencies: Sequence[str] = (),
    requires: Sequence[str] = HATCHLING,
    backend: str | None = "hatchling.build",
    extra_pyproject: str = "",
    files: Mapping[str, str] | None = None,
) -> Path:
    """A src-layout package ``<parent>/<name>`` with a pyproject as staging would write it."""
    module = name.replace("-", "_")
    root = parent / name
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text(f'NAME = "{name}"\n', encoding="utf-8")
    (root / "README.md").write_text(f"# {name}\n\nA tiny test package.\n", encoding="utf-8")
    deps = ", ".join(json.dumps(d) for d in dependencies)
    build_system = f"[build-system]\nrequires = [{', '.join(json.dumps(r) for r in requires)}]\n"
    if backend is not None:
        build_system += f'build-backend = "{backend}"\n'
    (root / "pyproject.toml").write_text(
        f"{build_system}\n"
        f'[project]\nname = "{name}"\nversion = "{version}"\nreadme = "README.md"\n'
        f'requires-python = ">=3.8"\ndependencies = [{deps}]\n\n{extra_pyproject}',
        encoding="utf-8",
    )
    for relative, text in (files or {}).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


def request_for(source: Path) -> BuildRequest:
    """The BuildRequest the orchestrator would make from a staged folder."""
    document = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    system = document.get("build-system", {})
    return BuildRequest(
        name=document["project"]["name"],
        source_dir=source,
        build_requires=tuple(system.get("requires", ())),
        build_backend=system.get("build-backend"),
    )


def wheel_metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(metadata).decode("utf-8")


def sdist_names(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        return archive.getnames()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_builds_several_packages_in_parallel(tmp_path: Path, build_cache: Path) -> None:
    staged = tmp_path / "staged"
    sources = [
        make_package(staged, "pkg-core"),
        make_package(staged, "pkg-io", dependencies=["pkg-core==0.1.0.dev7"]),
        make_package(staged, "pkg-app", dependencies=["pkg-io==0.1.0.dev7", "packaging>=20"]),
    ]
    events: list[tuple[str, str]] = []
    results = build_all(
        [request_for(s) for s in sources],
        tmp_path / "dist",
        jobs=2,
        cache_dir=build_cache,
        on_event=lambda name, event: events.append((name, event)),
    )

    assert list(results) == ["pkg-core", "pkg-io", "pkg-app"]
    for name, result in results.items():
        assert result.ok, result.error
        assert result.error is None
        assert result.sdist is not None and result.sdist.is_file()
        assert result.wheel is not None and result.wheel.is_file()
        assert result.sdist.parent == tmp_path / "dist" == result.wheel.parent
        assert result.sdist.name == f"{name.replace('-', '_')}-0.1.0.dev7.tar.gz"
        assert result.wheel.name.endswith(".whl")
        assert "Version: 0.1.0.dev7" in wheel_metadata(result.wheel).splitlines()
        top = f"{name.replace('-', '_')}-0.1.0.dev7"
        assert f"{top}/pyproject.toml" in sdist_names(result.sdist)
        assert f"{top}/PKG-INFO" in sdist_names(result.sdist)
        assert "build_sdist" in result.log and "build_wheel" in result.log
        assert result.seconds > 0
        assert events.count((name, "building")) == 1 and events.count((name, "built")) == 1
    assert "Requires-Dist: pkg-io==0.1.0.dev7" in wheel_metadata(results["pkg-app"].wheel)  # type: ignore[arg-type]
    # Only the two files per package are left behind (no scratch folders).
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == sorted(
        f.name for r in results.values() for f in (r.sdist, r.wheel) if f is not None
    )


def test_the_wheel_is_built_from_the_sdist(tmp_path: Path, build_cache: Path) -> None:
    """A file the sdist leaves out cannot reach the wheel: the wheel comes from the sdist."""
    source = make_package(
        tmp_path / "staged",
        "pkg-partial",
        files={"src/pkg_partial/left_out.py": "X = 1\n"},
        extra_pyproject=(
            '[tool.hatch.build.targets.sdist]\nexclude = ["src/pkg_partial/left_out.py"]\n'
        ),
    )
    result = build_all([request_for(source)], tmp_path / "dist", jobs=1, cache_dir=build_cache)[
        "pkg-partial"
    ]

    assert result.ok, result.error
    assert result.wheel is not None
    with zipfile.ZipFile(result.wheel) as archive:
        names = archive.namelist()
    assert "pkg_partial/__init__.py" in names
    assert "pkg_partial/left_out.py" not in names


def test_rebuilding_gives_byte_identical_files(tmp_path: Path, build_cache: Path) -> None:
    source = make_package(tmp_path / "staged", "pkg-same", dependencies=["pkg-core==0.1.0.dev7"])
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    first = build_all(
        [request_for(source)], tmp_path / "one", jobs=1, env=env, cache_dir=build_cache
    )["pkg-same"]
    for file in source.rglob("*"):  # newer mtimes must not change a byte
        os.utime(file, (1_900_000_000, 1_900_000_000))
    second = build_all(
        [request_for(source)], tmp_path / "two", jobs=1, env=env, cache_dir=build_cache
    )["pkg-same"]

    assert first.ok and second.ok, (first.error, second.error)
    assert first.sdist and second.sdist and first.wheel and second.wheel
    assert first.sdist.name == second.sdist.name and first.wheel.name == second.wheel.name
    assert sha256(first.sdist) == sha256(second.sdist)
    assert sha256(first.wheel) == sha256(second.wheel)


def test_a_broken_package_fails_alone(tmp_path: Path, build_cache: Path) -> None:
    staged = tmp_path / "staged"
    good = make_package(staged, "pkg-good")
    syntax = make_package(staged, "pkg-syntax")
    raising = make_package(staged, "pkg-raising", version="not a version")
    no_backend = make_package(staged, "pkg-nobackend", backend="no_such_backend.api")
    bad_requires = make_package(staged, "pkg-badreq", requires=["hatchling[", "also bad"])
    requests = [request_for(p) for p in (good, syntax, raising, no_backend, bad_requires)]
    (syntax / "pyproject.toml").write_text(
        (syntax / "pyproject.toml").read_text(encoding="utf-8") + "\n[project\nbroken = \n",
        encoding="utf-8",
    )
    events: list[tuple[str, str]] = []

    results = build_all(
        requests,
        tmp_path / "dist",
        jobs=2,
        cache_dir=build_cache,
        on_event=lambda n, e: events.append((n, e)),
    )

    assert results["pkg-good"].ok, results["pkg-good"].error
    assert ("pkg-good", "built") in events
    for name in ("pkg-syntax", "pkg-raising", "pkg-nobackend", "pkg-badreq"):
        result = results[name]
        assert not result.ok and result.sdist is None and result.wheel is None
        assert result.error is not None and result.error.startswith(f"{name}: ")
        assert (name, "failed") in events
    assert "sdist failed" in (results["pkg-syntax"].error or "")
    assert "TOML" in (results["pkg-syntax"].error or "") or "toml" in (
        results["pkg-syntax"].error or ""
    )
    assert "sdist failed" in (results["pkg-raising"].error or "")
    assert "not a version" in (results["pkg-raising"].error or "")
    assert "no_such_backend.api" in (results["pkg-nobackend"].error or "")
    assert "build environment failed" in (results["pkg-badreq"].error or "")
    assert "hatchling[" in (results["pkg-badreq"].error or "")
    # The full output is kept for the log; the error stays short.
    assert "Traceback" in results["pkg-raising"].log
    assert len((results["pkg-raising"].error or "").splitlines()) <= 10


def test_setuptools_builds_in_a_fresh_process_per_hook(
    tmp_path: Path, build_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_package(
        tmp_path / "staged",
        "pkg-setuptools",
        requires=["setuptools>=61"],
        backend="setuptools.build_meta",
        dependencies=["pkg-core==0.1.0.dev7"],
    )
    fresh_hooks: list[str] = []
    worker_hooks: list[str] = []
    original_fresh = build_module._Hooks._call_fresh
    original_worker = build_module._Hooks._call_worker

    def spy_fresh(self: build_module._Hooks, call: _HookCall) -> object:
        fresh_hooks.append(call.hook)
        return original_fresh(self, call)

    def spy_worker(self: build_module._Hooks, call: _HookCall) -> object:
        worker_hooks.append(call.hook)
        return original_worker(self, call)

    monkeypatch.setattr(build_module._Hooks, "_call_fresh", spy_fresh)
    monkeypatch.setattr(build_module._Hooks, "_call_worker", spy_worker)

    result = build_all([request_for(source)], tmp_path / "dist", jobs=2, cache_dir=build_cache)[
        "pkg-setuptools"
    ]

    assert result.ok, result.error + "\n" + result.log if result.error else ""
    assert result.sdist is not None and result.wheel is not None
    assert result.sdist.name == "pkg_setuptools-0.1.0.dev7.tar.gz"
    metadata = wheel_metadata(result.wheel)
    assert "Version: 0.1.0.dev7" in metadata.splitlines()
    assert "Requires-Dist: pkg-core==0.1.0.dev7" in metadata.splitlines()
    assert "pkg_setuptools-0.1.0.dev7/pyproject.toml" in sdist_names(result.sdist)
    assert worker_hooks == []
    assert "build_sdist" in fresh_hooks and "build_wheel" in fresh_hooks


def test_workers_are_reused_and_print_does_not_break_the_protocol(
    tmp_path: Path, build_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build hook printing to stdout/stderr lands in the log; jobs=2 starts at most 2 workers."""
    hook = (
        "import os, sys\n"
        "from hatchling.builders.hooks.plugin.interface import BuildHookInterface\n\n"
        "class CustomBuildHook(BuildHookInterface):\n"
        "    def initialize(self, version, build_data):\n"
        "        print('HELLO FROM THE HOOK {\"ok\": false}')\n"
        "        print('ON STDERR', file=sys.stderr)\n"
        "        os.system('echo FROM A SUBPROCESS')\n"
    )
    staged = tmp_path / "staged"
    sources = [
        make_package(
            staged,
            f"pkg-noisy{i}",
            files={"hatch_build.py": hook},
            extra_pyproject="[tool.hatch.build.hooks.custom]\n",
        )
        for i in range(4)
    ]
    started: list[object] = []
    original_init = build_module._Worker.__init__

    def counting_init(self: build_module._Worker, *args: object, **kwargs: object) -> None:
        started.append(self)
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module._Worker, "__init__", counting_init)

    results = build_all(
        [request_for(s) for s in sources], tmp_path / "dist", jobs=2, cache_dir=build_cache
    )

    assert all(r.ok for r in results.values()), [r.error for r in results.values()]
    assert 1 <= len(started) <= 2
    log = results["pkg-noisy0"].log
    assert 'HELLO FROM THE HOOK {"ok": false}' in log
    assert "ON STDERR" in log
    assert "FROM A SUBPROCESS" in log


def test_extra_requirements_from_the_backend_get_their_own_environment(
    tmp_path: Path, build_cache: Path
) -> None:
    """get_requires_for_build_wheel asking for something the base env lacks: base + extra."""
    hook = (
        "from hatchling.builders.hooks.plugin.interface import BuildHookInterface\n\n"
        "class CustomBuildHook(BuildHookInterface):\n"
        "    def initialize(self, version, build_data):\n"
        "        import wheel\n"
        "        print('EXTRA FROM', wheel.__file__)\n"
    )
    source = make_package(
        tmp_path / "staged",
        "pkg-extra",
        files={"hatch_build.py": hook},
        extra_pyproject='[tool.hatch.build.targets.wheel.hooks.custom]\ndependencies = ["wheel"]\n',
    )
    result = build_all([request_for(source)], tmp_path / "dist", cache_dir=build_cache)["pkg-extra"]

    assert result.ok, result.error
    extended = ensure_build_env(["hatchling", "wheel"], build_cache)
    assert f"EXTRA FROM {extended.path}" in result.log
    assert ensure_build_env(["hatchling"], build_cache).missing(["wheel"]) == ["wheel"]


def test_an_in_tree_backend_runs_through_backend_path(tmp_path: Path, build_cache: Path) -> None:
    source = make_package(
        tmp_path / "staged",
        "pkg-intree",
        backend="intree_backend",
        extra_pyproject="",
        files={"_backend/intree_backend.py": "from hatchling.build import *  # noqa: F403\n"},
    )
    text = (source / "pyproject.toml").read_text(encoding="utf-8")
    text = text.replace(
        'build-backend = "intree_backend"',
        'build-backend = "intree_backend"\nbackend-path = ["_backend"]',
    )
    (source / "pyproject.toml").write_text(text, encoding="utf-8")
    request = BuildRequest("pkg-intree", source, HATCHLING, "intree_backend", ("_backend",))
    assert not build_module._Hooks.reusable("intree_backend", ("_backend",))

    result = build_all([request], tmp_path / "dist", cache_dir=build_cache)["pkg-intree"]

    assert result.ok, result.error
    assert result.wheel is not None and "Version: 0.1.0.dev7" in wheel_metadata(result.wheel)


def test_build_environments_are_cached_and_checked(tmp_path: Path, build_cache: Path) -> None:
    first = ensure_build_env(["hatchling"], build_cache)
    assert first.python.exists()
    marker = first.path / ".monorepo-build-env.json"
    stamp = marker.stat().st_mtime_ns
    again = ensure_build_env([" hatchling ", "hatchling"], build_cache)  # same set, same env
    assert again.path == first.path and marker.stat().st_mtime_ns == stamp
    assert again.missing(["hatchling", "packaging"]) == []
    assert again.missing(["hatchling>=999", "certainly-not-installed"]) == [
        "hatchling>=999",
        "certainly-not-installed",
    ]
    assert again.missing(['never-needed; python_version < "3"']) == []

    # A half-made environment (no marker: the marker is written last) is made again.
    other = tmp_path / "cache"
    env = ensure_build_env([], other)
    (env.path / ".monorepo-build-env.json").unlink()
    (env.path / "junk").write_text("left over", encoding="utf-8")
    remade = ensure_build_env([], other)
    assert remade.path == env.path
    assert (remade.path / ".monorepo-build-env.json").is_file()
    assert not (remade.path / "junk").exists()


def test_environment_errors_are_publish_errors(tmp_path: Path) -> None:
    with pytest.raises(BuildEnvError) as caught:
        ensure_build_env(["not a [valid requirement"], tmp_path / "cache")
    assert isinstance(caught.value, PublishError)
    assert "not a [valid requirement" in str(caught.value)
    assert not any((tmp_path / "cache").glob("*/bin"))  # nothing half-made is left


def test_without_uv_the_environment_comes_from_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda *_a, **_k: None)
    monkeypatch.setitem(sys.modules, "uv", None)  # the uv package's binary is gone too
    env = ensure_build_env([], tmp_path / "cache")
    assert env.python.exists()
    assert '"installer": "pip"' in (env.path / ".monorepo-build-env.json").read_text(
        encoding="utf-8"
    )


def test_pep517_defaults_without_a_build_system_table(tmp_path: Path) -> None:
    request = BuildRequest("pkg-legacy", tmp_path, (), None)
    job = build_module._PackageBuild(request, tmp_path, tmp_path, None, None)  # type: ignore[arg-type]
    assert job.backend == LEGACY_BACKEND
    assert job.requires == DEFAULT_BUILD_REQUIRES == ("setuptools>=40.8.0",)
    # An explicit (empty) requires with a backend is kept as written.
    other = BuildRequest("x", tmp_path, (), "mybackend")
    explicit = build_module._PackageBuild(other, tmp_path, tmp_path, None, None)  # type: ignore[arg-type]
    assert explicit.requires == () and explicit.backend == "mybackend"


def test_stateless_backends_only_reuse_workers() -> None:
    reusable = build_module._Hooks.reusable
    assert reusable("hatchling.build", ())
    assert reusable("flit_core.buildapi", ())
    assert not reusable("hatchling.build", ("backend",))
    assert not reusable("setuptools.build_meta", ())
    assert not reusable(LEGACY_BACKEND, ())


def test_source_date_epoch_is_set_for_backends(tmp_path: Path, build_cache: Path) -> None:
    """The backend sees SOURCE_DATE_EPOCH (here: through a hook that records it)."""
    hook = (
        "import os\n"
        "from hatchling.builders.hooks.plugin.interface import BuildHookInterface\n\n"
        "class CustomBuildHook(BuildHookInterface):\n"
        "    def initialize(self, version, build_data):\n"
        "        print('EPOCH=' + os.environ.get('SOURCE_DATE_EPOCH', 'unset'))\n"
    )
    source = make_package(
        tmp_path / "staged",
        "pkg-epoch",
        files={"hatch_build.py": hook},
        extra_pyproject="[tool.hatch.build.hooks.custom]\n",
    )
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    default = build_all([request_for(source)], tmp_path / "a", env=env, cache_dir=build_cache)[
        "pkg-epoch"
    ]
    given = build_all(
        [request_for(source)],
        tmp_path / "b",
        env=env,
        cache_dir=build_cache,
        source_date_epoch=1_700_000_000,
    )["pkg-epoch"]
    kept = build_all(
        [request_for(source)],
        tmp_path / "c",
        env={**env, "SOURCE_DATE_EPOCH": "1600000000"},
        cache_dir=build_cache,
        source_date_epoch=1_700_000_000,
    )["pkg-epoch"]
    assert "EPOCH=315532800" in default.log
    assert "EPOCH=1700000000" in given.log
    assert "EPOCH=1600000000" in kept.log


def test_arguments_are_checked(tmp_path: Path) -> None:
    request = BuildRequest("a", tmp_path, HATCHLING, "hatchling.build")
    with pytest.raises(ValueError, match="twice"):
        build_all([request, request], tmp_path / "dist", cache_dir=tmp_path / "cache")
    with pytest.raises(ValueError, match="jobs"):
        build_all([request], tmp_path / "dist", jobs=0, cache_dir=tmp_path / "cache")
    assert build_all([], tmp_path / "dist", cache_dir=tmp_path / "cache") == {}


def test_result_types() -> None:
    result = BuildResult("a", True, None, None, None, "", 0.0)
    with pytest.raises(AttributeError):
        result.ok = False  # type: ignore[misc]


def test_uv_is_found_through_its_package_without_uv_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Item 17 of issue 8: `pip install monorepo-tools` into a venv, then venv/bin/monorepo
    # without activating it: PATH has no uv, the uv package's binary is used.
    import uv

    from monorepo_tools.publish.build import find_uv

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert shutil.which("uv", path="/usr/bin:/bin") is None
    assert find_uv() == uv.find_uv_bin()
    env = ensure_build_env(["hatchling"], tmp_path / "cache")
    assert '"installer": "uv"' in (env.path / ".monorepo-build-env.json").read_text(
        encoding="utf-8"
    )


def test_uv_on_path_is_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monorepo_tools.publish.build import find_uv

    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "uv"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setitem(sys.modules, "uv", None)
    assert find_uv({"PATH": str(bindir)}) == str(fake)
    assert find_uv({"PATH": str(tmp_path / "none")}) is None


def test_find_uv_is_safe_from_parallel_builds() -> None:
    """The first builds of a cold cache look for uv from several threads at once; sysconfig
    (which uv.find_uv_bin reads) fills its table lazily and, unguarded, handed a thread ``EXE =
    None`` (TypeError) or "dictionary changed size during iteration". Run in a child process:
    its sysconfig starts empty, and a tiny switch interval makes the race likely."""
    code = """
import sys, sysconfig, threading
from monorepo_tools.publish.build import find_uv
sys.setswitchinterval(1e-6)
errors = []
for _ in range(40):
    sysconfig._CONFIG_VARS = None  # as in a fresh process: filled on first use
    barrier = threading.Barrier(8)
    def look():
        barrier.wait()
        try:
            find_uv()
        except Exception as exc:
            errors.append(repr(exc))
    threads = [threading.Thread(target=look) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
assert not errors, errors[:3]
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_backends_see_the_build_env_first_on_path_and_their_own_variables(
    tmp_path: Path, build_cache: Path
) -> None:
    # uv_build/maturin-style backends run programs from the build env; per-package variables
    # (e.g. SETUPTOOLS_SCM_PRETEND_VERSION_FOR_X) reach the backend after the allowlist.
    dump = tmp_path / "env.json"
    hook = (
        "import json, os\n"
        "from hatchling.builders.hooks.plugin.interface import BuildHookInterface\n"
        "class CustomBuildHook(BuildHookInterface):\n"
        "    def initialize(self, version, build_data):\n"
        f"        open({str(dump)!r}, 'w').write(json.dumps(dict(os.environ)))\n"
    )
    source = make_package(
        tmp_path / "staged", "pkg-envs", extra_pyproject="[tool.hatch.build.hooks.custom]\n",
        files={"hatch_build.py": hook},
    )  # fmt: skip
    request = request_for(source)
    request = BuildRequest(
        request.name, request.source_dir, request.build_requires, request.build_backend,
        environment={"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PKG_ENVS": "0.1.0.dev7"},
    )  # fmt: skip
    results = build_all(
        [request], tmp_path / "dist", jobs=1, cache_dir=build_cache,
        env={"PATH": "/usr/bin:/bin", "MONOREPO_REPOSITORY_PASSWORD": "never-seen-by-hooks"}
        | {k: v for k, v in os.environ.items() if k in ("HOME", "TMPDIR")},
    )  # fmt: skip
    assert results["pkg-envs"].ok, results["pkg-envs"].error
    seen = json.loads(dump.read_text())
    first = Path(seen["PATH"].split(os.pathsep)[0])
    assert (first / "python").exists() and first.parent.parent == build_cache
    assert seen["SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PKG_ENVS"] == "0.1.0.dev7"
    assert seen["VIRTUAL_ENV"] == str(first.parent)


def test_backend_env_is_an_allowlist() -> None:
    from monorepo_tools._env import backend_env

    env = backend_env(
        {
            "PATH": "/bin", "HOME": "/h", "LC_ALL": "C", "SSL_CERT_FILE": "/ca.pem",
            "MONOREPO_REPOSITORY_URL": "https://u:tok@h/", "MONOREPO_INDEX_URL": "https://h/s",
            "CI_JOB_TOKEN": "t", "GITLAB_PYPI_PASSWORD": "p", "AWS_SECRET_ACCESS_KEY": "k",
            "HTTPS_PROXY": "http://u:pw@proxy:3128", "SETUPTOOLS_SCM_PRETEND_VERSION": "1.0",
            "SETUPTOOLS_SECRET_TOKEN": "s", "CFLAGS": "-O2 https://user:pw@host/x",
            "TMPDIR": "/tmp/known-secret-inside",
        },
        secrets=["known-secret"],
        extra={"EXTRA_FOR_BACKEND": "yes"},
    )  # fmt: skip
    assert {k for k in env if not k.startswith(("PIP_", "UV_"))} == {
        "PATH", "HOME", "LC_ALL", "SSL_CERT_FILE", "SETUPTOOLS_SCM_PRETEND_VERSION",
        "EXTRA_FOR_BACKEND",
    }  # fmt: skip
    assert env["PIP_CONFIG_FILE"] == os.devnull
    with_proxy = backend_env({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "x"}, proxies=True)
    assert with_proxy["HTTPS_PROXY"] == "http://proxy:3128" and with_proxy["NO_PROXY"] == "x"
