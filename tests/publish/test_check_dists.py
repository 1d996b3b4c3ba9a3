"""verify_distribution and twine_check on files that real hatchling builds produced.

The packages are written as a backend that ignores the snapshot rewrite would leave them (a
stale version, a ``>=`` pin, a ``file://`` URL), built once per module with build_all.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from monorepo_tools.publish.build import BuildRequest, BuildResult, build_all
from monorepo_tools.publish.check_dists import twine_check, verify_distribution

SNAPSHOT = "0.3.0.dev42"
PINS = {"pkg-core": "0.2.0.dev42", "Pkg_Util": "1.0.0.dev42"}  # names as anyone spells them


def _package(
    parent: Path,
    name: str,
    version: str,
    dependencies: Sequence[str],
    *,
    readme: tuple[str, str] = ("README.md", "# Fine\n"),
    extra: str = "",
) -> BuildRequest:
    module = name.replace("-", "_")
    root = parent / name
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text("", encoding="utf-8")
    (root / readme[0]).write_text(readme[1], encoding="utf-8")
    content_type = "text/x-rst" if readme[0].endswith(".rst") else "text/markdown"
    deps = ", ".join(json.dumps(d) for d in dependencies)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
        f'readme = {{file = "{readme[0]}", content-type = "{content_type}"}}\n'
        f"dependencies = [{deps}]\n\n"
        "[tool.hatch.metadata]\nallow-direct-references = true\n" + extra,
        encoding="utf-8",
    )
    return BuildRequest(name, root, ("hatchling",), "hatchling.build")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, build_cache: Path) -> dict[str, BuildResult]:
    staged = tmp_path_factory.mktemp("verify-staged")
    requests = [
        _package(
            staged,
            "pkg-good",
            SNAPSHOT,
            [
                "pkg-core==0.2.0.dev42",
                "pkg-util[fast]==1.0.0.dev42; python_version >= '3.8'",
                "requests>=2",  # not internal: any specifier is fine
            ],
            extra='[project.optional-dependencies]\ncli = ["pkg-core==0.2.0.dev42"]\n',
        ),
        _package(staged, "pkg-stale", "0.3.0", ["pkg-core==0.2.0.dev42"]),
        _package(staged, "pkg-loose", SNAPSHOT, ["pkg-core>=0.2.0.dev42", "pkg-util==1.0.0.dev42"]),
        _package(
            staged,
            "pkg-url",
            SNAPSHOT,
            ["pkg-core @ file:///somewhere/pkg-core", "pkg-util==1.0.0.dev42"],
        ),
        _package(staged, "pkg-wildcard", SNAPSHOT, ["pkg-core==0.2.*", "pkg-util==1.0.0.dev42"]),
        _package(
            staged,
            "pkg-badrst",
            SNAPSHOT,
            [],
            readme=(
                "README.rst",
                "Title\n=====\n\nSee `broken link`_ and\n\n.. not-a-directive::\n",
            ),
        ),
    ]
    results = build_all(
        requests, tmp_path_factory.mktemp("verify-dist"), jobs=2, cache_dir=build_cache
    )
    assert all(r.ok for r in results.values()), [r.error for r in results.values()]
    return results


def _files(result: BuildResult) -> tuple[Path, Path]:
    assert result.sdist is not None and result.wheel is not None
    return result.sdist, result.wheel


def test_a_correct_package_passes(built: dict[str, BuildResult]) -> None:
    sdist, wheel = _files(built["pkg-good"])
    assert verify_distribution(wheel, "pkg-good", SNAPSHOT, PINS) == []
    assert verify_distribution(sdist, "pkg_good", SNAPSHOT, PINS) == []  # names compare normalized
    assert twine_check([sdist, wheel]) == []


def test_a_wrong_version_is_reported(built: dict[str, BuildResult]) -> None:
    sdist, wheel = _files(built["pkg-stale"])
    problems = verify_distribution(wheel, "pkg-stale", SNAPSHOT, PINS)
    assert len(problems) == 1
    assert problems[0].startswith(wheel.name + ":")
    assert "Version '0.3.0'" in problems[0] and SNAPSHOT in problems[0]

    sdist_problems = verify_distribution(sdist, "pkg-stale", SNAPSHOT, PINS)
    assert any("PKG-INFO has Version '0.3.0'" in p for p in sdist_problems)
    assert any("pyproject.toml has project.version '0.3.0'" in p for p in sdist_problems)
    assert all(p.startswith(sdist.name + ":") for p in sdist_problems)


def test_a_loose_pin_is_reported(built: dict[str, BuildResult]) -> None:
    sdist, wheel = _files(built["pkg-loose"])
    problems = verify_distribution(wheel, "pkg-loose", SNAPSHOT, PINS)
    assert problems == [
        f"{wheel.name}: pkg_loose-{SNAPSHOT}.dist-info/METADATA requires 'pkg-core>=0.2.0.dev42'"
        " instead of 'pkg-core==0.2.0.dev42'"
    ]
    assert any(
        "'pkg-core>=0.2.0.dev42'" in p
        for p in verify_distribution(sdist, "pkg-loose", SNAPSHOT, PINS)
    )


def test_a_wildcard_pin_is_reported(built: dict[str, BuildResult]) -> None:
    _, wheel = _files(built["pkg-wildcard"])
    (problem,) = verify_distribution(wheel, "pkg-wildcard", SNAPSHOT, PINS)
    assert "'pkg-core==0.2.*'" in problem


def test_a_url_requirement_is_reported(built: dict[str, BuildResult]) -> None:
    sdist, wheel = _files(built["pkg-url"])
    (problem,) = verify_distribution(wheel, "pkg-url", SNAPSHOT, PINS)
    assert problem.startswith(wheel.name + ":")
    assert "from a URL (file:///somewhere/pkg-core)" in problem
    assert any(
        "file:///somewhere/pkg-core" in p
        for p in verify_distribution(sdist, "pkg-url", SNAPSHOT, PINS)
    )


def test_the_name_is_checked(built: dict[str, BuildResult]) -> None:
    _, wheel = _files(built["pkg-good"])
    (problem,) = verify_distribution(wheel, "pkg-other", SNAPSHOT, PINS)
    assert "Name 'pkg-good'" in problem and "'pkg-other'" in problem


def test_an_sdist_without_the_pyproject_is_reported(
    built: dict[str, BuildResult], tmp_path: Path
) -> None:
    sdist, _ = _files(built["pkg-good"])
    stripped = tmp_path / sdist.name
    with tarfile.open(sdist) as source, tarfile.open(stripped, "w:gz") as target:
        for member in source.getmembers():
            if not member.name.endswith("/pyproject.toml"):
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
    (problem,) = verify_distribution(stripped, "pkg-good", SNAPSHOT, PINS)
    assert "no pkg_good-0.3.0.dev42/pyproject.toml" in problem


def test_unreadable_and_unknown_files_are_reported(tmp_path: Path) -> None:
    broken = tmp_path / "pkg_x-1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    assert "cannot read the wheel" in verify_distribution(broken, "pkg-x", "1.0", {})[0]
    empty = tmp_path / "pkg_y-1.0-py3-none-any.whl"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("pkg_y/__init__.py", "")
    assert (
        "expected one *.dist-info/METADATA, found 0"
        in verify_distribution(empty, "pkg-y", "1.0", {})[0]
    )
    other = tmp_path / "pkg-z-1.0.zip"
    other.write_bytes(b"")
    assert "not a wheel" in verify_distribution(other, "pkg-z", "1.0", {})[0]
    tar = tmp_path / "pkg_w-1.0.tar.gz"
    with tarfile.open(tar, "w:gz") as archive:
        data = b"x"
        info = tarfile.TarInfo("a/x")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("b/x")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    assert "expected one top-level folder" in verify_distribution(tar, "pkg-w", "1.0", {})[0]


def test_twine_check_reports_a_broken_readme(
    built: dict[str, BuildResult], capsys: pytest.CaptureFixture[str]
) -> None:
    sdist, wheel = _files(built["pkg-badrst"])
    problems = twine_check([sdist, wheel])
    assert len(problems) == 2
    assert problems[0].startswith(sdist.name + ": twine check failed")
    assert problems[1].startswith(wheel.name + ": twine check failed")
    assert all("would not be rendered on PyPI" in p for p in problems)
    assert any("broken link" in p or "not-a-directive" in p for p in problems)
    # Everything twine prints is captured, nothing reaches our stdout.
    assert "Checking" not in capsys.readouterr().out
    # verify_distribution itself does not look at the README.
    assert verify_distribution(wheel, "pkg-badrst", SNAPSHOT, PINS) == []


def test_twine_check_reports_a_file_it_cannot_read(tmp_path: Path) -> None:
    broken = tmp_path / "pkg_x-1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    (problem,) = twine_check([broken])
    assert problem.startswith(f"{broken.name}: twine check")
