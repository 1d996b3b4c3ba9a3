"""What is asked of a build and what it gives (:class:`BuildRequest`, :class:`BuildResult`),
the PEP 517 defaults, and the exception of a build environment that cannot be made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import PublishError

#: PEP 517/518 defaults for a pyproject without a ``[build-system]`` table.
DEFAULT_BUILD_REQUIRES: tuple[str, ...] = ("setuptools>=40.8.0",)


LEGACY_BACKEND = "setuptools.build_meta:__legacy__"


#: 1980-01-01, the earliest time a zip file can hold.
DEFAULT_SOURCE_DATE_EPOCH = "315532800"


@dataclass(frozen=True)
class BuildRequest:
    name: str  # normalized package name
    source_dir: Path  # a staged copy of the package (its pyproject already rewritten)
    build_requires: tuple[str, ...]  # [build-system].requires; () with no backend → PEP 517 default
    build_backend: str | None  # None → setuptools.build_meta:__legacy__
    backend_path: tuple[str, ...] = ()
    #: Per-package variables for the backend (e.g. ``SETUPTOOLS_SCM_PRETEND_VERSION_FOR_X``),
    #: merged into the allowlisted backend environment last.
    environment: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class BuildResult:
    name: str
    ok: bool
    sdist: Path | None
    wheel: Path | None
    # Short: the package, the step (env, sdist, wheel) and the backend's last lines.
    error: str | None
    log: str  # full captured output of the backend (and of the installer when the env failed)
    seconds: float


class BuildEnvError(PublishError):
    """A build environment could not be created (bad requirement, index unreachable, ...)."""
