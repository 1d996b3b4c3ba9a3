"""What a snapshot would do, computed without touching anything: the :class:`Plan`.

Contract: a plan exists only for a workspace with no finding (``check`` passes); it holds one
snapshot id, and for every publishable package, in publish order (each after all its internal
dependencies, ties by name), its base and snapshot versions and its runtime and optional
requirements as they will be published: every requirement naming a monorepo package becomes
``name[extras]==<snapshot version>; <marker>`` (extras and marker kept, any local path or URL
dropped); every other requirement is kept as written. Dev requirements are not part of
published metadata and are neither listed nor rewritten.

>>> from monorepo_tools.requirements import parse_requirement
>>> pin(parse_requirement("Runner_Core[cli] @ file:../runner-core ; os_name == 'posix'", "/m/a"), "runner-core", "0.1.0.dev7")
'runner-core[cli]==0.1.0.dev7; os_name == "posix"'
"""

from __future__ import annotations

from dataclasses import dataclass

from .commands.check import CheckResult
from .errors import PlanError
from .graph import BLOCKING_KINDS
from .render.check import render_check
from .requirements import ParsedRequirement
from .versions import SnapshotId, snapshot_version
from .workspace import EdgeKind

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

    @property
    def pyproject(self) -> str:
        return f"{self.path}/pyproject.toml"

    @property
    def internal(self) -> tuple[str, ...]:
        """The monorepo packages it depends on (runtime/optional), sorted."""
        return tuple(name for name, _ in self.pins)


@dataclass(frozen=True, slots=True)
class Plan:
    snapshot: SnapshotId
    packages: tuple[PlannedPackage, ...]  # publish order
    levels: tuple[tuple[str, ...], ...]  # names per level (a level can be built in parallel)

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
    versions = {
        name: snapshot_version(workspace.packages[name].version or "", snapshot.value)
        for name in publishable
    }
    level_of = graph.level_of
    planned: list[PlannedPackage] = []
    for name in publishable:
        package = workspace.packages[name]
        runtime: list[str] = []
        optional: dict[str, list[str]] = {}
        rewrites: list[tuple[str, str]] = []
        internal: set[str] = set()
        for dep in package.dependencies:
            if dep.kind not in BLOCKING_KINDS:
                continue
            target = workspace.resolve(package, dep)
            published = dep.raw
            if target is not None:
                published = pin(dep.requirement, target, versions[target])
                rewrites.append((dep.raw, published))
                internal.add(target)
            if dep.kind is EdgeKind.RUNTIME:
                runtime.append(published)
            else:
                optional.setdefault(dep.group or "", []).append(published)
        planned.append(
            PlannedPackage(
                name=name,
                path=package.path,
                base_version=package.version or "",
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
            )
        )
    levels = tuple(
        tuple(n for n in level if n in versions)
        for level in graph.levels
        if any(n in versions for n in level)
    )
    return Plan(snapshot, tuple(planned), levels)
