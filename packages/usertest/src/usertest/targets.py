"""What ``--repo`` and the index options mean: package targets and the package index URL."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from runner_core import (
    InvalidRequirement,
    Requirement,
    parse_requirement,
    with_credentials,
)

__all__ = ["INSTALLERS", "IndexChoice", "Target", "UsageError", "parse_target", "resolve_index"]

INSTALLERS = ("pip", "pdm")

GITLAB_VARIABLES = ("GITLAB_PYPI_PROJECT_ID", "GITLAB_HOST", "GITLAB_PYPI_USERNAME", "GITLAB_PYPI_PASSWORD")


class UsageError(Exception):
    """The command line (or the environment it relies on) is wrong: exit code 2."""


@dataclass(frozen=True, slots=True)
class Target:
    """``pip:<req> [<req> ...]`` or ``pdm:<req> [<req> ...]``."""

    installer: str
    requirements: tuple[Requirement, ...]

    @property
    def requirement_strings(self) -> tuple[str, ...]:
        return tuple(r.text for r in self.requirements)


def parse_target(text: str) -> Target:
    """Parse ``--repo``; :class:`UsageError` for anything that is not a package target."""
    installer, sep, rest = text.strip().partition(":")
    if not sep or installer not in INSTALLERS:
        raise UsageError(
            f"--repo {text!r} is not a package target: use \"pip:<requirement> [<requirement> ...]\" "
            f"or \"pdm:<requirement> [<requirement> ...]\", e.g. \"pip:agent-adapters==0.1.0.dev1\""
        )
    parts = rest.split()
    if not parts:
        raise UsageError(f"--repo {text!r} names no requirement: add one after \"{installer}:\", e.g. \"{installer}:normalized-events==<version>\"")
    requirements: list[Requirement] = []
    for part in parts:
        try:
            requirement = parse_requirement(part)
        except InvalidRequirement as exc:
            raise UsageError(f"--repo {text!r}: invalid requirement: {exc}") from None
        if any(r.key == requirement.key for r in requirements):
            raise UsageError(f"--repo {text!r} names {requirement.key} twice")
        requirements.append(requirement)
    return Target(installer, tuple(requirements))


@dataclass(frozen=True, slots=True)
class IndexChoice:
    """The primary index: ``url`` (with credentials, for the installer only), and where it came from."""

    url: str
    source: str  # "--index-url" | "GitLab variables"


def gitlab_index_url(host: str, project_id: str) -> str:
    """``https://<host>/api/v4/projects/<id>/packages/pypi/simple`` (*host* may carry a scheme)."""
    host = host.strip().rstrip("/")
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", host):
        host = "https://" + host
    return f"{host}/api/v4/projects/{urllib.parse.quote(project_id.strip(), safe='')}/packages/pypi/simple"


def resolve_index(index_url: str | None, environ: Mapping[str, str]) -> IndexChoice:
    """The index from ``--index-url``, else from ``GITLAB_PYPI_PROJECT_ID`` + ``GITLAB_HOST``.

    ``GITLAB_PYPI_USERNAME``/``GITLAB_PYPI_PASSWORD``, when set, become the basic-auth
    credentials of that index (unless the URL already has some).
    """
    username = environ.get("GITLAB_PYPI_USERNAME") or None
    password = environ.get("GITLAB_PYPI_PASSWORD") or None
    if bool(username) != bool(password):
        missing = "GITLAB_PYPI_PASSWORD" if username else "GITLAB_PYPI_USERNAME"
        raise UsageError(f"{missing} is not set: set both GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD, or neither")
    if index_url:
        scheme = urllib.parse.urlsplit(index_url).scheme
        if scheme not in ("http", "https", "file"):
            raise UsageError(f"--index-url must be an http(s) or file URL, got {index_url!r}")
        return IndexChoice(with_credentials(index_url, username, password), "--index-url")
    project = environ.get("GITLAB_PYPI_PROJECT_ID", "").strip()
    host = environ.get("GITLAB_HOST", "").strip()
    if project and host:
        return IndexChoice(with_credentials(gitlab_index_url(host, project), username, password), "GitLab variables")
    unset = [name for name, value in (("GITLAB_PYPI_PROJECT_ID", project), ("GITLAB_HOST", host)) if not value]
    raise UsageError(
        "no package index: pass --index-url URL, or set GITLAB_PYPI_PROJECT_ID and GITLAB_HOST "
        f"(not set: {', '.join(unset)}; GITLAB_PYPI_USERNAME and GITLAB_PYPI_PASSWORD add credentials)"
    )
