"""The ``monorepo`` command line: parse arguments, call one typed function, return an exit code.

Exit codes (stable, documented in the README):

====  ==========================================================================
0     ok (no findings; the command did what was asked)
1     findings (check) or failures (a package failed to build or upload)
2     usage or configuration error (unknown option, --root missing, no package)
130   interrupted (Ctrl-C)
====  ==========================================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from ._io import write_atomic
from .commands.graph import GRAPH_FORMATS
from .config import load_config
from .errors import MonorepoError
from .render.check import CHECK_FORMATS
from .workspace import Workspace, load_workspace

__all__ = ["entrypoint", "main"]


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("workspace")
    group.add_argument(
        "--root",
        default=".",
        metavar="DIR",
        help="the monorepo's top folder (default: the current directory)",
    )
    group.add_argument(
        "--packages",
        action="append",
        default=[],
        metavar="GLOB",
        help="package folder glob relative to the root (repeatable; overrides [tool.monorepo].packages)",
    )
    group.add_argument(
        "--no-cache",
        action="store_true",
        help="do not read or write the parse cache in .monorepo/cache",
    )


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write the report to FILE (atomically) instead of standard output",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monorepo",
        description="Build graph, pre-merge check and snapshot publishing for a Python monorepo.",
        epilog="Exit codes: 0 ok, 1 findings or failures, 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"monorepo-tools {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = sub.add_parser(
        "check",
        help="pre-merge check: report every publishability problem (exit 1 if any)",
        description="Collect every problem that would make a snapshot wrong or unusable.",
    )
    _common(check)
    check.add_argument("--format", choices=CHECK_FORMATS, default="text", help="report format (default: text)")
    _output(check)

    graph = sub.add_parser(
        "graph",
        help="show the dependency graph (text, json, dot, mermaid, svg, html)",
        description="Show the packages in publish order and the dependencies between them.",
    )
    _common(graph)
    graph.add_argument("--format", choices=GRAPH_FORMATS, default="text", help="view (default: text)")
    graph.add_argument(
        "--publishable-only",
        action="store_true",
        help="only publishable packages (and the internal ones they wrongly depend on)",
    )
    _output(graph)
    return parser


def _workspace(args: argparse.Namespace) -> Workspace:
    config = load_config(args.root, args.packages)
    return load_workspace(config, use_cache=not args.no_cache)


def _emit(text: str, output: str | None) -> None:
    if output:
        write_atomic(output, text)
    else:
        sys.stdout.write(text)


def _run_check(args: argparse.Namespace) -> int:
    from .commands.check import check
    from .render.check import render_check

    result = check(_workspace(args))
    _emit(render_check(result.summary, args.format), args.output)
    if args.output:
        # The file is for the machine (Code Quality, annotations); the log still gets the story.
        sys.stdout.write(render_check(result.summary, "text"))
        print(f"report written to {args.output}", file=sys.stderr)
    return 0 if result.ok else 1


def _run_graph(args: argparse.Namespace) -> int:
    from .commands.graph import graph_view, render_graph

    view = graph_view(_workspace(args), publishable_only=args.publishable_only)
    _emit(render_graph(view, args.format), args.output)
    if args.output:
        print(f"{args.format} graph written to {args.output}", file=sys.stderr)
    return 0


_COMMANDS = {"check": _run_check, "graph": _run_graph}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    try:
        return _COMMANDS[args.command](args)
    except MonorepoError as exc:
        print(f"monorepo: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("monorepo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `monorepo graph | head`: the reader left, nothing went wrong
        return 0


def entrypoint() -> None:
    sys.exit(main())
