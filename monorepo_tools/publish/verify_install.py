"""Post-publish verification: can a consumer install each package by version, with its pins only?

For every published package: a fresh virtual environment, ``pip install <name>==<version>``
from the registry just published to (credentials only in the child's environment, never on its
command line), then, inside that environment, import every top-level module of the
distribution and compare the installed versions of the package and of each monorepo package it
pins with the snapshot versions. Any difference fails the snapshot: the published set is then
not consumable as a set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from .._env import hermetic_env
from .redact import redact
from .registry import Registry

__all__ = ["InstallCheck", "make_venv", "verify_installs"]

# Runs inside the fresh venv: stdlib only. Prints one JSON object.
_PROBE = r"""
import importlib, importlib.metadata as md, json, sys
name, expected = sys.argv[1], json.loads(sys.argv[2])
out = {"versions": {}, "modules": [], "errors": []}
for dist, version in expected.items():
    try:
        out["versions"][dist] = md.version(dist)
    except md.PackageNotFoundError:
        out["versions"][dist] = None
dist = md.distribution(name)
top = (dist.read_text("top_level.txt") or "").split()
if not top:
    for f in dist.files or ():
        parts = f.parts
        if len(parts) == 2 and parts[1] == "__init__.py" and not parts[0].endswith((".dist-info", ".data")):
            top.append(parts[0])
        elif len(parts) == 1 and parts[0].endswith(".py"):
            top.append(parts[0][:-3])
for module in sorted(set(top)):
    try:
        importlib.import_module(module)
        out["modules"].append(module)
    except Exception as exc:
        out["errors"].append(f"import {module}: {type(exc).__name__}: {exc}")
print(json.dumps(out))
"""


@dataclass(frozen=True, slots=True)
class InstallCheck:
    name: str
    version: str
    ok: bool
    step: str  # "venv" | "install" | "import" | "version" | "passed"
    message: str


def _index_with_credentials(registry: Registry) -> str:
    if registry.username is None or not registry.password:
        return registry.index_url
    parts = urlsplit(registry.index_url)
    netloc = f"{quote(registry.username, safe='')}:{quote(registry.password.reveal(), safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def make_venv(path: Path) -> Path:
    """A fresh venv with pip at *path* (``uv venv --seed``: 0.02 s; else ``python -m venv``); its python."""
    uv = shutil.which("uv")
    env = {**os.environ, "UV_NO_CONFIG": "1"}
    if uv:
        subprocess.run(
            [uv, "venv", "--quiet", "--seed", "--python", sys.executable, str(path)],
            check=True,
            capture_output=True,
            env=env,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
    return path / ("Scripts" if os.name == "nt" else "bin") / "python"


def _check_one(
    registry: Registry,
    name: str,
    version: str,
    pins: Mapping[str, str],
    work: Path,
    extra_index_url: str | None,
) -> InstallCheck:
    secrets = registry.secrets
    venv = work / name
    try:
        python = make_venv(venv)
    except (OSError, subprocess.CalledProcessError) as exc:
        return InstallCheck(
            name, version, False, "venv", f"could not create a virtual environment: {exc}"
        )
    env = {
        k: v
        for k, v in hermetic_env().items()
        if k
        not in (
            "GITLAB_PYPI_PASSWORD",
            "MONOREPO_REPOSITORY_PASSWORD",
            "CI_JOB_TOKEN",
            "TWINE_PASSWORD",
        )
    }
    # The index (with credentials) travels in the environment: never on a command line.
    env.update(PIP_INDEX_URL=_index_with_credentials(registry), PIP_NO_INPUT="1")
    if extra_index_url:
        env["PIP_EXTRA_INDEX_URL"] = extra_index_url
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"{name}=={version}"],
        capture_output=True,
        text=True,
        env=env,
    )
    if install.returncode != 0:
        tail = "\n".join((install.stderr or install.stdout).strip().splitlines()[-6:])
        return InstallCheck(
            name,
            version,
            False,
            "install",
            redact(
                f"pip install {name}=={version} from {registry.index_url} failed:\n{tail}", secrets
            ),
        )
    expected = {name: version, **pins}
    probe = subprocess.run(
        [str(python), "-c", _PROBE, name, json.dumps(expected)],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if k != "PIP_INDEX_URL"},
    )
    if probe.returncode != 0:
        return InstallCheck(
            name, version, False, "import", redact(probe.stderr.strip()[-800:], secrets)
        )
    found = json.loads(probe.stdout)
    if found["errors"]:
        return InstallCheck(name, version, False, "import", "; ".join(found["errors"]))
    wrong = [
        f"{dist} {found['versions'].get(dist)} (expected {want})"
        for dist, want in expected.items()
        if found["versions"].get(dist) != want
    ]
    if wrong:
        return InstallCheck(
            name,
            version,
            False,
            "version",
            "installed versions differ from the snapshot: " + ", ".join(wrong),
        )
    modules = ", ".join(found["modules"]) or "no top-level module"
    return InstallCheck(
        name, version, True, "passed", f"installed with its pins; imported {modules}"
    )


def verify_installs(
    registry: Registry,
    packages: Sequence[tuple[str, str, Mapping[str, str]]],
    *,
    jobs: int | None = None,
    extra_index_url: str | None = None,
    on_done: Callable[[InstallCheck], None] | None = None,
) -> list[InstallCheck]:
    """Check every (name, version, pins) in a fresh venv each; results in the given order."""
    with tempfile.TemporaryDirectory(prefix="monorepo-verify-") as tmp:
        work = Path(tmp)

        def one(item: tuple[str, str, Mapping[str, str]]) -> InstallCheck:
            result = _check_one(registry, item[0], item[1], item[2], work, extra_index_url)
            if on_done is not None:
                on_done(result)
            return result

        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            return list(pool.map(one, packages))
