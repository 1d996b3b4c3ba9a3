"""The entry point: :func:`build_all` builds every request in parallel, failures isolated."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..._env import backend_env
from .hooks import _Hooks
from .model import DEFAULT_SOURCE_DATE_EPOCH, BuildRequest, BuildResult
from .package import _Envs, _failure_message, _PackageBuild, _StepFailed


def build_all(
    requests: Sequence[BuildRequest],
    out_dir: Path,
    *,
    jobs: int | None = None,
    env: Mapping[str, str] | None = None,
    cache_dir: Path,
    on_event: Callable[[str, str], None] | None = None,
    source_date_epoch: str | int | None = None,
    while_building: Callable[[], object] | None = None,
) -> dict[str, BuildResult]:
    """Build an sdist and a wheel (from the sdist) of every request into *out_dir*.

    *jobs* packages build at once (default: the number of CPUs). *env* is the environment of the
    backends and installers (default: :func:`~monorepo_tools._env.backend_env` of this
    process's, an allowlist; the build env's ``bin/`` goes first on PATH, each request's
    ``environment`` is merged last); ``SOURCE_DATE_EPOCH`` is added when it
    lacks one (*source_date_epoch*, else 1980-01-01). Build environments are cached in
    *cache_dir*. ``on_event(name, "building" | "built" | "failed")`` reports progress, from
    worker threads. Returns one :class:`BuildResult` per request, in request order; a failure
    never stops the other packages. *while_building* runs in the calling thread once every build
    is under way (the builds run in backend processes, so this thread is free meanwhile: the
    snapshot imports twine there); an exception from it propagates after the builds end.
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
        sdist = wheel = None
        error: str | None = None
        try:
            sdist, wheel = job.run()
        except _StepFailed as failure:
            error = _failure_message(request.name, job.backend, failure)
        except Exception as exc:
            error = f"{request.name}: build failed ({job.backend}): {type(exc).__name__}: {exc}"
        finally:
            shutil.rmtree(package_scratch, ignore_errors=True)
        result = BuildResult(
            request.name,
            error is None,
            sdist,
            wheel,
            error,
            "".join(job.logs),
            time.monotonic() - started,
        )
        notify(request.name, "built" if result.ok else "failed")
        return result

    try:
        with ThreadPoolExecutor(
            max_workers=min(workers, len(requests)), thread_name_prefix="build"
        ) as pool:
            futures = [pool.submit(build_one, i, r) for i, r in enumerate(requests)]
            try:
                if while_building is not None:
                    while_building()
            finally:
                results = [f.result() for f in futures]
    finally:
        hooks.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return {r.name: r for r in results}
