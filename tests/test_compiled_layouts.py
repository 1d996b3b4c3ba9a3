"""Backends that run a program of their build environment (issue 7 item 6), read and staged.

meson-python (the version of ``project()`` in meson.build), scikit-build-core (its regex
version provider, legacy ``[tool.scikit-build.metadata.version]`` and the standard
``[[tool.dynamic-metadata]]``), maturin (``[package] version`` of Cargo.toml, semver ⇄ PEP 440)
and poetry-dynamic-versioning in a Poetry 2 project: what is read, the findings when it cannot
be read (file, field, fix), and what staging writes. The real builds are in
``tests/publish/test_backends_compiled.py`` (slow).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import analyse, write_monorepo
from test_layouts import git, init_repo, plan_of

from monorepo_tools.config import load_config
from monorepo_tools.errors import PublishError
from monorepo_tools.publish.stage import stage_package
from monorepo_tools.snapshot.rewrite.native import (
    rewrite_cargo_lock,
    rewrite_cargo_toml,
    rewrite_meson_build,
)
from monorepo_tools.snapshot.rewrite.pyproject import rewrite_pyproject
from monorepo_tools.snapshot.rewrite.version_files import rewrite_version_file
from monorepo_tools.workspace import load_workspace
from monorepo_tools.workspace.native_manifests import (
    meson_project_version,
    pep440_from_semver,
    semver_from_pep440,
)

MESON_PYPROJECT = """[build-system]
requires = ["meson-python"]
build-backend = "mesonpy"

[project]
name = "m"
dynamic = ["version"]

[tool.monorepo]
status = "stable"
"""

MATURIN_PYPROJECT = """[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "r"
dynamic = ["version"]
{maturin}
[tool.monorepo]
status = "stable"
"""


def _one(root: Path, name: str) -> tuple[object, list[tuple[str, str, str]]]:
    analysis = analyse(root)
    package = analysis.workspace.packages[name]
    findings = [(f.code, f.message, f.fix) for f in analysis.findings if f.package == name]
    return package, findings


# ---------------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("name", "version", "source", "file"),
    [
        ("meson-pkg", "1.2.0", "meson project()", "meson.build"),
        ("skb-pkg", "0.9.1", "scikit-build regex", "src/skb_pkg/__init__.py"),
        ("maturin-bin", "0.3.0", "cargo package.version", "Cargo.toml"),
    ],
)
def test_compiled_backends_versions_are_read_statically(
    fixture_repo: Callable[[str], Path], name: str, version: str, source: str, file: str
) -> None:
    package, findings = _one(fixture_repo("layout-compiled"), name)
    assert (package.version, package.version_source, package.version_file) == (  # type: ignore[attr-defined]
        version,
        source,
        file,
    )
    assert file in package.files  # type: ignore[attr-defined]  # part of the cache key
    assert findings == []


def test_a_poetry2_project_with_poetry_dynamic_versioning_takes_its_tags(
    fixture_repo: Callable[[str], Path],
) -> None:
    root = fixture_repo("layout-dunamai")
    package, findings = _one(root, "pdv2")
    assert package.version_source == "poetry-dynamic-versioning"  # type: ignore[attr-defined]
    assert package.tag_pattern is not None and package.tag_pattern.startswith("^pdv2\\-")  # type: ignore[attr-defined]
    assert findings == []
    init_repo(root)
    git(root, "tag", "pdv2-v0.4.0")
    git(root, "tag", "uvdv-v1.2.0")  # its neighbour has no fallback
    planned = plan_of(root).package("pdv2")
    assert planned.version == "0.4.1.dev7"
    assert dict(planned.build_environment) == {"POETRY_DYNAMIC_VERSIONING_BYPASS": "0.4.1.dev7"}


@pytest.mark.parametrize(
    ("text", "literal", "file"),
    [
        ("project('m', version: '1.2.0')\n", "1.2.0", None),
        (
            "# project('x', version: '9')\nproject(\n  'm',  # name\n  'c',\n  version : '2.0',\n)\n",
            "2.0",
            None,
        ),
        ("project('m', meson_version: '>=1.1', version: files('VERSION'))\n", None, "VERSION"),
        ("project('m', license: 'it\\'s version: 3', version: '4.1')\n", "4.1", None),
        (
            "subproject_version = 'x'\nproject('m', default_options: ['a=b'], version: '''5.0''')",
            None,
            None,
        ),
    ],
)
def test_meson_project_version_is_found_in_project(
    text: str, literal: str | None, file: str | None
) -> None:
    found = meson_project_version(text)
    assert (found.literal, found.file) == (literal, file)
    if found.span is not None:
        assert text[found.span[0] : found.span[1]] == literal


def test_meson_files_version_reads_the_file(tmp_path: Path) -> None:
    root = write_monorepo(tmp_path / "repo", {"m": MESON_PYPROJECT})
    pkg = root / "packages" / "m"
    (pkg / "meson.build").write_text("project('m', version: files('VERSION'))\n")
    (pkg / "VERSION").write_text("3.1.4\n")
    package, findings = _one(root, "m")
    assert (package.version, package.version_source, package.version_file) == (  # type: ignore[attr-defined]
        "3.1.4",
        "meson files()",
        "VERSION",
    )
    assert {"meson.build", "VERSION"} <= set(package.files)  # type: ignore[attr-defined]
    assert findings == []


@pytest.mark.parametrize(
    ("meson", "message"),
    [
        (
            "project('m', version: run_command('git', 'describe', check: true).stdout().strip())\n",
            "meson.build project() computes its version (run_command(",
        ),
        ("project('m')\n", "meson.build project() sets no version:"),
        ("message('no project')\n", "meson.build has no project() call"),
        (None, "meson-python takes the version from meson.build, which cannot be read"),
    ],
)
def test_an_unreadable_meson_version_is_a_finding_with_the_fix(
    tmp_path: Path, meson: str | None, message: str
) -> None:
    root = write_monorepo(tmp_path / "repo", {"m": MESON_PYPROJECT})
    if meson is not None:
        (root / "packages" / "m" / "meson.build").write_text(meson)
    _package, findings = _one(root, "m")
    ((code, text, fix),) = findings
    assert code == "dynamic-version" and message in text, text
    assert "base-version" in fix and ("version: '1.2.3'" in fix or "meson.build" in fix)


@pytest.mark.parametrize(
    ("cargo", "maturin", "message"),
    [
        (
            '[package]\nname = "r"\nversion.workspace = true\n',
            "",
            "Cargo.toml inherits its version from the Cargo workspace",
        ),
        ('[package]\nname = "r"\nversion = "1.0.0-beta.2.x"\n', "", "has no PEP 440 form"),
        ('[package]\nname = "r"\n', "", "Cargo.toml has no [package] version string"),
        ("[package\n", "", "Cargo.toml is not valid TOML"),
        (None, "", "maturin takes the version from Cargo.toml, which cannot be read"),
        (None, '\n[tool.maturin]\nmanifest-path = "../other/Cargo.toml"\n', "not a path inside"),
    ],
)
def test_an_unreadable_cargo_version_is_a_finding_with_the_fix(
    tmp_path: Path, cargo: str | None, maturin: str, message: str
) -> None:
    root = write_monorepo(tmp_path / "repo", {"r": MATURIN_PYPROJECT.format(maturin=maturin)})
    if cargo is not None:
        (root / "packages" / "r" / "Cargo.toml").write_text(cargo)
    _package, findings = _one(root, "r")
    ((code, text, fix),) = findings
    assert code == "dynamic-version" and message in text, text
    assert "Cargo.toml" in fix and "base-version" in fix


def test_maturin_manifest_path_is_followed(tmp_path: Path) -> None:
    maturin = '\n[tool.maturin]\nmanifest-path = "rust/Cargo.toml"\n'
    root = write_monorepo(tmp_path / "repo", {"r": MATURIN_PYPROJECT.format(maturin=maturin)})
    (root / "packages/r/rust").mkdir()
    (root / "packages/r/rust/Cargo.toml").write_text(
        '[package]\nname = "r"\nversion = "1.0.0-rc.1"\n'
    )
    package, findings = _one(root, "r")
    assert (package.version, package.version_file) == ("1.0.0rc1", "rust/Cargo.toml")  # type: ignore[attr-defined]
    assert findings == []


SKB = """[build-system]
requires = ["scikit-build-core"]
build-backend = "scikit_build_core.build"

[project]
name = "s"
dynamic = ["version"]

{settings}
[tool.monorepo]
status = "stable"
"""


@pytest.mark.parametrize(
    ("settings", "version", "source", "file"),
    [
        (  # the legacy table, scikit-build-core's default regex (group "value")
            '[tool.scikit-build]\nmetadata.version.provider = "scikit_build_core.metadata.regex"\n'
            'metadata.version.input = "s/__init__.py"\n',
            "2.2.0",
            "scikit-build regex",
            "s/__init__.py",
        ),
        (  # the standard [[tool.dynamic-metadata]] entry, with a custom regex
            '[[tool.dynamic-metadata]]\nprovider = "scikit_build_core.metadata.regex"\n'
            'field = "version"\ninput = "CMakeLists.txt"\n'
            "regex = 'project\\(s VERSION (?P<value>[0-9.]+)\\)'\n",
            "3.0.1",
            "scikit-build regex",
            None,  # read, never rewritten: CMake takes no PEP 440 version
        ),
        (  # result reshapes the match: the file does not hold the version as such
            '[tool.scikit-build.metadata.version]\nprovider = "scikit_build_core.metadata.regex"\n'
            'input = "CMakeLists.txt"\n'
            "regex = 'project\\(s VERSION (?P<major>\\d+)\\.(?P<minor>\\d+)'\n"
            "result = '{major}.{minor}.0'\n",
            "3.0.0",
            "scikit-build regex",
            None,
        ),
    ],
)
def test_scikit_build_regex_versions_are_read(
    tmp_path: Path, settings: str, version: str, source: str, file: str | None
) -> None:
    root = write_monorepo(tmp_path / "repo", {"s": SKB.format(settings=settings)})
    pkg = root / "packages" / "s"
    (pkg / "s").mkdir()
    (pkg / "s/__init__.py").write_text('__version__ = "2.2.0"\n')
    (pkg / "CMakeLists.txt").write_text("project(s VERSION 3.0.1)\n")
    package, findings = _one(root, "s")
    assert (package.version, package.version_source, package.version_file) == (  # type: ignore[attr-defined]
        version,
        source,
        file,
    )
    assert findings == []


def test_scikit_build_setuptools_scm_provider_takes_tags(tmp_path: Path) -> None:
    settings = (
        "[tool.scikit-build]\nmetadata.version.provider = "
        '"scikit_build_core.metadata.setuptools_scm"\n\n[tool.setuptools_scm]\n'
    )
    root = write_monorepo(tmp_path / "repo", {"s": SKB.format(settings=settings)})
    package, _ = _one(root, "s")
    assert package.version_source == "setuptools-scm" and package.tag_pattern  # type: ignore[attr-defined]


def test_an_unknown_scikit_build_provider_is_a_finding(tmp_path: Path) -> None:
    settings = '[tool.scikit-build.metadata.version]\nprovider = "my_plugin"\n'
    root = write_monorepo(tmp_path / "repo", {"s": SKB.format(settings=settings)})
    _package, findings = _one(root, "s")
    ((code, text, fix),) = findings
    assert code == "dynamic-version" and "provider = 'my_plugin'" in text
    assert "scikit_build_core.metadata.regex" in fix


# ------------------------------------------------------------------------------ conversions


@pytest.mark.parametrize(
    ("pep440", "semver"),
    [
        ("0.3.0.dev7", "0.3.0-dev.7"),
        ("1.2.dev3", "1.2.0-dev.3"),
        ("1.0.0rc1.dev2", "1.0.0-rc.1.dev.2"),
        ("2.0.0", "2.0.0"),
        ("1.0.0.post1.dev4", "1.0.0-post.1.dev.4"),
        ("1.0.0+local.7", "1.0.0+local.7"),
    ],
)
def test_cargo_versions_round_trip(pep440: str, semver: str) -> None:
    assert semver_from_pep440(pep440) == semver
    from packaging.version import Version

    back = pep440_from_semver(semver)  # what maturin makes of it
    assert back is not None and Version(back) == Version(pep440)


@pytest.mark.parametrize("version", ["1!1.0.0", "1.2.3.4.dev1"])
def test_a_version_cargo_cannot_say_is_refused(version: str) -> None:
    with pytest.raises(ValueError, match="no semver form"):
        semver_from_pep440(version)


# --------------------------------------------------------------------------------- staging


def test_staging_writes_the_snapshot_into_native_build_files(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    root = fixture_repo("layout-compiled")
    init_repo(root)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    plan = plan_of(root)
    staging = tmp_path / "staging"

    meson = stage_package(root, plan.package("meson-pkg"), staging)
    text = (meson / "meson.build").read_text()
    assert "version: '1.2.0.dev7',  # the release this branch prepares" in text
    assert (
        text.replace("1.2.0.dev7", "1.2.0") == (root / "packages/meson-pkg/meson.build").read_text()
    )  # only the literal changed
    pyproject = (meson / "pyproject.toml").read_text()
    assert 'version = "1.2.0.dev7"' in pyproject and '"version"' not in pyproject
    assert '"skb-pkg==0.9.1.dev7"' in pyproject
    # meson dist archives HEAD: the staged copy is a clean one-commit repository of it
    show = subprocess.run(
        ["git", "-C", str(meson), "show", "HEAD:meson.build"], capture_output=True, text=True
    )
    assert show.stdout == text
    status = subprocess.run(
        ["git", "-C", str(meson), "status", "--porcelain"], capture_output=True, text=True
    )
    assert status.returncode == 0 and status.stdout == ""

    skb = stage_package(root, plan.package("skb-pkg"), staging)
    pyproject = (skb / "pyproject.toml").read_text()
    assert 'version = "0.9.1.dev7"' in pyproject
    assert "metadata.version" not in pyproject  # the provider would refuse a static version
    assert '__version__ = "0.9.1.dev7"' in (skb / "src/skb_pkg/__init__.py").read_text()
    assert not (skb / ".git").exists()  # only backends that archive HEAD get a repository

    rust = stage_package(root, plan.package("maturin-bin"), staging)
    assert 'version = "0.3.0-dev.7"' in (rust / "Cargo.toml").read_text()
    assert 'version = "0.3.0-dev.7"' in (rust / "Cargo.lock").read_text()
    assert 'version = "0.3.0.dev7"' in (rust / "pyproject.toml").read_text()
    assert '"meson-pkg==1.2.0.dev7"' in (rust / "pyproject.toml").read_text()

    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before  # the working tree is never written


def test_a_poetry2_dynamic_versioning_project_stays_dynamic_in_staging(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    """poetry-dynamic-versioning only acts while [project] version is dynamic: a static
    version would switch off its substitutions (``__version__ = "0.0.0"`` would ship)."""
    root = fixture_repo("layout-dunamai")
    init_repo(root)
    git(root, "tag", "uvdv-v1.2.0")
    staged = stage_package(root, plan_of(root).package("pdv2"), tmp_path / "s")
    text = (staged / "pyproject.toml").read_text()
    project = text.split("[tool.poetry]")[0]
    assert 'dynamic = ["version"]' in project and "\nversion =" not in project
    assert '[tool.poetry]\nversion = "0.4.0.dev7"' in text
    assert '"pdv==1.0.0.dev7"' in text


def test_rewriting_drops_every_scikit_build_version_provider() -> None:
    text = """[project]
name = "s"
dynamic = ["version", "readme"]

[tool.scikit-build]
wheel.packages = ["src/s"]

[tool.scikit-build.metadata.version]
provider = "scikit_build_core.metadata.regex"
input = "src/s/__init__.py"

[[tool.dynamic-metadata]]
provider = "scikit_build_core.metadata.regex"
field = "version"
input = "src/s/__init__.py"

[[tool.dynamic-metadata]]
provider = "my_readme"
field = "readme"
"""
    out = rewrite_pyproject(text, "1.0.dev7", {})
    assert 'dynamic = ["readme"]' in out and 'version = "1.0.dev7"' in out
    assert 'wheel.packages = ["src/s"]' in out
    assert 'field = "version"' not in out and "metadata.version" not in out
    assert 'provider = "my_readme"' in out


def test_native_rewriters_refuse_what_they_did_not_read() -> None:
    with pytest.raises(PublishError, match=re.escape("project() version is not '1.0'")):
        rewrite_meson_build("project('m', version: '2.0')\n", "1.0", "1.0.dev1")
    with pytest.raises(PublishError, match=re.escape("[package] version is not '1.0.0'")):
        rewrite_cargo_toml('[package]\nname = "r"\nversion = "2.0.0"\n', "1.0.0", "1.0.0.dev1")
    with pytest.raises(PublishError, match="no semver form"):
        rewrite_cargo_toml('[package]\nname = "r"\nversion = "1.0.0"\n', "1.0.0", "1!1.0.0.dev1")
    lock = '[[package]]\nname = "r"\nversion = "1.0.0"\n\n[[package]]\nname = "dep"\nversion = "1.0.0"\nsource = "registry+x"\n'
    out = rewrite_cargo_lock(lock, "r", "1.0.0", "1.0.0-dev.1")
    assert out.count('version = "1.0.0-dev.1"') == 1 and 'source = "registry+x"' in out


def test_a_version_file_is_never_clobbered() -> None:
    """A file the version was read from by a pattern (not a plain VERSION file) gets only its
    one occurrence replaced, or is refused: never overwritten with the bare version."""
    cmake = "project(s VERSION 3.0.1)\nset(X 3.0.1)\n"
    with pytest.raises(PublishError, match=re.escape("holds '3.0.1' 2 times")):
        rewrite_version_file("CMakeLists.txt", cmake, "3.0.1", "3.0.1.dev7")
    one = rewrite_version_file("VERSION.txt", "version=3.0.1\n", "3.0.1", "3.0.1.dev7")
    assert one == "version=3.0.1.dev7\n"
    assert rewrite_version_file("VERSION", "3.0.1\n", "3.0.1", "3.0.1.dev7") == "3.0.1.dev7\n"


@pytest.mark.parametrize(
    ("backend", "file", "text", "staged"),
    [
        ("mesonpy", "meson.build", "project('x', version: '2.0.0')\n", "version: '2.0.0.dev7'"),
        ("maturin", "Cargo.toml", '[package]\nname = "x"\nversion = "2.0.0"\n', '"2.0.0-dev.7"'),
        ("mesonpy", "meson.build", "project('x', version: '1.9.0')\n", "version: '1.9.0'"),
        ("maturin", "Cargo.toml", '[package]\nname = "x"\nversion = "0.1.0"\n', '"0.1.0"'),
    ],
)
def test_a_static_version_is_written_into_the_native_file_that_says_the_same(
    tmp_path: Path, backend: str, file: str, text: str, staged: str
) -> None:
    """``[project] version = "2.0.0"`` static: meson.build / Cargo.toml saying 2.0.0 get the
    snapshot too; one that says something else is left as it is (it is not the version)."""
    pyproject = (
        f'[build-system]\nrequires = ["x"]\nbuild-backend = "{backend}"\n\n'
        '[project]\nname = "x"\nversion = "2.0.0"\n\n[tool.monorepo]\nstatus = "stable"\n'
    )
    root = write_monorepo(tmp_path / "repo", {"x": pyproject})
    (root / "packages/x" / file).write_text(text)
    init_repo(root)
    planned = plan_of(root).package("x")
    assert planned.version == "2.0.0.dev7"
    out = stage_package(root, planned, tmp_path / "s")
    assert staged in (out / file).read_text()
    assert 'version = "2.0.0.dev7"' in (out / "pyproject.toml").read_text()


def test_an_edit_to_the_native_file_is_seen_through_the_cache(tmp_path: Path) -> None:
    pyproject = (
        '[build-system]\nrequires = ["x"]\nbuild-backend = "mesonpy"\n\n'
        '[project]\nname = "x"\nversion = "2.0.0"\n\n[tool.monorepo]\nstatus = "stable"\n'
    )
    root = write_monorepo(tmp_path / "repo", {"x": pyproject})
    meson = root / "packages/x/meson.build"
    meson.write_text("project('x', version: '1.0.0')\n")
    config = load_config(root)
    assert load_workspace(config).packages["x"].version_file is None
    meson.write_text("project('x', version: '2.0.0')  # now the same\n")
    assert load_workspace(config).packages["x"].version_file == "meson.build"


@pytest.mark.parametrize(
    ("backend", "file", "text"),
    [
        ("maturin", "Cargo.toml", '[package]\nname = "x"\nversion.workspace = true\n'),
        ("mesonpy", "meson.build", "project('x', version: run_command('v.sh').stdout())\n"),
    ],
)
def test_the_base_version_fallback_builds_a_version_that_cannot_be_read(
    tmp_path: Path, backend: str, file: str, text: str
) -> None:
    """With ``[tool.monorepo] base-version`` the unreadable native version is no finding: the
    staged pyproject says the snapshot statically and the native file is left as it is."""
    pyproject = (
        f'[build-system]\nrequires = ["x"]\nbuild-backend = "{backend}"\n\n'
        '[project]\nname = "x"\ndynamic = ["version"]\n\n'
        '[tool.monorepo]\nstatus = "stable"\nbase-version = "4.0.0"\n'
    )
    root = write_monorepo(tmp_path / "repo", {"x": pyproject})
    (root / "packages/x" / file).write_text(text)
    assert _one(root, "x")[1] == []
    init_repo(root)
    planned = plan_of(root).package("x")
    assert (planned.version, planned.version_file) == ("4.0.0.dev7", None)
    out = stage_package(root, planned, tmp_path / "s")
    assert 'version = "4.0.0.dev7"' in (out / "pyproject.toml").read_text()
    assert (out / file).read_text() == text
