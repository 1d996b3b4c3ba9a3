"""One usertest run: workspace -> virtualenv -> install -> smoke checks -> agent -> verdict."""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent_adapters import (
    Resilience,
    codex,
    command,
    find_codex,
    host_codex_home,
    mission_prompt,
    prepare_codex_home,
    smoke,
)
from normalized_events import Event, EventLog, Verdict
from runner_core import (
    DockerExecutor,
    DockerUnavailable,
    Executor,
    LocalExecutor,
    Venv,
    VenvRunner,
    Workspace,
    create_venv,
    create_workspace,
    find_pdm,
    install_pdm,
    install_pip,
    run_command,
    scrubbed_env,
    url_secrets,
)

from .personas import Mission, Persona
from .targets import IndexChoice, Target

__all__ = ["CODEX_HOME_DIR", "CONTAINER_CODEX", "CONTAINER_CODEX_HOME", "RunOptions", "docker_mounts", "run", "secret_values"]

CONTAINER_CODEX = "/usr/local/bin/codex"
CONTAINER_CODEX_HOME = "/codex-home"  # kept for compatibility; CODEX_HOME is now in the workspace
CODEX_HOME_DIR = ".usertest-codex-home"  # per run, writable, login files copied in, always removed
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|KEY|AUTH|CREDENTIAL", re.IGNORECASE)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class RunOptions:
    """Everything a run needs, validated (see :mod:`usertest.cli`)."""

    target: Target
    persona: Persona
    mission: Mission
    index: IndexChoice
    agent: str = "smoke"
    policy: str = "safe"
    backend: str = "local"
    exec_env: tuple[str, ...] = ()
    extra_index_urls: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    resilience: Resilience = field(default_factory=Resilience)
    auth_mode: str = "host-login"  # or "api-key" (Codex only)
    work_dir: Path | None = None
    keep_workspace: bool = False
    docker_image: str = "python:3.12-slim"
    events_path: Path | None = None
    sleep: Callable[[float], None] = time.sleep


def secret_values(options: RunOptions, environ: Mapping[str, str]) -> list[str]:
    """Values to redact everywhere: index credentials and secret-looking named variables."""
    values = [*url_secrets(options.index.url), *(s for u in options.extra_index_urls for s in url_secrets(u))]
    for name in (*options.exec_env, "GITLAB_PYPI_PASSWORD", "OPENAI_API_KEY"):
        if _SECRET_NAME.search(name) and environ.get(name):
            values.append(environ[name])
    return values


def _loopback(url: str) -> bool:
    try:
        return (urllib.parse.urlsplit(url).hostname or "") in _LOOPBACK
    except ValueError:
        return False


def docker_mounts(options: RunOptions, codex_exe: str | None) -> list[tuple[str, str, bool]]:
    """Extra read-only mounts: the native Codex program (never npm's node script).

    The login is not mounted: Codex writes its databases into CODEX_HOME even with
    ``--ephemeral``, so each run gets a writable one in the workspace (mounted 1:1).
    """
    mounts: list[tuple[str, str, bool]] = []
    if options.agent == "codex" and codex_exe:
        mounts.append((os.path.realpath(codex_exe), CONTAINER_CODEX, True))
    return mounts


def _pdm_in_container(executor: Executor, workspace_path: Path, emit: Callable[[Event], None]) -> list[str] | None:
    """A PDM for the container: its own venv in the workspace, PDM installed from PyPI."""
    tool = Venv(workspace_path / ".usertest-pdm")
    env = scrubbed_env((), home=workspace_path, extra={"PIP_CONFIG_FILE": os.devnull})
    steps = [
        [executor.base_python, "-m", "venv", str(tool.path)],
        [str(tool.python), "-m", "pip", "install", "--isolated", "--disable-pip-version-check", "--quiet", "pdm[locked]"],
    ]
    for argv in steps:
        if not run_command(executor, argv, cwd=workspace_path, env=env, timeout=900, emit=emit).ok:
            return None
    return [str(tool.python), "-m", "pdm"]


def run(options: RunOptions, *, environ: Mapping[str, str] | None = None, progress: Callable[[Event], None] | None = None) -> EventLog:
    """Run one usertest; the returned log ends with exactly one :class:`Verdict`.

    Environment problems the CLI checks up front (no Docker engine, no Codex, no PDM) are not
    re-checked here: if they happen anyway they become a failed verdict.
    """
    environ = os.environ if environ is None else environ
    log = EventLog(options.events_path)

    def emit(event: Event) -> None:
        log(event)
        if progress is not None:
            progress(event)

    requirements = options.target.requirement_strings
    secrets = tuple(secret_values(options, environ))
    workspace = create_workspace(
        persona_id=options.persona.id,
        persona_text=options.persona.text,
        mission_id=options.mission.id,
        mission_text=options.mission.text,
        requirements=requirements,
        parent=options.work_dir,
        emit=emit,
    )
    codex_exe: str | None = None
    extra_env: dict[str, str] = {}
    codex_home: Path | None = None
    if options.agent == "codex":
        codex_exe = find_codex()  # the native binary, resolved once to an absolute path
        codex_home = workspace.path / CODEX_HOME_DIR
        if options.auth_mode == "host-login":
            prepare_codex_home(host_codex_home(), codex_home)
        else:
            codex_home.mkdir(mode=0o700)
        extra_env["CODEX_HOME"] = str(codex_home)
    executor: Executor
    docker: DockerExecutor | None = None
    if options.backend == "docker":
        docker = DockerExecutor(
            workspace=workspace.path,
            image=options.docker_image,
            mounts=docker_mounts(options, codex_exe),
            network_host=any(_loopback(u) for u in (options.index.url, *options.extra_index_urls)),
        )
        executor = docker
    else:
        executor = LocalExecutor()
    try:
        verdict = _pipeline(options, executor, docker, workspace, requirements, secrets, extra_env, codex_exe, emit)
        emit(verdict)
    finally:
        if docker is not None:
            docker.stop()
        if codex_home is not None:  # the login copy never outlives the run
            shutil.rmtree(codex_home, ignore_errors=True)
        if not options.keep_workspace:
            workspace.remove()
    return log


def _pipeline(
    options: RunOptions,
    executor: Executor,
    docker: DockerExecutor | None,
    workspace: Workspace,
    requirements: Sequence[str],
    secrets: tuple[str, ...],
    extra_env: dict[str, str],
    codex_exe: str | None,
    emit: Callable[[Event], None],
) -> Verdict:
    if docker is not None:
        try:
            docker.start()
        except DockerUnavailable as exc:
            return Verdict(passed=False, step="install", message=f"docker backend: {exc}")
    try:
        venv = create_venv(workspace.venv_path, executor=executor, emit=emit)
    except RuntimeError as exc:
        return Verdict(passed=False, step="install", message=str(exc))
    if options.target.installer == "pip":
        result = install_pip(
            executor, workspace, venv, requirements,
            index_url=options.index.url, extra_index_urls=options.extra_index_urls,
            exec_env=options.exec_env, secrets=secrets, emit=emit,
        )
    else:
        pdm = find_pdm() if docker is None else _pdm_in_container(executor, workspace.path, emit)
        if pdm is None:
            return Verdict(passed=False, step="install", message="could not install PDM in the container")
        result = install_pdm(
            executor, workspace, venv, requirements,
            index_url=options.index.url, extra_index_urls=options.extra_index_urls,
            pdm=pdm, exec_env=options.exec_env, secrets=secrets, emit=emit,
        )
    if not result.ok:
        return Verdict(passed=False, step=result.step or "install", message=result.message)
    runner = VenvRunner(
        executor, workspace, venv, exec_env=options.exec_env, extra_env=extra_env, secrets=secrets, emit=emit
    )
    verdict = smoke(runner, options.target.requirements)
    if not verdict.passed or options.agent == "smoke":
        return verdict
    if options.agent == "command":
        return command(runner, options.command, options.resilience, sleep=options.sleep)
    prompt = mission_prompt(
        persona_id=options.persona.id, persona_text=options.persona.text,
        mission_id=options.mission.id, mission_text=options.mission.text, requirements=requirements,
    )
    exe = CONTAINER_CODEX if docker is not None else codex_exe
    return codex(runner, prompt, options.resilience, policy=options.policy, codex_exe=exe, sleep=options.sleep)
