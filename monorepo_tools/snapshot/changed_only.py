"""Changed-only snapshots (``snapshot --affected-since REF``, opt-in): publish what changed.

Contract: of the full plan, only the publishable packages affected since REF (runtime and
optional edges: what a publish needs) are kept. Each internal pin of a kept package on a package
that is *not* kept points at the exact version that dependency already has on the registry: its
newest snapshot (``<base_release>.devN``) of its current base release, found by looking the
project up in the registry's simple index
(:func:`~monorepo_tools.publish.registry.published_versions`).
A dependency with no such version was never published at this base: it is kept (published at
this snapshot's id) as well, and so on down its own dependencies. The default (no REF) stays the
specification's: every publishable package at one id.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from packaging.version import Version

from ..graph import BLOCKING_KINDS
from ..workspace import Workspace
from .plan import Plan, PlannedPackage, pin
from .versions import base_release

__all__ = ["ChangedOnly", "changed_only_plan", "newest_snapshot"]


def newest_snapshot(versions: Collection[str], base_version: str) -> str | None:
    """The highest ``<base_release>.devN`` among *versions* (None when there is none)."""
    base = base_release(base_version)
    candidates = []
    for text in versions:
        version = Version(text)
        plain_dev = version.is_devrelease and version.pre is None and version.post is None
        if plain_dev and version.local is None and base_release(text) == base:
            candidates.append(version)
    return str(max(candidates)) if candidates else None


@dataclass(frozen=True)
class ChangedOnly:
    plan: Plan
    affected: tuple[str, ...]  # publishable packages affected since REF
    never_published: tuple[str, ...]  # unaffected dependencies published because none was found
    reused: tuple[tuple[str, str], ...]  # (unaffected dependency, its version on the registry)
    skipped: tuple[str, ...]  # publishable packages left as they are on the registry


def changed_only_plan(
    workspace: Workspace,
    full: Plan,
    affected: Collection[str],
    lookup: Callable[[str], Collection[str]],
) -> ChangedOnly:
    """Narrow *full* to *affected* (see the module docstring); *lookup*: name -> versions."""
    planned = {p.name: p for p in full.packages}
    kept = {name for name in affected if name in planned}
    first = set(kept)
    reused: dict[str, str] = {}
    never: set[str] = set()
    queue = sorted(kept)
    while queue:
        name = queue.pop()
        for dep in planned[name].internal:
            if dep in kept or dep in reused:
                continue
            found = newest_snapshot(lookup(dep), planned[dep].base_version)
            if found is None:
                kept.add(dep)
                never.add(dep)
                queue.append(dep)
            else:
                reused[dep] = found
    packages = tuple(
        _repinned(workspace, p, full.versions, reused) for p in full.packages if p.name in kept
    )
    levels = tuple(t for t in (tuple(n for n in level if n in kept) for level in full.levels) if t)
    return ChangedOnly(
        plan=Plan(full.snapshot, packages, levels),
        affected=tuple(sorted(first)),
        never_published=tuple(sorted(never)),
        reused=tuple(sorted(reused.items())),
        skipped=tuple(sorted(set(planned) - kept)),
    )


def _repinned(
    workspace: Workspace,
    planned: PlannedPackage,
    versions: Mapping[str, str],
    reused: Mapping[str, str],
) -> PlannedPackage:
    """*planned* with its pins on reused dependencies moved to their registry versions."""
    if not any(dep in reused for dep in planned.internal):
        return planned
    package = workspace.packages[planned.name]
    swap: dict[str, str] = {}
    for dep in package.dependencies:
        if dep.kind not in BLOCKING_KINDS:
            continue
        target = workspace.resolve(package, dep)
        if target is not None and target in reused:
            before = pin(dep.requirement, target, versions[target])
            swap[before] = pin(dep.requirement, target, reused[target])
    return replace(
        planned,
        dependencies=tuple(swap.get(r, r) for r in planned.dependencies),
        optional_dependencies=tuple(
            (extra, tuple(swap.get(r, r) for r in reqs))
            for extra, reqs in planned.optional_dependencies
        ),
        rewrites=tuple(
            (raw, swap.get(published, published)) for raw, published in planned.rewrites
        ),
        sources=tuple((field, raw, swap.get(pub, pub)) for field, raw, pub in planned.sources),
        pins=tuple((dep, reused.get(dep, version)) for dep, version in planned.pins),
    )
