"""Time ``layout_graph`` (the svg/html views' layout) on synthetic monorepos, in one process.

This replaces the wall-clock assertion that ``tests/render/test_layout.py`` used to make (a
1,000-package layout in under 5 s): timing belongs in benchmarks, the test keeps checking the
layout itself. Run from the repository root::

    python benchmarks/bench_layout.py                   # 100, 200 and 1,000 packages
    python benchmarks/bench_layout.py --sizes 1000 --runs 5
    python benchmarks/bench_layout.py --check           # exit 1 if 1,000 packages take > 5 s

For each size it generates a synthetic monorepo (``benchmarks/generate.py``, seeded), reads it
with the tool (``load_workspace`` without cache, ``graph_view``: the view ``monorepo graph
--format svg`` lays out), then times, side by side on the same view in one run (median of
``--runs``):

* **layout**: ``monorepo_tools.render.layout.layout_graph`` alone (level bands, crossing
  reduction, row wrapping, edge routing around boxes), in this process, cyclic GC off;
* **ours, svg**: ``render_graph(view, "svg")``, the layout and the SVG text, in this process;
* **baseline**: what a user would run without us, Graphviz on the same graph:
  ``dot -Tsvg`` of ``render_graph(view, "dot")`` (a whole process; one run when it takes
  over 10 s, ``> --dot-timeout`` past that; skipped with a note when ``dot`` is not installed:
  ``apt-get install graphviz``);

and prints each median, the ratio ours-svg/baseline and, at 1,000 packages, the layout's
ratio to the 5 s budget the old test asserted.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from generate import generate  # noqa: E402

BUDGET = {1000: 5.0}  # seconds: what test_thousand_packages_are_fast used to assert


def _median_seconds(work: Callable[[], object], runs: int) -> float:
    times = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(runs):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(times)


def _dot_seconds(dot: str, source: str, runs: int, timeout: float) -> float:
    """Median of *runs* ``dot -Tsvg`` processes; one run when it takes over 10 s (dot's time is
    not noise at that scale); ``inf`` past *timeout*."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [dot, "-Tsvg"], input=source, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return float("inf")
        if done.returncode != 0:
            raise SystemExit(f"dot -Tsvg failed ({done.returncode}): {done.stderr[-2000:]}")
        times.append(time.perf_counter() - started)
        if times[-1] > 10:
            break
    return statistics.median(times)


def measure(
    size: int, runs: int, seed: int, dot: str | None, dot_timeout: float
) -> dict[str, float | None]:
    from monorepo_tools import graph_view, load_config, load_workspace, render_graph
    from monorepo_tools.render.layout import layout_graph

    with tempfile.TemporaryDirectory(prefix="bench-layout-") as tmp:
        root = Path(tmp) / "monorepo"
        generate(root, size, seed=seed)
        view = graph_view(load_workspace(load_config(root), use_cache=False))

    layout = layout_graph(view)  # once before timing: imports, and a sanity check
    if len(layout.boxes) != len(view.nodes):
        raise SystemExit(f"layout_graph placed {len(layout.boxes)} of {len(view.nodes)} packages")
    return {
        "packages": float(len(view.nodes)),
        "edges": float(len(view.edges)),
        "layout": _median_seconds(lambda: layout_graph(view), runs),
        "svg": _median_seconds(lambda: render_graph(view, "svg"), runs),
        "baseline": (
            _dot_seconds(dot, render_graph(view, "dot"), runs, dot_timeout) if dot else None
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--dot-timeout", type=float, default=300, help="seconds before dot counts as '> N s'"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a size with a budget exceeds it"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    dot = shutil.which("dot")
    print(f"median of {args.runs}; baseline: Graphviz {'dot -Tsvg' if dot else '(not installed)'}")
    print(
        f"{'packages':>8} {'edges':>6} {'layout s':>9} {'ours svg s':>10} {'dot -Tsvg s':>11} "
        f"{'ours/dot':>8} {'layout/budget':>16}"
    )
    over = []
    for size in args.sizes:
        result = measure(size, args.runs, args.seed, dot, args.dot_timeout)
        layout, svg, baseline = result["layout"], result["svg"], result["baseline"]
        assert layout is not None and svg is not None
        budget = BUDGET.get(size)
        budget_text = f"{layout / budget:.3f}x of {budget:g} s" if budget else "-"
        if budget and layout > budget:
            over.append(size)
        if baseline is None:
            baseline_text, ratio_text = f"{'-':>11}", f"{'-':>8}"
        elif baseline == float("inf"):
            too_long = f"> {args.dot_timeout:g}"
            baseline_text, ratio_text = f"{too_long:>11}", f"{'< ' + format(svg / args.dot_timeout, '.3f'):>7}x"
        else:
            baseline_text, ratio_text = f"{baseline:>11.3f}", f"{svg / baseline:>7.3f}x"
        print(
            f"{int(result['packages'] or 0):>8} {int(result['edges'] or 0):>6} {layout:>9.3f} "
            f"{svg:>10.3f} {baseline_text} {ratio_text} {budget_text:>16}",
            flush=True,
        )
    if args.check and over:
        print(f"over budget: {', '.join(map(str, over))} packages", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
