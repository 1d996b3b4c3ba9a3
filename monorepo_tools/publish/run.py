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
* Two runs of the same snapshot id under one root never share files: a lock per root and id
  (``.monorepo/locks/snapshot-<id>.lock``, :func:`snapshot_lock`) makes the second wait, saying
  who holds it; each run stages into a folder of its own
  (``.monorepo/staging/<id>/run-<pid>-<random>``, removed afterwards).
* Only git-tracked files are staged (:mod:`.stage`); a publishable package git does not track
  fails with a finding naming it (``untracked-package``), its dependents are blocked.
* Build backends get an allowlisted environment (:func:`~monorepo_tools._env.backend_env`):
  no registry URL, token or password of this job reaches them in any form.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import secrets as _secrets
import shlex
import shutil
import socket
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .._env import backend_env
from .._io import write_atomic
from ..config import Config
from ..errors import ConfigError
from ..snapshot.plan import Plan, PlannedPackage
from .build import BuildRequest, BuildResult, build_all
from .check_dists import twine_check, verify_distribution
from .install_check import verify_installs
from .progress import Progress
from .redact import redact
from .registry import FileOutcome, FileStatus, Registry, RetryPolicy, publish_files
from .stage import UntrackedPackageError, in_git_checkout, stage_package

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
    # The extra index the published set needs for third-party dependencies (a registry without
    # forwarding: --verify-extra-index-url, or PyPI for the local index), for the install line.
    extra_index_url: str | None = None

    @property
    def ok(self) -> bool:
        return all(p.outcome.ok and p.verified is not False for p in self.packages)

    def install_lines(self) -> list[str]:
        if self.registry is None:
            return []
        pins = [f"{p.name}=={p.version}" for p in self.packages if p.outcome.ok]
        if not pins:
            return []
        line = self.registry.install_command(pins)
        if self.extra_index_url:  # after the index, as the specification's pip line has it
            words = shlex.split(line)
            words[4:4] = ["--extra-index-url", self.extra_index_url]
            line = " ".join(shlex.quote(w) for w in words)
        return [line]

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
    # Credentials are for the registry client only: build backends get an allowlist, and even
    # an allowed variable is dropped when its value holds a secret or a URL's userinfo.
    known = list(options.registry.secrets) if options.registry else []
    env = backend_env(os.environ, secrets=known)
    if options.source_date_epoch:
        env.setdefault("SOURCE_DATE_EPOCH", options.source_date_epoch)
    return env


def _state_folder(path: Path, what: str) -> Path:
    """mkdir -p *path*, or a ConfigError naming the folder and the fix (exit 2)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        blocker = next(
            (p for p in (path, *path.parents) if p.is_symlink() or (p.exists() and not p.is_dir())),
            path,
        )
        kind = (
            f"a symlink to {os.readlink(blocker)}, which is not a folder"
            if blocker.is_symlink()
            else "a file"
        )
        raise ConfigError(
            f"{blocker} is {kind}, but the {what} needs a folder there; fix: move or remove "
            f"{blocker} (the tool keeps its state in the folder .monorepo/)"
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot create {path} for the {what} ({exc.strerror or exc}); fix: make the root "
            "writable, or run from a writable copy of the checkout"
        ) from exc
    return path


def _holder_text() -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"pid {os.getpid()} on {socket.gethostname()} since {stamp}"


@contextlib.contextmanager
def snapshot_lock(
    state: Path, snapshot_id: int, notify: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the lock of snapshot *snapshot_id* under *state* (waiting, and saying who holds it,
    when another run has it). Where ``fcntl`` is missing (Windows) it is a no-op."""
    folder = _state_folder(state / "locks", "snapshot lock")
    path = folder / f"snapshot-{snapshot_id}.lock"
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block
    except OSError as exc:
        raise ConfigError(f"cannot open the snapshot lock {path}: {exc.strerror or exc}") from exc
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            (notify or _stderr_note)(
                f"snapshot {snapshot_id} is being run under this root by {holder}; waiting for "
                f"it to finish (lock {path})"
            )
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(_holder_text() + "\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _stderr_note(text: str) -> None:
    print(f"monorepo: {text}", file=sys.stderr, flush=True)


def run_snapshot(
    config: Config, plan: Plan, options: SnapshotOptions, progress: Progress
) -> SnapshotReport:
    """Stage, build, verify and upload every package of *plan* (see the module docstring)."""
    state = _state_folder(config.state_dir, "state folder")
    with snapshot_lock(state, plan.snapshot_id):
        run_folder = (
            _state_folder(state / "staging" / str(plan.snapshot_id), "staging folder")
            / f"run-{os.getpid()}-{_secrets.token_hex(4)}"
        )
        try:
            return _run_locked(config, plan, options, progress, run_folder)
        finally:
            shutil.rmtree(run_folder, ignore_errors=True)


def _run_locked(
    config: Config, plan: Plan, options: SnapshotOptions, progress: Progress, staging: Path
) -> SnapshotReport:
    root = config.root
    state = config.state_dir
    dist_dir = state / "dist" / str(plan.snapshot_id)
    # Only this plan's packages are replaced: per-package runs (nox publish-<name>) share an id.
    for folder in (staging, dist_dir):
        _state_folder(folder, "snapshot's build folders")
    if not in_git_checkout(root):
        _stderr_note(
            f"WARNING: {root} is not a git checkout, so there is no list of tracked files: "
            "staging copies every file of each package except the documented exclusions "
            "(.env*, keys, credentials files, VCS/caches/build folders; see "
            "monorepo_tools.publish.stage). Check what the sdists hold before publishing."
        )
    failures: dict[str, str] = {}
    requests: list[BuildRequest] = []
    for planned in plan.packages:
        try:
            source = stage_package(root, planned, staging)
        except UntrackedPackageError as exc:
            failures[planned.name] = f"untracked-package: {exc}"
            progress.event(planned.name, "failed", failures[planned.name])
            continue
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
        while_building=_import_publishing,
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
            for p in verify_distribution(
                f,
                planned.name,
                planned.version,
                {**plan.versions, **_pins(planned)},
                plan.unpublished,
                planned.flavour,
            )
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
    extra_index_url = options.verify_extra_index_url
    if options.verify and options.registry is not None and not options.dry_run:
        extra_index_url = _verify(plan, options, outcomes, progress) or extra_index_url
    progress.close()
    secrets = list(options.registry.secrets) if options.registry else []
    cleaned = tuple(
        replace(o, reason=redact(o.reason, secrets), verification=redact(o.verification, secrets))
        for o in (outcomes[p.name] for p in plan.packages)
    )
    return SnapshotReport(plan, options.registry, cleaned, dist_dir, extra_index_url)


def _import_publishing() -> None:
    """Import what verifying and uploading need (twine, requests, readme_renderer: ~0.25 s)
    while the backends build; a module that fails to import is reported where it is used."""
    import importlib

    for module in ("twine.commands.check", "twine.commands.upload", "twine.settings"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


def _verify(
    plan: Plan, options: SnapshotOptions, outcomes: dict[str, PackageOutcome], progress: Progress
) -> str | None:
    """Install every published package by version in a fresh venv; record the verdicts.

    Returns the extra index the installs needed for third-party dependencies (or None).
    """
    assert options.registry is not None
    todo = [
        (p.name, p.version, _pins(p))
        for p in plan.packages
        if outcomes[p.name].outcome in (Outcome.PUBLISHED, Outcome.ALREADY_PUBLISHED)
    ]
    progress.phase("verify install", len(todo))
    versions = {p.name: p.version for p in plan.packages}
    for planned in plan.packages:
        for dep, pinned in _pins(planned).items():
            versions.setdefault(dep, pinned)
    checks = verify_installs(
        options.registry,
        todo,
        jobs=options.jobs,
        extra_index_url=options.verify_extra_index_url,
        monorepo_versions=versions,
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
    return next((c.extra_index_url for c in checks if c.extra_index_url), None)


def _build_request(planned: PlannedPackage, source: Path) -> BuildRequest:
    """The build request of a staged package (in-tree backends need their backend-path)."""
    pyproject = source / "pyproject.toml"
    system: dict[str, object] = {}
    if pyproject.is_file():  # a setup.cfg / setup.py package may have none
        with pyproject.open("rb") as handle:
            system = tomllib.load(handle).get("build-system", {})
    backend_path = system.get("backend-path", [])
    return BuildRequest(
        planned.name,
        source,
        planned.build_requires,
        planned.build_backend,
        tuple(str(p) for p in backend_path) if isinstance(backend_path, list) else (),
        dict(planned.build_environment),
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
    from .registry import RegistryError, published_versions

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
