"""rules: one fixture per finding code; every finding's code, package, file, line, message, fix.

Expected lines are computed from the fixture text (the line holding the requirement or key),
never hard-coded.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from engine_helpers import (
    FINDING_FIXTURES,
    analyse,
    copy_fixture,
    line_of,
    pyproject,
    write_monorepo,
)

from monorepo_tools.rules import CODES, Finding, violating_edges


@dataclass(frozen=True)
class Expect:
    code: str
    package: str
    folder: str  # the package folder under packages/
    line: str | None  # a fragment of the expected line, or None: no line
    message: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    occurrence: int = 1
    column: str | None = None  # the fragment the column points at (TOML errors)
    extra: dict[str, object] = field(default_factory=dict)
    file: str = "pyproject.toml"  # the file of the finding, in the package folder


BLOCKED = (
    "It also blocks 2 publishable package(s) that depend on service: "
    "dashboard (stable), frontend (incubator)."
)

EXPECTED: dict[str, list[Expect]] = {
    "internal-dependency": [
        Expect(
            "internal-dependency",
            "service",
            "service",
            '"secret-core>=0.1"',
            (
                "service (supported) depends on secret-core (internal)",
                "through 'secret-core>=0.1' in [project].dependencies",
                BLOCKED,
            ),
            (
                'status = "incubator", "supported" or "stable"',
                "packages/secret-core/pyproject.toml",
            ),
            related=("dashboard", "frontend"),
        ),
        Expect(
            "internal-dependency",
            "service",
            "service",
            '"Secret_Core[cli]"',
            (
                "service (supported) depends on secret-core (internal)",
                "through 'Secret_Core[cli]' in [project.optional-dependencies].cli",
                BLOCKED,
            ),
            ("packages/secret-core/pyproject.toml", "[project.optional-dependencies].cli"),
            related=("dashboard", "frontend"),
        ),
    ],
    "local-path-dependency": [
        Expect(
            "local-path-dependency",
            "path-app",
            "path-app",
            '"vendored-lib @ file:///opt/vendor/vendored-lib"',
            (
                "path-app (stable) requires 'vendored-lib @ file:///opt/vendor/vendored-lib'",
                "a local path (/opt/vendor/vendored-lib) that is not a package of this monorepo",
            ),
            ("publish vendored-lib to the registry",),
        ),
        # helper-lib = { path = "../../../helper-lib" } in [tool.uv.sources] is NOT a finding:
        # uv sources never reach published metadata (test_uv_source_paths_are_not_findings).
    ],
    "direct-reference": [
        Expect(
            "direct-reference",
            "url-app",
            "url-app",
            '"tool-x @ git+https://github.com/example/tool-x.git@v1.0"',
            (
                "url-app (supported) requires 'tool-x @ git+https://github.com/example/tool-x.git@v1.0'",
                "a direct URL reference",
            ),
            ("publish tool-x to a registry", "'tool-x>=1.0'"),
        ),
        Expect(
            "direct-reference",
            "url-app",
            "url-app",
            "tool-y = { git =",
            ("[tool.uv.sources] takes 'tool-y' from git 'https://github.com/example/tool-y'",),
            ("publish tool-y to a registry",),
        ),
    ],
    "invalid-version": [
        Expect(
            "invalid-version",
            "bad-version",
            "bad-version",
            'version = "one.two"',
            ("project.version = 'one.two' is not a PEP 440 version",),
            ("packages/bad-version/pyproject.toml", 'version = "0.1.0"'),
        ),
        Expect(
            "invalid-version",
            "versionless",
            "versionless",
            None,
            ("versionless (stable) has no project.version",),
            ('add version = "0.1.0" to [project] in packages/versionless/pyproject.toml',),
        ),
    ],
    "dynamic-version": [
        Expect(
            "dynamic-version",
            "dynamic-app",
            "dynamic-app",
            'dynamic = ["version"]',
            ('dynamic-app (incubator) declares dynamic = ["version"]',),
            ('version = "X.Y.Z"', "packages/dynamic-app/pyproject.toml"),
        ),
    ],
    "invalid-status": [
        Expect(
            "invalid-status",
            "typo-status",
            "typo-status",
            'status = "Stabel"',
            ("[tool.monorepo].status = 'Stabel'", "did you mean 'stable'?"),
            ('set status = "stable" under [tool.monorepo] in packages/typo-status/pyproject.toml',),
        ),
    ],
    "unknown-setting": [
        Expect(
            "unknown-setting",
            "typo-key",
            "typo-key",
            'stauts = "stable"',
            ("[tool.monorepo].stauts is not a setting", "did you mean 'status'?"),
            ("rename or remove stauts under [tool.monorepo] in packages/typo-key/pyproject.toml",),
        ),
    ],
    "dependency-cycle": [
        Expect(
            "dependency-cycle",
            "cycle-a",
            "cycle-a",
            '"cycle-b"',
            ("cycle-a -> cycle-b -> cycle-c -> cycle-a",),
            ("break the cycle", "[dependency-groups]"),
            related=("cycle-a", "cycle-b", "cycle-c"),
        ),
    ],
    "duplicate-name": [
        Expect(
            "duplicate-name",
            "runner-core",
            "runner_core_copy",
            'name = "Runner_Core"',
            (
                "declares name 'Runner_Core', which normalizes to 'runner-core'",
                "already declared by packages/runner-core/pyproject.toml",
            ),
            ("packages/runner_core_copy/pyproject.toml", "packages/runner-core/pyproject.toml"),
            related=("runner-core",),
        ),
    ],
    "invalid-pyproject": [
        Expect(
            "invalid-pyproject",
            "bad-requirement",
            "bad-requirement",
            '"requests >= = 2"',
            ("project.dependencies 'requests >= = 2' is not a valid PEP 508 requirement",),
            ("PEP 508",),
        ),
        Expect(
            "invalid-pyproject",
            "bad-requirement",
            "bad-requirement",
            '"../runner-core"',
            (
                "'../runner-core' is not a PEP 508 requirement",
                "did you mean 'runner-core @ file:../runner-core'?",
            ),
            ("PEP 508",),
        ),
        Expect(
            "invalid-pyproject",
            "broken-toml",
            "broken-toml",
            '["a" "b"]',
            ("pyproject.toml is not valid TOML",),
            ("fix the TOML syntax",),
            column='"b"',
        ),
        Expect(
            "invalid-pyproject",
            "nameless",
            "nameless",
            None,
            ("project.name is missing",),
            ('set name = "nameless" in [project]',),
        ),
    ],
    "config-only": [
        Expect(
            "config-only",
            "lint-settings",
            "lint-settings",
            None,
            ("holds only tool settings", "not a package, skipped"),
            ("nothing to do if it is not a package",),
        ),
    ],
    "optional-dependency-cycle": [
        Expect(
            "optional-dependency-cycle",
            "configuration",
            "configuration",
            '"sdk>=1.2"',
            (
                "configuration -> sdk -> configuration",
                "through optional extras only",
                "sdk[file-configuration]",
            ),
            ("nothing is required",),
            related=("configuration", "sdk"),
        ),
    ],
    "metadata-unavailable": [
        Expect(
            "metadata-unavailable",
            "broken",
            "broken",
            None,
            (
                "needs its backend to tell dependencies (PEP 517 prepare_metadata_for_build_wheel)",
                "the metadata hook needs a generated file that is not there",
            ),
            ("declare the metadata statically in [project]",),
        ),
    ],
    "unpinnable-metadata": [
        Expect(
            "unpinnable-metadata",
            "legacy",
            "legacy",
            None,
            ("legacy (supported): setup.py computes its metadata (it requires core)",),
            ("move the metadata of packages/legacy/setup.py to [project]",),
            file="setup.py",
        ),
    ],
}


def _assert_matches(finding: Finding, expect: Expect, root: Path) -> None:
    file = f"packages/{expect.folder}/{expect.file}"
    assert (finding.code, finding.package, finding.file) == (expect.code, expect.package, file)
    text_file = root / file
    assert text_file.is_file()  # the file is relative to the root, POSIX
    expected_line = (
        None if expect.line is None else line_of(text_file, expect.line, expect.occurrence)
    )
    assert finding.line == expected_line, (
        f"{finding.code}: line {finding.line}, expected {expected_line}"
    )
    outside = root.resolve().parent.as_posix()
    for fragment in expect.message:
        assert fragment.replace("{outside}", outside) in finding.message
    for fragment in expect.fix:
        assert fragment in finding.fix
    if expect.related:
        assert finding.related == expect.related
        assert finding.related_count == len(expect.related)
    if expect.column is not None:
        line = text_file.read_text().splitlines()[expected_line - 1]
        assert finding.column == line.index(expect.column) + 1
    else:
        assert finding.column is None


def _match_all(findings: list[Finding], expected: list[Expect], root: Path) -> None:
    assert sorted(f.code for f in findings) == sorted(e.code for e in expected)
    remaining = list(findings)
    for expect in expected:
        candidates = [
            f
            for f in remaining
            if (f.code, f.package) == (expect.code, expect.package)
            and all(
                m.replace("{outside}", root.resolve().parent.as_posix()) in f.message
                for m in expect.message
            )
        ]
        assert len(candidates) == 1, f"no single finding for {expect}: {findings}"
        _assert_matches(candidates[0], expect, root)
        remaining.remove(candidates[0])
    assert remaining == []


def test_every_code_has_a_fixture() -> None:
    assert sorted(EXPECTED) == sorted(CODES) == sorted(FINDING_FIXTURES)


@pytest.mark.parametrize("fixture", FINDING_FIXTURES)
def test_fixture_findings(fixture_repo: Callable[[str], Path], fixture: str) -> None:
    root = fixture_repo(fixture)
    _match_all(analyse(root).findings, EXPECTED[fixture], root)


def test_check_collects_every_problem_of_every_package_in_one_run(tmp_path: Path) -> None:
    """All per-code fixtures merged into one monorepo: every finding comes out at once."""
    merged = tmp_path / "merged"
    (merged / "packages").mkdir(parents=True)
    shutil.copy(copy_fixture("clean", tmp_path) / "pyproject.toml", merged / "pyproject.toml")
    expected: list[Expect] = []
    for fixture in FINDING_FIXTURES:
        source = copy_fixture(fixture, tmp_path)
        for folder in (source / "packages").iterdir():
            shutil.copytree(folder, merged / "packages" / folder.name)
        expected += EXPECTED[fixture]
    findings = analyse(merged).findings
    assert {f.package for f in findings} == {e.package for e in expected}
    _match_all(findings, expected, merged)
    assert {f.code for f in findings} == set(CODES)


def test_clean_fixture_has_no_finding(fixture_repo: Callable[[str], Path]) -> None:
    result = analyse(fixture_repo("clean"))
    assert result.findings == []
    assert violating_edges(result.workspace) == []


def test_findings_are_sorted_by_level_package_and_line(fixture_repo: Callable[[str], Path]) -> None:
    result = analyse(fixture_repo("invalid-pyproject"))
    keys = [
        (result.graph.level_of.get(f.package, 99), f.package, f.line or 0) for f in result.findings
    ]
    assert keys == sorted(keys)
    assert analyse(result.workspace.root).findings == result.findings  # deterministic


def test_violating_edges(fixture_repo: Callable[[str], Path]) -> None:
    ws = analyse(fixture_repo("internal-dependency")).workspace
    assert violating_edges(ws) == [("service", "secret-core")]


# --------------------------------------------------------------------------------------------
# details and regressions


def test_dev_requirements_never_produce_an_internal_dependency(tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "repo",
        {
            "core": pyproject("core"),
            "app": pyproject(
                "app",
                "stable",
                extra='[dependency-groups]\ndev = ["core"]\n\n'
                '[tool.pdm.dev-dependencies]\ntest = ["core>=0.1"]',
            ),
        },
    )
    result = analyse(root)
    assert len(result.workspace.edges) == 2
    assert result.findings == []


def test_rules_about_publishing_skip_internal_packages(tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "repo",
        {
            "tool": pyproject(
                "tool",
                "internal",
                deps=["x @ git+https://example.com/x", "y @ file:///opt/y", "core"],
                version="not a version",
            ),
            "core": pyproject("core"),
        },
    )
    assert analyse(root).findings == []


def test_internal_dependency_without_publishable_dependents(tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "repo",
        {"core": pyproject("core"), "app": pyproject("app", "incubator", deps=["core"])},
    )
    (finding,) = analyse(root).findings
    assert finding.message.endswith("No other publishable package depends on it.")
    assert (finding.related, finding.related_count) == ((), 0)


def test_blocked_list_is_truncated_but_counted(tmp_path: Path) -> None:
    packages = {"core": pyproject("core"), "hub": pyproject("hub", "stable", deps=["core"])}
    for i in range(25):
        packages[f"leaf{i:02d}"] = pyproject(f"leaf{i:02d}", "stable", deps=["hub"])
    (finding,) = analyse(write_monorepo(tmp_path / "repo", packages)).findings
    assert finding.related_count == 25
    assert finding.related == tuple(f"leaf{i:02d}" for i in range(20))
    assert "It also blocks 25 publishable package(s)" in finding.message
    assert finding.message.endswith("leaf19 (stable) and 5 more.")


def test_same_requirement_in_two_tables_gets_two_lines(tmp_path: Path) -> None:
    """One finding per requirement string, each at its own line (not the first occurrence)."""
    root = write_monorepo(
        tmp_path / "repo",
        {
            "core": pyproject("core"),
            "app": pyproject(
                "app",
                "stable",
                deps=["core"],
                extra='[project.optional-dependencies]\ncli = ["core"]',
            ),
        },
    )
    file = root / "packages" / "app" / "pyproject.toml"
    findings = analyse(root).findings
    lines = {("extras" if "optional" in f.message else "runtime"): f.line for f in findings}
    assert lines == {"runtime": line_of(file, '"core"', 1), "extras": line_of(file, '"core"', 2)}


def test_keys_are_found_at_their_own_line_not_inside_other_strings(tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "repo",
        {
            # names that contain the keys the rules look for
            "status-board": pyproject("status-board", "Stabel"),
            "dynamic-thing": pyproject("dynamic-thing", "stable", version=None).replace(
                "dependencies = []", 'dynamic = ["version"]\ndependencies = []'
            ),
            "name-tool": pyproject("name-tool") + '\n[tool.monorepo]\nname = "x"\n',
            "version-tool": pyproject("version-tool", version=None).replace(
                "dependencies = []", "version = 1\ndependencies = []"
            ),
        },
    )
    findings = {f.package: f for f in analyse(root).findings}
    files = {name: root / "packages" / name / "pyproject.toml" for name in findings}
    assert findings["status-board"].line == line_of(files["status-board"], 'status = "Stabel"')
    assert findings["dynamic-thing"].line == line_of(files["dynamic-thing"], "dynamic = [")
    assert findings["name-tool"].line == line_of(files["name-tool"], 'name = "x"')
    assert findings["version-tool"].code == "invalid-pyproject"
    assert findings["version-tool"].line == line_of(files["version-tool"], "version = 1")


def test_a_monorepo_name_with_a_path_to_another_folder(tmp_path: Path) -> None:
    """'core @ file:///elsewhere/core' names the monorepo package but installs another folder."""
    root = write_monorepo(
        tmp_path / "repo",
        {
            "core": pyproject("core", "stable"),
            "app": pyproject("app", "stable", deps=["core @ file:///opt/elsewhere/core"]),
            "ok": pyproject("ok", "stable", deps=["core @ file:../core"]),
            "misnamed": pyproject("misnamed", "stable", deps=["core-lib @ file:../core"]),
        },
    )
    findings = analyse(root).findings
    by_package = {f.package: f for f in findings}
    assert sorted(by_package) == ["app", "misnamed"]
    app = by_package["app"]
    assert app.code == "local-path-dependency"
    assert (
        "names the monorepo package 'core', "
        "but /opt/elsewhere/core is not its folder (packages/core)" in app.message
    )
    assert app.line == line_of(
        root / "packages" / "app" / "pyproject.toml", "core @ file:///opt/elsewhere/core"
    )
    misnamed = by_package["misnamed"]
    assert "the name and the folder disagree" in misnamed.message
    assert "packages/core is the monorepo package 'core'" in misnamed.message


def test_a_uv_path_source_to_another_folder(tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "repo",
        {
            "core": pyproject("core", "stable"),
            "other": pyproject("other", "stable"),
            "app": pyproject(
                "app",
                "stable",
                deps=["core"],
                extra='[tool.uv.sources]\ncore = { path = "../other" }',
            ),
            "dev-only": pyproject(
                "dev-only",
                "stable",
                extra='[dependency-groups]\ndev = ["core"]\n\n'
                '[tool.uv.sources]\ncore = { path = "../other" }',
            ),
        },
    )
    (finding,) = analyse(root).findings
    assert (finding.code, finding.package) == ("local-path-dependency", "app")
    assert "packages/other is the monorepo package 'other'" in finding.message


def test_uv_workspace_source_for_a_name_outside_the_monorepo(tmp_path: Path) -> None:
    root = write_monorepo(
        tmp_path / "repo",
        {
            "app": pyproject(
                "app",
                "stable",
                deps=["ghost"],
                extra="[tool.uv.sources]\nghost = { workspace = true }",
            )
        },
    )
    (finding,) = analyse(root).findings
    assert finding.code == "local-path-dependency"
    assert (
        "takes 'ghost' from the uv workspace, but no package of this monorepo has that name"
        in finding.message
    )
    assert finding.line == line_of(
        root / "packages" / "app" / "pyproject.toml", "ghost = { workspace"
    )


def test_dependency_on_a_package_with_an_invalid_status(tmp_path: Path) -> None:
    """A package with an invalid status is not published either: depending on it is reported."""
    root = write_monorepo(
        tmp_path / "repo",
        {"core": pyproject("core", "internl"), "app": pyproject("app", "stable", deps=["core"])},
    )
    findings = analyse(root).findings
    assert sorted((f.code, f.package) for f in findings) == [
        ("internal-dependency", "app"),
        ("invalid-status", "core"),
    ]
    status = next(f for f in findings if f.code == "invalid-status")
    assert "did you mean 'internal'?" in status.message
    dependency = next(f for f in findings if f.code == "internal-dependency")
    assert "app (stable) depends on core (internl)" in dependency.message


def test_severity() -> None:
    assert Finding("invalid-pyproject", "a", "f", None, "m", "x").severity == "critical"
    assert Finding("dependency-cycle", "a", "f", None, "m", "x").severity == "critical"
    assert Finding("internal-dependency", "a", "f", None, "m", "x").severity == "major"


@pytest.mark.parametrize(
    ("tail", "fragment"),
    [
        ('[tool.monorepo]  # publishing\nstatus = "Stabel"\n', 'status = "Stabel"'),
        ('[ tool . "monorepo" ]\n"status" = "Stabel"\n', '"status" = "Stabel"'),
        ('[tool]\nmonorepo.status = "Stabel"\n', 'monorepo.status = "Stabel"'),
    ],
)
def test_key_lines_in_every_toml_spelling(tmp_path: Path, tail: str, fragment: str) -> None:
    text = '[project]\nname = "status-app"\nversion = "1.0"\n\n' + tail
    root = write_monorepo(tmp_path / "repo", {"status-app": text})
    (finding,) = analyse(root).findings
    assert finding.code == "invalid-status"
    assert finding.line == line_of(root / "packages/status-app/pyproject.toml", fragment)
