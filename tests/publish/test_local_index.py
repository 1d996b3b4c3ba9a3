"""The embedded PEP 503 index: same rules as a registry, and pip really installs from it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from monorepo_tools.publish.local_index import IndexConflict, LocalIndex, parse_simple_page
from monorepo_tools.publish.registry import (
    FileStatus,
    RetryPolicy,
    publish_files,
    registry_from_env,
)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []
        self.meta: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))
        if tag == "meta":
            self.meta.append(dict(attrs))


def anchors(page: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_add_twice_is_already_published_and_different_bytes_conflict(
    tmp_path: Path, make_wheel: Callable[..., Path]
) -> None:
    index = LocalIndex(tmp_path / "index")
    wheel = make_wheel("Demo.Pkg")
    assert index.add("Demo.Pkg", wheel) is True
    assert index.add("demo-pkg", wheel) is False  # same name (normalized), same bytes
    stored = tmp_path / "index" / "files" / wheel.name
    before = stored.read_bytes()
    other = make_wheel("Demo.Pkg", body="CHANGED = True\n")
    assert other.name == wheel.name and sha(other) != sha(wheel)
    with pytest.raises(IndexConflict) as info:
        index.add("demo_pkg", other)
    assert info.value.published == sha(wheel) and info.value.offered == sha(other)
    assert stored.read_bytes() == before  # never overwritten
    assert index.files() == {"demo-pkg": {wheel.name: sha(wheel)}}


def test_pages_are_pep_503(
    tmp_path: Path, make_wheel: Callable[..., Path], make_sdist: Callable[..., Path]
) -> None:
    index = LocalIndex(tmp_path / "index")
    wheel = make_wheel("Alpha_Beta", requires_python=">=3.8,<4")
    sdist = make_sdist("Alpha_Beta")
    index.add("Alpha_Beta", sdist)
    index.add("Alpha_Beta", wheel)
    index.add("zeta", make_wheel("zeta", requires_python=None))

    root = anchors(tmp_path / "index" / "simple" / "index.html")
    assert [(a["href"],) for a in root.anchors] == [("alpha-beta/",), ("zeta/",)]
    assert {"name": "pypi:repository-version", "content": "1.0"} in root.meta

    page = tmp_path / "index" / "simple" / "alpha-beta" / "index.html"
    links = {str(a["href"]): a for a in anchors(page).anchors}
    assert set(links) == {
        f"../../files/{sdist.name}#sha256={sha(sdist)}",
        f"../../files/{wheel.name}#sha256={sha(wheel)}",
    }
    assert (
        links[f"../../files/{wheel.name}#sha256={sha(wheel)}"]["data-requires-python"] == ">=3.8,<4"
    )
    assert "&lt;4" in page.read_text()  # the attribute is HTML-escaped
    for href in links:  # every link resolves to the stored file with that hash
        target = (page.parent / href.split("#")[0]).resolve()
        assert sha(target) == href.rsplit("=", 1)[1]
    assert (
        "data-requires-python"
        not in (tmp_path / "index" / "simple" / "zeta" / "index.html").read_text()
    )
    # The index reads itself back from the pages.
    assert index.files()["alpha-beta"] == {sdist.name: sha(sdist), wheel.name: sha(wheel)}


def test_parse_simple_page_handles_relative_absolute_and_json() -> None:
    html_page = (
        '<a href="../../packages/a-1.0.tar.gz#sha256=ABC">a-1.0.tar.gz</a>'
        '<a href="https://gitlab.example/api/v4/projects/1/packages/pypi/files/'
        'f00/a-1.0-py3-none-any.whl#sha256=def" data-requires-python="&gt;=3.9">'
        "a-1.0-py3-none-any.whl</a>"
        '<a href="a-0.9.zip">a-0.9.zip</a>'
    )
    links = {link.filename: link for link in parse_simple_page(html_page)}
    assert {n: link.sha256 for n, link in links.items()} == {
        "a-1.0.tar.gz": "abc",
        "a-1.0-py3-none-any.whl": "def",
        "a-0.9.zip": "",
    }
    assert links["a-1.0-py3-none-any.whl"].requires_python == ">=3.9"
    json_page = (
        '{"meta": {"api-version": "1.0"}, "name": "a", "files": ['
        '{"filename": "a-1.0.tar.gz", "url": "../a-1.0.tar.gz", "hashes": {"sha256": "AA"}}]}'
    )
    assert [
        (x.filename, x.sha256)
        for x in parse_simple_page(json_page, "application/vnd.pypi.simple.v1+json")
    ] == [("a-1.0.tar.gz", "aa")]


@pytest.mark.slow  # pip installs from the index
def test_publish_files_into_the_default_local_index_and_pip_installs_it(
    tmp_path: Path, make_wheel: Callable[..., Path], make_sdist: Callable[..., Path]
) -> None:
    root = tmp_path / "monorepo"
    root.mkdir()
    registry = registry_from_env({}, root)
    assert registry.kind == "local" and registry.local_dir == root / ".monorepo" / "index"
    wheel, sdist = make_wheel("tiny-lib", "1.0"), make_sdist("tiny-lib", "1.0")
    policy = RetryPolicy(sleep=lambda s: pytest.fail("no retries for a local index"))

    first = publish_files(registry, "tiny-lib", [sdist, wheel], policy)
    assert [o.status for o in first] == [FileStatus.UPLOADED, FileStatus.UPLOADED]
    again = publish_files(registry, "tiny-lib", [sdist, wheel], policy)
    assert [o.status for o in again] == [FileStatus.ALREADY_PUBLISHED] * 2
    changed = publish_files(
        registry, "tiny-lib", [make_sdist("tiny-lib", "1.0", body="X = 1\n"), wheel], policy
    )
    assert changed[0].status is FileStatus.CONFLICT
    assert "snapshot id changes" in changed[0].message and sdist.name in changed[0].message
    assert (root / ".monorepo" / ".gitignore").read_text().splitlines()[-1] == "*"

    line = registry.install_command(["tiny-lib==1.0"])
    simple = (root / ".monorepo" / "index" / "simple").as_uri()
    assert line == f"pip install --index-url {simple} tiny-lib==1.0"
    target = tmp_path / "target"
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    args = line.split()[2:]  # drop "pip install"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--isolated",
            "--no-deps",
            "--no-cache-dir",
            "--quiet",
            "--only-binary",
            ":all:",
            "--target",
            str(target),
            *args,
        ],
        check=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (target / "tiny_lib" / "__init__.py").read_text().startswith("__version__ = '1.0'")
    assert (target / "tiny_lib-1.0.dist-info" / "METADATA").is_file()
