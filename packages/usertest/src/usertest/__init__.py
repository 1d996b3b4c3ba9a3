"""usertest: fresh-install evaluation of published package snapshots.

``python -m usertest.cli run --repo "pip:agent-adapters==<version>" --agent smoke ...`` makes a
synthetic workspace, installs the target into an isolated virtualenv (pip or PDM, from the
GitLab registry or ``--index-url``), checks that every module imports at the requested
version, then runs the chosen agent (``smoke``, ``command`` or ``codex``) in that environment
and reports a verdict. ``python -m usertest.cli list`` shows the personas and missions.

The pieces: :func:`usertest.run.run` with :class:`usertest.run.RunOptions`, target parsing in
:mod:`usertest.targets`, the catalog in :mod:`usertest.personas`.
"""

from __future__ import annotations

from importlib.metadata import version

__all__ = ["__version__"]

__version__ = version("usertest")
