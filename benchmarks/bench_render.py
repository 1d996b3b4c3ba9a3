"""Render the graph views of synthetic monorepos and time them against the issue's targets.

Run from the repository root::

    python benchmarks/bench_render.py [--sizes 300,1000] [--runs 3] [--keep DIR] [--no-browser]

For each size it generates a repository with ``generate.py`` (seeded), then times whole
``python -m monorepo_tools graph --format FMT --root R --no-cache -o FILE`` processes (median of
``--runs``) for ``json`` (the plain view, as a yardstick), ``svg`` and ``html``, and reports the
HTML's size. Targets (issue 10): the 1,000-package HTML renders in under 10 s and weighs under
8 MB. It also times ``layout_graph`` alone, in process (the measurement that used to be a timed
test), and, unless ``--no-browser``, how long Debian's headless Chromium takes to open the page
until its script is ready (``#graph[data-ready]``), which is what a user waits for.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from chromium import ARGS, CHROMIUM, VIEWPORT  # noqa: E402
from generate import generate  # noqa: E402

TARGET_SECONDS = 10.0
TARGET_BYTES = 8 * 1024 * 1024


def _time_render(repo: Path, fmt: str, out: Path, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU (user + sys) seconds of one whole ``graph`` process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(out.parent / "pycache"))
    command = [sys.executable, "-m", "monorepo_tools", "graph", "--format", fmt]
    command += ["--root", str(repo), "--no-cache", "-o", str(out)]
    subprocess.run(command, check=True, env=env, capture_output=True)  # compile bytecode once
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, env=env, capture_output=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def _time_layout(repo: Path, runs: int) -> float:
    from monorepo_tools.commands.graph import graph_view
    from monorepo_tools.config import load_config
    from monorepo_tools.render.layout import layout_graph
    from monorepo_tools.workspace import load_workspace

    view = graph_view(load_workspace(load_config(repo, []), use_cache=False), findings=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        layout_graph(view)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _time_browser(html: Path, runs: int) -> float | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(runs):
            page = browser.new_page(viewport=VIEWPORT)
            started = time.perf_counter()
            page.goto(html.as_uri())
            page.wait_for_selector("#graph[data-ready=true]", timeout=120_000)
            page.screenshot(path=str(html.with_suffix(".png")))  # the first full paint
            times.append(time.perf_counter() - started)
            page.close()
        browser.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="60,300,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate into (and reuse) this folder")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-render-"))
    base.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        repo = base / f"repo{size}"
        if not (repo / "pyproject.toml").exists():
            generate(repo, size)
        timings, cpu = {}, {}
        for fmt in ("json", "svg", "html"):
            out = base / f"graph{size}.{fmt}"
            timings[fmt], cpu[fmt] = _time_render(repo, fmt, out, args.runs)
        html = base / f"graph{size}.html"
        weight = html.stat().st_size
        layout = _time_layout(repo, args.runs)
        browser = None if args.no_browser else _time_browser(html, args.runs)
        rows.append((size, timings, cpu, weight, layout, browser))
        print(
            f"{size:>5} packages: json {timings['json']:.2f} s, svg {timings['svg']:.2f} s, "
            f"html {timings['html']:.2f} s (CPU {cpu['html']:.2f} s, {timings['html'] / TARGET_SECONDS:.0%} of the "
            f"10 s target, {timings['html'] / timings['json']:.1f}x json), "
            f"{weight / 1e6:.2f} MB ({weight / TARGET_BYTES:.0%} of 8 MiB), "
            f"layout {layout:.2f} s"
            + ("" if browser is None else f", Chromium ready+painted {browser:.2f} s"),
            flush=True,
        )
    print()
    print(
        "| packages | json (s) | svg (s) | html (s) | html CPU (s) | html vs 10 s | html size "
        "| vs 8 MiB | layout (s) | Chromium open (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, timings, cpu, weight, layout, browser in rows:
        print(
            f"| {size:,} | {timings['json']:.2f} | {timings['svg']:.2f} | {timings['html']:.2f} "
            f"| {cpu['html']:.2f} "
            f"| {timings['html'] / TARGET_SECONDS:.2f}x | {weight / 1e6:.2f} MB "
            f"| {weight / TARGET_BYTES:.2f}x | {layout:.2f} "
            f"| {'-' if browser is None else f'{browser:.2f}'} |"
        )


if __name__ == "__main__":
    main()
