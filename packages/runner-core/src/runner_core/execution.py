"""Running commands for a usertest: a scrubbed environment, locally or in a Docker container.

A command never sees the caller's environment. It gets exactly:

* the variables the user named (``--exec-env NAME``), with their values from the host,
* ``PATH``: the virtualenv's ``bin`` first, then a minimal system path,
* ``HOME``: the workspace (so no user configuration of the host leaks in),

plus whatever the caller adds on purpose (``extra``: e.g. ``PIP_CONFIG_FILE`` for an install).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from normalized_events import CommandOutput, Event, tail

from .redact import redact

__all__ = [
    "MINIMAL_PATH",
    "CommandResult",
    "DockerExecutor",
    "DockerUnavailable",
    "Executor",
    "LocalExecutor",
    "docker_engine_status",
    "run_command",
    "scrubbed_env",
]

MINIMAL_PATH: tuple[str, ...] = ("/usr/local/bin", "/usr/bin", "/bin")
_LITERAL_ENV = frozenset({"PATH", "HOME"})


def scrubbed_env(
    exec_env: Iterable[str],
    *,
    home: str | Path,
    bin_dirs: Iterable[str | Path] = (),
    extra: Mapping[str, str] | None = None,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The whole environment of a command: named variables (if set), PATH, HOME and *extra*."""
    source = os.environ if source is None else source
    env = {name: source[name] for name in exec_env if name in source}
    env["PATH"] = os.pathsep.join([*(str(d) for d in bin_dirs), *MINIMAL_PATH])
    env["HOME"] = str(home)
    if extra:
        env.update(extra)
    return env


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A finished command: full output (the event keeps only tails)."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def event(self, secrets: Iterable[str] = ()) -> CommandOutput:
        """The ``command.output`` event, with credentials and *secrets* redacted."""
        secrets = list(secrets)
        return CommandOutput(
            argv=tuple(redact(a, secrets) for a in self.argv),
            exit_code=self.exit_code,
            stdout_tail=tail(redact(self.stdout, secrets)),
            stderr_tail=tail(redact(self.stderr, secrets)),
            duration_s=round(self.duration_s, 3),
        )


class Executor(Protocol):
    """Where commands run. Paths are the same inside and outside (Docker mounts them 1:1)."""

    name: str
    base_python: str  # the interpreter that creates virtualenvs

    def run(
        self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float | None
    ) -> CommandResult: ...


def _completed(argv: Sequence[str], started: float, code: int, out: str | bytes | None, err: str | bytes | None) -> CommandResult:
    def text(value: str | bytes | None) -> str:
        if value is None:
            return ""
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else value

    return CommandResult(tuple(argv), code, text(out), text(err), time.monotonic() - started)


def _run_process(
    argv: Sequence[str], *, cwd: Path | None, env: Mapping[str, str], timeout: float | None
) -> CommandResult:
    started = time.monotonic()
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return _completed(argv, started, 127, "", f"command not found: {argv[0]} (PATH={env.get('PATH', '')})")
    except PermissionError as exc:
        return _completed(argv, started, 126, "", f"cannot execute {argv[0]}: {exc}")
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return _completed(argv, started, 124, exc.stdout, f"{err}\ntimed out after {timeout} s")
    return _completed(argv, started, done.returncode, done.stdout, done.stderr)


@dataclass
class LocalExecutor:
    """Commands run as subprocesses of this process, with exactly the environment given."""

    base_python: str = sys.executable
    name: str = "local"

    def run(
        self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float | None
    ) -> CommandResult:
        return _run_process(argv, cwd=cwd, env=env, timeout=timeout)


class DockerUnavailable(RuntimeError):
    """No Docker engine answers (``docker info`` failed), or the docker CLI is missing."""


def docker_engine_status(docker: str = "docker", timeout: float = 20.0) -> tuple[bool, str]:
    """``(True, server version)`` when ``docker info`` succeeds, else ``(False, why)``."""
    exe = shutil.which(docker)
    if exe is None:
        return False, f"{docker!r} is not on PATH"
    try:
        done = subprocess.run(
            [exe, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"docker info timed out after {timeout:g} s"
    except OSError as exc:
        return False, str(exc)
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        return False, lines[-1] if lines else f"exit code {done.returncode}"
    return True, done.stdout.strip()


@dataclass
class DockerExecutor:
    """Commands run in one long-lived container (``docker exec``); the workspace is mounted 1:1.

    Only the variables of the ``env`` given to :meth:`run` reach the container, by name
    (``docker exec -e NAME``, the value taken from the docker client's environment, so secrets
    never appear on a command line). ``mounts`` are extra ``(host, container, read_only)``.
    """

    workspace: Path
    image: str = "python:3.12-slim"
    mounts: Sequence[tuple[str, str, bool]] = ()
    network_host: bool = False
    docker: str = "docker"
    base_python: str = "python3"  # Debian-based images have no `python`; python:*-slim has both
    name: str = "docker"
    container: str | None = field(default=None, init=False)

    def start_argv(self) -> list[str]:
        """The ``docker run`` command that starts the container (detached, removed when stopped)."""
        argv = [self.docker, "run", "--detach", "--rm", "--init"]
        if hasattr(os, "getuid"):
            argv += ["--user", f"{os.getuid()}:{os.getgid()}"]
        if self.network_host:
            argv += ["--network", "host"]
        ws = str(self.workspace)
        argv += ["--volume", f"{ws}:{ws}", "--workdir", ws, "--env", f"HOME={ws}"]
        for host, inside, read_only in self.mounts:
            argv += ["--volume", f"{host}:{inside}" + (":ro" if read_only else "")]
        argv += [self.image, "sleep", "infinity"]
        return argv

    def exec_argv(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> list[str]:
        """The ``docker exec`` command for *argv*.

        PATH and HOME (never secret) are passed with their values; every other variable by name
        only, its value read by the docker client from its own environment (see :meth:`run`).
        """
        if self.container is None:
            raise DockerUnavailable("the container is not started")
        command = [self.docker, "exec", "--workdir", str(cwd)]
        for name in sorted(env):
            command += ["--env", f"{name}={env[name]}" if name in _LITERAL_ENV else name]
        return [*command, self.container, *argv]

    def start(self) -> None:
        ok, why = docker_engine_status(self.docker)
        if not ok:
            raise DockerUnavailable(f"no Docker engine reachable (docker info failed: {why})")
        done = _run_process(self.start_argv(), cwd=None, env=os.environ, timeout=600)
        if done.exit_code != 0:
            raise DockerUnavailable(f"docker run {self.image} failed: {done.stderr.strip()[-500:]}")
        self.container = done.stdout.strip().splitlines()[-1]

    def run(
        self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float | None
    ) -> CommandResult:
        # The docker client runs with the host's environment plus the named values; PATH and
        # HOME stay the host's for the client itself.
        client_env = {**os.environ, **{k: v for k, v in env.items() if k not in _LITERAL_ENV}}
        command = self.exec_argv(argv, cwd=cwd, env=env)
        result = _run_process(command, cwd=None, env=client_env, timeout=timeout)
        return CommandResult(tuple(argv), result.exit_code, result.stdout, result.stderr, result.duration_s)

    def stop(self) -> None:
        if self.container is not None:
            _run_process([self.docker, "rm", "--force", self.container], cwd=None, env=os.environ, timeout=60)
            self.container = None

    def __enter__(self) -> DockerExecutor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _discard(event: Event) -> None:
    pass


def run_command(
    executor: Executor,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None = None,
    emit: Callable[[Event], None] = _discard,
    secrets: Iterable[str] = (),
) -> CommandResult:
    """Run *argv* through *executor* with exactly *env*; emit its ``command.output`` event."""
    result = executor.run(argv, cwd=cwd, env=env, timeout=timeout)
    emit(result.event(secrets))
    return result
