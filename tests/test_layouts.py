"""Real monorepo layouts (issue 7): one fixture monorepo per layout under tests/fixtures/layout-*.

For each: what is read (flavour, base version and where it comes from, edges), what ``plan``
makes of it (VCS tags → next release, the base-version fallback, the pretend/bypass variables),
and what staging writes (pyproject, Poetry tables, setup.cfg, version files). Real builds of
the same fixtures are in ``tests/publish/test_backends.py`` (slow).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import GIT_ENV, analyse

from monorepo_tools.commands.check import check
from monorepo_tools.config import load_config
from monorepo_tools.errors import PlanError
from monorepo_tools.publish.stage import stage_package
from monorepo_tools.snapshot.plan import Plan, make_plan
from monorepo_tools.snapshot.versions import SnapshotId
from monorepo_tools.workspace import load_workspace


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env
    ).stdout


def commit_all(root: Path, message: str = "c") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")


def plan_of(root: Path, snapshot: int = 7) -> Plan:
    workspace = load_workspace(load_config(root), use_cache=False)
    return make_plan(check(workspace), SnapshotId(snapshot, "--snapshot-id"))


# (fixture, package) -> (flavour, version, version_source, version_file)
READ = {
    ("layout-hatch-toml", "about-pkg"): (
        "pep621",
        "2.3.0",
        "hatch path",
        "src/about_pkg/__about__.py",
    ),
    ("layout-setuptools-dynamic", "attr-pkg"): (
        "pep621",
        "1.5.0",
        "setuptools attr",
        "attr_pkg/__init__.py",
    ),
    ("layout-setuptools-dynamic", "file-pkg"): ("pep621", "0.7.1", "setuptools file", "VERSION"),
    # attr through `from ._version import __version__`: the file that assigns it
    ("layout-setuptools-dynamic", "import-pkg"): (
        "pep621",
        "2.7.0",
        "setuptools attr",
        "src/import_pkg/_version.py",
    ),
    ("layout-pdm-backend", "pdm-file"): ("pep621", "3.1.0", "pdm file", "src/pdm_file/__init__.py"),
    ("layout-pdm-backend", "pdm-scm"): ("pep621", None, "pdm scm", None),
    ("layout-flit", "flitty"): ("pep621", "0.4.2", "flit __version__", "flitty.py"),
    ("layout-dunamai", "uvdv"): ("pep621", None, "uv-dynamic-versioning", None),
    ("layout-dunamai", "pdv"): ("poetry", None, "poetry-dynamic-versioning", None),
    ("layout-dunamai", "pdv2"): ("pep621", None, "poetry-dynamic-versioning", None),
    ("layout-dunamai", "uvdv-hook"): ("pep621", None, "uv-dynamic-versioning", None),
    ("layout-compiled", "meson-pkg"): ("pep621", "1.2.0", "meson project()", "meson.build"),
    ("layout-compiled", "skb-pkg"): (
        "pep621",
        "0.9.1",
        "scikit-build regex",
        "src/skb_pkg/__init__.py",
    ),
    ("layout-compiled", "maturin-bin"): ("pep621", "0.3.0", "cargo package.version", "Cargo.toml"),
    ("layout-hatch-vcs", "chroma-integration"): ("pep621", None, "hatch-vcs", None),
    ("layout-hatch-vcs", "core-lib"): ("pep621", None, "setuptools-scm", None),
    ("layout-poetry", "poetry-app"): ("poetry", "1.4.0", "tool.poetry.version", None),
    ("layout-poetry", "poetry2-lib"): ("pep621", "2.0.0", "project.version", None),
    ("layout-setup-cfg", "cfg-pkg"): ("setup.cfg", "1.1.0", "setup.cfg metadata.version", None),
    ("layout-setup-cfg", "cfg-base"): (
        "setup.cfg",
        "1.0.3",
        "setuptools attr",
        "cfg_base/__init__.py",
    ),
    # setup.py only: name, version and requirements from the backend's PEP 517 metadata
    ("layout-setup-cfg", "legacy-py"): ("setup.py", "0.1.0", "PEP 517 metadata", None),
    ("layout-root-and-globs", "workspace-root"): ("pep621", "0.3.0", "project.version", None),
    ("layout-root-and-globs", "deep-lib"): ("pep621", "0.1.0", "project.version", None),
}


@pytest.mark.parametrize(("fixture", "name"), sorted(READ), ids=lambda v: str(v))
def test_every_layout_is_read_statically(
    fixture_repo: Callable[[str], Path], fixture: str, name: str
) -> None:
    root = fixture_repo(fixture)
    package = analyse(root).workspace.packages[name]
    flavour, version, source, file = READ[(fixture, name)]
    assert (package.flavour, package.version, package.version_source, package.version_file) == (
        flavour,
        version,
        source,
        file,
    )


def test_version_files_are_part_of_the_cache_key(fixture_repo: Callable[[str], Path]) -> None:
    root = fixture_repo("layout-hatch-toml")
    config = load_config(root)
    assert load_workspace(config).packages["about-pkg"].version == "2.3.0"
    about = root / "packages/about/src/about_pkg/__about__.py"
    about.write_text('__version__ = "2.4.0"\n', encoding="utf-8")
    assert load_workspace(config).packages["about-pkg"].version == "2.4.0"
    (root / "packages/about/hatch.toml").write_text(
        '[version]\npath = "src/about_pkg/other.py"\n', encoding="utf-8"
    )
    (root / "packages/about/src/about_pkg/other.py").write_text('VERSION = "9.0.0"\n')
    assert load_workspace(config).packages["about-pkg"].version == "9.0.0"


def test_poetry_dependencies_become_edges_and_pep440(fixture_repo: Callable[[str], Path]) -> None:
    analysis = analyse(fixture_repo("layout-poetry"))
    ws = analysis.workspace
    app = ws.packages["poetry-app"]
    raws = {(d.kind.value, d.group, d.raw) for d in app.dependencies}
    assert ("runtime", None, "requests>=2.31,<3.0") in raws  # ^2.31
    assert ("runtime", None, 'tomli>=2.0,<2.1; python_version < "3.11"') in raws  # ~2.0 + python
    assert ("optional", "pretty", "rich>=13,<14") in raws  # optional, in extra "pretty"
    assert ("optional", "pretty", "poetry2-lib[fast] @ file:../lib2") in raws
    assert ("dev", "test", "pytest>=8,<9") in raws  # a group
    assert ("dev", "dev", "poetry-tools @ file:../tools") in raws  # legacy dev-dependencies
    edges = {(e.source, e.target, e.kind.value) for e in ws.edges}
    assert ("poetry-app", "poetry-lib", "runtime") in edges  # a path dependency is an edge
    assert ("poetry-app", "poetry2-lib", "optional") in edges
    assert ("poetry2-lib", "poetry-lib", "runtime") in edges  # Poetry 2: [project] + path source
    assert not analysis.findings


def test_poetry_unions_are_read_by_name(tmp_path: Path) -> None:
    """A Poetry union (``^1.20 || ^2.0``) has no PEP 440 form: the requirement is read by its
    name alone (what the graph needs) instead of failing the package; a union of Pythons is an
    ``or`` of markers; an alternative that is no constraint is still a finding."""
    from monorepo_tools.workspace.readers import read_package

    text = (
        '[tool.poetry]\nname = "app"\nversion = "1.0"\n[tool.poetry.dependencies]\n'
        'python = "^3.9"\nnumpy = "^1.20 || ^2.0"\n'
        'core = { version = "^1 | ^2", python = "~3.9 || ^3.11", path = "../core" }\n'
        'bad = "^1 || nonsense!"\n'
    )
    package = read_package(tmp_path, "packages/app", text.encode(), "pyproject.toml")
    raws = sorted(d.raw for d in package.dependencies)
    assert raws == [
        'core @ file:../core ; ((python_version >= "3.9" and python_version < "3.10") or '
        '(python_version >= "3.11" and python_version < "4.0"))',
        "numpy",
    ]
    assert [(p.field, p.message) for p in package.problems] == [
        (
            "tool.poetry.dependencies.bad",
            "bad = '^1 || nonsense!': 'nonsense!' (in the union '^1 || nonsense!') is not a "
            "constraint",
        )
    ]


def test_graph_of_a_poetry_monorepo_is_not_empty(
    cli: Callable[..., object], fixture_repo: Callable[[str], Path]
) -> None:
    result = cli("graph", "--root", str(fixture_repo("layout-poetry")), "--format", "json")
    assert result.code == 0  # type: ignore[attr-defined]
    assert '"poetry-app"' in result.out  # type: ignore[attr-defined]


def test_vcs_versions_come_from_the_packages_own_tags(fixture_repo: Callable[[str], Path]) -> None:
    root = fixture_repo("layout-hatch-vcs")
    init_repo(root)
    git(root, "tag", "integrations/chroma-v4.3.9")
    commit_all_empty = ["commit", "-q", "--allow-empty", "-m", "next"]
    git(root, *commit_all_empty)
    git(root, "tag", "integrations/chroma-v4.4.0")
    git(root, "tag", "integrations/other-v9.9.9")  # another package's tag: ignored
    plan = plan_of(root)
    chroma = plan.package("chroma-integration")
    assert (chroma.base_version, chroma.version) == ("4.4.1", "4.4.1.dev7")  # after 4.4.0
    assert "integrations/chroma-v4.4.0" in chroma.base_source
    assert dict(chroma.build_environment) == {
        "SETUPTOOLS_SCM_PRETEND_VERSION": "4.4.1.dev7",
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_CHROMA_INTEGRATION": "4.4.1.dev7",
    }
    core = plan.package("core-lib")  # no core-v* tag: the base-version fallback
    assert (core.base_version, core.version) == ("0.9.0", "0.9.0.dev7")
    assert "[tool.monorepo] base-version" in core.base_source
    assert ("core-lib", "0.9.0.dev7") in chroma.pins


def test_no_tag_and_no_fallback_is_a_dynamic_version_finding(
    fixture_repo: Callable[[str], Path],
) -> None:
    root = fixture_repo("layout-hatch-vcs")
    init_repo(root)
    with pytest.raises(PlanError) as raised:
        plan_of(root)
    text = str(raised.value)
    assert "error[dynamic-version]" in text
    assert "no tag reachable from HEAD matches its pattern" in text
    assert "base-version" in text


def test_plan_shows_where_each_base_came_from(
    cli: Callable[..., object], fixture_repo: Callable[[str], Path]
) -> None:
    root = fixture_repo("layout-setuptools-dynamic")
    result = cli("plan", "--root", str(root), "--snapshot-id", "7")
    out = result.out  # type: ignore[attr-defined]
    assert "1.5.0 -> 1.5.0.dev7" in out
    assert "base from setuptools attr (packages/attr-pkg/attr_pkg/__init__.py)" in out
    assert "base from setuptools file (packages/file-pkg/VERSION)" in out


@pytest.mark.parametrize(
    ("fixture", "env"),
    [
        ("layout-dunamai", {"uvdv": "UV_DYNAMIC_VERSIONING_BYPASS"}),
        ("layout-dunamai", {"pdv": "POETRY_DYNAMIC_VERSIONING_BYPASS"}),
        ("layout-pdm-backend", {"pdm-scm": "PDM_BUILD_SCM_VERSION"}),
    ],
)
def test_vcs_plugins_get_their_bypass_variable(
    fixture_repo: Callable[[str], Path], fixture: str, env: dict[str, str]
) -> None:
    root = fixture_repo(fixture)
    init_repo(root)
    git(root, "tag", "uvdv-v1.2.0")
    ((name, variable),) = env.items()
    if name == "uvdv":
        plan = plan_of(root)
        assert plan.package("uvdv").version == "1.2.1.dev7"
    else:
        plan = plan_of(root)
    planned = plan.package(name)
    assert dict(planned.build_environment) == {variable: planned.version}


def _stage(root: Path, name: str, plan: Plan, tmp: Path) -> Path:
    return stage_package(root, plan.package(name), tmp)


def test_uv_dynamic_versioning_templates_are_read_and_pinned(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    """uv-dynamic-versioning's metadata hook writes requirements as templates of the package's
    own version ("uvdv=={{ version }}"): read statically (edges, no metadata hook run, no
    unpinnable-metadata finding), pinned literally in staging at *uvdv*'s snapshot version
    (the template would render uvdv-hook's own), and the rest left for the plugin, whose
    bypass variable gets the snapshot version."""
    root = fixture_repo("layout-dunamai")
    init_repo(root)
    git(root, "tag", "uvdv-v1.2.0")
    result = analyse(root)
    hooked = result.workspace.packages["uvdv-hook"]
    assert hooked.needs_metadata == ()
    assert sorted(e.target for e in result.workspace.edges if e.source == "uvdv-hook") == [
        "uvdv",
        "uvdv",
    ]
    assert [f.code for f in result.findings if f.package == "uvdv-hook"] == []
    plan = plan_of(root)
    planned = plan.package("uvdv-hook")
    assert (planned.version, plan.package("uvdv").version) == ("3.0.0.dev7", "1.2.1.dev7")
    assert dict(planned.build_environment) == {"UV_DYNAMIC_VERSIONING_BYPASS": "3.0.0.dev7"}
    assert dict(planned.rewrites) == {
        "uvdv=={{ version }}": "uvdv==1.2.1.dev7",
        "uvdv[cli]=={{version}}; python_version >= '3.8'": (
            'uvdv[cli]==1.2.1.dev7; python_version >= "3.8"'
        ),
    }
    staged = _stage(root, "uvdv-hook", plan, tmp_path / "staging")
    text = (staged / "pyproject.toml").read_text(encoding="utf-8")
    import tomllib

    hook = tomllib.loads(text)["tool"]["hatch"]["metadata"]["hooks"]["uv-dynamic-versioning"]
    assert hook == {
        "dependencies": ["uvdv==1.2.1.dev7", "typing-extensions>=4"],
        "optional-dependencies": {"cli": ['uvdv[cli]==1.2.1.dev7; python_version >= "3.8"']},
    }
    assert "# the plugin renders these" in text  # comments kept


@pytest.mark.parametrize(
    "templates",
    [
        '["core=={{ base }}"]',  # another template variable
        '["core{% if dirty %}>=1{% endif %}"]',  # a statement
        '"core=={{ version }}"',  # not a list
    ],
)
def test_other_templates_leave_the_metadata_to_the_backend(tmp_path: Path, templates: str) -> None:
    """Only {{ version }} is read statically; anything else is the PEP 517 metadata path."""
    from monorepo_tools.workspace.readers import read_package

    text = (
        '[build-system]\nrequires = ["hatchling", "uv-dynamic-versioning"]\n'
        'build-backend = "hatchling.build"\n[project]\nname = "x"\nversion = "1.0"\n'
        'dynamic = ["dependencies"]\n[tool.hatch.metadata.hooks.uv-dynamic-versioning]\n'
        f"dependencies = {templates}\n"
    )
    package = read_package(tmp_path, "x", text.encode(), "pyproject.toml")
    assert package.needs_metadata == ("dependencies",) and package.dependencies == ()


def test_an_attr_version_is_followed_through_imports(tmp_path: Path) -> None:
    """``attr = "pkg.__version__"`` where ``pkg/__init__.py`` only re-exports it: the import
    is followed statically (relative or absolute, ``as`` too), every file read keys the cache;
    a chain that ends without a literal is still a dynamic-version finding naming the file."""
    from monorepo_tools.workspace.readers import read_package

    folder = tmp_path / "packages" / "p"
    (folder / "p" / "sub").mkdir(parents=True)
    (folder / "p" / "__init__.py").write_text("from p.sub import release as __version__\n")
    (folder / "p" / "sub" / "__init__.py").write_text("from .._meta import release\n")
    (folder / "p" / "_meta.py").write_text('release = "4.1.0"\n')
    text = (
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "p"\ndynamic = ["version"]\n'
        '[tool.setuptools.dynamic]\nversion = {attr = "p.__version__"}\n'
    )
    package = read_package(tmp_path, "packages/p", text.encode(), "pyproject.toml")
    assert (package.version, package.version_file) == ("4.1.0", "p/_meta.py")
    assert {"p/__init__.py", "p/sub/__init__.py", "p/_meta.py"} <= set(package.files)
    (folder / "p" / "_meta.py").write_text("release = compute()\n")
    package = read_package(tmp_path, "packages/p", text.encode(), "pyproject.toml")
    assert package.version is None
    assert [p.code for p in package.problems] == ["dynamic-version"]
    assert "p/__init__.py" in package.problems[0].message


def test_staging_rewrites_version_files(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    root = fixture_repo("layout-setuptools-dynamic")
    plan = plan_of(root)
    attr = _stage(root, "attr-pkg", plan, tmp_path / "s")
    assert '__version__ = "1.5.0.dev7"' in (attr / "attr_pkg/__init__.py").read_text()
    text = (attr / "pyproject.toml").read_text()
    assert 'version = "1.5.0.dev7"' in text and '"version"' not in text.split("[tool")[0]
    assert "attr_pkg.__version__" not in text  # [tool.setuptools.dynamic].version removed
    assert '"file-pkg==0.7.1.dev7"' in text
    file_pkg = _stage(root, "file-pkg", plan, tmp_path / "s")
    assert (file_pkg / "VERSION").read_text() == "0.7.1.dev7\n"
    # the working tree is untouched
    assert (root / "packages/file-pkg/VERSION").read_text() == "0.7.1\n"


def test_staging_pins_poetry_tables(fixture_repo: Callable[[str], Path], tmp_path: Path) -> None:
    import tomllib

    root = fixture_repo("layout-poetry")
    plan = plan_of(root)
    app = tomllib.loads((_stage(root, "poetry-app", plan, tmp_path) / "pyproject.toml").read_text())
    deps = app["tool"]["poetry"]["dependencies"]
    assert app["tool"]["poetry"]["version"] == "1.4.0.dev7"
    assert deps["poetry-lib"] == {"version": "==0.2.0.dev7"}  # path/develop dropped
    assert deps["poetry2-lib"] == {"version": "==2.0.0.dev7", "optional": True, "extras": ["fast"]}
    assert deps["requests"] == "^2.31"  # not a monorepo package: untouched
    assert app["tool"]["poetry"]["dev-dependencies"]["poetry-tools"]["path"] == "../tools"
    lib2 = tomllib.loads(
        (_stage(root, "poetry2-lib", plan, tmp_path) / "pyproject.toml").read_text()
    )
    assert lib2["project"]["version"] == "2.0.0.dev7"
    assert lib2["project"]["dependencies"] == ["poetry-lib==0.2.0.dev7"]
    assert lib2["tool"]["poetry"]["dependencies"]["poetry-lib"] == {"version": "==0.2.0.dev7"}


def test_staging_rewrites_setup_cfg_keeping_comments(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    root = fixture_repo("layout-setup-cfg")
    plan = plan_of(root)
    staged = _stage(root, "cfg-pkg", plan, tmp_path) / "setup.cfg"
    text = staged.read_text()
    assert "version = 1.1.0.dev7" in text
    assert "# the release this snapshot leads to" in text
    assert "# requests is pinned by the platform team" in text
    assert text.count("cfg-base==1.0.3.dev7") == 2  # install_requires and the extra
    assert "requests>=2" in text
    base = _stage(root, "cfg-base", plan, tmp_path)
    assert '__version__ = "1.0.3.dev7"' in (base / "cfg_base/__init__.py").read_text()


def test_duplicated_requirements_are_all_pinned(tmp_path: Path) -> None:
    from engine_helpers import write_monorepo

    root = write_monorepo(
        tmp_path / "m",
        {
            "a": '[project]\nname = "a"\nversion = "1.0"\ndependencies = ["b>=1"]\n'
            '[project.optional-dependencies]\nx = ["b>=1"]\n[tool.monorepo]\nstatus = "stable"\n',
            "b": '[project]\nname = "b"\nversion = "1.0"\n[tool.monorepo]\nstatus = "stable"\n',
        },
    )
    plan = plan_of(root)
    text = (_stage(root, "a", plan, tmp_path / "s") / "pyproject.toml").read_text()
    assert text.count('"b==1.0.dev7"') == 2 and "b>=1" not in text


def test_root_package_and_recursive_globs(fixture_repo: Callable[[str], Path]) -> None:
    analysis = analyse(fixture_repo("layout-root-and-globs"))
    assert sorted(analysis.workspace.packages) == ["deep-lib", "workspace-root"]
    root_package = analysis.workspace.packages["workspace-root"]
    assert root_package.path == "." and root_package.pyproject == "pyproject.toml"
    assert root_package.unknown_keys == ()  # [tool.monorepo].packages is fine on the root
    assert [(f.code, f.file) for f in analysis.findings] == [
        ("config-only", "libs/group/settings/pyproject.toml")
    ]
    assert [(e.source, e.target) for e in analysis.workspace.edges] == [
        ("workspace-root", "deep-lib")
    ]


@pytest.mark.parametrize("glob", ["../*", "/tmp/*", "packages/../../*", ".."])
def test_globs_outside_the_root_are_usage_errors(
    cli: Callable[..., object], fixture_repo: Callable[[str], Path], glob: str
) -> None:
    root = fixture_repo("clean")
    result = cli("check", "--root", str(root), "--packages", glob)
    assert result.code == 2  # type: ignore[attr-defined]
    assert "reaches outside the root" in result.err  # type: ignore[attr-defined]
    (root / "pyproject.toml").write_text(f'[tool.monorepo]\npackages = ["{glob}"]\n')
    result = cli("check", "--root", str(root))
    assert result.code == 2  # type: ignore[attr-defined]
    assert "[tool.monorepo].packages" in result.err  # type: ignore[attr-defined]


def test_uv_source_paths_are_not_findings(fixture_repo: Callable[[str], Path]) -> None:
    assert analyse(fixture_repo("layout-uv-sources")).findings == []
    assert (
        analyse(fixture_repo("local-path-dependency"))
        .findings[0]
        .subject.startswith("[project].dependencies")
    )


@pytest.mark.slow
def test_setup_py_metadata_comes_from_the_backend_cached_by_content(
    fixture_repo: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from monorepo_tools.workspace.readers import metadata_hook

    root = fixture_repo("layout-setup-cfg")
    config = load_config(root)
    legacy = load_workspace(config).packages["legacy-py"]  # its real name, from METADATA
    assert (legacy.flavour, legacy.version, legacy.version_source) == (
        "setup.py",
        "0.1.0",
        "PEP 517 metadata",
    )
    assert ("legacy-py", "cfg-base") in {(e.source, e.target) for e in load_workspace(config).edges}

    def never(*args: object) -> str:
        raise AssertionError("the metadata hook ran although its result is cached")

    monkeypatch.setattr(metadata_hook, "_prepare", never)
    assert "legacy-py" in load_workspace(config, use_cache=False).packages  # cache hit
    (root / "packages/legacy/setup.py").write_text(
        'from setuptools import setup\nsetup(name="legacy-py", version="0.2.0")\n'
    )
    with pytest.raises(AssertionError, match="cached"):
        load_workspace(config, use_cache=False)  # the content changed: the hook must run
    monkeypatch.undo()
    assert load_workspace(config).packages["legacy-py"].version == "0.2.0"


def test_the_metadata_hook_can_be_turned_off_and_says_so(
    fixture_repo: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = fixture_repo("unpinnable-metadata")
    monkeypatch.setenv("MONOREPO_METADATA_HOOK", "0")
    findings = analyse(root).findings
    unavailable = [f for f in findings if f.code == "metadata-unavailable"]
    assert unavailable and "MONOREPO_METADATA_HOOK=0" in unavailable[0].message
