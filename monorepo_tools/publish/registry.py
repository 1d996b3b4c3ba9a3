"""Where snapshots go, and publishing files there: idempotent, resumable, never leaking a secret.

Registry selection (:func:`registry_from_env`), first match wins:

1. ``--repository-url`` / ``MONOREPO_REPOSITORY_URL``: any PyPI-compatible registry; its simple
   index is ``--index-url`` / ``MONOREPO_INDEX_URL`` (default ``<repository-url>/simple``).
   Credentials: ``MONOREPO_REPOSITORY_USERNAME`` + ``MONOREPO_REPOSITORY_PASSWORD``, else
   ``GITLAB_PYPI_USERNAME`` + ``GITLAB_PYPI_PASSWORD``, else the URL's ``user:password@``.
2. GitLab: ``GITLAB_PYPI_PROJECT_ID`` with ``GITLAB_HOST`` (upload to
   ``https://<host>/api/v4/projects/<id>/packages/pypi``, index ``…/simple``); inside GitLab CI
   (``GITLAB_CI`` is ``true``; gitlab-ci-local's ``false`` does not count) ``CI_PROJECT_ID`` and
   ``CI_API_V4_URL`` stand in for unset ones. Credentials: ``GITLAB_PYPI_USERNAME`` +
   ``GITLAB_PYPI_PASSWORD``; inside GitLab CI, when both are unset, ``gitlab-ci-token`` +
   ``CI_JOB_TOKEN`` (publishing with it to another project than ``CI_PROJECT_ID`` gets a warning
   up front: that project must allowlist this one, :attr:`Registry.warnings`).
3. Nothing configured, in CI (``CI`` non-empty): :class:`~monorepo_tools.errors.ConfigError`
   naming the variables to set. Outside CI: the embedded index ``<root>/.monorepo/index/``
   (:mod:`~monorepo_tools.publish.local_index`), installable with ``pip --index-url file://…``.

Publishing (:func:`publish_files`) looks every file up in the registry's simple index first:
the same file name with the same sha256 is skipped (already published), a different sha256 is a
conflict (never overwritten), anything else is uploaded with twine *in-process* (credentials
never reach a command line; twine's console output is captured, redacted and returned). A
refused upload (GitLab: 400 "File name has already been taken"; pypiserver: 409) is checked
against the index again by hash. Connection errors, 429 and 5xx are retried with exponential
backoff (:class:`RetryPolicy`; a 429's ``Retry-After`` is honoured, bounded by
``max_retry_after``); twine's own retries are switched off, so one policy governs every POST.
401/403/404-"Project Not Found" are not retried: they stop the package with a message naming
the variables, token scopes, role and allowlist to fix. Every message passes through
:func:`~monorepo_tools.publish.redact.redact`.

GitLab as it really is (``lib/api/pypi_packages.rb``, ``basic_auth_helpers.rb``,
``dependency_proxy_helpers.rb``; the contract stand-in ``tests/publish/gitlab_standin.py``):

* **Forwarding** (on by default): the simple page of a name the project has no package for
  answers 302 to ``https://pypi.org/simple/<name>/``. A lookup never follows a redirect off the
  registry's origin (scheme, host, port): it means "not in this registry" (a same-named public
  project must not be read as ours, and a runner without internet must not fail).
* **404** ``{"message":"404 Project Not Found"}`` is a wrong project id, a token without access
  to a private project, or a job token not on the target's allowlist: an access error, never
  "nothing published"; ``404 Package Not Found`` (forwarding off) is "nothing yet".
* **403** is a role below Developer, or a package protection rule (``Package protected.``).
* **400** ``File is too large`` (and Workhorse's 413) is the size limit, not the metadata.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import html
import http.client
import io
import json
import logging
import os
import re
import shlex
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from packaging.utils import canonicalize_name

from .._io import ensure_state_dir
from .._version import __version__
from ..config import STATE_DIR
from ..errors import ConfigError, PublishError
from .local_index import (
    IndexConflict,
    IndexLink,
    LocalIndex,
    parse_simple_page,
    sha256_file,
)
from .redact import Secret, redact

__all__ = [
    "FileOutcome",
    "FileStatus",
    "Registry",
    "RegistryError",
    "RetryPolicy",
    "Secret",
    "publish_files",
    "published_files",
    "registry_from_env",
]

_T = TypeVar("_T")
_TIMEOUT = 60.0  # seconds for one index request
_ACCEPT = (
    "application/vnd.pypi.simple.v1+html, text/html;q=0.9, "
    "application/vnd.pypi.simple.v1+json;q=0.5"
)
_CONFLICT_FIX = (
    "Publish conflicts (`file already exists`): rerun workflow so snapshot id changes "
    "(a new pipeline or MONOREPO_SNAPSHOT_ID); a published file is never overwritten"
)
_GITLAB_SCOPES = (
    "a personal, project or group access token with the `api` scope (`read_api` can only "
    "read, not upload) of a user with at least the Developer role, or a deploy token with "
    "`write_package_registry` (it implies reading; its username is `gitlab+deploy-token-N`); "
    "or, inside GitLab CI, leave both unset to use the job token (CI_JOB_TOKEN, as "
    "`gitlab-ci-token`: the job's user needs the Developer role, and publishing to another "
    "project needs that project's CI/CD job token allowlist to include this one)"
)
_GITLAB_NOT_FOUND = (
    "GitLab answers 404 \"Project Not Found\" for a wrong project id, for a token whose user is "
    "not a member of a private project (or whose role is too low to see it), and for a job "
    "token whose project is not on the target project's CI/CD job token allowlist "
    "(Settings > CI/CD > Job token permissions); fix: check GITLAB_PYPI_PROJECT_ID (a numeric "
    "id or the URL-encoded path, e.g. group%2Fproject), the token's access and membership"
)
_GITLAB_PROTECTED = (
    "GitLab refused it with \"Package protected.\": a package protection rule of the project "
    "(Settings > Packages and registries > Protected packages) covers this name and needs a "
    "higher role to push; fix: publish with a token of a user with the rule's minimum role "
    "(Maintainer, Owner or Admin), or change the rule"
)
_TOO_LARGE = (
    "the registry refused the file as too large (GitLab: the instance's PyPI maximum file size, "
    "50 MiB by default, Admin > Settings > CI/CD > Package registry limits; a 413 comes from "
    "Workhorse or a proxy in front of it); fix: make the distribution smaller (exclude data "
    "files from it) or ask the GitLab administrator to raise the limit"
)
#: Longest Retry-After this tool waits by default (seconds): a longer one is cut to this.
MAX_RETRY_AFTER = 300.0


# --------------------------------------------------------------------------- policy and model


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


# --------------------------------------------------------------------------- selection


def _var(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _truthy(env: Mapping[str, str], name: str) -> bool:
    """GitLab CI sets ``true``; gitlab-ci-local sets ``false``: only a true value counts."""
    return (_var(env, name) or "").lower() in ("true", "1", "yes", "on")


def _split(url: str) -> urllib.parse.SplitResult:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ConfigError(
            f"{redact(url)!r} is not a valid URL ({exc}); fix: e.g. https://host/path "
            "(an IPv6 host in brackets: http://[::1]:8080/)"
        ) from None
    return parts


def _strip_userinfo(url: str) -> str:
    parts = _split(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _userinfo(url: str) -> tuple[str, str] | None:
    parts = _split(url)
    if parts.password is None or parts.username is None:
        return None
    return urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password)


def _check_url(url: str, what: str) -> str:
    try:
        parts = _split(url)
    except ConfigError as exc:
        raise ConfigError(f"{what}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = redact(url, [])
        raise ConfigError(f"{what} {shown!r} is not an http(s) URL; fix: e.g. https://host/path")
    return url


def _pair(env: Mapping[str, str], user_var: str, password_var: str) -> tuple[str, str, str] | None:
    """(username, password, "USER_VAR + PASSWORD_VAR") when both are set; ConfigError if one is."""
    user, password = _var(env, user_var), _var(env, password_var)
    if user and password:
        return user, password, f"{user_var} + {password_var}"
    if user or password:
        missing = password_var if user else user_var
        present = user_var if user else password_var
        raise ConfigError(f"{present} is set but {missing} is not: set both (or neither)")
    return None


def registry_from_env(
    env: Mapping[str, str],
    root: Path,
    repository_url: str | None = None,
    index_url: str | None = None,
) -> Registry:
    """The registry the environment and options select (see the module docstring)."""
    explicit_index = index_url or _var(env, "MONOREPO_INDEX_URL")
    index_source = "--index-url" if index_url else "MONOREPO_INDEX_URL"
    upload = repository_url or _var(env, "MONOREPO_REPOSITORY_URL")
    if upload:
        return _generic_registry(
            env,
            upload,
            "--repository-url" if repository_url else "MONOREPO_REPOSITORY_URL",
            explicit_index,
            index_source,
        )
    gitlab = _gitlab_registry(env, explicit_index, index_source)
    if gitlab is not None:
        return gitlab
    if explicit_index:
        raise ConfigError(
            f"{index_source} is set but there is no upload URL: set --repository-url or "
            "MONOREPO_REPOSITORY_URL too (or GITLAB_PYPI_PROJECT_ID and GITLAB_HOST for GitLab)"
        )
    if _var(env, "CI"):
        gitlab_ci = _var(env, "GITLAB_CI")
        note = (
            f" (GITLAB_CI={gitlab_ci!r} is not 'true', so CI_PROJECT_ID, CI_API_V4_URL and "
            "CI_JOB_TOKEN are not used: gitlab-ci-local sets it to false)"
            if gitlab_ci and not _truthy(env, "GITLAB_CI")
            else ""
        )
        raise ConfigError(
            f"no registry configured in CI (CI is set){note}, and the local index is for "
            "development only: set GITLAB_PYPI_PROJECT_ID and GITLAB_HOST with "
            "GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD (GitLab's PyPI registry), or "
            "MONOREPO_REPOSITORY_URL (optionally MONOREPO_INDEX_URL) with "
            "MONOREPO_REPOSITORY_USERNAME and MONOREPO_REPOSITORY_PASSWORD (any PyPI-compatible "
            "registry); or run with --dry-run"
        )
    local = (Path(root).absolute() / STATE_DIR / "index").absolute()
    return Registry(
        kind="local",
        upload_url=None,
        index_url=LocalIndex(local).url,
        username=None,
        password=None,
        local_dir=local,
        origin="default: no registry configured (local index under the root)",
    )


def _generic_registry(
    env: Mapping[str, str], url: str, source: str, explicit_index: str | None, index_source: str
) -> Registry:
    _check_url(url, source)
    index = explicit_index or f"{url.rstrip('/')}/simple/"
    if explicit_index:
        _check_url(index, index_source)
    creds = _pair(env, "MONOREPO_REPOSITORY_USERNAME", "MONOREPO_REPOSITORY_PASSWORD") or _pair(
        env, "GITLAB_PYPI_USERNAME", "GITLAB_PYPI_PASSWORD"
    )
    if creds is None:
        embedded = _userinfo(url) or _userinfo(index)
        if embedded is not None:
            creds = (*embedded, f"the user:password of {source}")
    if creds is None:
        raise ConfigError(
            f"the registry {_strip_userinfo(url)} ({source}) needs credentials to upload: set "
            "MONOREPO_REPOSITORY_USERNAME and MONOREPO_REPOSITORY_PASSWORD (or "
            "GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD)"
        )
    origin = f"{source} + " + (index_source if explicit_index else "default index <url>/simple/")
    return Registry(
        kind="repository",
        upload_url=_strip_userinfo(url),
        index_url=_strip_userinfo(index),
        username=creds[0],
        password=Secret(creds[1]),
        local_dir=None,
        origin=origin,
        credentials_from=creds[2],
    )


def _gitlab_api(host: str) -> str:
    host = host.rstrip("/")
    base = host if "://" in host else f"https://{host}"
    return base if base.endswith("/api/v4") else f"{base}/api/v4"


def _gitlab_registry(
    env: Mapping[str, str], explicit_index: str | None, index_source: str
) -> Registry | None:
    in_gitlab_ci = _truthy(env, "GITLAB_CI")
    project = _var(env, "GITLAB_PYPI_PROJECT_ID")
    project_source = "GITLAB_PYPI_PROJECT_ID"
    if project is None and in_gitlab_ci and _var(env, "CI_PROJECT_ID"):
        project, project_source = _var(env, "CI_PROJECT_ID"), "CI_PROJECT_ID (GitLab CI)"
    if project is None:
        return None  # GITLAB_HOST alone (glab sets it) does not choose a registry
    host = _var(env, "GITLAB_HOST")
    if host is not None:
        api, api_source = _gitlab_api(host), "GITLAB_HOST"
    elif in_gitlab_ci and _var(env, "CI_API_V4_URL"):
        api, api_source = str(_var(env, "CI_API_V4_URL")).rstrip("/"), "CI_API_V4_URL (GitLab CI)"
    else:
        raise ConfigError(
            f"{project_source} is set but GITLAB_HOST is not: set GITLAB_HOST to the GitLab "
            "server's host name (e.g. gitlab.example.com)"
        )
    _check_url(api, api_source)
    quoted = urllib.parse.quote(project, safe="%")  # a numeric id or a URL-encoded path
    upload = f"{api}/projects/{quoted}/packages/pypi"
    index = explicit_index or f"{upload}/simple"
    if explicit_index:
        _check_url(index, index_source)
    creds = _pair(env, "GITLAB_PYPI_USERNAME", "GITLAB_PYPI_PASSWORD")
    if creds is None and in_gitlab_ci and _var(env, "CI_JOB_TOKEN"):
        creds = (
            "gitlab-ci-token",
            str(_var(env, "CI_JOB_TOKEN")),
            "gitlab-ci-token + CI_JOB_TOKEN (GitLab CI)",
        )
    if creds is None and in_gitlab_ci:
        raise ConfigError(
            f"the GitLab registry {upload} needs credentials to upload: CI_JOB_TOKEN is not set "
            "in this GitLab CI job (it is set in every job GitLab runs; a job started otherwise "
            "lacks it); fix: run the job in GitLab CI, or set GITLAB_PYPI_USERNAME and "
            f"GITLAB_PYPI_PASSWORD to {_GITLAB_SCOPES}"
        )
    if creds is None:
        raise ConfigError(
            f"the GitLab registry {upload} needs credentials to upload: set "
            f"GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD to {_GITLAB_SCOPES}"
        )
    warnings: list[str] = []
    own = _var(env, "CI_PROJECT_ID")
    if creds[0] == "gitlab-ci-token" and own and urllib.parse.unquote(project) != own:
        this = _var(env, "CI_PROJECT_PATH") or f"project {own}"
        warnings.append(
            f"publishing with CI_JOB_TOKEN to another project ({project_source}={project}, this "
            f"job's CI_PROJECT_ID={own}): project {project} must add {this} to its CI/CD job "
            "token allowlist (Settings > CI/CD > Job token permissions), or GitLab answers 404 "
            "Project Not Found; the job's user also needs the Developer role there"
        )
    origin = f"{project_source} + {api_source}" + (f" + {index_source}" if explicit_index else "")
    return Registry(
        kind="gitlab",
        upload_url=upload,
        index_url=_strip_userinfo(index),
        username=creds[0],
        password=Secret(creds[1]),
        local_dir=None,
        origin=origin,
        credentials_from=creds[2],
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- messages


def _auth_advice(registry: Registry) -> str:
    used = f" (credentials from {registry.credentials_from})" if registry.credentials_from else ""
    if registry.kind == "gitlab" and "CI_JOB_TOKEN" in registry.credentials_from:
        return (
            f"the job token was used{used}: the user running the pipeline needs at least the "
            "Developer role in the target project (a Guest or Reporter can read but not "
            "publish), and a target other than this job's project must list this project on "
            "its CI/CD job token allowlist; or set GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD "
            f"to {_GITLAB_SCOPES}"
        )
    if registry.kind == "gitlab":
        return (
            f"check GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD{used}: "
            f"they must be {_GITLAB_SCOPES}; a 403 also means a role below Developer"
        )
    return (
        f"check MONOREPO_REPOSITORY_USERNAME and MONOREPO_REPOSITORY_PASSWORD (or "
        f"GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD){used}: an account allowed to upload to "
        f"and read from {registry.upload_url}; for GitLab's registry {_GITLAB_SCOPES}"
    )


def _waited(policy: RetryPolicy, count: int) -> str:
    waits = policy.waits()[:count]
    if not waits:
        return "1 attempt (no retries: --upload-retries 0)"
    shown = " then ".join(f"{w:g} s" for w in waits)
    retries = f"{len(waits)} retr{'y' if len(waits) == 1 else 'ies'}"
    return f"{len(waits) + 1} attempts ({retries}, waited {shown})"


def _response_detail(text: str, content_type: str) -> str:
    """The useful part of an error body: GitLab's JSON ``message``, an HTML page's text."""
    text = text.strip()
    if not text:
        return ""
    if "json" in content_type or text.startswith("{"):
        with contextlib.suppress(ValueError):
            document = json.loads(text)
            if isinstance(document, dict):
                for key in ("message", "error", "detail"):
                    if document.get(key):
                        return _short(str(document[key]))
    if "<" in text:
        pre = re.search(r"<pre[^>]*>(.*?)</pre>", text, re.S | re.I)
        text = (
            pre.group(1)
            if pre
            else re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.S | re.I)
        )
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return _short(text)


def _short(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------- HTTP (index lookups)


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
    handlers: list[urllib.request.BaseHandler] = [_AuthKeepingRedirect()]
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:  # what twine (requests) trusts, the lookups trust too
        handlers.append(
            urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=bundle))
        )
    return urllib.request.build_opener(*handlers)


def _project_url(registry: Registry, project: str) -> str:
    return f"{registry.index_url.rstrip('/')}/{canonicalize_name(project)}/"


def _not_found_kind(body: str) -> str:
    """GitLab's 404 body: "project" (no access: an error) or "" (nothing published yet)."""
    detail = _response_detail(body, "application/json").lower()
    if "project not found" in detail or "group not found" in detail:
        return "project"
    return ""


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


# --------------------------------------------------------------------------- twine (uploads)

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
    original_session = twine.repository.make_requests_session
    original_upload = repository.upload

    def upload_once(self: twine.repository.Repository, package: Any, max_redirects: int = 1) -> Any:
        return original_upload(self, package, max_redirects=1)

    twine.repository.make_requests_session = _session_without_retries  # type: ignore[assignment]
    repository.upload = upload_once  # type: ignore[method-assign]
    try:
        yield
    finally:
        twine.repository.make_requests_session = original_session
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


# --------------------------------------------------------------------------- publishing


def _outcome(
    registry: Registry, path: Path, status: FileStatus, message: str, output: str = ""
) -> FileOutcome:
    secrets = registry.secrets
    return FileOutcome(
        path, status, redact(f"{path.name}: {message}", secrets), redact(output, secrets)
    )


def _conflict(
    registry: Registry, path: Path, published: str, digest: str, output: str = ""
) -> FileOutcome:
    held = f"sha256 {published}" if published else "a file whose sha256 the index does not give"
    return _outcome(
        registry,
        path,
        FileStatus.CONFLICT,
        f"conflict: the registry already holds {held} under this name, this build has sha256 "
        f"{digest}. {_CONFLICT_FIX}",
        output,
    )


def _upload_remote(
    registry: Registry, project: str, path: Path, digest: str, policy: RetryPolicy
) -> FileOutcome:
    if not registry.username or not registry.password:
        return _outcome(
            registry,
            path,
            FileStatus.AUTH_FAILED,
            f"no credentials to upload: {_auth_advice(registry)}",
        )
    outputs: list[str] = []

    def attempt() -> _Answer:
        answer = _twine_upload(registry, path)
        outputs.append(answer.output)
        if answer.status == 429 or (answer.status is not None and answer.status >= 500):
            raise _Transient(f"upload answered {answer.error}", answer.retry_after)
        return answer

    try:
        answer = _retrying(
            attempt, policy, f"uploading {path.name} to {registry.upload_url}", registry
        )
    except RegistryError as exc:
        return _outcome(registry, path, FileStatus.FAILED, str(exc), "".join(outputs))
    output = "".join(outputs)
    if answer.status is None and not answer.error:
        return _outcome(
            registry, path, FileStatus.UPLOADED, f"uploaded to {registry.upload_url}", output
        )
    lowered = answer.error.lower()
    if answer.status == 413 or (answer.status == 400 and "too large" in lowered):
        return _outcome(
            registry, path, FileStatus.FAILED, f"upload refused ({answer.error}): {_TOO_LARGE}",
            output,
        )  # fmt: skip
    if answer.status == 403 and "package protected" in lowered:
        return _outcome(
            registry,
            path,
            FileStatus.AUTH_FAILED,
            f"upload refused ({answer.error}): {_GITLAB_PROTECTED}",
            output,
        )
    if answer.status == 404 and _not_found_kind(answer.error.partition(": ")[2]) == "project":
        return _outcome(
            registry,
            path,
            FileStatus.AUTH_FAILED,
            f"upload refused ({answer.error}): {_GITLAB_NOT_FOUND}; {_auth_advice(registry)}",
            output,
        )
    if answer.status in (401, 403):
        return _outcome(
            registry,
            path,
            FileStatus.AUTH_FAILED,
            f"upload refused ({answer.error}): {_auth_advice(registry)}",
            output,
        )
    if answer.status in (400, 409):
        # A duplicate (GitLab 400 "File name has already been taken", pypiserver 409), or an
        # earlier attempt that reached the server after all: compare with the index by hash.
        try:
            published = published_files(registry, project, policy)
        except RegistryError as exc:
            return _outcome(
                registry,
                path,
                exc.status,
                f"upload refused ({answer.error}) and the index could not be read to compare: "
                f"{exc}",
                output,
            )
        if path.name in published:
            if published[path.name] == digest:
                return _outcome(
                    registry,
                    path,
                    FileStatus.ALREADY_PUBLISHED,
                    f"already published with the same sha256 {digest} (the registry refused the "
                    "second upload)",
                    output,
                )
            return _conflict(registry, path, published[path.name], digest, output)
        return _outcome(
            registry,
            path,
            FileStatus.FAILED,
            f"upload refused ({answer.error}); the file is not in the index, so this is not a "
            "duplicate: fix the distribution's metadata (twine check) or the registry URL",
            output,
        )
    return _outcome(
        registry,
        path,
        FileStatus.FAILED,
        f"upload to {registry.upload_url} failed ({answer.error}); fix: check the registry URL "
        f"({registry.origin})",
        output,
    )


def _upload_local(registry: Registry, project: str, path: Path, digest: str) -> FileOutcome:
    assert registry.local_dir is not None
    try:
        added = LocalIndex(registry.local_dir).add(project, path)
    except IndexConflict as exc:
        return _conflict(registry, path, exc.published, exc.offered)
    except OSError as exc:
        return _outcome(
            registry,
            path,
            FileStatus.FAILED,
            f"cannot write the local index {registry.local_dir}: {exc}",
        )
    if not added:
        return _outcome(
            registry,
            path,
            FileStatus.ALREADY_PUBLISHED,
            f"already published with the same sha256 {digest}",
        )
    return _outcome(
        registry, path, FileStatus.UPLOADED, f"published into the local index {registry.local_dir}"
    )


def publish_files(
    registry: Registry, project: str, files: Sequence[Path], policy: RetryPolicy
) -> list[FileOutcome]:
    """Publish *files* of *project*, in order; one outcome per file tried.

    One index lookup first: files already there with the same sha256 are skipped; if any file
    conflicts, nothing of the package is uploaded (a half-published mix of two builds is worse
    than none). Then each missing file is uploaded; the first failure stops the package (an
    authentication failure makes no further request).
    """
    paths = [Path(p) for p in files]
    if not paths:
        return []
    if registry.kind == "local":
        if registry.local_dir is None:
            return [
                _outcome(registry, paths[0], FileStatus.FAILED, "a local registry needs local_dir")
            ]
        with contextlib.suppress(OSError):
            if registry.local_dir.parent.name == STATE_DIR:
                ensure_state_dir(registry.local_dir.parent)
    try:
        digests = {p: sha256_file(p) for p in paths}
    except OSError as exc:
        return [
            _outcome(
                registry, paths[0], FileStatus.FAILED, f"cannot read the file to upload: {exc}"
            )
        ]
    try:
        published = published_files(registry, project, policy)
    except RegistryError as exc:
        return [_outcome(registry, paths[0], exc.status, f"not uploaded: {exc}")]

    conflicts = {p for p in paths if p.name in published and published[p.name] != digests[p]}
    if conflicts:
        first = min(conflicts, key=paths.index)
        outcomes: list[FileOutcome] = []
        for p in paths:
            if p in conflicts:
                outcomes.append(_conflict(registry, p, published[p.name], digests[p]))
            elif p.name in published:
                outcomes.append(
                    _outcome(
                        registry,
                        p,
                        FileStatus.ALREADY_PUBLISHED,
                        f"already published with the same sha256 {digests[p]}",
                    )
                )
            else:
                outcomes.append(
                    _outcome(
                        registry,
                        p,
                        FileStatus.FAILED,
                        f"not uploaded because {first.name} conflicts. {_CONFLICT_FIX}",
                    )
                )
        return outcomes

    results: list[FileOutcome] = []
    for p in paths:
        if p.name in published:
            results.append(
                _outcome(
                    registry,
                    p,
                    FileStatus.ALREADY_PUBLISHED,
                    f"already published with the same sha256 {digests[p]}; skipped",
                )
            )
            continue
        if registry.kind == "local":
            outcome = _upload_local(registry, project, p, digests[p])
        else:
            outcome = _upload_remote(registry, project, p, digests[p], policy)
        results.append(outcome)
        if not outcome.status.ok:
            break
    return results
