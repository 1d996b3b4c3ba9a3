"""Build environments: one per distinct requirement set, cached on disk, created once (uv
through the ``uv`` package or PATH, else venv + pip), with the installer's environment
hermetic (no machine config, no index settings)."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..._env import PROXY_VARIABLES, backend_env, hermetic_env
from ..._io import write_atomic
from .model import BuildEnvError

_MARKER = ".monorepo-build-env.json"


_ENV_FORMAT = 1


_LAST_LINES = 8


def _normalize_requires(requires: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted({r.strip() for r in requires if r.strip()}))


def env_key(requires: Sequence[str]) -> str:
    """The cache key of an environment: its requirements and the Python that runs it."""
    payload = {
        "format": _ENV_FORMAT,
        "requires": list(_normalize_requires(requires)),
        "python": sys.version,
        "implementation": sys.implementation.cache_tag,
        "base_prefix": sys.base_prefix,
        "platform": sys.platform,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def _env_python(path: Path) -> Path:
    if os.name == "nt":
        return path / "Scripts" / "python.exe"
    return path / "bin" / "python"


class BuildEnv:
    """A complete build environment in the cache."""

    def __init__(self, key: str, path: Path, requires: tuple[str, ...]) -> None:
        self.key = key
        self.path = path
        self.requires = requires
        self.python = _env_python(path)
        self._installed: dict[str, importlib.metadata.Distribution] | None = None

    def __repr__(self) -> str:
        return f"BuildEnv({self.path}, requires={list(self.requires)})"

    def _site_packages(self) -> list[str]:
        found = sorted(str(p) for p in self.path.glob("lib/python*/site-packages"))
        return found or [str(self.path / "Lib" / "site-packages")]

    def installed(self) -> dict[str, importlib.metadata.Distribution]:
        if self._installed is None:
            found: dict[str, importlib.metadata.Distribution] = {}
            for dist in importlib.metadata.distributions(path=self._site_packages()):
                name = dist.metadata["Name"]
                if name:
                    found.setdefault(canonicalize_name(name), dist)
            self._installed = found
        return self._installed

    def missing(self, requirements: Sequence[str]) -> list[str]:
        """The requirements this environment does not satisfy (pypa/build's check semantics)."""
        return [r for r in requirements if not self._satisfied(r, frozenset({""}), set())]

    def _satisfied(
        self, text: str, extras: frozenset[str], seen: set[tuple[str, frozenset[str]]]
    ) -> bool:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            return False
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in extras):
            return True  # does not apply here
        dist = self.installed().get(canonicalize_name(req.name))
        if dist is None or req.url is not None:
            return False
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            return False
        if not req.extras:
            return True
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            return True
        seen.add(key)
        return all(self._satisfied(dep, frozenset(req.extras), seen) for dep in dist.requires or [])


_thread_locks: dict[str, threading.Lock] = {}


_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def _env_lock(cache_dir: Path, key: str) -> Iterator[None]:
    """One creator per environment: across threads, and across processes where flock exists."""
    with _thread_locks_guard:
        lock = _thread_locks.setdefault(f"{cache_dir.resolve()}/{key}", threading.Lock())
    with lock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: threads only
            yield
            return
        with open(cache_dir / f"{key}.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _intact(path: Path, requires: tuple[str, ...]) -> bool:
    try:
        marker = json.loads((path / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("requires") == list(requires)
        and marker.get("python") == sys.version
        and _env_python(path).exists()  # follows the symlink: a removed base interpreter fails
    )


def _installer_env(env: Mapping[str, str] | None) -> dict[str, str]:
    # No config files or index settings of the machine; its trust settings stay (see _env).
    # The installer downloads: the machine's proxy settings reach it (never a build backend).
    environ = hermetic_env(backend_env(os.environ) if env is None else env)
    for name in PROXY_VARIABLES:
        if name in os.environ and name not in environ:
            environ[name] = os.environ[name]
    environ.pop("VIRTUAL_ENV", None)
    environ.pop("PYTHONHOME", None)
    return environ


def _tail(text: str, count: int = _LAST_LINES) -> list[str]:
    """The last lines worth reading: traceback frames (file, code, carets) are left out."""
    kept: list[str] = []
    in_frame = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("Traceback (most recent call last)"):
            continue
        if stripped.startswith('File "') and ", line " in stripped:
            in_frame = True  # the next indented line is the frame's code
            continue
        if in_frame and line.startswith((" ", "\t")):
            continue
        in_frame = False
        if set(stripped) <= set("^~ "):
            continue
        if stripped.startswith(("The above exception was", "During handling of the above")):
            continue
        kept.append(line.rstrip()[:300])
    return kept[-count:]


def _run_installer(command: list[str], environ: Mapping[str, str], cwd: Path, what: str) -> str:
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise BuildEnvError(f"{what}: cannot run {command[0]}: {exc}") from exc
    output = (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        last = "\n    ".join(_tail(output)) or "(no output)"
        raise BuildEnvError(f"{what} failed (exit {done.returncode}):\n    {last}")
    return output


_FIND_UV_LOCK = threading.Lock()


def find_uv(environ: Mapping[str, str] | None = None) -> str | None:
    """The uv binary: the ``uv`` package's (:func:`uv.find_uv_bin`), else ``uv`` on PATH.

    Serialized: ``uv.find_uv_bin`` reads ``sysconfig``, whose first use fills its table
    lazily and is not thread-safe on Python 3.11 (a second thread saw ``EXE`` as None, and the
    first builds of a cold cache failed with a TypeError, now and then, in parallel builds)."""
    with _FIND_UV_LOCK, contextlib.suppress(ImportError, FileNotFoundError, OSError):
        import sysconfig

        import uv

        sysconfig.get_config_vars()  # filled once, under the lock
        found = uv.find_uv_bin()
        if found and os.access(found, os.X_OK):
            return str(found)
    path = (environ or os.environ).get("PATH")
    return shutil.which("uv", path=path)


def ensure_build_env(
    requires: Sequence[str], cache_dir: Path, *, env: Mapping[str, str] | None = None
) -> BuildEnv:
    """The cached build environment holding *requires*, created (once) when missing or broken.

    Raises :class:`BuildEnvError` with the installer's last lines when it cannot be created.
    """
    normalized = _normalize_requires(requires)
    key = env_key(normalized)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / key
    if _intact(path, normalized):
        return BuildEnv(key, path, normalized)
    with _env_lock(cache_dir, key):
        if _intact(path, normalized):  # made meanwhile by another thread or process
            return BuildEnv(key, path, normalized)
        if path.exists():
            shutil.rmtree(path)
        environ = _installer_env(env)
        listed = ", ".join(normalized) or "no requirements"
        uv = find_uv(environ)
        python = str(_env_python(path))
        steps: list[tuple[list[str], str]]
        if uv:
            installer = "uv"
            steps = [([uv, "venv", "--quiet", "--python", sys.executable, str(path)], "uv venv")]
            if normalized:
                steps.append(([uv, "pip", "install", "--python", python, "--", *normalized], "uv"))
        else:  # no uv: the standard library's venv, then pip without the machine's config
            installer = "pip"
            steps = [([sys.executable, "-m", "venv", str(path)], "python -m venv")]
            if normalized:
                pip = [python, "-m", "pip", "install", "--disable-pip-version-check"]
                steps.append(([*pip, "--no-input", "--", *normalized], "pip"))
        output: list[str] = []
        try:
            for index, (command, tool) in enumerate(steps):
                what = (
                    f"creating the build environment ({listed}) with {tool}"
                    if index == 0
                    else f"installing the build requirements {listed} with {tool}"
                )
                output.append(_run_installer(command, environ, cache_dir, what))
        except BuildEnvError as exc:
            shutil.rmtree(path, ignore_errors=True)
            raise BuildEnvError(
                f"{exc}\n  fix: check [build-system].requires ({listed}) and that the package"
                " index is reachable"
            ) from None
        (path / ".monorepo-install.log").write_text("".join(output), encoding="utf-8")
        marker = {
            "format": _ENV_FORMAT,
            "requires": list(normalized),
            "python": sys.version,
            "installer": installer,
            "created": time.time(),
        }
        # Written last: its presence says "complete".
        write_atomic(path / _MARKER, json.dumps(marker, indent=2) + "\n")
        return BuildEnv(key, path, normalized)
