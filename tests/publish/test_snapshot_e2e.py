"""``monorepo snapshot`` end to end: real registries, real builds, real pip in fresh venvs.

Every test that talks to a registry runs twice, against two real servers: pypiserver and
devpi-server (a non-volatile index, which refuses overwrites); see ``conftest.py``. Each copies ``tests/fixtures/snapshot-repo`` (alpha <- beta <- gamma, delta, internal
tool-internal) into a temporary folder, runs the CLI as a user would (a subprocess, credentials
in the environment only), and looks at what the registry and pip see.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import tool_env

from monorepo_tools.publish.install_check import make_venv

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "snapshot-repo"
_ids = itertools.count(int(os.getpid()) * 1000 + 1)

pytestmark = pytest.mark.slow


def tree_digest(root: Path) -> dict[str, str]:
    """Every file's sha256 under *root*, except the tool's own state folder."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == ".monorepo" or rel.startswith(".monorepo/") or not path.is_file():
            continue
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="session")
def build_env_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One set of build environments for the whole session keeps each snapshot under a second.
    return tmp_path_factory.mktemp("build-envs")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "monorepo"
    shutil.copytree(FIXTURE, root)
    return root


class Runner:
    def __init__(self, build_env_dir: Path, registry: Any) -> None:
        self.build_env_dir = build_env_dir
        self.registry = registry

    def env(self, password: str | None = None, **extra: str) -> dict[str, str]:
        registry = {
            "MONOREPO_REPOSITORY_URL": self.registry.url,
            "MONOREPO_INDEX_URL": self.registry.index_url,
            "MONOREPO_REPOSITORY_USERNAME": self.registry.username,
            "MONOREPO_REPOSITORY_PASSWORD": self.registry.password if password is None else password,
        }
        return tool_env(self.build_env_dir, **{**registry, **extra})

    def __call__(
        self, root: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monorepo_tools", *args, "--root", str(root)],
            capture_output=True,
            text=True,
            env=env if env is not None else self.env(),
            timeout=300,
        )


@pytest.fixture(params=["pypiserver", "devpi"])
def run(request: pytest.FixtureRequest, build_env_dir: Path) -> Runner:
    """The CLI against each real registry in turn."""
    return Runner(build_env_dir, request.getfixturevalue(request.param))


@pytest.fixture
def run_local(build_env_dir: Path, pypiserver: Any) -> Runner:
    """For tests where the registry is not what is tested (configuration errors, local index)."""
    return Runner(build_env_dir, pypiserver)


@pytest.fixture
def fresh_venv(tmp_path: Path) -> Callable[[], Path]:
    def make() -> Path:
        return make_venv(tmp_path / f"venv-{next(_ids)}")

    return make


def server_files(registry: Any) -> dict[str, bytes]:
    files: dict[str, bytes] = registry.files()
    return files


def summary(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture
def snapshot_id() -> Iterator[str]:
    yield str(next(_ids))


def test_snapshot_publishes_in_order_and_pip_installs_the_pinned_set(
    repo: Path, run: Runner, snapshot_id: str, fresh_venv: Callable[[], Path], tmp_path: Path
) -> None:
    before = tree_digest(repo)
    report = tmp_path / "summary.json"
    result = run(repo, "snapshot", "--snapshot-id", snapshot_id, "--summary-json", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert tree_digest(repo) == before  # the working tree is never modified
    data = summary(report)
    assert data["snapshot_id"] == int(snapshot_id)
    assert [p["name"] for p in data["packages"]] == ["alpha", "delta", "beta", "gamma"]
    assert {p["outcome"] for p in data["packages"]} == {"published"}
    versions = {p["name"]: p["version"] for p in data["packages"]}
    assert versions == {
        "alpha": f"1.0.0.dev{snapshot_id}",
        "delta": f"0.0.1.dev{snapshot_id}",
        "beta": f"0.2.0.dev{snapshot_id}",
        "gamma": f"2.0.0.dev{snapshot_id}",
    }
    assert all(len(p["files"]) == 2 for p in data["packages"])
    assert "tool-internal" not in json.dumps(data["packages"])  # internal: never published
    registry = run.registry
    python = fresh_venv()
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--isolated",
            "--quiet",
            "--index-url",
            registry.authenticated_index_url,
            f"gamma=={versions['gamma']}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    for name in ("gamma", "beta", "alpha"):
        printed = subprocess.run(
            [str(python), "-c", f"import {name}; print({name}.__version__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert printed == versions[name]
    # The installer pulled the internal dependencies at exactly the same snapshot.
    pinned = subprocess.run(
        [str(python), "-m", "pip", "show", "gamma"], capture_output=True, text=True, check=True
    ).stdout
    assert "Requires: alpha, beta" in pinned


def test_same_snapshot_id_again_is_already_published(
    repo: Path, run: Runner, snapshot_id: str, tmp_path: Path
) -> None:
    first = run(repo, "snapshot", "--snapshot-id", snapshot_id)
    assert first.returncode == 0, first.stdout + first.stderr
    files_before = server_files(run.registry)
    report = tmp_path / "again.json"
    second = run(repo, "snapshot", "--snapshot-id", snapshot_id, "--summary-json", str(report))
    assert second.returncode == 0, second.stdout + second.stderr
    assert {p["outcome"] for p in summary(report)["packages"]} == {"already published"}
    assert server_files(run.registry) == files_before


def test_changed_content_with_the_same_id_is_a_conflict_and_nothing_is_overwritten(
    repo: Path, run: Runner, snapshot_id: str, tmp_path: Path
) -> None:
    assert run(repo, "snapshot", "--snapshot-id", snapshot_id).returncode == 0
    files_before = server_files(run.registry)
    module = repo / "packages" / "alpha" / "src" / "alpha" / "__init__.py"
    module.write_text(module.read_text() + "\nCHANGED = True\n")
    report = tmp_path / "conflict.json"
    result = run(repo, "snapshot", "--snapshot-id", snapshot_id, "--summary-json", str(report))
    assert result.returncode == 1
    outcomes = {p["name"]: p for p in summary(report)["packages"]}
    assert outcomes["alpha"]["outcome"] == "failed"
    assert (
        "snapshot id" in outcomes["alpha"]["reason"].lower()
    )  # the spec's advice: rerun so the id changes
    assert outcomes["beta"]["outcome"] == "blocked" and outcomes["beta"]["blocked_by"] == "alpha"
    assert outcomes["delta"]["outcome"] == "already published"
    assert server_files(run.registry) == files_before


def test_wrong_password_says_what_to_set_uploads_nothing_and_never_prints_it(
    repo: Path, run: Runner, snapshot_id: str, tmp_path: Path
) -> None:
    secret = "wrong-Pa55word-that-must-not-leak"
    files_before = server_files(run.registry)
    report = tmp_path / "auth.json"
    result = run(
        repo,
        "snapshot",
        "--snapshot-id",
        snapshot_id,
        "--summary-json",
        str(report),
        env=run.env(password=secret),
    )
    assert result.returncode == 1
    output = result.stdout + result.stderr + report.read_text()
    assert secret not in output
    assert "MONOREPO_REPOSITORY_PASSWORD" in output or "GITLAB_PYPI_PASSWORD" in output
    assert server_files(run.registry) == files_before
    outcomes = {p["name"]: p["outcome"] for p in summary(report)["packages"]}
    # The first upload is refused: it and the independent package fail, dependents are blocked.
    assert outcomes == {"alpha": "failed", "delta": "failed", "beta": "blocked", "gamma": "blocked"}


def test_registry_down_retries_then_fails_clearly(
    repo: Path, run: Runner, snapshot_id: str, tmp_path: Path
) -> None:
    registry = run.registry
    registry.stop()
    try:
        report = tmp_path / "down.json"
        result = run(
            repo,
            "snapshot",
            "--snapshot-id",
            snapshot_id,
            "--upload-retries",
            "2",
            "--upload-backoff-seconds",
            "0.05",
            "--summary-json",
            str(report),
        )
    finally:
        registry.start()
    assert result.returncode == 1
    outcomes = {p["name"]: p for p in summary(report)["packages"]}
    assert outcomes["alpha"]["outcome"] == "failed"
    assert "retr" in outcomes["alpha"]["reason"].lower()  # says it retried
    assert outcomes["gamma"]["outcome"] in ("blocked", "failed")


def test_a_failing_build_blocks_its_dependents_and_the_rest_still_publishes(
    repo: Path, run: Runner, snapshot_id: str, tmp_path: Path
) -> None:
    # beta gets an in-tree build backend that always fails.
    beta = repo / "packages" / "beta"
    (beta / "failing_backend.py").write_text(
        "def build_sdist(*args, **kwargs):\n    raise RuntimeError('this backend always fails')\n"
        "def build_wheel(*args, **kwargs):\n    raise RuntimeError('this backend always fails')\n"
    )
    text = (beta / "pyproject.toml").read_text()
    text = text.replace(
        'requires = ["hatchling"]\nbuild-backend = "hatchling.build"',
        'requires = []\nbuild-backend = "failing_backend"\nbackend-path = ["."]',
    )
    (beta / "pyproject.toml").write_text(text)
    before = tree_digest(repo)
    report = tmp_path / "build.json"
    result = run(repo, "snapshot", "--snapshot-id", snapshot_id, "--summary-json", str(report))
    assert result.returncode == 1
    assert tree_digest(repo) == before
    outcomes = {p["name"]: p for p in summary(report)["packages"]}
    assert outcomes["beta"]["outcome"] == "failed"
    assert "this backend always fails" in outcomes["beta"]["reason"]
    assert outcomes["gamma"]["outcome"] == "blocked" and outcomes["gamma"]["blocked_by"] == "beta"
    assert outcomes["alpha"]["outcome"] == "published"
    assert outcomes["delta"]["outcome"] == "published"
    names = set(server_files(run.registry))
    assert f"alpha-1.0.0.dev{snapshot_id}-py3-none-any.whl" in names
    assert not any(n.startswith(("gamma", "beta")) and snapshot_id in n for n in names)


def test_dry_run_builds_and_checks_but_uploads_nothing(
    repo: Path, run: Runner, snapshot_id: str, tmp_path: Path
) -> None:
    files_before = server_files(run.registry)
    report = tmp_path / "dry.json"
    result = run(
        repo, "snapshot", "--snapshot-id", snapshot_id, "--dry-run", "--summary-json", str(report)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p["outcome"] for p in summary(report)["packages"]} == {"built"}
    assert server_files(run.registry) == files_before


def test_plan_and_snapshot_refuse_a_workspace_with_findings(
    repo: Path, run_local: Runner, snapshot_id: str
) -> None:
    gamma = repo / "packages" / "gamma" / "pyproject.toml"
    gamma.write_text(
        gamma.read_text().replace('"Alpha>=1.0",', '"Alpha>=1.0",\n  "tool-internal",')
    )
    checked = run_local(repo, "check")
    planned = run_local(repo, "plan", "--snapshot-id", snapshot_id)
    published = run_local(repo, "snapshot", "--snapshot-id", snapshot_id)
    assert checked.returncode == planned.returncode == published.returncode == 1
    assert "internal-dependency" in planned.stderr and "internal-dependency" in published.stderr
    assert "gamma (incubator) depends on tool-internal (internal)" in published.stderr
    assert not (repo / ".monorepo" / "dist").exists()  # nothing was built


def test_in_ci_without_a_registry_it_is_a_configuration_error(
    repo: Path, run_local: Runner, snapshot_id: str
) -> None:
    env = {
        k: v
        for k, v in run_local.env().items()
        if not k.startswith("MONOREPO_REPOSITORY") and k != "MONOREPO_INDEX_URL"
    }
    env["CI"] = "true"
    result = run_local(repo, "snapshot", "--snapshot-id", snapshot_id, env=env)
    assert result.returncode == 2
    for variable in (
        "GITLAB_PYPI_PROJECT_ID",
        "GITLAB_PYPI_USERNAME",
        "GITLAB_PYPI_PASSWORD",
        "MONOREPO_REPOSITORY_URL",
    ):
        assert variable in result.stderr


def test_embedded_default_index_is_installable_with_pip(
    repo: Path, run_local: Runner, snapshot_id: str, fresh_venv: Callable[[], Path]
) -> None:
    env = {
        k: v
        for k, v in run_local.env().items()
        if not k.startswith("MONOREPO_REPOSITORY") and k != "MONOREPO_INDEX_URL"
    }
    before = tree_digest(repo)
    result = run_local(repo, "snapshot", "--snapshot-id", snapshot_id, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert tree_digest(repo) == before
    index = repo / ".monorepo" / "index"
    assert (index / "simple" / "index.html").is_file()
    line = next(
        x.strip()
        for x in result.stdout.splitlines()
        if x.strip().startswith("pip install --index-url file://")
    )
    python = fresh_venv()
    args = line.split()[2:]  # drop "pip install"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--isolated", "--quiet", *args], check=True
    )
    printed = subprocess.run(
        [str(python), "-c", "import gamma, alpha; print(gamma.__version__, alpha.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert printed == [f"2.0.0.dev{snapshot_id}", f"1.0.0.dev{snapshot_id}"]
    # The state folder ignores itself, so git never sees the index.
    assert (repo / ".monorepo" / ".gitignore").read_text().strip().endswith("*")


def test_verify_installs_every_package_by_version_in_a_fresh_venv(
    repo: Path, run: Runner, snapshot_id: str, tmp_path: Path
) -> None:
    report = tmp_path / "verify.json"
    result = run(
        repo, "snapshot", "--snapshot-id", snapshot_id, "--verify", "--summary-json", str(report)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    packages = summary(report)["packages"]
    assert [p["verified"] for p in packages] == [True, True, True, True]
    assert all("installed with its pins" in p["verification"] for p in packages)
    assert "install ok" in result.stdout
    assert run.registry.password not in result.stdout + result.stderr + report.read_text()


def test_verify_fails_the_snapshot_when_a_package_needs_more_than_its_pins(
    repo: Path, run: Runner, snapshot_id: str, tmp_path: Path
) -> None:
    # delta now needs a third-party distribution the registry does not have (no fallback).
    delta = repo / "packages" / "delta" / "pyproject.toml"
    delta.write_text(
        delta.read_text().replace(
            "dependencies = []", 'dependencies = ["no-such-dependency-xyz>=1"]'
        )
    )
    report = tmp_path / "verify-fail.json"
    result = run(
        repo, "snapshot", "--snapshot-id", snapshot_id, "--verify", "--summary-json", str(report)
    )
    assert result.returncode == 1
    outcomes = {p["name"]: p for p in summary(report)["packages"]}
    assert outcomes["delta"]["outcome"] == "published" and outcomes["delta"]["verified"] is False
    assert outcomes["delta"]["verification"].startswith("install:")
    assert "no-such-dependency-xyz" in outcomes["delta"]["verification"]
    assert outcomes["gamma"]["verified"] is True
    assert "delta: install check failed at install" in result.stdout


def test_one_package_at_a_time_in_dependency_order_as_nox_publish_sessions_do(
    repo: Path, run: Runner, snapshot_id: str, tmp_path: Path
) -> None:
    unknown = run(repo, "snapshot", "--snapshot-id", snapshot_id, "--package", "gama")
    assert unknown.returncode == 2 and "did you mean 'gamma'?" in unknown.stderr
    internal = run(repo, "snapshot", "--snapshot-id", snapshot_id, "--package", "tool-internal")
    assert internal.returncode == 2 and "never published" in internal.stderr
    for name in ("alpha", "beta", "gamma"):
        report = tmp_path / f"{name}.json"
        result = run(
            repo,
            "snapshot",
            "--snapshot-id",
            snapshot_id,
            "--package",
            name,
            "--verify",
            "--summary-json",
            str(report),
        )
        assert result.returncode == 0, result.stdout + result.stderr
        [package] = summary(report)["packages"]
        assert (package["name"], package["outcome"], package["verified"]) == (
            name,
            "published",
            True,
        )
    names = set(server_files(run.registry))
    assert f"gamma-2.0.0.dev{snapshot_id}-py3-none-any.whl" in names
    assert not any(n.startswith("delta") and snapshot_id in n for n in names)
