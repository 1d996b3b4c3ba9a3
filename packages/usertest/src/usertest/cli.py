"""``python -m usertest.cli run ...`` / ``python -m usertest.cli list``.

Exit codes: 0 the run passed; 1 it failed (the report names the step: resolve, install, import,
version, agent); 2 usage or environment error (nothing was installed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from agent_adapters import (
    AGENTS,
    CODEX_INSTALL_HINT,
    POLICIES,
    AgentUnavailable,
    Resilience,
    codex_login_status,
    find_codex,
    host_codex_home,
)
from runner_core import PdmUnavailable, docker_engine_status, find_pdm, redact

from normalized_events import Event
from reporter import render_event, render_json, render_markdown, render_terminal

from . import __version__
from .personas import load_missions, load_personas
from .run import RunOptions, run, secret_values
from .targets import UsageError, parse_target, resolve_index

__all__ = ["build_parser", "entrypoint", "main"]

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"usertest: error: {message}\n")


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _multiplier(text: str) -> float:
    value = float(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="usertest", description="Fresh-install evaluation of published package snapshots.")
    parser.add_argument("--version", action="version", version=f"usertest {__version__}")
    commands = parser.add_subparsers(dest="command_name", required=True, parser_class=_Parser)

    r = commands.add_parser("run", help="install a package target in a fresh workspace and run an agent on it")
    r.add_argument("--repo-root", default=".", help="the repository the evaluation belongs to (must exist; default: .)")
    r.add_argument("--repo", required=True, metavar="TARGET",
                   help='"pip:<req> [<req> ...]" or "pdm:<req> [<req> ...]", e.g. "pip:agent-adapters==0.1.0.dev7"')
    r.add_argument("--agent", choices=AGENTS, default="smoke", help="smoke (default), command or codex")
    r.add_argument("--command", dest="agent_command", metavar="CMD", help="the command line of --agent command (run in the venv)")
    r.add_argument("--policy", choices=sorted(POLICIES), default="safe",
                   help="what the agent may do: safe = write only in the workspace (default), strict = read only")
    r.add_argument("--persona-id", default="quickstart_sprinter", help="a persona of `usertest list`")
    r.add_argument("--mission-id", default="first_output_smoke", help="a mission of `usertest list`")
    r.add_argument("--exec-backend", choices=("local", "docker"), default="local")
    r.add_argument("--exec-env", action="append", default=[], metavar="NAME",
                   help="pass this host variable to the commands (repeatable); nothing else of the host environment is passed")
    auth = r.add_mutually_exclusive_group()
    auth.add_argument("--exec-use-host-agent-login", dest="auth_mode", action="store_const", const="host-login",
                      help="Codex uses the host login (~/.codex, mounted read-only in Docker); the default")
    auth.add_argument("--exec-use-api-key-auth", dest="auth_mode", action="store_const", const="api-key",
                      help="Codex uses OPENAI_API_KEY (also pass --exec-env OPENAI_API_KEY)")
    r.set_defaults(auth_mode="host-login")
    r.add_argument("--index-url", help="the package index (default: from GITLAB_PYPI_PROJECT_ID and GITLAB_HOST)")
    r.add_argument("--extra-index-url", action="append", default=[], metavar="URL", help="another index (repeatable)")
    r.add_argument("--report-json", type=Path, metavar="FILE")
    r.add_argument("--report-markdown", type=Path, metavar="FILE")
    r.add_argument("--events-jsonl", type=Path, metavar="FILE", help="write every event as a JSON line, as it happens")
    r.add_argument("--agent-rate-limit-retries", type=_non_negative_int, default=2)
    r.add_argument("--agent-rate-limit-backoff-seconds", type=_non_negative_float, default=1.0)
    r.add_argument("--agent-rate-limit-backoff-multiplier", type=_multiplier, default=2.0)
    r.add_argument("--agent-followup-attempts", type=_non_negative_int, default=2)
    r.add_argument("--work-dir", type=Path, help="where the temporary workspace is made (default: the system temp dir)")
    r.add_argument("--keep-workspace", action="store_true", help="keep the workspace afterwards (it is removed by default)")
    r.add_argument("--docker-image", default="python:3.12-slim", help="the image of --exec-backend docker")
    r.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    ls = commands.add_parser("list", help="list the personas and missions")
    ls.add_argument("--json", action="store_true", help="as JSON")
    return parser


def _list(args: argparse.Namespace) -> int:
    personas, missions = load_personas(), load_missions()
    if args.json:
        print(json.dumps({
            "personas": [{"id": p.id, "name": p.name, "description": p.description} for p in personas.values()],
            "missions": [{"id": m.id, "title": m.title, "description": m.description, "success": m.success} for m in missions.values()],
        }, indent=2))
        return EXIT_PASSED
    width = max(len(k) for k in (*personas, *missions)) + 2
    print("Personas:")
    for p in personas.values():
        print(f"  {p.id.ljust(width)}{p.name}: {p.description}")
    print("\nMissions:")
    for m in missions.values():
        print(f"  {m.id.ljust(width)}{m.title}: {m.description}")
    return EXIT_PASSED


def _options(args: argparse.Namespace, environ: Mapping[str, str]) -> RunOptions:
    """Validate everything before anything is created; :class:`UsageError` for the first problem."""
    if not Path(args.repo_root).is_dir():
        raise UsageError(f"--repo-root {args.repo_root!r} is not a directory")
    target = parse_target(args.repo)
    personas, missions = load_personas(), load_missions()
    if args.persona_id not in personas:
        raise UsageError(f"unknown persona {args.persona_id!r}; known personas: {', '.join(personas)}")
    if args.mission_id not in missions:
        raise UsageError(f"unknown mission {args.mission_id!r}; known missions: {', '.join(missions)}")
    bad = [n for n in args.exec_env if not _ENV_NAME.match(n)]
    if bad:
        raise UsageError(f"--exec-env takes variable names, got {', '.join(map(repr, bad))}")
    exec_env = tuple(dict.fromkeys(args.exec_env))
    agent_command: tuple[str, ...] = ()
    if args.agent == "command":
        if not args.agent_command:
            raise UsageError('--agent command needs --command "CMD" (the command line to run in the venv)')
        try:
            agent_command = tuple(shlex.split(args.agent_command))
        except ValueError as exc:
            raise UsageError(f"--command: {exc}") from None
        if not agent_command:
            raise UsageError("--command is empty")
    elif args.agent_command:
        raise UsageError("--command is only for --agent command")
    index = resolve_index(args.index_url, environ)
    for url in args.extra_index_url:
        if not url.startswith(("http://", "https://", "file:")):
            raise UsageError(f"--extra-index-url must be an http(s) or file URL, got {url!r}")
    if args.exec_backend == "docker":
        ok, why = docker_engine_status()
        if not ok:
            raise UsageError(f"docker backend: no Docker engine reachable (docker info failed: {why}); use --exec-backend local")
    elif target.installer == "pdm":
        try:
            find_pdm()
        except PdmUnavailable as exc:
            raise UsageError(str(exc)) from None
    if args.agent == "codex":
        try:
            codex_exe = find_codex()
        except AgentUnavailable:
            raise UsageError(CODEX_INSTALL_HINT) from None
        if args.auth_mode == "api-key":
            if "OPENAI_API_KEY" not in exec_env:
                raise UsageError("--exec-use-api-key-auth needs --exec-env OPENAI_API_KEY")
            if not environ.get("OPENAI_API_KEY"):
                raise UsageError("--exec-use-api-key-auth: OPENAI_API_KEY is not set on the host")
        else:
            if not host_codex_home().is_dir():
                raise UsageError(
                    f"host-login mode: no Codex login at {host_codex_home()} (run `codex login`), "
                    "or use --exec-use-api-key-auth --exec-env OPENAI_API_KEY"
                )
            # Fail fast: `codex exec` without a login retries "waiting for network" for minutes.
            logged_in, said = codex_login_status(codex_exe, host_codex_home())
            if not logged_in:
                raise UsageError(
                    f"host-login mode: Codex is not logged in at {host_codex_home()} (codex login status: "
                    f"{said}): run `codex login`, or use --exec-use-api-key-auth --exec-env OPENAI_API_KEY"
                )
            if "OPENAI_API_KEY" in exec_env:
                print("usertest: note: OPENAI_API_KEY is not passed in host-login mode "
                      "(add --exec-use-api-key-auth to use it)", file=sys.stderr)
                exec_env = tuple(n for n in exec_env if n != "OPENAI_API_KEY")
    unset = [n for n in exec_env if n not in environ]
    if unset:
        print(f"usertest: note: --exec-env {', '.join(unset)}: not set on the host, not passed", file=sys.stderr)
    return RunOptions(
        target=target,
        persona=personas[args.persona_id],
        mission=missions[args.mission_id],
        index=index,
        agent=args.agent,
        policy=args.policy,
        backend=args.exec_backend,
        exec_env=exec_env,
        extra_index_urls=tuple(args.extra_index_url),
        command=agent_command,
        resilience=Resilience(
            rate_limit_retries=args.agent_rate_limit_retries,
            rate_limit_backoff_seconds=args.agent_rate_limit_backoff_seconds,
            rate_limit_backoff_multiplier=args.agent_rate_limit_backoff_multiplier,
            followup_attempts=args.agent_followup_attempts,
        ),
        auth_mode=args.auth_mode,
        work_dir=args.work_dir,
        keep_workspace=args.keep_workspace,
        docker_image=args.docker_image,
        events_path=args.events_jsonl,
    )


def main(argv: Sequence[str] | None = None, *, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    if args.command_name == "list":
        return _list(args)
    try:
        options = _options(args, environ)
    except UsageError as exc:
        print(f"usertest: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    secrets = secret_values(options, environ)

    def progress(event: Event) -> None:
        print(f"usertest: {redact(render_event(event), secrets)}", file=sys.stderr, flush=True)

    log = run(options, environ=environ, progress=None if args.quiet else progress)
    events = log.events
    sys.stdout.write(render_terminal(events))
    for path, text in ((args.report_json, render_json(events) if args.report_json else ""),
                       (args.report_markdown, render_markdown(events) if args.report_markdown else "")):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    verdict = log.verdict()
    return EXIT_PASSED if verdict is not None and verdict.passed else EXIT_FAILED


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
