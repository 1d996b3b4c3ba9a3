"""The values of the reading layer: :class:`Package`, :class:`Dependency`, :class:`Edge`,
:class:`Problem`, :class:`UvSource` and the resolved :class:`Workspace` (all immutable).

A :class:`Package` is one folder as its metadata files say, before it is resolved against the
others. It records which *flavour* of metadata it was read from (``pep621``, ``poetry``,
``setup.cfg``, ``setup.py``), the files that were read (the first one is where its findings
point), and where its base version comes from (:attr:`Package.version_source`): a static value,
a file of the package read without running it, a VCS tag pattern (resolved at plan time from
git), or nothing that can be read statically.
"""

from __future__ import annotations

import enum
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..requirements import ParsedRequirement

__all__ = [
    "PUBLISHABLE_STATUSES",
    "STATUSES",
    "Dependency",
    "Edge",
    "EdgeKind",
    "Package",
    "Problem",
    "UvSource",
    "Workspace",
]


class EdgeKind(enum.StrEnum):
    RUNTIME = "runtime"
    OPTIONAL = "optional"
    DEV = "dev"


STATUSES = ("internal", "incubator", "supported", "stable")
PUBLISHABLE_STATUSES = frozenset(STATUSES[1:])
MONOREPO_KEYS = ("status", "base-version")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in one package's files that is not about publishing rules.

    ``code`` is the finding code (``invalid-pyproject`` unless said otherwise); ``file`` is the
    file it is in, relative to the package folder, when that is not the package's first file.
    """

    field: str
    message: str
    fix: str
    line: int | None = None
    column: int | None = None
    code: str = "invalid-pyproject"
    file: str | None = None


@dataclass(frozen=True, slots=True)
class Dependency:
    """One requirement of a package, with the table it came from."""

    requirement: ParsedRequirement
    kind: EdgeKind
    group: str | None  # the extra (optional) or the group (dev)
    field: str  # e.g. "project.dependencies", "project.optional-dependencies.cli"

    @property
    def raw(self) -> str:
        return self.requirement.raw

    @property
    def name(self) -> str | None:
        return self.requirement.name


@dataclass(frozen=True, slots=True)
class UvSource:
    """One ``[tool.uv.sources]`` entry: where uv takes the distribution *name* from."""

    name: str  # normalized
    kind: str  # "workspace" | "path" | "git" | "url" | "index" | "other"
    value: str  # the location as written (path, URL, index name), for messages
    path: str | None = None  # absolute, for kind == "path"


@dataclass(frozen=True, slots=True)
class Package:
    """One package folder as read, before resolution against the others.

    Version fields: ``version`` is the base version when it is known statically (written in
    the metadata, or read from ``version_file``); ``version_source`` says where it comes from
    (``project.version``, ``tool.poetry.version``, ``setup.cfg metadata.version``, ``hatch
    path``, ``setuptools attr``, ``setuptools file``, ``pdm file``, ``flit __version__``,
    ``meson project()``, ``meson files()``, ``scikit-build regex``, ``cargo package.version``, or a
    VCS plugin: ``hatch-vcs``, ``setuptools-scm``, ``pdm scm``, ``uv-dynamic-versioning``,
    ``poetry-dynamic-versioning``; empty when nothing says); ``tag_pattern`` is the regex (with a
    ``version`` group) a VCS source matches tags with; ``base_version`` is the
    ``[tool.monorepo] base-version`` fallback.
    """

    name: str  # normalized; derived from the folder when the file declares none
    path: str  # the folder, relative to the root, POSIX separators ("." for the root)
    declared_name: str | None = None  # the name as written (None: missing, invalid, unreadable)
    status: str = "internal"  # as written when it is a string (may be invalid), else repr
    status_declared: bool = False
    version: str | None = None
    dynamic: tuple[str, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    uv_sources: tuple[UvSource, ...] = ()
    unknown_keys: tuple[str, ...] = ()  # keys of [tool.monorepo] other than the known ones
    build_requires: tuple[str, ...] = ()
    build_backend: str | None = None
    problems: tuple[Problem, ...] = ()
    flavour: str = "pep621"  # "pep621" | "poetry" | "setup.cfg" | "setup.py"
    files: tuple[str, ...] = ("pyproject.toml",)  # read, relative to the folder; [0] is primary
    version_source: str = "project.version"
    version_file: str | None = None  # the file of the package the version was read from
    tag_pattern: str | None = None
    tag_root: str | None = None  # VCS: the repository root the plugin is told to use
    base_version: str | None = None  # [tool.monorepo] base-version
    needs_metadata: tuple[str, ...] = ()  # fields only the backend can tell (PEP 517 metadata)

    @property
    def pyproject(self) -> str:
        """The package's first metadata file, relative to the root (findings point here)."""
        first = self.files[0] if self.files else "pyproject.toml"
        return first if self.path == "." else posixpath.join(self.path, first)

    def file(self, name: str) -> str:
        """*name* (relative to the folder) relative to the root."""
        return name if self.path == "." else posixpath.join(self.path, name)

    @property
    def status_valid(self) -> bool:
        return self.status in STATUSES

    @property
    def publishable(self) -> bool:
        return self.status in PUBLISHABLE_STATUSES

    @property
    def usable(self) -> bool:
        """The file could be read and declares a name: it can take part in the graph."""
        return self.declared_name is not None


@dataclass(frozen=True, slots=True)
class Edge:
    """``source`` depends on ``target`` through ``dependency`` (one requirement string)."""

    source: str
    target: str
    dependency: Dependency

    @property
    def kind(self) -> EdgeKind:
        return self.dependency.kind


@dataclass(frozen=True)
class Workspace:
    """All packages of a monorepo and the edges between them (immutable once built)."""

    config: Config
    packages: Mapping[str, Package]  # usable packages by normalized name, sorted by name
    rejected: tuple[Package, ...] = ()  # unreadable/nameless files and duplicate names
    edges: tuple[Edge, ...] = ()
    by_path: Mapping[str, str] = field(default_factory=dict)  # absolute folder -> package name

    @property
    def root(self) -> Path:
        return self.config.root

    def resolve(self, package: Package, dep: Dependency) -> str | None:
        """The monorepo package *dep* of *package* points at, or None."""
        name = dep.name
        if name is None or name == package.name:  # invalid, or "pkg[extra]" of itself
            return None
        if name in self.packages:
            return name
        return None

    def path_target(self, absolute_path: str) -> str | None:
        """The package whose folder is *absolute_path*, if any."""
        return self.by_path.get(posixpath.normpath(absolute_path))

    def edges_from(self, name: str) -> Iterator[Edge]:
        return (e for e in self.edges if e.source == name)

    def line_of(self, package: Package, needle: str) -> int | None:
        """1-based line of the first quoted occurrence of *needle* in the package's first file."""
        from .lines import line_of

        return line_of(self.root / package.pyproject, needle)
