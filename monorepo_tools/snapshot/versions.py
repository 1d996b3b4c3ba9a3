"""Snapshot ids and snapshot versions (pure functions, no clock unless asked).

The snapshot id is chosen by the first source that gives a number, in this order::

    1. --snapshot-id N                    (the command line)
    2. MONOREPO_SNAPSHOT_ID               (if numeric)
    3. GITHUB_RUN_ID * 100 + GITHUB_RUN_ATTEMPT   (attempt defaults to 1)
    4. CI_PIPELINE_ID                     (if numeric)
    5. int(time.time())

A non-numeric value is skipped with a warning that names the variable; so is an out-of-range
one from the environment (``GITHUB_RUN_ATTEMPT`` must be 1 to 99: GitHub counts from 1, and
``* 100`` leaves two digits). An id longer than :data:`MAX_ID_DIGITS` digits is refused (a usage
error: it would make file names too long for any file system). Falling back to the clock *in
CI* is warned about loudly: those versions sort before every earlier run's that used GitHub's
formula (``run_id * 100 + attempt`` is far larger than a Unix time), so a consumer pinned to
"the newest snapshot" would not get it.

A package's snapshot version is ``<base_release>.dev<snapshot_id>``, where ``base_release`` is
the epoch and release segment of ``project.version``: pre-, post-, dev- and local parts are
dropped, so the result is always a valid PEP 440 dev release.

>>> snapshot_version("0.1.0", 735192004101)
'0.1.0.dev735192004101'
>>> snapshot_version("1.2.0rc1", 7)
'1.2.0.dev7'
>>> snapshot_version("2!0.1.0+local.3", 7)
'2!0.1.0.dev7'

How they sort (PEP 440): a dev release comes *before* its release and before its pre-releases,
so ``1.2.0.dev7 < 1.2.0rc1 < 1.2.0``; and a later snapshot of the same base sorts after an
earlier one, because the snapshot id grows (``0.1.0.dev8 > 0.1.0.dev7``). ``pip install
name==0.1.0.devN`` always works; ``pip install name`` ignores dev releases unless ``--pre``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from ..errors import ConfigError

__all__ = [
    "MAX_ID_DIGITS",
    "SnapshotId",
    "base_release",
    "dev_release",
    "resolve_snapshot_id",
    "snapshot_version",
]

_DIGITS = re.compile(r"[0-9]+")
#: Longest snapshot id (digits). Distribution file names hold it twice-ish
#: (``name-1.2.3.dev<id>-py3-none-any.whl``) and must stay under 255 bytes.
MAX_ID_DIGITS = 30


@dataclass(frozen=True, slots=True)
class SnapshotId:
    value: int
    source: str  # e.g. "--snapshot-id", "MONOREPO_SNAPSHOT_ID", "GITHUB_RUN_ID * 100 + GITHUB_RUN_ATTEMPT"
    warnings: tuple[str, ...] = ()


def _numeric(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not _DIGITS.fullmatch(text) or len(text.lstrip("0")) > MAX_ID_DIGITS:
        return None  # never int() of thousands of digits (ValueError past 4,300)
    return int(text)


def _too_long(text: str) -> bool:
    stripped = text.strip()
    return bool(_DIGITS.fullmatch(stripped)) and len(stripped.lstrip("0")) > MAX_ID_DIGITS


def resolve_snapshot_id(
    cli_value: str | int | None,
    env: Mapping[str, str],
    clock: Callable[[], float] = time.time,
) -> SnapshotId:
    """Pick the snapshot id by the documented priority.

    >>> resolve_snapshot_id(None, {"GITHUB_RUN_ID": "123", "CI_PIPELINE_ID": "9"})
    SnapshotId(value=12301, source='GITHUB_RUN_ID * 100 + GITHUB_RUN_ATTEMPT', warnings=())
    >>> resolve_snapshot_id(None, {"MONOREPO_SNAPSHOT_ID": "abc", "CI_PIPELINE_ID": "9"}).value
    9
    """
    warnings: list[str] = []
    if cli_value is not None:
        if _too_long(str(cli_value)):
            raise ConfigError(
                f"--snapshot-id has {len(str(cli_value).strip())} digits, more than "
                f"{MAX_ID_DIGITS}: the versions and file names would be too long; pass a "
                "shorter id (a pipeline or run number)"
            )
        value = _numeric(str(cli_value))
        if value is None:
            raise ConfigError(
                f"--snapshot-id {cli_value!r} is not a non-negative integer; pass digits only, e.g. --snapshot-id 42"
            )
        return SnapshotId(value, "--snapshot-id")
    raw = env.get("MONOREPO_SNAPSHOT_ID")
    if raw:
        value = _numeric(raw)
        if value is not None:
            return SnapshotId(value, "MONOREPO_SNAPSHOT_ID", tuple(warnings))
        if _too_long(raw):
            raise ConfigError(
                f"MONOREPO_SNAPSHOT_ID has {len(raw.strip())} digits, more than "
                f"{MAX_ID_DIGITS}: the versions and file names would be too long; set a "
                "shorter id"
            )
        warnings.append(f"MONOREPO_SNAPSHOT_ID={raw!r} is not numeric; ignored")
    run_id = env.get("GITHUB_RUN_ID")
    if run_id:
        run = _numeric(run_id)
        attempt_raw = env.get("GITHUB_RUN_ATTEMPT") or "1"
        attempt = _numeric(attempt_raw)
        if run is None:
            warnings.append(f"GITHUB_RUN_ID={run_id!r} is not numeric; ignored")
        elif attempt is None:
            warnings.append(
                f"GITHUB_RUN_ATTEMPT={attempt_raw!r} is not numeric; ignored with GITHUB_RUN_ID"
            )
        elif not 1 <= attempt <= 99:
            warnings.append(
                f"GITHUB_RUN_ATTEMPT={attempt_raw!r} is not 1 to 99 (GitHub counts attempts "
                "from 1); ignored with GITHUB_RUN_ID"
            )
        else:
            return SnapshotId(
                run * 100 + attempt, "GITHUB_RUN_ID * 100 + GITHUB_RUN_ATTEMPT", tuple(warnings)
            )
    pipeline = env.get("CI_PIPELINE_ID")
    if pipeline:
        value = _numeric(pipeline)
        if value is not None:
            return SnapshotId(value, "CI_PIPELINE_ID", tuple(warnings))
        warnings.append(f"CI_PIPELINE_ID={pipeline!r} is not numeric; ignored")
    if env.get("CI"):
        warnings.append(
            "WARNING: no snapshot id from MONOREPO_SNAPSHOT_ID, GITHUB_RUN_ID or CI_PIPELINE_ID "
            "in CI, so the id is the current time; these versions sort BEFORE those of earlier "
            "runs that used GITHUB_RUN_ID * 100 + GITHUB_RUN_ATTEMPT (a larger number), so "
            "`pip install --pre` would not pick them; fix: set MONOREPO_SNAPSHOT_ID (or make "
            "the CI's run id visible to the job)"
        )
    return SnapshotId(int(clock()), "time.time()", tuple(warnings))


def base_release(version: str) -> str:
    """Epoch and release segment of *version* (``2!1.2.0rc1+x`` → ``2!1.2.0``)."""
    parsed = Version(version)
    release = ".".join(str(part) for part in parsed.release)
    return f"{parsed.epoch}!{release}" if parsed.epoch else release


def snapshot_version(version: str, snapshot_id: int) -> str:
    """``<base_release>.dev<snapshot_id>``; raises ValueError for a non-PEP 440 *version*."""
    try:
        return f"{base_release(version)}.dev{snapshot_id}"
    except InvalidVersion as exc:
        raise ValueError(f"{version!r} is not a PEP 440 version") from exc


def dev_release(version: str, snapshot_id: int) -> str:
    """``<version>.dev<snapshot_id>`` keeping the epoch, release and pre-release of *version*
    (post, dev and local parts dropped): the snapshot of a *next* release guessed from a VCS
    tag, which sorts after the tag (``1.0rc2.dev7 > 1.0rc1``; ``4.4.1.dev7 > 4.4.0``).

    >>> dev_release("4.4.1", 7), dev_release("1.0rc2", 7), dev_release("2!1.0.post1+x", 7)
    ('4.4.1.dev7', '1.0rc2.dev7', '2!1.0.dev7')
    """
    try:
        parsed = Version(version)
    except InvalidVersion as exc:
        raise ValueError(f"{version!r} is not a PEP 440 version") from exc
    pre = f"{parsed.pre[0]}{parsed.pre[1]}" if parsed.pre else ""
    return f"{base_release(version)}{pre}.dev{snapshot_id}"
