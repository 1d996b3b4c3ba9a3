"""What a snapshot would do, computed without touching anything: the :class:`Plan`.

Contract: a plan exists only for a workspace with no finding (``check`` passes); it holds one
snapshot id, and for every publishable package, in publish order (each after all its internal
dependencies, ties by name), its base and snapshot versions and its runtime and optional
requirements as they will be published: every requirement naming a monorepo package becomes
``name[extras]==<snapshot version>; <marker>`` (extras and marker kept, any local path or URL
dropped); every other requirement is kept as written. Dev requirements are not part of
published metadata and are neither listed nor rewritten.

Base versions (``PlannedPackage.base_source`` says which): a static version (``project.version``,
``tool.poetry.version``, ``setup.cfg``, or a version file the backend reads: hatch ``path``,
setuptools ``attr``/``file``, pdm ``file``, flit ``__version__``) gives ``<release>.dev<id>``; a
VCS plugin's version (hatch-vcs, setuptools-scm, pdm scm, uv-dynamic-versioning,
poetry-dynamic-versioning) comes from the nearest tag reachable from HEAD that matches the
package's own tag pattern, and the snapshot is the next release's dev (tag 4.4.0 →
``4.4.1.dev<id>``); no tag → ``[tool.monorepo] base-version``; neither → a ``dynamic-version``
finding saying so. VCS plugins also get their own pretend/bypass variable
(``build_environment``), so everything that templates the version agrees.

>>> from monorepo_tools.requirements import parse_requirement
>>> pin(parse_requirement("Runner_Core[cli] @ file:../runner-core ; os_name == 'posix'", "/m/a"), "runner-core", "0.1.0.dev7")
'runner-core[cli]==0.1.0.dev7; os_name == "posix"'
"""

from __future__ import annotations

from dataclasses import dataclass

from ..commands.check import CheckResult
from ..errors import PlanError
from ..graph import BLOCKING_KINDS
from ..render.report import render_check
from ..requirements import ParsedRequirement
from ..rules import Finding
from ..workspace import EdgeKind, Package, Workspace
from ..workspace.version_sources import UVDV_HOOK, VERSION_TEMPLATE, latest_tags, match_tag
from .versions import SnapshotId, dev_release, snapshot_version

__all__ = ["Plan", "PlannedPackage", "make_plan", "pin"]


def pin(requirement: ParsedRequirement, name: str, version: str) -> str:
    """The published form of a requirement on monorepo package *name* at *version*."""
    extras = f"[{','.join(requirement.extras)}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return f"{name}{extras}=={version}{marker}"


@dataclass(frozen=True, slots=True)
class PlannedPackage:
    name: str
    path: str  # folder relative to the root
    base_version: str
    version: str  # the snapshot version
    level: int
    dependencies: tuple[str, ...]  # [project].dependencies as published
    optional_dependencies: tuple[tuple[str, tuple[str, ...]], ...]  # (extra, requirements)
    rewrites: tuple[tuple[str, str], ...]  # (as written, as published) for monorepo requirements
    pins: tuple[tuple[str, str], ...]  # (monorepo package it depends on, its snapshot version)
    build_requires: tuple[str, ...]
    build_backend: str | None
    base_source: str = "project.version"  # where the base version came from, for people
    # Variables the build backend gets (the VCS plugin's pretend/bypass version), sorted.
    build_environment: tuple[tuple[str, str], ...] = ()
    flavour: str = "pep621"
    version_file: str | None = None  # relative to the package folder: staged with the version
    version_source: str = "project.version"
    # (field, as written, as published) of every rewritten requirement: staging dispatches on
    # the field (project.* → pyproject, tool.poetry.* → the Poetry table, options.* → setup.cfg)
    sources: tuple[tuple[str, str, str], ...] = ()

    @property
    def pyproject(self) -> str:
        return "pyproject.toml" if self.path == "." else f"{self.path}/pyproject.toml"

    @property
    def internal(self) -> tuple[str, ...]:
        """The monorepo packages it depends on (runtime/optional), sorted."""
        return tuple(name for name, _ in self.pins)


@dataclass(frozen=True, slots=True)
class Plan:
    snapshot: SnapshotId
    packages: tuple[PlannedPackage, ...]  # publish order
    levels: tuple[tuple[str, ...], ...]  # names per level (a level can be built in parallel)
    unpublished: tuple[str, ...] = ()  # monorepo packages never published (internal)

    @property
    def snapshot_id(self) -> int:
        return self.snapshot.value

    @property
    def versions(self) -> dict[str, str]:
        return {p.name: p.version for p in self.packages}

    def package(self, name: str) -> PlannedPackage:
        for planned in self.packages:
            if planned.name == name:
                return planned
        raise KeyError(name)


def make_plan(result: CheckResult, snapshot: SnapshotId) -> Plan:
    """The plan for the checked workspace; :class:`PlanError` (exit 1) when check has findings."""
    if not result.ok:
        raise PlanError(
            "the workspace has findings that block publishing; nothing was planned or built:\n"
            + render_check(result.summary, "text").rstrip()
        )
    workspace, graph = result.workspace, result.graph
    publishable = [n for n in graph.publish_order() if workspace.packages[n].publishable]
    bases: dict[str, tuple[str, str, str]] = {}  # name -> (base, snapshot version, source)
    problems: list[Finding] = []
    tags: list[list[str]] | None = None
    for name in publishable:
        package = workspace.packages[name]
        if package.tag_pattern is not None and tags is None:
            tags = latest_tags(str(workspace.root / package.path)) or []
        found = _base(workspace, package, snapshot.value, tags or [])
        if isinstance(found, Finding):
            problems.append(found)
        else:
            bases[name] = found
    if problems:
        raise PlanError(
            "no base version for some publishable packages; nothing was planned or built:\n"
            + render_check(CheckResult(workspace, graph, tuple(problems)).summary, "text").rstrip()
        )
    versions = {name: bases[name][1] for name in publishable}
    level_of = graph.level_of
    planned: list[PlannedPackage] = []
    for name in publishable:
        package = workspace.packages[name]
        runtime: list[str] = []
        optional: dict[str, list[str]] = {}
        rewrites: list[tuple[str, str]] = []
        sources: list[tuple[str, str, str]] = []
        internal: set[str] = set()
        for dep in package.dependencies:
            if dep.kind not in BLOCKING_KINDS:
                continue
            target = workspace.resolve(package, dep)
            published = dep.raw
            if target is not None:
                published = pin(dep.requirement, target, versions[target])
                if (dep.raw, published) not in rewrites:
                    rewrites.append((dep.raw, published))
                sources.append((dep.field, dep.raw, published))
                internal.add(target)
            elif dep.field.startswith(UVDV_HOOK):  # the plugin renders it with our version
                published = VERSION_TEMPLATE.sub(versions[name], dep.raw)
            if dep.kind is EdgeKind.RUNTIME:
                runtime.append(published)
            else:
                optional.setdefault(dep.group or "", []).append(published)
        planned.append(
            PlannedPackage(
                name=name,
                path=package.path,
                base_version=bases[name][0],
                version=versions[name],
                level=level_of[name],
                dependencies=tuple(runtime),
                optional_dependencies=tuple(
                    (extra, tuple(reqs)) for extra, reqs in optional.items()
                ),
                rewrites=tuple(rewrites),
                pins=tuple((dep, versions[dep]) for dep in sorted(internal)),
                build_requires=package.build_requires,
                build_backend=package.build_backend,
                base_source=bases[name][2],
                build_environment=build_environment(package, versions[name]),
                flavour=package.flavour,
                version_file=package.version_file,
                version_source=package.version_source,
                sources=tuple(sources),
            )
        )
    levels = tuple(
        tuple(n for n in level if n in versions)
        for level in graph.levels
        if any(n in versions for n in level)
    )
    unpublished = tuple(n for n, p in workspace.packages.items() if not p.publishable)
    return Plan(snapshot, tuple(planned), levels, unpublished)


def build_environment(package: Package, version: str) -> tuple[tuple[str, str], ...]:
    """The variables that make *package*'s version plugin report exactly *version*."""
    from packaging.utils import canonicalize_name

    source = package.version_source
    env: dict[str, str] = {}
    if source in ("setuptools-scm", "hatch-vcs"):
        dist = canonicalize_name(package.declared_name or package.name).replace("-", "_").upper()
        env[f"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_{dist}"] = version
        env["SETUPTOOLS_SCM_PRETEND_VERSION"] = version
    elif source == "uv-dynamic-versioning" or any(
        d.field.startswith(UVDV_HOOK) for d in package.dependencies
    ):  # its version source, or its metadata hook rendering {{ version }}
        env["UV_DYNAMIC_VERSIONING_BYPASS"] = version
    elif source == "poetry-dynamic-versioning":
        env["POETRY_DYNAMIC_VERSIONING_BYPASS"] = version
    elif source == "pdm scm":
        env["PDM_BUILD_SCM_VERSION"] = version
    return tuple(sorted(env.items()))


def _base(
    ws: Workspace, package: Package, snapshot_id: int, tags: list[list[str]]
) -> tuple[str, str, str] | Finding:
    """(base version, snapshot version, where the base came from), or why there is none."""
    if package.tag_pattern is not None:
        match = match_tag(tags, package.tag_pattern)
        if match is not None:
            return (
                match.next,
                dev_release(match.next, snapshot_id),
                f"git tag {match.tag} ({package.version_source}) -> next release {match.next}",
            )
        if package.base_version is not None:
            return (
                package.base_version,
                snapshot_version(package.base_version, snapshot_id),
                f"[tool.monorepo] base-version (no tag reachable from HEAD matches "
                f"{package.tag_pattern!r})",
            )
        return Finding(
            code="dynamic-version",
            package=package.name,
            file=package.pyproject,
            line=None,
            message=(
                f"{package.name} ({package.status}) takes its version from git tags "
                f"({package.version_source}), but no tag reachable from HEAD matches its pattern "
                f"{package.tag_pattern!r}, and there is no [tool.monorepo] base-version"
            ),
            fix=(
                f'set [tool.monorepo] base-version = "X.Y.Z" in {package.pyproject} (the '
                "fallback), or tag a release that matches the pattern (and fetch tags: "
                "git fetch --tags, or a CI clone deep enough to reach it)"
            ),
        )
    if package.version is not None:
        where = package.version_source or "project.version"
        if package.version_file:
            where += f" ({package.file(package.version_file)})"
        return package.version, snapshot_version(package.version, snapshot_id), where
    base = package.base_version or ""
    return base, snapshot_version(base, snapshot_id), "[tool.monorepo] base-version"
