"""GitLab's PyPI registry as its source says it answers (``lib/api/pypi_packages.rb``,
``lib/api/helpers/packages/basic_auth_helpers.rb``, ``dependency_proxy_helpers.rb``,
``app/services/packages/pypi/create_package_service.rb``): the advice and the classification
of its answers, in one place (and the credential advice of every registry kind, most of which
is GitLab's). The contract stand-in of these endpoints is ``tests/publish/gitlab_standin.py``."""

from __future__ import annotations

from .messages import _response_detail
from .model import Registry

_GITLAB_SCOPES = (
    "a personal, project or group access token with the `api` scope (`read_api` can only "
    "read, not upload) of a user with at least the Developer role, or a deploy token with "
    "`write_package_registry` (it implies reading; its username is `gitlab+deploy-token-N`); "
    "or, inside GitLab CI, leave both unset to use the job token (CI_JOB_TOKEN, as "
    "`gitlab-ci-token`: the job's user needs the Developer role, and publishing to another "
    "project needs that project's CI/CD job token allowlist to include this one)"
)


_GITLAB_NOT_FOUND = (
    'GitLab answers 404 "Project Not Found" for a wrong project id, for a token whose user is '
    "not a member of a private project (or whose role is too low to see it), and for a job "
    "token whose project is not on the target project's CI/CD job token allowlist "
    "(Settings > CI/CD > Job token permissions); fix: check GITLAB_PYPI_PROJECT_ID (a numeric "
    "id or the URL-encoded path, e.g. group%2Fproject), the token's access and membership"
)


_GITLAB_PROTECTED = (
    'GitLab refused it with "Package protected.": a package protection rule of the project '
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


def _not_found_kind(body: str) -> str:
    """GitLab's 404 body: "project" (no access: an error) or "" (nothing published yet)."""
    detail = _response_detail(body, "application/json").lower()
    if "project not found" in detail or "group not found" in detail:
        return "project"
    return ""


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
