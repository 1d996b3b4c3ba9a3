"""Synthetic workspaces and isolated virtualenvs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from normalized_events import Event, WorkspaceCreated

from .execution import Executor, LocalExecutor, run_command, scrubbed_env

__all__ = ["Venv", "Workspace", "create_venv", "create_workspace", "hermetic_tool_env"]


def _discard(event: Event) -> None:
    pass


@dataclass(frozen=True, slots=True)
class Workspace:
    """A fresh folder a usertest happens in: a README of the persona and mission, then a venv."""

    path: Path
    persona_id: str
    mission_id: str

    @property
    def readme(self) -> Path:
        return self.path / "README.md"

    @property
    def venv_path(self) -> Path:
        return self.path / ".venv"

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def create_workspace(
    *,
    persona_id: str,
    persona_text: str,
    mission_id: str,
    mission_text: str,
    requirements: Iterable[str] = (),
    parent: str | Path | None = None,
    emit: Callable[[Event], None] = _discard,
) -> Workspace:
    """Make a new temporary folder (under *parent*) with a README telling who and what."""
    if parent is not None:
        Path(parent).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="usertest-", dir=parent)).resolve()
    reqs = "\n".join(f"- `{r}`" for r in requirements) or "- (none)"
    path.joinpath("README.md").write_text(
        f"""# usertest workspace

You are evaluating freshly installed packages as a new user would.

## Persona: {persona_id}

{persona_text.strip()}

## Mission: {mission_id}

{mission_text.strip()}

## Environment

The target is installed in the virtualenv `.venv/` of this folder; its `bin/` comes first on
`PATH`, so `python` is the virtualenv's interpreter. Requirements:

{reqs}
""",
        encoding="utf-8",
    )
    workspace = Workspace(path, persona_id, mission_id)
    emit(WorkspaceCreated(path=str(path), persona_id=persona_id, mission_id=mission_id))
    return workspace


@dataclass(frozen=True, slots=True)
class Venv:
    """A virtualenv; ``python`` is its interpreter."""

    path: Path

    @property
    def bin_dir(self) -> Path:
        return self.path / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin_dir / ("python.exe" if os.name == "nt" else "python")


_CONFIG_PREFIXES = ("UV_", "PIP_", "PDM_", "VIRTUAL_ENV", "CONDA_", "PYTHON")


def hermetic_tool_env(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The host environment for this tool's own helpers (uv): no index or config variables."""
    source = os.environ if source is None else source
    env = {k: v for k, v in source.items() if not k.startswith(_CONFIG_PREFIXES)}
    env["UV_NO_CONFIG"] = "1"
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _pip_only(uv_exe: str, venv: Venv, cwd: Path, timeout: float) -> None:
    """Remove what ``uv venv --seed`` adds besides pip on Python < 3.12 (setuptools, wheel and,
    through wheel, ``packaging``): a consumer's fresh venv lacks them, so must this one, or a
    missing third-party dependency of the target goes unnoticed."""
    env = hermetic_tool_env()
    frozen = subprocess.run([uv_exe, "pip", "freeze", "--python", str(venv.python)], capture_output=True,
                            text=True, env=env, cwd=cwd, timeout=timeout, check=False).stdout.split()
    extra = [line.split("==")[0] for line in frozen if "==" in line and not line.startswith("pip==")]
    if extra:
        subprocess.run([uv_exe, "pip", "uninstall", "--quiet", "--python", str(venv.python), *extra],
                       capture_output=True, env=env, cwd=cwd, timeout=timeout, check=False)


def create_venv(
    path: str | Path,
    *,
    executor: Executor | None = None,
    uv: str | bool | None = True,
    timeout: float = 300,
    emit: Callable[[Event], None] = _discard,
) -> Venv:
    """Create an isolated virtualenv with pip in it: ``uv venv --seed`` when uv is on PATH
    (locally; *uv* may be a path, or False to never use it), else ``python -m venv``.

    Raises :class:`RuntimeError` with the tool's output when neither works.
    """
    executor = executor or LocalExecutor()
    venv = Venv(Path(path))
    cwd = venv.path.parent
    cwd.mkdir(parents=True, exist_ok=True)
    uv_exe = None
    if isinstance(executor, LocalExecutor) and uv is not False:
        uv_exe = uv if isinstance(uv, str) else shutil.which("uv")
    if uv_exe:
        argv = [uv_exe, "venv", "--seed", "--quiet", "--no-project", "--no-config", "--allow-existing",
                "--python", executor.base_python, str(venv.path)]
        done = run_command(executor, argv, cwd=cwd, env=hermetic_tool_env(), timeout=timeout, emit=emit)
        if done.ok and venv.python.exists():
            _pip_only(uv_exe, venv, cwd, timeout)
            return venv
    argv = [executor.base_python, "-m", "venv", str(venv.path)]
    env = scrubbed_env((), home=cwd)  # also what a container gets: nothing of the host
    done = run_command(executor, argv, cwd=cwd, env=env, timeout=timeout, emit=emit)
    if not done.ok:
        raise RuntimeError(f"cannot create a virtualenv at {venv.path}: {done.stderr.strip()[-1000:]}")
    return venv
