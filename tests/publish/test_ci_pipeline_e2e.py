"""The CI fan-out end to end: split snapshots, changed-only snapshots, and the generated GitLab
child pipeline run by a real runner of GitLab pipelines (gitlab-ci-local, shell executor) against
a real pypiserver on 127.0.0.1.

GitLab itself cannot run here; gitlab-ci-local reads the same YAML (schema-validated), resolves
``needs:``, passes artifacts between isolated job folders and gives the child its own
``CI_PIPELINE_ID``, which is what the fan-out has to get right.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitrepo import append, commit_all, git, init_repo

from monorepo_tools.publish.install_check import make_venv

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "snapshot-repo"
PROVISION = REPO / ".ci" / "provision" / "gitlab-ci-local.sh"

pytestmark = pytest.mark.slow
PUBLISHABLE = ("alpha", "beta", "delta", "gamma")  # tool-internal is internal
_ids = iter(range(os.getpid() * 1000 + 700_000, 10**12))


@pytest.fixture(scope="module")
def build_env_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ci-build-envs")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "monorepo"
    shutil.copytree(FIXTURE, root)
    init_repo(root)
    # gitlab-ci-local derives the project's URL variables from an https origin.
    git(root, "remote", "add", "origin", "https://gitlab.example.com/platform/monorepo.git")
    return root


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITLAB_", "CI", "GITHUB_", "MONOREPO_", "TWINE_"))
    }
    env.update(PYTHONPATH=str(REPO), PIP_CONFIG_FILE=os.devnull)
    env.update(extra)
    return env


def _registry_env(server: Any, build_env_dir: Path) -> dict[str, str]:
    return {
        "MONOREPO_BUILD_ENV_DIR": str(build_env_dir),
        "MONOREPO_REPOSITORY_URL": server.url,
        "MONOREPO_INDEX_URL": server.index_url,
        "MONOREPO_REPOSITORY_USERNAME": server.username,
        "MONOREPO_REPOSITORY_PASSWORD": server.password,
    }


def monorepo(root: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monorepo_tools", *args, "--root", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _versions(server: Any) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name in server.files():
        match = re.match(r"([a-z_]+)-([^-]+?)(?:\.tar\.gz|-py3-none-any\.whl)$", name)
        assert match, name
        found.setdefault(match.group(1).replace("_", "-"), set()).add(match.group(2))
    return found


# --------------------------------------------------------------------------- split snapshots


def test_build_only_then_upload_only_publishes_in_order_and_is_idempotent(
    repo: Path, tmp_path: Path, empty_pypiserver: Any, build_env_dir: Path
) -> None:
    sid = str(next(_ids))
    env = _clean_env(**_registry_env(empty_pypiserver, build_env_dir))
    dists = tmp_path / "dists"
    built = monorepo(
        repo, "snapshot", "--build-only", "--snapshot-id", sid, "--dists", str(dists), env=env
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert empty_pypiserver.files() == {}  # nothing uploaded
    manifest = json.loads((dists / "manifest.json").read_text())
    assert manifest["snapshot_id"] == int(sid)
    entries = {p["name"]: p for p in manifest["packages"]}
    assert set(entries) == set(PUBLISHABLE)
    assert entries["gamma"]["pins"] == {"alpha": f"1.0.0.dev{sid}", "beta": f"0.2.0.dev{sid}"}
    assert all(
        len(p["files"]) == 2 and all(len(f["sha256"]) == 64 for f in p["files"])
        for p in entries.values()
    )

    up = monorepo(
        repo, "snapshot", "--upload-only", "--snapshot-id", sid, "--dists", str(dists), env=env
    )
    assert up.returncode == 0, up.stdout + up.stderr
    assert _versions(empty_pypiserver) == {
        "alpha": {f"1.0.0.dev{sid}"},
        "beta": {f"0.2.0.dev{sid}"},
        "delta": {f"0.0.1.dev{sid}"},
        "gamma": {f"2.0.0.dev{sid}"},
    }
    order = sorted(empty_pypiserver.packages_dir.rglob("*.whl"), key=lambda p: p.stat().st_mtime_ns)
    names = [p.name.split("-")[0] for p in order]
    assert names.index("alpha") < names.index("beta") < names.index("gamma")
    assert empty_pypiserver.password not in up.stdout + up.stderr

    again = monorepo(
        repo, "snapshot", "--upload-only", "--snapshot-id", sid, "--dists", str(dists), env=env
    )
    assert again.returncode == 0
    assert again.stdout.count("already published") == 4


def test_upload_only_refuses_dists_that_do_not_match_the_plan(
    repo: Path, tmp_path: Path, empty_pypiserver: Any, build_env_dir: Path
) -> None:
    sid = str(next(_ids))
    env = _clean_env(**_registry_env(empty_pypiserver, build_env_dir))
    dists = tmp_path / "dists"
    one = ("--package", "beta")  # one build is enough to show every refusal

    def upload(snapshot_id: str = sid) -> subprocess.CompletedProcess[str]:
        return monorepo(
            repo, "snapshot", "--upload-only", *one, "--snapshot-id", snapshot_id,
            "--dists", str(dists), env=env,
        )  # fmt: skip

    built = monorepo(
        repo, "snapshot", "--build-only", *one, "--snapshot-id", sid, "--dists", str(dists), env=env
    )
    assert built.returncode == 0, built.stderr

    other = upload(str(int(sid) + 1))
    assert other.returncode == 2
    assert f"the dists are of snapshot {sid}" in other.stderr
    assert "nothing was uploaded" in other.stderr

    wheel = next(dists.glob("beta-*.whl"))
    original = wheel.read_bytes()
    wheel.write_bytes(original + b"tampered")
    tampered = upload()
    assert tampered.returncode == 2
    assert wheel.name in tampered.stderr and "changed after it was built" in tampered.stderr
    wheel.write_bytes(original)

    # The plan moved on (beta's and alpha's versions changed): built for another commit.
    for folder, before, after in (("beta", "0.2.0", "0.3.0"), ("alpha", "1.0.0", "1.1.0")):
        path = repo / "packages" / folder / "pyproject.toml"
        path.write_text(path.read_text().replace(f'version = "{before}"', f'version = "{after}"'))
    moved = upload()
    assert moved.returncode == 2
    assert f"beta: built as 0.2.0.dev{sid}, the plan says 0.3.0.dev{sid}" in moved.stderr
    assert f"built with pins {{'alpha': '1.0.0.dev{sid}'}}" in moved.stderr
    assert empty_pypiserver.files() == {}

    missing = monorepo(repo, "snapshot", "--upload-only", "--snapshot-id", sid, env=env)
    assert missing.returncode == 2 and "--upload-only needs --dists DIR" in missing.stderr
    both = monorepo(repo, "snapshot", "--upload-only", "--build-only", "--dists", "x", env=env)
    assert both.returncode == 2 and "exclude each other" in both.stderr


def test_upload_only_of_one_package_waits_for_its_dependency_on_the_registry(
    repo: Path, tmp_path: Path, empty_pypiserver: Any, build_env_dir: Path
) -> None:
    sid = str(next(_ids))
    env = _clean_env(**_registry_env(empty_pypiserver, build_env_dir))
    for name in ("alpha", "beta"):
        built = monorepo(
            repo, "snapshot", "--build-only", "--package", name, "--snapshot-id", sid,
            "--dists", str(tmp_path / "dists" / name), env=env,
        )  # fmt: skip
        assert built.returncode == 0, built.stderr
    early = monorepo(
        repo, "snapshot", "--upload-only", "--package", "beta", "--snapshot-id", sid,
        "--dists", str(tmp_path / "dists" / "beta"), env=env,
    )  # fmt: skip
    assert early.returncode == 1
    assert f"its dependency alpha==1.0.0.dev{sid} is not on the registry" in early.stdout
    assert empty_pypiserver.files() == {}
    for name in ("alpha", "beta"):
        up = monorepo(
            repo, "snapshot", "--upload-only", "--package", name, "--snapshot-id", sid,
            "--dists", str(tmp_path / "dists" / name), env=env,
        )  # fmt: skip
        assert up.returncode == 0, up.stdout + up.stderr
    assert set(_versions(empty_pypiserver)) == {"alpha", "beta"}


# --------------------------------------------------------------------------- changed-only


def test_changed_only_snapshot_pins_unaffected_dependencies_to_the_registry(
    repo: Path, tmp_path: Path, empty_pypiserver: Any, build_env_dir: Path
) -> None:
    env = _clean_env(**_registry_env(empty_pypiserver, build_env_dir))
    first = str(next(_ids))
    full = monorepo(repo, "snapshot", "--snapshot-id", first, env=env)
    assert full.returncode == 0, full.stdout + full.stderr

    append(repo / "packages/beta/src/beta/__init__.py", "CHANGED = True\n")
    commit_all(repo, "change beta")
    second = str(next(_ids))
    changed = monorepo(
        repo, "snapshot", "--snapshot-id", second, "--affected-since", "HEAD~1", env=env
    )
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "changed-only snapshot: 2 of 4 publishable packages" in changed.stderr
    assert f"pinned to what the registry has: alpha==1.0.0.dev{first}" in changed.stderr
    versions = _versions(empty_pypiserver)
    assert versions["beta"] == {f"0.2.0.dev{first}", f"0.2.0.dev{second}"}
    assert versions["gamma"] == {f"2.0.0.dev{first}", f"2.0.0.dev{second}"}
    assert versions["alpha"] == {f"1.0.0.dev{first}"} and versions["delta"] == {f"0.0.1.dev{first}"}

    # pip installs the new gamma with the old alpha (exact pin) and the new beta.
    python = make_venv(tmp_path / "venv")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-cache-dir",
         "--index-url", empty_pypiserver.authenticated_index_url, f"gamma==2.0.0.dev{second}"],
        capture_output=True, text=True, env=_clean_env(), timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json"],
        capture_output=True, text=True, env=_clean_env(), check=True,
    )  # fmt: skip
    got = {p["name"]: p["version"] for p in json.loads(listed.stdout)}
    assert got["alpha"] == f"1.0.0.dev{first}" and got["beta"] == f"0.2.0.dev{second}"


def test_changed_only_publishes_a_dependency_that_was_never_published(
    repo: Path, empty_pypiserver: Any, build_env_dir: Path
) -> None:
    env = _clean_env(**_registry_env(empty_pypiserver, build_env_dir))
    append(repo / "packages/gamma/src/gamma/__init__.py")
    commit_all(repo, "change gamma")
    sid = str(next(_ids))
    run = monorepo(repo, "snapshot", "--snapshot-id", sid, "--affected-since", "HEAD~1", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "published as well (never published at their base version): alpha, beta" in run.stderr
    assert set(_versions(empty_pypiserver)) == {"alpha", "beta", "gamma"}  # not delta


# --------------------------------------------------------------------------- gitlab-ci-local


@pytest.fixture(scope="session")
def gitlab_ci_local() -> str:
    """gitlab-ci-local 4.70.0, installed by the repository's provisioning script if missing."""
    out = subprocess.run(["bash", str(PROVISION)], capture_output=True, text=True, timeout=900)
    tool = shutil.which("gitlab-ci-local")
    if out.returncode != 0 or tool is None:
        message = f"gitlab-ci-local could not be provisioned ({PROVISION}): {out.stderr[-2000:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        print(message)
        pytest.skip(message)
    return tool


def _run_pipeline(
    tool: str, repo: Path, tmp_path: Path, child: str, variables: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    # The jobs of the shell executor inherit this environment, as a runner's jobs get CI/CD
    # variables (a value that names an existing path would become a file variable in a
    # variables file, and a folder crashes gitlab-ci-local 4.70).
    return subprocess.run(
        [tool, "--file", child, "--force-shell-executor", "--shell-isolation",
         "--home", str(tmp_path / "glci-home"), "--no-color", "--concurrency", "4"],
        cwd=repo, capture_output=True, text=True, env=_clean_env(**variables), timeout=900,
    )  # fmt: skip


def test_generated_child_pipeline_runs_in_gitlab_ci_local_at_the_parents_id(
    gitlab_ci_local: str, repo: Path, tmp_path: Path, empty_pypiserver: Any, build_env_dir: Path
) -> None:
    parent_id = str(next(_ids))
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "monorepo").write_text(
        f'#!/bin/sh\nexport PYTHONPATH="{REPO}"\nexec "{sys.executable}" -m monorepo_tools "$@"\n'
    )
    (shim / "monorepo").chmod(0o755)
    append(repo / "packages/beta/src/beta/__init__.py")
    commit_all(repo, "change beta")
    # The parent pipeline's generator job: its CI_PIPELINE_ID is the snapshot id.
    generate = monorepo(
        repo, "ci", "gitlab", "--since", "HEAD~1", "--snapshot", "-o", str(repo / "child.yml"),
        "--install", f'export PATH="{shim}:$PATH"',
        "--test-command", 'echo "testing {name} in pipeline $CI_PIPELINE_ID"',
        env=_clean_env(CI_PIPELINE_ID=parent_id, GITLAB_CI="true"),
    )  # fmt: skip
    assert generate.returncode == 0, generate.stderr
    variables = _registry_env(empty_pypiserver, build_env_dir)
    variables["PIP_CONFIG_FILE"] = os.devnull
    run = _run_pipeline(gitlab_ci_local, repo, tmp_path, "child.yml", variables)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    for job in ("test:beta", "test:gamma", *(f"build:{n}" for n in PUBLISHABLE),
                *(f"upload:{n}" for n in PUBLISHABLE), "verify:snapshot"):  # fmt: skip
        assert re.search(rf"PASS\s+{re.escape(job)}\b", output), f"{job} did not pass"
    assert not re.search(r"test:(alpha|delta|tool-internal)\b", output)  # not affected

    # The child has its own CI_PIPELINE_ID ...
    child_ids = set(re.findall(r"testing \S+ in pipeline (\d+)", output))
    assert child_ids and parent_id not in child_ids
    # ... yet every package landed at the parent's id, in dependency order.
    assert _versions(empty_pypiserver) == {
        "alpha": {f"1.0.0.dev{parent_id}"},
        "beta": {f"0.2.0.dev{parent_id}"},
        "delta": {f"0.0.1.dev{parent_id}"},
        "gamma": {f"2.0.0.dev{parent_id}"},
    }
    uploaded = {
        p.name.split("-")[0]: p.stat().st_mtime_ns
        for p in empty_pypiserver.packages_dir.rglob("*.whl")
    }
    assert uploaded["alpha"] < uploaded["beta"] < uploaded["gamma"]
    assert "install check passed" in output or "install ok" in output
    assert empty_pypiserver.password not in output


def test_shipped_gitlab_ci_is_valid_for_a_gitlab_runner(
    gitlab_ci_local: str, tmp_path: Path
) -> None:
    """The shipped .gitlab-ci.yml passes gitlab-ci-local's schema validation and job listing."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    shutil.copy(REPO / ".gitlab-ci.yml", project / ".gitlab-ci.yml")
    init_repo(project)
    git(project, "remote", "add", "origin", "https://gitlab.example.com/platform/monorepo.git")
    listed = subprocess.run(
        [gitlab_ci_local, "--list-all", "--home", str(tmp_path / "glci-home"), "--no-color"],
        cwd=project, capture_output=True, text=True, env=_clean_env(), timeout=300,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stdout + listed.stderr
    for job in (
        "monorepo-check",
        "fan-out:merge-request",
        "run:merge-request",
        "fan-out:main",
        "run:main",
    ):
        assert job in listed.stdout
