"""Publishing the files of one package: look up, skip, refuse conflicts, upload, classify."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from ..._io import ensure_state_dir
from ...config import STATE_DIR
from ..local_index import sha256_file
from .gitlab import _GITLAB_NOT_FOUND, _GITLAB_PROTECTED, _TOO_LARGE, _auth_advice, _not_found_kind
from .index import _retrying, published_files
from .local import _upload_local
from .messages import _CONFLICT_FIX, _conflict, _outcome
from .model import FileOutcome, FileStatus, Registry, RegistryError, RetryPolicy, _Transient
from .upload import _Answer, _twine_upload


def _upload_remote(
    registry: Registry, project: str, path: Path, digest: str, policy: RetryPolicy
) -> FileOutcome:
    if not registry.username or not registry.password:
        return _outcome(
            registry,
            path,
            FileStatus.AUTH_FAILED,
            f"no credentials to upload: {_auth_advice(registry)}",
        )
    outputs: list[str] = []

    def attempt() -> _Answer:
        answer = _twine_upload(registry, path)
        outputs.append(answer.output)
        if answer.status == 429 or (answer.status is not None and answer.status >= 500):
            raise _Transient(f"upload answered {answer.error}", answer.retry_after)
        return answer

    try:
        answer = _retrying(
            attempt, policy, f"uploading {path.name} to {registry.upload_url}", registry
        )
    except RegistryError as exc:
        return _outcome(registry, path, FileStatus.FAILED, str(exc), "".join(outputs))
    output = "".join(outputs)
    if answer.status is None and not answer.error:
        return _outcome(
            registry, path, FileStatus.UPLOADED, f"uploaded to {registry.upload_url}", output
        )
    lowered = answer.error.lower()
    if answer.status == 413 or (answer.status == 400 and "too large" in lowered):
        return _outcome(
            registry, path, FileStatus.FAILED, f"upload refused ({answer.error}): {_TOO_LARGE}",
            output,
        )  # fmt: skip
    if answer.status == 403 and "package protected" in lowered:
        return _outcome(
            registry,
            path,
            FileStatus.AUTH_FAILED,
            f"upload refused ({answer.error}): {_GITLAB_PROTECTED}",
            output,
        )
    if answer.status == 404 and _not_found_kind(answer.error.partition(": ")[2]) == "project":
        return _outcome(
            registry,
            path,
            FileStatus.AUTH_FAILED,
            f"upload refused ({answer.error}): {_GITLAB_NOT_FOUND}; {_auth_advice(registry)}",
            output,
        )
    if answer.status in (401, 403):
        return _outcome(
            registry,
            path,
            FileStatus.AUTH_FAILED,
            f"upload refused ({answer.error}): {_auth_advice(registry)}",
            output,
        )
    if answer.status in (400, 409):
        # A duplicate (GitLab 400 "File name has already been taken", pypiserver 409), or an
        # earlier attempt that reached the server after all: compare with the index by hash.
        try:
            published = published_files(registry, project, policy)
        except RegistryError as exc:
            return _outcome(
                registry,
                path,
                exc.status,
                f"upload refused ({answer.error}) and the index could not be read to compare: "
                f"{exc}",
                output,
            )
        if path.name in published:
            if published[path.name] == digest:
                return _outcome(
                    registry,
                    path,
                    FileStatus.ALREADY_PUBLISHED,
                    f"already published with the same sha256 {digest} (the registry refused the "
                    "second upload)",
                    output,
                )
            return _conflict(registry, path, published[path.name], digest, output)
        return _outcome(
            registry,
            path,
            FileStatus.FAILED,
            f"upload refused ({answer.error}); the file is not in the index, so this is not a "
            "duplicate: fix the distribution's metadata (twine check) or the registry URL",
            output,
        )
    return _outcome(
        registry,
        path,
        FileStatus.FAILED,
        f"upload to {registry.upload_url} failed ({answer.error}); fix: check the registry URL "
        f"({registry.origin})",
        output,
    )


def publish_files(
    registry: Registry, project: str, files: Sequence[Path], policy: RetryPolicy
) -> list[FileOutcome]:
    """Publish *files* of *project*, in order; one outcome per file tried.

    One index lookup first: files already there with the same sha256 are skipped; if any file
    conflicts, nothing of the package is uploaded (a half-published mix of two builds is worse
    than none). Then each missing file is uploaded; the first failure stops the package (an
    authentication failure makes no further request).
    """
    paths = [Path(p) for p in files]
    if not paths:
        return []
    if registry.kind == "local":
        if registry.local_dir is None:
            return [
                _outcome(registry, paths[0], FileStatus.FAILED, "a local registry needs local_dir")
            ]
        with contextlib.suppress(OSError):
            if registry.local_dir.parent.name == STATE_DIR:
                ensure_state_dir(registry.local_dir.parent)
    try:
        digests = {p: sha256_file(p) for p in paths}
    except OSError as exc:
        return [
            _outcome(
                registry, paths[0], FileStatus.FAILED, f"cannot read the file to upload: {exc}"
            )
        ]
    try:
        published = published_files(registry, project, policy)
    except RegistryError as exc:
        return [_outcome(registry, paths[0], exc.status, f"not uploaded: {exc}")]

    conflicts = {p for p in paths if p.name in published and published[p.name] != digests[p]}
    if conflicts:
        first = min(conflicts, key=paths.index)
        outcomes: list[FileOutcome] = []
        for p in paths:
            if p in conflicts:
                outcomes.append(_conflict(registry, p, published[p.name], digests[p]))
            elif p.name in published:
                outcomes.append(
                    _outcome(
                        registry,
                        p,
                        FileStatus.ALREADY_PUBLISHED,
                        f"already published with the same sha256 {digests[p]}",
                    )
                )
            else:
                outcomes.append(
                    _outcome(
                        registry,
                        p,
                        FileStatus.FAILED,
                        f"not uploaded because {first.name} conflicts. {_CONFLICT_FIX}",
                    )
                )
        return outcomes

    results: list[FileOutcome] = []
    for p in paths:
        if p.name in published:
            results.append(
                _outcome(
                    registry,
                    p,
                    FileStatus.ALREADY_PUBLISHED,
                    f"already published with the same sha256 {digests[p]}; skipped",
                )
            )
            continue
        if registry.kind == "local":
            outcome = _upload_local(registry, project, p, digests[p])
        else:
            outcome = _upload_remote(registry, project, p, digests[p], policy)
        results.append(outcome)
        if not outcome.status.ok:
            break
    return results
