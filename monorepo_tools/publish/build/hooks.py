"""Calling PEP 517 hooks: pooled long-lived workers (``_worker.py``) for stateless backends, a
fresh process per hook (:mod:`pyproject_hooks`) for the rest; the backend's environment is the
allowlisted one, the build env's ``bin/`` first on PATH, the package's own variables last."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .envs import BuildEnv

#: Backends that keep no state between two builds in one process: their workers are reused.
STATELESS_BACKENDS = frozenset(
    {"hatchling.build", "flit_core.buildapi", "pdm.backend", "poetry.core.masonry.api"}
)


_WORKER_SCRIPT = Path(__file__).with_name("_worker.py")


_NO_EXTRA: Mapping[str, str] = MappingProxyType({})


class _HookError(Exception):
    """A hook failed; ``str()`` is the one-line reason, the details are in the hook's log."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class _Worker:
    """One ``_worker.py`` process serving one backend in one environment."""

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


@dataclass(frozen=True)
class _HookCall:
    """One hook call: which backend, in which build environment, on what, logged where."""

    build_env: BuildEnv
    backend: str
    backend_path: Sequence[str]
    hook: str
    source_dir: Path
    out_dir: Path | None
    log_path: Path
    extra: Mapping[str, str]

    @property
    def worker_key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        """Calls with the same key may share a pooled worker."""
        return (self.build_env.key, self.backend, tuple(sorted(self.extra.items())))


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
        call = _HookCall(
            build_env, backend, backend_path, hook, source_dir, out_dir, log_path, extra
        )
        if self.reusable(backend, backend_path):
            return self._call_worker(call)
        return self._call_fresh(call)

    # -- pooled workers

    def _acquire(self, call: _HookCall) -> _Worker:
        with self._lock:
            idle = self._idle.setdefault(call.worker_key, [])
            if idle:
                return idle.pop()
            self._count += 1
            number = self._count
        worker = _Worker(
            call.build_env.python,
            self.environment(call.build_env, call.extra),
            self.scratch / f"worker-{number}.log",
            self.scratch,
        )
        with self._lock:
            self._all.append(worker)
        return worker

    def _release(self, call: _HookCall, worker: _Worker) -> None:
        with self._lock:
            self._idle.setdefault(call.worker_key, []).append(worker)

    def _call_worker(self, call: _HookCall) -> Any:
        worker = self._acquire(call)
        request: dict[str, Any] = {
            "hook": call.hook,
            "source_dir": str(call.source_dir),
            "out_dir": None if call.out_dir is None else str(call.out_dir),
            "backend": call.backend,
            "backend_path": [],
            "log": str(call.log_path),
        }
        try:
            response = worker.call(request)
        except _HookError:
            worker.close()
            raise
        if response.get("ok"):
            self._release(call, worker)
            return response.get("return")
        kind = response.get("kind")
        if kind == "hook_missing":
            self._release(call, worker)
        else:
            worker.close()  # a backend that raised may be left in any state: never reuse it
        error = str(response.get("error") or "the hook failed")
        if kind == "backend_unavailable":
            raise _HookError(f"cannot import the build backend {call.backend!r}", error)
        raise _HookError(error)

    # -- fresh processes (pyproject_hooks, as pip and pypa/build do)

    def _call_fresh(self, call: _HookCall) -> Any:
        from pyproject_hooks import BackendUnavailable, BuildBackendHookCaller, HookMissing

        build_env, backend, hook, out_dir, log_path = (
            call.build_env, call.backend, call.hook, call.out_dir, call.log_path
        )  # fmt: skip
        environ = self.environment(build_env, call.extra)

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
                str(call.source_dir),
                backend,
                backend_path=list(call.backend_path) or None,
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
