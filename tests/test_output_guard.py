"""Item 5 of issue 8: ``--output`` never replaces a source file, and never creates folders.

For check, graph, plan (``--output``) and snapshot (``--summary-json``); ``--force`` lets a user
write where they really mean to.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import Run


def git_repo(root: Path) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@e.org", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


@pytest.mark.parametrize("command", [["check"], ["graph"], ["plan", "--snapshot-id", "5"]])
def test_a_tracked_file_is_refused_and_left_untouched(
    cli: Callable[..., Run], fixture_repo: Callable[[str], Path], command: list[str]
) -> None:
    root = fixture_repo("clean")
    git_repo(root)
    readme = root / "README.md"
    readme.write_text("tracked\n")
    subprocess.run(["git", "-C", str(root), "add", "README.md"], check=True)
    result = cli(*command, "--root", str(root), "--output", str(readme))
    assert result.code == 2
    assert "git tracks" in result.err and "--force" in result.err
    assert readme.read_text() == "tracked\n"


def test_a_file_inside_a_package_folder_is_refused_even_untracked(
    cli: Callable[..., Run], fixture_repo: Callable[[str], Path]
) -> None:
    root = fixture_repo("clean")
    package = next(p.parent for p in root.glob("*/*/pyproject.toml"))
    target = package / "pyproject.toml"
    before = target.read_bytes()
    result = cli("check", "--root", str(root), "-o", str(target))
    assert result.code == 2 and "inside the package folder" in result.err
    assert target.read_bytes() == before
    fresh = package / "report.json"
    assert cli("check", "--root", str(root), "-o", str(fresh)).code == 2
    assert not fresh.exists()
    # --force: the user means it
    assert cli("check", "--root", str(root), "-o", str(fresh), "--force").code == 0
    assert fresh.exists()


def test_a_missing_parent_folder_is_a_usage_error_and_nothing_is_created(
    cli: Callable[..., Run], fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    root = fixture_repo("clean")
    target = tmp_path / "no" / "such" / "report.txt"
    result = cli("graph", "--root", str(root), "--output", str(target))
    assert result.code == 2 and "does not exist" in result.err
    assert not (tmp_path / "no").exists()


def test_a_report_next_to_the_root_pyproject_is_fine(
    cli: Callable[..., Run], fixture_repo: Callable[[str], Path]
) -> None:
    root = fixture_repo("clean")
    assert cli("check", "--root", str(root), "-o", str(root / "check-report.txt")).code == 0


def test_snapshot_summary_json_is_guarded_before_anything_is_built(
    cli: Callable[..., Run], fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    root = fixture_repo("clean")
    package = next(p.parent for p in root.glob("*/*/pyproject.toml"))
    result = cli("snapshot", "--root", str(root), "--dry-run", "--summary-json",
                 str(package / "pyproject.toml"))  # fmt: skip
    assert result.code == 2 and "--summary-json" in result.err
    assert not (root / ".monorepo" / "dist").exists()  # refused before any build
    missing = cli("snapshot", "--root", str(root), "--dry-run", "--summary-json",
                  str(tmp_path / "nope" / "s.json"))  # fmt: skip
    assert missing.code == 2 and "does not exist" in missing.err
