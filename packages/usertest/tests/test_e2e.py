"""usertest end to end, as a user runs it: a real authenticated registry (sandbox-runner's
pypiserver on 127.0.0.1), wheels uploaded with twine, real pip and PDM installs in fresh
virtualenvs, the CLI in a subprocess."""

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_runner import PypiServer, build_wheel

VERSION = "0.1.0.dev735192004101"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    dist = tmp_path_factory.mktemp("dist")
    wheels = [
        build_wheel(dist, "demo-widget", VERSION, {"demo_widget/__init__.py": f"__version__ = {VERSION!r}\n"}),
        build_wheel(dist, "demo-events", VERSION, {"demo_events/__init__.py": "KIND = 'verdict'\n"},
                    requires=[f"demo-widget=={VERSION}"]),
        build_wheel(dist, "demo-broken", "1.0", {"demo_broken/__init__.py": "raise RuntimeError('broken at import')\n"}),
    ]
    with PypiServer(tmp_path_factory.mktemp("registry") / "packages") as server:
        server.upload(wheels)
        yield server


def usertest(registry: PypiServer, tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "PIP_", "UV_", "PDM_"))}
    env.update(GITLAB_PYPI_USERNAME=registry.username, GITLAB_PYPI_PASSWORD=registry.password,
               GITLAB_PYPI_PROJECT_ID="4242", SECRET_TOKEN="never-show-this-token")
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "usertest.cli", "run", "--repo-root", ".", "--index-url", registry.index_url,
         "--persona-id", "quickstart_sprinter", "--mission-id", "first_output_smoke", "--exec-backend", "local",
         "--exec-env", "GITLAB_PYPI_PROJECT_ID", "--exec-env", "GITLAB_PYPI_USERNAME", "--exec-env", "GITLAB_PYPI_PASSWORD",
         "--work-dir", str(tmp_path / "work"), "--report-json", str(tmp_path / "report.json"),
         "--report-markdown", str(tmp_path / "report.md"), *args],
        capture_output=True, text=True, env=env, timeout=300,
    )


def report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "report.json").read_text())


def assert_no_secret(registry: PypiServer, tmp_path: Path, done: subprocess.CompletedProcess[str]) -> None:
    for text in (done.stdout, done.stderr, (tmp_path / "report.json").read_text(), (tmp_path / "report.md").read_text()):
        assert registry.password not in text
        assert "never-show-this-token" not in text


def test_pip_target_passes_the_smoke_agent(registry: PypiServer, tmp_path: Path) -> None:
    done = usertest(registry, tmp_path, "--repo", f"pip:demo-events=={VERSION}", "--agent", "smoke")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("usertest: PASSED\n")
    data = report(tmp_path)
    assert data["passed"] is True and data["step"] == "version"
    assert data["summary"]["resolved"] == {"demo-events": VERSION}
    assert data["summary"]["index_url"] == f"http://***:***@127.0.0.1:{registry.port}/simple/"
    assert "## ✅ usertest PASSED" in (tmp_path / "report.md").read_text()
    assert_no_secret(registry, tmp_path, done)
    assert list((tmp_path / "work").iterdir()) == []  # the workspace is removed afterwards


def test_pdm_target_installs_through_the_consumer_source(registry: PypiServer, tmp_path: Path) -> None:
    assert importlib.util.find_spec("pdm") is not None, (
        "pdm is not installed in the test environment: install usertest's dev group (pdm[locked])"
    )
    done = usertest(registry, tmp_path, "--repo", f"pdm:demo-events=={VERSION} demo-widget=={VERSION}",
                    "--agent", "smoke", "--keep-workspace")
    assert done.returncode == 0, done.stdout + done.stderr
    data = report(tmp_path)
    assert data["summary"]["installer"] == "pdm"
    assert data["summary"]["resolved"] == {"demo-events": VERSION, "demo-widget": VERSION}
    (workspace,) = (tmp_path / "work").iterdir()
    pyproject = tomllib.loads((workspace / "pyproject.toml").read_text())
    (source,) = pyproject["tool"]["pdm"]["source"]
    assert source["name"] == "gitlab"
    assert source["url"] == f"http://${{USERTEST_INDEX_USERNAME}}:${{USERTEST_INDEX_PASSWORD}}@127.0.0.1:{registry.port}/simple/"
    assert source["include_packages"] == [
        "normalized-events*", "runner-core*", "agent-adapters*", "reporter*", "sandbox-runner*", "demo-events", "demo-widget",
    ]
    assert (workspace / ".venv" / "bin" / "python").exists()
    for path in workspace.rglob("*"):  # the password is nowhere in the workspace (lock, config, ...)
        if path.is_file() and ".venv" not in path.parts and ".cache" not in path.parts:
            assert registry.password not in path.read_text(errors="replace"), path
    assert_no_secret(registry, tmp_path, done)


def test_command_agent_runs_in_the_installed_venv_with_only_named_variables(registry: PypiServer, tmp_path: Path) -> None:
    check = (
        "import os, demo_widget; "
        "assert 'SECRET_TOKEN' not in os.environ; "
        "assert os.environ['GITLAB_PYPI_PROJECT_ID'] == '4242'; "
        "print('first output:', demo_widget.__version__)"
    )
    done = usertest(registry, tmp_path, "--repo", f"pip:demo-widget=={VERSION}", "--agent", "command",
                    "--command", f'python -c "{check}"')
    assert done.returncode == 0, done.stdout + done.stderr
    data = report(tmp_path)
    assert data["step"] == "agent"
    outputs = [e for e in data["events"] if e["kind"] == "command.output"]
    assert outputs[-1]["stdout_tail"] == f"first output: {VERSION}\n"


def test_a_broken_module_fails_at_import(registry: PypiServer, tmp_path: Path) -> None:
    done = usertest(registry, tmp_path, "--repo", "pip:demo-broken==1.0")
    assert done.returncode == 1
    assert done.stdout.startswith("usertest: FAILED at step import\n")
    assert "RuntimeError: broken at import" in report(tmp_path)["message"]


def test_an_unpublished_version_fails_at_resolve(registry: PypiServer, tmp_path: Path) -> None:
    done = usertest(registry, tmp_path, "--repo", "pip:demo-widget==9.9.9")
    assert done.returncode == 1
    data = report(tmp_path)
    assert data["step"] == "resolve" and "demo-widget==9.9.9" in data["message"]
    assert_no_secret(registry, tmp_path, done)


def test_wrong_credentials_fail_at_install_without_showing_them(registry: PypiServer, tmp_path: Path) -> None:
    done = usertest(registry, tmp_path, "--repo", f"pip:demo-widget=={VERSION}",
                    extra_env={"GITLAB_PYPI_PASSWORD": "wrong-password-value"})
    assert done.returncode == 1
    data = report(tmp_path)
    assert data["step"] == "install" and "refused access" in data["message"]
    assert "wrong-password-value" not in done.stdout + done.stderr + (tmp_path / "report.json").read_text()
