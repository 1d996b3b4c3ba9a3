"""Publishing against GitLab's PyPI API as GitLab really answers (items 6-12 of issue 8).

The server is ``gitlab_standin.py``, a contract stand-in written from GitLab's source (see its
docstring for the files). Uploads go through real twine; lookups through the tool's client.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gitlab_standin import REALM, GitLabStandIn, Upstream

from monorepo_tools.errors import ConfigError
from monorepo_tools.publish.registry import (
    FileStatus,
    Registry,
    RetryPolicy,
    publish_files,
    published_files,
    registry_from_env,
)

ROOT = Path("/nonexistent/monorepo")
PROJECT = 42
PATH = "acme/snapshots"
TOKENS = {
    "developer": "glpat-dev-0123456789",
    "maintainer": "glpat-maint-0123456789",
    "guest": "glpat-guest-0123456789",
    "reporter": "glpat-rep-0123456789",
    "outsider": "glpat-out-0123456789",
    "read_api": "glpat-readapi-0123456789",
}


@pytest.fixture
def gitlab() -> Iterator[GitLabStandIn]:
    server = GitLabStandIn()
    project = server.add_project(PROJECT, PATH)
    server.add_project(7, "acme/other")
    for role in ("developer", "maintainer", "guest", "reporter"):
        project.members[role] = role
        server.add_token(TOKENS[role], "personal", role)
    server.add_token(TOKENS["outsider"], "personal", "outsider")
    project.members["readonly"] = "developer"
    server.add_token(TOKENS["read_api"], "personal", "readonly", scopes=frozenset({"read_api"}))
    server.upstream = "http://127.0.0.1:9/simple/"  # unreachable: the discard port, closed
    yield server
    server.close()


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def policy(self, retries: int = 2, **options: float) -> RetryPolicy:
        return RetryPolicy(retries=retries, sleep=self.waits.append, **options)  # type: ignore[arg-type]


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def registry(
    gitlab: GitLabStandIn, who: str = "developer", project: int | str = PROJECT
) -> Registry:
    env = {
        "GITLAB_PYPI_PROJECT_ID": str(project),
        "GITLAB_HOST": gitlab.url,
        "GITLAB_PYPI_USERNAME": who,
        "GITLAB_PYPI_PASSWORD": TOKENS.get(who, who),
    }
    return registry_from_env(env, ROOT)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- the stand-in itself


def test_the_standin_answers_as_gitlabs_source_says(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    wheel = make_wheel("demo", "1.0.dev5", requires_python=">=3.9")
    assert publish_files(registry(gitlab), "demo", [wheel], sleeps.policy())[0].status is (
        FileStatus.UPLOADED
    )
    assert gitlab.posts() == [(f"/api/v4/projects/{PROJECT}/packages/pypi", 201)]
    request = urllib.request.Request(f"{gitlab.registry_url(PROJECT)}/simple/demo/")
    request.add_header("Authorization", "Basic " + _basic("developer", TOKENS["developer"]))
    with urllib.request.urlopen(request) as response:
        page = response.read().decode()
    digest = sha(wheel)
    assert (
        f'<a href="{gitlab.api}/projects/{PROJECT}/packages/pypi/files/{digest}/{wheel.name}'
        f'#sha256={digest}" data-requires-python="&gt;=3.9">{wheel.name}</a>'
    ) in page
    # No credentials: 401 with GitLab's realm.
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{gitlab.registry_url(PROJECT)}/simple/demo/")
    assert info.value.code == 401 and info.value.headers["WWW-Authenticate"] == REALM


def _basic(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode()


# --------------------------------------------------------------------------- project ids


@pytest.mark.parametrize("project", [str(PROJECT), "acme%2Fsnapshots"])
def test_numeric_and_url_encoded_project_ids_publish_then_skip(
    gitlab: GitLabStandIn,
    twine_isolated: Path,
    make_wheel: Callable[..., Path],
    make_sdist: Callable[..., Path],
    sleeps: Sleeps,
    project: str,
) -> None:
    reg = registry(gitlab, project=project)
    assert reg.upload_url == f"{gitlab.api}/projects/{project}/packages/pypi"
    sdist, wheel = make_sdist("demo", "1.0.dev1"), make_wheel("demo", "1.0.dev1")
    first = publish_files(reg, "demo", [sdist], sleeps.policy())
    # a new file for an existing version is accepted (201), as GitLab's spec says
    second = publish_files(reg, "demo", [sdist, wheel], sleeps.policy())
    assert [o.status for o in first] == [FileStatus.UPLOADED]
    assert [o.status for o in second] == [FileStatus.ALREADY_PUBLISHED, FileStatus.UPLOADED]
    assert set(gitlab.files(PROJECT)) == {sdist.name, wheel.name}
    assert [status for _, status in gitlab.posts()] == [201, 201]


def test_pep_691_json_pages_are_read_too(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.pep_691_json = True  # GitLab then answers JSON to our Accept header
    wheel = make_wheel("jsonpkg", "2.0.dev3")
    publish_files(registry(gitlab), "jsonpkg", [wheel], sleeps.policy())
    assert published_files(registry(gitlab), "jsonpkg", sleeps.policy()) == {wheel.name: sha(wheel)}


def test_a_changed_file_under_a_published_name_is_a_conflict_never_an_overwrite(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    reg = registry(gitlab)
    old = make_wheel("demo", "1.0.dev9")
    publish_files(reg, "demo", [old], sleeps.policy())
    new = make_wheel("demo", "1.0.dev9", body="changed = True\n")
    outcome = publish_files(reg, "demo", [new], sleeps.policy())[0]
    assert outcome.status is FileStatus.CONFLICT and sha(old) in outcome.message
    assert gitlab.files(PROJECT)[old.name] == old.read_bytes()


# --------------------------------------------------------------------------- 6: forwarding


def test_forwarding_to_an_unreachable_pypi_is_not_in_this_registry(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    # GitLab's default: 302 to pypi.org for a name the project has no package for; this
    # runner cannot reach it (the upstream is a closed port): the first publish still works.
    wheel = make_wheel("firstpub", "0.1.dev1")
    outcomes = publish_files(registry(gitlab), "firstpub", [wheel], sleeps.policy())
    assert [o.status for o in outcomes] == [FileStatus.UPLOADED], outcomes[0].message
    assert ("GET", "/api/v4/projects/42/packages/pypi/simple/firstpub/", 302) in gitlab.log
    assert sleeps.waits == []  # not a connection error to retry


def test_a_hostile_upstream_is_never_read_as_this_registrys_files(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    wheel = make_wheel("squatted", "0.1.dev1")
    hostile = Upstream([wheel.name])
    serving = hostile.serve()
    gitlab.upstream = next(serving)
    try:
        assert published_files(registry(gitlab), "squatted", sleeps.policy()) == {}
        outcomes = publish_files(registry(gitlab), "squatted", [wheel], sleeps.policy())
    finally:
        serving.close()
    assert [o.status for o in outcomes] == [FileStatus.UPLOADED]  # no faked "conflict"
    assert hostile.requests == []  # never followed, so never asked


def test_forwarding_off_answers_404_package_not_found_which_is_nothing_yet(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.projects[PROJECT].forwarding = False
    wheel = make_wheel("offpkg", "0.1.dev1")
    assert publish_files(registry(gitlab), "offpkg", [wheel], sleeps.policy())[0].status is (
        FileStatus.UPLOADED
    )
    assert ("GET", "/api/v4/projects/42/packages/pypi/simple/offpkg/", 404) in gitlab.log


# --------------------------------------------------------------------------- 7, 8: auth matrix


def test_wrong_token_is_401_and_nothing_is_uploaded(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    reg = registry(gitlab, who="nobody-glpat-wrong")
    outcome = publish_files(reg, "demo", [make_wheel("demo")], sleeps.policy())[0]
    assert outcome.status is FileStatus.AUTH_FAILED and "HTTP 401" in outcome.message
    assert "`api` scope" in outcome.message and "nobody-glpat-wrong" not in outcome.message
    assert gitlab.posts() == []


@pytest.mark.parametrize("project", [999, PROJECT])
def test_project_not_found_is_an_access_error_not_nothing_published(
    gitlab: GitLabStandIn,
    twine_isolated: Path,
    make_wheel: Callable[..., Path],
    sleeps: Sleeps,
    project: int,
) -> None:
    # 999: a wrong project id; 42 with an outsider's token: no access to the private project.
    who = "developer" if project == 999 else "outsider"
    outcome = publish_files(
        registry(gitlab, who=who, project=project), "demo", [make_wheel("demo")], sleeps.policy()
    )[0]
    assert outcome.status is FileStatus.AUTH_FAILED
    for word in ("Project Not Found", "member", "allowlist", "GITLAB_PYPI_PROJECT_ID"):
        assert word in outcome.message
    assert "check the registry URL" not in outcome.message
    assert gitlab.posts() == []  # never uploads after a 404 Project Not Found


def test_a_guest_is_refused_with_the_role_named(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    outcome = publish_files(
        registry(gitlab, who="guest"), "demo", [make_wheel("demo")], sleeps.policy()
    )[0]
    assert outcome.status is FileStatus.AUTH_FAILED and "403" in outcome.message
    assert "Developer role" in outcome.message


def test_a_reporter_reads_but_the_upload_is_refused_403(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    outcome = publish_files(
        registry(gitlab, who="reporter"), "demo", [make_wheel("demo")], sleeps.policy()
    )[0]
    assert outcome.status is FileStatus.AUTH_FAILED and "HTTP 403" in outcome.message
    assert gitlab.posts() == [(f"/api/v4/projects/{PROJECT}/packages/pypi", 403)]


def test_read_api_token_cannot_upload_and_the_message_says_api(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    outcome = publish_files(
        registry(gitlab, who="read_api"), "demo", [make_wheel("demo")], sleeps.policy()
    )[0]
    assert outcome.status is FileStatus.AUTH_FAILED
    assert "`read_api` can only read" in outcome.message


def test_package_protected_is_named_as_a_protection_rule(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.projects[PROJECT].protected.append("core-*")
    outcome = publish_files(
        registry(gitlab), "core-lib", [make_wheel("core-lib")], sleeps.policy()
    )[0]
    assert outcome.status is FileStatus.AUTH_FAILED
    assert "Package protected." in outcome.message and "protection rule" in outcome.message
    # a maintainer may push it
    assert (
        publish_files(
            registry(gitlab, who="maintainer"),
            "core-lib",
            [make_wheel("core-lib")],
            sleeps.policy(),
        )[0].status
        is FileStatus.UPLOADED
    )


def test_deploy_tokens_read_and_write_with_their_own_username(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.add_token(
        "gldt-write", "deploy", "gitlab+deploy-token-3",
        scopes=frozenset({"write_package_registry"}), project_id=PROJECT,
    )  # fmt: skip
    gitlab.add_token(
        "gldt-read", "deploy", "gitlab+deploy-token-4",
        scopes=frozenset({"read_package_registry"}), project_id=PROJECT,
    )  # fmt: skip
    wheel = make_wheel("deployed")
    writer = _env_registry(gitlab, "gitlab+deploy-token-3", "gldt-write")
    assert publish_files(writer, "deployed", [wheel], sleeps.policy())[0].status is (
        FileStatus.UPLOADED
    )
    reader = _env_registry(gitlab, "gitlab+deploy-token-4", "gldt-read")
    assert published_files(reader, "deployed", sleeps.policy()) == {wheel.name: sha(wheel)}
    refused = publish_files(reader, "other", [make_wheel("other")], sleeps.policy())[0]
    assert refused.status is FileStatus.AUTH_FAILED
    assert "write_package_registry" in refused.message


def _env_registry(gitlab: GitLabStandIn, user: str, password: str, **env: str) -> Registry:
    base = {
        "GITLAB_PYPI_PROJECT_ID": str(PROJECT),
        "GITLAB_HOST": gitlab.url,
        "GITLAB_PYPI_USERNAME": user,
        "GITLAB_PYPI_PASSWORD": password,
    }
    base.update(env)
    return registry_from_env(base, ROOT)


# --------------------------------------------------------------------------- job tokens (11, 12)


def _ci_env(gitlab: GitLabStandIn, target: int, own: int = 7, **extra: str) -> dict[str, str]:
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PROJECT_ID": str(own),
        "CI_PROJECT_PATH": "acme/other",
        "CI_API_V4_URL": gitlab.api,
        "CI_JOB_TOKEN": "job-token-secret-7",
        "GITLAB_PYPI_PROJECT_ID": str(target),
    }
    env.update(extra)
    return env


def test_job_token_to_another_project_warns_up_front_and_404s_without_the_allowlist(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.projects[PROJECT].members["ci-user"] = "developer"
    gitlab.add_token("job-token-secret-7", "job", "gitlab-ci-token", project_id=7, user="ci-user")
    reg = registry_from_env(_ci_env(gitlab, PROJECT), ROOT)
    assert reg.credentials_from.startswith("gitlab-ci-token + CI_JOB_TOKEN")
    (warning,) = reg.warnings
    assert "allowlist" in warning and "acme/other" in warning and str(PROJECT) in warning
    outcome = publish_files(reg, "demo", [make_wheel("demo")], sleeps.policy())[0]
    assert outcome.status is FileStatus.AUTH_FAILED and "allowlist" in outcome.message
    assert "job-token-secret-7" not in outcome.message
    gitlab.projects[PROJECT].job_token_allowlist.add(7)
    assert publish_files(reg, "demo", [make_wheel("demo")], sleeps.policy())[0].status is (
        FileStatus.UPLOADED
    )


def test_job_token_to_its_own_project_says_nothing() -> None:
    reg = registry_from_env(
        {
            "CI": "true", "GITLAB_CI": "true", "CI_PROJECT_ID": "42",
            "CI_API_V4_URL": "https://gitlab.example/api/v4", "CI_JOB_TOKEN": "tok-1234",
        },
        ROOT,
    )  # fmt: skip
    assert reg.warnings == () and reg.upload_url.endswith("/projects/42/packages/pypi")  # type: ignore[union-attr]


def test_gitlab_ci_false_is_not_gitlab_ci_and_the_error_says_so() -> None:
    env = {
        "CI": "true", "GITLAB_CI": "false", "CI_PROJECT_ID": "42",
        "CI_API_V4_URL": "https://gitlab.example/api/v4", "CI_JOB_TOKEN": "tok-1234",
    }  # fmt: skip
    with pytest.raises(ConfigError) as info:
        registry_from_env(env, ROOT)
    message = str(info.value)
    assert "GITLAB_CI='false' is not 'true'" in message and "gitlab-ci-local" in message
    assert "MONOREPO_REPOSITORY_URL" in message


def test_in_gitlab_ci_without_a_job_token_names_ci_job_token() -> None:
    env = {
        "CI": "true", "GITLAB_CI": "true", "CI_PROJECT_ID": "42",
        "CI_API_V4_URL": "https://gitlab.example/api/v4",
    }  # fmt: skip
    with pytest.raises(ConfigError) as info:
        registry_from_env(env, ROOT)
    assert "CI_JOB_TOKEN is not set" in str(info.value)


# --------------------------------------------------------------------------- 9: 429, 5xx, retries


def test_429_retry_after_is_honoured_and_bounded(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.throttle(1, 7)  # the lookup
    wheel = make_wheel("slow")
    reg = registry(gitlab)
    assert publish_files(reg, "slow", [wheel], sleeps.policy())[0].status is FileStatus.UPLOADED
    assert sleeps.waits == [7.0]  # not the 1 s backoff
    gitlab.throttle(2, 100_000)
    assert published_files(reg, "slow", sleeps.policy(max_retry_after=30.0)) == {
        wheel.name: sha(wheel)
    }
    assert sleeps.waits[1:] == [30.0, 30.0]  # bounded


def test_429_on_upload_waits_as_told_then_uploads(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.throttle(1, 4, method="POST")
    outcome = publish_files(registry(gitlab), "upl", [make_wheel("upl")], sleeps.policy())[0]
    assert outcome.status is FileStatus.UPLOADED and sleeps.waits == [4.0]
    assert [status for _, status in gitlab.posts()] == [429, 201]


def test_a_5xx_after_the_file_was_stored_ends_as_already_published(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.fail_after_store(1)
    wheel = make_wheel("stored")
    outcome = publish_files(registry(gitlab), "stored", [wheel], sleeps.policy())[0]
    # POST → 500 (stored anyway), retried once by our policy → 400 duplicate → index by hash
    assert outcome.status is FileStatus.ALREADY_PUBLISHED, outcome.message
    assert [status for _, status in gitlab.posts()] == [500, 400]
    assert gitlab.files(PROJECT) == {wheel.name: wheel.read_bytes()}


def test_one_retry_policy_twine_does_not_repost_on_its_own(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.fail_after_store(0)
    gitlab.projects[PROJECT].forwarding = False
    gitlab.max_file_size = 10**9
    # every POST answers 500 without storing: 3 attempts of ours, no more
    original = gitlab._upload

    def always_500(handler, token, project, body):  # type: ignore[no-untyped-def]
        gitlab._error(handler, "POST", 500, "500 Internal Server Error")

    gitlab._upload = always_500  # type: ignore[method-assign]
    try:
        outcome = publish_files(registry(gitlab), "five", [make_wheel("five")], sleeps.policy())[0]
    finally:
        gitlab._upload = original  # type: ignore[method-assign]
    assert outcome.status is FileStatus.FAILED
    assert len(gitlab.posts()) == 3 and sleeps.waits == [1.0, 2.0]


# --------------------------------------------------------------------------- 10: too large


def test_file_too_large_is_the_size_limit_not_the_metadata(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.max_file_size = 10
    outcome = publish_files(registry(gitlab), "big", [make_wheel("big")], sleeps.policy())[0]
    assert outcome.status is FileStatus.FAILED and "File is too large" in outcome.message
    assert "maximum file size" in outcome.message and "metadata" not in outcome.message


def test_workhorse_413_is_the_size_limit_too(
    gitlab: GitLabStandIn, twine_isolated: Path, make_wheel: Callable[..., Path], sleeps: Sleeps
) -> None:
    gitlab.workhorse_limit = 10
    outcome = publish_files(registry(gitlab), "big", [make_wheel("big")], sleeps.policy())[0]
    assert outcome.status is FileStatus.FAILED and "413" in outcome.message
    assert "too large" in outcome.message and "metadata" not in outcome.message


def test_the_404_body_decides_project_versus_package(gitlab: GitLabStandIn) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        request = urllib.request.Request(f"{gitlab.registry_url(999)}/simple/x/")
        request.add_header("Authorization", "Basic " + _basic("developer", TOKENS["developer"]))
        urllib.request.urlopen(request)
    assert json.loads(info.value.read()) == {"message": "404 Project Not Found"}
