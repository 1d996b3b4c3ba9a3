"""Reading the registry's simple index: one GET per project page, retried on transient
failures, never following a redirect off the registry's origin."""

from __future__ import annotations

import functools
import http.client
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import IO, TypeVar

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from ..._version import __version__
from ..local_index import IndexLink, LocalIndex, parse_simple_page
from ..redact import redact
from .gitlab import _GITLAB_NOT_FOUND, _auth_advice, _not_found_kind
from .messages import _waited
from .model import FileStatus, Registry, RegistryError, RetryPolicy, _retry_after, _Transient
from .select import _strip_userinfo

_T = TypeVar("_T")


_TIMEOUT = 60.0  # seconds for one index request


_ACCEPT = (
    "application/vnd.pypi.simple.v1+html, text/html;q=0.9, "
    "application/vnd.pypi.simple.v1+json;q=0.5"
)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


class _OffOrigin(Exception):
    """A lookup was redirected off the registry's origin (GitLab's forwarding to pypi.org)."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class _AuthKeepingRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects on the registry's own origin (scheme, host, port), re-sending
    Authorization; a redirect anywhere else raises :class:`_OffOrigin` and is never followed."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        target = urllib.parse.urljoin(req.full_url, newurl)
        if _origin(target) != _origin(req.full_url):
            raise _OffOrigin(target)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        auth = req.unredirected_hdrs.get("Authorization")
        if new is not None and auth:
            new.add_unredirected_header("Authorization", auth)
        return new


def _opener() -> urllib.request.OpenerDirector:
    """The opener of every lookup (one per CA bundle: building one loads the system's trust
    store, ~30 ms, which ten lookups paid ten times)."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    return _build_opener(bundle)


@functools.cache
def _build_opener(bundle: str | None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_AuthKeepingRedirect()]
    if bundle:  # what twine (requests) trusts, the lookups trust too
        handlers.append(
            urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=bundle))
        )
    return urllib.request.build_opener(*handlers)


def _project_url(registry: Registry, project: str) -> str:
    return f"{registry.index_url.rstrip('/')}/{canonicalize_name(project)}/"


def _fetch_links(registry: Registry, project: str) -> list[IndexLink]:
    """One GET of the project page; raises _Transient or RegistryError.

    "Nothing in this registry" is: 404 (except GitLab's "Project Not Found", an access error),
    and a redirect off the registry's origin (GitLab forwarding the name to pypi.org)."""
    url = _project_url(registry, project)
    request = urllib.request.Request(
        url, headers={"Accept": _ACCEPT, "User-Agent": f"monorepo-tools/{__version__}"}
    )
    token = registry._basic_token()
    if token:
        request.add_unredirected_header("Authorization", f"Basic {token}")
    try:
        with _opener().open(request, timeout=_TIMEOUT) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            body = response.read().decode(charset, errors="replace")
            return parse_simple_page(body, response.headers.get_content_type())
    except _OffOrigin:
        return []  # forwarded to another index: this registry has no such project
    except urllib.error.HTTPError as exc:
        code, reason = exc.code, exc.reason
        retry_after = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
        try:
            body = exc.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException):
            body = ""
        exc.close()
        if code == 404 and _not_found_kind(body) == "project":
            raise RegistryError(
                f"the registry answered 404 Project Not Found for {url}: {_GITLAB_NOT_FOUND}; "
                f"{_auth_advice(registry)}",
                FileStatus.AUTH_FAILED,
            ) from None
        if code == 404:
            return []
        if code in (401, 403):
            raise RegistryError(
                f"the registry refused to list {project} (HTTP {code}) at {url}: "
                f"{_auth_advice(registry)}",
                FileStatus.AUTH_FAILED,
            ) from None
        if code == 429 or code >= 500:
            raise _Transient(f"HTTP {code} {reason} from {url}", retry_after) from None
        raise RegistryError(
            f"the index answered HTTP {code} {reason} for {url}: check the index URL "
            f"({registry.origin})"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        cause = getattr(exc, "reason", None) or exc
        raise _Transient(f"cannot reach {url}: {cause}") from None


def _retrying(action: Callable[[], _T], policy: RetryPolicy, what: str, registry: Registry) -> _T:
    waits = policy.waits()
    last: _Transient | None = None
    for attempt in range(len(waits) + 1):
        try:
            return action()
        except _Transient as exc:
            last = exc
            if attempt < len(waits):
                policy.sleep(policy.wait(attempt, exc.retry_after))
    where = registry.upload_url or registry.index_url
    raise RegistryError(
        f"{what} failed after {_waited(policy, len(waits))}: {last}; fix: check that "
        f"{_strip_userinfo(where)} is reachable (or raise --upload-retries), then rerun: files "
        "already published are skipped"
    )


def published_files(registry: Registry, project: str, policy: RetryPolicy) -> dict[str, str]:
    """The files the registry holds for *project*: file name -> sha256 ("" without a hash).

    Raises :class:`RegistryError` (``status`` AUTH_FAILED or FAILED) when the index cannot be
    read, after retries for connection errors, 429 and 5xx.
    """
    if registry.kind == "local":
        if registry.local_dir is None:
            raise RegistryError("a local registry needs local_dir")
        return LocalIndex(registry.local_dir).project_files(project)
    try:
        links = _retrying(
            lambda: _fetch_links(registry, project),
            policy,
            f"looking up {project} in the index",
            registry,
        )
    except RegistryError as exc:
        raise RegistryError(redact(str(exc), registry.secrets), exc.status) from None
    return {link.filename: link.sha256 for link in links}


def published_versions(registry: Registry, project: str, policy: RetryPolicy) -> frozenset[str]:
    """The normalized versions of *project* on the registry (from its files' names)."""
    found: set[str] = set()
    for filename in published_files(registry, project, policy):
        try:
            if filename.endswith(".whl"):
                version = parse_wheel_filename(filename)[1]
            else:
                version = parse_sdist_filename(filename)[1]
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
        found.add(str(version))
    return frozenset(found)
