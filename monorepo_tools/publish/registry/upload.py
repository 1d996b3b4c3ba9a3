"""One ``twine upload`` of one file, in-process, with its console output captured and twine's
own retries switched off (:class:`~.model.RetryPolicy` is the one retry policy)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .messages import _response_detail
from .model import Registry, _retry_after, _Transient

_twine_lock = threading.Lock()


@dataclass(frozen=True)
class _Answer:
    status: int | None  # HTTP status of a failed upload; None: not an HTTP answer
    error: str  # "" when the upload worked
    output: str  # twine's console output
    retry_after: float | None = None  # a 429's Retry-After


def _session_without_retries() -> object:
    """twine's requests session, minus its urllib3 retries (it re-POSTs 5xx up to five times
    on its own): :class:`RetryPolicy` is the one retry policy of an upload."""
    import requests.adapters
    from twine import utils

    session = utils.make_requests_session()
    for scheme in ("http://", "https://"):
        session.mount(scheme, requests.adapters.HTTPAdapter(max_retries=0))
    return session


@contextlib.contextmanager
def _no_twine_retries() -> Iterator[None]:
    """While held (under ``_twine_lock``): twine's session has no urllib3 retries, and
    ``Repository.upload`` POSTs once (it re-POSTs a 5xx up to five times by itself)."""
    import twine.repository

    repository = twine.repository.Repository
    namespace = vars(twine.repository)  # `from twine.utils import make_requests_session` there
    original_session = namespace["make_requests_session"]
    original_upload = repository.upload

    def upload_once(self: twine.repository.Repository, package: Any, max_redirects: int = 1) -> Any:
        return original_upload(self, package, max_redirects=1)

    namespace["make_requests_session"] = _session_without_retries
    repository.upload = upload_once  # type: ignore[method-assign]
    try:
        yield
    finally:
        namespace["make_requests_session"] = original_session
        repository.upload = original_upload  # type: ignore[method-assign]


def _twine_upload(registry: Registry, path: Path) -> _Answer:
    """One ``twine upload`` of one file, in-process, with its console output captured."""
    from twine.commands.upload import upload
    from twine.settings import Settings

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("twine")
    error: BaseException | None = None
    with _twine_lock:
        propagate = logger.propagate
        logger.addHandler(handler)
        logger.propagate = False
        try:
            with (
                contextlib.redirect_stdout(buffer),
                contextlib.redirect_stderr(buffer),
                _no_twine_retries(),
            ):
                settings = Settings(
                    repository_url=registry.upload_url,
                    username=registry.username,
                    password=registry.password.reveal() if registry.password else None,
                    non_interactive=True,
                    disable_progress_bar=True,
                    config_file=os.devnull,  # never ~/.pypirc
                )
                upload(settings, [str(path)])
        except Exception as exc:  # every failure becomes an outcome
            error = exc
        finally:
            logger.removeHandler(handler)
            logger.propagate = propagate
    output = buffer.getvalue()
    if error is None:
        return _Answer(None, "", output)
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        reason = getattr(response, "reason", "")
        text = getattr(response, "text", "")
        headers = getattr(response, "headers", {})
        content_type = headers.get("Content-Type", "") if isinstance(headers, Mapping) else ""
        detail = _response_detail(text if isinstance(text, str) else "", str(content_type))
        detail = "" if detail == "None" else detail  # pypiserver's 403 page says just that
        head = f"HTTP {status} {reason}".strip() if isinstance(reason, str) else f"HTTP {status}"
        after = _retry_after(headers.get("Retry-After") if isinstance(headers, Mapping) else None)
        return _Answer(status, f"{head}: {detail}" if detail else head, output, after)
    if isinstance(error, OSError):  # requests' ConnectionError, Timeout, … are OSErrors
        raise _Transient(f"cannot reach {registry.upload_url}: {error}")
    return _Answer(None, f"{type(error).__name__}: {error}", output)
