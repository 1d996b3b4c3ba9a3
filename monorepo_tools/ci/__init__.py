"""CI fan-out: the per-package jobs of one pipeline, rendered for the CI engine users run.

:class:`CiJobs` is the engine-neutral answer (pure values): a test job per affected package
(every package without ``--since``), and for snapshots a build job per publishable package and
an upload job per publishable package that needs the upload jobs of its monorepo dependencies.
:mod:`.gitlab` renders it as a child pipeline, :mod:`.github` as ``strategy.matrix`` JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_TEST_COMMAND", "BuildJob", "CiJobs", "TestJob"]

# The nox session per package (noxfile.py of this repository defines test-<name> for each).
DEFAULT_TEST_COMMAND = 'python -m pip install "nox>=2025.2.9" && python -m nox -s "test-{name}"'


@dataclass(frozen=True, slots=True)
class TestJob:
    name: str
    path: str
    command: str
    why: str  # the reason from `affected`, or "every package"


@dataclass(frozen=True, slots=True)
class BuildJob:
    name: str
    path: str
    version: str
    needs: tuple[str, ...]  # monorepo packages uploaded before this one (publish order)


@dataclass(frozen=True)
class CiJobs:
    tests: tuple[TestJob, ...]
    builds: tuple[BuildJob, ...]  # publish order; empty without --snapshot
    snapshot_id: int | None
    since: str | None
    total: int  # packages in the workspace
