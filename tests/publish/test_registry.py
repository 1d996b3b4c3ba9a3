"""Registry selection and publishing against real servers (no HTTP mocks).

A real pypiserver (``tests/publish/conftest.py``) covers uploads, duplicates, conflicts, wrong
credentials and an outage; a tiny ``http.server`` on 127.0.0.1 that answers from a script covers
what pypiserver cannot be made to do on demand (503, 429, GitLab's 400 answers, 401 on lookup).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from monorepo_tools.errors import ConfigError
from monorepo_tools.publish.redact import Secret
from monorepo_tools.publish.registry import (
    FileStatus,
    Registry,
    RegistryError,
    RetryPolicy,
    publish_files,
    published_files,
    registry_from_env,
)

ROOT = Path("/nonexistent/monorepo")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Sleeps:
    waits: list[float] = field(default_factory=list)

    def policy(self, retries: int = 2) -> RetryPolicy:
        return RetryPolicy(retries=retries, sleep=self.waits.append)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


# --------------------------------------------------------------------------- registry_from_env


def test_repository_url_option_wins_over_everything(tmp_path: Path) -> None:
    env = {
        "MONOREPO_REPOSITORY_URL": "https://env.example/upload",
        "MONOREPO_REPOSITORY_USERNAME": "deployer",
        "MONOREPO_REPOSITORY_PASSWORD": "pw-1",
        "GITLAB_PYPI_PROJECT_ID": "7",
        "GITLAB_HOST": "gitlab.example",
        "CI": "true",
    }
    reg = registry_from_env(
        env,
        tmp_path,
        repository_url="https://opt.example/legacy/",
        index_url="https://opt.example/simple",
    )
    assert (reg.kind, reg.upload_url, reg.index_url) == (
        "repository",
        "https://opt.example/legacy/",
        "https://opt.example/simple",
    )
    assert (reg.username, reg.password) == ("deployer", Secret("pw-1"))
    assert reg.origin == "--repository-url + --index-url"
    assert "pw-1" not in repr(reg)


def test_repository_url_from_env_defaults_the_index_and_falls_back_to_gitlab_credentials() -> None:
    env = {
        "MONOREPO_REPOSITORY_URL": "https://pypi.internal/",
        "GITLAB_PYPI_USERNAME": "bot",
        "GITLAB_PYPI_PASSWORD": "glpat-x",
    }
    reg = registry_from_env(env, ROOT)
    assert (reg.kind, reg.index_url, reg.username) == (
        "repository",
        "https://pypi.internal/simple/",
        "bot",
    )
    assert reg.credentials_from == "GITLAB_PYPI_USERNAME + GITLAB_PYPI_PASSWORD"
    env["MONOREPO_INDEX_URL"] = "https://mirror.internal/simple/"
    assert registry_from_env(env, ROOT).index_url == "https://mirror.internal/simple/"


def test_credentials_in_the_repository_url_are_taken_out_of_it() -> None:
    reg = registry_from_env({"MONOREPO_REPOSITORY_URL": "https://u:p%40ss@pypi.internal/"}, ROOT)
    assert (reg.upload_url, reg.index_url) == (
        "https://pypi.internal/",
        "https://pypi.internal/simple/",
    )
    assert reg.username == "u" and reg.password is not None and reg.password.reveal() == "p@ss"
    assert "p@ss" not in reg.install_command(["a==1"]) and "u:" not in reg.install_command(["a==1"])


def test_gitlab_project_and_host() -> None:
    env = {
        "GITLAB_PYPI_PROJECT_ID": "123",
        "GITLAB_HOST": "gitlab.example.com",
        "GITLAB_PYPI_USERNAME": "token-name",
        "GITLAB_PYPI_PASSWORD": "glpat-secret",
    }
    reg = registry_from_env(env, ROOT)
    assert reg.kind == "gitlab"
    assert reg.upload_url == "https://gitlab.example.com/api/v4/projects/123/packages/pypi"
    assert reg.index_url == "https://gitlab.example.com/api/v4/projects/123/packages/pypi/simple"
    assert reg.origin == "GITLAB_PYPI_PROJECT_ID + GITLAB_HOST"
    assert reg.install_command(["normalized-events==0.1.0.dev7"]) == (
        "pip install --index-url "
        "https://gitlab.example.com/api/v4/projects/123/packages/pypi/simple "
        "normalized-events==0.1.0.dev7"
    )
    # A URL-style host and a project path work too.
    env.update(GITLAB_HOST="https://gitlab.example.com/", GITLAB_PYPI_PROJECT_ID="group/project")
    assert (
        registry_from_env(env, ROOT).upload_url
        == "https://gitlab.example.com/api/v4/projects/group%2Fproject/packages/pypi"
    )


def test_gitlab_ci_defaults_to_the_project_registry_and_the_job_token() -> None:
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_API_V4_URL": "https://gitlab.corp/api/v4",
        "CI_PROJECT_ID": "99",
        "CI_JOB_TOKEN": "job-token-value",
        "GITLAB_HOST": "",  # empty counts as unset
    }
    reg = registry_from_env(env, ROOT)
    assert reg.upload_url == "https://gitlab.corp/api/v4/projects/99/packages/pypi"
    assert (reg.username, reg.password) == ("gitlab-ci-token", Secret("job-token-value"))
    assert reg.origin == "CI_PROJECT_ID (GitLab CI) + CI_API_V4_URL (GitLab CI)"
    # Explicit variables win over the CI defaults, each on its own.
    env.update(GITLAB_PYPI_PROJECT_ID="5", GITLAB_PYPI_USERNAME="me", GITLAB_PYPI_PASSWORD="pat")
    reg = registry_from_env(env, ROOT)
    assert reg.upload_url == "https://gitlab.corp/api/v4/projects/5/packages/pypi"
    assert (reg.username, reg.credentials_from) == (
        "me",
        "GITLAB_PYPI_USERNAME + GITLAB_PYPI_PASSWORD",
    )


def test_ci_variables_outside_gitlab_ci_do_not_choose_gitlab(tmp_path: Path) -> None:
    env = {
        "CI_API_V4_URL": "https://gitlab.corp/api/v4",
        "CI_PROJECT_ID": "99",
        "GITLAB_HOST": "gitlab.corp",
    }
    assert (
        registry_from_env(env, tmp_path).kind == "local"
    )  # GITLAB_HOST alone (glab) is not a registry


def test_local_default_outside_ci(tmp_path: Path) -> None:
    reg = registry_from_env({"CI": ""}, tmp_path)
    assert reg.kind == "local" and reg.upload_url is None and reg.password is None
    assert reg.local_dir == tmp_path / ".monorepo" / "index"
    assert reg.index_url == (tmp_path / ".monorepo" / "index" / "simple").as_uri()
    assert (
        reg.install_command(["a==1.0.dev1", "b==2.0.dev1"])
        == f"pip install --index-url {reg.index_url} a==1.0.dev1 b==2.0.dev1"
    )
    assert not (tmp_path / ".monorepo").exists()  # choosing does not write


def test_ci_without_a_registry_is_a_configuration_error_naming_the_variables() -> None:
    with pytest.raises(ConfigError) as info:
        registry_from_env({"CI": "true"}, ROOT)
    assert info.value.exit_code == 2
    for variable in (
        "GITLAB_PYPI_PROJECT_ID",
        "GITLAB_HOST",
        "GITLAB_PYPI_USERNAME",
        "GITLAB_PYPI_PASSWORD",
        "MONOREPO_REPOSITORY_URL",
    ):
        assert variable in str(info.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {
                "GITLAB_PYPI_PROJECT_ID": "1",
                "GITLAB_PYPI_USERNAME": "u",
                "GITLAB_PYPI_PASSWORD": "p",
            },
            "GITLAB_HOST",
        ),
        ({"GITLAB_PYPI_PROJECT_ID": "1", "GITLAB_HOST": "h"}, "GITLAB_PYPI_PASSWORD"),
        (
            {"GITLAB_PYPI_PROJECT_ID": "1", "GITLAB_HOST": "h", "GITLAB_PYPI_USERNAME": "u"},
            "GITLAB_PYPI_PASSWORD is not",
        ),
        ({"MONOREPO_REPOSITORY_URL": "https://r.example/"}, "MONOREPO_REPOSITORY_PASSWORD"),
        (
            {
                "MONOREPO_REPOSITORY_URL": "ftp://r.example/",
                "MONOREPO_REPOSITORY_USERNAME": "u",
                "MONOREPO_REPOSITORY_PASSWORD": "p",
            },
            "http(s)",
        ),
        ({"MONOREPO_INDEX_URL": "https://r.example/simple"}, "MONOREPO_REPOSITORY_URL"),
    ],
)
def test_incomplete_configuration_says_what_to_set(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        registry_from_env(env, ROOT)
    assert expected in str(info.value)


# --------------------------------------------------------------------------- a real pypiserver


def pypiserver_registry(server: Any, password: str | None = None) -> Registry:
    env = {
        "MONOREPO_REPOSITORY_URL": server.url,
        "MONOREPO_INDEX_URL": server.index_url,
        "GITLAB_PYPI_USERNAME": server.username,
        "GITLAB_PYPI_PASSWORD": server.password if password is None else password,
    }
    return registry_from_env(env, ROOT)


def test_upload_then_again_is_already_published_and_changed_bytes_conflict(
    pypiserver: Any,
    twine_isolated: Path,
    make_wheel: Callable[..., Path],
    make_sdist: Callable[..., Path],
    unique_name: Callable[[str], str],
    sleeps: Sleeps,
) -> None:
    name = unique_name("idem")
    registry = pypiserver_registry(pypiserver)
    sdist, wheel = make_sdist(name), make_wheel(name)
    assert published_files(registry, name, sleeps.policy()) == {}  # 404: nothing yet

    first = publish_files(registry, name, [sdist, wheel], sleeps.policy())
    assert [o.status for o in first] == [FileStatus.UPLOADED, FileStatus.UPLOADED], first
    assert "Uploading" in first[0].output  # twine's output is captured, not printed
    assert published_files(registry, name, sleeps.policy()) == {
        sdist.name: sha(sdist),
        wheel.name: sha(wheel),
    }
    stored = pypiserver.files()
    assert stored[wheel.name] == wheel.read_bytes()

    again = publish_files(registry, name, [sdist, wheel], sleeps.policy())
    assert [o.status for o in again] == [FileStatus.ALREADY_PUBLISHED] * 2
    assert all(o.output == "" for o in again)  # skipped: twine never ran

    changed = make_wheel(name, body="CHANGED = True\n")
    outcomes = publish_files(registry, name, [sdist, changed], sleeps.policy())
    assert [o.status for o in outcomes] == [FileStatus.ALREADY_PUBLISHED, FileStatus.CONFLICT]
    assert changed.name in outcomes[1].message
    assert "rerun workflow so snapshot id changes" in outcomes[1].message
    assert pypiserver.files() == stored  # the server copy is unchanged
    assert sleeps.waits == []


def test_a_conflicting_sdist_keeps_the_new_wheel_off_the_server(
    pypiserver: Any,
    twine_isolated: Path,
    make_wheel: Callable[..., Path],
    make_sdist: Callable[..., Path],
    unique_name: Callable[[str], str],
    sleeps: Sleeps,
) -> None:
    name = unique_name("half")
    registry = pypiserver_registry(pypiserver)
    assert (
        publish_files(registry, name, [make_sdist(name)], sleeps.policy())[0].status
        is FileStatus.UPLOADED
    )
    outcomes = publish_files(
        registry, name, [make_sdist(name, body="X = 2\n"), make_wheel(name)], sleeps.policy()
    )
    assert [o.status for o in outcomes] == [FileStatus.CONFLICT, FileStatus.FAILED]
    assert "conflicts" in outcomes[1].message
    assert not any(
        n.endswith(".whl") and n.startswith(name.replace("-", "_")) for n in pypiserver.files()
    )


def test_wrong_password_is_an_auth_failure_that_never_shows_the_password(
    pypiserver: Any,
    twine_isolated: Path,
    make_wheel: Callable[..., Path],
    unique_name: Callable[[str], str],
    sleeps: Sleeps,
    capfd: pytest.CaptureFixture[str],
) -> None:
    secret = "Wr0ng-pa55word-never-printed"
    name = unique_name("auth")
    registry = pypiserver_registry(pypiserver, password=secret)
    outcomes = publish_files(
        registry, name, [make_wheel(name), make_wheel(name, "2.0")], sleeps.policy()
    )
    assert [o.status for o in outcomes] == [FileStatus.AUTH_FAILED]  # stops at the first
    message = outcomes[0].message
    for needle in (
        "GITLAB_PYPI_USERNAME",
        "GITLAB_PYPI_PASSWORD",
        "write_package_registry",
        "api",
        "CI_JOB_TOKEN",
    ):
        assert needle in message
    captured = capfd.readouterr()
    assert secret not in repr(outcomes) + captured.out + captured.err
    assert sleeps.waits == []  # 401/403 are not retried
    assert not any(n.startswith(name.replace("-", "_")) for n in pypiserver.files())
    with pytest.raises(RegistryError) as info:
        published_files(registry, name, sleeps.policy())
    assert info.value.status is FileStatus.AUTH_FAILED and secret not in str(info.value)


def test_registry_down_retries_with_backoff_then_fails_clearly(
    pypiserver: Any,
    twine_isolated: Path,
    make_wheel: Callable[..., Path],
    unique_name: Callable[[str], str],
    sleeps: Sleeps,
) -> None:
    name = unique_name("down")
    registry = pypiserver_registry(pypiserver)
    pypiserver.stop()
    try:
        outcomes = publish_files(registry, name, [make_wheel(name)], sleeps.policy())
    finally:
        pypiserver.start()
    assert sleeps.waits == [1.0, 2.0]
    assert [o.status for o in outcomes] == [FileStatus.FAILED]
    message = outcomes[0].message
    assert "3 attempts (2 retries, waited 1 s then 2 s)" in message and "reachable" in message
    assert pypiserver.password not in message
    # Back up: the same call now publishes.
    assert (
        publish_files(registry, name, [make_wheel(name)], sleeps.policy())[0].status
        is FileStatus.UPLOADED
    )


# --------------------------------------------------------------------------- a scripted HTTP server


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "text/html"


class ScriptedServer:
    """Answers GETs and POSTs from queues (default: 404 / 200), recording every request."""

    def __init__(self) -> None:
        self.gets: deque[Answer] = deque()
        self.posts: deque[Answer] = deque()
        self.log: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, answer: Answer) -> None:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def do_GET(self) -> None:
                server.log.append(("GET", self.path, self.headers.get("Authorization")))
                self._answer(server.gets.popleft() if server.gets else Answer(404, b"Not Found"))

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.log.append(("POST", self.path, self.headers.get("Authorization")))
                self._answer(server.posts.popleft() if server.posts else Answer(200, b"OK"))

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def methods(self) -> list[str]:
        return [m for m, _, _ in self.log]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


def page(*files: tuple[str, str]) -> Answer:
    links = "".join(f'<a href="../../files/{n}#sha256={h}">{n}</a><br>' for n, h in files)
    return Answer(200, f"<!DOCTYPE html><html><body>{links}</body></html>".encode())


def generic(server: ScriptedServer, password: str = "s3cret-pw") -> Registry:
    env = {
        "MONOREPO_REPOSITORY_URL": f"{server.url}/upload/",
        "MONOREPO_REPOSITORY_USERNAME": "ci",
        "MONOREPO_REPOSITORY_PASSWORD": password,
    }
    return registry_from_env(env, ROOT)


def test_lookup_retries_503_with_backoff_and_sends_basic_auth(
    scripted: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted.gets.extend([Answer(503), Answer(503), page(("a-1.0.tar.gz", "ab" * 32))])
    assert published_files(generic(scripted), "A", sleeps.policy()) == {"a-1.0.tar.gz": "ab" * 32}
    assert sleeps.waits == [1.0, 2.0]
    expected_auth = "Basic " + base64.b64encode(b"ci:s3cret-pw").decode()
    assert scripted.log == [("GET", "/upload/simple/a/", expected_auth)] * 3


def test_lookup_gives_up_after_the_retries(scripted: ScriptedServer, sleeps: Sleeps) -> None:
    scripted.gets.extend([Answer(502)] * 3)
    with pytest.raises(RegistryError) as info:
        published_files(
            generic(scripted),
            "a",
            RetryPolicy(retries=2, backoff_seconds=0.5, multiplier=3.0, sleep=sleeps.waits.append),
        )
    assert sleeps.waits == [0.5, 1.5]
    assert info.value.status is FileStatus.FAILED and "HTTP 502" in str(info.value)


def test_lookup_401_is_not_retried_and_nothing_is_uploaded(
    scripted: ScriptedServer, sleeps: Sleeps, make_wheel: Callable[..., Path]
) -> None:
    scripted.gets.append(Answer(401))
    outcomes = publish_files(
        generic(scripted), "a", [make_wheel("a"), make_wheel("a", "2")], sleeps.policy()
    )
    assert [o.status for o in outcomes] == [FileStatus.AUTH_FAILED]
    assert "MONOREPO_REPOSITORY_PASSWORD" in outcomes[0].message
    assert scripted.methods() == ["GET"] and sleeps.waits == []


def test_upload_retries_429_then_succeeds(
    scripted: ScriptedServer, sleeps: Sleeps, twine_isolated: Path, make_wheel: Callable[..., Path]
) -> None:
    scripted.posts.extend([Answer(429, b"slow down"), Answer(429, b"slow down")])
    outcomes = publish_files(generic(scripted), "a", [make_wheel("a")], sleeps.policy())
    assert [o.status for o in outcomes] == [FileStatus.UPLOADED], outcomes
    assert sleeps.waits == [1.0, 2.0]
    assert scripted.methods() == ["GET", "POST", "POST", "POST"]


def test_upload_5xx_is_retried_and_then_fails(
    scripted: ScriptedServer, sleeps: Sleeps, twine_isolated: Path, make_wheel: Callable[..., Path]
) -> None:
    scripted.posts.extend([Answer(503, b"down")] * 100)
    outcomes = publish_files(generic(scripted), "a", [make_wheel("a")], sleeps.policy(retries=1))
    assert [o.status for o in outcomes] == [FileStatus.FAILED]
    assert sleeps.waits == [1.0]
    assert (
        "HTTP 503" in outcomes[0].message
        and "2 attempts (1 retry, waited 1 s)" in outcomes[0].message
    )
    # One retry policy: twine's own re-POSTs of a 5xx are switched off (issue 8, item 9).
    assert scripted.methods().count("POST") == 2


def test_upload_403_from_twine_never_leaks_the_password(
    scripted: ScriptedServer,
    sleeps: Sleeps,
    twine_isolated: Path,
    make_wheel: Callable[..., Path],
    capfd: pytest.CaptureFixture[str],
) -> None:
    secret = "Upl0ad-secret-value"
    scripted.posts.append(
        Answer(
            403, json.dumps({"message": f"403 Forbidden for {secret}"}).encode(), "application/json"
        )
    )
    outcomes = publish_files(
        generic(scripted, password=secret),
        "a",
        [make_wheel("a"), make_wheel("a", "2")],
        sleeps.policy(),
    )
    assert [o.status for o in outcomes] == [FileStatus.AUTH_FAILED]
    assert "403 Forbidden for ***" in outcomes[0].message  # the server's message, redacted
    captured = capfd.readouterr()
    assert secret not in repr(outcomes) + captured.out + captured.err
    assert scripted.methods() == ["GET", "POST"] and sleeps.waits == []


def gitlab_ci(server: ScriptedServer) -> Registry:
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_API_V4_URL": f"{server.url}/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_JOB_TOKEN": "job-tok",
    }
    return registry_from_env(env, ROOT)


@pytest.mark.parametrize("same", [True, False])
def test_gitlab_duplicate_400_is_checked_by_hash(
    scripted: ScriptedServer,
    sleeps: Sleeps,
    twine_isolated: Path,
    make_wheel: Callable[..., Path],
    same: bool,
) -> None:
    wheel = make_wheel("ev")
    # Not in the index at first; the upload is refused as a duplicate (another job won the race).
    duplicate = json.dumps(
        {"message": "400 Bad request - File name has already been taken"}
    ).encode()
    scripted.posts.append(Answer(400, duplicate, "application/json"))
    scripted.gets.extend([Answer(404), page((wheel.name, sha(wheel) if same else "0" * 64))])
    outcomes = publish_files(gitlab_ci(scripted), "ev", [wheel], sleeps.policy())
    assert [o.status for o in outcomes] == [
        FileStatus.ALREADY_PUBLISHED if same else FileStatus.CONFLICT
    ]
    assert [path for _, path, _ in scripted.log] == [
        "/api/v4/projects/42/packages/pypi/simple/ev/",
        "/api/v4/projects/42/packages/pypi",
        "/api/v4/projects/42/packages/pypi/simple/ev/",
    ]
    assert scripted.log[0][2] == "Basic " + base64.b64encode(b"gitlab-ci-token:job-tok").decode()
    if not same:
        assert "snapshot id changes" in outcomes[0].message


def test_a_refused_upload_that_is_not_a_duplicate_fails_with_the_servers_reason(
    scripted: ScriptedServer, sleeps: Sleeps, twine_isolated: Path, make_wheel: Callable[..., Path]
) -> None:
    scripted.posts.append(
        Answer(400, b"<html><body><pre>Invalid distribution metadata</pre></body></html>")
    )
    outcomes = publish_files(generic(scripted), "a", [make_wheel("a")], sleeps.policy())
    assert [o.status for o in outcomes] == [FileStatus.FAILED]
    assert "HTTP 400 Bad Request: Invalid distribution metadata" in outcomes[0].message
