"""Which registry the environment and options select (:func:`registry_from_env`); see the
package docstring for the order."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path

from ...config import STATE_DIR
from ...errors import ConfigError
from ..local_index import LocalIndex
from ..redact import Secret, redact
from .gitlab import _GITLAB_SCOPES
from .model import Registry


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
    return _remote("repository", _strip_userinfo(url), index, creds, origin)


def _remote(
    kind: str,
    upload_url: str,
    index: str,
    creds: tuple[str, str, str],
    origin: str,
    warnings: Sequence[str] = (),
) -> Registry:
    """A registry reached over HTTP: *creds* is (username, password, where they came from)."""
    return Registry(
        kind=kind,
        upload_url=upload_url,
        index_url=_strip_userinfo(index),
        username=creds[0],
        password=Secret(creds[1]),
        local_dir=None,
        origin=origin,
        credentials_from=creds[2],
        warnings=tuple(warnings),
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
    return _remote("gitlab", upload, index, creds, origin, warnings)
