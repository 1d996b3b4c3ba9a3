"""Running an agent's command with rate-limit retries (backoff) and follow-up attempts."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from normalized_events import AttemptRetried, Verdict
from runner_core import CommandResult, RetryPolicy, VenvRunner

__all__ = ["EX_TEMPFAIL", "Judgement", "Resilience", "rate_limit_reason", "run_agent"]

#: sysexits.h EX_TEMPFAIL: "temporary failure, try again" - the designated rate-limited exit code.
EX_TEMPFAIL = 75

_RATE_LIMIT_TEXT = re.compile(r"rate[ _-]?limit|too many requests|\b429\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Resilience:
    """The runner's resilience controls (defaults as documented for ``usertest``)."""

    rate_limit_retries: int = 2
    rate_limit_backoff_seconds: float = 1.0
    rate_limit_backoff_multiplier: float = 2.0
    followup_attempts: int = 2
    rate_limit_exit_codes: tuple[int, ...] = (EX_TEMPFAIL,)

    def __post_init__(self) -> None:
        if self.followup_attempts < 0:
            raise ValueError(f"followup_attempts must be >= 0, got {self.followup_attempts}")

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            retries=self.rate_limit_retries,
            backoff_seconds=self.rate_limit_backoff_seconds,
            multiplier=self.rate_limit_backoff_multiplier,
        )


def rate_limit_reason(result: CommandResult, exit_codes: Sequence[int] = (EX_TEMPFAIL,)) -> str | None:
    """Why *result* looks rate limited (designated exit code, or "rate limit" in its output)."""
    if result.exit_code == 0:
        return None
    if result.exit_code in exit_codes:
        return f"rate limited (exit code {result.exit_code})"
    if _RATE_LIMIT_TEXT.search(result.stdout[-4000:]) or _RATE_LIMIT_TEXT.search(result.stderr[-4000:]):
        return "rate limited (the output says so)"
    return None


@dataclass(frozen=True, slots=True)
class Judgement:
    """What an agent's finished attempt means: ``passed``, ``failed`` (a real finding, final),
    or ``incomplete`` (the agent did not finish: a follow-up attempt may help)."""

    outcome: str
    message: str


def run_agent(
    runner: VenvRunner,
    argv_for: Callable[[int, CommandResult | None], Sequence[str]],
    judge: Callable[[CommandResult], Judgement],
    resilience: Resilience,
    *,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float | None = None,
) -> Verdict:
    """Run an agent command until it passes or fails for good.

    A rate-limited attempt is retried up to ``rate_limit_retries`` times per attempt, with
    exponential backoff (``attempt.retried`` events with the waits). An ``incomplete`` attempt
    gets up to ``followup_attempts`` follow-ups; ``argv_for(number, previous_result)`` builds
    each attempt's command (a follow-up can tell the agent what happened before).
    """
    followups_left = resilience.followup_attempts
    previous: CommandResult | None = None
    number = 1
    while True:
        last = previous

        def argv(attempt: int, last: CommandResult | None = last) -> Sequence[str]:
            return argv_for(attempt, last)

        result, made = runner.run_with_retries(
            argv,
            policy=resilience.policy,
            retry_reason=lambda r: rate_limit_reason(r, resilience.rate_limit_exit_codes),
            sleep=sleep,
            timeout=timeout,
            start=number,
        )
        number += made
        limited = rate_limit_reason(result, resilience.rate_limit_exit_codes)
        if limited is not None:
            return Verdict(
                passed=False,
                step="agent",
                message=f"{limited}; gave up after {made} attempt(s) "
                f"(--agent-rate-limit-retries {resilience.rate_limit_retries})",
            )
        judgement = judge(result)
        if judgement.outcome == "passed":
            return Verdict(passed=True, step="agent", message=judgement.message)
        if judgement.outcome == "failed" or followups_left == 0:
            suffix = "" if judgement.outcome == "failed" else (
                f" (after {resilience.followup_attempts} follow-up attempt(s))" if resilience.followup_attempts else ""
            )
            return Verdict(passed=False, step="agent", message=judgement.message + suffix)
        followups_left -= 1
        runner.emit(AttemptRetried(attempt=number - 1, wait_seconds=0.0, reason=f"follow-up: {judgement.message}"))
        previous = result
