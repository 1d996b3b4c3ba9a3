"""``monorepo affected`` and ``check``/``graph --affected-since`` on real git repositories.

The fixture ``snapshot-repo``: beta -> alpha, gamma -> beta, alpha (runtime and an extra),
gamma -> tool-internal (dev), tool-internal -> alpha; delta stands alone.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import Run, pyproject, write_monorepo
from gitrepo import append, commit_all, git, init_repo

Cli = Callable[..., Run]


@pytest.fixture
def repo(fixture_repo: Callable[[str], Path]) -> Path:
    return init_repo(fixture_repo("snapshot-repo"))


def _affected(cli: Cli, root: Path, *args: str) -> dict[str, object]:
    run = cli("affected", "--root", str(root), "--format", "json", *args)
    assert run.code == 0, run.err
    document: dict[str, object] = json.loads(run.out)
    return document


def _reasons(document: dict[str, object]) -> dict[str, tuple[str, object]]:
    packages = document["packages"]
    assert isinstance(packages, list)
    return {
        p["name"]: (
            p["reason"],
            p["through"] if p["reason"] != "changed" and p["reason"] != "global" else p["files"],
        )
        for p in packages
    }


def test_changed_package_and_transitive_dependents_with_why(cli: Cli, repo: Path) -> None:
    append(repo / "packages/alpha/src/alpha/__init__.py")
    commit_all(repo, "change alpha")
    reasons = _reasons(_affected(cli, repo, "--since", "HEAD~1"))
    assert reasons == {
        "alpha": ("changed", ["packages/alpha/src/alpha/__init__.py"]),
        "beta": ("dependency", "alpha"),
        "gamma": ("dependency", "alpha"),
        "tool-internal": ("dependency", "alpha"),
    }
    text = cli("affected", "--root", str(repo), "--since", "HEAD~1")
    assert text.code == 0
    assert "4 of 5 packages affected since HEAD~1" in text.out
    assert "beta           packages/beta           depends on alpha (runtime)" in text.out
    assert "delta" not in text.out


def test_transitive_reason_names_the_nearest_dependency(cli: Cli, tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "chain",
        {
            "a": pyproject("a"),
            "b": pyproject("b", deps=["a"]),
            "c": pyproject("c", deps=["b"]),
            "d": pyproject("d", deps=["c"]),
        },
    )
    init_repo(root)
    append(root / "packages/a/README.md")
    commit_all(root, "a")
    document = _affected(cli, root, "--since", "HEAD~1")
    packages = document["packages"]
    assert isinstance(packages, list)
    assert [(p["name"], p["depth"], p["through"]) for p in packages] == [
        ("a", 0, None),
        ("b", 1, "a"),
        ("c", 2, "b"),
        ("d", 3, "c"),
    ]


def test_merge_base_semantics_ignore_what_the_base_branch_gained(cli: Cli, repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    append(repo / "packages/beta/src/beta/__init__.py")
    commit_all(repo, "feature changes beta")
    git(repo, "checkout", "-q", "main")
    append(repo / "packages/delta/src/delta/__init__.py")
    commit_all(repo, "main changes delta meanwhile")
    git(repo, "checkout", "-q", "feature")
    reasons = _reasons(_affected(cli, repo, "--since", "main"))
    assert set(reasons) == {"beta", "gamma"}  # not delta: main changed it, not this branch
    assert reasons["gamma"] == ("dependency", "beta")


def test_dev_edges_count_by_default_and_kinds_narrow(cli: Cli, repo: Path) -> None:
    append(repo / "packages/tool-internal/src/tool_internal/__init__.py")
    commit_all(repo, "change the internal test helper")
    default = _reasons(_affected(cli, repo, "--since", "HEAD~1"))
    assert default == {
        "tool-internal": ("changed", ["packages/tool-internal/src/tool_internal/__init__.py"]),
        "gamma": ("dependency", "tool-internal"),
    }
    document = _affected(cli, repo, "--since", "HEAD~1", "--kinds", "runtime,optional")
    assert set(_reasons(document)) == {"tool-internal"}
    assert document["kinds"] == ["runtime", "optional"]


def test_bad_kinds_is_a_usage_error(cli: Cli, repo: Path) -> None:
    run = cli("affected", "--root", str(repo), "--since", "HEAD", "--kinds", "runtime,build")
    assert run.code == 2
    assert "--kinds 'runtime,build'" in run.err and "runtime, optional, dev" in run.err


@pytest.mark.parametrize("path", ["pyproject.toml", "noxfile.py", "tools/lint/settings.cfg"])
def test_global_files_affect_every_package(cli: Cli, repo: Path, path: str) -> None:
    root_toml = repo / "pyproject.toml"
    root_toml.write_text(
        root_toml.read_text(encoding="utf-8") + 'global-files = ["tools/**"]\n', encoding="utf-8"
    )
    commit_all(repo, "declare global files")
    append(repo / path)
    commit_all(repo, f"change {path}")
    document = _affected(cli, repo, "--since", "HEAD~1")
    assert document["global_files"] == [path]
    reasons = _reasons(document)
    assert set(reasons) == {"alpha", "beta", "delta", "gamma", "tool-internal"}
    assert {r for r, _ in reasons.values()} == {"global"}


def test_files_outside_packages_affect_nothing(cli: Cli, repo: Path) -> None:
    append(repo / "docs/guide.md")
    append(repo / "tools/helper.py")  # not global: no global-files setting
    commit_all(repo, "docs")
    document = _affected(cli, repo, "--since", "HEAD~1")
    assert document["packages"] == []
    assert document["unowned_files"] == ["docs/guide.md", "tools/helper.py"]
    text = cli("affected", "--root", str(repo), "--since", "HEAD~1")
    assert "0 of 5 packages affected" in text.out
    assert "changed outside any package (affects none): docs/guide.md" in text.out


def test_bad_global_files_setting_is_a_configuration_error(cli: Cli, repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[tool.monorepo]\npackages = ["packages/*"]\nglobal-files = "tools/**"\n', encoding="utf-8"
    )
    run = cli("affected", "--root", str(repo), "--since", "HEAD")
    assert run.code == 2
    assert "[tool.monorepo].global-files must be a list" in run.err and "fix:" in run.err


def test_include_uncommitted_adds_the_working_tree(cli: Cli, repo: Path) -> None:
    append(repo / "packages/delta/src/delta/__init__.py")  # modified, not committed
    append(repo / "packages/alpha/new_module.py")  # untracked
    assert _affected(cli, repo, "--since", "HEAD")["packages"] == []
    reasons = _reasons(_affected(cli, repo, "--since", "HEAD", "--include-uncommitted"))
    assert reasons["delta"] == ("changed", ["packages/delta/src/delta/__init__.py"])
    assert reasons["alpha"] == ("changed", ["packages/alpha/new_module.py"])
    assert set(reasons) == {"alpha", "beta", "delta", "gamma", "tool-internal"}


def test_ignored_untracked_files_do_not_count(cli: Cli, repo: Path) -> None:
    (repo / ".gitignore").write_text("*.log\n", encoding="utf-8")
    commit_all(repo, "ignore logs")
    append(repo / "packages/delta/run.log")
    assert _affected(cli, repo, "--since", "HEAD", "--include-uncommitted")["packages"] == []


def test_deleted_package_folder_is_reported_and_its_users_are_affected(
    cli: Cli, repo: Path
) -> None:
    shutil.rmtree(repo / "packages/tool-internal")
    commit_all(repo, "remove tool-internal")
    document = _affected(cli, repo, "--since", "HEAD~1")
    assert document["removed"] == [
        {"path": "packages/tool-internal", "name": "tool-internal", "moved_to": None}
    ]
    # gamma still names it (dev group): it is affected, never silently dropped.
    assert _reasons(document) == {"gamma": ("removed-dependency", "tool-internal")}
    text = cli("affected", "--root", str(repo), "--since", "HEAD~1").out
    assert "removed: packages/tool-internal (tool-internal no longer exists)" in text
    assert "depends on tool-internal, which was removed (dev)" in text


def test_renamed_package_folder_is_the_package_at_its_new_place(cli: Cli, repo: Path) -> None:
    git(repo, "mv", "packages/delta", "packages/delta-renamed")
    commit_all(repo, "move delta")
    document = _affected(cli, repo, "--since", "HEAD~1")
    assert document["removed"] == [
        {"path": "packages/delta", "name": "delta", "moved_to": "packages/delta-renamed"}
    ]
    packages = document["packages"]
    assert isinstance(packages, list)
    assert [(p["name"], p["path"], p["reason"]) for p in packages] == [
        ("delta", "packages/delta-renamed", "changed")
    ]


def test_unknown_ref_is_a_usage_error(cli: Cli, repo: Path) -> None:
    run = cli("affected", "--root", str(repo), "--since", "no-such-branch")
    assert run.code == 2
    assert "--since 'no-such-branch' does not name a commit" in run.err
    assert "Traceback" not in run.err


def test_not_a_git_repository_is_a_usage_error(
    cli: Cli, fixture_repo: Callable[[str], Path]
) -> None:
    root = fixture_repo("clean")
    run = cli("affected", "--root", str(root), "--since", "main")
    assert run.code == 2
    assert "not inside a git repository" in run.err


def _origin_with_branches(tmp_path: Path, fixture_repo: Callable[[str], Path]) -> Path:
    origin = init_repo(fixture_repo("snapshot-repo"))
    git(origin, "checkout", "-q", "-b", "feature")
    append(origin / "packages/beta/src/beta/__init__.py")
    commit_all(origin, "feature")
    git(origin, "checkout", "-q", "main")
    for i in range(3):
        append(origin / "packages/delta/src/delta/__init__.py", f"# {i}\n")
        commit_all(origin, f"main {i}")
    return origin


def test_shallow_clone_without_ref_says_how_to_deepen(
    cli: Cli, tmp_path: Path, fixture_repo: Callable[[str], Path]
) -> None:
    origin = _origin_with_branches(tmp_path, fixture_repo)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "main", origin.as_uri(), str(clone))
    run = cli("affected", "--root", str(clone), "--since", "origin/feature")
    assert run.code == 2
    assert "not found in this shallow clone" in run.err
    assert "git fetch --deepen" in run.err and "--unshallow" in run.err


def test_shallow_clone_missing_the_merge_base_says_how_to_deepen(
    cli: Cli, tmp_path: Path, fixture_repo: Callable[[str], Path]
) -> None:
    origin = _origin_with_branches(tmp_path, fixture_repo)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", origin.as_uri(), str(clone))
    run = cli("affected", "--root", str(clone), "--since", "origin/feature")
    assert run.code == 2
    assert "does not reach the merge base" in run.err and "git fetch --deepen" in run.err
    # Deepened, the same question gets the right answer.
    git(clone, "fetch", "-q", "--unshallow")
    assert set(_reasons(_affected(cli, clone, "--since", "origin/feature"))) == {"delta"}


def test_check_affected_since_keeps_only_the_findings_of_affected_packages(
    cli: Cli, tmp_path: Path
) -> None:
    root = write_monorepo(
        tmp_path / "m",
        {
            "helper": pyproject("helper"),  # internal
            "app": pyproject("app", "stable", deps=["helper"]),  # finding: internal dependency
            "lib": pyproject("lib", "stable", version="not-a-version"),  # finding: version
            "other": pyproject("other", "stable"),
        },
    )
    init_repo(root)
    full = cli("check", "--root", str(root), "--format", "json")
    assert full.code == 1
    assert {f["package"] for f in json.loads(full.out)["violations"]} == {"app", "lib"}

    append(root / "packages/lib/README.md")
    commit_all(root, "lib")
    only = cli("check", "--root", str(root), "--format", "json", "--affected-since", "HEAD~1")
    assert only.code == 1
    assert {f["package"] for f in json.loads(only.out)["violations"]} == {"lib"}
    assert "1 of 4 packages affected since HEAD~1" in only.err

    append(root / "packages/other/README.md")
    commit_all(root, "other")
    clean = cli("check", "--root", str(root), "--affected-since", "HEAD~1")
    assert clean.code == 0, clean.out

    # A change to the internal helper affects app (its dependent): app's finding is back.
    append(root / "packages/helper/README.md")
    commit_all(root, "helper")
    again = cli("check", "--root", str(root), "--format", "json", "--affected-since", "HEAD~1")
    assert {f["package"] for f in json.loads(again.out)["violations"]} == {"app"}


def test_check_affected_since_with_a_bad_ref_is_a_usage_error(cli: Cli, repo: Path) -> None:
    run = cli("check", "--root", str(repo), "--affected-since", "nope")
    assert run.code == 2 and "does not name a commit" in run.err


def test_graph_affected_since_marks_the_affected_set(cli: Cli, repo: Path) -> None:
    append(repo / "packages/beta/src/beta/__init__.py")
    commit_all(repo, "beta")
    run = cli("graph", "--root", str(repo), "--format", "json", "--affected-since", "HEAD~1")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    assert document["affected"] == ["beta", "gamma"]
    assert {n["name"]: n["affected"] for n in document["nodes"]} == {
        "alpha": False,
        "beta": True,
        "delta": False,
        "gamma": True,
        "tool-internal": False,
    }
    text = cli("graph", "--root", str(repo), "--affected-since", "HEAD~1").out
    beta_line = next(line for line in text.splitlines() if line.strip().startswith("beta "))
    alpha_line = next(line for line in text.splitlines() if line.strip().startswith("alpha "))
    assert "(affected)" in beta_line and "affected" not in alpha_line
    assert "2 affected (marked)" in text
    # Without the option the views are unchanged (no affected key at all).
    plain = json.loads(cli("graph", "--root", str(repo), "--format", "json").out)
    assert "affected" not in plain and "affected" not in plain["nodes"][0]


def test_affected_never_modifies_the_working_tree(
    cli: Cli, repo: Path, unchanged_tree: Callable[[Path], Callable[[], None]]
) -> None:
    append(repo / "packages/alpha/src/alpha/__init__.py")
    verify = unchanged_tree(repo)
    status = git(repo, "status", "--porcelain")
    for args in (
        ("affected", "--since", "HEAD", "--include-uncommitted"),
        ("check", "--affected-since", "HEAD"),
        ("graph", "--affected-since", "HEAD"),
    ):
        assert cli(*args[:1], "--root", str(repo), *args[1:]).code in (0, 1)
    verify()
    assert git(repo, "status", "--porcelain") == status


def test_output_cache_never_serves_a_stale_answer(cli: Cli, repo: Path) -> None:
    """The cached output is keyed by the commits, the changed paths and global-files."""
    append(repo / "tools/ci.sh")
    commit_all(repo, "tools")
    first = _affected(cli, repo, "--since", "HEAD~1")
    assert first["packages"] == [] and _affected(cli, repo, "--since", "HEAD~1") == first
    root_toml = repo / "pyproject.toml"
    root_toml.write_text(
        root_toml.read_text(encoding="utf-8") + 'global-files = ["tools/**"]\n', encoding="utf-8"
    )
    assert len(_affected(cli, repo, "--since", "HEAD~1")["packages"]) == 5  # setting changed
    root_toml.write_text(
        root_toml.read_text(encoding="utf-8").replace('global-files = ["tools/**"]\n', ""),
        encoding="utf-8",
    )
    append(repo / "packages/delta/x.py")
    commit_all(repo, "delta")
    assert set(_reasons(_affected(cli, repo, "--since", "HEAD~1"))) == {"delta"}  # new HEAD
    assert set(_reasons(_affected(cli, repo, "--since", "HEAD~2"))) == {"delta"}
    append(repo / "packages/alpha/y.py")  # untracked: only with --include-uncommitted
    assert len(_affected(cli, repo, "--since", "HEAD~1", "--include-uncommitted")["packages"]) == 5
    assert set(_reasons(_affected(cli, repo, "--since", "HEAD~1"))) == {"delta"}


def test_monorepo_in_a_subfolder_of_the_git_repository(cli: Cli, tmp_path: Path) -> None:
    top = tmp_path / "top"
    root = write_monorepo(top / "python", {"a": pyproject("a"), "b": pyproject("b", deps=["a"])})
    append(top / "README.md")
    init_repo(top)
    append(top / "frontend/app.js")  # outside the monorepo root: not a changed file at all
    append(root / "packages/a/x.py")
    commit_all(top, "both")
    document = _affected(cli, root, "--since", "HEAD~1")
    assert document["changed_files"] == ["packages/a/x.py"]
    assert set(_reasons(document)) == {"a", "b"}
    (root / "packages/b/pyproject.toml").unlink()
    shutil.rmtree(root / "packages/b")
    commit_all(top, "remove b")
    removed = _affected(cli, root, "--since", "HEAD~1")["removed"]
    assert removed == [{"path": "packages/b", "name": "b", "moved_to": None}]


def test_graph_affected_since_marks_dot_and_mermaid(cli: Cli, repo: Path) -> None:
    append(repo / "packages/delta/src/delta/__init__.py")
    commit_all(repo, "delta")
    dot = cli("graph", "--root", str(repo), "--format", "dot", "--affected-since", "HEAD~1").out
    assert '"delta" [penwidth=3, peripheries=2];' in dot and "peripheries" not in dot.replace(
        '"delta" [penwidth=3, peripheries=2];', ""
    )
    mermaid = cli("graph", "--root", str(repo), "--format", "mermaid", "--affected-since", "HEAD~1")
    assert mermaid.out.count("stroke-dasharray:6 3") == 1
    assert "peripheries" not in cli("graph", "--root", str(repo), "--format", "dot").out
