"""Staging: a copy of each package to build from, with its pyproject rewritten for the snapshot.

The working tree is never written: every edit happens in the run's own staging folder
(``<root>/.monorepo/staging/<id>/run-…/<name>``).

Which files are copied (the contract):

* **Inside a git checkout: the files git tracks, always** (``git ls-files --cached``: what a
  fresh clone of the commit would build). Untracked files (``.env``, keys, build products) are
  never copied, even next to tracked ones. A package folder git tracks *nothing* of (a new
  package in an uncommitted working tree) is refused with :class:`UntrackedPackageError`
  naming it: ``git add`` and commit it first. A tracked symlink is copied as the file it points
  to only when that file is itself inside the package folder; a link leading out of it is
  refused (it would ship whatever it points at).
* **Outside git** (an exported tarball), there is no list of tracked files: every file is
  copied except :data:`EXCLUDED_DIRS` and :data:`EXCLUDED_FILES` (VCS and tool folders, caches,
  build products, ``.env*``, SSH/TLS keys, ``.netrc``, ``.pypirc``, ``*.pem``, ``*.key``, …),
  and :func:`~monorepo_tools.publish.run.run_snapshot` prints a loud warning.

For a backend whose sdist archives the committed tree (meson-python's ``meson dist``, see
:data:`VCS_SDIST_BACKENDS`), the staged copy is then made a one-commit git repository of exactly
the staged files (:func:`commit_staged_copy`), so the sdist holds the rewritten files.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from ..errors import PublishError
from ..snapshot.plan import PlannedPackage
from ..snapshot.rewrite import rewrite_staged

__all__ = [
    "EXCLUDED_DIRS",
    "EXCLUDED_FILES",
    "VCS_SDIST_BACKENDS",
    "UntrackedPackageError",
    "commit_staged_copy",
    "in_git_checkout",
    "stage_package",
    "tracked_files",
]

#: Folders never copied outside git (any depth).
EXCLUDED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".nox", ".tox", "build", "dist",
        ".monorepo", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".idea", ".vscode", ".ssh",
        ".gnupg", ".aws", ".docker", "node_modules",
    }
)  # fmt: skip
#: File name patterns never copied outside git (any depth): secrets and local configuration.
EXCLUDED_FILES = (
    ".env", ".env.*", "*.env", ".envrc", ".netrc", "_netrc", ".pypirc", ".npmrc", ".git-credentials",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.pem", "*.key", "*.p12", "*.pfx",
    "*.keystore", "*.jks", "credentials", "credentials.json", "secrets.*", "*.secret",
    ".DS_Store", "*.pyc",
)  # fmt: skip


class UntrackedPackageError(PublishError):
    """A publishable package folder that git does not track: it cannot be staged."""


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


def in_git_checkout(root: Path) -> bool:
    """Whether *root* is inside a git work tree (so staging copies tracked files only)."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return False
    return completed.returncode == 0 and completed.stdout.strip() == "true"


def _excluded(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in EXCLUDED_FILES)


def _all_files(source: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(
            d for d in dirnames if d not in EXCLUDED_DIRS and not d.endswith(".egg-info")
        )
        for filename in sorted(filenames):
            if not _excluded(filename):
                yield Path(dirpath, filename)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def _selected(root: Path, planned: PlannedPackage, source: Path) -> list[Path]:
    """The files of *planned* to stage, relative to its folder (see the module docstring)."""
    tracked = tracked_files(root, planned.path)
    if tracked is None:
        return [path.relative_to(source) for path in _all_files(source)]
    if not tracked:
        raise UntrackedPackageError(
            f"{planned.name} ({planned.path}/) is publishable but git tracks none of its files, "
            f"so nothing of it can be staged (untracked files are never published); fix: "
            f"git add {planned.path} && git commit, or set its [tool.monorepo].status to "
            '"internal"'
        )
    relative: list[Path] = []
    for item in tracked:
        rel = Path(item).relative_to(planned.path)
        path = source / rel
        if path.is_symlink() and not _inside(path, source):
            raise PublishError(
                f"{planned.path}/{rel.as_posix()} is a symlink leading out of the package "
                f"folder (to {os.readlink(path)}); fix: commit the file itself, or remove the link"
            )
        if path.is_file():  # a tracked file deleted in the working tree is not built
            relative.append(rel)
    return relative


def stage_package(root: Path, planned: PlannedPackage, staging_root: Path) -> Path:
    """Copy *planned*'s folder into *staging_root*/<name> and rewrite its pyproject there.

    Raises :class:`UntrackedPackageError` for a package git tracks nothing of, and
    :class:`~monorepo_tools.errors.PublishError` for other problems; both name the fix.
    """
    source = root / planned.path
    target = staging_root / planned.name
    files = _selected(root, planned, source)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for rel in files:
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, dst)
    # What the staged copy says (issue 7): pyproject / Poetry / setup.cfg / version file.
    rewrite_staged(target, planned)
    if planned.build_backend in VCS_SDIST_BACKENDS:
        commit_staged_copy(target)
    return target


#: Backends whose sdist is an archive of the committed tree (meson-python runs ``meson dist``,
#: which only works in a git or Mercurial checkout and archives HEAD, not the working tree).
VCS_SDIST_BACKENDS = frozenset({"mesonpy"})


def commit_staged_copy(target: Path) -> None:
    """Make the staged copy *target* a one-commit git repository of exactly its files (the
    rewritten ones included), so that a backend archiving HEAD archives the snapshot.

    Hermetic: no system or user git configuration, hooks or signing; the commit date is
    ``SOURCE_DATE_EPOCH`` (default 1980-01-01), so the archive's times are reproducible.
    """
    from .build.model import DEFAULT_SOURCE_DATE_EPOCH

    date = f"@{os.environ.get('SOURCE_DATE_EPOCH') or DEFAULT_SOURCE_DATE_EPOCH} +0000"
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("GIT_") and name not in ("HOME", "XDG_CONFIG_HOME")
    }
    environ.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        HOME=str(target),
        GIT_AUTHOR_NAME="monorepo-tools",
        GIT_AUTHOR_EMAIL="monorepo-tools@localhost",
        GIT_COMMITTER_NAME="monorepo-tools",
        GIT_COMMITTER_EMAIL="monorepo-tools@localhost",
        GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_DATE=date,
    )
    settings = ["-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false"]
    steps = (
        ["init", "-q", "-b", "snapshot"],
        ["add", "--all", "--force", "."],
        ["commit", "-q", "--no-verify", "--allow-empty", "-m", "snapshot staging"],
    )
    for step in steps:
        try:
            done = subprocess.run(
                ["git", *settings, "-C", str(target), *step],
                env=environ,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            raise PublishError(
                f"{target.name}: its backend archives a git checkout (meson dist), but git "
                f"cannot run ({exc}); fix: install git"
            ) from exc
        if done.returncode != 0:
            raise PublishError(
                f"{target.name}: could not make the staged copy a git repository for its "
                f"backend (git {step[0]}: {(done.stderr or done.stdout).strip()[-300:]})"
            )
