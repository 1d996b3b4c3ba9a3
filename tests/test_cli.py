"""The ``monorepo`` command line: exit codes, report formats, --output, graph views, no writes.

Most tests call ``monorepo_tools.cli.main`` in-process; a few run ``python -m monorepo_tools``
and the installed ``monorepo`` console script (skipped when the project is not installed:
installing it is the test runner's job).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import (
    CONSOLE_SCRIPT,
    FINDING_FIXTURES,
    Run,
    copy_fixture,
    line_of,
    pyproject,
    run_module,
    run_script,
    write_monorepo,
)

from monorepo_tools import __version__
from monorepo_tools.commands.graph import GRAPH_FORMATS
from monorepo_tools.render.report import CHECK_FORMATS

Cli = Callable[..., Run]
RENDERER_MODULES = {
    fmt: f"monorepo_tools.render.{fmt}" for fmt in ("dot", "mermaid", "svg", "html")
}


def _need_renderer(fmt: str) -> None:
    """The dot/mermaid/svg/html renderers are written separately: skip only their cases."""
    if fmt in RENDERER_MODULES:
        pytest.importorskip(RENDERER_MODULES[fmt], reason=f"the {fmt} renderer has not landed yet")


# --------------------------------------------------------------------------------------------
# exit codes


def test_clean_check_exits_0(cli: Cli, fixture_repo: Callable[[str], Path]) -> None:
    result = cli("check", "--root", str(fixture_repo("clean")))
    assert result.code == 0
    assert result.out == "ok: 5 packages checked (4 publishable), no findings\n"


NON_BLOCKING = {"optional-dependency-cycle": "warning", "config-only": "note"}


@pytest.mark.parametrize("fixture", [f for f in FINDING_FIXTURES if f not in NON_BLOCKING])
def test_findings_exit_1(cli: Cli, fixture_repo: Callable[[str], Path], fixture: str) -> None:
    result = cli("check", "--root", str(fixture_repo(fixture)))
    assert result.code == 1
    assert f"error[{fixture}]" in result.out
    assert result.out.splitlines()[-1].startswith("error: ")


@pytest.mark.parametrize("fixture", sorted(NON_BLOCKING))
def test_warnings_and_notes_exit_0(
    cli: Cli, fixture_repo: Callable[[str], Path], fixture: str
) -> None:
    root = fixture_repo(fixture)
    result = cli("check", "--root", str(root))
    assert result.code == 0, result.out
    assert f"{NON_BLOCKING[fixture]}[{fixture}]" in result.out
    assert result.out.splitlines()[-1].startswith("ok: ")
    assert result.out.splitlines()[-1].endswith("1 warning(s)/note(s)")
    github = cli("check", "--root", str(root), "--format", "github")
    assert github.code == 0
    command = {"warning": "::warning ", "note": "::notice "}[NON_BLOCKING[fixture]]
    assert github.out.startswith(command)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--bogus"], "unrecognized arguments: --bogus"),
        (["check", "--format", "xml"], "invalid choice: 'xml'"),
        (["graph", "--format", "png"], "invalid choice: 'png'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "required: COMMAND"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.code == 2
    assert message in result.err
    assert result.out == ""


@pytest.mark.parametrize("command", ["check", "graph"])
def test_missing_root_exits_2(cli: Cli, tmp_path: Path, command: str) -> None:
    missing = tmp_path / "does-not-exist"
    result = cli(command, "--root", str(missing))
    assert result.code == 2
    assert result.err.startswith("monorepo: error: --root ")
    assert str(missing) in result.err
    assert not missing.exists()


@pytest.mark.parametrize("command", ["check", "graph"])
def test_globs_matching_no_package_exit_2(
    cli: Cli, fixture_repo: Callable[[str], Path], command: str
) -> None:
    result = cli(command, "--root", str(fixture_repo("clean")), "--packages", "nope/*")
    assert result.code == 2
    assert "no package found" in result.err and "nope/*" in result.err


def test_unknown_root_key_exits_2(cli: Cli, fixture_repo: Callable[[str], Path]) -> None:
    root = fixture_repo("clean")
    (root / "pyproject.toml").write_text('[tool.monorepo]\npakages = ["packages/*"]\n')
    result = cli("check", "--root", str(root))
    assert result.code == 2
    assert "unknown key [tool.monorepo].pakages (did you mean 'packages'?)" in result.err


def test_broken_root_pyproject_exits_2(cli: Cli, fixture_repo: Callable[[str], Path]) -> None:
    root = fixture_repo("clean")
    (root / "pyproject.toml").write_text("[tool.monorepo\n")
    result = cli("check", "--root", str(root))
    assert result.code == 2
    assert "pyproject.toml:1:15: not valid TOML" in result.err  # with the position


def test_packages_option_replaces_the_root_globs(cli: Cli, tmp_path: Path) -> None:
    root = write_monorepo(tmp_path / "repo", {"a": pyproject("a", "stable")})
    (root / "libs" / "b").mkdir(parents=True)
    (root / "libs" / "b" / "pyproject.toml").write_text(pyproject("b", "Stabel"))
    assert cli("check", "--root", str(root)).code == 0
    result = cli("check", "--root", str(root), "--packages", "libs/*", "--packages", "packages/*")
    assert result.code == 1 and "error[invalid-status]" in result.out


def test_version_and_help(cli: Cli) -> None:
    version = cli("--version")
    assert version.code == 0 and version.out.strip() == f"monorepo-tools {__version__}"
    help_ = cli("check", "--help")
    assert help_.code == 0 and "--format" in help_.out and "--output" in help_.out


# --------------------------------------------------------------------------------------------
# report formats


def test_json_report(cli: Cli, fixture_repo: Callable[[str], Path]) -> None:
    root = fixture_repo("invalid-version")
    result = cli("check", "--root", str(root), "--format", "json")
    assert result.code == 1
    document = json.loads(result.out)
    assert isinstance(document, dict) and document["ok"] is False
    items = document["violations"]
    for item in items:
        assert {"code", "package", "file", "line", "message"} <= set(item)
    by_package = {item["package"]: item for item in items}
    assert by_package["versionless"]["line"] is None
    assert by_package["bad-version"]["line"] == line_of(
        root / "packages/bad-version/pyproject.toml", 'version = "one.two"'
    )
    assert by_package["bad-version"]["file"] == "packages/bad-version/pyproject.toml"
    clean = json.loads(cli("check", "--root", str(fixture_repo("clean")), "--format", "json").out)
    assert clean["ok"] is True and clean["violations"] == []


def test_github_report(cli: Cli, fixture_repo: Callable[[str], Path]) -> None:
    root = fixture_repo("internal-dependency")
    result = cli("check", "--root", str(root), "--format", "github")
    assert result.code == 1
    annotations = [line for line in result.out.splitlines() if line.startswith("::")]
    assert len(annotations) == 2
    file = root / "packages/service/pyproject.toml"
    expected_lines = {line_of(file, '"secret-core>=0.1"'), line_of(file, '"Secret_Core[cli]"')}
    seen = set()
    for line in annotations:
        assert line.startswith("::error file=packages/service/pyproject.toml,line=")
        seen.add(int(line.split("line=")[1].split(",")[0]))
    assert seen == expected_lines
    assert result.out.splitlines()[-1] == "monorepo check: 2 finding(s)"


def test_gitlab_report(cli: Cli, fixture_repo: Callable[[str], Path]) -> None:
    root = fixture_repo("invalid-pyproject")
    first = cli("check", "--root", str(root), "--format", "gitlab")
    second = cli("check", "--root", str(root), "--format", "gitlab")
    assert first.code == second.code == 1
    issues = json.loads(first.out)
    assert isinstance(issues, list) and len(issues) == 4
    for issue in issues:
        assert issue["description"] and issue["check_name"] == "monorepo/invalid-pyproject"
        assert issue["severity"] == "critical"
        assert issue["location"]["path"].startswith("packages/")
        assert isinstance(issue["location"]["lines"]["begin"], int)
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    assert fingerprints == [i["fingerprint"] for i in json.loads(second.out)]


def test_gitlab_fingerprints_survive_unrelated_edits(
    cli: Cli, fixture_repo: Callable[[str], Path]
) -> None:
    root = fixture_repo("internal-dependency")
    before = json.loads(cli("check", "--root", str(root), "--format", "gitlab").out)
    file = root / "packages/service/pyproject.toml"
    file.write_text("# moved down by two lines\n\n" + file.read_text())
    after = json.loads(cli("check", "--root", str(root), "--format", "gitlab").out)
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]
    assert [i["location"]["lines"]["begin"] + 2 for i in before] == [
        i["location"]["lines"]["begin"] for i in after
    ]


def test_gitlab_fingerprints_of_one_string_in_two_places(cli: Cli, tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "repo",
        {
            "core": pyproject("core"),
            "app": pyproject(
                "app",
                "stable",
                deps=["core", "not valid!", "not valid!"],
                extra='[project.optional-dependencies]\ncli = ["core"]',
            ),
        },
    )
    issues = json.loads(cli("check", "--root", str(root), "--format", "gitlab").out)
    assert sorted(i["check_name"] for i in issues) == [
        "monorepo/internal-dependency",
        "monorepo/internal-dependency",
        "monorepo/invalid-pyproject",
        "monorepo/invalid-pyproject",
    ]
    assert len({i["fingerprint"] for i in issues}) == 4


# --------------------------------------------------------------------------------------------
# --output


@pytest.mark.parametrize("fmt", CHECK_FORMATS)
@pytest.mark.parametrize("fixture", ["clean", "internal-dependency"])
def test_check_output_file(
    cli: Cli, fixture_repo: Callable[[str], Path], tmp_path: Path, fmt: str, fixture: str
) -> None:
    root = fixture_repo(fixture)
    plain = cli("check", "--root", str(root), "--format", fmt)
    report = tmp_path / "reports" / f"report.{fmt}"
    report.parent.mkdir()  # a missing folder is a usage error (test_output_guard.py)
    written = cli("check", "--root", str(root), "--format", fmt, "--output", str(report))
    assert written.code == plain.code == (0 if fixture == "clean" else 1)  # the verdict
    assert report.read_text(encoding="utf-8") == plain.out
    # the log still gets the findings as text
    assert written.out == cli("check", "--root", str(root)).out
    assert str(report) in written.err
    assert sorted(p.name for p in report.parent.iterdir()) == [report.name]  # no temp file left


def test_output_replaces_an_existing_report(
    cli: Cli, fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    root = fixture_repo("clean")
    report = tmp_path / "report.json"
    report.write_text("old content that is longer than the new one" * 100)
    assert cli("check", "--root", str(root), "--format", "json", "--output", str(report)).code == 0
    assert json.loads(report.read_text())["ok"] is True


def test_output_is_atomic(
    cli: Cli, fixture_repo: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails half-way leaves the previous report whole and no temporary file."""
    import monorepo_tools._io as io_module

    root = fixture_repo("internal-dependency")
    report = tmp_path / "out" / "gl-code-quality-report.json"
    report.parent.mkdir()
    report.write_text("[]\n")

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io_module.os, "replace", fail)
    result = cli("check", "--root", str(root), "--format", "gitlab", "--output", str(report))
    assert result.code == 2
    assert "No space left on device" in result.err
    assert report.read_text() == "[]\n"
    assert [p.name for p in report.parent.iterdir()] == [report.name]


def test_unwritable_output_is_a_clean_error(
    cli: Cli, fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    root = fixture_repo("clean")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = cli("check", "--root", str(root), "--output", str(blocker / "report.txt"))
    assert result.code == 2
    assert result.err.startswith("monorepo: error: ")
    assert str(blocker / "report.txt") in result.err


def test_output_file_mode_follows_the_umask(
    cli: Cli, fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    root = fixture_repo("clean")
    report = tmp_path / "report.json"
    old = os.umask(0o022)
    try:
        assert (
            cli("check", "--root", str(root), "--format", "json", "--output", str(report)).code == 0
        )
    finally:
        os.umask(old)
    assert report.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
def test_graph_output_file(
    cli: Cli, fixture_repo: Callable[[str], Path], tmp_path: Path, fmt: str
) -> None:
    _need_renderer(fmt)
    root = fixture_repo("clean")
    plain = cli("graph", "--root", str(root), "--format", fmt)
    target = tmp_path / f"graph.{fmt}"
    written = cli("graph", "--root", str(root), "--format", fmt, "--output", str(target))
    assert plain.code == written.code == 0
    assert target.read_text(encoding="utf-8") == plain.out
    assert written.out == ""


# --------------------------------------------------------------------------------------------
# graph


def test_graph_text_levels(cli: Cli, fixture_repo: Callable[[str], Path]) -> None:
    result = cli("graph", "--root", str(fixture_repo("clean")))
    assert result.code == 0
    levels: dict[int, list[str]] = {}
    current = -1
    for line in result.out.splitlines():
        if line.startswith("level "):
            current = int(line.split()[1])
            levels[current] = []
        elif line.startswith("  ") and current >= 0:
            levels[current].append(line.split()[0])
    assert levels == {
        0: ["normalized-events"],
        1: ["reporter", "runner-core"],
        2: ["agent-adapters", "sandbox-runner"],
    }
    assert "sandbox-runner (dev)" in result.out
    assert result.out.splitlines()[-1] == "5 packages, 4 publishable, 6 edges, 0 violations"


def test_graph_json(cli: Cli, tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "repo",
        {
            "events": pyproject("Normalized_Events", "stable", version="1.2.0"),
            "core": pyproject("Runner.Core", "supported", deps=["normalized-events>=1"]),
            "sandbox": pyproject(
                "sandbox-runner",
                deps=["RUNNER_CORE"],
                extra='[dependency-groups]\ndev = ["normalized_events"]',
            ),
            "odd": pyproject("odd", "Stabel", version=None),
        },
    )
    result = cli("graph", "--root", str(root), "--format", "json")
    assert result.code == 0
    document = json.loads(result.out)
    nodes = {n["name"]: n for n in document["nodes"]}
    assert set(nodes) == {"normalized-events", "runner-core", "sandbox-runner", "odd"}
    for key, value in {
        "name": "normalized-events",
        "version": "1.2.0",
        "status": "stable",
        "publishable": True,
        "path": "packages/events",
    }.items():
        assert nodes["normalized-events"][key] == value
    assert (nodes["sandbox-runner"]["status"], nodes["sandbox-runner"]["publishable"]) == (
        "internal",
        False,
    )
    assert (nodes["odd"]["status"], nodes["odd"]["version"]) == ("invalid", None)
    assert nodes["runner-core"]["path"] == "packages/core"
    edges = [(e["from"], e["to"], e["kind"]) for e in document["edges"]]
    assert edges == [
        ("runner-core", "normalized-events", "runtime"),
        ("sandbox-runner", "normalized-events", "dev"),
        ("sandbox-runner", "runner-core", "runtime"),
    ]


def test_graph_publishable_only(cli: Cli, fixture_repo: Callable[[str], Path]) -> None:
    clean = json.loads(
        cli(
            "graph", "--root", str(fixture_repo("clean")), "--format", "json", "--publishable-only"
        ).out
    )
    # sandbox-runner is internal, and agent-adapters only needs it for development
    assert sorted(n["name"] for n in clean["nodes"]) == [
        "agent-adapters",
        "normalized-events",
        "reporter",
        "runner-core",
    ]
    assert all("sandbox-runner" not in (e["from"], e["to"]) for e in clean["edges"])
    bad = cli(
        "graph",
        "--root",
        str(fixture_repo("internal-dependency")),
        "--format",
        "json",
        "--publishable-only",
    )
    names = sorted(n["name"] for n in json.loads(bad.out)["nodes"])
    assert names == ["dashboard", "frontend", "secret-core", "service"]  # secret-core: a violation


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
def test_graph_formats_are_deterministic(
    cli: Cli, fixture_repo: Callable[[str], Path], fmt: str
) -> None:
    _need_renderer(fmt)
    root = fixture_repo("internal-dependency")
    first = cli("graph", "--root", str(root), "--format", fmt)
    second = cli("graph", "--root", str(root), "--format", fmt)  # through the cache
    uncached = cli("graph", "--root", str(root), "--format", fmt, "--no-cache")
    assert first.code == second.code == uncached.code == 0
    assert first.out == second.out == uncached.out
    for name in ("secret-core", "service", "frontend", "dashboard", "internal-tool"):
        assert name in first.out


@pytest.mark.parametrize("fmt", CHECK_FORMATS)
def test_check_formats_are_deterministic(
    cli: Cli, fixture_repo: Callable[[str], Path], fmt: str
) -> None:
    root = fixture_repo("invalid-pyproject")
    runs = [
        cli("check", "--root", str(root), "--format", fmt, *extra)
        for extra in ([], [], ["--no-cache"])
    ]
    assert {r.code for r in runs} == {1}
    assert runs[0].out == runs[1].out == runs[2].out


# --------------------------------------------------------------------------------------------
# the working tree is never modified

COMMANDS = [
    *[pytest.param(["check", "--format", fmt], id=f"check-{fmt}") for fmt in CHECK_FORMATS],
    *[pytest.param(["graph", "--format", fmt], id=f"graph-{fmt}") for fmt in GRAPH_FORMATS],
    pytest.param(["graph", "--format", "json", "--publishable-only"], id="graph-publishable-only"),
    pytest.param(["check", "--no-cache"], id="check-no-cache"),
]


@pytest.mark.parametrize("fixture", ["clean", "internal-dependency", "invalid-pyproject"])
@pytest.mark.parametrize("args", COMMANDS)
def test_commands_leave_the_tree_byte_identical(
    cli: Cli,
    fixture_repo: Callable[[str], Path],
    unchanged_tree: Callable[[Path], Callable[[], None]],
    args: list[str],
    fixture: str,
) -> None:
    if args[0] == "graph":
        _need_renderer(args[2])
    root = fixture_repo(fixture)
    verify = unchanged_tree(root)
    first = cli(*args, "--root", str(root))
    second = cli(*args, "--root", str(root))  # a warm run too
    assert first.code == second.code and first.code in (0, 1)
    assert first.out == second.out
    verify()
    state = root / ".monorepo"
    if "--no-cache" in args:
        assert not state.exists()
    else:  # the only thing the tool may create, and it ignores itself
        assert "*" in (state / ".gitignore").read_text().splitlines()


def test_the_tree_snapshot_sees_every_kind_of_change(
    tmp_path: Path, unchanged_tree: Callable[[Path], Callable[[], None]]
) -> None:
    """The helper above must be able to fail: an edit, a new file and a removal are all seen."""
    root = copy_fixture("clean", tmp_path)
    file = root / "packages/reporter/pyproject.toml"
    for change in (
        lambda: file.write_bytes(file.read_bytes() + b" "),
        lambda: (root / "packages/new.txt").write_text(""),
        lambda: file.unlink(),
        lambda: (root / "packages/empty-dir").mkdir(),
    ):
        verify = unchanged_tree(root)
        change()
        with pytest.raises(AssertionError, match="working tree was modified"):
            verify()
    verify = unchanged_tree(root)
    (root / ".monorepo" / "cache").mkdir(parents=True)  # the state folder is not the tree
    verify()


# --------------------------------------------------------------------------------------------
# as processes: python -m monorepo_tools, and the console script when installed

RUNNERS = [
    pytest.param(run_module, id="python-m"),
    pytest.param(
        run_script,
        id="console-script",
        marks=pytest.mark.skipif(
            CONSOLE_SCRIPT is None, reason="the monorepo console script is not installed"
        ),
    ),
]


@pytest.mark.parametrize("run", RUNNERS)
def test_process_clean_check(run: Callable[..., Run], tmp_path: Path) -> None:
    root = copy_fixture("clean", tmp_path)
    result = run("check", "--root", str(root))
    assert (result.code, result.out, result.err) == (
        0,
        "ok: 5 packages checked (4 publishable), no findings\n",
        "",
    )


@pytest.mark.parametrize("run", RUNNERS)
def test_process_findings_and_relative_root(run: Callable[..., Run], tmp_path: Path) -> None:
    root = copy_fixture("internal-dependency", tmp_path)
    result = run("check", "--format", "json", cwd=root)  # --root defaults to the current directory
    assert result.code == 1
    document = json.loads(result.out)
    assert [v["code"] for v in document["violations"]] == ["internal-dependency"] * 2
    graph = run("graph", "--root", ".", "--format", "json", cwd=root)
    assert graph.code == 0 and {n["name"] for n in json.loads(graph.out)["nodes"]} >= {"service"}


@pytest.mark.parametrize("run", RUNNERS)
def test_process_usage_error(run: Callable[..., Run], tmp_path: Path) -> None:
    result = run("check", "--no-such-option", cwd=tmp_path)
    assert result.code == 2
    assert "unrecognized arguments" in result.err
    assert run("check", "--root", os.fspath(tmp_path / "missing")).code == 2
