"""GitHub Actions: the jobs of :class:`~monorepo_tools.ci.CiJobs` as ``strategy.matrix`` JSON.

One compact JSON line (for ``$GITHUB_OUTPUT``)::

    {"test": {"include": [{"package": ..., "path": ..., "command": ...}, ...]},
     "build": {"include": [{"package": ..., "version": ..., "path": ...}, ...]},
     "test_count": N, "build_count": M, "snapshot_id": ID or null,
     "upload_order": ["a", "b", ...]}

A workflow uses ``strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix).test }}`` and guards the
job with ``if: fromJSON(needs.plan.outputs.matrix).test_count > 0`` (GitHub refuses an empty
matrix). Matrix jobs cannot depend on each other, so the uploads run in one job after every build,
in ``upload_order`` (``monorepo snapshot --upload-only --dists DIR`` does that from the manifests).
"""

from __future__ import annotations

import json

from . import CiJobs

__all__ = ["render_github"]


def render_github(jobs: CiJobs) -> str:
    document = {
        "test": {
            "include": [
                {"package": t.name, "path": t.path, "command": t.command} for t in jobs.tests
            ]
        },
        "build": {
            "include": [
                {"package": b.name, "version": b.version, "path": b.path} for b in jobs.builds
            ]
        },
        "test_count": len(jobs.tests),
        "build_count": len(jobs.builds),
        "snapshot_id": jobs.snapshot_id,
        "upload_order": [b.name for b in jobs.builds],
    }
    return json.dumps(document, separators=(",", ":")) + "\n"
