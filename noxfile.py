# /// script
# requires-python = ">=3.11"
# dependencies = ["nox>=2026.10.20", "uv>=0.5", "networkx>=3.2", "packaging>=24"]
# ///
"""Sessions of the monorepo: ``nox -l`` lists them; ``python3 dev.py SESSION`` bootstraps nox.

The sessions read their settings from ``pyproject.toml`` (dependency groups of the root, the
packages of the workspace) and call the ``monorepo`` CLI for the work, so that nox, CI and a
person at a terminal run the same code.
"""

# The header above (PEP 723) is what loading this file needs: nox itself (--parallel) and what the
# workspace reader imports. dev.py installs exactly that list into .venv-dev/; a plain `nox`
# lacking any of it builds an environment with it first (nox's script mode); `uv run noxfile.py`
# and `python noxfile.py -s tests` work too.

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the noxfile reads the workspace through the public API

from monorepo_tools import load_config, load_workspace  # noqa: E402
from monorepo_tools._env import hermetic_env  # noqa: E402
from monorepo_tools.snapshot.versions import resolve_snapshot_id  # noqa: E402

nox.needs_version = ">=2026.10.20"  # --parallel and allow_parallel (the package test sessions)

# Hermetic installs: this machine's (or a developer's) pip/uv configuration may add indexes. The
# same rules as the tool's own installers (and dev.py), from their one definition.
_HERMETIC = hermetic_env()
for _variable in set(os.environ) - set(_HERMETIC):
    del os.environ[_variable]
os.environ.update(_HERMETIC)

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["check", "tests"]

PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
GRAPH_DIR = ROOT / ".monorepo" / "graph"  # ignored by git (the folder ignores itself)
WORKSPACE = load_workspace(load_config(ROOT), use_cache=False)
# One id for every session of this nox run, so build-X and publish-X agree on the versions.
SNAPSHOT_ID = str(resolve_snapshot_id(None, os.environ).value)


def _install_tool(session: nox.Session, *groups: str) -> None:
    requirements = [r for group in groups for r in nox.project.dependency_groups(PYPROJECT, group)]
    session.install("-e", str(ROOT), *requirements)


@nox.session
def check(session: nox.Session) -> None:
    """Pre-merge check of every package (forwards posargs, e.g. --format gitlab -o report.json)."""
    _install_tool(session)
    session.run("monorepo", "check", "--root", str(ROOT), *session.posargs)


@nox.session
def graph(session: nox.Session) -> None:
    """Write the graph as svg/html/dot/mermaid to .monorepo/graph/ and print the text view."""
    _install_tool(session)
    GRAPH_DIR.mkdir(parents=True, exist_ok=True)
    for fmt, suffix in (("svg", "svg"), ("html", "html"), ("dot", "dot"), ("mermaid", "mmd")):
        session.run(
            "monorepo",
            "graph",
            "--root",
            str(ROOT),
            "--format",
            fmt,
            "--output",
            str(GRAPH_DIR / f"graph.{suffix}"),
            *session.posargs,
        )
    session.run("monorepo", "graph", "--root", str(ROOT), *session.posargs)


def _pytest(session: nox.Session, *args: str) -> None:
    # pytest-xdist, one worker per CPU (as nox's own noxfile does); `-n 0` in posargs overrides.
    # loadscope: a module's tests share one worker, so its module fixtures (a published snapshot,
    # built packages) and the session's build-environment cache are made once, not per worker;
    # in collection order, which tests/conftest.py starts with the slow modules (short tail).
    xdist = ["--numprocesses=auto", "--dist=loadscope", "--no-loadscope-reorder"]
    session.run("python", "-m", "pytest", *xdist, *args, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The full suite (CI): the tool's tests in parallel (posargs go to pytest), then every package's tests, concurrently."""
    _install_tool(session, "test")
    _pytest(session)
    # The package sessions, concurrently (nox --parallel), and without this run's posargs: pytest
    # options meant for the tool's suite (`-k`, `--durations=40`) are not the packages'.
    packages = [f"test-{name}" for name in WORKSPACE.packages]
    envdir = Path(session.virtualenv.location).parent
    nox_args = ["-f", str(ROOT / "noxfile.py"), "--envdir", str(envdir), "--parallel", "auto"]
    session.run(sys.executable, "-m", "nox", *nox_args, "-s", *packages, external=True)


@nox.session(reuse_venv=True)
def quick(session: nox.Session) -> None:
    """Inner loop: the tool's tests without the slow end-to-end ones, in parallel, in a reused venv (posargs go to pytest)."""
    _install_tool(session, "test")
    _pytest(session, "-m", "not slow")


@nox.session
def bench(session: nox.Session) -> None:
    """One benchmark with its baselines' tools (bench group): nox -s bench -- benchmarks/bench_layout.py [ARGS]."""
    if not session.posargs:
        scripts = sorted(p.name for p in (ROOT / "benchmarks").glob("bench_*.py"))
        session.error(f"name the benchmark: nox -s bench -- benchmarks/<one of {', '.join(scripts)}>")
    _install_tool(session, "bench")
    session.run("python", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on the repository and mypy --strict on monorepo_tools."""
    _install_tool(session, "lint")
    session.run("ruff", "check", "monorepo_tools", "tests", "noxfile.py", "dev.py", "benchmarks")
    session.run("mypy", "--strict", "monorepo_tools")


def _package_session(name: str) -> None:
    package = WORKSPACE.packages[name]
    folder = ROOT / package.path

    def run(session: nox.Session) -> None:
        # The package from its folder; its monorepo dependencies come along through the local
        # paths its pyproject declares. Dev-group requirements naming a monorepo package are
        # installed from that package's folder, never from an index.
        dev: list[str] = []
        for dep in package.dependencies:
            if dep.kind == "dev" and dep.group in ("dev", "test", "tests"):
                target = WORKSPACE.resolve(package, dep)
                dev.append(str(ROOT / WORKSPACE.packages[target].path) if target else dep.raw)
        if not any(r.startswith("pytest") for r in dev):
            dev.append("pytest>=8")
        session.install(str(folder), *dev)
        session.run("python", "-m", "pytest", str(folder / "tests"), "-q", *session.posargs)

    run.__doc__ = f"Install {name} ({package.status}) and its monorepo dependencies from their folders; run its tests."
    nox.session(name=f"test-{name}", allow_parallel=True)(run)


@nox.session
def snapshot(session: nox.Session) -> None:
    """Publish one snapshot of every publishable package, then install-check it (posargs forwarded)."""
    _install_tool(session)
    args = [a for a in session.posargs if a != "--no-verify"]
    if "--no-verify" not in session.posargs and "--dry-run" not in args:
        args.append("--verify")  # the proof that the published set is consumable
    session.run("monorepo", "snapshot", "--root", str(ROOT), *args)


def _publish_sessions(name: str) -> None:
    package = WORKSPACE.packages[name]
    internal = sorted(
        {
            e.target
            for e in WORKSPACE.edges
            if e.source == name and e.kind in ("runtime", "optional")
        }
    )

    def snapshot_one(session: nox.Session, *extra: str) -> None:
        _install_tool(session)
        args = ["--root", str(ROOT), "--package", name, "--snapshot-id", SNAPSHOT_ID]
        session.run("monorepo", "snapshot", *args, *extra, *session.posargs)

    def build(session: nox.Session) -> None:
        snapshot_one(session, "--dry-run")

    def publish(session: nox.Session) -> None:
        snapshot_one(session)

    build.__doc__ = f"Stage, build and verify {name} ({package.status}) at the shared snapshot id."
    publish.__doc__ = (
        f"Publish {name} after its monorepo dependencies ({', '.join(internal) or 'none'})."
    )
    nox.session(name=f"build-{name}")(build)
    nox.session(name=f"publish-{name}", requires=[f"publish-{dep}" for dep in internal])(publish)


for _name, _package in WORKSPACE.packages.items():
    _package_session(_name)
    if _package.publishable:
        _publish_sessions(_name)


if __name__ == "__main__":  # `python noxfile.py -s tests`, `uv run noxfile.py` (PEP 723)
    nox.main()
