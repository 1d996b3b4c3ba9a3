"""Small file-system helpers shared by the commands: atomic writes, the state folder, and the
guard of ``--output`` (:func:`check_output_path`: a report never replaces a source file)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import ConfigError

__all__ = [
    "OutputRefused",
    "check_output_path",
    "copy_atomic",
    "ensure_state_dir",
    "replace_atomic",
    "write_atomic",
    "write_bytes_atomic",
]

_GITIGNORE = "# created by monorepo-tools: caches, staging, local index\n*\n"


def replace_atomic(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
    """Let *write* fill a temporary file, then rename it over *path*: readers see the old file
    or the new one, never half. The temporary file sits in the target folder, so the rename
    never crosses devices; on any error it is removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; these are ordinary files: honour the umask like open() does.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write *data* to *path* atomically."""

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    replace_atomic(path, write)


def write_atomic(path: str | Path, text: str) -> None:
    """Write *text* (UTF-8, ``\\n`` line ends) to *path* atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def copy_atomic(source: Path, target: Path) -> None:
    """Copy *source* to *target* atomically (streamed, for large distributions)."""

    def copy(handle: BinaryIO) -> None:
        with source.open("rb") as src:
            shutil.copyfileobj(src, handle, 1 << 20)

    replace_atomic(target, copy)


def ensure_state_dir(state: Path) -> Path:
    """Create the tool's state folder, which ignores itself (a ``.gitignore`` holding ``*``)."""
    state.mkdir(parents=True, exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        write_atomic(ignore, _GITIGNORE)
    return state


class OutputRefused(ConfigError):
    """``--output FILE`` would replace a source file, or its folder does not exist."""


def _git_tracks(path: Path) -> bool:
    try:
        done = subprocess.run(
            ["git", "-C", str(path.parent), "ls-files", "--error-unmatch", "--", path.name],
            capture_output=True,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


def _package_folder(path: Path, root: Path | None) -> Path | None:
    """The nearest folder above *path* holding a ``pyproject.toml``, below *root* (the root's
    own pyproject is the workspace's, so writing next to it is fine)."""
    top = root.resolve() if root is not None else None
    for folder in path.parents:
        if top is not None and (folder == top or top not in folder.parents):
            return None
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


def check_output_path(output: str | Path, root: Path | None = None, *, force: bool = False) -> Path:
    """Refuse an ``--output`` target that would lose something (raises :class:`OutputRefused`).

    * a missing parent folder is refused (a typo must not create folders silently);
    * a folder, a file git tracks, or any file inside a package folder (a folder below *root*
      holding a ``pyproject.toml``) is refused unless *force*.
    """
    target = Path(output)
    absolute = Path(os.path.abspath(target))
    if not absolute.parent.is_dir():
        raise OutputRefused(
            f"--output {str(output)!r}: the folder {absolute.parent} does not exist; fix: create "
            "it first, or point --output at an existing folder"
        )
    if absolute.is_dir():
        raise OutputRefused(f"--output {str(output)!r} is a folder; fix: name a file")
    if force:
        return target
    resolved = absolute.resolve()
    if resolved.exists() and _git_tracks(resolved):
        raise OutputRefused(
            f"--output {str(output)!r} is a file git tracks: writing the report would replace "
            "it; fix: write somewhere else (e.g. a file under build/ or /tmp), or pass --force"
        )
    package = _package_folder(resolved, root)
    if package is not None:
        raise OutputRefused(
            f"--output {str(output)!r} is inside the package folder {package}: a report there "
            "could replace a source file or end up in a distribution; fix: write outside the "
            "package folders, or pass --force"
        )
    return target
