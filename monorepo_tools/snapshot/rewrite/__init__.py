"""Rewriting a staged copy of a package for its snapshot: every file its backend reads.

=================  ===========================================================================
file               what changes
=================  ===========================================================================
pyproject.toml     ``project.version`` (and "version" leaves ``dynamic``), pinned requirements of
                   ``[project]``; ``tool.poetry.version`` and pinned ``[tool.poetry.dependencies]``
                   (poetry-dynamic-versioning: the version stays dynamic, its bypass variable
                   gives the snapshot version, see :func:`.pyproject.rewrite_pyproject`)
setup.cfg          ``[metadata] version``, pinned ``install_requires`` / ``extras_require`` lines
version file       the version literal of ``__about__.py`` / ``__init__.py``, or ``VERSION``
meson.build        the ``version:`` literal of ``project()`` (meson-python, :mod:`.native`)
Cargo.toml         ``[package] version`` in semver form, and the crate's entry in ``Cargo.lock``
                   (maturin, :mod:`.native`)
=================  ===========================================================================

The working tree is never written: :func:`rewrite_staged` works on the staging copy only. When
the plan and a file disagree (a requirement to pin is not where the plan says), it raises
:class:`~monorepo_tools.errors.PublishError`: never publish metadata we did not mean to write.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import PublishError
from ...workspace.version_sources import UVDV_HOOK
from .pyproject import rewrite_pyproject

if TYPE_CHECKING:
    from ..plan import PlannedPackage

__all__ = ["rewrite_pyproject", "rewrite_staged"]


def rewrite_staged(target: Path, planned: PlannedPackage) -> None:
    """Rewrite the staged copy of *planned* in *target* (its folder) for the snapshot."""
    project = {
        raw: pub
        for field, raw, pub in planned.sources
        if field.startswith(("project.", UVDV_HOOK + "."))
    }
    poetry = {
        pub.split("[")[0].split("=")[0].strip(): pub.split("==", 1)[1].split(";")[0].strip()
        for field, _, pub in planned.sources
        if field.startswith("tool.poetry.")
    }
    cfg = {raw.strip(): pub for field, raw, pub in planned.sources if field.startswith("options.")}
    if not planned.sources:  # a plan made by hand (tests, old callers): rewrites only
        project = dict(planned.rewrites)
    pyproject = target / "pyproject.toml"
    if pyproject.is_file() and planned.flavour in ("pep621", "poetry"):
        text = pyproject.read_text(encoding="utf-8")
        try:
            rewritten = rewrite_pyproject(
                text,
                planned.version,
                project,
                poetry,
                keep_dynamic_version=planned.version_source == "poetry-dynamic-versioning",
            )
        except PublishError as exc:
            raise PublishError(f"{planned.pyproject}: {exc}") from exc
        pyproject.write_text(rewritten, encoding="utf-8")
    elif planned.flavour in ("pep621", "poetry"):
        raise PublishError(
            f"{planned.pyproject}: not tracked by git, so it cannot be staged; commit it "
            f"(git add {planned.pyproject})"
        )
    if planned.flavour == "setup.cfg":
        from .setupcfg import rewrite_setup_cfg

        cfg_file = target / "setup.cfg"
        text = cfg_file.read_text(encoding="utf-8")
        cfg_file.write_text(rewrite_setup_cfg(text, planned.version, cfg), encoding="utf-8")
    if planned.version_file and planned.version_file.rsplit("/", 1)[-1] == "Cargo.toml":
        _rewrite_cargo(target, planned)
    elif planned.version_file:
        from .version_files import rewrite_version_file

        file = target / planned.version_file
        if file.is_file():
            text = file.read_text(encoding="utf-8")
            file.write_text(
                rewrite_version_file(
                    planned.version_file, text, planned.base_version, planned.version
                ),
                encoding="utf-8",
            )


def _rewrite_cargo(target: Path, planned: PlannedPackage) -> None:
    """maturin's Cargo.toml (and the Cargo.lock beside it) at the snapshot version."""
    from .native import rewrite_cargo_lock, rewrite_cargo_toml

    assert planned.version_file is not None
    manifest = target / planned.version_file
    if not manifest.is_file():
        return
    try:
        text, crate, old, new = rewrite_cargo_toml(
            manifest.read_text(encoding="utf-8"), planned.base_version, planned.version
        )
    except PublishError as exc:
        raise PublishError(f"{planned.path}/{exc}") from exc
    manifest.write_text(text, encoding="utf-8")
    lock = manifest.with_name("Cargo.lock")
    if lock.is_file():
        lock.write_text(
            rewrite_cargo_lock(lock.read_text(encoding="utf-8"), crate, old, new), encoding="utf-8"
        )
