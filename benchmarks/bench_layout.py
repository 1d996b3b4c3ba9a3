"""Time ``layout_graph`` (the svg/html views' layout) on synthetic monorepos, in one process.

This replaces the wall-clock assertion that ``tests/render/test_layout.py`` used to make (a
1,000-package layout in under 5 s): timing belongs in benchmarks, the test keeps checking the
layout itself. Run from the repository root::

    python benchmarks/bench_layout.py                   # 200, 1,000 and 2,000 packages
    python benchmarks/bench_layout.py --sizes 1000 --runs 5
    python benchmarks/bench_layout.py --check           # exit 1 if 1,000 packages take > 5 s

For each size it generates a synthetic monorepo (``benchmarks/generate.py``, seeded), reads it
with the tool (``load_workspace`` without cache, ``graph_view``: the view ``monorepo graph
--format svg`` lays out), then times, side by side on the same view and the same process
(cyclic GC off, median of ``--runs``):

* **ours**: ``monorepo_tools.render.layout.layout_graph`` (level bands, crossing reduction,
  row wrapping, edge routing around boxes);
* **baseline**: ``networkx.multipartite_layout`` of the same graph by level: node positions
  only, no crossing reduction and no edge routing, so it is the floor of "put the levels in
  rows", not an equivalent;

and prints each median, the ratio ours/baseline and, at 1,000 packages, the ratio to the 5 s
budget the old test asserted.
"""

from __future__ import annotations

import argparse
import gc
import statistics
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


def measure(size: int, runs: int, seed: int) -> dict[str, float]:
    import networkx as nx

    from monorepo_tools import graph_view, load_config, load_workspace
    from monorepo_tools.render.layout import layout_graph

    with tempfile.TemporaryDirectory(prefix="bench-layout-") as tmp:
        root = Path(tmp) / "monorepo"
        generate(root, size, seed=seed)
        view = graph_view(load_workspace(load_config(root), use_cache=False))

    graph: nx.DiGraph[str] = nx.DiGraph()
    for node in view.nodes:
        graph.add_node(node.name, level=max(node.level, 0))
    graph.add_edges_from((edge.source, edge.target) for edge in view.edges)

    layout = layout_graph(view)  # once before timing: imports, and a sanity check
    if len(layout.boxes) != len(view.nodes):
        raise SystemExit(f"layout_graph placed {len(layout.boxes)} of {len(view.nodes)} packages")
    return {
        "packages": float(len(view.nodes)),
        "edges": float(len(view.edges)),
        "ours": _median_seconds(lambda: layout_graph(view), runs),
        "baseline": _median_seconds(lambda: nx.multipartite_layout(graph, "level"), runs),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 2000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a size with a budget exceeds it"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    print(f"layout_graph vs networkx.multipartite_layout, median of {args.runs}, GC off")
    print(f"{'packages':>8} {'edges':>6} {'ours s':>8} {'baseline s':>10} {'ratio':>7} {'budget':>14}")
    over = []
    for size in args.sizes:
        result = measure(size, args.runs, args.seed)
        budget = BUDGET.get(size)
        budget_text = f"{result['ours'] / budget:.3f}x of {budget:g} s" if budget else "-"
        if budget and result["ours"] > budget:
            over.append(size)
        print(
            f"{int(result['packages']):>8} {int(result['edges']):>6} {result['ours']:>8.3f} "
            f"{result['baseline']:>10.3f} {result['ours'] / result['baseline']:>6.1f}x "
            f"{budget_text:>14}",
            flush=True,
        )
    if args.check and over:
        print(f"over budget: {', '.join(map(str, over))} packages", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
