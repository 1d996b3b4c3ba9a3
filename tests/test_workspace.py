"""workspace: discovery, reading one pyproject, resolving every notation to an edge, the cache."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import analyse, line_of, pyproject, write_monorepo

from monorepo_tools.config import load_config
from monorepo_tools.errors import ConfigError
from monorepo_tools.workspace import (
    EdgeKind,
    discover,
    load_workspace,
    read_package,
)

# --------------------------------------------------------------------------------------------
# discovery


def test_discover_matches_folders_holding_a_pyproject(tmp_path: Path) -> None:
    root = write_monorepo(tmp_path / "repo", {"b": pyproject("b"), "a": pyproject("a")})
    (root / "packages" / "not-a-package").mkdir()  # no pyproject.toml: ignored
    (root / "packages" / "README.md").write_text("a file, not a folder\n")
    write_monorepo(root, {}, root_toml='[tool.monorepo]\npackages = ["packages/*", "tools/*"]\n')
    (root / "tools" / "c").mkdir(parents=True)
    (root / "tools" / "c" / "pyproject.toml").write_text(pyproject("c"))
    assert discover(load_config(root)) == ["packages/a", "packages/b", "tools/c"]


def test_package_globs_option_overrides_the_root_table(tmp_path: Path) -> None:
    root = write_monorepo(tmp_path / "repo", {"a": pyproject("a")})
    (root / "libs" / "z").mkdir(parents=True)
    (root / "libs" / "z" / "pyproject.toml").write_text(pyproject("z"))
    assert discover(load_config(root, ["libs/*"])) == ["libs/z"]


def test_globs_matching_nothing_are_a_config_error(tmp_path: Path) -> None:
    root = write_monorepo(tmp_path / "repo", {"a": pyproject("a")})
    with pytest.raises(ConfigError, match=r"no package found.*nope/\*"):
        discover(load_config(root, ["nope/*"]))


# --------------------------------------------------------------------------------------------
# reading one file


def _read(text: str, folder: str = "packages/app") -> object:
    return read_package(Path("/m"), folder, text.encode())


def test_read_package_collects_every_table() -> None:
    package = _read(
        pyproject(
            "My_App",
            "supported",
            deps=["runner-core>=0.1", "requests"],
            extra="""
[project.optional-dependencies]
cli = ["click", "Runner.Core[cli]"]

[dependency-groups]
test = ["pytest", {include-group = "lint"}]
lint = ["ruff"]

[tool.pdm.dev-dependencies]
docs = ["-e sphinx-theme @ file:///${PROJECT_ROOT}/../sphinx-theme"]

[tool.uv.sources]
runner-core = { workspace = true }
Sphinx_Theme = { path = "../sphinx-theme" }
tool-y = { git = "https://example.com/tool-y" }
tool-z = [{ url = "https://example.com/z.whl" }, { index = "internal" }]
""",
        )
    )
    assert package.name == "my-app"
    assert package.declared_name == "My_App"
    assert package.path == "packages/app"
    assert package.pyproject == "packages/app/pyproject.toml"
    assert (package.status, package.status_declared, package.publishable) == (
        "supported",
        True,
        True,
    )
    assert package.version == "0.1.0"
    assert package.problems == ()
    got = [(d.name, d.kind, d.group, d.field) for d in package.dependencies]
    assert got == [
        ("runner-core", EdgeKind.RUNTIME, None, "project.dependencies"),
        ("requests", EdgeKind.RUNTIME, None, "project.dependencies"),
        ("click", EdgeKind.OPTIONAL, "cli", "project.optional-dependencies.cli"),
        ("runner-core", EdgeKind.OPTIONAL, "cli", "project.optional-dependencies.cli"),
        ("pytest", EdgeKind.DEV, "test", "dependency-groups.test"),
        ("ruff", EdgeKind.DEV, "lint", "dependency-groups.lint"),
        ("sphinx-theme", EdgeKind.DEV, "docs", "tool.pdm.dev-dependencies.docs"),
    ]
    assert package.dependencies[6].requirement.path == "/m/packages/sphinx-theme"
    sources = [(s.name, s.kind, s.value, s.path) for s in package.uv_sources]
    assert sources == [
        ("runner-core", "workspace", "workspace = true", None),
        ("sphinx-theme", "path", "../sphinx-theme", "/m/packages/sphinx-theme"),
        ("tool-y", "git", "https://example.com/tool-y", None),
        ("tool-z", "url", "https://example.com/z.whl", None),
        ("tool-z", "index", "internal", None),
    ]


def test_status_defaults_to_internal_and_unknown_keys_are_kept() -> None:
    package = _read(pyproject("app") + '\n[tool.monorepo]\nstauts = "stable"\nflavour = 1\n')
    assert (package.status, package.status_declared, package.publishable) == (
        "internal",
        False,
        False,
    )
    assert package.unknown_keys == ("flavour", "stauts")


def test_reading_never_raises_and_reports_problems() -> None:
    broken = _read('[project]\nname = "x"\ndependencies = ["a" "b"]\n')
    assert not broken.usable
    assert broken.name == "app"  # from the folder
    (problem,) = broken.problems
    assert (problem.line, problem.column) == (3, 21)
    assert "not valid TOML" in problem.message

    binary = read_package(Path("/m"), "packages/app", b"\xff\xfe[project]")
    assert not binary.usable and "UTF-8" in binary.problems[0].message

    odd = _read(
        '[project]\nname = "odd"\nversion = 1\ndependencies = "requests"\n'
        'optional-dependencies = ["x"]\n[tool.uv.sources]\nx = "../x"\n'
    )
    assert odd.usable and odd.version is None
    assert [p.field for p in odd.problems] == [
        "project.version",
        "project.dependencies",
        "project.optional-dependencies",
        "tool.uv.sources.x",
    ]


# --------------------------------------------------------------------------------------------
# every notation is an edge to runner-core

NOTATIONS = [
    # fixture, kind, group, field
    ("notation-plain", "runtime", None, "project.dependencies"),
    ("notation-specifier", "runtime", None, "project.dependencies"),
    ("notation-extras-marker", "runtime", None, "project.dependencies"),
    ("notation-file-absolute", "runtime", None, "project.dependencies"),
    ("notation-file-relative", "runtime", None, "project.dependencies"),
    ("notation-pdm", "runtime", None, "project.dependencies"),
    ("notation-hatch", "runtime", None, "project.dependencies"),
    ("notation-uv-workspace", "runtime", None, "project.dependencies"),
    ("notation-uv-path", "runtime", None, "project.dependencies"),
    ("notation-dependency-groups", "dev", "test", "dependency-groups.test"),
    ("notation-pdm-dev", "dev", "dev", "tool.pdm.dev-dependencies.dev"),
]


@pytest.mark.parametrize(("fixture", "kind", "group", "field"), NOTATIONS)
def test_every_notation_is_an_edge_to_runner_core(
    fixture_repo: Callable[[str], Path], fixture: str, kind: str, group: str | None, field: str
) -> None:
    root = fixture_repo(fixture)
    result = analyse(root)
    ws = result.workspace
    assert sorted(ws.packages) == ["consumer", "runner-core"]
    edges = [
        (e.source, e.target, str(e.kind), e.dependency.group, e.dependency.field) for e in ws.edges
    ]
    assert edges == [("consumer", "runner-core", kind, group, field)]
    # A notation pointing at the right folder is fine to publish; a dev requirement on an
    # internal package (the two dev fixtures) is fine too.
    assert result.findings == []
    if kind == "dev":
        assert ws.packages["runner-core"].status == "internal"


def test_absolute_file_url_fixture_was_filled_in(fixture_repo: Callable[[str], Path]) -> None:
    root = fixture_repo("notation-file-absolute")
    (dep,) = analyse(root).workspace.packages["consumer"].dependencies
    assert dep.requirement.url == (root / "packages" / "runner-core").resolve().as_uri()
    assert dep.requirement.path == (root / "packages" / "runner-core").resolve().as_posix()


def test_clean_fixture_edges(fixture_repo: Callable[[str], Path]) -> None:
    ws = analyse(fixture_repo("clean")).workspace
    assert [(e.source, e.target, str(e.kind)) for e in ws.edges] == [
        ("agent-adapters", "runner-core", "runtime"),
        ("agent-adapters", "normalized-events", "runtime"),
        ("agent-adapters", "sandbox-runner", "dev"),
        ("reporter", "normalized-events", "runtime"),
        ("runner-core", "normalized-events", "runtime"),
        ("sandbox-runner", "runner-core", "runtime"),
    ]
    assert ws.rejected == ()


def test_a_package_requiring_itself_with_an_extra_is_no_edge(tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "repo",
        {
            "app": pyproject(
                "app", "stable", extra='[project.optional-dependencies]\nall = ["app[cli]"]'
            )
        },
    )
    assert analyse(root).workspace.edges == ()


def test_duplicate_names_keep_the_first_folder(fixture_repo: Callable[[str], Path]) -> None:
    ws = analyse(fixture_repo("duplicate-name")).workspace
    assert list(ws.packages) == ["runner-core"]
    assert ws.packages["runner-core"].path == "packages/runner-core"
    assert [(p.path, p.declared_name) for p in ws.rejected] == [
        ("packages/runner_core_copy", "Runner_Core")
    ]


# --------------------------------------------------------------------------------------------
# the cache: an optimisation only


def _age(root: Path, seconds: float = 30) -> None:
    """Make every pyproject older than the racy window, as files usually are."""
    past = time.time_ns() - int(seconds * 1e9)
    for file in root.rglob("pyproject.toml"):
        os.utime(file, ns=(past, past))


def test_cache_gives_the_same_workspace(fixture_repo: Callable[[str], Path]) -> None:
    root = fixture_repo("internal-dependency")
    _age(root)
    config = load_config(root)
    cold = load_workspace(config, use_cache=False)
    assert not (root / ".monorepo").exists()  # use_cache=False writes nothing
    first = load_workspace(config)
    cache_files = list((root / ".monorepo" / "cache").iterdir())
    assert len(cache_files) == 1
    assert (root / ".monorepo" / ".gitignore").read_text().splitlines()[-1] == "*"
    warm = load_workspace(config)
    assert cold.packages == first.packages == warm.packages
    assert cold.edges == first.edges == warm.edges

    cache_files[0].write_bytes(b"not a pickle")  # a corrupt cache is a cold start
    assert load_workspace(config).packages == cold.packages


def test_cache_sees_an_edit_of_the_same_size_and_mtime(tmp_path: Path) -> None:
    """The racy case: a file rewritten within the mtime granularity of the cache write."""
    root = write_monorepo(tmp_path / "repo", {"app": pyproject("app", "stable")})
    file = root / "packages" / "app" / "pyproject.toml"
    config = load_config(root)
    assert load_workspace(config).packages["app"].status == "stable"
    stat = file.stat()
    file.write_text(file.read_text().replace('"stable"', '"Stable"'))  # same size
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime
    assert file.stat().st_size == stat.st_size
    assert load_workspace(config).packages["app"].status == "Stable"


def test_cache_sees_an_ordinary_edit(tmp_path: Path) -> None:
    root = write_monorepo(tmp_path / "repo", {"app": pyproject("app", "stable")})
    _age(root)
    config = load_config(root)
    assert load_workspace(config).packages["app"].status == "stable"
    file = root / "packages" / "app" / "pyproject.toml"
    file.write_text(file.read_text().replace('"stable"', '"incubator"'))
    assert load_workspace(config).packages["app"].status == "incubator"


# --------------------------------------------------------------------------------------------
# known bugs of workspace.py (reported; strict xfail: these start failing once fixed)


def test_cache_survives_moving_the_monorepo(tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "before",
        {
            "core": pyproject("core", "stable"),
            "app": pyproject(
                "app",
                "stable",
                deps=["core"],
                extra='[tool.uv.sources]\ncore = { path = "../core" }',
            ),
        },
    )
    _age(root)
    assert analyse(root, use_cache=True).findings == []
    moved = root.rename(tmp_path / "after")
    assert analyse(moved, use_cache=True).findings == []


def test_line_of_follows_edits_in_the_same_process(tmp_path: Path) -> None:
    root = write_monorepo(tmp_path / "repo", {"app": pyproject("app", "stable", deps=["requests"])})
    file = root / "packages" / "app" / "pyproject.toml"
    ws = analyse(root).workspace
    assert ws.line_of(ws.packages["app"], "requests") == line_of(file, '"requests"')
    file.write_text("# a comment\n" + file.read_text())
    ws = analyse(root).workspace
    assert ws.line_of(ws.packages["app"], "requests") == line_of(file, '"requests"')


def test_a_local_path_under_another_name_draws_no_edge_and_is_reported(tmp_path: Path) -> None:
    # Resolution is by name: pip would refuse "core-lib @ file:../core" (the folder builds
    # "core"), so no edge is drawn and the check names both the folder's package and the fix.
    root = write_monorepo(
        tmp_path / "repo",
        {
            "core": pyproject("core", "stable"),
            "app": pyproject("app", "stable", deps=["core-lib @ file:../core"]),
        },
    )
    result = analyse(root)
    assert [(e.source, e.target) for e in result.workspace.edges] == []
    [finding] = [f for f in result.findings if f.package == "app"]
    assert finding.code == "local-path-dependency"
    assert "the name and the folder disagree" in finding.message
    assert "'core'" in finding.fix
