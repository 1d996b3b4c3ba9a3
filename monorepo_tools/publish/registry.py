"""Where snapshots go, and publishing files there: idempotent, resumable, never leaking a secret.

Registry selection (:func:`registry_from_env`), first match wins:

1. ``--repository-url`` / ``MONOREPO_REPOSITORY_URL``: any PyPI-compatible registry; its simple
   index is ``--index-url`` / ``MONOREPO_INDEX_URL`` (default ``<repository-url>/simple``).
   Credentials: ``MONOREPO_REPOSITORY_USERNAME`` + ``MONOREPO_REPOSITORY_PASSWORD``, else
   ``GITLAB_PYPI_USERNAME`` + ``GITLAB_PYPI_PASSWORD``, else the URL's ``user:password@``.
2. GitLab: ``GITLAB_PYPI_PROJECT_ID`` with ``GITLAB_HOST`` (upload to
   ``https://<host>/api/v4/projects/<id>/packages/pypi``, index ``…/simple``); inside GitLab CI
   (``GITLAB_CI`` set) ``CI_PROJECT_ID`` and ``CI_API_V4_URL`` stand in for unset ones.
   Credentials: ``GITLAB_PYPI_USERNAME`` + ``GITLAB_PYPI_PASSWORD``; inside GitLab CI, when both
   are unset, ``gitlab-ci-token`` + ``CI_JOB_TOKEN``.
3. Nothing configured, in CI (``CI`` non-empty): :class:`~monorepo_tools.errors.ConfigError`
   naming the variables to set. Outside CI: the embedded index ``<root>/.monorepo/index/``
   (:mod:`~monorepo_tools.publish.local_index`), installable with ``pip --index-url file://…``.

Publishing (:func:`publish_files`) looks every file up in the registry's simple index first:
the same file name with the same sha256 is skipped (already published), a different sha256 is a
conflict (never overwritten), anything else is uploaded with twine *in-process* (credentials
never reach a command line; twine's console output is captured, redacted and returned). A
refused upload (GitLab: 400 "File name has already been taken"; pypiserver: 409) is checked
against the index again by hash. Connection errors, 429 and 5xx are retried with exponential
backoff (:class:`RetryPolicy`); 401/403 are not: they stop the package with a message naming
the variables and token scopes to fix. Every message passes through
:func:`~monorepo_tools.publish.redact.redact`.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

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
    "a personal, project or group access token with scope `api` or `write_package_registry` "
    "(plus `read_api` or `read_package_registry` to look files up), or, inside GitLab CI, "
    "leave both unset to use `gitlab-ci-token` with CI_JOB_TOKEN"
)


# --------------------------------------------------------------------------- policy and model


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one request on connection errors, 429 and 5xx: waits ``b, b*m, b*m², …``."""

    retries: int = 2
    backoff_seconds: float = 1.0
    multiplier: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def waits(self) -> list[float]:
        return [self.backoff_seconds * self.multiplier**i for i in range(max(self.retries, 0))]


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


# --------------------------------------------------------------------------- selection


def _var(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _strip_userinfo(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _userinfo(url: str) -> tuple[str, str] | None:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None or parts.username is None:
        return None
    return urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password)


def _check_url(url: str, what: str) -> str:
    parts = urllib.parse.urlsplit(url)
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
        raise ConfigError(
            "no registry configured in CI (CI is set), and the local index is for development "
            "only: set GITLAB_PYPI_PROJECT_ID and GITLAB_HOST with GITLAB_PYPI_USERNAME and "
            "GITLAB_PYPI_PASSWORD (GitLab's PyPI registry), or MONOREPO_REPOSITORY_URL "
            "(optionally MONOREPO_INDEX_URL) with MONOREPO_REPOSITORY_USERNAME and "
            "MONOREPO_REPOSITORY_PASSWORD (any PyPI-compatible registry); or run with --dry-run"
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
    in_gitlab_ci = bool(_var(env, "GITLAB_CI"))
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
    if creds is None:
        raise ConfigError(
            f"the GitLab registry {upload} needs credentials to upload: set "
            f"GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD to {_GITLAB_SCOPES}"
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
    )


# --------------------------------------------------------------------------- messages


def _auth_advice(registry: Registry) -> str:
    used = f" (credentials from {registry.credentials_from})" if registry.credentials_from else ""
    if registry.kind == "gitlab":
        return (
            f"check GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD{used}: "
            f"they must be {_GITLAB_SCOPES}"
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


class _AuthKeepingRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects; re-send Authorization only to the same scheme, host and port."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        auth = req.unredirected_hdrs.get("Authorization")
        if new is not None and auth:
            old, target = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
            if (old.scheme, old.netloc) == (target.scheme, target.netloc):
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


def _fetch_links(registry: Registry, project: str) -> list[IndexLink]:
    """One GET of the project page; 404 is "nothing yet"; raises _Transient or RegistryError."""
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
    except urllib.error.HTTPError as exc:
        code, reason = exc.code, exc.reason
        exc.close()
        if code == 404:
            return []
        if code in (401, 403):
            raise RegistryError(
                f"the registry refused to list {project} (HTTP {code}) at {url}: "
                f"{_auth_advice(registry)}",
                FileStatus.AUTH_FAILED,
            ) from None
        if code == 429 or code >= 500:
            raise _Transient(f"HTTP {code} {reason} from {url}") from None
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
                policy.sleep(waits[attempt])
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
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
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
        return _Answer(status, f"{head}: {detail}" if detail else head, output)
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
            raise _Transient(f"upload answered {answer.error}")
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
