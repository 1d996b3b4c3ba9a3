"""Items 1 and 2 of issue 8, end to end: nothing untracked ships, no credential reaches a
build backend. Real git, real builds (hatchling, an in-tree backend, a hatch build hook), the
real CLI in a subprocess, and a real pypiserver for the upload run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import tool_env

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "snapshot-repo"
SECRET_FILES = {".env": "API_KEY=leaked-env-value\n", "id_rsa": "-----BEGIN KEY-----\nleaked\n"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def build_env_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build-envs-security")


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"},
    )


def git_repo(root: Path) -> Path:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "init")
    return root


def snapshot(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monorepo_tools", "snapshot", "--root", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def sdist_members(root: Path, snapshot_id: str, name: str) -> list[str]:
    (sdist,) = (root / ".monorepo" / "dist" / snapshot_id).glob(f"{name}-*.tar.gz")
    with tarfile.open(sdist) as archive:
        return archive.getnames()


def wheel_members(root: Path, snapshot_id: str, name: str) -> list[str]:
    (wheel,) = (root / ".monorepo" / "dist" / snapshot_id).glob(f"{name}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "monorepo"
    shutil.copytree(FIXTURE, root)
    return root


# --------------------------------------------------------------------------- item 1


def test_in_git_untracked_files_never_ship_and_an_untracked_package_is_refused(
    repo: Path, build_env_dir: Path
) -> None:
    git_repo(repo)
    for name, text in SECRET_FILES.items():  # untracked, next to tracked files
        (repo / "packages" / "alpha" / name).write_text(text)
        (repo / "packages" / "alpha" / "src" / "alpha" / name).write_text(text)
    new = repo / "packages" / "epsilon"
    shutil.copytree(repo / "packages" / "delta", new)
    pyproject = new / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("delta", "epsilon"))
    (new / "src" / "delta").rename(new / "src" / "epsilon")
    (new / ".env").write_text("TOKEN=also-leaked\n")
    done = snapshot(repo, tool_env(build_env_dir), "--dry-run", "--snapshot-id", "11")
    assert done.returncode == 1, done.stderr
    assert "untracked-package" in done.stdout and "packages/epsilon" in done.stdout
    assert "git add packages/epsilon" in done.stdout
    names = sdist_members(repo, "11", "alpha") + wheel_members(repo, "11", "alpha")
    assert names and not [n for n in names if n.rsplit("/", 1)[-1] in SECRET_FILES]
    assert not list((repo / ".monorepo" / "dist" / "11").glob("epsilon-*"))
    assert "not a git checkout" not in done.stderr


def test_outside_git_the_exclusions_apply_and_the_warning_is_loud(
    repo: Path, build_env_dir: Path
) -> None:
    for name, text in {
        **SECRET_FILES,
        ".netrc": "machine x\n",
        "tls.pem": "x",
        ".pypirc": "",
    }.items():
        (repo / "packages" / "alpha" / "src" / "alpha" / name).write_text(text)
    done = snapshot(repo, tool_env(build_env_dir), "--dry-run", "--snapshot-id", "12")
    assert done.returncode == 0, done.stderr
    assert "WARNING" in done.stderr and "not a git checkout" in done.stderr
    names = [n.rsplit("/", 1)[-1] for n in sdist_members(repo, "12", "alpha")]
    assert "__init__.py" in names
    assert not {".env", "id_rsa", ".netrc", "tls.pem", ".pypirc"} & set(names)


def test_a_tracked_symlink_out_of_the_package_is_refused(repo: Path, build_env_dir: Path) -> None:
    outside = repo.parent / "home-secret"
    outside.write_text("ssh key\n")
    (repo / "packages" / "alpha" / "src" / "alpha" / "key").symlink_to(outside)
    git_repo(repo)
    done = snapshot(repo, tool_env(build_env_dir), "--dry-run", "--snapshot-id", "13")
    assert done.returncode == 1
    assert "symlink leading out of the package folder" in done.stdout
    assert not list((repo / ".monorepo" / "dist" / "13").glob("alpha-*"))


# --------------------------------------------------------------------------- item 2

ENV_DUMP_BACKEND = """\
import json, os
from hatchling.build import *  # noqa: F403
from hatchling.build import build_sdist as _sdist, build_wheel as _wheel

def _dump(hook):
    with open({dump!r}, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({{"hook": hook, "env": dict(os.environ)}}) + "\\n")

def build_sdist(directory, config_settings=None):
    _dump("sdist")
    return _sdist(directory, config_settings)

def build_wheel(directory, config_settings=None, metadata_directory=None):
    _dump("wheel")
    return _wheel(directory, config_settings, metadata_directory)
"""

HATCH_HOOK = """\
import json, os
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        with open({dump!r}, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({{"hook": "hatch", "env": dict(os.environ)}}) + "\\n")
"""


def test_no_credential_in_any_form_reaches_a_build_backend(
    repo: Path, build_env_dir: Path, pypiserver: Any, tmp_path: Path
) -> None:
    dump = tmp_path / "backend-env.jsonl"
    alpha = repo / "packages" / "alpha"
    (alpha / "_backend").mkdir()
    (alpha / "_backend" / "envdump.py").write_text(ENV_DUMP_BACKEND.format(dump=str(dump)))
    text = (alpha / "pyproject.toml").read_text()
    text = text.replace(
        'build-backend = "hatchling.build"',
        'build-backend = "envdump"\nbackend-path = ["_backend"]',
    )
    (alpha / "pyproject.toml").write_text(text)
    delta = repo / "packages" / "delta"  # hatchling in a pooled worker, with a build hook
    (delta / "hatch_build.py").write_text(HATCH_HOOK.format(dump=str(dump)))
    (delta / "pyproject.toml").write_text(
        (delta / "pyproject.toml").read_text() + "\n[tool.hatch.build.hooks.custom]\n"
    )
    git_repo(repo)
    password = pypiserver.password
    secrets = {
        password,
        "job-token-value-123",
        "gitlab-password-456",
        "twine-password-789",
        "proxy-pass-000",
        "api-key-999",
    }
    host = f"{pypiserver.host}:{pypiserver.port}"
    env = tool_env(
        build_env_dir,
        MONOREPO_REPOSITORY_URL=f"http://{pypiserver.username}:{password}@{host}/",
        MONOREPO_INDEX_URL=f"http://{pypiserver.username}:{password}@{host}/simple/",
        CI_JOB_TOKEN="job-token-value-123",
        DEPLOY_PASSWORD="gitlab-password-456",
        TWINE_PASSWORD="twine-password-789",
        HTTPS_PROXY="http://user:proxy-pass-000@proxy.invalid:3128",
        NO_PROXY="*",  # the installer honours the proxy settings; here it may bypass it
        SOME_SERVICE_API_KEY="api-key-999",
        SETUPTOOLS_SCM_TOKEN="api-key-999",
        SOURCE_DATE_EPOCH="1700000000",
    )
    done = snapshot(repo, env, "--snapshot-id", "14")
    assert done.returncode == 0, done.stdout + done.stderr
    records = [json.loads(line) for line in dump.read_text().splitlines()]
    assert {r["hook"] for r in records} == {"sdist", "wheel", "hatch"}
    for record in records:
        blob = json.dumps(record["env"])
        leaked = [s for s in secrets if s in blob]
        assert leaked == [], f"{record['hook']} saw {leaked}"
        for name in ("MONOREPO_REPOSITORY_URL", "MONOREPO_INDEX_URL", "CI_JOB_TOKEN",
                     "DEPLOY_PASSWORD", "HTTPS_PROXY", "PYTHONPATH"):  # fmt: skip
            assert name not in record["env"]
        # what a backend needs is there: the build env's bin first on PATH, reproducibility
        first = record["env"]["PATH"].split(os.pathsep)[0]
        assert Path(first, "python").exists() and str(build_env_dir) in first
        assert record["env"]["SOURCE_DATE_EPOCH"] == "1700000000"
    for secret in secrets:
        assert secret not in done.stdout + done.stderr
