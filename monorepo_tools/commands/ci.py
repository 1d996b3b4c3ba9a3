"""``monorepo ci gitlab|github``: per-package CI jobs for the CI engine the user already runs."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..affected import Changes, affected, affected_from_changes
from ..ci import DEFAULT_TEST_COMMAND, BuildJob, CiJobs, TestJob
from ..snapshot.versions import resolve_snapshot_id
from ..workspace import Workspace
from .plan import plan as make_plan_for

__all__ = ["CiOptions", "CiRequest", "CiResult", "ci", "ci_jobs", "ci_request"]


@dataclass(frozen=True)
class CiOptions:
    target: str  # "gitlab" | "github"
    since: str | None = None
    snapshot: bool = False
    snapshot_id: str | None = None
    test_command: str | None = None
    image: str | None = None
    install: str | None = None
    tool_requirement: str | None = None


@dataclass(frozen=True)
class CiRequest:
    """One ``ci`` run with everything it reads from the environment settled."""

    options: CiOptions  # with the snapshot id resolved once (a time-based one must not move)
    key: tuple[str, ...]  # what the output depends on: the output cache's key
    warnings: tuple[str, ...] = ()  # the snapshot id's


def ci_request(options: CiOptions, environ: Mapping[str, str]) -> CiRequest:
    """Settle *options* against *environ*: the output depends on the environment only through
    the snapshot id and the tool requirement (``MONOREPO_TOOLS_REQUIREMENT``)."""
    snapshot = resolve_snapshot_id(options.snapshot_id, environ) if options.snapshot else None
    requirement = options.tool_requirement if options.target == "gitlab" else None
    requirement = requirement or environ.get("MONOREPO_TOOLS_REQUIREMENT") or "."
    if snapshot is None:
        return CiRequest(options, ("ci", repr(options), requirement))
    options = replace(options, snapshot_id=str(snapshot.value))
    return CiRequest(options, ("ci", repr(options), requirement), snapshot.warnings)


@dataclass(frozen=True)
class CiResult:
    jobs: CiJobs
    text: str
    summary: str
    warnings: tuple[str, ...] = ()


def ci_jobs(
    workspace: Workspace,
    options: CiOptions,
    env: Mapping[str, str],
    changes: Changes | None = None,
) -> tuple[CiJobs, tuple[str, ...]]:
    """The jobs: tests of the affected packages; builds and uploads of the snapshot's plan.

    *changes*: what git said for ``options.since``, when the caller read it already.
    """
    template = options.test_command or DEFAULT_TEST_COMMAND
    tests: list[TestJob] = []
    if options.since:
        answer = (
            affected_from_changes(workspace, changes)
            if changes is not None
            else affected(workspace, options.since)
        )
        for p in sorted(answer.packages, key=lambda p: p.name):
            tests.append(
                TestJob(p.name, p.path, _command(template, p.name, p.path), p.reason.describe())
            )
    else:
        for name, package in workspace.packages.items():
            tests.append(
                TestJob(name, package.path, _command(template, name, package.path), "every package")
            )
    builds: list[BuildJob] = []
    snapshot_id: int | None = None
    warnings: tuple[str, ...] = ()
    if options.snapshot:
        planned = make_plan_for(workspace, options.snapshot_id, env)  # PlanError on findings
        snapshot_id = planned.snapshot_id
        warnings = planned.snapshot.warnings
        builds = [BuildJob(p.name, p.path, p.version, p.internal) for p in planned.packages]
    jobs = CiJobs(tuple(tests), tuple(builds), snapshot_id, options.since, len(workspace.packages))
    return jobs, warnings


def _command(template: str, name: str, path: str) -> str:
    return template.replace("{name}", name).replace("{path}", shlex.quote(path))


def ci(
    workspace: Workspace,
    options: CiOptions,
    env: Mapping[str, str],
    changes: Changes | None = None,
) -> CiResult:
    jobs, warnings = ci_jobs(workspace, options, env, changes)
    summary = f"{len(jobs.tests)} test job(s)" + (
        f", {len(jobs.builds)} build and upload job(s) at snapshot {jobs.snapshot_id}"
        if options.snapshot
        else ""
    )
    if options.target == "github":
        from ..ci.github import render_github

        return CiResult(jobs, render_github(jobs), summary, warnings)
    from ..ci.gitlab import DEFAULT_IMAGE, DEFAULT_INSTALL, render_gitlab

    requirement = options.tool_requirement or env.get("MONOREPO_TOOLS_REQUIREMENT") or "."
    install = (options.install,) if options.install else DEFAULT_INSTALL
    text = render_gitlab(
        jobs,
        tool_requirement=requirement,
        image=options.image or DEFAULT_IMAGE,
        install=install,
        command_line="monorepo ci gitlab"
        + (f" --since {options.since}" if options.since else "")
        + (" --snapshot" if options.snapshot else ""),
    )
    return CiResult(jobs, text, f"child pipeline: {summary}", warnings)
