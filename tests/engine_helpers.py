"""Plain helpers of the engine tests: fixture monorepos in tmp_path, the CLI as a process.

Fixture monorepos are real folders under ``tests/fixtures/<name>/``. Tests never run the tool on
them in place: :func:`copy_fixture` copies one into ``tmp_path`` first (the tool writes its cache
under ``<root>/.monorepo``), and fills the ``@@ROOT_URI@@`` placeholder with the copy's
``file://`` URL, for notations that need an absolute path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from monorepo_tools.config import STATE_DIR, load_config
from monorepo_tools.graph import DependencyGraph, build_graph
from monorepo_tools.rules import Finding, check_workspace
from monorepo_tools.workspace import Workspace, load_workspace

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT_URI_PLACEHOLDER = "@@ROOT_URI@@"
# The console script, when the project is installed next to this interpreter.
CONSOLE_SCRIPT = shutil.which("monorepo", path=str(Path(sys.executable).parent))

# git for the tests that commit: a fixed identity, no user or system configuration.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}

FINDING_FIXTURES = (
    "internal-dependency",
    "local-path-dependency",
    "direct-reference",
    "invalid-version",
    "dynamic-version",
    "invalid-status",
    "unknown-setting",
    "dependency-cycle",
    "duplicate-name",
    "invalid-pyproject",
    "unpinnable-metadata",
    "metadata-unavailable",
    "optional-dependency-cycle",
    "config-only",
)


def copy_fixture(name: str, dest: Path) -> Path:
    """Copy ``tests/fixtures/<name>`` to ``dest/<name>`` and fill the root placeholder."""
    source = FIXTURES / name
    assert (source / "pyproject.toml").is_file(), f"no fixture monorepo {name!r}"
    root = dest / name
    shutil.copytree(source, root)
    uri = root.resolve().as_uri()
    for file in root.rglob("*.toml"):
        text = file.read_text(encoding="utf-8")
        if ROOT_URI_PLACEHOLDER in text:
            file.write_text(text.replace(ROOT_URI_PLACEHOLDER, uri), encoding="utf-8")
    return root


def write_monorepo(root: Path, packages: Mapping[str, str], root_toml: str | None = None) -> Path:
    """A monorepo written on the spot: ``{folder: pyproject text}`` under ``root/packages``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        root_toml if root_toml is not None else '[tool.monorepo]\npackages = ["packages/*"]\n',
        encoding="utf-8",
    )
    for folder, text in packages.items():
        directory = root / "packages" / folder
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "pyproject.toml").write_text(text, encoding="utf-8")
    return root


def pyproject(
    name: str,
    status: str | None = None,
    deps: Iterable[str] = (),
    version: str | None = "0.1.0",
    extra: str = "",
) -> str:
    """A small package pyproject.toml text."""
    lines = ["[project]", f'name = "{name}"']
    if version is not None:
        lines.append(f'version = "{version}"')
    lines.append("dependencies = [" + ", ".join(_quote(d) for d in deps) + "]")
    text = "\n".join(lines) + "\n"
    if extra:
        text += "\n" + extra.strip("\n") + "\n"
    if status is not None:
        text += f'\n[tool.monorepo]\nstatus = "{status}"\n'
    return text


def _quote(requirement: str) -> str:
    return f"'{requirement}'" if '"' in requirement else f'"{requirement}"'


@dataclass(frozen=True)
class Analysis:
    workspace: Workspace
    graph: DependencyGraph
    findings: list[Finding]

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]


def analyse(root: Path, use_cache: bool = False) -> Analysis:
    """Discover, read, resolve, build the graph and run the rules on *root*."""
    workspace = load_workspace(load_config(root), use_cache=use_cache)
    graph = build_graph(workspace)
    return Analysis(workspace, graph, check_workspace(workspace, graph))


def line_of(file: Path, fragment: str, occurrence: int = 1) -> int:
    """1-based line of the *occurrence*-th line of *file* that contains *fragment*.

    The expected line of a finding is computed from the fixture text, never hard-coded.
    """
    hits = [
        number
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
        if fragment in line
    ]
    assert len(hits) >= occurrence, f"{fragment!r} is not on {occurrence} line(s) of {file}"
    return hits[occurrence - 1]


def snapshot_tree(root: Path) -> dict[str, bytes]:
    """Every file under *root* (bytes), except the tool's own ``.monorepo/`` state folder."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts and rel.parts[0] == STATE_DIR:
            continue
        if path.is_file() or path.is_symlink():
            files[rel.as_posix()] = path.read_bytes()
        elif path.is_dir():
            files[rel.as_posix() + "/"] = b""
    return files


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_module(*args: str, cwd: Path | None = None) -> Run:
    """``python -m monorepo_tools ARGS`` in a subprocess, with the repository on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    proc = subprocess.run(
        [sys.executable, "-m", "monorepo_tools", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def run_script(*args: str, cwd: Path | None = None) -> Run:
    """The installed ``monorepo`` console script (callers skip when it is not installed)."""
    assert CONSOLE_SCRIPT is not None
    proc = subprocess.run(
        [CONSOLE_SCRIPT, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=60,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def tool_env(build_env_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``python -m monorepo_tools`` subprocess in a test: nothing of this
    machine's CI, GitLab, GitHub, registry or twine settings, no pip configuration, this
    checkout on PYTHONPATH, the session's build-environment cache; then *extra*."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITLAB_", "CI", "GITHUB_", "MONOREPO_", "TWINE_"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        PIP_CONFIG_FILE=os.devnull,
        MONOREPO_BUILD_ENV_DIR=str(build_env_dir),
    )
    env.update(extra)
    return env


def copy_demo(root: Path) -> Path:
    """This repository's demo monorepo (root pyproject.toml and ``packages/``) copied to *root*."""
    root.mkdir()
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(
        REPO / "packages",
        root / "packages",
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".venv", "*.egg-info"),
    )
    return root
