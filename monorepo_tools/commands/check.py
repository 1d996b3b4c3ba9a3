"""``monorepo check``: the pre-merge publishability check."""

from __future__ import annotations

from dataclasses import dataclass

from ..graph import DependencyGraph, build_graph
from ..render.report import CheckSummary
from ..rules import Finding, check_workspace
from ..workspace import Workspace

__all__ = ["CheckResult", "check"]


@dataclass(frozen=True)
class CheckResult:
    workspace: Workspace
    graph: DependencyGraph
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """No blocking finding (warnings and notes are reported, never fail the check)."""
        return not any(f.blocking for f in self.findings)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def summary(self) -> CheckSummary:
        packages = self.workspace.packages.values()
        return CheckSummary(
            packages=len(self.workspace.packages) + len(self.workspace.rejected),
            publishable=sum(1 for p in packages if p.publishable),
            findings=self.findings,
        )


def check(workspace: Workspace) -> CheckResult:
    """Every finding of *workspace* (never stops at the first)."""
    graph = build_graph(workspace)
    return CheckResult(workspace, graph, tuple(check_workspace(workspace, graph)))
