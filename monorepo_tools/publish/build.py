"""Build the sdist and the wheel of every staged package, in parallel, as fast as it safely can.

What ``python -m build`` does per package (a fresh virtual environment, ``pip install`` of the
build requirements, one Python process per hook) costs seconds; the backend itself takes
milliseconds. So:

* **One build environment per distinct requirement set.** The sorted ``[build-system].requires``
  (plus whatever ``get_requires_for_build_*`` asks for that is not already there) is hashed with
  the Python version into a key; the environment ``<cache_dir>/<key>`` is created once with
  ``uv venv`` + ``uv pip install`` — uv is a dependency of this tool, its binary found with
  ``uv.find_uv_bin()`` (so a ``pip install``-ed tool run as ``venv/bin/monorepo`` without
  activating the venv still has it), else ``uv`` on PATH — and with ``python -m venv`` +
  ``pip install`` (hermetic environment, see ``_env``) only when neither exists, never reading the machine's pip/uv configuration, and kept for later runs. A
  marker file written last says it is complete; anything else found there is rebuilt.
* **Long-lived workers for stateless backends.** For ``hatchling.build``, ``flit_core.buildapi``,
  ``pdm.backend`` and ``poetry.core.masonry.api`` (without ``backend-path``) the hooks run in
  ``_build_worker.py``, started by the environment's Python, which imports the backend once and
  serves requests over a pipe (see that module for the protocol). Up to ``jobs`` packages build
  at once, each holding one worker. Every other backend (setuptools above all, which keeps
  global state) gets a fresh process per hook through :mod:`pyproject_hooks`, as pip and
  pypa/build do: correct first, fast where that is known to be safe.
* **The wheel is built from the sdist**, unpacked in a scratch folder, as ``python -m build``
  does: a file missing from the sdist fails the build here, not on a user's machine.
* **Reproducible output.** ``SOURCE_DATE_EPOCH`` is set when the caller's environment lacks it,
  so a rebuild of the same staged sources gives byte-identical files (hatchling is reproducible
  anyway), which is what makes re-running a snapshot idempotent.

A failing package (environment, sdist or wheel) is reported in its :class:`BuildResult`; the
other packages still build.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .._env import PROXY_VARIABLES, backend_env, hermetic_env
from .._io import write_atomic
from ..errors import PublishError

__all__ = [
    "DEFAULT_BUILD_REQUIRES",
    "DEFAULT_SOURCE_DATE_EPOCH",
    "LEGACY_BACKEND",
    "STATELESS_BACKENDS",
    "BuildEnv",
    "BuildEnvError",
    "BuildRequest",
    "BuildResult",
    "build_all",
    "ensure_build_env",
    "env_key",
    "find_uv",
]

#: PEP 517/518 defaults for a pyproject without a ``[build-system]`` table.
DEFAULT_BUILD_REQUIRES: tuple[str, ...] = ("setuptools>=40.8.0",)
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
#: 1980-01-01, the earliest time a zip file can hold.
DEFAULT_SOURCE_DATE_EPOCH = "315532800"
#: Backends that keep no state between two builds in one process: their workers are reused.
STATELESS_BACKENDS = frozenset(
    {"hatchling.build", "flit_core.buildapi", "pdm.backend", "poetry.core.masonry.api"}
)

_WORKER_SCRIPT = Path(__file__).with_name("_build_worker.py")
_MARKER = ".monorepo-build-env.json"
_ENV_FORMAT = 1
_LAST_LINES = 8
_NO_EXTRA: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class BuildRequest:
    name: str  # normalized package name
    source_dir: Path  # a staged copy of the package (its pyproject already rewritten)
    build_requires: tuple[str, ...]  # [build-system].requires; () with no backend → PEP 517 default
    build_backend: str | None  # None → setuptools.build_meta:__legacy__
    backend_path: tuple[str, ...] = ()
    #: Per-package variables for the backend (e.g. ``SETUPTOOLS_SCM_PRETEND_VERSION_FOR_X``),
    #: merged into the allowlisted backend environment last.
    environment: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class BuildResult:
    name: str
    ok: bool
    sdist: Path | None
    wheel: Path | None
    # Short: the package, the step (env, sdist, wheel) and the backend's last lines.
    error: str | None
    log: str  # full captured output of the backend (and of the installer when the env failed)
    seconds: float


class BuildEnvError(PublishError):
    """A build environment could not be created (bad requirement, index unreachable, ...)."""


# --------------------------------------------------------------------------------------------
# Build environments


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


def find_uv(environ: Mapping[str, str] | None = None) -> str | None:
    """The uv binary: the ``uv`` package's (:func:`uv.find_uv_bin`), else ``uv`` on PATH."""
    with contextlib.suppress(ImportError, FileNotFoundError, OSError):
        import uv

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


# --------------------------------------------------------------------------------------------
# Calling the hooks


class _HookError(Exception):
    """A hook failed; ``str()`` is the one-line reason, the details are in the hook's log."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class _Worker:
    """One ``_build_worker.py`` process serving one backend in one environment."""

    def __init__(self, python: Path, environ: Mapping[str, str], log_path: Path, cwd: Path) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [str(python), str(_WORKER_SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=dict(environ),
                cwd=cwd,
            )

    def call(self, request: Mapping[str, Any]) -> dict[str, Any]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
            line = stdout.readline()
        except OSError:
            line = b""
        if not line:
            code = self.process.wait()
            raise _HookError(f"the build worker exited with code {code}", self._stderr())
        response = json.loads(line)
        assert isinstance(response, dict)
        return response

    def _stderr(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def end_input(self) -> None:
        """Tell the worker there is nothing more (it exits after the request in hand)."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()

    def close(self) -> None:
        self.end_input()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class _Hooks:
    """Runs hooks: pooled workers for stateless backends, a fresh process for the rest."""

    def __init__(self, environ: Mapping[str, str], scratch: Path) -> None:
        self.environ = dict(environ)
        self.scratch = scratch
        self._idle: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[_Worker]] = {}
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._count = 0

    @staticmethod
    def reusable(backend: str, backend_path: Sequence[str]) -> bool:
        return backend in STATELESS_BACKENDS and not backend_path

    def environment(
        self, build_env: BuildEnv, extra: Mapping[str, str] = _NO_EXTRA
    ) -> dict[str, str]:
        """The backend's environment: the allowlisted base, the build env's ``bin/`` first on
        PATH (backends such as uv_build or maturin run programs installed there), then the
        package's own *extra* variables."""
        environ = dict(self.environ)
        bindir = str(build_env.python.parent)
        environ["PATH"] = os.pathsep.join(p for p in (bindir, environ.get("PATH", "")) if p)
        environ["VIRTUAL_ENV"] = str(build_env.path)
        environ.update(extra)
        return environ

    def call(
        self,
        build_env: BuildEnv,
        backend: str,
        backend_path: Sequence[str],
        hook: str,
        source_dir: Path,
        out_dir: Path | None,
        log_path: Path,
        extra: Mapping[str, str] = _NO_EXTRA,
    ) -> Any:
        if self.reusable(backend, backend_path):
            return self._call_worker(
                build_env, backend, hook, source_dir, out_dir, log_path, extra
            )
        return self._call_fresh(
            build_env, backend, backend_path, hook, source_dir, out_dir, log_path, extra
        )

    # -- pooled workers

    def _acquire(
        self, build_env: BuildEnv, backend: str, extra: Mapping[str, str]
    ) -> _Worker:
        key = (build_env.key, backend, tuple(sorted(extra.items())))
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if idle:
                return idle.pop()
            self._count += 1
            number = self._count
        worker = _Worker(
            build_env.python,
            self.environment(build_env, extra),
            self.scratch / f"worker-{number}.log",
            self.scratch,
        )
        with self._lock:
            self._all.append(worker)
        return worker

    def _release(
        self, build_env: BuildEnv, backend: str, worker: _Worker, extra: Mapping[str, str]
    ) -> None:
        key = (build_env.key, backend, tuple(sorted(extra.items())))
        with self._lock:
            self._idle.setdefault(key, []).append(worker)

    def _call_worker(
        self,
        build_env: BuildEnv,
        backend: str,
        hook: str,
        source_dir: Path,
        out_dir: Path | None,
        log_path: Path,
        extra: Mapping[str, str],
    ) -> Any:
        worker = self._acquire(build_env, backend, extra)
        request: dict[str, Any] = {
            "hook": hook,
            "source_dir": str(source_dir),
            "out_dir": None if out_dir is None else str(out_dir),
            "backend": backend,
            "backend_path": [],
            "log": str(log_path),
        }
        try:
            response = worker.call(request)
        except _HookError:
            worker.close()
            raise
        if response.get("ok"):
            self._release(build_env, backend, worker, extra)
            return response.get("return")
        kind = response.get("kind")
        if kind == "hook_missing":
            self._release(build_env, backend, worker, extra)
        else:
            worker.close()  # a backend that raised may be left in any state: never reuse it
        error = str(response.get("error") or "the hook failed")
        if kind == "backend_unavailable":
            raise _HookError(f"cannot import the build backend {backend!r}", error)
        raise _HookError(error)

    # -- fresh processes (pyproject_hooks, as pip and pypa/build do)

    def _call_fresh(
        self,
        build_env: BuildEnv,
        backend: str,
        backend_path: Sequence[str],
        hook: str,
        source_dir: Path,
        out_dir: Path | None,
        log_path: Path,
        extra: Mapping[str, str],
    ) -> Any:
        from pyproject_hooks import BackendUnavailable, BuildBackendHookCaller, HookMissing

        environ = self.environment(build_env, extra)

        def runner(
            cmd: Sequence[str],
            cwd: str | None = None,
            extra_environ: Mapping[str, str] | None = None,
        ) -> None:
            with open(log_path, "ab") as log:
                subprocess.run(
                    list(cmd),
                    cwd=cwd,
                    env={**environ, **(extra_environ or {})},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=True,
                )

        try:
            caller = BuildBackendHookCaller(
                str(source_dir),
                backend,
                backend_path=list(backend_path) or None,
                runner=runner,
                python_executable=str(build_env.python),
            )
            if hook == "build_sdist":
                assert out_dir is not None
                return caller.build_sdist(str(out_dir))
            if hook == "build_wheel":
                assert out_dir is not None
                return caller.build_wheel(str(out_dir))
            if hook == "get_requires_for_build_sdist":
                return caller.get_requires_for_build_sdist()
            if hook == "get_requires_for_build_wheel":
                return caller.get_requires_for_build_wheel()
            raise _HookError(f"unknown hook {hook}")
        except BackendUnavailable as exc:
            raise _HookError(
                f"cannot import the build backend {backend!r}", exc.traceback
            ) from None
        except HookMissing as exc:
            raise _HookError(f"the build backend {backend!r} has no {exc.hook_name} hook") from None
        except subprocess.CalledProcessError as exc:
            raise _HookError(f"the backend process exited with code {exc.returncode}") from None
        except (OSError, ValueError) as exc:  # bad backend-path, interpreter gone, ...
            raise _HookError(f"{hook} could not run: {exc}") from None

    def close(self) -> None:
        with self._lock:
            workers, self._all, self._idle = self._all, [], {}
        for worker in workers:  # all at once: they exit in parallel
            worker.end_input()
        for worker in workers:
            worker.close()


# --------------------------------------------------------------------------------------------
# One package


class _StepFailed(Exception):
    def __init__(self, step: str, message: str, lines: Sequence[str]) -> None:
        super().__init__(message)
        self.step = step
        self.lines = list(lines)


class _Envs:
    """Environments for this run, each resolved once (``ensure_build_env`` is cached on disk)."""

    def __init__(self, cache_dir: Path, environ: Mapping[str, str]) -> None:
        self.cache_dir = cache_dir
        self.environ = environ
        self._done: dict[tuple[str, ...], BuildEnv | BuildEnvError] = {}
        self._locks: dict[tuple[str, ...], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, requires: Sequence[str]) -> BuildEnv:
        normalized = _normalize_requires(requires)
        with self._guard:
            lock = self._locks.setdefault(normalized, threading.Lock())
        with lock:
            if normalized not in self._done:
                try:
                    self._done[normalized] = ensure_build_env(
                        normalized, self.cache_dir, env=self.environ
                    )
                except BuildEnvError as exc:
                    self._done[normalized] = exc
            found = self._done[normalized]
        if isinstance(found, BuildEnvError):
            raise found
        return found


def _unpack_sdist(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(into, filter="data")
        else:  # pragma: no cover - Python < 3.11.4
            archive.extractall(into)
    tops = [p for p in into.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise ValueError(f"{sdist.name} does not hold exactly one top-level folder")
    return tops[0]


class _PackageBuild:
    def __init__(
        self, request: BuildRequest, out_dir: Path, scratch: Path, envs: _Envs, hooks: _Hooks
    ) -> None:
        self.request = request
        self.out_dir = out_dir
        self.scratch = scratch
        self.envs = envs
        self.hooks = hooks
        self.backend = request.build_backend or LEGACY_BACKEND
        requires = request.build_requires
        if not requires and request.build_backend is None:  # no [build-system] table (PEP 517)
            requires = DEFAULT_BUILD_REQUIRES
        self.requires = tuple(requires)
        self.logs: list[str] = []
        self._hook_count = 0

    def _hook(
        self, step: str, build_env: BuildEnv, hook: str, source_dir: Path, out_dir: Path | None
    ) -> Any:
        self._hook_count += 1
        log_path = self.scratch / f"{self._hook_count:02d}-{hook}.log"
        log_path.touch()
        try:
            value = self.hooks.call(
                build_env,
                self.backend,
                self.request.backend_path,
                hook,
                source_dir,
                out_dir,
                log_path,
                self.request.environment,
            )
        except _HookError as exc:
            output = self._read_log(hook, log_path, extra=exc.details)
            lines = _tail(output) or _tail(exc.details)
            if lines and lines[-1].strip().endswith(str(exc)):  # already in the first line
                lines.pop()
            raise _StepFailed(step, f"{hook} failed: {exc}", lines) from None
        self._read_log(hook, log_path)
        return value

    def _read_log(self, hook: str, log_path: Path, extra: str = "") -> str:
        text = log_path.read_text(encoding="utf-8", errors="replace")
        if extra and extra.strip() not in text:
            text = f"{text}{extra}"
        self.logs.append(
            f"--- {hook} ({self.backend}) ---\n{text}"
            if text.strip()
            else f"--- {hook} ({self.backend}) ---\n"
        )
        return text

    def _env(self, requires: Sequence[str]) -> BuildEnv:
        try:
            return self.envs.get(requires)
        except BuildEnvError as exc:
            self.logs.append(f"--- build environment ---\n{exc}\n")
            first, *rest = str(exc).splitlines()
            raise _StepFailed(
                "env", f"creating the build environment failed: {first}", [r.strip() for r in rest]
            ) from None

    def _env_for(self, step: str, base: BuildEnv, extra: Any) -> BuildEnv:
        if not isinstance(extra, list) or not all(isinstance(r, str) for r in extra):
            raise _StepFailed(
                step, f"get_requires_for_build_{step} returned {extra!r}, not a list of strings", []
            )
        missing = base.missing(extra)
        if not missing:
            return base
        return self._env([*self.requires, *missing])

    def _produce(self, step: str, build_env: BuildEnv, source_dir: Path, suffix: str) -> Path:
        hook = f"build_{step}"
        out = self.scratch / f"{step}-out"
        out.mkdir()
        name = self._hook(step, build_env, hook, source_dir, out)
        if not isinstance(name, str) or not (out / name).is_file() or not name.endswith(suffix):
            raise _StepFailed(
                step, f"{hook} returned {name!r}, which is not a {suffix} file it wrote", []
            )
        target = self.out_dir / name
        os.replace(out / name, target)
        return target

    def run(self) -> tuple[Path, Path]:
        request = self.request
        base = self._env(self.requires)
        sdist_env = self._env_for(
            "sdist",
            base,
            self._hook("sdist", base, "get_requires_for_build_sdist", request.source_dir, None),
        )
        sdist = self._produce("sdist", sdist_env, request.source_dir, ".tar.gz")
        try:
            unpacked = _unpack_sdist(sdist, self.scratch / "unpacked")
        except (OSError, tarfile.TarError, ValueError) as exc:
            raise _StepFailed(
                "wheel", f"cannot unpack {sdist.name} to build the wheel from it: {exc}", []
            ) from None
        wheel_env = self._env_for(
            "wheel", base, self._hook("wheel", base, "get_requires_for_build_wheel", unpacked, None)
        )
        wheel = self._produce("wheel", wheel_env, unpacked, ".whl")
        return sdist, wheel


def _failure_message(name: str, backend: str, failure: _StepFailed) -> str:
    what = {"env": "build environment", "sdist": "sdist", "wheel": "wheel"}.get(
        failure.step, failure.step
    )
    head = f"{name}: {what} failed ({backend}): {failure}"
    if not failure.lines:
        return head
    return head + "\n    " + "\n    ".join(failure.lines)


# --------------------------------------------------------------------------------------------
# Public entry point


def build_all(
    requests: Sequence[BuildRequest],
    out_dir: Path,
    *,
    jobs: int | None = None,
    env: Mapping[str, str] | None = None,
    cache_dir: Path,
    on_event: Callable[[str, str], None] | None = None,
    source_date_epoch: str | int | None = None,
) -> dict[str, BuildResult]:
    """Build an sdist and a wheel (from the sdist) of every request into *out_dir*.

    *jobs* packages build at once (default: the number of CPUs). *env* is the environment of the
    backends and installers (default: :func:`~monorepo_tools._env.backend_env` of this
    process's, an allowlist; the build env's ``bin/`` goes first on PATH, each request's
    ``environment`` is merged last); ``SOURCE_DATE_EPOCH`` is added when it
    lacks one (*source_date_epoch*, else 1980-01-01). Build environments are cached in
    *cache_dir*. ``on_event(name, "building" | "built" | "failed")`` reports progress, from
    worker threads. Returns one :class:`BuildResult` per request, in request order; a failure
    never stops the other packages.
    """
    names = [r.name for r in requests]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(
            f"build_all: the same package was requested twice: {', '.join(duplicates)}"
        )
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"build_all: jobs must be at least 1, not {jobs}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cache_dir)
    # Third-party code sees an allowlist, never the caller's whole environment (see _env).
    environ = backend_env(os.environ) if env is None else dict(env)
    if "SOURCE_DATE_EPOCH" not in environ:
        environ["SOURCE_DATE_EPOCH"] = str(
            source_date_epoch if source_date_epoch is not None else DEFAULT_SOURCE_DATE_EPOCH
        )
    if not requests:
        return {}

    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir))  # same device: os.replace
    hooks = _Hooks(environ, scratch)
    envs = _Envs(cache_dir, environ)
    notify: Callable[[str, str], None] = on_event or (lambda _name, _event: None)

    def build_one(index: int, request: BuildRequest) -> BuildResult:
        started = time.monotonic()
        notify(request.name, "building")
        package_scratch = scratch / f"{index:03d}-{request.name}"
        package_scratch.mkdir()
        job = _PackageBuild(request, out_dir, package_scratch, envs, hooks)
        try:
            sdist, wheel = job.run()
        except _StepFailed as failure:
            result = BuildResult(
                request.name,
                False,
                None,
                None,
                _failure_message(request.name, job.backend, failure),
                "".join(job.logs),
                time.monotonic() - started,
            )
        except Exception as exc:
            message = f"{request.name}: build failed ({job.backend}): {type(exc).__name__}: {exc}"
            result = BuildResult(
                request.name,
                False,
                None,
                None,
                message,
                "".join(job.logs),
                time.monotonic() - started,
            )
        else:
            result = BuildResult(
                request.name,
                True,
                sdist,
                wheel,
                None,
                "".join(job.logs),
                time.monotonic() - started,
            )
        finally:
            shutil.rmtree(package_scratch, ignore_errors=True)
        notify(request.name, "built" if result.ok else "failed")
        return result

    try:
        with ThreadPoolExecutor(
            max_workers=min(workers, len(requests)), thread_name_prefix="build"
        ) as pool:
            futures = [pool.submit(build_one, i, r) for i, r in enumerate(requests)]
            results = [f.result() for f in futures]
    finally:
        hooks.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return {r.name: r for r in results}
