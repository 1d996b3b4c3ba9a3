"""The reading layer: from the root configuration to a :class:`Workspace` of :class:`Package`\\ s.

Read from the file names::

    model.py            the values (Package, Dependency, Edge, Problem, UvSource, Workspace)
    discover.py         globs → package folders, each with its primary metadata file
    readers/            one reader per flavour: pep621, poetry, setupcfg (+ the TOML parser);
                        metadata_hook: PEP 517 metadata for what cannot be read statically
    version_sources.py  where a dynamic base version comes from (files, VCS tags)
    resolve.py          packages → Workspace (edges by normalized name)
    cache.py            the parse cache, the output cache, reading many files (forked)
    lines.py            the one source-line finder for findings

Contract: reading never fails: whatever is wrong with a file becomes a :class:`Problem` on its
package, so ``check`` reports every problem of every file in one run. A package's dependencies
are runtime, optional (with the extra) and dev (with the group) requirements of whichever
flavour it is written in. Nothing here runs a package's code; the only subprocess is the PEP 517
metadata hook for packages whose metadata only their backend knows (setup.py-only, dynamic
dependencies), cached by content.
"""

from __future__ import annotations

from ..config import Config
from .cache import OutputCache, ensure_state_dir, read_packages
from .cache import load_workspace as _load_static
from .discover import discover
from .model import (
    PUBLISHABLE_STATUSES,
    STATUSES,
    Dependency,
    Edge,
    EdgeKind,
    Package,
    Problem,
    UvSource,
    Workspace,
)
from .readers import read_package
from .resolve import build_workspace, gc_paused

__all__ = [
    "PUBLISHABLE_STATUSES",
    "STATUSES",
    "Dependency",
    "Edge",
    "EdgeKind",
    "OutputCache",
    "Package",
    "Problem",
    "UvSource",
    "Workspace",
    "build_workspace",
    "discover",
    "ensure_state_dir",
    "load_workspace",
    "read_package",
    "read_packages",
]

_gc_paused = gc_paused  # the name graph.py used before the split


def load_workspace(config: Config, use_cache: bool = True) -> Workspace:
    """Discover, read and resolve: the one entry point of the pure core."""
    return _load_static(config, use_cache)
