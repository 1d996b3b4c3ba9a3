"""Running commands in an installed virtualenv: scrubbed environment, retries, events."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from normalized_events import Event

from .execution import CommandResult, Executor, run_command, scrubbed_env
from .retry import RetryPolicy, retry
from .workspace import Venv, Workspace

__all__ = ["VenvRunner"]


def _discard(event: Event) -> None:
    pass


@dataclass
class VenvRunner:
    """Everything needed to run commands "as the user" in an installed environment.

    Each command gets only the variables named in *exec_env* (values from the host), PATH with
    the venv's ``bin`` first and HOME set to the workspace, plus *extra_env* (set on purpose by
    the caller, e.g. ``CODEX_HOME``). Output in events is redacted with *secrets*.
    """

    executor: Executor
    workspace: Workspace
    venv: Venv
    exec_env: tuple[str, ...] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    emit: Callable[[Event], None] = _discard

    def env(self) -> dict[str, str]:
        return scrubbed_env(
            self.exec_env, home=self.workspace.path, bin_dirs=[self.venv.bin_dir], extra=self.extra_env
        )

    def run(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        """Run *argv* in the workspace; one ``command.output`` event."""
        return run_command(
            self.executor, argv, cwd=self.workspace.path, env=self.env(), timeout=timeout,
            emit=self.emit, secrets=self.secrets,
        )

    def run_with_retries(
        self,
        argv: Sequence[str] | Callable[[int], Sequence[str]],
        *,
        policy: RetryPolicy,
        retry_reason: Callable[[CommandResult], str | None],
        sleep: Callable[[float], None] = time.sleep,
        timeout: float | None = None,
        start: int = 1,
    ) -> tuple[CommandResult, int]:
        """Run until ``retry_reason(result)`` is None or *policy* runs out; backoff between tries.

        *argv* may be a function of the attempt number (*start*, *start* + 1, ...). Returns the
        last result and the number of attempts made.
        """
        def attempt(number: int) -> CommandResult:
            return self.run(argv(number) if callable(argv) else argv, timeout=timeout)

        return retry(attempt, retry_reason, policy, sleep=sleep, emit=self.emit, start=start)
