"""``monorepo ci gitlab|github``: the generated child pipeline and matrix, and the shipped templates.

The generated pipeline is also *run* by a real GitLab runner stand-in (gitlab-ci-local) in
``tests/publish/test_ci_pipeline_e2e.py``; here its structure is checked (parsed as YAML).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from engine_helpers import REPO, Run, pyproject, write_monorepo
from gitrepo import append, commit_all, init_repo

Cli = Callable[..., Run]

# snapshot-repo: beta -> alpha, gamma -> beta + alpha, tool-internal (internal) -> alpha, delta.
PUBLISHABLE = {"alpha", "beta", "delta", "gamma"}


@pytest.fixture(autouse=True)
def _parent_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MONOREPO_SNAPSHOT_ID", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI_PIPELINE_ID", "4242")  # the PARENT pipeline's id


@pytest.fixture
def repo(fixture_repo: Callable[[str], Path]) -> Path:
    return init_repo(fixture_repo("snapshot-repo"))


def _child(cli: Cli, root: Path, tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "child.yml"
    run = cli("ci", "gitlab", "--root", str(root), "-o", str(out), *args)
    assert run.code == 0, run.err
    document: dict[str, Any] = yaml.safe_load(out.read_text(encoding="utf-8"))
    return document


def _jobs(document: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k.split(":", 1)[1]: v for k, v in document.items() if k.startswith(prefix + ":")}


def test_gitlab_child_tests_every_package_without_since(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    child = _child(cli, repo, tmp_path)
    tests = _jobs(child, "test")
    assert set(tests) == PUBLISHABLE | {"tool-internal"}
    for name, job in tests.items():
        assert job["needs"] == [] and job["stage"] == "test"
        assert job["script"] == [
            f'python -m pip install "nox>=2025.2.9" && python -m nox -s "test-{name}"'
        ]
    assert not _jobs(child, "build") and not _jobs(child, "upload")
    assert child["default"]["before_script"][-1] == (
        'python -m pip install --quiet "$MONOREPO_TOOLS_REQUIREMENT"'
    )
    assert child["variables"]["MONOREPO_TOOLS_REQUIREMENT"] == "."


def test_gitlab_child_tests_only_affected_packages(cli: Cli, repo: Path, tmp_path: Path) -> None:
    append(repo / "packages/beta/src/beta/__init__.py")
    commit_all(repo, "beta")
    child = _child(cli, repo, tmp_path, "--since", "HEAD~1")
    assert set(_jobs(child, "test")) == {"beta", "gamma"}


def test_gitlab_child_with_nothing_affected_is_still_a_valid_pipeline(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    append(repo / "docs/readme.md")
    commit_all(repo, "docs only")
    child = _child(cli, repo, tmp_path, "--since", "HEAD~1")
    assert not _jobs(child, "test")
    assert child["nothing-affected"]["script"] == [
        "echo 'no package is affected since HEAD~1: nothing to test'"
    ]


def test_gitlab_snapshot_builds_in_parallel_and_uploads_in_dependency_order(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    child = _child(cli, repo, tmp_path, "--snapshot")
    # Every package lands at the parent's id: fixed in the child, whose CI_PIPELINE_ID differs.
    assert child["variables"]["MONOREPO_SNAPSHOT_ID"] == "4242"
    builds, uploads = _jobs(child, "build"), _jobs(child, "upload")
    assert set(builds) == set(uploads) == PUBLISHABLE  # never the internal package
    for name, job in builds.items():
        assert job["needs"] == []
        assert job["artifacts"]["paths"] == [f"dists/{name}/"]
        assert job["script"] == [
            f'monorepo snapshot --build-only --package {name} --snapshot-id "$MONOREPO_SNAPSHOT_ID" --dists dists/{name}'
        ]
    needs = {
        name: {(n["job"], n["artifacts"]) for n in job["needs"]} for name, job in uploads.items()
    }
    assert needs == {
        "alpha": {("build:alpha", True)},
        "delta": {("build:delta", True)},
        "beta": {("build:beta", True), ("upload:alpha", False)},
        "gamma": {("build:gamma", True), ("upload:alpha", False), ("upload:beta", False)},
    }
    assert uploads["gamma"]["script"] == [
        'monorepo snapshot --upload-only --package gamma --snapshot-id "$MONOREPO_SNAPSHOT_ID" --dists dists/gamma'
    ]


def test_gitlab_snapshot_id_option_wins(cli: Cli, repo: Path, tmp_path: Path) -> None:
    child = _child(cli, repo, tmp_path, "--snapshot", "--snapshot-id", "77")
    assert child["variables"]["MONOREPO_SNAPSHOT_ID"] == "77"


def test_gitlab_options_for_image_install_requirement_and_test_command(
    cli: Cli, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requirement = (
        "monorepo-tools @ git+https://gitlab.example.com/platform/monorepo-tools.git@v0.1.0"
    )
    monkeypatch.setenv("MONOREPO_TOOLS_REQUIREMENT", requirement)
    child = _child(
        cli,
        repo,
        tmp_path,
        "--image",
        "registry.example.com/python:3.12",
        "--test-command",
        "pytest {path}/tests",
    )
    assert child["variables"]["MONOREPO_TOOLS_REQUIREMENT"] == requirement
    assert child["default"]["image"] == "registry.example.com/python:3.12"
    assert _jobs(child, "test")["alpha"]["script"] == ["pytest packages/alpha/tests"]
    child = _child(cli, repo, tmp_path, "--install", "pip install -e .", "--tool-requirement", "x")
    assert child["default"]["before_script"] == ["pip install -e ."]
    assert child["variables"]["MONOREPO_TOOLS_REQUIREMENT"] == "x"


def test_github_matrix_json(cli: Cli, repo: Path) -> None:
    append(repo / "packages/alpha/src/alpha/__init__.py")
    commit_all(repo, "alpha")
    run = cli("ci", "github", "--root", str(repo), "--since", "HEAD~1", "--snapshot")
    assert run.code == 0, run.err
    assert run.out.count("\n") == 1  # one line, for $GITHUB_OUTPUT
    matrix = json.loads(run.out)
    assert [e["package"] for e in matrix["test"]["include"]] == [
        "alpha",
        "beta",
        "gamma",
        "tool-internal",
    ]
    assert matrix["test"]["include"][0] == {
        "package": "alpha",
        "path": "packages/alpha",
        "command": 'python -m pip install "nox>=2025.2.9" && python -m nox -s "test-alpha"',
    }
    assert matrix["test_count"] == 4 and matrix["build_count"] == 4
    assert matrix["snapshot_id"] == 4242
    assert {e["package"]: e["version"] for e in matrix["build"]["include"]} == {
        "alpha": "1.0.0.dev4242",
        "beta": "0.2.0.dev4242",
        "delta": "0.0.1.dev4242",
        "gamma": "2.0.0.dev4242",
    }
    order = matrix["upload_order"]
    assert order.index("alpha") < order.index("beta") < order.index("gamma")


def test_github_matrix_without_snapshot_has_no_builds(cli: Cli, repo: Path) -> None:
    matrix = json.loads(cli("ci", "github", "--root", str(repo)).out)
    assert matrix["build"] == {"include": []} and matrix["build_count"] == 0
    assert matrix["snapshot_id"] is None and matrix["test_count"] == 5


def test_ci_snapshot_refuses_a_workspace_with_findings(cli: Cli, tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "bad",
        {"helper": pyproject("helper"), "app": pyproject("app", "stable", deps=["helper"])},
    )
    init_repo(root)
    run = cli("ci", "gitlab", "--root", str(root), "--snapshot", "-o", str(tmp_path / "c.yml"))
    assert run.code == 1
    assert "findings that block publishing" in run.err
    assert not (tmp_path / "c.yml").exists()


def test_ci_with_an_unknown_ref_is_a_usage_error(cli: Cli, repo: Path) -> None:
    run = cli("ci", "github", "--root", str(repo), "--since", "nope")
    assert run.code == 2 and "does not name a commit" in run.err


# --------------------------------------------------------------------------- shipped templates


def test_shipped_gitlab_ci_generates_and_triggers_the_child_pipeline() -> None:
    config = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    generators = {
        name: job
        for name, job in config.items()
        if isinstance(job, dict)
        and any("monorepo ci gitlab" in line for line in job.get("script", []))
    }
    assert generators, "no job runs `monorepo ci gitlab`"
    triggers = {
        name: job
        for name, job in config.items()
        if isinstance(job, dict) and isinstance(job.get("trigger"), dict)
    }
    assert triggers
    for job in triggers.values():
        (include,) = job["trigger"]["include"]
        assert include["job"] in generators
        generator = generators[include["job"]]
        assert include["artifact"] in generator["artifacts"]["paths"]
        assert any(f"-o {include['artifact']}" in line for line in generator["script"])
        assert job["trigger"].get("strategy") == "depend"  # the parent fails with its child
    # The tool is installed the way another repository can (issue 11): a variable says how.
    assert "MONOREPO_TOOLS_REQUIREMENT" in config["variables"]
    text = (REPO / ".gitlab-ci.yml").read_text(encoding="utf-8")
    assert "pip install monorepo-tools\n" not in text and "git+https://" in text


def test_shipped_github_workflows_use_the_matrix() -> None:
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    texts = {p.name: p.read_text(encoding="utf-8") for p in workflows}
    using = [name for name, text in texts.items() if "monorepo ci github" in text]
    assert using, "no workflow runs `monorepo ci github`"
    for name in using:
        workflow = yaml.safe_load(texts[name])
        matrices = [
            job["strategy"]["matrix"]
            for job in workflow["jobs"].values()
            if "strategy" in job and isinstance(job["strategy"].get("matrix"), str)
        ]
        assert matrices and all("fromJSON(" in m for m in matrices), name
    for text in texts.values():
        assert "pip install monorepo-tools\n" not in text
