"""The values of publishing: where to (:class:`Registry`), how to retry (:class:`RetryPolicy`),
and what happened to each file (:class:`FileOutcome`, :class:`FileStatus`); the one exception
raised at this package's boundary (:class:`RegistryError`)."""

from __future__ import annotations

import base64
import contextlib
import enum
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import PublishError
from ..redact import Secret

#: Longest Retry-After this tool waits by default (seconds): a longer one is cut to this.
MAX_RETRY_AFTER = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one request on connection errors, 429 and 5xx: waits ``b, b*m, b*m², …``."""

    retries: int = 2
    backoff_seconds: float = 1.0
    multiplier: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    #: A 429's ``Retry-After`` is honoured up to this many seconds.
    max_retry_after: float = MAX_RETRY_AFTER

    def waits(self) -> list[float]:
        return [self.backoff_seconds * self.multiplier**i for i in range(max(self.retries, 0))]

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """The wait before retry *attempt* (0-based): the backoff, or longer when the server
        asked for it with Retry-After (bounded by :attr:`max_retry_after`)."""
        base = self.waits()[attempt]
        if retry_after is None:
            return base
        return max(base, min(retry_after, self.max_retry_after))


@dataclass(frozen=True)
class Registry:
    """A place to publish to; ``password`` is a :class:`Secret` (it prints as ``***``)."""

    kind: str  # "gitlab" | "repository" | "local"
    upload_url: str | None  # None for local
    index_url: str  # the simple index (file:// URL for local); never holds credentials
    username: str | None
    password: Secret | None
    local_dir: Path | None  # for local
    origin: str  # which variables/options chose it
    credentials_from: str = ""  # which variables gave the credentials (names, never values)
    warnings: tuple[str, ...] = ()  # said up front (e.g. a job token publishing elsewhere)

    def install_command(self, requirements: Sequence[str]) -> str:
        """``pip install --index-url <index> req==ver …`` (the index without credentials)."""
        from .select import _strip_userinfo

        index = _strip_userinfo(self.index_url)
        return " ".join(
            ["pip install --index-url", shlex.quote(index), *map(shlex.quote, requirements)]
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """What :func:`redact` must hide: the password and the Basic auth token made of it."""
        if not self.password:
            return ()
        token = self._basic_token() or ""
        return tuple(s for s in (self.password.reveal(), token) if s)

    def _basic_token(self) -> str | None:
        if self.username is None or not self.password:
            return None
        raw = f"{self.username}:{self.password.reveal()}".encode()
        return base64.b64encode(raw).decode("ascii")


class FileStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    ALREADY_PUBLISHED = "already published"
    CONFLICT = "conflict"
    AUTH_FAILED = "auth failed"
    FAILED = "failed"

    @property
    def ok(self) -> bool:
        return self in (FileStatus.UPLOADED, FileStatus.ALREADY_PUBLISHED)


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    status: FileStatus
    message: str  # redacted; names the file and the fix
    output: str = ""  # twine's console output for this file, redacted ("" when not run)


class RegistryError(PublishError):
    """Looking up the index failed (after retries); ``status`` is AUTH_FAILED or FAILED."""

    def __init__(self, message: str, status: FileStatus = FileStatus.FAILED) -> None:
        super().__init__(message)
        self.status = status


class _Transient(Exception):
    """A failure worth retrying: connection error, timeout, 429, 5xx."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
        import email.utils

        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None
