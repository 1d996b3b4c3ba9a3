"""Retries with exponential backoff, each retry recorded as an ``attempt.retried`` event."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from normalized_events import AttemptRetried, Event

__all__ = ["RetryPolicy", "retry"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Up to *retries* more attempts; the n-th retry waits ``backoff_seconds * multiplier**n``."""

    retries: int = 2
    backoff_seconds: float = 1.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries}")
        if self.backoff_seconds < 0:
            raise ValueError(f"backoff_seconds must be >= 0, got {self.backoff_seconds}")
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be >= 1, got {self.multiplier}")

    def wait(self, retry_index: int) -> float:
        """Seconds to wait before retry number *retry_index* (0 for the first retry)."""
        return self.backoff_seconds * self.multiplier**retry_index

    def waits(self) -> list[float]:
        """Every wait of a run that uses all its retries."""
        return [self.wait(i) for i in range(self.retries)]


def _discard(event: Event) -> None:
    pass


def retry(
    attempt: Callable[[int], T],
    retry_reason: Callable[[T], str | None],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    emit: Callable[[Event], None] = _discard,
    start: int = 1,
) -> tuple[T, int]:
    """Call ``attempt(n)`` (n = 1, 2, ...) until ``retry_reason(result)`` is None or retries run out.

    Returns the last result and the number of attempts made. Before each retry an
    :class:`~normalized_events.AttemptRetried` is emitted and ``sleep`` is called with the wait.
    Attempts are numbered from *start* (to continue a count across several calls).
    """
    made = 0
    while True:
        result = attempt(start + made)
        made += 1
        reason = retry_reason(result)
        if reason is None or made > policy.retries:
            return result, made
        wait = policy.wait(made - 1)
        emit(AttemptRetried(attempt=start + made - 1, wait_seconds=wait, reason=reason))
        sleep(wait)
