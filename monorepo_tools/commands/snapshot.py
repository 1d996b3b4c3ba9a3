"""``monorepo snapshot``: stage, build, verify and upload every publishable package."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..config import Config
from ..plan import Plan
from ..publish.build import DEFAULT_SOURCE_DATE_EPOCH
from ..publish.progress import make_progress
from ..publish.registry import Registry, RetryPolicy, registry_from_env
from ..publish.run import SnapshotOptions, SnapshotReport, run_snapshot, stderr_is_terminal
from ..workspace import Workspace
from .plan import plan as make_plan_for

__all__ = ["snapshot"]


def _source_date_epoch(root: Path) -> str:
    """The commit time of HEAD (reproducible builds for non-hatchling backends), else 1980-01-01."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip().isdigit():
            return out.stdout.strip()
    except OSError:
        pass
    return DEFAULT_SOURCE_DATE_EPOCH


def snapshot(
    config: Config,
    workspace: Workspace,
    *,
    env: Mapping[str, str] | None = None,
    snapshot_id: str | int | None = None,
    only: Sequence[str] = (),
    repository_url: str | None = None,
    index_url: str | None = None,
    jobs: int | None = None,
    dry_run: bool = False,
    retry: RetryPolicy | None = None,
    interactive: bool | None = None,
    verify: bool = False,
    verify_extra_index_url: str | None = None,
) -> tuple[Plan, SnapshotReport]:
    """Plan (refusing on findings), pick the registry, then run the job."""
    environ = dict(os.environ if env is None else env)
    plan = make_plan_for(workspace, snapshot_id, environ, only)
    registry: Registry | None = None
    if not dry_run:
        registry = registry_from_env(
            environ, config.root, repository_url=repository_url, index_url=index_url
        )
    for warning in registry.warnings if registry else ():
        # Said before anything is built: the fix (an allowlist entry) takes a person.
        print(f"monorepo: warning: {warning}", file=sys.stderr, flush=True)
    secrets = list(registry.secrets) if registry else []
    progress = make_progress(stderr_is_terminal() if interactive is None else interactive, secrets)
    options = SnapshotOptions(
        registry=registry,
        jobs=jobs,
        dry_run=dry_run,
        retry=retry or RetryPolicy(),
        source_date_epoch=_source_date_epoch(config.root),
        verify=verify,
        verify_extra_index_url=verify_extra_index_url,
    )
    return plan, run_snapshot(config, plan, options, progress)
