"""Staging: a copy of each package to build from, with its pyproject rewritten for the snapshot.

The working tree is never written: every edit happens in ``<root>/.monorepo/staging/<id>/<name>``.
When the root is inside a git checkout only the files git tracks are copied (what a fresh clone
of the commit would build, without untracked build products or secrets lying around);
otherwise everything but well-known junk folders is copied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from ..plan import PlannedPackage
from ..rewrite import rewrite_staged

__all__ = ["stage_package", "tracked_files"]

_JUNK = {
    ".git",
    ".hg",
    "__pycache__",
    ".venv",
    "venv",
    ".nox",
    ".tox",
    "build",
    "dist",
    ".monorepo",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
}


def tracked_files(root: Path, folder: str) -> list[str] | None:
    """Files under *folder* (relative to *root*) that git tracks, or None outside a git checkout."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--", folder],
            capture_output=True,
            check=False,
        )
    except OSError:  # no git binary: behave as outside a checkout
        return None
    if completed.returncode != 0:
        return None
    return [p for p in completed.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def _all_files(source: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if d not in _JUNK and not d.endswith(".egg-info"))
        for filename in sorted(filenames):
            yield Path(dirpath, filename)


def stage_package(root: Path, planned: PlannedPackage, staging_root: Path) -> Path:
    """Copy *planned*'s folder into *staging_root*/<name> and rewrite its pyproject there."""
    source = root / planned.path
    target = staging_root / planned.name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    tracked = tracked_files(root, planned.path)
    if tracked is not None and tracked:
        relative = [Path(p).relative_to(planned.path) for p in tracked]
        files = [(source / rel, target / rel) for rel in relative if (source / rel).is_file()]
    else:
        files = [(path, target / path.relative_to(source)) for path in _all_files(source)]
    for src, dst in files:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    # --- what the staged copy says (issue 7): pyproject / Poetry / setup.cfg / version file ---
    rewrite_staged(target, planned)
    # --------------------------------------------------------------------------------------
    return target
