"""Metadata only the backend can tell: PEP 517 ``prepare_metadata_for_build_wheel``.

For packages whose name, version or requirements cannot be read statically (``setup.py``
only; ``dynamic = ["dependencies"]`` filled by a metadata hook), the package's own backend is
asked, in its build environment (the one ``publish.build`` makes, with the environment's
``bin/`` on PATH), for the ``METADATA`` it would write. Its ``Name``, ``Version`` and
``Requires-Dist`` fill the package, so it appears in the graph with its real edges.

* **Cached by content**: the key is a hash of every file of the package folder (names,
  sizes, bytes; build outputs and VCS folders excluded), the backend, its requirements and the
  Python version: a repeated ``check`` reads one small JSON file per package and starts no
  process. Cache files live in ``.monorepo/cache/metadata/``.
* **Never silent**: a backend that cannot be prepared (no index, a failing ``setup.py``)
  gives the package a ``metadata-unavailable`` problem naming the step and the output's tail.
* ``MONOREPO_METADATA_HOOK=0`` turns the hook off (``check`` on a machine without an index);
  the problem then says so.
* ``publish.build`` is imported lazily, only when a package needs it: ``check`` on a plain
  repository never imports it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import replace
from email.parser import HeaderParser
from pathlib import Path

from ...config import Config
from ..model import Dependency, EdgeKind, Package, Problem
from .common import INTERNER

__all__ = ["complete", "read_metadata"]

_SKIP_DIRS = {".git", ".hg", "__pycache__", ".venv", "venv", ".nox", ".tox", "build", "dist"}
_MAX_FILES = 5000
_FORMAT = 1


def _content_key(folder: Path, backend: str, requires: Sequence[str]) -> str | None:
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(f"{_FORMAT}\0{backend}\0{sorted(requires)}\0{sys.version_info[:2]}\0".encode())
    count = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")
        )
        for name in sorted(filenames):
            count += 1
            if count > _MAX_FILES:
                return None
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            hasher.update(os.path.relpath(path, folder).encode("utf-8", "surrogateescape") + b"\0")
            hasher.update(len(data).to_bytes(8, "little") + data)
    return hasher.hexdigest()


def read_metadata(text: str) -> tuple[str | None, str | None, list[str]]:
    """(Name, Version, Requires-Dist) of a METADATA / PKG-INFO text."""
    message = HeaderParser().parsestr(text)
    return message.get("Name"), message.get("Version"), list(message.get_all("Requires-Dist") or [])


_HOOK_SCRIPT = r"""
import json, os, sys
sys.path[:0] = [p for p in json.loads(sys.argv[3]) if p]
backend_name = sys.argv[1]
module, _, attr = backend_name.partition(":")
import importlib
backend = importlib.import_module(module)
for part in filter(None, attr.split(".")):
    backend = getattr(backend, part)
out = sys.argv[2]
if out == "--requires":
    get = getattr(backend, "get_requires_for_build_wheel", None)
    print(json.dumps({"requires": list(get({}) if get else [])}))
    raise SystemExit(0)
hook = getattr(backend, "prepare_metadata_for_build_wheel", None)
if hook is not None:
    name = hook(out, {})
    print(json.dumps({"dist_info": name}))
else:
    name = backend.build_wheel(out, {})
    print(json.dumps({"wheel": name}))
"""


def _prepare(package: Package, folder: Path, env_dir: Path) -> str:
    """The METADATA text the backend of *package* (in *folder*) writes; raises RuntimeError."""
    from ...publish.build import (
        DEFAULT_BUILD_REQUIRES,
        LEGACY_BACKEND,
        ensure_build_env,
    )

    backend = package.build_backend or LEGACY_BACKEND
    requires = package.build_requires or (
        DEFAULT_BUILD_REQUIRES if package.build_backend is None else ()
    )
    from ..._env import backend_env

    backend_path = [str(folder / p) for p in _backend_path(folder)]

    def run(build_env: object, out: str, what: str) -> dict[str, object]:
        python = build_env.python  # type: ignore[attr-defined]
        environ = backend_env()  # third-party code: no credential reaches it
        environ["PATH"] = str(python.parent) + os.pathsep + environ.get("PATH", "")
        try:
            completed = subprocess.run(
                [str(python), "-c", _HOOK_SCRIPT, backend, out, json.dumps(backend_path)],
                cwd=folder,
                env=environ,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise RuntimeError(f"the backend could not be run: {exc}") from None
        if completed.returncode != 0:
            tail = " | ".join((completed.stderr or completed.stdout).strip().splitlines()[-3:])
            raise RuntimeError(f"{backend} {what} failed: {tail}")
        answer: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
        return answer

    def env_for(wanted: Sequence[str]) -> object:
        try:
            return ensure_build_env(tuple(wanted), env_dir)
        except Exception as exc:  # BuildEnvError and whatever the installer raised
            raise RuntimeError(f"creating the build environment failed: {exc}") from None

    build_env = env_for(requires)
    extra = run(build_env, "--requires", "get_requires_for_build_wheel").get("requires") or []
    if isinstance(extra, list) and extra:  # e.g. "wheel" for setuptools < 70.1, as pypa/build
        build_env = env_for(sorted({*requires, *(str(r) for r in extra)}))
    with tempfile.TemporaryDirectory(prefix="monorepo-metadata-") as out:
        answer = run(build_env, out, "prepare_metadata_for_build_wheel")
        if "dist_info" in answer:
            return (Path(out) / str(answer["dist_info"]) / "METADATA").read_text(encoding="utf-8")
        import zipfile

        with zipfile.ZipFile(Path(out) / str(answer["wheel"])) as wheel:
            name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
            return wheel.read(name).decode("utf-8")


def _backend_path(folder: Path) -> list[str]:
    from .toml import TomlError, loads

    try:
        doc = loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TomlError):
        return []
    system = doc.get("build-system", {})
    paths = system.get("backend-path", []) if isinstance(system, dict) else []
    return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []


def _dependencies(package: Package, folder: str, requires: Iterable[str]) -> list[Dependency]:
    """Requires-Dist lines as dependencies: ``extra == "x"`` markers make optional ones."""
    import re

    out: list[Dependency] = []
    for text in requires:
        match = re.search(r"""extra\s*==\s*["']([^"']+)["']""", text)
        parsed = INTERNER.requirement(text, folder)
        if parsed.error is not None:
            continue
        if match:
            out.append(
                INTERNER.dependency(
                    parsed, EdgeKind.OPTIONAL, match.group(1), "metadata.requires-dist"
                )
            )
        else:
            out.append(
                INTERNER.dependency(parsed, EdgeKind.RUNTIME, None, "metadata.requires-dist")
            )
    return out


def _apply(package: Package, package_dir: str, text: str) -> Package:
    name, version, requires = read_metadata(text)
    changes: dict[str, object] = {}
    if "name" in package.needs_metadata and name:
        from packaging.utils import canonicalize_name

        changes["name"] = canonicalize_name(name)
        changes["declared_name"] = name
    if "version" in package.needs_metadata and version:
        changes["version"] = version
        changes["version_source"] = "PEP 517 metadata"
    if (
        "dependencies" in package.needs_metadata
        or "optional-dependencies" in package.needs_metadata
    ):
        kept = [d for d in package.dependencies if d.kind is EdgeKind.DEV]
        static = [d for d in package.dependencies if d.kind is not EdgeKind.DEV]
        found = _dependencies(package, package_dir, requires)
        known = {(d.kind, d.group, d.raw) for d in static}
        extra = [d for d in found if (d.kind, d.group, d.raw) not in known]
        changes["dependencies"] = tuple(static + extra + kept)
    return replace(package, **changes)  # type: ignore[arg-type]


def complete(config: Config, packages: list[Package]) -> list[Package]:
    """*packages* with the metadata of those that need their backend filled in."""
    wanted = [i for i, p in enumerate(packages) if p.needs_metadata and not p.problems]
    if not wanted:
        return packages
    out = list(packages)
    cache = config.state_dir / "cache" / "metadata"
    enabled = os.environ.get("MONOREPO_METADATA_HOOK", "1").strip().lower() not in (
        "0",
        "false",
        "no",
    )
    env_dir = Path(os.environ.get("MONOREPO_BUILD_ENV_DIR") or config.state_dir / "build-envs")
    for index in wanted:
        package = packages[index]
        folder = config.root / package.path
        key = _content_key(folder, package.build_backend or "", package.build_requires)
        text: str | None = None
        cached = cache / f"{key}.json" if key else None
        if cached is not None:
            try:
                text = json.loads(cached.read_text(encoding="utf-8"))["metadata"]
            except (OSError, ValueError, KeyError, TypeError):
                text = None
        if text is None:
            if not enabled:
                out[index] = _unavailable(
                    package, "MONOREPO_METADATA_HOOK=0 turned the PEP 517 metadata hook off"
                )
                continue
            try:
                text = _prepare(package, folder, env_dir)
            except RuntimeError as exc:
                out[index] = _unavailable(package, str(exc))
                continue
            if cached is not None:
                from ..._io import ensure_state_dir, write_bytes_atomic

                try:
                    ensure_state_dir(config.state_dir)
                    cache.mkdir(parents=True, exist_ok=True)
                    write_bytes_atomic(cached, json.dumps({"metadata": text}).encode("utf-8"))
                except OSError:
                    pass
        out[index] = _apply(package, folder.as_posix(), text)
    return out


def _unavailable(package: Package, why: str) -> Package:
    fields = ", ".join(package.needs_metadata)
    problem = Problem(
        "(file)",
        f"needs its backend to tell {fields} (PEP 517 prepare_metadata_for_build_wheel), and "
        f"that failed: {why}",
        "make the build environment installable (an index reachable, build-system.requires "
        "right) or declare the metadata statically in [project]",
        code="metadata-unavailable",
    )
    return replace(package, problems=(*package.problems, problem))
