"""``monorepo snapshot``: stage, build, verify and upload every publishable package."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..config import Config
from ..publish.build import DEFAULT_SOURCE_DATE_EPOCH
from ..publish.progress import make_progress
from ..publish.registry import Registry, RetryPolicy, registry_from_env
from ..publish.run import SnapshotOptions, SnapshotReport, run_snapshot, stderr_is_terminal
from ..snapshot.plan import Plan
from ..workspace import Workspace
from .plan import plan as make_plan_for

__all__ = ["remember", "snapshot"]


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
    build_only: bool = False,
    upload_only: bool = False,
    dists: str | Path | None = None,
    affected_since: str | None = None,
    on_note: Callable[[str], None] | None = None,
) -> tuple[Plan, SnapshotReport]:
    """Plan (refusing on findings), pick the registry, then run the job.

    ``build_only``: stage, build and verify into *dists* with a manifest (no registry needed);
    ``upload_only``: upload the dists of *dists* whose manifest matches the plan;
    ``affected_since``: a changed-only snapshot (see snapshot.changed_only); *on_note* hears
    what it chose.
    """
    environ = dict(os.environ if env is None else env)
    if affected_since and only:
        from ..errors import ConfigError

        raise ConfigError(
            "--affected-since and --package exclude each other: --affected-since picks the packages"
        )
    plan = make_plan_for(workspace, snapshot_id, environ, only)
    if build_only or upload_only or affected_since:
        return _split(
            config,
            workspace,
            plan,
            environ,
            repository_url=repository_url,
            index_url=index_url,
            jobs=jobs,
            dry_run=dry_run,
            retry=retry or RetryPolicy(),
            interactive=interactive,
            verify=verify,
            verify_extra_index_url=verify_extra_index_url,
            build_only=build_only,
            upload_only=upload_only,
            dists=dists,
            affected_since=affected_since,
            on_note=on_note or (lambda _: None),
        )
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


# Changed-only, build-only and upload-only runs (issue 10): apart from the default path above.


def _split(
    config: Config,
    workspace: Workspace,
    plan: Plan,
    environ: Mapping[str, str],
    *,
    repository_url: str | None,
    index_url: str | None,
    jobs: int | None,
    dry_run: bool,
    retry: RetryPolicy,
    interactive: bool | None,
    verify: bool,
    verify_extra_index_url: str | None,
    build_only: bool,
    upload_only: bool,
    dists: str | Path | None,
    affected_since: str | None,
    on_note: Callable[[str], None],
) -> tuple[Plan, SnapshotReport]:
    from ..errors import ConfigError
    from ..publish.run import build_only as run_build_only
    from ..publish.run import upload_only as run_upload_only

    if build_only and upload_only:
        raise ConfigError("--build-only and --upload-only exclude each other: pick one")
    if upload_only and dists is None:
        raise ConfigError(
            "--upload-only needs --dists DIR: the folder `monorepo snapshot --build-only --dists DIR` wrote"
        )
    if upload_only and dry_run:
        raise ConfigError("--upload-only --dry-run would do nothing: drop one of them")
    registry: Registry | None = None
    if upload_only or affected_since or not (dry_run or build_only):
        registry = registry_from_env(
            environ, config.root, repository_url=repository_url, index_url=index_url
        )
    if affected_since:
        plan = _changed_only(workspace, plan, affected_since, registry, retry, on_note)
    secrets = list(registry.secrets) if registry else []
    progress = make_progress(stderr_is_terminal() if interactive is None else interactive, secrets)
    options = SnapshotOptions(
        registry=None if (dry_run or build_only) else registry,
        jobs=jobs,
        dry_run=dry_run,
        retry=retry,
        source_date_epoch=_source_date_epoch(config.root),
        verify=verify and not (dry_run or build_only),
        verify_extra_index_url=verify_extra_index_url,
    )
    if build_only:
        folder = (
            Path(dists) if dists is not None else config.state_dir / "dists" / str(plan.snapshot_id)
        )
        return plan, run_build_only(config, plan, options, progress, folder)
    if upload_only:
        assert dists is not None
        return plan, run_upload_only(config, plan, options, progress, Path(dists))
    return plan, run_snapshot(config, plan, options, progress)


def _changed_only(
    workspace: Workspace,
    plan: Plan,
    since: str,
    registry: Registry | None,
    retry: RetryPolicy,
    on_note: Callable[[str], None],
) -> Plan:
    from ..affected import affected
    from ..publish.registry import published_versions
    from ..snapshot.changed_only import changed_only_plan
    from ..workspace import EdgeKind

    assert registry is not None
    answer = affected(workspace, since, kinds=frozenset({EdgeKind.RUNTIME, EdgeKind.OPTIONAL}))
    result = changed_only_plan(
        workspace,
        plan,
        answer.names,
        lambda name: published_versions(registry, name, retry),
    )
    on_note(
        f"changed-only snapshot: {len(result.plan.packages)} of {len(plan.packages)} publishable "
        f"packages (affected since {since}: {', '.join(result.affected) or 'none'})"
    )
    if result.reused:
        on_note(
            "pinned to what the registry has: "
            + ", ".join(f"{name}=={version}" for name, version in result.reused)
        )
    if result.never_published:
        on_note(
            "published as well (never published at their base version): "
            + ", ".join(result.never_published)
        )
    return result.plan


def remember(config: Config, summary: str, snapshot_id: int, *, last: bool) -> tuple[str, ...]:
    """Keep the summary under .monorepo/snapshots/ so consumer-config can describe it later;
    ``last.json`` (what consumer-config describes by default) only for a snapshot that was
    published completely: a dry or failed run never replaces the last good one. Returns the
    warnings (a state folder that cannot be written does not fail the snapshot)."""
    from .._io import write_atomic
    from ..workspace import ensure_state_dir

    try:
        folder = ensure_state_dir(config) / "snapshots"
        write_atomic(folder / f"{snapshot_id}.json", summary)
        if last:
            write_atomic(folder / "last.json", summary)
    except OSError as exc:
        return (f"could not keep the snapshot summary ({exc})",)
    return ()
