"""Discovery: from the root configuration to a :class:`Workspace` of :class:`Package` values.

Contract:

* A package is a folder matched by one of the configured globs that holds a ``pyproject.toml``.
  Each file is read once into a :class:`Package` (the plain TOML pyproject files are written in
  by a fast reader, everything else by ``tomllib``, which has the last word); reading never
  fails: whatever is wrong with a file becomes a :class:`Problem` on its package, so ``check``
  reports every problem of every file in one run. Many files are parsed by forked workers.
* A package's dependencies are every requirement of ``[project].dependencies`` (kind
  ``runtime``), ``[project].optional-dependencies`` (``optional``, with the extra), and
  ``[dependency-groups]`` / ``[tool.pdm.dev-dependencies]`` (``dev``, with the group).
* The :class:`Workspace` resolves each dependency to a monorepo package by its normalized name
  (PEP 503), however it is written, and keeps the resolved ones as :class:`Edge` values. A
  local path or ``[tool.uv.sources]`` entry pointing at a sibling folder under *another* name
  draws no edge: installers refuse it, and ``rules`` reports the disagreement. It never looks at
  a network or builds anything.
* Parsed packages are cached on disk (``.monorepo/cache``), keyed by path, size, mtime, inode
  and ctime; an entry whose mtime is too close to the moment the cache was written to be trusted
  (the "racy" case git knows) is checked against a content hash. :class:`OutputCache` keeps the
  whole output of a command line for exactly the same files. Caches are an optimisation only: a
  missing, stale, corrupt or unwritable cache gives the same result, more slowly
  (``benchmarks/README.md`` has the numbers, ``tests/test_cache.py`` the proofs).
"""

from __future__ import annotations

import contextlib
import enum
import functools
import gc
import glob
import hashlib
import marshal
import operator
import os
import posixpath
import re
import signal
import stat
import sys
import threading
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import packaging
from packaging.utils import canonicalize_name

from ._io import ensure_state_dir as _ensure_state_dir
from ._io import write_bytes_atomic
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
    "OutputCache",
    "Package",
    "Problem",
    "UvSource",
    "Workspace",
    "build_workspace",
    "discover",
    "ensure_state_dir",
    "load_workspace",
    "read_package",
    "read_packages",
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


_TEXT_CACHE: dict[str, tuple[tuple[int, int, int, int], str | None]] = {}


def _read_text_cached(path: str) -> str | None:
    """The text of *path*, read once per version of the file (a process may see it change)."""
    try:
        signature = _signature(os.stat(path))
    except OSError:
        return None
    cached = _TEXT_CACHE.get(path)
    if cached is not None and cached[0] == signature:
        return cached[1]
    try:
        text: str | None = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    _TEXT_CACHE[path] = (signature, text)
    return text


# ---------------------------------------------------------------------------------------------
# Reading one pyproject.toml


class _Interner:
    """Equal requirement values are shared between all the packages read in one process.

    A monorepo writes the same strings over and over (``requests>=2``, ``runner-core>=0.1``, the
    same hatch URL from every sibling folder): each distinct string is parsed once, and equal
    :class:`ParsedRequirement` / :class:`Dependency` values are one object. That makes reading
    cheaper and the cache smaller and faster to load (its tables store each value once).
    Sharing is invisible: the values are immutable and compare by value.
    """

    __slots__ = ("by_text", "dependencies", "values")
    LIMIT = 400_000  # entries; a long-lived process starts over instead of growing forever

    def __init__(self) -> None:
        # Strings whose meaning does not depend on the package folder: no placeholder, no path.
        self.by_text: dict[str, ParsedRequirement] = {}
        self.values: dict[ParsedRequirement, ParsedRequirement] = {}
        # Keyed by the id of an interned ParsedRequirement: ``values`` keeps it alive.
        self.dependencies: dict[tuple[int, EdgeKind, str | None, str], Dependency] = {}

    def requirement(self, item: str, package_dir: str) -> ParsedRequirement:
        parsed = self.by_text.get(item)
        if parsed is not None:
            return parsed
        if len(self.values) > self.LIMIT:
            self.by_text.clear()
            self.values.clear()
            self.dependencies.clear()
        parsed = parse_requirement(item, package_dir)
        parsed = self.values.setdefault(parsed, parsed)
        # package_dir only matters through placeholders and the computed path of a file URL.
        if parsed.path is None and "{root" not in item and "${" not in item:
            self.by_text[item] = parsed
        return parsed

    def dependency(
        self, parsed: ParsedRequirement, kind: EdgeKind, group: str | None, field_name: str
    ) -> Dependency:
        key = (id(parsed), kind, group, field_name)
        dep = self.dependencies.get(key)
        if dep is None:
            dep = self.dependencies[key] = Dependency(parsed, kind, group, field_name)
        return dep


_INTERNER = _Interner()


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")

# The plain TOML pyproject files are written in, read without tomllib (2.5x faster: 45 us
# against 120 us a file). See _plain_toml; anything outside this subset goes to tomllib.
_KEY = r"[A-Za-z0-9_-]+"
_STRING = r"\"[^\"\n]*\"|'[^'\n]*'"
_ARRAY_SPACE = r"(?:[ \t\n]|\#[^\n]*\n)*"
_ARRAY_ITEM = rf"(?:{_STRING}){_ARRAY_SPACE}"
_ARRAY = rf"\[{_ARRAY_SPACE}(?:{_ARRAY_ITEM},{_ARRAY_SPACE})*(?:{_ARRAY_ITEM})?\]"
_TOML_LINE = re.compile(
    rf"""[ \t]*(?:
        \[[ \t]*(?P<header>{_KEY}(?:[ \t]*\.[ \t]*{_KEY})*)[ \t]*\]
      | (?P<key>{_KEY})[ \t]*=[ \t]*(?:
            "(?P<basic>[^"\n]*)"
          | '(?P<literal>[^'\n]*)'
          | (?P<bool>true|false)
          | (?P<int>-?(?:0|[1-9][0-9]*))
          | (?P<array>{_ARRAY})
        )
    )?[ \t]*(?:\#[^\n]*)?(?:\n|\Z)""",
    re.VERBOSE,
)
_TOML_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TOML_ITEM = re.compile(r"\"([^\"\n]*)\"|'([^'\n]*)'")
_TOML_DOT = re.compile(r"[ \t]*\.[ \t]*")


def _plain_toml(text: str) -> dict[str, Any] | None:
    """``tomllib.loads(text)`` for the plain subset of TOML, or None: then tomllib decides.

    The subset: comments; ``[a.b]`` headers of bare keys; ``key = value`` lines with a bare key
    and a value that is a basic string without escapes, a literal string, true or false, a
    decimal integer, or an array of such strings (over several lines, trailing comma allowed).
    Everything else returns None before anything is trusted: a backslash, a CR, a control
    character or a triple quote anywhere, dotted or quoted keys, inline tables, floats, dates,
    arrays of tables or of non-strings, a comment inside an array, and every error: a line that
    is none of the above, a table declared twice, a key set twice, a key that is also a table.
    So a document is read here only when tomllib would read it, and to the same value (the test
    suite checks this against tomllib on generated documents).
    """
    if "\\" in text or "\r" in text or "'''" in text or '"""' in text or _TOML_CONTROL.search(text):
        return None
    root: dict[str, Any] = {}
    table = root
    declared: set[tuple[str, ...]] = set()
    line = _TOML_LINE.match
    items = _TOML_ITEM.findall
    pos, size = 0, len(text)
    while pos < size:
        match = line(text, pos)
        if match is None:
            return None
        end = match.end()
        kind = match.lastgroup
        if kind == "header":
            path = tuple(_TOML_DOT.split(match.group(kind)))
            if path in declared:
                return None
            declared.add(path)
            table = root
            for part in path:
                child = table.get(part)
                if child is None:
                    child = table[part] = {}
                elif not isinstance(child, dict):
                    return None
                table = child
        elif kind is not None:
            key = match.group("key")
            if key in table:
                return None
            value = match.group(kind)
            if kind == "basic" or kind == "literal":
                table[key] = value
            elif kind == "array":
                if "#" in value:  # a comment could hold quotes: leave it to tomllib
                    return None
                table[key] = [basic or literal for basic, literal in items(value)]
            elif kind == "bool":
                table[key] = value == "true"
            else:
                table[key] = int(value)
        elif end == pos:  # only at the very end, where nothing is left to read
            return None
        pos = end
    return root


def read_package(root: Path, folder: str, data: bytes) -> Package:
    """Turn the bytes of ``<root>/<folder>/pyproject.toml`` into a :class:`Package` (pure)."""
    package_dir = posixpath.join(root.as_posix(), folder)
    fallback = canonicalize_name(posixpath.basename(folder))
    try:
        text = data.decode("utf-8")
        plain = _plain_toml(text)
        doc = plain if plain is not None else tomllib.loads(text)
    except UnicodeDecodeError as exc:
        return Package(
            fallback,
            folder,
            problems=(
                _problem("(file)", f"is not UTF-8 ({exc.reason})", "save the file as UTF-8"),
            ),
        )
    except tomllib.TOMLDecodeError as exc:
        position = _TOML_POSITION.search(str(exc))
        line, column = (
            (int(position.group(1)), int(position.group(2))) if position else (None, None)
        )
        reason = _TOML_POSITION.sub("", str(exc)).strip()
        return Package(
            fallback,
            folder,
            problems=(
                Problem(
                    "(file)",
                    f"is not valid TOML: {reason}",
                    "fix the TOML syntax at that position",
                    line,
                    column,
                ),
            ),
        )
    problems: list[Problem] = []
    project = doc.get("project")
    if not isinstance(project, dict):
        project = {}
        problems.append(
            _problem(
                "[project]",
                "has no [project] table",
                f'add [project] with name = "{fallback}" and a version',
            )
        )
    raw_name = project.get("name")
    declared: str | None = None
    if isinstance(raw_name, str) and raw_name.strip():
        declared = raw_name
    elif project:
        problems.append(
            _problem(
                "project.name",
                "is missing" if raw_name is None else f"must be a string, got {raw_name!r}",
                f'set name = "{fallback}" in [project]',
            )
        )
    name = canonicalize_name(declared) if declared else fallback

    tool = doc.get("tool")
    if not isinstance(tool, dict):
        tool = {}
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
        problems.append(
            _problem(
                "project.version",
                f"must be a string, got {version!r}",
                'write it quoted, e.g. version = "0.1.0"',
            )
        )
        version = None
    dynamic_value = project.get("dynamic", [])
    dynamic = (
        tuple(d for d in dynamic_value if isinstance(d, str))
        if isinstance(dynamic_value, list)
        else ()
    )

    dependencies: list[Dependency] = []
    _collect(
        dependencies,
        problems,
        project.get("dependencies"),
        "project.dependencies",
        EdgeKind.RUNTIME,
        None,
        package_dir,
    )
    optional = project.get("optional-dependencies")
    if isinstance(optional, dict):
        for extra, reqs in optional.items():
            _collect(
                dependencies,
                problems,
                reqs,
                f"project.optional-dependencies.{extra}",
                EdgeKind.OPTIONAL,
                extra,
                package_dir,
            )
    elif optional is not None:
        problems.append(
            _problem(
                "project.optional-dependencies",
                "must be a table of extra = [requirements]",
                "write [project.optional-dependencies] with one list per extra",
            )
        )
    groups = doc.get("dependency-groups")
    if isinstance(groups, dict):
        for group, reqs in groups.items():
            # PEP 735 allows {include-group = "..."} tables next to strings: not requirements.
            strings = [r for r in reqs if isinstance(r, str)] if isinstance(reqs, list) else reqs
            _collect(
                dependencies,
                problems,
                strings,
                f"dependency-groups.{group}",
                EdgeKind.DEV,
                group,
                package_dir,
            )
    pdm = tool.get("pdm")
    pdm_dev = pdm.get("dev-dependencies") if isinstance(pdm, dict) else None
    if isinstance(pdm_dev, dict):
        for group, reqs in pdm_dev.items():
            # PDM allows "-e file:///..." editable entries here.
            strings = (
                [r[3:].strip() if isinstance(r, str) and r.startswith("-e ") else r for r in reqs]
                if isinstance(reqs, list)
                else reqs
            )
            _collect(
                dependencies,
                problems,
                strings,
                f"tool.pdm.dev-dependencies.{group}",
                EdgeKind.DEV,
                group,
                package_dir,
            )

    uv = tool.get("uv")
    sources = uv.get("sources") if isinstance(uv, dict) else None
    uv_sources = (
        tuple(_uv_sources(sources, package_dir, problems)) if isinstance(sources, dict) else ()
    )

    build = doc.get("build-system")
    if not isinstance(build, dict):
        build = {}
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
        build_requires=tuple(r for r in requires if isinstance(r, str))
        if isinstance(requires, list)
        else (),
        build_backend=backend if isinstance(backend, str) else None,
        problems=tuple(problems),
    )


def _problem(
    field_name: str, message: str, fix: str, line: int | None = None, column: int | None = None
) -> Problem:
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
        problems.append(
            _problem(
                field_name,
                f"must be a list of requirement strings, got {type(value).__name__}",
                f'write {field_name.rsplit(".", 1)[-1]} = ["name>=1.0", ...]',
            )
        )
        return
    for item in value:
        if not isinstance(item, str):
            problems.append(
                _problem(
                    field_name,
                    f"holds {item!r}, which is not a requirement string",
                    "quote each requirement",
                )
            )
            continue
        parsed = _INTERNER.requirement(item, package_dir)
        if parsed.error is not None:
            problems.append(
                Problem(
                    field_name,
                    parsed.error,
                    "write a PEP 508 requirement: name[extras] specifier ; marker, or name @ URL",
                )
            )
            continue
        out.append(_INTERNER.dependency(parsed, kind, group, field_name))


def _uv_sources(
    sources: dict[str, object], package_dir: str, problems: list[Problem]
) -> Iterator[UvSource]:
    for key, spec in sources.items():
        name = canonicalize_name(key)
        # A list of sources (one per marker) is allowed: each counts.
        for entry in spec if isinstance(spec, list) else [spec]:
            if not isinstance(entry, dict):
                problems.append(
                    _problem(
                        f"tool.uv.sources.{key}",
                        'must be a table such as { workspace = true } or { path = "../x" }',
                        "fix the entry",
                    )
                )
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
# Discovery


def discover(config: Config) -> list[str]:
    """Package folders (relative, POSIX, sorted) matched by the configured globs."""
    return list(_scan(config))


def _scan(config: Config) -> dict[str, os.stat_result]:
    """Each package folder (sorted) with the ``stat`` of its pyproject.toml, taken once.

    The stat is both the "is there a pyproject.toml" test and the cache key, so a file is
    looked at once per run before it is (maybe) read.
    """
    root = config.root
    found: dict[str, os.stat_result] = {}
    for pattern in config.package_globs:
        for match in glob.iglob(pattern, root_dir=root):
            rel = _posix_folder(match)
            if rel in ("", ".") or rel in found:
                continue
            try:
                st = os.stat(os.path.join(root, rel, "pyproject.toml"))
            except (OSError, ValueError):
                continue
            if stat.S_ISREG(st.st_mode):
                found[rel] = st
    if not found:
        raise ConfigError(
            f"no package found: the globs {list(config.package_globs)} (from {config.globs_from}) "
            f"match no folder holding a pyproject.toml under {root}; fix: set "
            "[tool.monorepo].packages in the root pyproject.toml or pass --packages 'packages/*'"
        )
    return dict(sorted(found.items()))


def _posix_folder(match: str) -> str:
    """``Path(match).as_posix()`` without a slash: the common case skips pathlib (10x faster)."""
    if (
        os.sep != "/"
        or "//" in match
        or match.startswith("./")
        or "/./" in match
        or match.endswith("/.")
    ):
        return Path(match).as_posix().rstrip("/")
    return match.rstrip("/")


# ---------------------------------------------------------------------------------------------
# The parse cache
#
# One file, ``.monorepo/cache/workspace.marshal``: a magic line, a 16-byte BLAKE2b of the rest,
# then a marshal payload (marshal cannot run code, unlike pickle, and loads plain tuples about
# 10x faster than pickle rebuilds frozen dataclasses)::
#
#   (format, toolchain, root, written_ns, [segment, ...])
#
# ``toolchain`` names everything a parse depends on besides the file: this tool's version and
# source files, Python, packaging. A segment is the marshal bytes of up to _SEGMENT_ROWS rows::
#
#   (requirements, dependencies, [(folder, signature, digest, package), ...])
#
# with tables of the distinct requirements and dependencies of its rows (a package refers to its
# dependencies by index). A segment whose rows are all still valid is written back byte for byte,
# so a run that re-reads one file re-encodes one segment, and the segments forked workers send
# back on a cold run go to the file as they are.
#
# A row is reused when the file's signature (size, mtime_ns, inode, ctime_ns) is unchanged and
# the file was last modified more than _RACY_NS before ``written_ns``; otherwise its content
# hash decides. ``written_ns`` is the moment the writing run *started* (before its first stat),
# so a file modified while that run was reading is re-hashed by the next one. ctime cannot be
# set by utime(), so an edit whose mtime was put back still changes the signature.

_CACHE_FORMAT = 3
_CACHE_MAGIC = b"monorepo-tools cache\n"
_DIGEST_SIZE = 16
_RACY_NS = 2_000_000_000  # a file modified this close to the cache write is re-hashed
_SEGMENT_ROWS = 500
_PARALLEL_MIN = 300  # files to parse per worker before forking one pays off
_MAX_WORKERS = 8

Signature = tuple[int, int, int, int]  # size, mtime_ns, inode, ctime_ns
CacheEntry = tuple[Signature, bytes, Package]  # signature, blake2b digest, package
_Row = tuple[str, Signature, bytes | None, Package]  # folder, signature, digest (None: unreadable)

_REQUIREMENT_FIELDS = tuple(f.name for f in fields(ParsedRequirement))
_PACKAGE_FIELDS = tuple(f.name for f in fields(Package))
_PROBLEM_FIELDS = tuple(f.name for f in fields(Problem))
_UV_FIELDS = tuple(f.name for f in fields(UvSource))
_DEPENDENCY_FIELDS = tuple(f.name for f in fields(Dependency))
_requirement_values = operator.attrgetter(*_REQUIREMENT_FIELDS)
_package_values = operator.attrgetter(*_PACKAGE_FIELDS)
_problem_values = operator.attrgetter(*_PROBLEM_FIELDS)
_uv_values = operator.attrgetter(*_UV_FIELDS)
_P_DEPENDENCIES = _PACKAGE_FIELDS.index("dependencies")
_P_UV_SOURCES = _PACKAGE_FIELDS.index("uv_sources")
_P_PROBLEMS = _PACKAGE_FIELDS.index("problems")
_KINDS = {kind.value: kind for kind in EdgeKind}


def _signature(st: os.stat_result) -> Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_DIGEST_SIZE).digest()


@functools.cache
def _toolchain() -> str:
    """Everything a cached value depends on besides the files read: a code change is a miss."""
    fields_of = (
        _REQUIREMENT_FIELDS,
        _PACKAGE_FIELDS,
        _PROBLEM_FIELDS,
        _UV_FIELDS,
        _DEPENDENCY_FIELDS,
    )
    parts = [
        f"format {_CACHE_FORMAT}",
        f"monorepo-tools {__version__}",
        f"python {sys.version_info[0]}.{sys.version_info[1]}",
        f"packaging {packaging.__version__}",
        repr(fields_of),
    ]
    here = os.path.dirname(os.path.abspath(__file__))
    for folder, subfolders, files in os.walk(here):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    st = os.stat(path)
                    parts.append(f"{os.path.relpath(path, here)} {st.st_size} {st.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=_DIGEST_SIZE).hexdigest()


def _cache_path(config: Config) -> Path:
    return config.state_dir / "cache" / "workspace.marshal"


@dataclass
class _Segment:
    """The marshal bytes of some rows, and which (folder, package) values they hold."""

    raw: bytes
    rows: list[tuple[str, Package]]


def _encode_segment(rows: Sequence[_Row]) -> _Segment:
    """Rows to plain tuples: tables of distinct requirements and dependencies (by identity)."""
    requirement_index: dict[int, int] = {}
    requirements: list[object] = []
    dependency_index: dict[int, int] = {}
    dependencies: list[object] = []
    out: list[object] = []
    for folder, signature, digest, package in rows:
        indexes = []
        for dep in package.dependencies:
            index = dependency_index.get(id(dep))
            if index is None:
                req = dep.requirement
                req_index = requirement_index.get(id(req))
                if req_index is None:
                    req_index = requirement_index[id(req)] = len(requirements)
                    requirements.append(_requirement_values(req))
                index = dependency_index[id(dep)] = len(dependencies)
                dependencies.append((req_index, dep.kind.value, dep.group, dep.field))
            indexes.append(index)
        values = list(_package_values(package))
        values[_P_DEPENDENCIES] = tuple(indexes)
        values[_P_UV_SOURCES] = tuple(_uv_values(u) for u in package.uv_sources)
        values[_P_PROBLEMS] = tuple(_problem_values(p) for p in package.problems)
        out.append((folder, signature, digest, tuple(values)))
    # Version 2: no back-references; dumps twice as fast as 4 and loads as fast.
    raw = marshal.dumps((requirements, dependencies, out), 2)
    return _Segment(raw, [(row[0], row[3]) for row in rows])


def _encode_segments(rows: Sequence[_Row]) -> list[_Segment]:
    return [
        _encode_segment(rows[i : i + _SEGMENT_ROWS]) for i in range(0, len(rows), _SEGMENT_ROWS)
    ]


class _Decoder:
    """Segments back to values."""

    def segment(self, raw: bytes) -> tuple[list[_Row], _Segment]:
        """Rows of one segment (raises on anything malformed)."""
        requirements, dependencies, rows = marshal.loads(raw)
        reqs = [ParsedRequirement(*values) for values in requirements]
        kinds = _KINDS
        deps = [Dependency(reqs[r], kinds[k], g, f) for r, k, g, f in dependencies]
        get_dep = deps.__getitem__
        out: list[_Row] = []
        for folder, signature, digest, row in rows:
            if not isinstance(folder, str) or len(signature) != 4:
                raise ValueError("malformed segment")
            values = list(row)
            values[_P_DEPENDENCIES] = tuple(map(get_dep, row[_P_DEPENDENCIES]))
            if row[_P_UV_SOURCES]:
                values[_P_UV_SOURCES] = tuple(UvSource(*u) for u in row[_P_UV_SOURCES])
            if row[_P_PROBLEMS]:
                values[_P_PROBLEMS] = tuple(Problem(*p) for p in row[_P_PROBLEMS])
            out.append((folder, signature, digest, Package(*values)))
        return out, _Segment(raw, [(row[0], row[3]) for row in out])


def _dump_framed(payload: Any) -> bytes:
    body = marshal.dumps(payload, 2)
    return _CACHE_MAGIC + _digest(body) + body


def _load_framed(data: bytes) -> Any:
    """The payload of a framed file; ValueError when it is not one (or was damaged)."""
    head = len(_CACHE_MAGIC)
    body = data[head + _DIGEST_SIZE :]
    if not data.startswith(_CACHE_MAGIC) or data[head : head + _DIGEST_SIZE] != _digest(body):
        raise ValueError("not a monorepo-tools cache file, or a damaged one")
    return marshal.loads(body)


@dataclass
class _LoadedCache:
    written: int = 0
    entries: dict[str, CacheEntry] = field(default_factory=dict)
    segments: list[_Segment] = field(default_factory=list)


def _load_cache(path: Path, root: str) -> _LoadedCache:
    """The parse cache of the monorepo at *root*; empty when missing, stale, damaged, unreadable
    or written for another root (parsed values hold absolute paths: a moved checkout re-reads)."""
    try:
        with path.open("rb") as handle:
            fmt, toolchain, cached_root, written, raws = _load_framed(handle.read())
        if (fmt, toolchain, cached_root) != (_CACHE_FORMAT, _toolchain(), root) or not isinstance(
            written, int
        ):
            return _LoadedCache()
        decoder = _Decoder()
        loaded = _LoadedCache(written)
        for raw in raws:
            rows, segment = decoder.segment(raw)
            loaded.segments.append(segment)
            for folder, signature, digest, package in rows:
                if digest is not None:
                    loaded.entries[folder] = (signature, digest, package)
        return loaded
    except Exception:  # any unreadable cache is simply a cold start
        return _LoadedCache()


def _write_state_file(config: Config, path: Path, content: bytes) -> None:
    """Atomically replace *path* under the state folder; any failure leaves no trace."""
    with contextlib.suppress(OSError):
        ensure_state_dir(config)
        write_bytes_atomic(path, content)


def _save_cache(
    config: Config,
    path: Path,
    entries: Mapping[str, CacheEntry],
    written: int,
    segments: Iterable[_Segment] = (),
) -> None:
    """Write *entries*, reusing each of *segments* whose rows are exactly entries still."""
    raws: list[bytes] = []
    covered: set[str] = set()
    for segment in segments:
        if all(
            folder not in covered
            and (entry := entries.get(folder)) is not None
            and entry[2] is package
            for folder, package in segment.rows
        ):
            raws.append(segment.raw)
            covered.update(folder for folder, _ in segment.rows)
    rest = [(folder, *entry) for folder, entry in entries.items() if folder not in covered]
    try:
        raws += [segment.raw for segment in _encode_segments(rest)]
        content = _dump_framed((_CACHE_FORMAT, _toolchain(), str(config.root), written, raws))
    except ValueError:  # a value marshal cannot store: run without a cache
        return
    _write_state_file(config, path, content)


def ensure_state_dir(config: Config) -> Path:
    """Create the ignored state folder (it ignores itself) and return it."""
    return _ensure_state_dir(config.state_dir)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while building large acyclic structures.

    Reading 10,000 packages allocates a few 100,000 objects, which triggers full collections
    that traverse all of them again and again (measured: 1.5 s of a 3.3 s run). Nothing built
    here forms a reference cycle, so there is nothing to find; the collector is restored after.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# ---------------------------------------------------------------------------------------------
# Reading many files


@dataclass
class _ReadResult:
    packages: list[Package]
    entries: dict[str, CacheEntry]  # every file read successfully this run, by folder
    complete: bool  # every folder's file could be read


def read_packages(config: Config, folders: Iterable[str], use_cache: bool = True) -> list[Package]:
    """Read every folder's pyproject, reusing cached parses whose file has not changed."""
    started = time.time_ns()
    stats: dict[str, os.stat_result | OSError] = {}
    for folder in folders:
        try:
            stats[folder] = os.stat(os.path.join(config.root, folder, "pyproject.toml"))
        except OSError as exc:
            stats[folder] = exc
    return _read(config, stats, use_cache, started).packages


def _read(
    config: Config, stats: Mapping[str, os.stat_result | OSError], use_cache: bool, started: int
) -> _ReadResult:
    with _gc_paused():
        return _read_unpaused(config, stats, use_cache, started)


def _read_unpaused(
    config: Config, stats: Mapping[str, os.stat_result | OSError], use_cache: bool, started: int
) -> _ReadResult:
    root = config.root
    cache_file = _cache_path(config)
    loaded = _load_cache(cache_file, str(root)) if use_cache else _LoadedCache()
    old = loaded.entries
    trusted_before = loaded.written - _RACY_NS
    settled_before = started - _RACY_NS  # what this run verifies, the next one can trust
    entries: dict[str, CacheEntry] = {}
    slots: list[Package | None] = []
    misses: list[tuple[int, str, Signature]] = []
    complete = True
    changed = False
    for folder, st in stats.items():
        if isinstance(st, OSError):
            complete = False
            slots.append(_unreadable(folder, f"cannot be read ({st.strerror})"))
            continue
        signature = _signature(st)
        entry = old.get(folder)
        if entry is not None and entry[0] == signature:
            if signature[1] < trusted_before:
                entries[folder] = entry
                slots.append(entry[2])
                continue
            data = _read_bytes(os.path.join(root, folder, "pyproject.toml"))
            if data is not None and _digest(data) == entry[1]:
                entries[folder] = entry
                slots.append(entry[2])
                # Verified now; once old enough, rewrite the cache so later runs skip the hash.
                changed = changed or signature[1] < settled_before
                continue
        misses.append((len(slots), folder, signature))
        slots.append(None)
    segments = loaded.segments
    if misses:
        changed = True
        parsed, new_segments = _parse_files(root, [(folder, sig) for _, folder, sig in misses])
        segments = [*segments, *new_segments]
        for (slot, folder, signature), (digest, package) in zip(misses, parsed, strict=True):
            slots[slot] = package
            if digest is None:
                complete = False
            else:
                entries[folder] = (signature, digest, package)
    if use_cache and (changed or len(entries) != len(old)):
        _save_cache(config, cache_file, entries, started, segments)
    packages = [p for p in slots if p is not None]
    return _ReadResult(packages, entries, complete)


def _unreadable(folder: str, message: str) -> Package:
    name = canonicalize_name(posixpath.basename(folder))
    return Package(
        name, folder, problems=(_problem("(file)", message, "check the file's permissions"),)
    )


def _read_bytes(file: str) -> bytes | None:
    try:
        with open(file, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _parse_one(root: Path, folder: str) -> tuple[bytes | None, Package]:
    data = _read_bytes(os.path.join(root, folder, "pyproject.toml"))
    if data is None:
        return None, _unreadable(folder, "cannot be read")
    return _digest(data), read_package(root, folder, data)


def _parse_files(
    root: Path, jobs: list[tuple[str, Signature]]
) -> tuple[list[tuple[bytes | None, Package]], list[_Segment]]:
    """Read and parse the files of *jobs* (folder, signature): (digest, package) for each, and
    the cache segments forked workers already encoded (when there were enough files to fork)."""
    workers = min(_cpu_count(), _MAX_WORKERS, len(jobs) // _PARALLEL_MIN)
    if workers >= 2 and _can_fork():
        return _parse_forked(root, jobs, workers)
    return [_parse_one(root, folder) for folder, _ in jobs], []


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _can_fork() -> bool:
    # Forking is safe only without other threads (a lock held by one would stay held in the
    # child) and where fork without exec is supported (not macOS: system frameworks abort).
    return (
        hasattr(os, "fork")
        and sys.platform.startswith(("linux", "freebsd"))
        and threading.active_count() == 1
    )


def _parse_forked(
    root: Path, jobs: list[tuple[str, Signature]], workers: int
) -> tuple[list[tuple[bytes | None, Package]], list[_Segment]]:
    """Split *jobs* in *workers* contiguous chunks: this process parses the first, forked
    children the others, each sending back its rows as cache segments on a pipe.

    A child that fails for any reason (killed, out of memory, a bug) costs time, never
    correctness: its chunk is parsed here instead.
    """
    size = -(-len(jobs) // workers)
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    children: list[tuple[int, int, list[tuple[str, Signature]]]] = []
    try:
        for chunk in chunks[1:]:
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: never returns
                status = 1
                try:
                    os.close(read_end)
                    rows = [(folder, sig, *_parse_one(root, folder)) for folder, sig in chunk]
                    payload = _dump_framed([s.raw for s in _encode_segments(rows)])
                    with os.fdopen(write_end, "wb") as out:
                        out.write(payload)
                    status = 0
                finally:
                    os._exit(status)
            os.close(write_end)
            children.append((pid, read_end, chunk))
        results = [_parse_one(root, folder) for folder, _ in chunks[0]]
        segments: list[_Segment] = []
        while children:
            pid, read_end, chunk = children.pop(0)
            results.extend(_collect_child(root, pid, read_end, chunk, segments))
        return results, segments
    finally:
        for pid, read_end, _ in children:  # only after an exception (e.g. KeyboardInterrupt)
            with contextlib.suppress(OSError):
                os.close(read_end)
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _collect_child(
    root: Path,
    pid: int,
    read_end: int,
    chunk: list[tuple[str, Signature]],
    segments: list[_Segment],
) -> list[tuple[bytes | None, Package]]:
    with os.fdopen(read_end, "rb") as handle:
        data = handle.read()
    _, status = os.waitpid(pid, 0)
    if status == 0:
        try:
            decoder = _Decoder()
            rows: list[_Row] = []
            decoded: list[_Segment] = []
            for raw in _load_framed(data):
                segment_rows, segment = decoder.segment(raw)
                rows += segment_rows
                decoded.append(segment)
            if [(row[0], row[1]) for row in rows] == chunk:
                segments += decoded
                return [(digest, package) for _, _, digest, package in rows]
        except Exception:  # fall through to parsing the chunk here
            pass
    return [_parse_one(root, folder) for folder, _ in chunk]


# ---------------------------------------------------------------------------------------------
# Entry points


def load_workspace(config: Config, use_cache: bool = True) -> Workspace:
    """Discover, read and resolve: the one entry point of the pure core."""
    started = time.time_ns()
    stats = _scan(config)
    return build_workspace(config, _read(config, stats, use_cache, started).packages)


def build_workspace(config: Config, packages: Iterable[Package]) -> Workspace:
    """Resolve *packages* against each other (pure; usable with hand-made packages in tests)."""
    with _gc_paused():
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
        resolve = ws.resolve
        edges = [
            Edge(package.name, target, dep)
            for package in ordered.values()
            for dep in package.dependencies
            if (target := resolve(package, dep)) is not None
        ]
        return Workspace(config, ordered, tuple(rejected), tuple(edges), by_path)


class OutputCache:
    """The whole output of one command line, reused only for exactly the same inputs.

    A hit needs the same command line (arguments as given by the caller), the same resolved
    root and package globs, the same toolchain (this tool's version and source files, Python,
    packaging), and the same set of package files with the same signatures (size, mtime_ns,
    inode, ctime_ns); a file modified within _RACY_NS of the run that wrote the entry must also
    have the same content hash. Anything else is a miss, and the caller computes the output
    (through :meth:`workspace`, which reuses this object's discovery) and :meth:`put`\\ s it.

    Usage (what ``cli`` does)::

        memo = OutputCache(config, ("check", fmt), enabled=not no_cache)
        hit = memo.get()
        if hit is None:
            ...compute code and texts from memo.workspace()...
            memo.put(code, texts)
    """

    def __init__(self, config: Config, command: Sequence[str], enabled: bool = True) -> None:
        self.config = config
        self.enabled = enabled
        self.command = tuple(command)
        self._started = time.time_ns()
        self._stats = _scan(config)  # raises ConfigError exactly like load_workspace
        self._read: _ReadResult | None = None
        key = "\0".join((str(config.root), *config.package_globs, "", *self.command))
        name = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
        self.path = config.state_dir / "cache" / f"output-{name}.marshal"

    def _header(self) -> tuple[object, ...]:
        return (
            _CACHE_FORMAT,
            _toolchain(),
            str(self.config.root),
            self.config.package_globs,
            self.command,
        )

    def get(self) -> tuple[int, tuple[str, ...]] | None:
        """(exit code, texts) stored for exactly this input, or None."""
        if not self.enabled:
            return None
        try:
            with self.path.open("rb") as handle:
                payload = _load_framed(handle.read())
            header, written, folders, signatures, digests, code, texts = payload
        except Exception:  # a missing or damaged entry is a miss
            return None
        current = tuple(_signature(st) for st in self._stats.values())
        if header != self._header() or folders != tuple(self._stats) or signatures != current:
            return None
        if not (
            isinstance(written, int)
            and isinstance(code, int)
            and isinstance(digests, tuple)
            and len(digests) == len(folders)
            and isinstance(texts, tuple)
            and all(isinstance(t, str) for t in texts)
        ):
            return None
        trusted_before = written - _RACY_NS
        racy = [i for i, signature in enumerate(current) if signature[1] >= trusted_before]
        root = self.config.root
        for i in racy:
            data = _read_bytes(os.path.join(root, folders[i], "pyproject.toml"))
            if data is None or _digest(data) != digests[i]:
                return None
        if racy and max(current[i][1] for i in racy) < self._started - _RACY_NS:
            # Verified and old enough now: store again so later runs trust the signatures.
            self._write(
                written=self._started, signatures=current, digests=digests, code=code, texts=texts
            )
        return code, texts

    def workspace(self) -> Workspace:
        """The workspace, read through the parse cache (when enabled), reusing the discovery."""
        self._read = _read(self.config, self._stats, self.enabled, self._started)
        return build_workspace(self.config, self._read.packages)

    def put(self, code: int, texts: Sequence[str]) -> None:
        """Store the output computed from :meth:`workspace` (nothing when disabled)."""
        read = self._read
        if (
            not self.enabled
            or read is None
            or not read.complete
            or set(read.entries) != set(self._stats)
        ):
            return
        entries = [read.entries[folder] for folder in self._stats]
        self._write(
            written=self._started,
            signatures=tuple(e[0] for e in entries),
            digests=tuple(e[1] for e in entries),
            code=code,
            texts=tuple(texts),
        )

    def _write(
        self,
        *,
        written: int,
        signatures: tuple[Signature, ...],
        digests: tuple[bytes, ...],
        code: int,
        texts: tuple[str, ...],
    ) -> None:
        payload = (self._header(), written, tuple(self._stats), signatures, digests, code, texts)
        try:
            content = _dump_framed(payload)
        except ValueError:
            return
        _write_state_file(self.config, self.path, content)
