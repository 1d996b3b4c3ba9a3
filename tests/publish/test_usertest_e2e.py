"""The loop the product promises: snapshot this repository's own packages, then evaluate them.

A real snapshot of ``packages/`` (copied into a temporary monorepo) goes to a real pypiserver;
a fresh venv installs ``usertest`` by version from it; ``python -m usertest.cli run`` then
installs ``pip:`` and ``pdm:`` targets in venvs of its own and checks imports and versions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clients import packaging_wheel, upstream_server
from engine_helpers import copy_demo

from monorepo_tools.publish.install_check import make_venv

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT_ID = str(700_000 + os.getpid() % 100_000)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(
    pypiserver: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Snapshot the demo packages once for this module; a venv with usertest installed.

    The registry has no fallback (GitLab with forwarding off); runner-core's third-party
    dependency (packaging) comes from a loopback upstream that stands in for PyPI.
    """
    work = tmp_path_factory.mktemp("usertest-e2e")
    (work / "upstream").mkdir()
    upstream = upstream_server(pypiserver, work / "upstream")
    packaging_wheel(upstream.packages_dir)
    root = copy_demo(work / "monorepo")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITLAB_", "CI", "GITHUB_", "MONOREPO_"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        MONOREPO_BUILD_ENV_DIR=str(tmp_path_factory.getbasetemp() / "build-envs"),
        MONOREPO_REPOSITORY_URL=pypiserver.url,
        MONOREPO_INDEX_URL=pypiserver.index_url,
        MONOREPO_REPOSITORY_USERNAME=pypiserver.username,
        MONOREPO_REPOSITORY_PASSWORD=pypiserver.password,
    )
    summary = work / "summary.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "monorepo_tools",
            "snapshot",
            "--root",
            str(root),
            "--snapshot-id",
            SNAPSHOT_ID,
            "--verify",
            "--verify-extra-index-url",
            upstream.index_url,
            "--summary-json",
            str(summary),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(summary.read_text())
    versions = {p["name"]: p["version"] for p in data["packages"]}
    assert set(versions) == {
        "normalized-events",
        "runner-core",
        "reporter",
        "agent-adapters",
        "usertest",
    }
    assert all(p["verified"] for p in data["packages"])  # --verify: each installs by version
    python = make_venv(work / "consumer")
    # The registry wants credentials to download too: they travel in the environment only.
    pip_env = {
        k: v for k, v in os.environ.items() if k not in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL")
    }
    pip_env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL=pypiserver.authenticated_index_url,
        PIP_EXTRA_INDEX_URL=upstream.index_url,
        PIP_NO_INPUT="1",
    )
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"usertest=={versions['usertest']}"],
        capture_output=True,
        text=True,
        env=pip_env,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    credentials = {
        "GITLAB_PYPI_USERNAME": pypiserver.username,
        "GITLAB_PYPI_PASSWORD": pypiserver.password,
    }
    yield {
        "upstream": upstream.index_url,
        "python": python,
        "versions": versions,
        "index": pypiserver.index_url,
        "work": work,
        "credentials": credentials,
    }
    upstream.stop()


def usertest(
    published: dict[str, Any], target: str, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    report = published["work"] / f"report-{abs(hash((target, extra)))}.json"
    result = subprocess.run(
        [
            str(published["python"]),
            "-m",
            "usertest.cli",
            "run",
            "--repo-root",
            str(REPO),
            "--repo",
            target,
            "--policy",
            "safe",
            "--persona-id",
            "quickstart_sprinter",
            "--mission-id",
            "first_output_smoke",
            "--exec-backend",
            "local",
            "--index-url",
            published["index"],
            "--extra-index-url",
            published["upstream"],
            "--report-json",
            str(report),
            "--quiet",
            *extra,
        ],
        capture_output=True,
        text=True,
        # usertest applies GITLAB_PYPI_USERNAME/PASSWORD to an --index-url without credentials.
        env={
            **(env if env is not None else {**os.environ, "PIP_CONFIG_FILE": os.devnull}),
            **published["credentials"],
        },
        timeout=600,
    )
    data: dict[str, Any] = json.loads(report.read_text()) if report.exists() else {}
    return result, data


def test_pip_target_of_a_published_snapshot_passes(published: dict[str, Any]) -> None:
    version = published["versions"]["agent-adapters"]
    result, report = usertest(published, f"pip:agent-adapters=={version}", "--agent", "smoke")
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["passed"] is True
    assert report["summary"]["resolved"]["agent-adapters"] == version


def test_pdm_target_with_several_requirements_passes(published: dict[str, Any]) -> None:
    # As a consumer does it: PDM next to usertest, from PyPI (the registry has no fallback).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL")
    }
    subprocess.run(
        [str(published["python"]), "-m", "pip", "install", "--quiet", "pdm[locked]>=2.20"],
        check=True,
        env={**env, "PIP_CONFIG_FILE": os.devnull},
        timeout=600,
    )
    v = published["versions"]
    target = (
        f"pdm:agent-adapters=={v['agent-adapters']} normalized-events=={v['normalized-events']}"
    )
    result, report = usertest(published, target, "--agent", "smoke")
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["passed"] is True
    assert report["summary"]["resolved"]["agent-adapters"] == v["agent-adapters"]


def test_a_version_that_was_not_published_fails_at_resolve_or_install(
    published: dict[str, Any],
) -> None:
    result, report = usertest(published, "pip:agent-adapters==0.1.0.dev1", "--agent", "smoke")
    assert result.returncode == 1
    assert report["passed"] is False and report["step"] in ("resolve", "install")


def test_a_package_missing_from_the_index_fails_at_resolve_or_install(
    published: dict[str, Any],
) -> None:
    result, report = usertest(published, "pip:no-such-package-xyz==1.0", "--agent", "smoke")
    assert result.returncode == 1
    assert report["step"] in ("resolve", "install")
    assert "no-such-package-xyz" in report["message"]


def test_a_secret_not_named_by_exec_env_never_reaches_the_agent(published: dict[str, Any]) -> None:
    version = published["versions"]["runner-core"]
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "SECRET_TOKEN": "s3cr3t-value",
        "NAMED_VAR": "visible",
    }
    probe = "python -c \"import os,sys; sys.exit(0 if os.environ.get('NAMED_VAR')=='visible' and 'SECRET_TOKEN' not in os.environ else 3)\""
    result, report = usertest(
        published,
        f"pip:runner-core=={version}",
        "--agent",
        "command",
        "--command",
        probe,
        "--exec-env",
        "NAMED_VAR",
        "--agent-followup-attempts",
        "0",
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["passed"] is True
    assert "s3cr3t-value" not in json.dumps(report)
    assert published["credentials"][
        "GITLAB_PYPI_PASSWORD"
    ] not in result.stdout + result.stderr + json.dumps(report)


# --------------------------------------------------------------------------- docker backend

PODMAN = REPO / ".ci" / "provision" / "podman.sh"
IMAGE = "localhost/usertest-python:bookworm"


@pytest.fixture(scope="module")
def docker_host() -> str:
    """A Docker-API engine: podman's service, provisioned by .ci/provision/podman.sh (the image is
    cached in podman's storage). Skipped with the reason only where podman cannot be installed;
    under CI=true that fails instead."""
    done = subprocess.run(["bash", str(PODMAN)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        reason = (
            f"no container engine: .ci/provision/podman.sh failed: {done.stderr.strip()[-500:]}"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("DOCKER_HOST=unix://"), done.stdout
    return line.split("=", 1)[1]


def test_docker_backend_runs_the_published_set_in_a_real_container(
    published: dict[str, Any], docker_host: str, tmp_path: Path
) -> None:
    version = published["versions"]["usertest"]
    probe = (
        'python -c "import sys, usertest, runner_core; '
        # podman's marker, and Debian's interpreter of the image (not this machine's python)
        "import os; inside = os.path.exists('/run/.containerenv') and sys.base_prefix == '/usr'; "
        "sys.exit(0 if inside and sys.prefix.endswith('.venv') else 3)\""
    )
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "DOCKER_HOST": docker_host}
    result, report = usertest(
        published,
        f"pip:usertest=={version}",
        "--agent", "command", "--command", probe, "--agent-followup-attempts", "0",
        "--exec-backend", "docker", "--docker-image", IMAGE,
        "--exec-env", "GITLAB_PYPI_USERNAME", "--exec-env", "GITLAB_PYPI_PASSWORD",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["passed"] is True
    assert report["summary"]["resolved"]["usertest"] == version
    assert published["credentials"][
        "GITLAB_PYPI_PASSWORD"
    ] not in result.stdout + result.stderr + json.dumps(report)


def test_the_codex_agent_mounts_a_binary_that_runs_in_an_image_without_node(
    published: dict[str, Any], docker_host: str, tmp_path: Path
) -> None:
    # npm's `codex` is codex.js (exit 127 in an image without node); usertest mounts the native
    # binary behind it. The real CLI comes from .ci/provision/codex.sh.
    provision = subprocess.run(
        ["bash", str(REPO / ".ci" / "provision" / "codex.sh")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if provision.returncode != 0:
        reason = f"the Codex CLI could not be installed: {provision.stderr.strip()[-300:]}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    script = (
        "import sys; from pathlib import Path; from runner_core import DockerExecutor;"
        "from agent_adapters import find_codex; from usertest.run import CONTAINER_CODEX;"
        "ws = Path(sys.argv[1]); ws.mkdir();"
        f"ex = DockerExecutor(workspace=ws, image={IMAGE!r}, mounts=[(find_codex(), CONTAINER_CODEX, True)]);"
        "ex.start();"
        "r = ex.run([CONTAINER_CODEX, '--version'], cwd=ws, env={'PATH': '/usr/bin:/bin', 'HOME': str(ws)}, timeout=60);"
        "ex.stop(); print(r.exit_code, r.stdout.strip()); sys.exit(r.exit_code)"
    )
    done = subprocess.run(
        [str(published["python"]), "-c", script, str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_HOST": docker_host},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "codex-cli " in done.stdout
