"""Small file-system helpers shared by the commands: atomic writes and the state folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = [
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
