"""Sessions of the monorepo: ``nox -l`` lists them; ``python3 dev.py SESSION`` bootstraps nox.

The sessions read their settings from ``pyproject.toml`` (dependency groups of the root, the
packages of the workspace) and call the ``monorepo`` CLI for the work, so that nox, CI and a
person at a terminal run the same code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the noxfile reads the workspace through the public API

from monorepo_tools import load_config, load_workspace  # noqa: E402
from monorepo_tools.versions import resolve_snapshot_id  # noqa: E402

# Hermetic installs: this machine's (or a developer's) pip/uv configuration may add indexes.
os.environ["PIP_CONFIG_FILE"] = os.devnull
os.environ["UV_NO_CONFIG"] = "1"

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


@nox.session
def tests(session: nox.Session) -> None:
    """The full suite: the tool's tests (posargs go to pytest), then every package's tests."""
    _install_tool(session, "test")
    session.run("python", "-m", "pytest", *session.posargs, env={"PIP_CONFIG_FILE": os.devnull})
    for name in WORKSPACE.packages:
        session.notify(f"test-{name}")


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
    nox.session(name=f"test-{name}")(run)


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
