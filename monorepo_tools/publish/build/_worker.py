"""A long-lived PEP 517 hook runner, run as a script by a build environment's Python.

It must import nothing from ``monorepo_tools`` (the build environment does not have it) and
only the standard library.  The protocol, one JSON object per line:

* requests on **stdin**::

      {"hook": "build_sdist" | "build_wheel" | "get_requires_for_build_sdist"
               | "get_requires_for_build_wheel",
       "source_dir": "...", "out_dir": "..." (build hooks), "log": "...",
       "backend": "hatchling.build", "backend_path": []}

* responses on the process's original **stdout**, which the worker keeps for itself at start
  (a duplicate of fd 1) before pointing fd 1 at its stderr: backends print, and their output
  must never mix with the protocol.  While a hook runs, fds 1 and 2 point at the request's
  ``log`` file (so the backend's subprocesses write there too)::

      {"ok": true, "return": <the hook's return value>}
      {"ok": false, "kind": "backend_unavailable" | "hook_missing" | "hook_error",
       "error": "<exception type: message>", "traceback": "..."}

The backend is imported once per worker and reused for later requests: the caller only does
that for backends that keep no state between builds.  End of input ends the worker.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import traceback
from typing import Any

_BUILD_HOOKS = ("build_sdist", "build_wheel")
_OPTIONAL_HOOKS = ("get_requires_for_build_sdist", "get_requires_for_build_wheel")
_HOOKS = _BUILD_HOOKS + _OPTIONAL_HOOKS


class _BackendUnavailable(Exception):
    pass


class _HookMissing(Exception):
    pass


_backends: dict[tuple[str, tuple[str, ...]], Any] = {}


def _load_backend(spec: str, backend_path: list[str], source_dir: str) -> Any:
    key = (spec, tuple(backend_path))
    if key in _backends:
        return _backends[key]
    module_name, _, object_path = spec.partition(":")
    if backend_path:
        paths = [os.path.normpath(os.path.join(source_dir, p)) for p in backend_path]
        sys.path[:0] = [p for p in paths if p not in sys.path]
    try:
        backend: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise _BackendUnavailable(f"cannot import build backend {module_name!r}: {exc}") from exc
    if object_path:
        for attribute in object_path.split("."):
            try:
                backend = getattr(backend, attribute)
            except AttributeError as exc:
                raise _BackendUnavailable(
                    f"build backend {spec!r}: no attribute {attribute!r}"
                ) from exc
    _backends[key] = backend
    return backend


def _call(request: dict[str, Any]) -> Any:
    hook = request["hook"]
    if hook not in _HOOKS:
        raise _HookMissing(f"unknown hook {hook!r}")
    source_dir = request["source_dir"]
    backend = _load_backend(request["backend"], list(request.get("backend_path") or []), source_dir)
    function = getattr(backend, hook, None)
    if function is None:
        if hook in _OPTIONAL_HOOKS:
            return []  # PEP 517: a missing get_requires_* hook means "nothing more"
        raise _HookMissing(f"build backend {request['backend']!r} has no {hook} hook")
    os.chdir(source_dir)
    if hook in _BUILD_HOOKS:
        return function(request["out_dir"], None)
    return function(None)


def _redirect(fd: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    # Running as a script puts this folder first on sys.path: its siblings (model.py, package.py, ...)
    # would shadow real packages for the backend.
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == here:
        del sys.path[0]
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    responses = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # a backend's subprocess must never read our requests
    os.close(devnull)
    os.dup2(2, 1)  # stray prints between requests go to the worker's log, not the protocol
    home = os.getcwd()
    base_out = os.dup(2)
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        log_fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        _redirect(log_fd)
        try:
            response = {"ok": True, "return": _call(request)}
        except _BackendUnavailable as exc:
            response = {
                "ok": False,
                "kind": "backend_unavailable",
                "error": str(exc),
                "traceback": traceback.format_exc(),
            }
        except _HookMissing as exc:
            response = {"ok": False, "kind": "hook_missing", "error": str(exc), "traceback": ""}
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            text = traceback.format_exc()
            print(text, file=sys.stderr)
            response = {
                "ok": False,
                "kind": "hook_error",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": text,
            }
        finally:
            _redirect(base_out)
            os.close(log_fd)
            with contextlib.suppress(OSError):
                os.chdir(home)
        try:
            payload = json.dumps(response)
        except (TypeError, ValueError):
            payload = json.dumps(
                {
                    "ok": False,
                    "kind": "hook_error",
                    "error": f"{request['hook']} returned a value that is not JSON",
                    "traceback": "",
                }
            )
        responses.write(payload + "\n")
        responses.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
