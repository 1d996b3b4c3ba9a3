"""Publishing into the embedded local index (``.monorepo/index``)."""

from __future__ import annotations

from pathlib import Path

from ..local_index import IndexConflict, LocalIndex
from .messages import _conflict, _outcome
from .model import FileOutcome, FileStatus, Registry


def _upload_local(registry: Registry, project: str, path: Path, digest: str) -> FileOutcome:
    assert registry.local_dir is not None
    try:
        added = LocalIndex(registry.local_dir).add(project, path)
    except IndexConflict as exc:
        return _conflict(registry, path, exc.published, exc.offered)
    except OSError as exc:
        return _outcome(
            registry,
            path,
            FileStatus.FAILED,
            f"cannot write the local index {registry.local_dir}: {exc}",
        )
    if not added:
        return _outcome(
            registry,
            path,
            FileStatus.ALREADY_PUBLISHED,
            f"already published with the same sha256 {digest}",
        )
    return _outcome(
        registry, path, FileStatus.UPLOADED, f"published into the local index {registry.local_dir}"
    )
