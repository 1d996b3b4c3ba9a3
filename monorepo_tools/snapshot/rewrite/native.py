"""Native build files staged with the snapshot version: ``meson.build`` and ``Cargo.toml``
(with its ``Cargo.lock``), so that what meson or cargo compile in (``meson.project_version()``,
``env!("CARGO_PKG_VERSION")``) says what the wheel's metadata says.

* ``meson.build``: the string literal of ``version:`` in ``project()`` (only those characters;
  comments and layout stay). meson versions are free-form: the PEP 440 snapshot is written as is.
* ``Cargo.toml``: ``[package] version`` in its semver form (``0.3.0.dev7`` → ``0.3.0-dev.7``);
  ``Cargo.lock`` next to it gets the same version in the crate's own ``[[package]]`` entry (the
  one without a ``source``), so ``cargo build --locked`` still works. tomlkit keeps the rest.

The wheel's version does not depend on these files: the staged pyproject says the snapshot
version statically (meson-python and maturin both take ``[project] version`` when it is static).
"""

from __future__ import annotations

import tomlkit
from tomlkit.items import AoT, Table

from ...errors import PublishError
from ...workspace.native_manifests import meson_project_version, semver_from_pep440

__all__ = ["rewrite_cargo_lock", "rewrite_cargo_toml", "rewrite_meson_build"]


def rewrite_meson_build(text: str, old: str, version: str) -> str:
    """*text* of meson.build with ``project(..., version: '<old>')`` saying *version*.

    >>> rewrite_meson_build("project('a', version : '1.0')  # x\\n", "1.0", "1.0.dev7")
    "project('a', version : '1.0.dev7')  # x\\n"
    """
    found = meson_project_version(text)
    if found.span is None or found.literal != old:
        said = found.literal if found.literal is not None else found.error
        raise PublishError(f"meson.build: project() version is not {old!r} ({said}) to rewrite")
    start, end = found.span
    return text[:start] + version + text[end:]


def rewrite_cargo_toml(text: str, old: str, version: str) -> tuple[str, str, str, str]:
    """*text* of Cargo.toml with ``[package] version`` saying *version* (semver).

    Returns (the new text, the crate name, its old and its new semver version). *old* is the
    PEP 440 base version the plan read from it.
    """
    from packaging.version import InvalidVersion, Version

    document = tomlkit.parse(text)
    package = document.get("package")
    written = package.get("version") if isinstance(package, Table) else None
    try:
        same = isinstance(written, str) and Version(str(written)) == Version(old)
    except InvalidVersion:
        same = False
    if not isinstance(package, Table) or not same:
        raise PublishError(f"Cargo.toml: [package] version is not {old!r} ({written!r}) to rewrite")
    try:
        semver = semver_from_pep440(version)
    except ValueError as exc:
        raise PublishError(f"Cargo.toml: {exc}") from exc
    package["version"] = semver
    return tomlkit.dumps(document), str(package.get("name", "")), str(written), semver


def rewrite_cargo_lock(text: str, crate: str, old: str, new: str) -> str:
    """*text* of Cargo.lock with the local crate *crate* at *new* instead of *old* (unchanged
    when the lock does not list it: cargo adds it at the next build)."""
    document = tomlkit.parse(text)
    packages = document.get("package")
    if isinstance(packages, AoT):
        for entry in packages:
            if entry.get("name") == crate and entry.get("version") == old and "source" not in entry:
                entry["version"] = new
    return tomlkit.dumps(document)
