"""agent-adapters: agents that exercise a freshly installed environment and return a verdict.

* :func:`smoke` - every top-level module of the requested distributions imports, and the
  installed versions are exactly the requested ones (verdict step ``install``/``import``/``version``).
* :func:`command` - any command line, run in the venv through runner-core's scrubbed
  environment, with rate-limit retries (exit 75 or "rate limit" in the output) and follow-ups.
* :func:`codex` - the Codex CLI (``codex exec "<persona + mission prompt>"``).

Each agent takes a :class:`runner_core.VenvRunner` and returns a :class:`normalized_events.Verdict`.
"""

from __future__ import annotations

from importlib.metadata import version

from .agents import (
    CODEX_INSTALL_HINT,
    POLICIES,
    AgentUnavailable,
    codex,
    codex_argv,
    codex_login_status,
    command,
    find_codex,
    host_codex_home,
    mission_prompt,
    native_codex,
    parse_codex_verdict,
    prepare_codex_home,
)
from .resilience import EX_TEMPFAIL, Judgement, Resilience, rate_limit_reason, run_agent
from .smoke import PROBE_SCRIPT, pinned_closure, probe, smoke

__all__ = [
    "AGENTS",
    "CODEX_INSTALL_HINT",
    "EX_TEMPFAIL",
    "POLICIES",
    "PROBE_SCRIPT",
    "AgentUnavailable",
    "Judgement",
    "Resilience",
    "__version__",
    "codex",
    "codex_argv",
    "codex_login_status",
    "command",
    "find_codex",
    "host_codex_home",
    "mission_prompt",
    "native_codex",
    "parse_codex_verdict",
    "pinned_closure",
    "prepare_codex_home",
    "probe",
    "rate_limit_reason",
    "run_agent",
    "smoke",
]

#: The agents ``usertest --agent`` offers.
AGENTS = ("smoke", "command", "codex")

__version__ = version("agent-adapters")
