"""The manifest of built dists: what ``snapshot --build-only`` wrote, what ``--upload-only`` trusts.

``<dists>/manifest.json``::

    {"format": 1, "tool": "monorepo-tools X", "snapshot_id": N,
     "packages": [{"name": ..., "version": ..., "pins": {"dep": "version", ...},
                   "files": [{"name": "x-1.0.dev7.tar.gz", "sha256": "..."}, ...]}, ...]}

A dists folder holds one manifest, or sub-folders each holding one (what CI artifacts of
per-package build jobs look like once downloaded side by side): :func:`read_manifests` merges
them. :func:`match_plan` is the gate of an upload: every planned package must be there with the
plan's snapshot id, version and pins, and every file with its recorded sha256; anything else is
a :class:`~monorepo_tools.errors.ConfigError` listing every mismatch, and nothing is uploaded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._io import write_atomic
from .._version import __version__
from ..errors import ConfigError
from ..snapshot.plan import Plan
from .local_index import sha256_file

__all__ = [
    "MANIFEST",
    "Manifest",
    "ManifestEntry",
    "match_plan",
    "read_manifests",
    "write_manifest",
]

MANIFEST = "manifest.json"
_FORMAT = 1


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    name: str
    version: str
    pins: tuple[tuple[str, str], ...]  # sorted (dependency, version)
    files: tuple[tuple[str, str], ...]  # (file name, sha256)
    folder: Path  # where the files are


@dataclass(frozen=True)
class Manifest:
    snapshot_id: int
    entries: Mapping[str, ManifestEntry]


def write_manifest(folder: Path, snapshot_id: int, entries: Sequence[ManifestEntry]) -> Path:
    """Write (or extend, for the same snapshot id) ``folder/manifest.json``."""
    path = folder / MANIFEST
    merged: dict[str, ManifestEntry] = {}
    try:
        previous = _read_one(path)
    except ConfigError:
        previous = None
    if previous is not None and previous.snapshot_id == snapshot_id:
        merged.update(previous.entries)
    merged.update({e.name: e for e in entries})
    document = {
        "format": _FORMAT,
        "tool": f"monorepo-tools {__version__}",
        "snapshot_id": snapshot_id,
        "packages": [
            {
                "name": e.name,
                "version": e.version,
                "pins": dict(e.pins),
                "files": [{"name": n, "sha256": h} for n, h in e.files],
            }
            for e in sorted(merged.values(), key=lambda e: e.name)
        ],
    }
    write_atomic(path, json.dumps(document, indent=2) + "\n")
    return path


def _read_one(path: Path) -> Manifest | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: not a dists manifest ({exc}); rebuild with --build-only"
        ) from exc
    try:
        if document.get("format") != _FORMAT:
            raise ValueError(f"format {document.get('format')!r}, expected {_FORMAT}")
        snapshot_id = int(document["snapshot_id"])
        entries = {}
        for item in document["packages"]:
            entry = ManifestEntry(
                name=str(item["name"]),
                version=str(item["version"]),
                pins=tuple(sorted((str(k), str(v)) for k, v in item["pins"].items())),
                files=tuple((str(f["name"]), str(f["sha256"])) for f in item["files"]),
                folder=path.parent,
            )
            entries[entry.name] = entry
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: not a dists manifest of this tool ({exc}); rebuild with "
            "`monorepo snapshot --build-only --dists DIR`"
        ) from exc
    return Manifest(snapshot_id, entries)


def read_manifests(folder: Path) -> Manifest:
    """The manifest of *folder*, merged with those of its direct sub-folders."""
    if not folder.is_dir():
        raise ConfigError(
            f"--dists {str(folder)!r} is not a folder; point it at what "
            "`monorepo snapshot --build-only --dists DIR` wrote"
        )
    found = [m for m in [_read_one(folder / MANIFEST)] if m is not None]
    for child in sorted(p for p in folder.iterdir() if p.is_dir()):
        one = _read_one(child / MANIFEST)
        if one is not None:
            found.append(one)
    if not found:
        raise ConfigError(
            f"--dists {str(folder)!r}: no {MANIFEST} in it or its sub-folders; build first with "
            f"`monorepo snapshot --build-only --dists {folder}`"
        )
    ids = sorted({m.snapshot_id for m in found})
    if len(ids) > 1:
        raise ConfigError(
            f"--dists {str(folder)!r} mixes snapshots {', '.join(map(str, ids))}; "
            "upload one snapshot's dists at a time"
        )
    entries: dict[str, ManifestEntry] = {}
    for manifest in found:
        entries.update(manifest.entries)
    return Manifest(ids[0], entries)


def match_plan(manifest: Manifest, plan: Plan, folder: Path) -> dict[str, tuple[Path, ...]]:
    """The files to upload per planned package; ConfigError listing every mismatch otherwise."""
    problems: list[str] = []
    if manifest.snapshot_id != plan.snapshot_id:
        problems.append(
            f"the dists are of snapshot {manifest.snapshot_id}, the plan is snapshot "
            f"{plan.snapshot_id} (pass --snapshot-id {manifest.snapshot_id}, or rebuild)"
        )
    files: dict[str, tuple[Path, ...]] = {}
    for planned in plan.packages:
        entry = manifest.entries.get(planned.name)
        if entry is None:
            problems.append(f"{planned.name}: not in the manifest (was it built?)")
            continue
        if entry.version != planned.version:
            problems.append(
                f"{planned.name}: built as {entry.version}, the plan says {planned.version}"
            )
        if entry.pins != tuple(sorted(planned.pins)):
            problems.append(
                f"{planned.name}: built with pins {dict(entry.pins)}, the plan pins "
                f"{dict(planned.pins)}"
            )
        paths: list[Path] = []
        for name, digest in entry.files:
            path = entry.folder / name
            try:
                actual = sha256_file(path)
            except OSError:
                problems.append(f"{planned.name}: {path} is missing")
                continue
            if actual != digest:
                problems.append(
                    f"{planned.name}: {path} has sha256 {actual}, the manifest says {digest} "
                    "(changed after it was built and verified)"
                )
            paths.append(path)
        if not entry.files:
            problems.append(f"{planned.name}: the manifest lists no file")
        files[planned.name] = tuple(paths)
    if problems:
        raise ConfigError(
            f"--dists {str(folder)!r} does not match the plan; nothing was uploaded:\n  "
            + "\n  ".join(problems)
            + "\nfix: rebuild with `monorepo snapshot --build-only` from the same commit and "
            "snapshot id, then upload those dists"
        )
    return files
