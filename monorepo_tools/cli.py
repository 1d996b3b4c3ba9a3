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
import gc
import math
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._io import OutputRefused, check_output_path, write_atomic
from ._version import __version__
from .errors import ConfigError, MonorepoError

# The rest is imported where it is used: a Ctrl-C while starting up must end as exit 130, and
# importing the engine (networkx, …) inside main() is what lets main() catch it.
if TYPE_CHECKING:
    from .affected import Changes
    from .config import Config
    from .workspace import OutputCache, Workspace


def load_config(root: str, package_globs: Sequence[str] = ()) -> Config:
    from .config import load_config as load

    return load(root, package_globs)


def load_workspace(config: Config, use_cache: bool = True) -> Workspace:
    from .workspace import load_workspace as load

    return load(config, use_cache=use_cache)


__all__ = ["entrypoint", "main"]


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("workspace")
    group.add_argument(
        "--root",
        default=".",
        type=_root_path,
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
        help="write the report to FILE (atomically) instead of standard output; a file git "
        "tracks or inside a package folder is refused (see --force), its folder must exist",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="let --output replace a tracked file or write inside a package folder",
    )


def build_parser() -> argparse.ArgumentParser:
    from .commands.graph import GRAPH_FORMATS
    from .render.report import CHECK_FORMATS

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
    check.add_argument(
        "--format", choices=CHECK_FORMATS, default="text", help="report format (default: text)"
    )
    _affected_since(check, "only the findings of packages affected since REF")
    _output(check)

    graph = sub.add_parser(
        "graph",
        help="show the dependency graph (text, json, dot, mermaid, svg, html)",
        description="Show the packages in publish order and the dependencies between them.",
    )
    _common(graph)
    graph.add_argument(
        "--format", choices=GRAPH_FORMATS, default="text", help="view (default: text)"
    )
    graph.add_argument(
        "--publishable-only",
        action="store_true",
        help="only publishable packages (and the internal ones they wrongly depend on)",
    )
    graph.add_argument(
        "--focus",
        metavar="NAME",
        help="only NAME, its dependencies and its dependents (--depth edges deep), in any format",
    )
    graph.add_argument(
        "--depth",
        type=int,
        default=None,
        metavar="N",
        help="how many edges deep --focus goes in each direction (default: 1)",
    )
    graph.add_argument(
        "--reduce",
        action="store_true",
        help="draw the transitive reduction: leave out edges implied by longer paths",
    )
    _affected_since(graph, "mark the packages affected since REF")
    _output(graph)

    aff = sub.add_parser(
        "affected",
        help="the packages changed since REF (git diff REF...HEAD) and their dependents, with why",
        description=(
            "List the packages whose files changed between the merge base of REF and HEAD, and "
            "every package depending on them (transitively), each with the changed file or the "
            "dependency it came through. A change to the root pyproject.toml, noxfile.py or a "
            "[tool.monorepo] global-files glob affects every package."
        ),
    )
    _common(aff)
    aff.add_argument(
        "--since", required=True, metavar="REF", help="branch, tag or SHA to compare with"
    )
    aff.add_argument(
        "--format", choices=("text", "json"), default="text", help="report format (default: text)"
    )
    aff.add_argument(
        "--kinds",
        default="runtime,optional,dev",
        metavar="KINDS",
        help="edges dependents follow (default: runtime,optional,dev; runtime,optional: what a publish needs)",
    )
    aff.add_argument(
        "--include-uncommitted",
        action="store_true",
        help="compare the working tree (staged, unstaged, untracked) instead of HEAD",
    )
    _output(aff)

    ci = sub.add_parser(
        "ci",
        help="CI fan-out: a GitLab child pipeline or a GitHub Actions matrix of the affected packages",
        description="Generate per-package CI jobs (tests, and with --snapshot builds and uploads).",
    )
    ci_sub = ci.add_subparsers(dest="ci_target", metavar="TARGET", required=True)
    for target, what in (
        ("gitlab", "write a child pipeline (trigger: include: artifact:)"),
        ("github", "print the matrix JSON for strategy.matrix (fromJSON)"),
    ):
        one = ci_sub.add_parser(target, help=what, description=what)
        _common(one)
        _ci_options(one, target)
        _output(one)

    plan = sub.add_parser(
        "plan",
        help="what a snapshot would publish: id, versions, order, rewritten requirements",
        description="Print the snapshot plan without building or uploading anything.",
    )
    _common(plan)
    _snapshot_selection(plan)
    plan.add_argument(
        "--format", choices=("text", "json"), default="text", help="plan format (default: text)"
    )
    _output(plan)

    snap = sub.add_parser(
        "snapshot",
        help="stage, build, verify and upload every publishable package (dependencies first)",
        description=(
            "Publish one snapshot: every publishable package as <base_release>.dev<snapshot_id>, "
            "internal requirements pinned to ==<that version>. Registry: --repository-url / "
            "MONOREPO_REPOSITORY_URL, else GITLAB_PYPI_PROJECT_ID + GITLAB_HOST (CI_API_V4_URL and "
            "CI_PROJECT_ID in GitLab CI), else (outside CI) a local index in .monorepo/index."
        ),
    )
    _common(snap)
    _snapshot_selection(snap)
    registry = snap.add_argument_group("registry")
    registry.add_argument(
        "--repository-url",
        metavar="URL",
        help="upload URL of a PyPI-compatible registry (or MONOREPO_REPOSITORY_URL)",
    )
    registry.add_argument(
        "--index-url",
        metavar="URL",
        help="its simple index URL (or MONOREPO_INDEX_URL; default: <repository-url>/simple)",
    )
    registry.add_argument(
        "--upload-retries",
        type=_retries,
        default=2,
        metavar="N",
        help=f"retries on connection errors, 429 and 5xx (default: 2, at most {_MAX_RETRIES})",
    )
    registry.add_argument(
        "--upload-backoff-seconds",
        type=_backoff,
        default=1.0,
        metavar="S",
        help=f"first wait before a retry (default: 1.0; 0 to {_MAX_BACKOFF:g})",
    )
    registry.add_argument(
        "--upload-backoff-multiplier",
        type=_multiplier,
        default=2.0,
        metavar="X",
        help=f"factor between waits (default: 2.0; 1 to {_MAX_MULTIPLIER:g})",
    )
    snap.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        default=None,
        metavar="N",
        help="parallel builds (default: the number of CPUs)",
    )
    snap.add_argument(
        "--dry-run", action="store_true", help="stage, build and check, but upload nothing"
    )
    snap.add_argument(
        "--summary-json",
        metavar="FILE",
        help="write the outcome per package (and install lines) to FILE",
    )
    snap.add_argument(
        "--verify",
        action="store_true",
        help="after uploading, install every published package by version in a fresh venv, import it and check the pinned versions (fails the snapshot otherwise)",
    )
    split = snap.add_argument_group("split runs (CI fan-out) and changed-only snapshots")
    split.add_argument(
        "--build-only",
        action="store_true",
        help="stage, build and verify; write the dists and a manifest (versions, pins, sha256) to --dists",
    )
    split.add_argument(
        "--upload-only",
        action="store_true",
        help="upload the dists of --dists in dependency order (refused unless the manifest matches the plan)",
    )
    split.add_argument(
        "--dists",
        metavar="DIR",
        help="the dists folder of --build-only / --upload-only (default for --build-only: .monorepo/dists/<id>)",
    )
    split.add_argument(
        "--affected-since",
        metavar="REF",
        help="changed-only snapshot: publish only the packages affected since REF; their pins on "
        "the others point at the versions the registry has",
    )
    snap.add_argument(
        "--verify-extra-index-url",
        metavar="URL",
        help="an extra index for third-party dependencies during --verify (e.g. https://pypi.org/simple)",
    )

    consumer = sub.add_parser(
        "consumer-config",
        help="ready-to-paste pip / pip.conf / PDM / uv configuration for installing a snapshot",
        description=(
            "Print the configuration a consumer needs to install a snapshot: from --summary-json "
            "FILE (what a snapshot run wrote), from --snapshot-id N (versions computed, registry "
            "from the environment), or by default from the last snapshot run under this root."
        ),
    )
    _common(consumer)
    which = consumer.add_mutually_exclusive_group()
    which.add_argument(
        "--snapshot-id",
        metavar="N",
        help="the snapshot to describe (versions computed from the workspace)",
    )
    which.add_argument(
        "--summary-json",
        metavar="FILE",
        help="a summary written by `monorepo snapshot --summary-json`",
    )
    consumer.add_argument(
        "--format",
        choices=("pip", "pip-conf", "pdm", "uv"),
        default="pip",
        help="configuration format (default: pip)",
    )
    consumer.add_argument(
        "--index-url",
        metavar="URL",
        help="the simple index consumers use (default: the snapshot's registry)",
    )
    _output(consumer)
    return parser


def _affected_since(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--affected-since",
        metavar="REF",
        help=f"{what} (git diff REF...HEAD, dev edges included)",
    )


def _ci_options(parser: argparse.ArgumentParser, target: str) -> None:
    parser.add_argument(
        "--since",
        metavar="REF",
        help="only the packages affected since REF get test jobs (default: every package)",
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="also build every publishable package in parallel and upload them in dependency order",
    )
    parser.add_argument(
        "--snapshot-id",
        metavar="N",
        help="the snapshot id of the jobs (default: this pipeline's, see `monorepo plan --help`)",
    )
    parser.add_argument(
        "--test-command",
        metavar="CMD",
        help="command of a package's test job; {name} and {path} are replaced "
        "(default: the nox session test-{name})",
    )
    if target == "gitlab":
        parser.add_argument(
            "--image", metavar="IMAGE", help="image of the jobs (default: python:3.12-slim)"
        )
        parser.add_argument(
            "--install",
            metavar="CMD",
            help='how a job installs monorepo-tools (default: python -m pip install "$MONOREPO_TOOLS_REQUIREMENT")',
        )
        parser.add_argument(
            "--tool-requirement",
            metavar="REQ",
            help="MONOREPO_TOOLS_REQUIREMENT of the jobs (default: the variable's value here, else '.')",
        )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


_MAX_RETRIES = 20
_MAX_BACKOFF = 600.0
_MAX_MULTIPLIER = 10.0
_NAME_MAX = 255  # bytes of one path component (ext4, xfs, apfs, ntfs)
_PATH_MAX = 4096


def _retries(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= _MAX_RETRIES:
        raise argparse.ArgumentTypeError(f"must be 0 to {_MAX_RETRIES}, got {value}")
    return value


def _bounded_float(text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be a number from {low:g} to {high:g}, got {text}")
    return value


def _backoff(text: str) -> float:
    return _bounded_float(text, 0.0, _MAX_BACKOFF)


def _multiplier(text: str) -> float:
    return _bounded_float(text, 1.0, _MAX_MULTIPLIER)


def _root_path(text: str) -> str:
    """--root: a path the file system can hold (a usage error, not ENAMETOOLONG later)."""
    encoded = os.fsencode(text)
    long = [part for part in encoded.split(b"/") if len(part) > _NAME_MAX]
    if long:
        raise argparse.ArgumentTypeError(
            f"a folder name in it is longer than {_NAME_MAX} bytes "
            f"({os.fsdecode(long[0])[:40]}…); fix: pass the monorepo's real top folder"
        )
    if len(encoded) >= _PATH_MAX:
        raise argparse.ArgumentTypeError(
            f"the path is longer than {_PATH_MAX - 1} bytes; fix: pass a shorter path"
        )
    if "\0" in text:
        raise argparse.ArgumentTypeError("the path holds a NUL character")
    return text


def _snapshot_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--snapshot-id",
        metavar="N",
        help="the snapshot id (default: MONOREPO_SNAPSHOT_ID, GITHUB_RUN_ID*100+GITHUB_RUN_ATTEMPT, CI_PIPELINE_ID, time)",
    )
    parser.add_argument(
        "--package",
        action="append",
        default=[],
        metavar="NAME",
        help="only this publishable package (repeatable; its dependencies must be published already)",
    )


def _workspace(args: argparse.Namespace) -> Workspace:
    config = load_config(args.root, args.packages)
    return load_workspace(config, use_cache=not args.no_cache)


def _emit(text: str, output: str | None) -> None:
    if output:
        try:
            write_atomic(output, text)
        except OSError as exc:  # a usage error (exit 2), not a traceback
            raise ConfigError(
                f"--output {output!r}: cannot write the report ({exc.strerror or exc}); "
                "fix: point --output at a writable file"
            ) from exc
    else:
        sys.stdout.write(text)


def _output_cache(args: argparse.Namespace, *command: str) -> OutputCache:
    """The whole-output cache of this command line (OutputCache: exact inputs only)."""
    from .workspace import OutputCache

    config = load_config(args.root, args.packages)
    return OutputCache(config, command, enabled=not args.no_cache)


def _run_check(args: argparse.Namespace) -> int:
    shape = ("check", args.format, "+text" if args.output else "")
    changes = None
    if args.affected_since:  # the answer depends on git too: its changes are part of the key
        memo, changes = _git_memo(args, args.affected_since, *shape)
    else:
        memo = _output_cache(args, *shape)
    hit = memo.get()
    if hit is None:  # only on a miss: a hit imports no networkx
        # A cold read of many files imports these while its forked parsers work.
        workspace = memo.workspace(
            prefetch=("monorepo_tools.commands.check", "monorepo_tools.render.report")
        )
        from .commands.check import check
        from .render.report import render_check

        result = check(workspace)
        note = None
        if changes is not None:
            from .commands.affected import restrict_check, run_affected

            answer = run_affected(workspace, changes)
            result = restrict_check(result, answer)
            note = (
                f"check limited to the {len(answer.packages)} of {answer.total} packages affected "
                f"since {args.affected_since}\n"
            )
        texts = [render_check(result.summary, args.format)]
        if args.output or note is not None:
            texts.append(render_check(result.summary, "text") if args.output else "")
        if note is not None:
            texts.append(note)
        code = 0 if result.ok else 1
        memo.put(code, texts)
    else:
        code, texts = hit[0], list(hit[1])
    _emit(texts[0], args.output)
    if args.output:
        # The file is for the machine (Code Quality, annotations); the log still gets the story.
        sys.stdout.write(texts[1])
        print(f"report written to {args.output}", file=sys.stderr)
    if changes is not None:
        sys.stderr.write(texts[2])
    return code


def _git_memo(
    args: argparse.Namespace, since: str, *command: str, include_uncommitted: bool = False
) -> tuple[OutputCache, Changes]:
    """What git says changed since *since*, and the output cache of *command* for exactly that
    (the commits, the changed paths and the global-files setting are part of its key)."""
    from .affected import read_changes
    from .workspace import OutputCache

    config = load_config(args.root, args.packages)
    changes = read_changes(str(config.root), since, include_uncommitted)
    key = (*command, "--since", *changes.key, "global-files", *config.global_files)
    return OutputCache(config, key, enabled=not args.no_cache), changes


def _run_graph(args: argparse.Namespace) -> int:
    from .commands.graph import FINDING_FORMATS, graph_view, render_graph

    publishable = "publishable-only" if args.publishable_only else ""
    if args.depth is not None and args.focus is None:
        raise ConfigError("--depth needs --focus NAME (the package whose neighbourhood to show)")
    depth = 1 if args.depth is None else args.depth
    shape = [f"focus={args.focus}", f"depth={depth}"] if args.focus is not None else []
    shape += ["reduce"] if args.reduce else []
    changes = None
    if args.affected_since:  # the answer depends on git too: its changes are part of the key
        memo, changes = _git_memo(
            args, args.affected_since, "graph", args.format, publishable, *shape
        )
    else:
        memo = _output_cache(args, "graph", args.format, publishable, *shape)
    hit = memo.get()
    if hit is None:
        prefetch = ["monorepo_tools.graph"]  # networkx: imported while forked parsers work
        prefetch += ["monorepo_tools.rules"] if args.format in FINDING_FORMATS else []
        workspace = memo.workspace(prefetch=prefetch)
        affected = None
        if changes is not None:
            from .commands.affected import run_affected

            affected = run_affected(workspace, changes).names
        view = graph_view(
            workspace,
            publishable_only=args.publishable_only,
            focus=args.focus,
            depth=depth,
            reduce=args.reduce,
            findings=args.format in FINDING_FORMATS,
            affected=affected,
        )
        text = render_graph(view, args.format)
        memo.put(0, [text])
    else:
        text = hit[1][0]
    _emit(text, args.output)
    if args.output:
        print(f"{args.format} graph written to {args.output}", file=sys.stderr)
    return 0


def _run_affected(args: argparse.Namespace) -> int:
    from .affected import parse_kinds
    from .commands.affected import render_affected, run_affected

    kinds = parse_kinds(args.kinds)
    memo, changes = _git_memo(
        args,
        args.since,
        "affected",
        args.format,
        *sorted(map(str, kinds)),
        include_uncommitted=args.include_uncommitted,
    )
    hit = memo.get()
    if hit is None:
        text = render_affected(run_affected(memo.workspace(), changes, kinds), args.format)
        memo.put(0, [text])
    else:
        text = hit[1][0]
    _emit(text, args.output)
    return 0


def _run_ci(args: argparse.Namespace) -> int:
    import os

    from .commands.ci import CiOptions, ci, ci_request
    from .errors import PlanError

    request = ci_request(
        CiOptions(
            target=args.ci_target,
            since=args.since,
            snapshot=args.snapshot,
            snapshot_id=args.snapshot_id,
            test_command=args.test_command,
            image=getattr(args, "image", None),
            install=getattr(args, "install", None),
            tool_requirement=getattr(args, "tool_requirement", None),
        ),
        os.environ,
    )
    changes = None
    if args.since:
        memo, changes = _git_memo(args, args.since, *request.key)
    else:
        memo = _output_cache(args, *request.key)
    hit = memo.get()
    if hit is None:
        try:
            result = ci(memo.workspace(), request.options, os.environ, changes)
        except PlanError as exc:  # --snapshot of a workspace with findings: as exact as check's
            memo.put(exc.exit_code, [str(exc)])
            raise
        code, texts = 0, [result.text, result.summary]
        memo.put(code, texts)
    else:
        code, texts = hit[0], list(hit[1])
        if code:
            raise PlanError(texts[0])
    _warn(request.warnings)
    _emit(texts[0], args.output)
    if args.output:
        print(texts[1], file=sys.stderr)
    return 0


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"monorepo: warning: {warning}", file=sys.stderr)


def _run_plan(args: argparse.Namespace) -> int:
    import os

    from .commands.plan import plan, render_plan

    workspace = _workspace(args)
    result = plan(workspace, args.snapshot_id, os.environ, args.package)
    _warn(result.snapshot.warnings)
    internal = [n for n, p in workspace.packages.items() if not p.publishable]
    _emit(render_plan(result, args.format, internal), args.output)
    return 0


def _run_snapshot(args: argparse.Namespace) -> int:
    from .commands.snapshot import remember, snapshot
    from .publish.registry import RetryPolicy
    from .publish.run import render_summary, write_summary_json

    config = load_config(args.root, args.packages)
    workspace = load_workspace(config, use_cache=not args.no_cache)
    retry = RetryPolicy(
        args.upload_retries, args.upload_backoff_seconds, args.upload_backoff_multiplier
    )
    plan, report = snapshot(
        config,
        workspace,
        snapshot_id=args.snapshot_id,
        only=args.package,
        repository_url=args.repository_url,
        index_url=args.index_url,
        jobs=args.jobs,
        dry_run=args.dry_run,
        retry=retry,
        verify=args.verify,
        verify_extra_index_url=args.verify_extra_index_url,
        build_only=args.build_only,
        upload_only=args.upload_only,
        dists=args.dists,
        affected_since=args.affected_since,
        on_note=lambda note: print(f"monorepo: {note}", file=sys.stderr),
    )
    _warn(plan.snapshot.warnings)
    _warn(remember(config, report.to_json(), plan.snapshot_id, last=report.ok and not args.dry_run))
    print(
        f"snapshot {plan.snapshot_id} (from {plan.snapshot.source})"
        + (
            ", dry run: nothing uploaded"
            if args.dry_run
            else f", built into {report.dist_dir} (nothing uploaded)"
            if args.build_only
            else f" -> {report.registry.index_url if report.registry else ''}"
        )
    )
    sys.stdout.write(render_summary(report))
    if args.summary_json:
        write_summary_json(report, args.summary_json)
    lines = report.install_lines()
    if lines:
        print("\ninstall with:")
        for line in lines:
            print(f"  {line}")
    return 0 if report.ok else 1


def _run_consumer_config(args: argparse.Namespace) -> int:
    import os

    from .commands.consumer_config import consumer_config

    config = load_config(args.root, args.packages)
    text = consumer_config(
        config,
        load_workspace(config, use_cache=not args.no_cache),
        args.format,
        os.environ,
        snapshot_id=args.snapshot_id,
        summary_json=args.summary_json,
        index_url=args.index_url,
    )
    _emit(text, args.output)
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """--output / --summary-json: refuse, before any work, a target that would lose a file."""
    from pathlib import Path

    root = Path(args.root) if getattr(args, "root", None) else None
    for option in ("output", "summary_json"):
        target = getattr(args, option, None)
        if not target or (option == "summary_json" and args.command != "snapshot"):
            continue
        try:
            check_output_path(target, root, force=getattr(args, "force", False))
        except OutputRefused as exc:
            message = str(exc)
            if option == "summary_json":
                message = message.replace("--output", "--summary-json").replace(
                    ", or pass --force", ""
                )
            raise ConfigError(message) from None


_COMMANDS = {
    "check": _run_check,
    "graph": _run_graph,
    "plan": _run_plan,
    "snapshot": _run_snapshot,
    "consumer-config": _run_consumer_config,
    "affected": _run_affected,
    "ci": _run_ci,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
            return int(exc.code or 0)
    except KeyboardInterrupt:  # Ctrl-C while starting up
        print("monorepo: interrupted", file=sys.stderr)
        return 130
    try:
        _check_outputs(args)
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
    # A short-lived process that builds a few 100,000 acyclic objects: the cyclic GC finds
    # nothing to free, yet its full passes cost 0.2-0.3 s at 10,000 packages, and the
    # interpreter's exit runs one more over every object (0.2 s) unless they are frozen first.
    # Only here, not in main(), so in-process callers (tests) keep their collector.
    gc.disable()
    try:
        code = main()
        gc.freeze()
    except KeyboardInterrupt:  # between main's own handlers (start-up, shutdown)
        print("monorepo: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
