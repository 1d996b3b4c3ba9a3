"""runner-core against the real thing: real virtualenvs, a real pip installing a real wheel."""

import json
import os
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import runner_core
from normalized_events import (
    AttemptRetried,
    CommandOutput,
    EventLog,
    InstallFinished,
    InstallStarted,
    WorkspaceCreated,
)
from runner_core import (
    MINIMAL_PATH,
    DockerExecutor,
    LocalExecutor,
    RetryPolicy,
    VenvRunner,
    classify_install_failure,
    create_venv,
    create_workspace,
    docker_engine_status,
    install_pip,
    installed_versions,
    pdm_pyproject,
    retry,
    scrubbed_env,
)
from sandbox_runner import build_wheel

PRINT_ENV = "import json, os, sys; print(json.dumps({'env': dict(os.environ), 'prefix': sys.prefix}))"


def test_version_comes_from_installed_metadata() -> None:
    assert runner_core.__version__ == version("runner-core")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    build_wheel(folder, "demo-pkg", "1.0", {"demo_pkg/__init__.py": "VALUE = 'demo'\n"})
    return folder


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> tuple[runner_core.Workspace, runner_core.Venv, EventLog]:
    log = EventLog()
    ws = create_workspace(
        persona_id="quickstart_sprinter", persona_text="In a hurry.", mission_id="first_output_smoke",
        mission_text="Print the version.", requirements=["demo-pkg==1.0"], parent=tmp_path_factory.mktemp("ws"), emit=log,
    )
    venv = create_venv(ws.venv_path, emit=log)
    result = install_pip(LocalExecutor(), ws, venv, ["demo-pkg==1.0"], no_index=True, find_links=[str(wheels)], emit=log)
    assert result.ok, result.message
    return ws, venv, log


def test_workspace_has_a_readme_and_an_event(installed: tuple) -> None:
    ws, _, log = installed
    readme = ws.readme.read_text()
    assert "Persona: quickstart_sprinter" in readme and "In a hurry." in readme
    assert "Mission: first_output_smoke" in readme and "`demo-pkg==1.0`" in readme
    assert log.events[0] == WorkspaceCreated(path=str(ws.path), persona_id="quickstart_sprinter", mission_id="first_output_smoke")


def test_install_records_the_resolved_versions(installed: tuple) -> None:
    ws, venv, log = installed
    assert venv.python.exists() and venv.path == ws.path / ".venv"
    started = log.of(InstallStarted)[0]
    assert started.installer == "pip" and started.requirements == ("demo-pkg==1.0",)
    finished = log.of(InstallFinished)[0]
    assert finished.ok and finished.resolved == {"demo-pkg": "1.0"}
    pip_run = next(e for e in log.of(CommandOutput) if "pip" in e.argv)
    assert {"--no-index", "--find-links"} <= set(pip_run.argv)
    assert installed_versions(LocalExecutor(), venv, ["Demo_Pkg", "absent-pkg"], cwd=ws.path) == {"demo-pkg": "1.0"}


def test_a_missing_version_is_a_resolve_failure(installed: tuple, wheels: Path) -> None:
    ws, venv, _ = installed
    log = EventLog()
    result = install_pip(LocalExecutor(), ws, venv, ["demo-pkg==9.9"], no_index=True, find_links=[str(wheels)], emit=log)
    assert not result.ok and result.step == "resolve"
    assert "demo-pkg==9.9" in result.message
    assert log.of(InstallFinished)[0].ok is False


def test_commands_see_only_the_named_variables(installed: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, venv, _ = installed
    monkeypatch.setenv("SECRET_TOKEN", "hunter2-secret")
    monkeypatch.setenv("ALLOWED_VAR", "visible")
    log = EventLog()
    runner = VenvRunner(LocalExecutor(), ws, venv, exec_env=("ALLOWED_VAR", "NOT_SET_ANYWHERE"), emit=log)
    result = runner.run(["python", "-c", PRINT_ENV])  # "python" is found through the scrubbed PATH
    assert result.ok, result.stderr
    seen = json.loads(result.stdout)
    env = seen["env"]
    assert "SECRET_TOKEN" not in env
    assert env["ALLOWED_VAR"] == "visible"
    assert env["HOME"] == str(ws.path)
    assert env["PATH"].split(os.pathsep) == [str(venv.bin_dir), *MINIMAL_PATH]
    assert set(env) - {"LC_CTYPE"} == {"ALLOWED_VAR", "PATH", "HOME"}  # LC_CTYPE: Python's C-locale coercion
    assert Path(seen["prefix"]).resolve() == venv.path.resolve()  # the venv's interpreter ran
    assert isinstance(log.events[-1], CommandOutput) and log.events[-1].exit_code == 0


def test_secrets_are_redacted_from_command_events(installed: tuple) -> None:
    ws, venv, _ = installed
    log = EventLog()
    runner = VenvRunner(LocalExecutor(), ws, venv, secrets=("hunter2-secret",), emit=log)
    runner.run(["python", "-c", "print('token=hunter2-secret url=https://u:pw@h/simple')"])
    event = log.events[-1]
    assert "hunter2-secret" not in event.stdout_tail and ":pw@" not in event.stdout_tail
    assert "token=***" in event.stdout_tail


def test_a_missing_program_is_a_result_not_an_exception(installed: tuple) -> None:
    ws, venv, _ = installed
    result = VenvRunner(LocalExecutor(), ws, venv).run(["definitely-not-a-real-program-xyz"])
    assert result.exit_code == 127 and "command not found" in result.stderr


def test_retries_back_off_exponentially_with_an_injected_sleep(installed: tuple) -> None:
    ws, venv, _ = installed
    counter = ws.path / "attempts.txt"
    script = (
        "import pathlib, sys\n"
        f"p = pathlib.Path({str(counter)!r})\n"
        "n = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\n"
        "sys.exit(75 if n < 3 else 0)\n"
    )
    log = EventLog()
    waits: list[float] = []
    runner = VenvRunner(LocalExecutor(), ws, venv, emit=log)
    result, attempts = runner.run_with_retries(
        ["python", "-c", script],
        policy=RetryPolicy(retries=3, backoff_seconds=0.5, multiplier=3.0),
        retry_reason=lambda r: "rate limited" if r.exit_code == 75 else None,
        sleep=waits.append,
    )
    assert result.ok and attempts == 3
    assert waits == [0.5, 1.5]
    assert log.of(AttemptRetried) == [
        AttemptRetried(attempt=1, wait_seconds=0.5, reason="rate limited"),
        AttemptRetried(attempt=2, wait_seconds=1.5, reason="rate limited"),
    ]
    assert [e.exit_code for e in log.of(CommandOutput)] == [75, 75, 0]


def test_retry_gives_up_when_the_budget_is_spent() -> None:
    waits: list[float] = []
    calls: list[int] = []
    result, attempts = retry(lambda n: calls.append(n) or "busy", lambda r: "busy", RetryPolicy(retries=2), sleep=waits.append)
    assert (result, attempts, calls, waits) == ("busy", 3, [1, 2, 3], [1.0, 2.0])
    assert retry(lambda n: "ok", lambda r: None, RetryPolicy(retries=0), sleep=waits.append)[1] == 1
    assert RetryPolicy().waits() == [1.0, 2.0]
    with pytest.raises(ValueError):
        RetryPolicy(retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(multiplier=0.5)


def test_python_venv_fallback_without_uv(tmp_path: Path) -> None:
    log = EventLog()
    venv = create_venv(tmp_path / "plain-venv", uv=False, emit=log)
    assert venv.python.exists()
    assert log.of(CommandOutput)[0].argv[1:3] == ("-m", "venv")
    done = LocalExecutor().run([str(venv.python), "-m", "pip", "--version"], cwd=tmp_path, env=scrubbed_env((), home=tmp_path), timeout=60)
    assert done.ok, done.stderr  # python -m venv installs pip too


def test_scrubbed_env_is_exactly_what_was_asked() -> None:
    env = scrubbed_env(["A", "MISSING"], home="/w", bin_dirs=["/w/.venv/bin"], extra={"X": "1"}, source={"A": "a", "B": "b"})
    assert env == {"A": "a", "PATH": os.pathsep.join(["/w/.venv/bin", *MINIMAL_PATH]), "HOME": "/w", "X": "1"}


def test_install_failures_are_classified() -> None:
    assert classify_install_failure("ERROR: No matching distribution found for x==1")[0] == "resolve"
    step, message = classify_install_failure("WARNING: 401 Error, Credentials not correct for http://h/simple/x/\nERROR: Could not find a version")
    assert step == "install" and "refused access" in message
    assert classify_install_failure("[ResolutionImpossible]: Unable to find candidates for x")[0] == "resolve"
    assert classify_install_failure("ERROR: Failed building wheel for x")[0] == "install"


def test_pdm_consumer_pyproject_keeps_secrets_out() -> None:
    text, env = pdm_pyproject(
        index_url="https://deploy:tok%2Fen@gitlab.example.com/api/v4/projects/7/packages/pypi/simple",
        include_packages=["normalized-events*", "agent-adapters*"],
        extra_index_urls=["https://pypi.org/simple"],
        requires_python="==3.11.*",
    )
    doc = tomllib.loads(text)
    gitlab, extra = doc["tool"]["pdm"]["source"]
    assert gitlab == {
        "name": "gitlab",
        "url": "https://${USERTEST_INDEX_USERNAME}:${USERTEST_INDEX_PASSWORD}@gitlab.example.com/api/v4/projects/7/packages/pypi/simple",
        "include_packages": ["normalized-events*", "agent-adapters*"],
    }
    assert extra == {"name": "extra-1", "url": "https://pypi.org/simple"}
    assert doc["tool"]["pdm"]["distribution"] is False and doc["project"]["requires-python"] == "==3.11.*"
    assert env == {"USERTEST_INDEX_USERNAME": "deploy", "USERTEST_INDEX_PASSWORD": "tok%2Fen"}
    assert "tok" not in text


def test_docker_commands_pass_variables_by_name_only(tmp_path: Path) -> None:
    executor = DockerExecutor(workspace=tmp_path, mounts=[("/home/me/.codex", "/codex-home", True)], network_host=True)
    start = executor.start_argv()
    assert start[:2] == ["docker", "run"] and start[-3:] == ["python:3.12-slim", "sleep", "infinity"]
    assert f"{tmp_path}:{tmp_path}" in start and "/home/me/.codex:/codex-home:ro" in start
    assert start[start.index("--network"):start.index("--network") + 2] == ["--network", "host"]
    executor.container = "abc123"
    argv = executor.exec_argv(["python", "-V"], cwd=tmp_path, env={"PATH": "/v/bin:/usr/bin", "HOME": str(tmp_path), "GITLAB_PYPI_PASSWORD": "s3cret"})
    assert argv[-3:] == ["abc123", "python", "-V"]
    assert "GITLAB_PYPI_PASSWORD" in argv and not any("s3cret" in a for a in argv)
    assert "PATH=/v/bin:/usr/bin" in argv


def test_docker_engine_status_answers_fast_without_an_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such-docker.sock")
    ok, why = docker_engine_status(timeout=30)
    assert ok is False and why


def test_index_status_tells_a_refused_index_from_a_missing_project(tmp_path: Path) -> None:
    from runner_core import index_status, with_credentials
    from sandbox_runner import PypiServer

    with PypiServer(tmp_path / "packages") as registry:
        good = registry.authenticated_index_url
        assert index_status(good, "not-published") == 404
        assert index_status(with_credentials(registry.index_url, registry.username, "wrong"), "x") in (401, 403)
        assert index_status(registry.index_url, "x") == 401
    assert index_status("file:///tmp/simple", "x") is None
    assert index_status(good, "x", timeout=2) is None  # nothing answers any more


def test_index_credentials_travel_in_the_environment_never_on_the_command_line(
    installed: tuple, wheels: Path
) -> None:
    # An index that cannot answer: what matters is how pip was started, not what it found.
    ws, venv, _ = installed
    log = EventLog()
    url = "http://ci:top-secret-pw@127.0.0.1:9/simple/"
    result = install_pip(LocalExecutor(), ws, venv, ["demo-pkg==1.0"], index_url=url, find_links=[str(wheels)], emit=log)
    pip_run = next(e for e in log.of(CommandOutput) if "pip" in e.argv)
    assert not any("top-secret-pw" in arg or "127.0.0.1:9" in arg for arg in pip_run.argv)
    assert result.ok  # found through --find-links, the unreachable index notwithstanding
    assert "top-secret-pw" not in repr(log.events)
