"""Where a package's base version comes from, read without running the package.

Static sources are read when the package is read (their file joins the package's cache key):

===========================  ===================================================================
``project.version``          ``[project].version`` (also ``tool.poetry.version``, ``setup.cfg``)
``hatch path``               ``[tool.hatch.version] path`` (or ``[version]`` of ``hatch.toml``),
                             with hatch's regex (or the configured ``pattern``)
``setuptools attr``          ``[tool.setuptools.dynamic] version = {attr = "pkg.__version__"}``
                             (or ``version = attr: pkg.__version__`` in ``setup.cfg``): the
                             module's assignment, read with ``ast`` as setuptools tries first
                             (``from ._version import __version__`` is followed to its file)
``setuptools file``          ``version = {file = "VERSION"}`` (``file: VERSION`` in setup.cfg)
``pdm file``                 ``[tool.pdm.version] source = "file", path = ...``
``flit __version__``         flit_core with ``dynamic = ["version"]``: the module's __version__
``meson project()``          meson-python: ``project(..., version: '1.2.0')`` of meson.build
``meson files()``            ... ``version: files('VERSION')``: that file
``scikit-build regex``       scikit-build-core's ``scikit_build_core.metadata.regex`` provider
                             (``[tool.scikit-build.metadata.version]`` or the
                             ``[[tool.dynamic-metadata]]`` entry of ``version``): its input file
``cargo package.version``    maturin: ``[package] version`` of Cargo.toml (semver → PEP 440)
===========================  ===================================================================

(meson.build and Cargo.toml are parsed by :mod:`.native_manifests`.)

uv-dynamic-versioning's *metadata hook* (``[tool.hatch.metadata.hooks.uv-dynamic-versioning]``)
writes ``dependencies`` / ``optional-dependencies`` as Jinja templates of the package's own
version (``"core=={{ version }}"``): when ``{{ version }}`` is the only template in them and
this is the package's only metadata hook, the readers take them as its requirements
(:data:`UVDV_HOOK` is their field), staging pins the monorepo ones literally, and the plugin's
bypass variable renders the rest with the snapshot version.

VCS sources (``hatch-vcs``, ``setuptools-scm`` (also scikit-build-core's ``setuptools_scm``
provider), ``pdm scm``, ``uv-dynamic-versioning``, ``poetry-dynamic-versioning`` (Poetry 1, and
Poetry 2's ``[project]`` with ``dynamic = ["version"]``)) record the package's own tag
pattern; :func:`latest_tags` and :func:`vcs_base` resolve it from git at plan time, as
``git describe`` would: the nearest tag
reachable from HEAD that matches, and the snapshot is built after it (the next release, as
setuptools-scm's default ``guess-next-dev`` does: tag 4.4.0 → 4.4.1.dev<id>).
"""

from __future__ import annotations

import ast
import os
import posixpath
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

__all__ = [
    "DEFAULT_TAG_REGEX",
    "UVDV_HOOK",
    "VERSION_TEMPLATE",
    "StaticVersion",
    "TagMatch",
    "latest_tags",
    "match_tag",
    "next_release",
    "read_version_source",
]

# setuptools-scm's default tag regex (hatch-vcs and pdm use it too).
DEFAULT_TAG_REGEX = r"^(?:[\w-]+-)?(?P<version>[vV]?\d+(?:\.\d+){0,2}[^\+]*)(?:\+.*)?$"
# dunamai's default "pattern" (uv-dynamic-versioning, poetry-dynamic-versioning), simplified.
DUNAMAI_TAG_REGEX = (
    r"^v(?P<version>\d+(?:\.\d+)*(?:[-._]?(?:a|b|rc|alpha|beta|pre|post|dev)\.?\d*)*)$"
)
# hatchling's default regex for [tool.hatch.version] path
HATCH_REGEX = r"(?i)^(__version__|VERSION) *= *([\'\"])v?(?P<version>.+?)\2"
# scikit-build-core's default regex for the regex version provider
SKBUILD_REGEX = r"(?i)^(__version__|VERSION)(?: ?\: ?str)? *= *([\'\"])v?(?P<value>.+?)\2"
PDM_REGEX = r"^__version__\s*=\s*[\"'](?P<version>.+?)[\"']\s*(?:#.*)?$"
_MAX_FILE = 4 * 1024 * 1024
# uv-dynamic-versioning's metadata hook, and the one template of it read statically
UVDV_HOOK = "tool.hatch.metadata.hooks.uv-dynamic-versioning"
VERSION_TEMPLATE = re.compile(r"\{\{\s*version\s*\}\}")

VCS_SOURCES = (
    "hatch-vcs",
    "setuptools-scm",
    "pdm scm",
    "uv-dynamic-versioning",
    "poetry-dynamic-versioning",
)


@dataclass(frozen=True, slots=True)
class StaticVersion:
    """What :func:`read_version_source` found (a version, a tag pattern, or why neither)."""

    source: str  # see the module docstring; "" when nothing says where the version comes from
    version: str | None = None
    file: str | None = None  # relative to the package folder
    tag_pattern: str | None = None
    tag_root: str | None = None
    error: str | None = None  # why the source could not be read (names the file)
    fix: str | None = None
    files: tuple[str, ...] = ()  # extra files read (for the cache key)


def _read(package_dir: str, relative: str) -> str | None:
    path = os.path.join(package_dir, relative)
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > _MAX_FILE:
            return None
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _safe_relative(path: object) -> str | None:
    """A relative POSIX path that stays inside the package folder, else None."""
    if not isinstance(path, str) or not path or os.path.isabs(path):
        return None
    normal = posixpath.normpath(path.replace("\\", "/"))
    return None if normal.startswith("../") or normal == ".." else normal


def _regex_version(text: str, pattern: str) -> str | None:
    try:
        match = re.search(pattern, text, re.MULTILINE)
    except re.error:
        return None
    if match is None:
        return None
    for group in ("version", "value"):  # hatch and pdm name it version, scikit-build value
        if group in match.re.groupindex:
            return match.group(group)
    return match.group(1) if match.groups() else match.group(0)


def _file_source(
    source: str, package_dir: str, path: object, pattern: str | None, where: str
) -> StaticVersion:
    relative = _safe_relative(path)
    if relative is None:
        return StaticVersion(
            source,
            error=f"{where} path {path!r} is not a relative path inside the package",
            fix=f"point {where} path at the file that holds the version, e.g. 'src/pkg/__about__.py'",
        )
    text = _read(package_dir, relative)
    if text is None:
        return StaticVersion(
            source,
            file=relative,
            error=f"{where} names {relative}, which cannot be read",
            fix=f'create {relative} with __version__ = "0.1.0", or fix the path',
            files=(relative,),
        )
    # a plain version file (setuptools file:) when there is no pattern
    version = text.strip() if pattern is None else _regex_version(text, pattern)
    if not version:
        return StaticVersion(
            source,
            file=relative,
            error=f"{relative} (named by {where}) holds no version the backend's pattern finds",
            fix=f'write __version__ = "0.1.0" in {relative}',
            files=(relative,),
        )
    return StaticVersion(source, version=version, file=relative, files=(relative,))


def _module_files(package_dir: str, module: str, roots: Sequence[str]) -> list[str]:
    parts = module.split(".")
    out = []
    for root in roots:
        base = posixpath.join(root, *parts) if root not in ("", ".") else posixpath.join(*parts)
        out += [posixpath.join(base, "__init__.py"), base + ".py"]
    return out


def _assigned_string(text: str, attribute: str) -> str | None:
    """The string assigned to *attribute* at module level (``__version__ = "1.0"``), statically."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        value = getattr(node, "value", None)
        for target in targets:
            if (
                isinstance(target, ast.Name)
                and target.id == attribute
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                return value.value
    return None


def _attr_source(
    source: str, package_dir: str, attr: object, roots: Sequence[str], where: str
) -> StaticVersion:
    if not isinstance(attr, str) or "." not in attr.strip():
        return StaticVersion(
            source,
            error=f"{where} attr {attr!r} is not 'module.attribute'",
            fix='write attr = "pkg.__version__"',
        )
    module, _, attribute = attr.strip().rpartition(".")
    candidates = _module_files(package_dir, module, roots)
    for relative in candidates:
        text = _read(package_dir, relative)
        if text is None:
            continue
        read: list[str] = [relative]
        found = _follow(package_dir, relative, text, attribute, roots, read)
        if found is None:
            return StaticVersion(
                source,
                file=relative,
                error=(
                    f"{relative} (named by {where} attr = {attr!r}) does not assign {attribute} "
                    "a string literal, so it cannot be read without running the package"
                ),
                fix=f'write {attribute} = "0.1.0" in {relative}, or set [tool.monorepo] base-version',
                files=tuple(read),
            )
        version, file = found
        return StaticVersion(source, version=version, file=file, files=tuple(read))
    return StaticVersion(
        source,
        error=f"{where} attr = {attr!r}: none of {', '.join(candidates)} exists",
        fix="fix the attr (module path) or the package-dir mapping",
    )


_MAX_IMPORT_HOPS = 4


def _follow(
    package_dir: str,
    relative: str,
    text: str,
    attribute: str,
    roots: Sequence[str],
    read: list[str],
) -> tuple[str, str] | None:
    """(version, the file assigning it) for *attribute* of the module in *relative*: its own
    string literal, or, statically, through ``from ._version import __version__`` (relative or
    absolute, ``as`` too) into another file of the package, up to _MAX_IMPORT_HOPS files.
    *read* collects every file looked at (they key the cache)."""
    for _ in range(_MAX_IMPORT_HOPS):
        version = _assigned_string(text, attribute)
        if version is not None:
            return version, relative
        imported = _imported_name(text, attribute)
        if imported is None:
            return None
        level, module, attribute = imported
        if level:
            base = posixpath.dirname(relative)
            for _ in range(level - 1):
                base = posixpath.dirname(base)
            stem = posixpath.join(base, *module.split(".")) if module else base
            candidates = [posixpath.join(stem, "__init__.py"), stem + ".py"]
        else:
            candidates = _module_files(package_dir, module, roots)
        for candidate in candidates:
            found = _read(package_dir, candidate)
            if found is not None:
                relative, text = candidate, found
                read.append(candidate)
                break
        else:
            return None
    return None


def _imported_name(text: str, attribute: str) -> tuple[int, str, str] | None:
    """(level, module, name) of a module-level ``from module import name [as attribute]``."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == attribute and alias.name != "*":
                    return node.level, node.module or "", alias.name
    return None


def _vcs(source: str, pattern: object, root: object) -> StaticVersion:
    regex = pattern if isinstance(pattern, str) and pattern else DEFAULT_TAG_REGEX
    if source in ("uv-dynamic-versioning", "poetry-dynamic-versioning") and not isinstance(
        pattern, str
    ):
        regex = DUNAMAI_TAG_REGEX
    try:
        re.compile(regex)
    except re.error as exc:
        return StaticVersion(
            source,
            error=f"the tag pattern {regex!r} is not a valid regular expression ({exc})",
            fix="fix the tag pattern",
        )
    return StaticVersion(
        source, tag_pattern=regex, tag_root=root if isinstance(root, str) else None
    )


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_version_source(
    doc: Mapping[str, Any],
    package_dir: str,
    backend: str | None,
    requires: Sequence[str],
    project_name: str | None,
) -> StaticVersion:
    """Where the dynamic version of the pyproject *doc* comes from, read statically."""
    tool = _table(doc.get("tool"))
    requires_text = " ".join(requires).lower()
    backend = backend or ""
    hatch_version = _table(_table(tool.get("hatch")).get("version"))
    extra: tuple[str, ...] = ()
    if not hatch_version and backend.startswith("hatchling"):
        text = _read(package_dir, "hatch.toml")
        if text is not None:
            from .readers.toml import TomlError, loads

            try:
                hatch_version = _table(loads(text).get("version"))
            except TomlError:
                hatch_version = {}
            extra = ("hatch.toml",)
    if hatch_version:
        where = "[tool.hatch.version]" if not extra else "hatch.toml [version]"
        source = hatch_version.get("source", "regex")
        if source == "vcs":
            raw = _table(hatch_version.get("raw-options"))
            found = _vcs(
                "hatch-vcs",
                hatch_version.get("tag-pattern") or raw.get("tag_regex"),
                raw.get("root"),
            )
        elif source == "uv-dynamic-versioning":
            found = _dunamai("uv-dynamic-versioning", _table(tool.get("uv-dynamic-versioning")))
        elif source == "regex" and "path" in hatch_version:
            pattern = hatch_version.get("pattern")
            found = _file_source(
                "hatch path",
                package_dir,
                hatch_version["path"],
                pattern if isinstance(pattern, str) else HATCH_REGEX,
                where,
            )
        else:
            found = StaticVersion(
                f"hatch {source}",
                error=f"{where} source = {source!r} computes the version when building",
                fix='set [tool.monorepo] base-version = "X.Y.Z", or use source = "regex" with a path',
            )
        return _with_files(found, extra)
    setuptools_dynamic = _table(_table(tool.get("setuptools")).get("dynamic"))
    spec = setuptools_dynamic.get("version")
    if isinstance(spec, dict):
        if "attr" in spec:
            return _attr_source(
                "setuptools attr",
                package_dir,
                spec["attr"],
                _setuptools_roots(tool),
                "[tool.setuptools.dynamic] version",
            )
        if "file" in spec:
            files = spec["file"]
            first = files[0] if isinstance(files, list) and files else files
            return _file_source(
                "setuptools file", package_dir, first, None, "[tool.setuptools.dynamic] version"
            )
    skbuild = _skbuild_version(tool)
    if skbuild is not None:
        return _skbuild(package_dir, tool, skbuild)
    if (
        "setuptools_scm" in tool
        or "setuptools-scm" in requires_text
        or "setuptools_scm" in requires_text
    ):
        scm = _table(tool.get("setuptools_scm"))
        return _vcs("setuptools-scm", scm.get("tag_regex"), scm.get("root"))
    pdm_version = _table(_table(tool.get("pdm")).get("version"))
    if pdm_version or backend.startswith("pdm"):
        source = pdm_version.get("source", "file" if "path" in pdm_version else "")
        if source == "file":
            return _file_source(
                "pdm file", package_dir, pdm_version.get("path"), PDM_REGEX, "[tool.pdm.version]"
            )
        if source == "scm":
            return _vcs("pdm scm", pdm_version.get("tag_regex"), None)
        return StaticVersion(
            f"pdm {source or 'version'}",
            error=f"[tool.pdm.version] source = {source!r} computes the version when building",
            fix='set [tool.monorepo] base-version = "X.Y.Z"',
        )
    if "uv-dynamic-versioning" in tool:
        return _dunamai("uv-dynamic-versioning", _table(tool.get("uv-dynamic-versioning")))
    pdv = _table(tool.get("poetry-dynamic-versioning"))
    if pdv.get("enable") is True:  # Poetry 2: [project] dynamic = ["version"] with the plugin
        return _dunamai("poetry-dynamic-versioning", pdv)
    if backend == "mesonpy":
        return _meson(package_dir)
    if backend == "maturin":
        return _cargo(package_dir, _table(tool.get("maturin")))
    if backend.startswith("flit_core") and project_name:
        flit = _table(_table(tool.get("flit")).get("module"))
        named = flit.get("name")
        module = (named if isinstance(named, str) else project_name).replace("-", "_")
        module = module.replace(".", "_")
        found = _attr_source(
            "flit __version__", package_dir, f"{module}.__version__", ("", "src"), "flit"
        )
        return found
    return StaticVersion(
        "",
        error="nothing tells where the dynamic version comes from (no version plugin setting this tool reads)",
        fix='set [tool.monorepo] base-version = "X.Y.Z", or a static version = "X.Y.Z" in [project]',
    )


def _dunamai(source: str, table: Mapping[str, Any]) -> StaticVersion:
    pattern = table.get("pattern")
    prefix = table.get("pattern-prefix")
    if isinstance(pattern, str) and pattern not in ("default", "default-unprefixed"):
        regex: object = pattern.replace("(?P<base>", "(?P<version>")
    elif pattern == "default-unprefixed":
        regex = DUNAMAI_TAG_REGEX.replace("^v", "^v?")
    else:
        regex = None
    if isinstance(prefix, str) and prefix:
        base = regex if isinstance(regex, str) else DUNAMAI_TAG_REGEX
        regex = "^" + re.escape(prefix) + base.lstrip("^")
    return _vcs(source, regex, None)


def _skbuild_version(tool: Mapping[str, Any]) -> dict[str, Any] | None:
    """scikit-build-core's version provider settings: ``[tool.scikit-build.metadata.version]``
    or the ``[[tool.dynamic-metadata]]`` entry with ``field = "version"``; None without one."""
    metadata = _table(_table(tool.get("scikit-build")).get("metadata"))
    if "version" in metadata:
        return _table(metadata["version"])
    entries = tool.get("dynamic-metadata")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("field") == "version":
            return entry
    return None


def _skbuild(package_dir: str, tool: Mapping[str, Any], settings: dict[str, Any]) -> StaticVersion:
    provider = settings.get("provider")
    where = "[tool.scikit-build.metadata.version]"
    if provider == "scikit_build_core.metadata.setuptools_scm":
        scm = _table(tool.get("setuptools_scm"))
        return _vcs("setuptools-scm", scm.get("tag_regex"), scm.get("root"))
    if provider != "scikit_build_core.metadata.regex":
        return StaticVersion(
            "scikit-build",
            error=f"{where} provider = {provider!r} computes the version when building",
            fix='set [tool.monorepo] base-version = "X.Y.Z", or use the '
            '"scikit_build_core.metadata.regex" provider with an input file',
        )
    regex = settings.get("regex", SKBUILD_REGEX)
    result = settings.get("result", "{value}")
    remove = settings.get("remove", "")
    found = _file_source(
        "scikit-build regex",
        package_dir,
        settings.get("input"),
        regex if isinstance(regex, str) else SKBUILD_REGEX,
        f"{where} input",
    )
    if found.version is None:
        return found
    version: str | None = found.version
    if result != "{value}" or remove:
        # result / remove reshape the match, as scikit-build-core's regex provider does
        text = _read(package_dir, found.file or "") or ""
        try:
            match = re.search(str(regex), text, re.MULTILINE)
            assert match is not None and isinstance(result, str) and isinstance(remove, str)
            version = result.format(*match.groups(), **match.groupdict())
            version = re.sub(remove, "", version) if remove else version
        except (AssertionError, IndexError, KeyError, ValueError, re.error):
            return StaticVersion(
                "scikit-build regex",
                error=f"{where} result {result!r} cannot be applied to {found.file}",
                fix="fix result / remove, or set [tool.monorepo] base-version",
                files=found.files,
            )
        # the file holds the match, not the version: staging cannot write it back
        return StaticVersion("scikit-build regex", version=version, files=found.files)
    if not (found.file or "").endswith(".py"):
        # e.g. project(x VERSION 1.2.3) of CMakeLists.txt: CMake refuses a PEP 440 dev
        # version there, and takes SKBUILD_PROJECT_VERSION anyway: staging leaves it alone
        return StaticVersion("scikit-build regex", version=version, files=found.files)
    return found


def _meson(package_dir: str) -> StaticVersion:
    """meson-python with a dynamic version: ``project(..., version: ...)`` of meson.build."""
    from .native_manifests import meson_project_version

    text = _read(package_dir, "meson.build")
    if text is None:
        return StaticVersion(
            "meson project()",
            error="meson-python takes the version from meson.build, which cannot be read",
            fix="add meson.build with project('name', version: '0.1.0'), or a static "
            'version = "X.Y.Z" in [project]',
        )
    found = meson_project_version(text)
    if found.literal is not None:
        return StaticVersion(
            "meson project()", version=found.literal, file="meson.build", files=("meson.build",)
        )
    if found.file is not None:
        return _with_files(
            _file_source("meson files()", package_dir, found.file, None, "meson.build version:"),
            ("meson.build",),
        )
    return StaticVersion(
        "meson project()",
        error=f"meson.build {found.error}",
        fix="write version: '1.2.3' (or version: files('VERSION')) in project() of meson.build,"
        ' or set [tool.monorepo] base-version = "X.Y.Z"',
        files=("meson.build",),
    )


def _cargo(package_dir: str, maturin: Mapping[str, Any]) -> StaticVersion:
    """maturin with a dynamic version: ``[package] version`` of the crate's Cargo.toml."""
    from .native_manifests import pep440_from_semver
    from .readers.toml import TomlError, loads

    manifest = maturin.get("manifest-path", "Cargo.toml")
    relative = _safe_relative(manifest)
    fix = (
        'write version = "X.Y.Z" in [package] of the crate\'s Cargo.toml, or a static '
        'version = "X.Y.Z" in [project], or set [tool.monorepo] base-version = "X.Y.Z"'
    )
    if relative is None:
        return StaticVersion(
            "cargo package.version",
            error=f"[tool.maturin] manifest-path {manifest!r} is not a path inside the package",
            fix=fix,
        )
    text = _read(package_dir, relative)
    if text is None:
        return StaticVersion(
            "cargo package.version",
            error=f"maturin takes the version from {relative}, which cannot be read",
            fix=fix,
            files=(relative,),
        )
    try:
        version = _table(loads(text).get("package")).get("version")
    except TomlError as exc:
        version = None
        problem = f"{relative} is not valid TOML ({exc.reason})"
    else:
        problem = f"{relative} has no [package] version string"
        if isinstance(version, dict) and version.get("workspace") is True:
            problem = (
                f"{relative} inherits its version from the Cargo workspace "
                "(version.workspace = true), which this tool does not read"
            )
    if isinstance(version, str):
        converted = pep440_from_semver(version)
        if converted is not None:
            return StaticVersion(
                "cargo package.version", version=converted, file=relative, files=(relative,)
            )
        problem = f"{relative} [package] version {version!r} has no PEP 440 form"
    return StaticVersion("cargo package.version", error=problem, fix=fix, files=(relative,))


def native_version_file(
    doc: Mapping[str, Any], package_dir: str, backend: str, version: str
) -> StaticVersion:
    """For a static ``[project] version`` of a meson-python or maturin package: meson.build's
    ``project()`` / Cargo.toml's ``[package]`` when it says the same *version* (so staging
    writes the snapshot there too, and ``meson.project_version()`` or
    ``env!("CARGO_PKG_VERSION")`` agree with the wheel): its ``file``, else ``file`` None."""
    if backend == "mesonpy":
        found = _meson(package_dir)
        same = found.version == version and found.file == "meson.build"
    else:
        found = _cargo(package_dir, _table(_table(doc.get("tool")).get("maturin")))
        try:
            same = found.version is not None and Version(found.version) == Version(version)
        except InvalidVersion:
            same = False
    # read either way: the file joins the cache key, so an edit to it is seen
    return found if same else StaticVersion(found.source, files=found.files)


def _setuptools_roots(tool: Mapping[str, Any]) -> tuple[str, ...]:
    package_dir = _table(_table(tool.get("setuptools")).get("package-dir"))
    root = package_dir.get("")
    roots = [root] if isinstance(root, str) else []
    return (*roots, "", "src")


def _with_files(found: StaticVersion, extra: tuple[str, ...]) -> StaticVersion:
    if not extra:
        return found
    return StaticVersion(
        found.source,
        found.version,
        found.file,
        found.tag_pattern,
        found.tag_root,
        found.error,
        found.fix,
        (*extra, *found.files),
    )


# ---- VCS tags, at plan time ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TagMatch:
    tag: str
    version: str  # the version the tag names (PEP 440)
    next: str  # the next release after it (the snapshot is built as <next>.dev<id>)


def latest_tags(directory: str) -> list[list[str]] | None:
    """Tags reachable from HEAD of the repository holding *directory*, nearest commits first
    (one list per tagged commit), or None outside a git checkout / without git."""
    try:
        completed = subprocess.run(
            [
                "git",
                "-C",
                directory,
                "log",
                "--simplify-by-decoration",
                "--decorate-refs=refs/tags/",
                "--format=%x00%D",
                "HEAD",
            ],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    out: list[list[str]] = []
    for chunk in completed.stdout.decode("utf-8", "replace").split("\0"):
        refs = [r.strip() for r in chunk.strip().split(",") if r.strip()]
        tags = [r[len("tag: ") :] for r in refs if r.startswith("tag: ")]
        if tags:
            out.append(tags)
    return out


def match_tag(tags: Sequence[Sequence[str]], pattern: str) -> TagMatch | None:
    """The nearest tag matching *pattern* (ties on one commit: the highest version)."""
    try:
        regex = re.compile(pattern)
    except re.error:
        return None
    for commit_tags in tags:
        found: list[tuple[Version, str, str]] = []
        for tag in commit_tags:
            match = regex.search(tag)
            if match is None:
                continue
            try:
                text = match.group("version")
            except IndexError:
                text = match.group(1) if match.groups() else match.group(0)
            try:
                found.append((Version(text), tag, text))
            except (InvalidVersion, TypeError):
                continue
        if found:
            version, tag, _ = max(found)
            return TagMatch(tag, str(version), next_release(str(version)))
    return None


def next_release(version: str) -> str:
    """The release after *version*, as setuptools-scm guesses it (guess-next-dev).

    >>> next_release("4.4.0"), next_release("1.2"), next_release("1.0rc1"), next_release("2.0.dev3")
    ('4.4.1', '1.3', '1.0rc2', '2.0')
    """
    parsed = Version(version)
    epoch = f"{parsed.epoch}!" if parsed.epoch else ""
    release = list(parsed.release)
    if parsed.dev is not None and parsed.pre is None and parsed.post is None:
        return epoch + ".".join(map(str, release))
    if parsed.pre is not None:
        letter, number = parsed.pre
        return epoch + ".".join(map(str, release)) + f"{letter}{number + 1}"
    release[-1] += 1
    return epoch + ".".join(map(str, release))
