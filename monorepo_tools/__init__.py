"""monorepo-tools: the build graph of a Python monorepo, its pre-merge check and its snapshots.

The public API; everything else is an implementation detail::

    >>> from monorepo_tools import load_config, load_workspace, check
    >>> result = check(load_workspace(load_config(".")))      # doctest: +SKIP
    >>> [f.code for f in result.findings]                     # doctest: +SKIP
    []
"""

from ._version import __version__
from .commands.check import CheckResult, check
from .commands.graph import graph_view, render_graph
from .config import Config, load_config
from .errors import ConfigError, MonorepoError, PlanError, PublishError
from .graph import DependencyGraph, build_graph
from .rules import CODES, Finding
from .workspace import Dependency, Edge, EdgeKind, Package, Workspace, load_workspace

__all__ = [
    "CODES",
    "CheckResult",
    "Config",
    "ConfigError",
    "Dependency",
    "DependencyGraph",
    "Edge",
    "EdgeKind",
    "Finding",
    "MonorepoError",
    "Package",
    "PlanError",
    "PublishError",
    "Workspace",
    "__version__",
    "build_graph",
    "check",
    "graph_view",
    "load_config",
    "load_workspace",
    "render_graph",
]
