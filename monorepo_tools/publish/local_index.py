"""The embedded registry: a PEP 503 "simple" index in a folder, installable with ``file://``.

Layout (``<root>/.monorepo/index/`` by default; the state folder ignores itself)::

    files/<distribution file>            the files, copied once and never replaced
    simple/index.html                    the project list
    simple/<project>/index.html          one project's files:
        <a href="../../files/<file>#sha256=<hex>" data-requires-python="...">file</a>

The project pages are the index's only record (there is no second manifest to disagree with
them): :meth:`LocalIndex.files` reads them back. Each page is written atomically, and a file is
copied into ``files/`` before any page links it, so a reader (pip) never sees a link to a file
that is not complete. A file name that is already published with the same sha256 is left as it
is; with different bytes it is a conflict (:class:`IndexConflict`), never overwritten - the same
rules as a real registry. ``pip install --index-url file://<dir>/simple name==version`` installs
from it.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import hashlib
import html
import json
import os
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import canonicalize_name

from .._io import copy_atomic, write_atomic
from ..errors import PublishError

__all__ = [
    "IndexConflict",
    "IndexLink",
    "LocalIndex",
    "parse_simple_page",
    "sha256_file",
]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- reading indexes


@dataclass(frozen=True, slots=True)
class IndexLink:
    """One file of a project page."""

    filename: str
    sha256: str  # lower-case hex, "" when the index gives none
    href: str  # as written in the page (possibly relative)
    requires_python: str | None = None


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._close()
            self._open = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close()

    def _close(self) -> None:
        if self._open is not None:
            self.links.append((self._open, "".join(self._text).strip()))
        self._open = None

    def close(self) -> None:
        super().close()
        self._close()


def _hash_of(fragment_or_hashes: str | dict[str, object]) -> str:
    if isinstance(fragment_or_hashes, dict):
        value = fragment_or_hashes.get("sha256")
        return value.lower() if isinstance(value, str) else ""
    for part in fragment_or_hashes.split("&"):
        name, _, value = part.partition("=")
        if name.lower() == "sha256":
            return value.strip().lower()
    return ""


def _filename_of(href: str, text: str) -> str:
    path = unquote(urlsplit(href).path)
    name = PurePosixPath(path).name if path and not path.endswith("/") else ""
    return name or text


def parse_simple_page(body: str, content_type: str = "text/html") -> list[IndexLink]:
    """The files of a PEP 503 project page (HTML), or of a PEP 691 JSON page.

    The file name is the last segment of the link's path (what PEP 503 says the text must
    equal), so absolute, relative and GitLab's ``files/<sha>/<name>`` links all work.
    """
    if "json" in content_type.lower():
        try:
            document = json.loads(body)
        except json.JSONDecodeError:
            return []
        entries = document.get("files", []) if isinstance(document, dict) else []
        links: list[IndexLink] = []
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            url = entry.get("url")
            filename = entry.get("filename")
            if not isinstance(url, str):
                continue
            hashes = entry.get("hashes")
            requires = entry.get("requires-python")
            links.append(
                IndexLink(
                    filename if isinstance(filename, str) else _filename_of(url, ""),
                    _hash_of(hashes) if isinstance(hashes, dict) else "",
                    url,
                    requires if isinstance(requires, str) else None,
                )
            )
        return links
    parser = _LinkParser()
    parser.feed(body)
    parser.close()
    result: list[IndexLink] = []
    for attrs, text in parser.links:
        href = attrs.get("href")
        if not href:
            continue
        filename = _filename_of(href, text)
        if not filename:
            continue
        result.append(
            IndexLink(
                filename, _hash_of(urlsplit(href).fragment), href, attrs.get("data-requires-python")
            )
        )
    return result


# --------------------------------------------------------------------------- the local index


class IndexConflict(PublishError):
    """A file of that name is already in the index with different content (exit 1)."""

    def __init__(self, filename: str, published: str, offered: str) -> None:
        super().__init__(
            f"{filename} is already in the index with sha256 {published or '(unknown)'}, "
            f"this file has sha256 {offered}"
        )
        self.filename = filename
        self.published = published
        self.offered = offered


def _requires_python(path: Path) -> str | None:
    """``Requires-Python`` of a wheel's METADATA or an sdist's PKG-INFO, when it has one."""
    data: bytes | None = None
    try:
        if path.name.endswith(".whl"):
            with zipfile.ZipFile(path) as archive:
                name = next(
                    (
                        n
                        for n in archive.namelist()
                        if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
                    ),
                    None,
                )
                data = archive.read(name) if name else None
        elif path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path, "r:gz") as archive:
                member = next(
                    (
                        m
                        for m in archive.getmembers()
                        if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
                    ),
                    None,
                )
                handle = archive.extractfile(member) if member else None
                data = handle.read() if handle else None
    except (OSError, zipfile.BadZipFile, tarfile.TarError, KeyError):
        return None
    if data is None:
        return None
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
        data, headersonly=True
    )
    value = message.get("Requires-Python")
    return (str(value).strip() or None) if value else None


_PAGE_HEAD = (
    "<!DOCTYPE html>\n<html>\n<head>\n"
    '<meta name="pypi:repository-version" content="1.0">\n'
    "<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n"
)
_PAGE_TAIL = "</body>\n</html>\n"


class LocalIndex:
    """A PEP 503 index in *directory* (see the module docstring)."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)

    @property
    def simple_dir(self) -> Path:
        return self.dir / "simple"

    @property
    def files_dir(self) -> Path:
        return self.dir / "files"

    @property
    def url(self) -> str:
        """The ``file://`` URL of the simple index (what ``pip --index-url`` takes)."""
        return self.simple_dir.absolute().as_uri()

    def _links(self, project: str) -> list[IndexLink]:
        page = self.simple_dir / canonicalize_name(project) / "index.html"
        try:
            return parse_simple_page(page.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []

    def project_files(self, project: str) -> dict[str, str]:
        """One project's files: file name -> sha256 (empty when it has none)."""
        return {link.filename: link.sha256 for link in self._links(project)}

    def files(self) -> dict[str, dict[str, str]]:
        """Every project (normalized name) with its files: file name -> sha256."""
        return {name: self.project_files(name) for name in self._projects()}

    def add(self, project: str, path: str | Path) -> bool:
        """Publish *path* under *project*: True if added, False if the same file was already there.

        Raises :class:`IndexConflict` when a file of that name is published with other content.
        Costs one project page, not the whole index (a monorepo may hold thousands of projects).
        """
        source = Path(path)
        name = canonicalize_name(project)
        digest = sha256_file(source)
        with self._locked():
            links = self._links(name)
            for link in links:
                if link.filename == source.name:
                    if link.sha256 == digest:
                        return False
                    raise IndexConflict(source.name, link.sha256, digest)
            is_new = not links and not (self.simple_dir / name / "index.html").exists()
            # A file in files/ that no page links is not published (a run that stopped between
            # the copy and the page): replacing it is safe. File names carry the normalized
            # project name, so two projects never share one.
            copy_atomic(source, self.files_dir / source.name)
            href = f"../../files/{quote(source.name)}#sha256={digest}"
            links.append(IndexLink(source.name, digest, href, _requires_python(source)))
            self._write_project(name, links)
            if is_new or not (self.simple_dir / "index.html").exists():
                self._write_root()
        return True

    def _projects(self) -> list[str]:
        if not self.simple_dir.is_dir():
            return []
        with os.scandir(self.simple_dir) as entries:
            return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))

    def _write_project(self, name: str, links: list[IndexLink]) -> None:
        lines = [_PAGE_HEAD.format(title=f"Links for {html.escape(name)}")]
        for link in sorted(links, key=lambda item: item.filename):
            requires = (
                f' data-requires-python="{html.escape(link.requires_python, quote=True)}"'
                if link.requires_python
                else ""
            )
            href = html.escape(link.href, quote=True)
            lines.append(f'<a href="{href}"{requires}>{html.escape(link.filename)}</a><br>\n')
        lines.append(_PAGE_TAIL)
        write_atomic(self.simple_dir / name / "index.html", "".join(lines))

    def _write_root(self) -> None:
        projects = self._projects()
        lines = [_PAGE_HEAD.format(title="Simple index")]
        lines += [f'<a href="{quote(p)}/">{html.escape(p)}</a><br>\n' for p in projects]
        lines.append(_PAGE_TAIL)
        write_atomic(self.simple_dir / "index.html", "".join(lines))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize writers (two runs publishing into one index) where the OS allows it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: single writer assumed
            yield
            return
        with (self.dir / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
