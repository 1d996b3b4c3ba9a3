"""``[project]`` (PEP 621) and the tables every pyproject flavour shares.

Shared tables: ``[tool.monorepo]`` (``status``, ``base-version``), ``[build-system]``,
``[dependency-groups]`` (PEP 735) and ``[tool.pdm.dev-dependencies]`` (dev edges),
``[tool.uv.sources]``. ``[project]`` gives the name, the version (static, or ``dynamic`` with a
source :mod:`..version_sources` reads), and runtime / optional requirements. Requirements that
are ``dynamic`` (a metadata hook computes them) are flagged in ``needs_metadata``: only the
backend can tell them (:mod:`.metadata_hook`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..model import MONOREPO_KEYS, Dependency, EdgeKind, Problem, UvSource
from ..version_sources import UVDV_HOOK, VERSION_TEMPLATE, read_version_source
from .common import INTERNER, check_name, collect, problem

_JINJA = ("{{", "{%", "{#")  # Jinja syntax other than the {{ version }} template

__all__ = ["Common", "read_common", "read_project"]


@dataclass
class Common:
    """The shared tables of one pyproject, as read."""

    status: str = "internal"
    status_declared: bool = False
    base_version: str | None = None
    unknown: tuple[str, ...] = ()
    build_requires: tuple[str, ...] = ()
    build_backend: str | None = None
    uv_sources: tuple[UvSource, ...] = ()
    dev: list[Dependency] = field(default_factory=list)


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_common(doc: dict[str, Any], package_dir: str, problems: list[Problem]) -> Common:
    out = Common()
    tool = _table(doc.get("tool"))
    mono = tool.get("monorepo", {})
    if isinstance(mono, dict):
        if "status" in mono:
            out.status_declared = True
            value = mono["status"]
            out.status = value if isinstance(value, str) else repr(value)
        base = mono.get("base-version")
        if base is not None:
            if isinstance(base, str):
                out.base_version = base
            else:
                problems.append(
                    problem(
                        "tool.monorepo.base-version",
                        f"must be a string, got {base!r}",
                        'write it quoted, e.g. base-version = "0.1.0"',
                    )
                )
        out.unknown = tuple(sorted(k for k in mono if k not in MONOREPO_KEYS))
    else:
        out.status, out.status_declared = repr(mono), True

    build = doc.get("build-system", {})
    if not isinstance(build, dict):
        problems.append(
            problem(
                "build-system",
                "must be a table",
                "write [build-system] with requires and build-backend",
            )
        )
        build = {}
    requires = build.get("requires", [])
    if isinstance(requires, list) and all(isinstance(r, str) for r in requires):
        out.build_requires = tuple(requires)
    else:
        shown = f"{requires!r}" if not isinstance(requires, list) else "a list holding non-strings"
        problems.append(
            problem(
                "build-system.requires",
                f"must be a list of requirement strings, got {shown}",
                'write requires = ["hatchling"] (a list, even for one requirement)',
            )
        )
    backend = build.get("build-backend")
    if backend is None or isinstance(backend, str):
        out.build_backend = backend
    else:
        problems.append(
            problem(
                "build-system.build-backend",
                f"must be a string, got {backend!r}",
                'write build-backend = "hatchling.build" (quoted)',
            )
        )

    def dev_groups(groups: object, where: str, strings: Callable[[list[Any]], list[Any]]) -> None:
        if isinstance(groups, dict):
            for group, reqs in groups.items():
                items = strings(reqs) if isinstance(reqs, list) else reqs
                collect(
                    out.dev, problems, items, f"{where}.{group}", EdgeKind.DEV, group, package_dir
                )

    # PEP 735 allows {include-group = "..."} tables next to strings: not requirements.
    dev_groups(doc.get("dependency-groups"), "dependency-groups", _strings)
    pdm = tool.get("pdm")
    pdm_dev = pdm.get("dev-dependencies") if isinstance(pdm, dict) else None
    dev_groups(pdm_dev, "tool.pdm.dev-dependencies", _editable_stripped)
    uv = tool.get("uv")
    sources = uv.get("sources") if isinstance(uv, dict) else None
    if isinstance(sources, dict):
        out.uv_sources = tuple(_uv_sources(sources, package_dir, problems))
    return out


def _strings(reqs: list[Any]) -> list[Any]:
    return [r for r in reqs if isinstance(r, str)]


def _editable_stripped(reqs: list[Any]) -> list[Any]:
    """PDM's dev groups may hold ``-e <path>`` lines: the requirement is what follows."""
    return [r[3:].strip() if isinstance(r, str) and r.startswith("-e ") else r for r in reqs]


@dataclass
class ProjectRead:
    declared: str | None
    version: str | None
    dynamic: tuple[str, ...]
    dependencies: list[Dependency]
    version_source: str
    version_file: str | None = None
    tag_pattern: str | None = None
    tag_root: str | None = None
    files: tuple[str, ...] = ()
    needs_metadata: tuple[str, ...] = ()


def read_project(
    doc: dict[str, Any],
    project: dict[str, Any],
    package_dir: str,
    fallback: str,
    common: Common,
    problems: list[Problem],
) -> ProjectRead:
    """``[project]``: name, version (and its source), runtime and optional requirements."""
    declared = check_name(project.get("name"), "project.name", fallback, problems)
    version = project.get("version")
    if version is not None and not isinstance(version, str):
        problems.append(
            problem(
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
    collect(
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
            collect(
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
            problem(
                "project.optional-dependencies",
                "must be a table of extra = [requirements]",
                "write [project.optional-dependencies] with one list per extra",
            )
        )
    hook_fields = _uvdv_hook(doc, dynamic, dependencies, package_dir, problems)
    out = ProjectRead(declared, version, dynamic, dependencies, "project.version")
    if "version" in dynamic:
        found = read_version_source(
            doc, package_dir, common.build_backend, common.build_requires, declared
        )
        out.version_source = found.source
        out.version = found.version
        out.version_file = found.file
        out.tag_pattern = found.tag_pattern
        out.tag_root = found.tag_root
        out.files = found.files
        if found.error and common.base_version is None:
            problems.append(
                problem(
                    "project.dynamic",
                    f'declares dynamic = ["version"]; {found.error}',
                    found.fix or 'set [tool.monorepo] base-version = "X.Y.Z"',
                    code="dynamic-version",
                )
            )
    elif isinstance(version, str) and common.build_backend in ("mesonpy", "maturin"):
        # a static version: meson.build / Cargo.toml that say the same get the snapshot too
        from ..version_sources import native_version_file

        native = native_version_file(doc, package_dir, common.build_backend, version)
        out.version_file, out.files = native.file, native.files
    needs = tuple(
        d
        for d in ("dependencies", "optional-dependencies")
        if d in dynamic and d not in hook_fields
    )
    out.needs_metadata = needs
    return out


def _uvdv_hook(
    doc: dict[str, Any],
    dynamic: tuple[str, ...],
    out: list[Dependency],
    package_dir: str,
    problems: list[Problem],
) -> set[str]:
    """The requirements uv-dynamic-versioning's metadata hook writes as templates of the
    package's own version (``"core=={{ version }}"``), appended to *out*; returns the dynamic
    fields they fill. Nothing is read (the PEP 517 metadata path stays) unless this is the only
    metadata hook and ``{{ version }}`` the only template in its lists."""
    tool = _table(doc.get("tool"))
    hooks = _table(_table(_table(tool.get("hatch")).get("metadata")).get("hooks"))
    hook = hooks.get("uv-dynamic-versioning")
    if not isinstance(hook, dict) or set(hooks) != {"uv-dynamic-versioning"}:
        return set()
    lists: list[tuple[str, str | None, EdgeKind, object]] = []
    if "dependencies" in dynamic and "dependencies" in hook:
        lists.append(("dependencies", None, EdgeKind.RUNTIME, hook["dependencies"]))
    optional = hook.get("optional-dependencies")
    if "optional-dependencies" in dynamic and isinstance(optional, dict):
        for extra, reqs in optional.items():
            lists.append((f"optional-dependencies.{extra}", extra, EdgeKind.OPTIONAL, reqs))
    for _, _, _, reqs in lists:
        if not isinstance(reqs, list) or not all(
            isinstance(r, str) and not any(m in VERSION_TEMPLATE.sub("", r) for m in _JINJA)
            for r in reqs
        ):
            return set()  # other templates, or not a list of strings: the backend will say
    for name, group, kind, reqs in lists:
        field_name = f"{UVDV_HOOK}.{name}"
        assert isinstance(reqs, list)
        for template in reqs:
            # any version parses the same; the specifier is the template's (rendered later)
            parsed = INTERNER.requirement(VERSION_TEMPLATE.sub("0", template), package_dir)
            if parsed.error is not None:
                problems.append(
                    problem(
                        field_name,
                        f"{template!r} is not a PEP 508 requirement once rendered",
                        "write a PEP 508 requirement: name[extras] specifier ; marker",
                    )
                )
                continue
            parsed = replace(parsed, raw=template, specifier="")
            out.append(INTERNER.dependency(parsed, kind, group, field_name))
    return {name.split(".", 1)[0] for name, _, _, _ in lists}


def _uv_sources(
    sources: dict[str, object], package_dir: str, problems: list[Problem]
) -> Iterator[UvSource]:
    from ...requirements import canonicalize_name

    for key, spec in sources.items():
        name = canonicalize_name(key)
        # A list of sources (one per marker) is allowed: each counts.
        for entry in spec if isinstance(spec, list) else [spec]:
            if not isinstance(entry, dict):
                problems.append(
                    problem(
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
