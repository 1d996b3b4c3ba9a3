"""Post-publish verification: can a consumer install each package by version, with its pins only?

For every published package: a fresh virtual environment, ``pip install <name>==<version>``
from the registry just published to, then, inside that environment, a probe imports every
top-level module of the distribution and reads the version of *every* installed monorepo
package; each must be at its snapshot version (the requested one and its pins must be there).
Any difference fails the snapshot: the published set is then not consumable as a set.

Environments (issue: no credential in any form reaches third-party code):

* the **probe** imports published packages (third-party code): its environment is built from an
  allowlist (:data:`PROBE_ALLOWLIST`: PATH, locale, temp folder) with HOME an empty folder;
  nothing else of this process's environment, no index URL, no credential in any form (also
  not as userinfo in MONOREPO_REPOSITORY_URL / MONOREPO_INDEX_URL), reaches it;
* **pip** gets the same allowlist plus trust and proxy settings (:data:`PIP_ALLOWLIST`), no
  configuration file, ``PIP_NO_INPUT``, and the index with its credentials in ``PIP_INDEX_URL``:
  the environment of pip's own process only, never a command line.

Third-party dependencies: a registry without forwarding to PyPI cannot serve them. The failure
then names ``--verify-extra-index-url``; the local development index (a folder that holds only
this monorepo's packages) takes them from PyPI on its own.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from .._env import PROXY_VARIABLES, holds_credential
from .redact import redact
from .registry import Registry

__all__ = [
    "PIP_ALLOWLIST",
    "PROBE_ALLOWLIST",
    "PYPI",
    "InstallCheck",
    "make_venv",
    "pip_env",
    "probe_env",
    "verify_installs",
]

PYPI = "https://pypi.org/simple"

#: What the probe (which imports published, third-party code) may see of this environment.
PROBE_ALLOWLIST = frozenset(
    {"PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT", "WINDIR", "PATHEXT"}
)
#: What pip may see besides: trust settings (a TLS-inspecting proxy) and proxies.
PIP_ALLOWLIST = PROBE_ALLOWLIST | {
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "PIP_CACHE_DIR",
    "XDG_CACHE_HOME",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
}
_NOT_FOUND = re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)")

# Runs inside the fresh venv: stdlib only. Prints one JSON object.
_PROBE = r"""
import importlib, importlib.metadata as md, json, re, sys
name, expected = sys.argv[1], json.loads(sys.argv[2])
canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()
out = {"versions": {}, "modules": [], "errors": []}
for d in md.distributions():
    key = canon(d.metadata["Name"] or "")
    if key in expected:
        out["versions"][key] = d.version
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
    extra_index_url: str | None = None  # the extra index the set needs (None: none)


def _allowed(
    names: frozenset[str], base: Mapping[str, str], secrets: Sequence[str]
) -> dict[str, str]:
    """The variables of *base* named in *names* (and LC_*), minus any value holding a credential."""
    env: dict[str, str] = {}
    for key, value in base.items():
        if key not in names and not key.startswith("LC_"):
            continue
        if any(s and s in value for s in secrets):
            continue
        if key not in PROXY_VARIABLES and holds_credential(value):  # URL userinfo
            continue
        env[key] = value
    return env


def probe_env(
    home: Path, base: Mapping[str, str] | None = None, secrets: Sequence[str] = ()
) -> dict[str, str]:
    """The whole environment of the import probe: allowlisted names, HOME an empty folder."""
    env = _allowed(PROBE_ALLOWLIST, os.environ if base is None else base, secrets)
    env.update(HOME=str(home), PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def pip_env(
    home: Path,
    index_url: str,
    extra_index_url: str | None = None,
    base: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
) -> dict[str, str]:
    """pip's environment: the allowlist, no config file, no prompt, the index (credentials inside)."""
    env = _allowed(PIP_ALLOWLIST, os.environ if base is None else base, secrets)
    env.update(
        HOME=str(home),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PYTHONNOUSERSITE="1",
        PIP_INDEX_URL=index_url,
    )
    if extra_index_url:
        env["PIP_EXTRA_INDEX_URL"] = extra_index_url
    return env


def _index_with_credentials(registry: Registry) -> str:
    if registry.username is None or not registry.password:
        return registry.index_url
    parts = urlsplit(registry.index_url)
    netloc = f"{quote(registry.username, safe='')}:{quote(registry.password.reveal(), safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@functools.cache
def _uv_binary() -> str | None:
    """uv's binary from the ``uv`` package when installed (no PATH needed), else from PATH.

    Cached, and first called before any thread starts (``sysconfig``'s first use is not
    thread-safe: ``find_uv_bin`` then reads a None EXE).
    """
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError, TypeError):
        return shutil.which("uv")


def make_venv(path: Path) -> Path:
    """A fresh venv with pip only at *path*; its python.

    ``uv venv --seed`` (0.02 s) when uv is there, else ``python -m venv``. uv seeds setuptools
    and wheel too on Python < 3.12, and wheel brings ``packaging``: they are removed again, so
    that a third-party dependency a consumer's fresh venv lacks is missing here too.
    """
    uv = _uv_binary()
    env = {**os.environ, "UV_NO_CONFIG": "1"}
    python = path / ("Scripts" if os.name == "nt" else "bin") / "python"
    if not uv:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
        return python
    subprocess.run(
        [uv, "venv", "--quiet", "--seed", "--python", sys.executable, str(path)],
        check=True,
        capture_output=True,
        env=env,
    )
    frozen = subprocess.run(
        [uv, "pip", "freeze", "--python", str(python)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.split()
    extra = [
        line.split("==")[0] for line in frozen if "==" in line and not line.startswith("pip==")
    ]
    if extra:
        subprocess.run(
            [uv, "pip", "uninstall", "--quiet", "--python", str(python), *extra],
            check=True,
            capture_output=True,
            env=env,
        )
    return python


def _missing_third_party(output: str, monorepo: Mapping[str, str]) -> str | None:
    """The distribution pip could not find when it is not one of ours (else None)."""
    for match in _NOT_FOUND.finditer(output):
        name = match.group(1)
        if canonicalize_name(name) not in monorepo:
            return name
    return None


def _check_one(
    registry: Registry,
    name: str,
    version: str,
    pins: Mapping[str, str],
    monorepo: Mapping[str, str],
    work: Path,
    extra_index_url: str | None,
) -> InstallCheck:
    secrets = registry.secrets
    venv = work / name
    home = work / f"{name}.home"
    home.mkdir()
    try:
        python = make_venv(venv)
    except (OSError, subprocess.CalledProcessError) as exc:
        return InstallCheck(
            name, version, False, "venv", f"could not create a virtual environment: {exc}"
        )
    index = _index_with_credentials(registry)

    def install(extra: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"{name}=={version}"],
            capture_output=True,
            text=True,
            env=pip_env(home, index, extra, secrets=secrets),
            stdin=subprocess.DEVNULL,
        )

    used = extra_index_url
    done = install(used)
    output = (done.stderr or "") + (done.stdout or "")
    missing = _missing_third_party(output, monorepo) if done.returncode else None
    if missing and used is None and registry.kind == "local":
        # The local index is a folder of this monorepo's packages: it never forwards to PyPI.
        used = PYPI
        done = install(used)
        output = (done.stderr or "") + (done.stdout or "")
        missing = _missing_third_party(output, monorepo) if done.returncode else None
    if done.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-6:])
        advice = ""
        if missing and used is None:
            advice = (
                f"\n{missing} is a third-party dependency that {registry.index_url} does not "
                "serve (a registry without forwarding to PyPI): pass --verify-extra-index-url "
                f"{PYPI} (or enable package forwarding on the GitLab project)"
            )
        elif missing:
            advice = f"\n{missing} is in neither {registry.index_url} nor {used}"
        return InstallCheck(
            name,
            version,
            False,
            "install",
            redact(
                f"pip install {name}=={version} from {registry.index_url}"
                + (f" (extra index {used})" if used else "")
                + f" failed:\n{tail}{advice}",
                secrets,
            ),
            used or (PYPI if missing else None),  # what the set needs, for the install line
        )
    expected = {
        canonicalize_name(name): version,
        **{canonicalize_name(k): v for k, v in pins.items()},
    }
    everything = {**{canonicalize_name(k): v for k, v in monorepo.items()}, **expected}
    probe = subprocess.run(
        [str(python), "-c", _PROBE, name, json.dumps(everything)],
        capture_output=True,
        text=True,
        env=probe_env(home, secrets=secrets),
        stdin=subprocess.DEVNULL,
        cwd=home,
    )
    if probe.returncode != 0:
        return InstallCheck(
            name, version, False, "import", redact(probe.stderr.strip()[-800:], secrets), used
        )
    found = json.loads(probe.stdout)
    if found["errors"]:
        return InstallCheck(name, version, False, "import", "; ".join(found["errors"]), used)
    installed: dict[str, str] = found["versions"]
    wrong = [
        f"{dist} {installed.get(dist, 'not installed')} (expected {want})"
        for dist, want in everything.items()
        if (dist in expected or dist in installed) and installed.get(dist) != want
    ]
    if wrong:
        return InstallCheck(
            name,
            version,
            False,
            "version",
            "installed versions differ from the snapshot: " + ", ".join(wrong),
            used,
        )
    modules = ", ".join(found["modules"]) or "no top-level module"
    report = ", ".join(f"{dist} {installed[dist]}" for dist in sorted(installed))
    via = f"; third-party dependencies from {used}" if used else ""
    return InstallCheck(
        name,
        version,
        True,
        "passed",
        f"installed with its pins: {report}; imported {modules}{via}",
        used,
    )


def verify_installs(
    registry: Registry,
    packages: Sequence[tuple[str, str, Mapping[str, str]]],
    *,
    jobs: int | None = None,
    extra_index_url: str | None = None,
    monorepo_versions: Mapping[str, str] | None = None,
    on_done: Callable[[InstallCheck], None] | None = None,
) -> list[InstallCheck]:
    """Check every (name, version, pins) in a fresh venv each; results in the given order.

    ``monorepo_versions`` maps every monorepo package of the snapshot to its version: each one
    the install brings along must be at that version (default: the names and pins checked).
    """
    monorepo: dict[str, str] = {}
    for name, version, pins in packages:
        monorepo.update({canonicalize_name(k): v for k, v in pins.items()})
        monorepo[canonicalize_name(name)] = version
    monorepo.update({canonicalize_name(k): v for k, v in (monorepo_versions or {}).items()})
    _uv_binary()  # before the threads (see there)
    with tempfile.TemporaryDirectory(prefix="monorepo-verify-") as tmp:
        work = Path(tmp)

        def one(item: tuple[str, str, Mapping[str, str]]) -> InstallCheck:
            result = _check_one(
                registry, item[0], item[1], item[2], monorepo, work, extra_index_url
            )
            if on_done is not None:
                on_done(result)
            return result

        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            return list(pool.map(one, packages))
