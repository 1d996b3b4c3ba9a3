"""The snapshot job: plan → stage + rewrite → build → verify → upload in order → summary.

Contract:

* Nothing is built when the plan cannot be made (``check`` findings: exit 1) or the registry is
  not configured in CI (exit 2).
* Builds run in parallel; uploads run in publish order, a package only after every monorepo
  package it depends on is published (or was already). When a package fails (stage, build,
  verify, upload), its dependents are reported *blocked* by it and not uploaded; independent
  packages still publish.
* Re-running with the same snapshot id is safe: files already in the registry with the same
  sha256 are skipped, so a half-failed snapshot completes; a different file under the same name
  is a conflict and is never overwritten.
"""

from __future__ import annotations

import enum
import json
import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .._env import hermetic_env
from .._io import write_atomic
from ..config import Config
from ..plan import Plan, PlannedPackage
from .build import BuildRequest, BuildResult, build_all
from .progress import Progress
from .redact import redact
from .registry import FileOutcome, FileStatus, Registry, RetryPolicy, publish_files
from .stage import stage_package
from .verify import twine_check, verify_distribution
from .verify_install import verify_installs

__all__ = ["Outcome", "PackageOutcome", "SnapshotOptions", "SnapshotReport", "run_snapshot"]


class Outcome(enum.StrEnum):
    PUBLISHED = "published"
    ALREADY_PUBLISHED = "already published"
    BUILT = "built"  # --dry-run: staged, built and checked, nothing uploaded
    FAILED = "failed"
    BLOCKED = "blocked"

    @property
    def ok(self) -> bool:
        return self in (Outcome.PUBLISHED, Outcome.ALREADY_PUBLISHED, Outcome.BUILT)


@dataclass(frozen=True, slots=True)
class PackageOutcome:
    name: str
    version: str
    outcome: Outcome
    files: tuple[str, ...] = ()
    reason: str = ""  # why it failed, or which package blocks it
    blocked_by: str | None = None
    verified: bool | None = None  # the post-publish install check (None: not run)
    verification: str = ""


@dataclass(frozen=True)
class SnapshotOptions:
    registry: Registry | None  # None with dry_run
    jobs: int | None = None
    dry_run: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    source_date_epoch: str | None = None
    verify: bool = False  # install each published package by version in a fresh venv
    verify_extra_index_url: str | None = None


@dataclass(frozen=True)
class SnapshotReport:
    plan: Plan
    registry: Registry | None
    packages: tuple[PackageOutcome, ...]
    dist_dir: Path

    @property
    def ok(self) -> bool:
        return all(p.outcome.ok and p.verified is not False for p in self.packages)

    def install_lines(self) -> list[str]:
        if self.registry is None:
            return []
        pins = [f"{p.name}=={p.version}" for p in self.packages if p.outcome.ok]
        return [self.registry.install_command(pins)] if pins else []

    def to_json(self) -> str:
        document = {
            "snapshot_id": self.plan.snapshot_id,
            "snapshot_id_source": self.plan.snapshot.source,
            "ok": self.ok,
            "registry": None
            if self.registry is None
            else {
                "kind": self.registry.kind,
                "index_url": self.registry.index_url,
                "origin": self.registry.origin,
            },
            "packages": [
                {
                    "name": p.name,
                    "version": p.version,
                    "outcome": str(p.outcome),
                    "files": list(p.files),
                    "reason": p.reason or None,
                    "blocked_by": p.blocked_by,
                    "verified": p.verified,
                    "verification": p.verification or None,
                }
                for p in self.packages
            ],
            "install": self.install_lines(),
        }
        return json.dumps(document, indent=2) + "\n"


def _build_env(options: SnapshotOptions) -> dict[str, str]:
    env = hermetic_env()
    # Credentials are for the registry client only: never hand them to a build backend.
    for name in (
        "GITLAB_PYPI_PASSWORD",
        "MONOREPO_REPOSITORY_PASSWORD",
        "CI_JOB_TOKEN",
        "TWINE_PASSWORD",
    ):
        env.pop(name, None)
    if options.source_date_epoch:
        env.setdefault("SOURCE_DATE_EPOCH", options.source_date_epoch)
    return env


def run_snapshot(
    config: Config, plan: Plan, options: SnapshotOptions, progress: Progress
) -> SnapshotReport:
    """Stage, build, verify and upload every package of *plan* (see the module docstring)."""
    root = config.root
    state = config.state_dir
    staging = state / "staging" / str(plan.snapshot_id)
    dist_dir = state / "dist" / str(plan.snapshot_id)
    # Only this plan's packages are replaced: per-package runs (nox publish-<name>) share an id.
    for folder in (staging, dist_dir):
        folder.mkdir(parents=True, exist_ok=True)
    failures: dict[str, str] = {}
    requests: list[BuildRequest] = []
    for planned in plan.packages:
        try:
            source = stage_package(root, planned, staging)
        except Exception as exc:
            failures[planned.name] = f"staging failed: {exc}"
            progress.event(planned.name, "failed", failures[planned.name])
            continue
        requests.append(_build_request(planned, source))

    progress.phase("build", len(requests))
    results: Mapping[str, BuildResult] = build_all(
        requests,
        dist_dir,
        jobs=options.jobs,
        env=_build_env(options),
        # Build environments are shared by every run under this root; MONOREPO_BUILD_ENV_DIR
        # lets several checkouts (or a test session) share one folder.
        cache_dir=Path(os.environ.get("MONOREPO_BUILD_ENV_DIR") or state / "build-envs"),
        # "built" is also a final outcome (--dry-run): the build step reports "build done".
        on_event=lambda name, event: progress.event(
            name, "build done" if event == "built" else event
        ),
    )
    built: dict[str, tuple[Path, ...]] = {}
    for planned in plan.packages:
        result = results.get(planned.name)
        if planned.name in failures or result is None:
            continue
        if not result.ok or result.sdist is None or result.wheel is None:
            failures[planned.name] = result.error or "build failed"
            continue
        files = (result.sdist, result.wheel)
        problems = [
            p
            for f in files
            for p in verify_distribution(f, planned.name, planned.version, _pins(planned))
        ]
        problems += twine_check(files)
        if problems:
            failures[planned.name] = "verification failed: " + "; ".join(problems)
            progress.event(planned.name, "failed", failures[planned.name])
            continue
        built[planned.name] = files

    outcomes: dict[str, PackageOutcome] = {}
    auth_failure: str | None = None
    progress.phase("upload" if not options.dry_run else "verify", len(plan.packages))
    for planned in plan.packages:
        name = planned.name
        package_files: tuple[Path, ...] = built.get(name, ())
        names = tuple(f.name for f in package_files)
        blocker = next(
            (d for d in planned.internal if d in outcomes and not outcomes[d].outcome.ok), None
        )
        if name in failures:
            outcomes[name] = PackageOutcome(
                name, planned.version, Outcome.FAILED, names, failures[name]
            )
        elif blocker is not None:
            reason = f"not uploaded: it depends on {blocker}, which {outcomes[blocker].outcome}"
            outcomes[name] = PackageOutcome(
                name, planned.version, Outcome.BLOCKED, names, reason, blocker
            )
        elif options.dry_run or options.registry is None:
            outcomes[name] = PackageOutcome(name, planned.version, Outcome.BUILT, names)
        elif auth_failure is not None:
            reason = f"not uploaded: the registry refused the credentials for {auth_failure} (see its message)"
            outcomes[name] = PackageOutcome(name, planned.version, Outcome.FAILED, names, reason)
        else:
            progress.event(name, "uploading")
            results_up = publish_files(options.registry, name, package_files, options.retry)
            outcomes[name] = _upload_outcome(planned, names, results_up)
            if any(r.status is FileStatus.AUTH_FAILED for r in results_up):
                auth_failure = name
        progress.event(name, str(outcomes[name].outcome), outcomes[name].reason)
    if options.verify and options.registry is not None and not options.dry_run:
        _verify(plan, options, outcomes, progress)
    progress.close()
    secrets = list(options.registry.secrets) if options.registry else []
    cleaned = tuple(
        replace(o, reason=redact(o.reason, secrets), verification=redact(o.verification, secrets))
        for o in (outcomes[p.name] for p in plan.packages)
    )
    return SnapshotReport(plan, options.registry, cleaned, dist_dir)


def _verify(
    plan: Plan, options: SnapshotOptions, outcomes: dict[str, PackageOutcome], progress: Progress
) -> None:
    """Install every published package by version in a fresh venv; record the verdicts."""
    assert options.registry is not None
    todo = [
        (p.name, p.version, _pins(p))
        for p in plan.packages
        if outcomes[p.name].outcome in (Outcome.PUBLISHED, Outcome.ALREADY_PUBLISHED)
    ]
    progress.phase("verify install", len(todo))
    checks = verify_installs(
        options.registry,
        todo,
        jobs=options.jobs,
        extra_index_url=options.verify_extra_index_url,
        on_done=lambda c: progress.event(
            c.name,
            "install check passed" if c.ok else "install check failed",
            "" if c.ok else f"{c.step}: {c.message}",
        ),
    )
    for check in checks:
        outcomes[check.name] = replace(
            outcomes[check.name], verified=check.ok, verification=f"{check.step}: {check.message}"
        )


def _build_request(planned: PlannedPackage, source: Path) -> BuildRequest:
    """The build request of a staged package (in-tree backends need their backend-path)."""
    with (source / "pyproject.toml").open("rb") as handle:
        system = tomllib.load(handle).get("build-system", {})
    backend_path = system.get("backend-path", [])
    return BuildRequest(
        planned.name,
        source,
        planned.build_requires,
        planned.build_backend,
        tuple(str(p) for p in backend_path) if isinstance(backend_path, list) else (),
    )


def _pins(planned: PlannedPackage) -> dict[str, str]:
    # From the package itself, not the plan: with --package the dependencies are not in it.
    return dict(planned.pins)


def _upload_outcome(
    planned: PlannedPackage, names: tuple[str, ...], results: Sequence[FileOutcome]
) -> PackageOutcome:
    bad = [
        r for r in results if r.status not in (FileStatus.UPLOADED, FileStatus.ALREADY_PUBLISHED)
    ]
    if bad or len(results) < len(names):
        reason = "; ".join(r.message for r in bad) or "not every file was uploaded"
        return PackageOutcome(planned.name, planned.version, Outcome.FAILED, names, reason)
    if all(r.status is FileStatus.ALREADY_PUBLISHED for r in results):
        return PackageOutcome(planned.name, planned.version, Outcome.ALREADY_PUBLISHED, names)
    return PackageOutcome(planned.name, planned.version, Outcome.PUBLISHED, names)


def render_summary(report: SnapshotReport) -> str:
    """The final table: package, version, outcome, files (plain text, stable)."""
    rows = [("package", "version", "outcome", "files")]
    for p in report.packages:
        outcome = str(p.outcome)
        if p.verified is not None:
            outcome += ", install ok" if p.verified else ", INSTALL FAILED"
        rows.append((p.name, p.version, outcome, ", ".join(p.files) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2].ljust(widths[2])}  {r[3]}".rstrip()
        for r in rows
    ]
    lines.insert(1, "-" * max(len(line) for line in lines))
    for p in report.packages:
        if p.reason:
            lines.append(f"{p.name}: {p.reason}")
        if p.verified is False:
            lines.append(f"{p.name}: install check failed at {p.verification}")
    return "\n".join(lines) + "\n"


def write_summary_json(report: SnapshotReport, path: str) -> None:
    write_atomic(path, report.to_json())


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


# --------------------------------------------------------------------------- split runs (CI fan-out)
# ``snapshot --build-only`` and ``snapshot --upload-only``: one build job per package, then upload
# jobs in dependency order (monorepo_tools.ci). Kept apart from run_snapshot, which they reuse.


def build_only(
    config: Config, plan: Plan, options: SnapshotOptions, progress: Progress, dists: Path
) -> SnapshotReport:
    """Stage, build and verify every package of *plan* (nothing uploaded); copy the verified
    dists into *dists* with a manifest of versions, pins and sha256 (see publish.manifest)."""
    from .._io import copy_atomic
    from .local_index import sha256_file
    from .manifest import ManifestEntry, write_manifest

    dry = replace(options, registry=None, dry_run=True, verify=False)
    report = run_snapshot(config, plan, dry, progress)
    entries: list[ManifestEntry] = []
    for outcome in report.packages:
        if not outcome.outcome.ok:
            continue
        planned = plan.package(outcome.name)
        files: list[tuple[str, str]] = []
        for name in outcome.files:
            copy_atomic(report.dist_dir / name, dists / name)
            files.append((name, sha256_file(dists / name)))
        entries.append(
            ManifestEntry(
                planned.name, planned.version, tuple(sorted(planned.pins)), tuple(files), dists
            )
        )
    dists.mkdir(parents=True, exist_ok=True)
    write_manifest(dists, plan.snapshot_id, entries)
    return replace(report, dist_dir=dists)


def upload_only(
    config: Config,
    plan: Plan,
    options: SnapshotOptions,
    progress: Progress,
    dists: Path,
    known: Mapping[str, frozenset[str]] | None = None,
) -> SnapshotReport:
    """Upload the dists of *dists* (refused unless their manifest matches *plan*) in publish
    order, with run_snapshot's rules: files already there with the same sha256 are skipped, a
    different file is a conflict, a package whose dependency failed is blocked. A dependency
    that is not part of *plan* (``--package``) must already be on the registry at its pinned
    version, else the package is blocked (*known*: name -> versions there, looked up when not
    given)."""
    from .manifest import match_plan, read_manifests

    registry = options.registry
    if registry is None:
        raise ValueError("upload_only needs a registry")
    files = match_plan(read_manifests(dists), plan, dists)
    in_plan = {p.name for p in plan.packages}
    outcomes: dict[str, PackageOutcome] = {}
    auth_failure: str | None = None
    progress.phase("upload", len(plan.packages))
    for planned in plan.packages:
        name = planned.name
        package_files = files[name]
        names = tuple(f.name for f in package_files)
        blocker = next(
            (d for d in planned.internal if d in outcomes and not outcomes[d].outcome.ok), None
        )
        missing = None
        if blocker is None:
            missing = next(
                (
                    problem
                    for dep, version in planned.pins
                    if dep not in in_plan
                    and (problem := _dependency_missing(registry, dep, version, options, known))
                ),
                None,
            )
        if blocker is not None:
            reason = f"not uploaded: it depends on {blocker}, which {outcomes[blocker].outcome}"
            outcomes[name] = PackageOutcome(
                name, planned.version, Outcome.BLOCKED, names, reason, blocker
            )
        elif missing is not None:
            dep, reason = missing
            outcomes[name] = PackageOutcome(
                name, planned.version, Outcome.BLOCKED, names, reason, dep
            )
        elif auth_failure is not None:
            reason = f"not uploaded: the registry refused the credentials for {auth_failure} (see its message)"
            outcomes[name] = PackageOutcome(name, planned.version, Outcome.FAILED, names, reason)
        else:
            progress.event(name, "uploading")
            results_up = publish_files(registry, name, package_files, options.retry)
            outcomes[name] = _upload_outcome(planned, names, results_up)
            if any(r.status is FileStatus.AUTH_FAILED for r in results_up):
                auth_failure = name
        progress.event(name, str(outcomes[name].outcome), outcomes[name].reason)
    if options.verify:
        _verify(plan, options, outcomes, progress)
    progress.close()
    cleaned = tuple(
        replace(
            o,
            reason=redact(o.reason, registry.secrets),
            verification=redact(o.verification, registry.secrets),
        )
        for o in (outcomes[p.name] for p in plan.packages)
    )
    return SnapshotReport(plan, registry, cleaned, dists)


def _dependency_missing(
    registry: Registry,
    project: str,
    version: str,
    options: SnapshotOptions,
    known: Mapping[str, frozenset[str]] | None,
) -> tuple[str, str] | None:
    """None when *project*==*version* is on the registry; else (project, why not uploaded)."""
    from .changed_only import published_versions
    from .registry import RegistryError

    if known is not None and project in known:
        versions = known[project]
    else:
        try:
            versions = published_versions(registry, project, options.retry)
        except RegistryError as exc:
            return (
                project,
                f"not uploaded: cannot tell whether {project}=={version} is published: {exc}",
            )
    from packaging.version import Version

    if str(Version(version)) in versions:
        return None
    return project, (
        f"not uploaded: its dependency {project}=={version} is not on the registry; "
        f"upload {project} first (the upload:{project} job)"
    )
