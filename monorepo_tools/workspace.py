"""Discovery: from the root configuration to a :class:`Workspace` of :class:`Package` values.

Contract:

* A package is a folder matched by one of the configured globs that holds a ``pyproject.toml``.
  Each file is read once (``tomllib``) into a :class:`Package`; reading never fails: whatever is
  wrong with a file becomes a :class:`Problem` on its package, so ``check`` reports every
  problem of every file in one run.
* A package's dependencies are every requirement of ``[project].dependencies`` (kind
  ``runtime``), ``[project].optional-dependencies`` (``optional``, with the extra), and
  ``[dependency-groups]`` / ``[tool.pdm.dev-dependencies]`` (``dev``, with the group).
* The :class:`Workspace` resolves each dependency to a monorepo package (by normalized name, or
  by the folder a local path or a ``[tool.uv.sources]`` entry points at) and keeps the resolved
  ones as :class:`Edge` values. It never looks at a network or builds anything.
* Parsed packages are cached on disk (``.monorepo/cache``), keyed by path, size, mtime and inode;
  an entry whose mtime is too close to the moment the cache was written to be trusted (the "racy"
  case git knows) is checked against a content hash. The cache is an optimisation only: a
  missing, stale, corrupt or unwritable cache gives the same result, more slowly.
"""

from __future__ import annotations

import contextlib
import enum
import glob
import hashlib
import os
import pickle
import posixpath
import re
import tempfile
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from ._version import __version__
from .config import Config
from .errors import ConfigError
from .requirements import ParsedRequirement, parse_requirement

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
    "load_workspace",
    "read_package",
]


class EdgeKind(enum.StrEnum):
    RUNTIME = "runtime"
    OPTIONAL = "optional"
    DEV = "dev"


STATUSES = ("internal", "incubator", "supported", "stable")
PUBLISHABLE_STATUSES = frozenset(STATUSES[1:])
MONOREPO_KEYS = ("status",)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in one pyproject that is not about publishing rules (invalid-pyproject)."""

    field: str
    message: str
    fix: str
    line: int | None = None
    column: int | None = None
    code: str = "invalid-pyproject"


@dataclass(frozen=True, slots=True)
class Dependency:
    """One requirement string of a package, with the table it came from."""

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
    """One ``packages/<folder>/pyproject.toml`` as read, before resolution against the others."""

    name: str  # normalized; derived from the folder when the file declares none
    path: str  # the folder, relative to the root, POSIX separators
    declared_name: str | None = None  # [project].name as written (None: missing or unreadable)
    status: str = "internal"  # as written when it is a string (may be invalid), else repr
    status_declared: bool = False
    version: str | None = None
    dynamic: tuple[str, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    uv_sources: tuple[UvSource, ...] = ()
    unknown_keys: tuple[str, ...] = ()  # keys of [tool.monorepo] other than "status"
    build_requires: tuple[str, ...] = ()
    build_backend: str | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def pyproject(self) -> str:
        return posixpath.join(self.path, "pyproject.toml")

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
        """The monorepo package *dep* of *package* points at, or None (see module docstring)."""
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
        """1-based line of the first quoted occurrence of *needle* in the package's pyproject.

        Lines are looked up only when a finding needs one, so the hot path never pays for it.
        """
        text = _read_text_cached(str(self.root / package.pyproject))
        if text is None:
            return None
        for quoted in (f'"{needle}"', f"'{needle}'", needle):
            index = text.find(quoted)
            if index >= 0:
                return text.count("\n", 0, index) + 1
        return None


_TEXT_CACHE: dict[str, str | None] = {}


def _read_text_cached(path: str) -> str | None:
    if path not in _TEXT_CACHE:
        try:
            _TEXT_CACHE[path] = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            _TEXT_CACHE[path] = None
    return _TEXT_CACHE[path]


# ---------------------------------------------------------------------------------------------
# Reading one pyproject.toml


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_package(root: Path, folder: str, data: bytes) -> Package:
    """Turn the bytes of ``<root>/<folder>/pyproject.toml`` into a :class:`Package` (pure)."""
    package_dir = posixpath.join(root.as_posix(), folder)
    fallback = canonicalize_name(posixpath.basename(folder))
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return Package(fallback, folder, problems=(_problem("(file)", f"is not UTF-8 ({exc.reason})", "save the file as UTF-8"),))
    except tomllib.TOMLDecodeError as exc:
        position = _TOML_POSITION.search(str(exc))
        line, column = (int(position.group(1)), int(position.group(2))) if position else (None, None)
        reason = _TOML_POSITION.sub("", str(exc)).strip()
        return Package(
            fallback,
            folder,
            problems=(
                Problem("(file)", f"is not valid TOML: {reason}", "fix the TOML syntax at that position", line, column),
            ),
        )
    problems: list[Problem] = []
    project = doc.get("project")
    if not isinstance(project, dict):
        project = {}
        problems.append(
            _problem("[project]", "has no [project] table", f'add [project] with name = "{fallback}" and a version')
        )
    raw_name = project.get("name")
    declared: str | None = None
    if isinstance(raw_name, str) and raw_name.strip():
        declared = raw_name
    elif project:
        problems.append(
            _problem("project.name", "is missing" if raw_name is None else f"must be a string, got {raw_name!r}", f'set name = "{fallback}" in [project]')
        )
    name = canonicalize_name(declared) if declared else fallback

    tool = doc.get("tool") if isinstance(doc.get("tool"), dict) else {}
    assert isinstance(tool, dict)
    mono = tool.get("monorepo", {})
    status: str = "internal"
    status_declared = False
    unknown: tuple[str, ...] = ()
    if isinstance(mono, dict):
        if "status" in mono:
            status_declared = True
            value = mono["status"]
            status = value if isinstance(value, str) else repr(value)
        unknown = tuple(sorted(k for k in mono if k not in MONOREPO_KEYS))
    else:
        status, status_declared = repr(mono), True

    version = project.get("version")
    if version is not None and not isinstance(version, str):
        problems.append(_problem("project.version", f"must be a string, got {version!r}", 'write it quoted, e.g. version = "0.1.0"'))
        version = None
    dynamic_value = project.get("dynamic", [])
    dynamic = tuple(d for d in dynamic_value if isinstance(d, str)) if isinstance(dynamic_value, list) else ()

    dependencies: list[Dependency] = []
    _collect(dependencies, problems, project.get("dependencies"), "project.dependencies", EdgeKind.RUNTIME, None, package_dir)
    optional = project.get("optional-dependencies")
    if isinstance(optional, dict):
        for extra, reqs in optional.items():
            _collect(dependencies, problems, reqs, f"project.optional-dependencies.{extra}", EdgeKind.OPTIONAL, extra, package_dir)
    elif optional is not None:
        problems.append(_problem("project.optional-dependencies", "must be a table of extra = [requirements]", "write [project.optional-dependencies] with one list per extra"))
    groups = doc.get("dependency-groups")
    if isinstance(groups, dict):
        for group, reqs in groups.items():
            # PEP 735 allows {include-group = "..."} tables next to strings: not requirements.
            strings = [r for r in reqs if isinstance(r, str)] if isinstance(reqs, list) else reqs
            _collect(dependencies, problems, strings, f"dependency-groups.{group}", EdgeKind.DEV, group, package_dir)
    pdm = tool.get("pdm")
    pdm_dev = pdm.get("dev-dependencies") if isinstance(pdm, dict) else None
    if isinstance(pdm_dev, dict):
        for group, reqs in pdm_dev.items():
            # PDM allows "-e file:///..." editable entries here.
            strings = [r[3:].strip() if isinstance(r, str) and r.startswith("-e ") else r for r in reqs] if isinstance(reqs, list) else reqs
            _collect(dependencies, problems, strings, f"tool.pdm.dev-dependencies.{group}", EdgeKind.DEV, group, package_dir)

    uv = tool.get("uv")
    sources = uv.get("sources") if isinstance(uv, dict) else None
    uv_sources = tuple(_uv_sources(sources, package_dir, problems)) if isinstance(sources, dict) else ()

    build = doc.get("build-system") if isinstance(doc.get("build-system"), dict) else {}
    assert isinstance(build, dict)
    requires = build.get("requires", [])
    backend = build.get("build-backend")
    return Package(
        name=name,
        path=folder,
        declared_name=declared,
        status=status,
        status_declared=status_declared,
        version=version,
        dynamic=dynamic,
        dependencies=tuple(dependencies),
        uv_sources=uv_sources,
        unknown_keys=unknown,
        build_requires=tuple(r for r in requires if isinstance(r, str)) if isinstance(requires, list) else (),
        build_backend=backend if isinstance(backend, str) else None,
        problems=tuple(problems),
    )


def _problem(field_name: str, message: str, fix: str, line: int | None = None, column: int | None = None) -> Problem:
    return Problem(field_name, message, fix, line, column)


def _collect(
    out: list[Dependency],
    problems: list[Problem],
    value: object,
    field_name: str,
    kind: EdgeKind,
    group: str | None,
    package_dir: str,
) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        problems.append(_problem(field_name, f"must be a list of requirement strings, got {type(value).__name__}", f"write {field_name.rsplit('.', 1)[-1]} = [\"name>=1.0\", ...]"))
        return
    for item in value:
        if not isinstance(item, str):
            problems.append(_problem(field_name, f"holds {item!r}, which is not a requirement string", "quote each requirement"))
            continue
        parsed = parse_requirement(item, package_dir)
        if parsed.error is not None:
            problems.append(Problem(field_name, parsed.error, "write a PEP 508 requirement: name[extras] specifier ; marker, or name @ URL"))
            continue
        out.append(Dependency(parsed, kind, group, field_name))


def _uv_sources(sources: dict[str, object], package_dir: str, problems: list[Problem]) -> Iterator[UvSource]:
    for key, spec in sources.items():
        name = canonicalize_name(key)
        # A list of sources (one per marker) is allowed: each counts.
        for entry in spec if isinstance(spec, list) else [spec]:
            if not isinstance(entry, dict):
                problems.append(_problem(f"tool.uv.sources.{key}", "must be a table such as { workspace = true } or { path = \"../x\" }", "fix the entry"))
                continue
            if entry.get("workspace") is True:
                yield UvSource(name, "workspace", "workspace = true")
            elif isinstance(entry.get("path"), str):
                raw = str(entry["path"])
                absolute = posixpath.normpath(posixpath.join(package_dir, raw))
                yield UvSource(name, "path", raw, absolute)
            elif isinstance(entry.get("git"), str):
                yield UvSource(name, "git", str(entry["git"]))
            elif isinstance(entry.get("url"), str):
                yield UvSource(name, "url", str(entry["url"]))
            elif isinstance(entry.get("index"), str):
                yield UvSource(name, "index", str(entry["index"]))
            else:
                yield UvSource(name, "other", repr(entry))


# ---------------------------------------------------------------------------------------------
# Discovery and the cache


def discover(config: Config) -> list[str]:
    """Package folders (relative, POSIX, sorted) matched by the configured globs."""
    root = config.root
    found: set[str] = set()
    empty: list[str] = []
    for pattern in config.package_globs:
        before = len(found)
        for match in glob.iglob(pattern, root_dir=root):
            rel = Path(match).as_posix().rstrip("/")
            if os.path.isfile(os.path.join(root, rel, "pyproject.toml")) and rel not in ("", "."):
                found.add(rel)
        if len(found) == before:
            empty.append(pattern)
    if not found:
        raise ConfigError(
            f"no package found: the globs {list(config.package_globs)} (from {config.globs_from}) "
            f"match no folder holding a pyproject.toml under {root}; fix: set "
            "[tool.monorepo].packages in the root pyproject.toml or pass --packages 'packages/*'"
        )
    return sorted(found)


_CACHE_FORMAT = 1
_RACY_NS = 2_000_000_000  # a file modified this close to the cache write is re-hashed


def _cache_path(config: Config) -> Path:
    return config.state_dir / "cache" / f"workspace-v{_CACHE_FORMAT}-{__version__}.pickle"


CacheEntry = tuple[int, int, int, bytes, Package]  # size, mtime_ns, inode, blake2b, package


def _load_cache(path: Path) -> tuple[int, dict[str, CacheEntry]]:
    try:
        with path.open("rb") as handle:
            written, entries = pickle.load(handle)
        if isinstance(written, int) and isinstance(entries, dict):
            return written, entries
    except Exception:  # noqa: BLE001 - any unreadable cache is simply a cold start
        pass
    return 0, {}


def _save_cache(config: Config, path: Path, entries: dict[str, CacheEntry]) -> None:
    try:
        ensure_state_dir(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((time.time_ns(), entries), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)


def ensure_state_dir(config: Config) -> Path:
    """Create the ignored state folder (it ignores itself) and return it."""
    state = config.state_dir
    state.mkdir(exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by monorepo-tools: caches, staging, local index\n*\n", encoding="utf-8")
    return state


def read_packages(config: Config, folders: Iterable[str], use_cache: bool = True) -> list[Package]:
    """Read every folder's pyproject, reusing cached parses whose file has not changed."""
    root = config.root
    cache_file = _cache_path(config)
    written, old = _load_cache(cache_file) if use_cache else (0, {})
    new: dict[str, CacheEntry] = {}
    packages: list[Package] = []
    changed = False
    for folder in folders:
        file = os.path.join(root, folder, "pyproject.toml")
        try:
            st = os.stat(file)
        except OSError as exc:
            packages.append(Package(canonicalize_name(posixpath.basename(folder)), folder, problems=(_problem("(file)", f"cannot be read ({exc.strerror})", "check the file's permissions"),)))
            continue
        entry = old.get(folder)
        if entry is not None and entry[0] == st.st_size and entry[1] == st.st_mtime_ns and entry[2] == st.st_ino:
            if st.st_mtime_ns < written - _RACY_NS:
                new[folder] = entry
                packages.append(entry[4])
                continue
            data = _read_bytes(file)
            if data is not None and hashlib.blake2b(data, digest_size=16).digest() == entry[3]:
                new[folder] = entry
                packages.append(entry[4])
                continue
        else:
            data = _read_bytes(file)
        changed = True
        if data is None:
            packages.append(Package(canonicalize_name(posixpath.basename(folder)), folder, problems=(_problem("(file)", "cannot be read", "check the file's permissions"),)))
            continue
        package = read_package(root, folder, data)
        new[folder] = (st.st_size, st.st_mtime_ns, st.st_ino, hashlib.blake2b(data, digest_size=16).digest(), package)
        packages.append(package)
    if use_cache and (changed or len(new) != len(old)):
        _save_cache(config, cache_file, new)
    return packages


def _read_bytes(file: str) -> bytes | None:
    try:
        with open(file, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def load_workspace(config: Config, use_cache: bool = True) -> Workspace:
    """Discover, read and resolve: the one entry point of the pure core."""
    folders = discover(config)
    return build_workspace(config, read_packages(config, folders, use_cache))


def build_workspace(config: Config, packages: Iterable[Package]) -> Workspace:
    """Resolve *packages* against each other (pure; usable with hand-made packages in tests)."""
    by_name: dict[str, Package] = {}
    rejected: list[Package] = []
    for package in sorted(packages, key=lambda p: p.path):
        if not package.usable or package.name in by_name:
            rejected.append(package)
        else:
            by_name[package.name] = package
    root = config.root.as_posix()
    by_path = {posixpath.join(root, p.path): p.name for p in by_name.values()}
    ordered = dict(sorted(by_name.items()))
    ws = Workspace(config, ordered, tuple(rejected), (), by_path)
    edges = [
        Edge(package.name, target, dep)
        for package in ordered.values()
        for dep in package.dependencies
        if (target := ws.resolve(package, dep)) is not None
    ]
    return Workspace(config, ordered, tuple(rejected), tuple(edges), by_path)
