"""Every bad input of issue 7: a finding with file:line and the fix, or a usage error (exit 2).

Never a traceback, never a silent drop, never a hang (a FIFO or /dev/zero is never opened).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import analyse, write_monorepo

from monorepo_tools.workspace.readers.toml import MAX_DEPTH

GOOD = '[project]\nname = "good"\nversion = "1.0"\n[tool.monorepo]\nstatus = "stable"\n'


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_monorepo(tmp_path / "m", {"good": GOOD, **files})


def _only(root: Path, package: str) -> list[tuple[str, str, int | None, str, str]]:
    return [
        (f.code, f.file, f.line, f.message, f.fix)
        for f in analyse(root).findings
        if f.package == package
    ]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("alpha!x", "'alpha!x'"),
        ("has space", "'has space'"),
        ("ünïcode", "'ünïcode'"),
        ("new\\nline", "'new\\nline'"),
        ("-leading", "'-leading'"),
    ],
)
def test_names_are_checked_as_pep508_names(tmp_path: Path, name: str, shown: str) -> None:
    root = _repo(tmp_path, {"bad": f'[project]\nname = "{name}"\nversion = "1.0"\n'})
    ((code, file, line, message, fix),) = _only(root, "bad")
    assert (code, file, line) == ("invalid-pyproject", "packages/bad/pyproject.toml", 2)
    assert "is not a valid distribution name" in message and shown in message
    assert 'name = "bad" in [project]' in fix


def test_a_newline_in_a_name_cannot_inject_a_workflow_command(
    cli: Callable[..., object], tmp_path: Path
) -> None:
    root = _repo(
        tmp_path,
        {"bad": '[project]\nname = "x\\n::error file=a::owned"\nversion = "1.0"\n'},
    )
    for fmt in ("text", "github", "json", "gitlab"):
        result = cli("check", "--root", str(root), "--format", fmt)
        out: str = result.out  # type: ignore[attr-defined]
        assert result.code == 1  # type: ignore[attr-defined]
        assert not any(line.startswith("::error file=a") for line in out.splitlines()), fmt
    graph = cli("graph", "--root", str(root), "--format", "text")
    assert "::error file=a" not in "\n".join(
        line
        for line in graph.out.splitlines()
        if line.startswith("::")  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize(
    ("table", "field", "fix"),
    [
        ('requires = "hatchling"', "build-system.requires", 'requires = ["hatchling"]'),
        ("build-backend = 1", "build-system.build-backend", 'build-backend = "hatchling.build"'),
        ("requires = [1]", "build-system.requires", "a list"),
    ],
)
def test_bad_build_system_is_a_finding(tmp_path: Path, table: str, field: str, fix: str) -> None:
    text = f'[build-system]\n{table}\n\n[project]\nname = "bad"\nversion = "1.0"\n'
    root = _repo(tmp_path, {"bad": text})
    ((code, file, line, message, found_fix),) = _only(root, "bad")
    assert (code, file, line) == ("invalid-pyproject", "packages/bad/pyproject.toml", 2)
    assert message.startswith(field) and fix in found_fix


def _make_special(folder: Path, kind: str) -> None:
    target = folder / "pyproject.toml"
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to("/dev/zero")


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("directory", "is a directory, not a file"),
        ("fifo", "is a FIFO (named pipe), not a file"),
        ("devzero", "is a device (e.g. a symlink to /dev/zero), not a file"),
    ],
)
def test_a_pyproject_that_is_not_a_file_is_a_finding(
    cli: Callable[..., object], tmp_path: Path, kind: str, said: str
) -> None:
    root = _repo(tmp_path, {})
    _make_special(root / "packages" / "odd", kind)
    ((code, file, _line, message, fix),) = _only(root, "odd")
    assert (code, file) == ("invalid-pyproject", "packages/odd/pyproject.toml")
    assert said in message and "regular file" in fix
    result = cli("check", "--root", str(root), "--format", "json")
    assert result.code == 1  # type: ignore[attr-defined]
    assert json.loads(result.out)["summary"]["packages"] == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["directory", "fifo", "devzero"])
def test_a_root_pyproject_that_is_not_a_file_is_a_usage_error(
    cli: Callable[..., object], tmp_path: Path, kind: str
) -> None:
    root = tmp_path / "m"
    (root / "packages" / "good").mkdir(parents=True)
    (root / "packages" / "good" / "pyproject.toml").write_text(GOOD)
    _make_special(root, kind)
    result = cli("check", "--root", str(root))
    assert result.code == 2  # type: ignore[attr-defined]
    assert "is not a regular file" in result.err  # type: ignore[attr-defined]


def test_deep_nesting_is_a_finding_not_a_recursion_error(tmp_path: Path) -> None:
    depth = 1000
    text = '[project]\nname = "deep"\nversion = "1.0"\nx = ' + "[" * depth + "]" * depth + "\n"
    root = _repo(tmp_path, {"deep": text})
    ((code, _file, line, message, _fix),) = _only(root, "deep")
    assert (code, line) == ("invalid-pyproject", 4)
    assert f"more than {MAX_DEPTH} levels deep" in message


def test_deep_nesting_in_the_root_pyproject_is_a_usage_error(
    cli: Callable[..., object], tmp_path: Path
) -> None:
    root = _repo(tmp_path, {})
    (root / "pyproject.toml").write_text("x = " + "[" * 1000 + "]" * 1000 + "\n")
    result = cli("check", "--root", str(root))
    assert result.code == 2  # type: ignore[attr-defined]
    assert "levels deep" in result.err  # type: ignore[attr-defined]


def test_non_utf8_files(cli: Callable[..., object], tmp_path: Path) -> None:
    root = _repo(tmp_path, {})
    (root / "packages" / "latin").mkdir()
    (root / "packages" / "latin" / "pyproject.toml").write_bytes(
        b'[project]\nname = "latin"\ndescription = "caf\xe9"\n'
    )
    ((code, _file, line, message, fix),) = _only(root, "latin")
    assert (code, line) == ("invalid-pyproject", 3)
    assert "is not UTF-8" in message and "0xe9" in message and "UTF-8" in fix
    (root / "pyproject.toml").write_bytes(
        b'[tool.monorepo]\n# caf\xe9\npackages = ["packages/*"]\n'
    )
    result = cli("check", "--root", str(root))
    assert result.code == 2  # type: ignore[attr-defined]
    assert "pyproject.toml:2: is not UTF-8" in result.err  # type: ignore[attr-defined]


def test_a_byte_order_mark_is_named(cli: Callable[..., object], tmp_path: Path) -> None:
    root = _repo(tmp_path, {})
    (root / "packages" / "bom").mkdir()
    (root / "packages" / "bom" / "pyproject.toml").write_text("\ufeff" + GOOD, encoding="utf-8")
    ((code, _file, line, message, fix),) = _only(root, "bom")
    assert (code, line) == ("invalid-pyproject", 1)
    assert "byte order mark (BOM)" in message and "without BOM" in fix
    (root / "pyproject.toml").write_text('\ufeff[tool.monorepo]\npackages = ["packages/*"]\n')
    result = cli("check", "--root", str(root))
    assert result.code == 2  # type: ignore[attr-defined]
    assert "byte order mark" in result.err  # type: ignore[attr-defined]


def test_tokens_in_requirement_urls_are_masked_in_every_format(
    cli: Callable[..., object], tmp_path: Path
) -> None:
    text = (
        '[project]\nname = "leaky"\nversion = "1.0"\n'
        'dependencies = ["p @ https://user:s3cr3t-token@host.example/p.whl"]\n'
        '[tool.monorepo]\nstatus = "stable"\n'
    )
    root = _repo(tmp_path, {"leaky": text})
    for fmt in ("text", "json", "github", "gitlab"):
        result = cli("check", "--root", str(root), "--format", fmt, "--no-cache")
        out: str = result.out  # type: ignore[attr-defined]
        assert result.code == 1, fmt  # type: ignore[attr-defined]
        assert "s3cr3t-token" not in out and "user:" not in out, fmt
        assert "https://***@host.example/p.whl" in out, fmt


def test_every_graph_format_neutralises_control_characters() -> None:
    from monorepo_tools.commands.graph import GRAPH_FORMATS, render_graph
    from monorepo_tools.render.model import GraphEdge, GraphNode, GraphView

    node = GraphNode("a", "1.0\n::error ::x\x1b[31m", "stable", True, "packages/a\r", 0)
    other = GraphNode("b", None, "stable", True, "packages/b", 0)
    view = GraphView((node, other), (GraphEdge("a", "b", "optional", "e\nx"),), (("a", "b"),), "t")
    for fmt in GRAPH_FORMATS:
        try:
            out = render_graph(view, fmt)
        except ImportError:  # a renderer that has not landed on this branch
            continue
        assert "\x1b" not in out and "\r" not in out, fmt
        assert not any(line.startswith("::error") for line in out.splitlines()), fmt


def test_a_broken_symlink_pyproject_is_a_finding(tmp_path: Path) -> None:
    root = _repo(tmp_path, {})
    (root / "packages" / "dangling").mkdir()
    (root / "packages" / "dangling" / "pyproject.toml").symlink_to(tmp_path / "nowhere.toml")
    ((code, file, _line, message, fix),) = _only(root, "dangling")
    assert (code, file) == ("invalid-pyproject", "packages/dangling/pyproject.toml")
    assert "broken symlink" in message and "regular file" in fix
