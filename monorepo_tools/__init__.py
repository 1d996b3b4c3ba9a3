"""monorepo-tools: the build graph of a Python monorepo, its pre-merge check and its snapshots.

The public API; everything else is an implementation detail::

    >>> from monorepo_tools import load_config, load_workspace, check
    >>> result = check(load_workspace(load_config(".")))      # doctest: +SKIP
    >>> [f.code for f in result.findings]                     # doctest: +SKIP
    []
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .commands.check import CheckResult, check
    from .commands.graph import graph_view, render_graph
    from .config import Config, load_config
    from .errors import ConfigError, MonorepoError, PlanError, PublishError
    from .graph import DependencyGraph, build_graph
    from .rules import CODES, Finding
    from .workspace import Dependency, Edge, EdgeKind, Package, Workspace, load_workspace

# Imported on first use (PEP 562), as pypa/build does: `monorepo --help` and a Ctrl-C while
# starting up do not wait for the engine (networkx, the rules) to load.
_LAZY = {
    "CheckResult": ".commands.check",
    "check": ".commands.check",
    "graph_view": ".commands.graph",
    "render_graph": ".commands.graph",
    "Config": ".config",
    "load_config": ".config",
    "ConfigError": ".errors",
    "MonorepoError": ".errors",
    "PlanError": ".errors",
    "PublishError": ".errors",
    "DependencyGraph": ".graph",
    "build_graph": ".graph",
    "CODES": ".rules",
    "Finding": ".rules",
    "Dependency": ".workspace",
    "Edge": ".workspace",
    "EdgeKind": ".workspace",
    "Package": ".workspace",
    "Workspace": ".workspace",
    "load_workspace": ".workspace",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
