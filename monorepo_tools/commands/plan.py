"""``monorepo plan``: what a snapshot would publish, without building anything."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence

from ..errors import ConfigError
from ..snapshot.plan import Plan, make_plan
from ..snapshot.versions import resolve_snapshot_id
from ..workspace import Workspace
from .check import check

__all__ = ["plan", "render_plan", "select"]


def plan(
    workspace: Workspace,
    snapshot_id: str | int | None,
    env: Mapping[str, str],
    only: Sequence[str] = (),
) -> Plan:
    """Check, then plan; raises PlanError (exit 1) on findings, ConfigError (exit 2) on usage."""
    snapshot = resolve_snapshot_id(snapshot_id, env)
    full = make_plan(check(workspace), snapshot)
    return select(full, workspace, only)


def select(full: Plan, workspace: Workspace, only: Sequence[str]) -> Plan:
    """Restrict *full* to the packages named in *only* (all when empty), keeping the order."""
    if not only:
        return full
    from packaging.utils import canonicalize_name

    wanted = {canonicalize_name(n) for n in only}
    planned = {p.name for p in full.packages}
    for name in sorted(wanted - planned):
        if name in workspace.packages:
            raise ConfigError(
                f"--package {name}: {workspace.packages[name].pyproject} has status "
                f"{workspace.packages[name].status!r}, so it is never published; set "
                '[tool.monorepo].status = "incubator" (or supported/stable) to publish it'
            )
        close = difflib.get_close_matches(name, sorted(planned), n=1)
        hint = (
            f" (did you mean {close[0]!r}?)"
            if close
            else f"; publishable packages: {', '.join(sorted(planned))}"
        )
        raise ConfigError(f"--package {name}: no such package in the workspace{hint}")
    packages = tuple(p for p in full.packages if p.name in wanted)
    levels = tuple(
        t for t in (tuple(n for n in level if n in wanted) for level in full.levels) if t
    )
    return Plan(full.snapshot, packages, levels, full.unpublished)


def render_plan(plan: Plan, fmt: str, internal: Sequence[str] = ()) -> str:
    if fmt == "json":
        document = {
            "snapshot_id": plan.snapshot_id,
            "snapshot_id_source": plan.snapshot.source,
            "warnings": list(plan.snapshot.warnings),
            "packages": [
                {
                    "name": p.name,
                    "path": p.path,
                    "base_version": p.base_version,
                    "base_source": p.base_source,
                    "version": p.version,
                    "build_environment": dict(p.build_environment),
                    "level": p.level,
                    "dependencies": list(p.dependencies),
                    "optional_dependencies": {
                        extra: list(reqs) for extra, reqs in p.optional_dependencies
                    },
                    "rewritten": [{"from": a, "to": b} for a, b in p.rewrites],
                }
                for p in plan.packages
            ],
            "levels": [list(level) for level in plan.levels],
        }
        return json.dumps(document, indent=2) + "\n"
    lines = [f"snapshot id {plan.snapshot_id} (from {plan.snapshot.source})", ""]
    width = max((len(p.name) for p in plan.packages), default=0)
    position = 0
    for index, level in enumerate(plan.levels):
        lines.append(f"level {index} (built in parallel)")
        for name in level:
            position += 1
            p = plan.package(name)
            lines.append(
                f"  {position:>2}. {p.name.ljust(width)}  {p.base_version} -> {p.version}  ({p.path})"
            )
            lines.append(f"        base from {p.base_source}")
            for before, after in p.rewrites:
                lines.append(f"        {before}  =>  {after}")
    lines.append("")
    lines.append(
        f"{len(plan.packages)} package(s) would be published in this order, dependencies first."
    )
    if internal:
        lines.append(f"Never published (internal): {', '.join(internal)}")
    return "\n".join(lines) + "\n"
