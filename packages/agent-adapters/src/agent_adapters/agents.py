"""The ``command`` and ``codex`` agents."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from normalized_events import Verdict, tail
from runner_core import CommandResult, VenvRunner

from .resilience import Judgement, Resilience, run_agent

__all__ = [
    "CODEX_INSTALL_HINT",
    "POLICIES",
    "AgentUnavailable",
    "codex",
    "codex_argv",
    "codex_login_status",
    "command",
    "find_codex",
    "host_codex_home",
    "mission_prompt",
    "native_codex",
    "parse_codex_verdict",
    "prepare_codex_home",
]

#: --policy -> the Codex sandbox mode it runs with.
POLICIES = {"safe": "workspace-write", "strict": "read-only"}

CODEX_INSTALL_HINT = (
    "the Codex CLI (`codex`) is not on PATH: install it (`npm install -g @openai/codex`) "
    "and log in (`codex login`), or choose --agent smoke or --agent command"
)

_VERDICT_LINE = re.compile(r"^\s*USERTEST VERDICT:\s*(PASS|FAIL)\b[\s:\u2013-]*(.*)$", re.IGNORECASE | re.MULTILINE)


class AgentUnavailable(RuntimeError):
    """The agent cannot run on this machine (a program is missing); the message says what to do."""


def _describe(result: CommandResult) -> str:
    output = (result.stderr.strip() or result.stdout.strip()).splitlines()
    last = output[-1][-300:] if output else "no output"
    return f"exit code {result.exit_code}: {last}"


def command(
    runner: VenvRunner,
    argv: Sequence[str],
    resilience: Resilience | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float | None = None,
) -> Verdict:
    """Run *argv* in the venv (scrubbed environment); exit code 0 passes.

    Rate-limited runs (exit code 75 or "rate limit" in the output) are retried with backoff;
    another failure gets the follow-up attempts (the same command again).
    """
    if not argv:
        raise ValueError("the command agent needs a command")
    resilience = resilience or Resilience()

    def judge(result: CommandResult) -> Judgement:
        if result.ok:
            return Judgement("passed", f"`{' '.join(argv)}` exited 0")
        return Judgement("incomplete", f"`{' '.join(argv)}` failed with {_describe(result)}")

    return run_agent(runner, lambda number, previous: list(argv), judge, resilience, sleep=sleep, timeout=timeout)


def mission_prompt(
    *, persona_id: str, persona_text: str, mission_id: str, mission_text: str, requirements: Sequence[str]
) -> str:
    """The prompt an LLM agent gets: who it is, what to do, where things are, how to answer."""
    reqs = ", ".join(requirements) or "(none)"
    return f"""You are a usertest persona evaluating freshly installed Python packages.

Persona ({persona_id}): {persona_text.strip()}

Mission ({mission_id}): {mission_text.strip()}

The packages under test ({reqs}) are installed in the virtualenv `.venv` of the current
directory; `python` on PATH is that virtualenv's interpreter. Read README.md in this directory.
Work only inside this directory. Do not install other versions of the packages under test.

When you are done, end your answer with exactly one line:
USERTEST VERDICT: PASS - <one sentence>
or
USERTEST VERDICT: FAIL - <what blocked you, one sentence>
"""


def parse_codex_verdict(output: str) -> tuple[str, str] | None:
    """``("PASS"|"FAIL", reason)`` from the last verdict line of an agent's output, or None."""
    matches = list(_VERDICT_LINE.finditer(output))
    if not matches:
        return None
    last = matches[-1]
    return last.group(1).upper(), last.group(2).strip()


def native_codex(exe: str) -> str:
    """The native program behind *exe*: npm's ``codex`` is ``codex.js``, a node script that starts
    ``@openai/codex-<platform>/vendor/<triple>/bin/codex``. That binary runs without node (a
    container image has none; the agent's PATH may not reach an nvm or Homebrew node)."""
    real = Path(os.path.realpath(exe))
    if real.suffix != ".js":
        return str(real)
    package = real.parent.parent  # .../@openai/codex/bin/codex.js -> .../@openai/codex
    for root, pattern in (
        (package, "node_modules/@openai/codex-*/vendor/*/bin/codex"),  # nested (npm -g)
        (package.parent, "codex-*/vendor/*/bin/codex"),  # hoisted next to @openai/codex
        (package, "vendor/*/bin/codex"),  # older packages carried the binary themselves
    ):
        found = sorted(p for p in root.glob(pattern) if p.is_file())
        if found:
            return str(found[0])
    return str(real)


def find_codex() -> str:
    """The absolute path of the native ``codex`` program, resolved once; :class:`AgentUnavailable`
    when missing."""
    exe = shutil.which("codex")
    if exe is None:
        raise AgentUnavailable(CODEX_INSTALL_HINT)
    return native_codex(exe)


def host_codex_home() -> Path:
    """Where the host's Codex login lives: ``$CODEX_HOME``, else ``~/.codex``."""
    return Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex")


def codex_login_status(codex_exe: str, codex_home: Path, *, timeout: float = 30) -> tuple[bool, str]:
    """``(logged in, what codex said)`` from ``codex login status`` (instant; ``codex exec``
    without a login instead retries "waiting for network" for minutes)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(codex_home.parent), "CODEX_HOME": str(codex_home)}
    try:
        done = subprocess.run(
            [codex_exe, "login", "status"], capture_output=True, text=True, env=env, timeout=timeout,
            stdin=subprocess.DEVNULL, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"codex login status failed: {exc}"
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
    said = next((line for line in reversed(lines) if "WARNING" not in line), f"exit code {done.returncode}")
    return done.returncode == 0, said


#: The files of a Codex login that a run needs; everything else Codex writes is per run.
CODEX_LOGIN_FILES = ("auth.json", "config.toml")


def prepare_codex_home(source: Path, dest: Path) -> Path:
    """A writable CODEX_HOME for one run at *dest*, with the login files of *source*.

    Codex writes session, state and log databases into CODEX_HOME even with ``--ephemeral``, so
    the host's folder cannot be mounted read-only, and should not be written by a test run.
    """
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o700)
    for name in CODEX_LOGIN_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, dest / name)
            (dest / name).chmod(0o600)
    return dest


def codex_argv(codex_exe: str, prompt: str, *, policy: str = "safe", last_message: Path | None = None) -> list[str]:
    """``codex exec`` for one attempt: non-interactive, sandboxed per *policy*, no session kept
    (``--ephemeral``), its final message also written to *last_message* (read for the verdict)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r} (known: {', '.join(POLICIES)})")
    argv = [codex_exe, "exec", "--skip-git-repo-check", "--sandbox", POLICIES[policy], "--ephemeral"]
    if last_message is not None:
        argv += ["--output-last-message", str(last_message)]
    return [*argv, prompt]


def codex(
    runner: VenvRunner,
    prompt: str,
    resilience: Resilience | None = None,
    *,
    policy: str = "safe",
    codex_exe: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float | None = 1800,
) -> Verdict:
    """Run ``codex exec "<prompt>"`` in the workspace; its last ``USERTEST VERDICT`` line decides.

    The runner decides what Codex can see: only the named variables, plus (set by the caller)
    ``CODEX_HOME`` for the host login, or ``OPENAI_API_KEY`` in API-key mode. A missing program
    is a failed verdict naming what to install. Follow-up attempts tell Codex how the previous
    attempt ended.
    """
    resilience = resilience or Resilience()
    try:
        exe = codex_exe or find_codex()
    except AgentUnavailable as exc:
        return Verdict(passed=False, step="agent", message=str(exc))
    last_message = runner.workspace.path / ".usertest-codex-last-message.txt"

    def argv_for(number: int, previous: CommandResult | None) -> list[str]:
        text = prompt
        if previous is not None:
            text += (
                f"\n\nThis is follow-up attempt {number}. The previous attempt ended without a "
                f"verdict ({_describe(previous)}). Its last output was:\n{tail(previous.stdout, 1500)}\n"
                "Continue the mission and end with the verdict line."
            )
        if last_message.exists():
            last_message.unlink()
        return codex_argv(exe, text, policy=policy, last_message=last_message)

    def judge(result: CommandResult) -> Judgement:
        # The final message (--output-last-message) is the robust place; stdout the fallback.
        final = last_message.read_text(encoding="utf-8", errors="replace") if last_message.exists() else ""
        found = parse_codex_verdict(final) or parse_codex_verdict(result.stdout)
        if found is None:
            return Judgement("incomplete", f"codex gave no USERTEST VERDICT line ({_describe(result)})")
        outcome, reason = found
        if outcome == "PASS":
            return Judgement("passed", f"codex: {reason or 'PASS'}")
        return Judgement("failed", f"codex: {reason or 'FAIL'}")

    return run_agent(runner, argv_for, judge, resilience, sleep=sleep, timeout=timeout)
