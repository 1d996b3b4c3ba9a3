"""One package's build: its environment(s), sdist, then the wheel from the unpacked sdist."""

from __future__ import annotations

import os
import tarfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .envs import BuildEnv, _normalize_requires, _tail, ensure_build_env
from .hooks import _HookError, _Hooks
from .model import DEFAULT_BUILD_REQUIRES, LEGACY_BACKEND, BuildEnvError, BuildRequest


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
