"""Time ``monorepo check`` and ``monorepo graph --format json`` as whole processes.

Run from the repository root (it takes a couple of minutes on 2 cores)::

    python benchmarks/bench_check.py                      # 1,000 and 10,000 packages
    python benchmarks/bench_check.py --sizes 1000 --runs 5
    python benchmarks/bench_check.py --keep /tmp/bench    # keep (and reuse) the generated repos

For each size it generates a synthetic monorepo (``benchmarks/generate.py``, seeded), then times
``python -m monorepo_tools check --root R`` and ``... graph --root R --format json`` (each a new
process, output to a file, median of ``--runs`` >= 3):

* **cold**: ``R/.monorepo`` deleted before each run (nothing else is dropped: the OS file cache
  stays warm, as it is on a developer machine or a CI runner that just checked the tree out);
* **warm**: run again with nothing changed since the previous run;
* **touched**: one pyproject.toml edited (its description, a different package each run) just
  before the run;
* **no-cache**: ``--no-cache`` (reads and writes nothing under ``.monorepo``).

Every run's output is compared with the ``--no-cache`` one: a cache that changed a result would
fail the benchmark. The table gives each median against the issue's baseline (a straightforward
tomllib + packaging + networkx design: 0.94 s at 1,000 packages, 4.8 s at 10,000) and against
the targets (1,000 cold < 0.5 s, 10,000 cold < 2.0 s, 10,000 warm < 0.6 s).

``--components`` (on by default; ``--no-components`` to skip) also times the parts in one
process, so the README can say where the time goes: interpreter start, ``import networkx``,
the tool's imports, discovery (glob + stat), tomllib per file, requirement parsing, reading a
package, the cache load/save, ``build_workspace``, the graph, the rules, the graph view and its
JSON rendering.

The child processes get ``PYTHONPATH=<repo>`` and a private ``PYTHONPYCACHEPREFIX`` (bytecode
is compiled once, before timing, and never written into the repository), as an installed tool
would have its ``.pyc`` files.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

BASELINE = {1000: 0.94, 10000: 4.8}  # the issue's straightforward design, whole process
TARGETS = {(1000, "cold"): 0.5, (10000, "cold"): 2.0, (10000, "warm"): 0.6}
COMMANDS: dict[str, tuple[str, ...]] = {
    "check": ("check",),
    "graph json": ("graph", "--format", "json"),
}
MODES = ("cold", "warm", "touched", "no-cache")
RACY_SECONDS = 2.0  # files younger than this (vs. the cache) are re-hashed: wait it out once


@dataclass
class Timing:
    size: int
    command: str
    mode: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + sys of the process and its workers

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def child_env(pycache: Path, repo: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(repo), env.get("PYTHONPATH"))))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_tool(args: Sequence[str], env: dict[str, str], out: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + sys, forked workers included) and exit code of one
    ``python -m monorepo_tools ARGS`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with out.open("wb") as handle:
        start = time.perf_counter()
        # cwd: not the checkout, or "python -m" would import the package from there
        proc = subprocess.run(
            [sys.executable, "-m", "monorepo_tools", *args],
            stdout=handle,
            stderr=subprocess.PIPE,
            env=env,
            cwd=out.parent,
            check=False,
        )
        elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(
            f"monorepo {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr.decode()}"
        )
    return elapsed, cpu, proc.returncode


def touch_one(root: Path, index: int, count: int) -> None:
    """Edit the description of one package (a different one each time); the result is unchanged."""
    target = root / "packages" / f"pkg-{(index * 7919) % count:05d}" / "pyproject.toml"
    text = target.read_text(encoding="utf-8")
    marker = "helpers."
    edited = (
        text.replace(marker, "helpers (edited).", 1)
        if marker in text
        else text.replace(" (edited).", ".", 1)
    )
    target.write_text(edited, encoding="utf-8")


def prepare(base: Path, size: int, seed: int) -> Path:
    root = base / f"repo-{size}"
    stamp = root / ".generated"
    expected = f"{size} {seed}\n"
    if stamp.exists() and stamp.read_text() == expected:
        return root
    if root.exists():
        shutil.rmtree(root)
    started = time.perf_counter()
    repo = generate(root, size, seed)
    stamp.write_text(expected)
    print(
        f"generated {root}: {repo.packages} packages, {repo.publishable} publishable, "
        f"{repo.edges} internal requirements, {repo.violations} injected violations "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    return root


def wait_until_settled(root: Path) -> None:
    """Let every file get older than the racy window, as in a tree nobody edits right now."""
    newest = max(p.stat().st_mtime for p in root.glob("packages/*/pyproject.toml"))
    delay = newest + RACY_SECONDS + 0.1 - time.time()
    if delay > 0:
        time.sleep(delay)


@dataclass
class Runner:
    """Runs one command line of the tool on one repository and checks every output."""

    root: Path
    size: int
    label: str
    args: tuple[str, ...]
    env: dict[str, str]
    out: Path
    runs: int
    expected: bytes = b""
    expected_code: int = 0
    touched: int = 0

    def reference(self) -> None:
        """The --no-cache output every cached run must reproduce byte for byte."""
        _, _, self.expected_code = run_tool((*self.args, "--no-cache"), self.env, self.out)
        self.expected = self.out.read_bytes()

    def timed(
        self, mode: str, extra: Sequence[str] = (), before: Callable[[], None] | None = None
    ) -> Timing:
        timing = Timing(self.size, self.label, mode)
        for _ in range(self.runs):
            if before is not None:
                before()
            seconds, cpu, code = run_tool((*self.args, *extra), self.env, self.out)
            if code != self.expected_code or self.out.read_bytes() != self.expected:
                raise SystemExit(f"{self.label} {mode}: the output differs from --no-cache")
            timing.seconds.append(seconds)
            timing.cpu.append(cpu)
        runs = " ".join(f"{s:.3f}" for s in timing.seconds)
        print(f"  {self.size:>6} {self.label:<10} {mode:<8} {runs}", flush=True)
        return timing

    def drop_state(self) -> None:
        shutil.rmtree(self.root / ".monorepo", ignore_errors=True)

    def touch(self) -> None:
        self.touched += 1
        touch_one(self.root, self.touched + len(self.label), self.size)


def bench_size(
    root: Path, size: int, runs: int, env: dict[str, str], scratch: Path
) -> list[Timing]:
    timings: list[Timing] = []
    for label, command in COMMANDS.items():
        args = (*command, "--root", str(root))
        runner = Runner(root, size, label, args, env, scratch / "run.out", runs)
        runner.reference()
        timings.append(runner.timed("no-cache", ("--no-cache",), runner.drop_state))
        timings.append(runner.timed("cold", (), runner.drop_state))
        wait_until_settled(root)
        run_tool(args, env, runner.out)  # the warm state: a cache written after the files settled
        timings.append(runner.timed("warm"))
        timings.append(runner.timed("touched", (), runner.touch))
        wait_until_settled(root)
    return timings


def print_table(timings: list[Timing]) -> None:
    print()
    print(
        "| packages | command | mode | median (s) | best (s) | CPU (s) | vs baseline | vs target |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    for t in timings:
        base = BASELINE.get(t.size)
        vs_base = ""
        if base:
            ratio = base / t.median
            vs_base = f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"
        target = TARGETS.get((t.size, t.mode))
        vs_target = f"{t.median / target:.0%} of {target} s" if target else ""
        cells = (
            f"{t.size:,}",
            t.command,
            t.mode,
            f"{t.median:.2f}",
            f"{min(t.seconds):.2f}",
            f"{t.cpu_median:.2f}",
            vs_base,
            vs_target,
        )
        print("| " + " | ".join(cells) + " |")


# ---------------------------------------------------------------------------------------------
# Components, in one process


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of *fn* over *repeat* calls, with the cyclic GC off (as the tool runs it)."""
    best = float("inf")
    for _ in range(repeat):
        enabled = gc.isenabled()
        gc.disable()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
        if enabled:
            gc.enable()
    return best


def _process_seconds(code: str, env: dict[str, str], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, cwd=tempfile.gettempdir(), check=True)
        best = min(best, time.perf_counter() - start)
    return best


def components(root: Path, env: dict[str, str]) -> list[tuple[str, float, str]]:
    import tomllib

    from monorepo_tools import workspace as ws_module
    from monorepo_tools.commands.graph import render_graph
    from monorepo_tools.config import Config, load_config
    from monorepo_tools.graph import build_graph
    from monorepo_tools.requirements import parse_requirement
    from monorepo_tools.rules import check_workspace, violating_edges
    from monorepo_tools.workspace import cache as ws_cache
    from monorepo_tools.workspace.readers import toml as toml_reader

    rows: list[tuple[str, float, str]] = []

    def row(name: str, seconds: float, note: str = "") -> None:
        rows.append((name, seconds, note))

    bare = _process_seconds("pass", env)
    row("python -c pass (interpreter start)", bare, "per process")
    row("import networkx", _process_seconds("import networkx", env) - bare, "per process")
    tool = _process_seconds("import monorepo_tools.cli", env) - bare
    row("import monorepo_tools.cli (the whole tool, networkx included)", tool, "per process")

    config = load_config(root)
    stats = ws_cache.scan(config)
    folders = list(stats)
    jobs = [(f, primary, ws_cache._signature(st)) for f, (primary, st) in stats.items()]
    n = len(folders)
    row(
        "discovery: glob + one stat per pyproject",
        _best(lambda: ws_cache.scan(config)),
        f"{n} files",
    )
    datas = [(root / f / "pyproject.toml").read_bytes() for f in folders]
    texts = [d.decode() for d in datas]
    toml = _best(lambda: [tomllib.loads(t) for t in texts])
    row("tomllib.loads", toml, f"{toml / n * 1e3:.3f} ms a file")
    fast = _best(lambda: [toml_reader.fast_loads(t) for t in texts])
    accepted = sum(toml_reader.fast_loads(t) is not None for t in texts)
    row(
        "rtoml fast path (tomllib for the rest)",
        fast,
        f"{fast / n * 1e3:.3f} ms a file, reads {accepted}/{n}",
    )
    docs = [tomllib.loads(t) for t in texts]
    strings = [
        (req, str(root / f))
        for f, doc in zip(folders, docs, strict=True)
        for req in (
            *doc["project"].get("dependencies", []),
            *(
                r
                for extra in doc["project"].get("optional-dependencies", {}).values()
                for r in extra
            ),
            *(
                r
                for group in doc.get("dependency-groups", {}).values()
                for r in group
                if isinstance(r, str)
            ),
        )
    ]
    parse = _best(lambda: [parse_requirement(r, d) for r, d in strings])
    each = f"{len(strings)} strings, {parse / len(strings) * 1e6:.1f} us each"
    row("parse_requirement on every string (no sharing)", parse, each)
    try:
        from packaging.requirements import Requirement

        full = _best(
            lambda: [Requirement(r.replace("{root:uri}", "file://" + d)) for r, d in strings],
            repeat=1,
        )
        row(
            "  for comparison: packaging's Requirement",
            full,
            f"{full / len(strings) * 1e6:.1f} us each",
        )
    except ImportError:
        pass

    def read_all() -> None:
        for f, d in zip(folders, datas, strict=True):
            ws_module.read_package(config.root, f, d)

    read = _best(read_all)
    row(
        "read_package: TOML + requirements + values (one process)",
        read,
        f"{read / n * 1e3:.3f} ms a file",
    )
    original = toml_reader.fast_loads
    toml_reader.fast_loads = lambda text: None  # type: ignore[assignment]
    try:
        slow = _best(read_all)
    finally:
        toml_reader.fast_loads = original
    row("  the same with tomllib only", slow, f"{slow / n * 1e3:.3f} ms a file")

    def parse_all() -> object:
        return ws_cache._parse_files(config.root, jobs)

    forked = _best(parse_all, repeat=2)
    note = f"{ws_cache._cpu_count()} CPUs, forks from {2 * ws_cache._PARALLEL_MIN} files"
    row("read + parse every file as a cold run does", forked, note)
    parsed, _ = ws_cache._parse_files(config.root, jobs)
    entries = {job[0]: (sig, d or b"", p) for job, (sig, d, p) in zip(jobs, parsed, strict=True)}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Config(Path(tmp), config.package_globs, config.globs_from)
        path = ws_cache._cache_path(scratch)
        save = _best(lambda: ws_cache._save_cache(scratch, path, entries, time.time_ns()))
        row(
            "parse cache: save everything (encode + marshal + write)",
            save,
            f"{path.stat().st_size / 1e6:.1f} MB",
        )
        load = _best(lambda: ws_cache._load_cache(path, str(scratch.root)))
        row("parse cache: load (read + hash + unmarshal + rebuild values)", load, f"{n} packages")
    packages = [p for _, _, p in parsed]
    row(
        "build_workspace (resolve every requirement)",
        _best(lambda: ws_module.build_workspace(config, packages)),
    )
    workspace = ws_module.build_workspace(config, packages)
    graph_time = _best(lambda: build_graph(workspace))
    row(
        "build_graph (networkx graphs, cycles, levels)", graph_time, f"{len(workspace.edges)} edges"
    )
    graph = build_graph(workspace)
    row("rules (check_workspace)", _best(lambda: check_workspace(workspace, graph)))
    publishable = [name for name, p in workspace.packages.items() if p.publishable]
    dependents = _best(lambda: graph.transitive_dependents(publishable, publishable, limit=20))
    row("  transitive_dependents of every publishable package", dependents, "bitset pass")
    violating = violating_edges(workspace)
    row("graph view (GraphView of nodes and edges)", _best(lambda: graph.view(violating=violating)))
    view = graph.view(violating=violating)
    row("render graph json", _best(lambda: render_graph(view, "json")))
    return rows


# ---- issue 7: side by side with the straightforward reference, in one run -------------------

REFERENCE = r"""
import glob, json, os, sys, tomllib
import networkx as nx
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
root = sys.argv[1]
packages = {}
for folder in sorted(glob.glob(os.path.join(root, "packages/*"))):
    file = os.path.join(folder, "pyproject.toml")
    if not os.path.isfile(file):
        continue
    with open(file, "rb") as handle:
        doc = tomllib.load(handle)
    project = doc.get("project", {})
    reqs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    for group in doc.get("dependency-groups", {}).values():
        reqs += [r for r in group if isinstance(r, str)]
    deps = [canonicalize_name(Requirement(r).name) for r in reqs]
    status = doc.get("tool", {}).get("monorepo", {}).get("status", "internal")
    packages[canonicalize_name(project["name"])] = (status, project.get("version"), deps)
graph = nx.DiGraph()
graph.add_nodes_from(packages)
for name, (_, _, deps) in packages.items():
    graph.add_edges_from((name, d) for d in deps if d in packages and d != name)
bad = [(a, b) for a, b in graph.edges if packages[a][0] != "internal" and packages[b][0] == "internal"]
cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
order = list(nx.topological_sort(graph)) if not cycles else []
print(json.dumps({"packages": len(packages), "findings": len(bad), "order": len(order)}))
"""


def _median_process(
    command: Sequence[str],
    env: dict[str, str],
    runs: int,
    before: Callable[[], None] = lambda: None,
) -> float:
    times = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        subprocess.run(
            list(command),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            cwd=tempfile.gettempdir(),
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_mixed(root: Path) -> None:
    """Turn a generated repository into a mixed-flavour one: every third package Poetry, every
    fifth (of the rest) a dynamic version read from ``src/<pkg>/__about__.py`` (hatch path)."""
    import re

    for index, file in enumerate(sorted(root.glob("packages/*/pyproject.toml"))):
        text = file.read_text(encoding="utf-8")
        if index % 3 == 1:
            name = re.search(r'^name = "([^"]+)"', text, re.M).group(1)  # type: ignore[union-attr]
            version = re.search(r'^version = "([^"]+)"', text, re.M).group(1)  # type: ignore[union-attr]
            deps = re.findall(r'"(pkg-\d+)[^"]*"', text.split("[project.optional", 1)[0])
            status = re.search(r'status = "([^"]+)"', text)
            lines = [
                "[build-system]",
                'requires = ["poetry-core>=1"]',
                'build-backend = "poetry.core.masonry.api"',
                "",
                "[tool.poetry]",
                f'name = "{name}"',
                f'version = "{version}"',
                'description = "synthetic"',
                "",
                "[tool.poetry.dependencies]",
                'python = "^3.11"',
                'requests = "^2.31"',
                *[f'{d} = {{ path = "../{d}", develop = true }}' for d in dict.fromkeys(deps)],
                "",
                "[tool.poetry.group.dev.dependencies]",
                'pytest = "^8"',
            ]
            if status:
                lines += ["", "[tool.monorepo]", f'status = "{status.group(1)}"']
            file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        elif index % 5 == 2:
            version = re.search(r'^version = "([^"]+)"', text, re.M).group(1)  # type: ignore[union-attr]
            text = re.sub(r'^version = "[^"]+"', 'dynamic = ["version"]', text, count=1, flags=re.M)
            text += '\n[tool.hatch.version]\npath = "src/about.py"\n'
            (file.parent / "src").mkdir(exist_ok=True)
            (file.parent / "src" / "about.py").write_text(f'__version__ = "{version}"\n')
            file.write_text(text, encoding="utf-8")


def issue7(base: Path, env: dict[str, str], runs: int, seed: int) -> list[str]:
    """Markdown rows: the tool against the reference, side by side, in this one run."""
    tool = [sys.executable, "-m", "monorepo_tools", "check", "--format", "json", "--root"]
    out = [
        "| repository | reference | tool cold | ratio | tool nothing changed | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for size in (1000, 10000):
        root = prepare(base, size, seed)
        wait_until_settled(root)
        drop = lambda r=root: shutil.rmtree(r / ".monorepo", ignore_errors=True)  # noqa: E731
        reference = _median_process([sys.executable, "-c", REFERENCE, str(root)], env, runs)
        cold = _median_process([*tool, str(root)], env, runs, drop)
        _median_process([*tool, str(root)], env, 1)
        warm = _median_process([*tool, str(root)], env, runs)
        out.append(
            f"| {size:,} packages | {reference:.2f} s | {cold:.2f} s | {cold / reference:.2f}x "
            f"| {warm:.3f} s | {warm / reference:.2f}x |"
        )
    mixed = base / "mixed-1000"
    if not (mixed / ".generated").exists():
        shutil.rmtree(mixed, ignore_errors=True)
        generate(mixed, 1000, seed)
        make_mixed(mixed)
        (mixed / ".generated").write_text("mixed\n")
    wait_until_settled(mixed)
    drop = lambda: shutil.rmtree(mixed / ".monorepo", ignore_errors=True)  # noqa: E731
    cold = _median_process([*tool, str(mixed)], env, runs, drop)
    _median_process([*tool, str(mixed)], env, 1)
    warm = _median_process([*tool, str(mixed)], env, runs)
    out.append(
        f"| 1,000 mixed (1/3 Poetry, 1/5 dynamic versions) | (cannot read Poetry) | {cold:.2f} s "
        f"| | {warm:.3f} s | |"
    )
    return out


def metadata_hook_cost(base: Path, env: dict[str, str], count: int = 4) -> list[str]:
    """Per package: the PEP 517 metadata path cold (build env exists, hook runs) and cached."""
    root = base / "metadata-hook"
    shutil.rmtree(root, ignore_errors=True)
    (root / "packages").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.monorepo]\npackages = ["packages/*"]\n')
    for i in range(count):
        folder = root / "packages" / f"legacy-{i}"
        folder.mkdir()
        (folder / "setup.py").write_text(
            f'from setuptools import setup\nsetup(name="legacy-{i}", version="1.0", install_requires=["requests"])\n'
        )
    tool = [sys.executable, "-m", "monorepo_tools", "check", "--root", str(root)]
    envs = base / "metadata-build-envs"
    child = {**env, "MONOREPO_BUILD_ENV_DIR": str(envs)}
    _median_process(tool, child, 1)  # creates the build environment once (not timed)
    drop = lambda: shutil.rmtree(root / ".monorepo", ignore_errors=True)  # noqa: E731
    cold = _median_process(tool, child, 3, drop)
    hit = _median_process([*tool, "--no-cache"], child, 3)  # parse cache off, metadata cache on
    return [
        "| metadata hook (setup.py-only packages) | per package |",
        "|---|---:|",
        f"| cold (hook runs; build env already made) | {cold / count:.3f} s |",
        f"| cached by content (no process started) | {hit / count:.4f} s |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time check and graph --format json as whole processes."
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per measurement (median; at least 3)"
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="generate into DIR and keep it (reused when it matches)",
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=REPO,
        help="the monorepo-tools checkout to time (default: this one)",
    )
    parser.add_argument("--components", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the timings as JSON")
    parser.add_argument(
        "--issue7",
        action="store_true",
        help="only the issue 7 table: the tool against the reference (tomllib + packaging + "
        "networkx, one process) side by side, a mixed-flavour repository, the metadata hook",
    )
    args = parser.parse_args(argv)
    if args.runs < 3:
        parser.error("--runs must be at least 3 (the table reports medians)")

    sys.path.insert(0, str(args.repo.resolve()))  # the components are timed in this process
    base = args.keep or Path(tempfile.mkdtemp(prefix="monorepo-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    pycache = Path(tempfile.mkdtemp(prefix="monorepo-bench-pycache-"))
    env = child_env(pycache, args.repo.resolve())
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs "
        f"(usable {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}), "
        f"load average at start {os.getloadavg()[0]:.2f}; timing {args.repo.resolve()}",
        flush=True,
    )
    subprocess.run(
        [sys.executable, "-m", "monorepo_tools", "--version"],
        env=env,
        cwd=tempfile.gettempdir(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if args.issue7:
        try:
            rows = issue7(base, env, args.runs, args.seed)
            rows += ["", *metadata_hook_cost(base, env)]
        finally:
            shutil.rmtree(pycache, ignore_errors=True)
            if args.keep is None:
                shutil.rmtree(base, ignore_errors=True)
        print("\n".join(rows))
        print(f"\nload average at end {os.getloadavg()[0]:.2f}")
        return 0
    timings: list[Timing] = []
    component_rows: dict[int, list[tuple[str, float, str]]] = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for size in args.sizes:
                root = prepare(base, size, args.seed)
                wait_until_settled(root)
                timings.extend(bench_size(root, size, args.runs, env, Path(scratch)))
                if args.components:
                    component_rows[size] = components(root, env)
    finally:
        shutil.rmtree(pycache, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print_table(timings)
    for size, rows in component_rows.items():
        print(
            f"\nWhere the time goes, {size:,} packages (one process, cyclic GC off, best of 3):\n"
        )
        print("| component | seconds | note |")
        print("|---|---:|---|")
        for name, seconds, note in rows:
            print(f"| {name} | {seconds:.3f} | {note} |")
    load = os.getloadavg()[0]
    print(f"\nload average at end {load:.2f} (numbers from a busy machine are not comparable)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "timings": [
                        {
                            "size": t.size,
                            "command": t.command,
                            "mode": t.mode,
                            "seconds": t.seconds,
                            "median": t.median,
                            "cpu": t.cpu,
                        }
                        for t in timings
                    ],
                    "components": {
                        str(k): [{"name": a, "seconds": b, "note": c} for a, b, c in v]
                        for k, v in component_rows.items()
                    },
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
