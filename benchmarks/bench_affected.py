"""Time ``monorepo affected`` and ``monorepo ci`` against ``monorepo check``, side by side.

Run from the repository root (a few minutes on 2 cores)::

    python benchmarks/bench_affected.py                    # 10,000 packages, 5 runs
    python benchmarks/bench_affected.py --size 1000 --runs 3 --keep /tmp/bench-affected

It generates the synthetic monorepo (``benchmarks/generate.py``, seeded), makes it a git
repository (one commit), then commits a change touching three packages (a low-numbered one with
many dependents, one from the middle, a leaf), so ``--since HEAD~1`` has real work: a diff, the
folder walk, and a transitive closure over thousands of dependents.

Each command is a new process (``python -m monorepo_tools ...``, output to a file), run in
interleaved rounds (check, affected, ci ..., check, affected, ...) so that machine noise hits
every command alike, median of ``--runs``, in two modes:

* **warm**: the caches under ``.monorepo`` as the previous run left them (a developer or a CI
  runner with a restored cache);
* **no-cache**: ``--no-cache`` (nothing read or written under ``.monorepo``: a fresh clone).

The table gives each median (wall clock, and CPU time: user + sys, which a loaded machine
disturbs less) and its CPU ratio to ``check`` in the same mode (the issue's target: ``affected``
and ``ci`` cost no more than ``check``, ratio <= 1.0). The synthetic monorepo has findings on
purpose, so ``ci --snapshot`` is refused (exit 1) like ``snapshot`` would be: that row times the
refusal (plan = check), which is cached exactly like check's report.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

COMMANDS: dict[str, tuple[str, ...]] = {
    "check": ("check",),
    "affected": ("affected", "--since", "HEAD~1"),
    "affected json": ("affected", "--since", "HEAD~1", "--format", "json"),
    "check --affected-since": ("check", "--affected-since", "HEAD~1"),
    "ci gitlab --since": ("ci", "gitlab", "--since", "HEAD~1"),
    "ci github --since": ("ci", "github", "--since", "HEAD~1"),
    "ci gitlab --since --snapshot": ("ci", "gitlab", "--since", "HEAD~1", "--snapshot"),
}
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args], check=True, env=dict(os.environ, **_GIT_ENV),
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def prepare(root: Path, size: int) -> None:
    if (root / ".git").is_dir():
        return
    generate(root, size, seed=2024)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "generated")
    for index in (3, size // 2, size - 1):
        target = root / "packages" / f"pkg-{index:05d}" / "src" / "CHANGES.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("changed\n", encoding="utf-8")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "change three packages")


def _env(pycache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI", "GITLAB_", "GITHUB_"))}
    env.update(PYTHONPATH=str(REPO), PYTHONPYCACHEPREFIX=str(pycache), CI_PIPELINE_ID="4242")
    return env


def run_once(
    root: Path, args: tuple[str, ...], env: dict[str, str], out: Path
) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + sys of the process and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with out.open("w") as handle:
        proc = subprocess.run(
            [sys.executable, "-m", "monorepo_tools", *args, "--root", str(root)],
            stdout=handle, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated repository here")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-affected-"))
    root = (args.keep or scratch) / f"repo-{args.size}"
    try:
        print(f"preparing {args.size} packages in {root} ...", file=sys.stderr)
        prepare(root, args.size)
        env = _env(scratch / "pycache")
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(REPO / "monorepo_tools")],
            env=env, check=True,
        )  # fmt: skip
        out = scratch / "out.txt"
        results: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for mode, extra in (("warm", ()), ("no-cache", ("--no-cache",))):
            for args_ in COMMANDS.values():  # one untimed round: caches as a previous run left them
                run_once(root, (*args_, *extra), env, out)
            for _ in range(args.runs):
                for name, args_ in COMMANDS.items():
                    seconds, used = run_once(root, (*args_, *extra), env, out)
                    results.setdefault((name, mode), []).append(seconds)
                    cpu.setdefault((name, mode), []).append(used)
        affected = subprocess.run(
            [sys.executable, "-m", "monorepo_tools", "affected", "--since", "HEAD~1", "--root",
             str(root), "--format", "json"],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        import json

        count = json.loads(affected.stdout)["count"]
        print(
            f"\n{args.size} packages, 3 changed -> {count} affected; median of {args.runs} "
            f"runs, whole processes, interleaved; Python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPUs\n"
        )
        print(
            "| command | warm wall | warm CPU | vs check (CPU) | no-cache wall | no-cache CPU | vs check (CPU) |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        base = {m: statistics.median(cpu[("check", m)]) for m in ("warm", "no-cache")}
        for name in COMMANDS:
            cells = []
            for mode in ("warm", "no-cache"):
                wall = statistics.median(results[(name, mode)])
                used = statistics.median(cpu[(name, mode)])
                cells += [f"{wall:.2f} s", f"{used:.2f} s", f"{used / base[mode]:.2f}x"]
            print(f"| `{name}` | " + " | ".join(cells) + " |")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
