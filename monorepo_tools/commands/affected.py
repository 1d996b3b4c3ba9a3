"""``monorepo affected``: the packages a branch changed, and their dependents, each with why.

``check --affected-since`` narrows its report with :func:`restrict_check`; ``graph
--affected-since`` hands the affected names to the graph view, whose renderers mark them.
"""

from __future__ import annotations

import json
from dataclasses import replace

from ..affected import ALL_KINDS, Affected, Changes, affected, affected_from_changes
from ..workspace import EdgeKind, Workspace
from .check import CheckResult

__all__ = ["AFFECTED_FORMATS", "render_affected", "restrict_check", "run_affected"]

AFFECTED_FORMATS = ("text", "json")


def run_affected(
    workspace: Workspace,
    since: str | Changes,
    kinds: frozenset[EdgeKind] = ALL_KINDS,
    include_uncommitted: bool = False,
) -> Affected:
    """The answer for *since* (a REF, or the changes already read for it)."""
    if isinstance(since, Changes):
        return affected_from_changes(workspace, since, kinds)
    return affected(workspace, since, kinds=kinds, include_uncommitted=include_uncommitted)


def restrict_check(result: CheckResult, answer: Affected) -> CheckResult:
    """Only the findings of affected packages (and of changed folders the workspace rejected)."""
    names = answer.names
    folders = answer.folders
    kept = tuple(
        f for f in result.findings if f.package in names or f.file.rpartition("/")[0] in folders
    )
    return replace(result, findings=kept)


def _short(sha: str) -> str:
    return sha[:12]


def render_affected(answer: Affected, fmt: str) -> str:
    kinds = [
        str(k) for k in (EdgeKind.RUNTIME, EdgeKind.OPTIONAL, EdgeKind.DEV) if k in answer.kinds
    ]
    if fmt == "json":
        document = {
            "since": answer.since,
            "merge_base": answer.merge_base,
            "head": answer.head,
            "include_uncommitted": answer.include_uncommitted,
            "kinds": kinds,
            "total": answer.total,
            "count": len(answer.packages),
            "packages": [
                {
                    "name": p.name,
                    "path": p.path,
                    "publishable": p.publishable,
                    "depth": p.depth,
                    "reason": p.reason.kind,
                    "files": list(p.reason.files),
                    "through": p.reason.through,
                    "edge": p.reason.edge,
                }
                for p in answer.packages
            ],
            "global_files": list(answer.global_files),
            "removed": [
                {"path": r.path, "name": r.name, "moved_to": r.moved_to} for r in answer.removed
            ],
            "unowned_files": list(answer.unowned),
            "changed_files": list(answer.changed_files),
        }
        return json.dumps(document, indent=2) + "\n"
    head = "working tree" if answer.include_uncommitted else f"HEAD {_short(answer.head)}"
    lines = [
        f"{len(answer.packages)} of {answer.total} packages affected since {answer.since} "
        f"(merge base {_short(answer.merge_base)}, {head}; "
        f"{len(answer.changed_files)} changed file(s); edges: {', '.join(kinds)})"
    ]
    if answer.packages:
        lines.append("")
        width = max(len(p.name) for p in answer.packages)
        pwidth = max(len(p.path) for p in answer.packages)
        for p in answer.packages:
            lines.append(f"  {p.name.ljust(width)}  {p.path.ljust(pwidth)}  {p.reason.describe()}")
    for r in answer.removed:
        if r.moved_to:
            lines.append(f"moved: {r.path} -> {r.moved_to} ({r.name})")
        else:
            lines.append(f"removed: {r.path} ({r.name} no longer exists)")
    if answer.unowned:
        shown = ", ".join(answer.unowned[:3])
        more = f" (+{len(answer.unowned) - 3} more)" if len(answer.unowned) > 3 else ""
        lines.append(f"changed outside any package (affects none): {shown}{more}")
    return "\n".join(lines) + "\n"
