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
  ``_worker.py``, started by the environment's Python, which imports the backend once and
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

Modules (one concern each): :mod:`.model` (requests, results, defaults), :mod:`.envs` (build
environments), :mod:`.hooks` (calling hooks: workers and fresh processes), :mod:`._worker` (the
worker script), :mod:`.package` (one package's build), :mod:`.parallel` (:func:`build_all`).
"""

from __future__ import annotations

from .envs import BuildEnv, ensure_build_env, env_key, find_uv
from .hooks import STATELESS_BACKENDS, _Hooks, _Worker
from .model import (
    DEFAULT_BUILD_REQUIRES,
    DEFAULT_SOURCE_DATE_EPOCH,
    LEGACY_BACKEND,
    BuildEnvError,
    BuildRequest,
    BuildResult,
)
from .package import _PackageBuild
from .parallel import build_all

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

# Implementation classes the tests look into (not part of the API).
_ = (_Hooks, _Worker, _PackageBuild)
