"""Render the SVG and HTML graph views and screenshot them with headless Chromium.

Run from the repository root::

    python benchmarks/render_screenshots.py [OUT_DIR]

It builds the views of (a) this repository's demo packages, (b) a seeded synthetic 60-package
view and (c) 300- and 1,000-package repositories written by ``generate.py`` (with ``check``'s
findings, so blocked packages and the findings list show), writes ``*.svg`` / ``*.html`` into
OUT_DIR (a fresh temporary folder by default) and, when a ``chromium`` binary is on PATH, a PNG
of each (the HTML also once with ``?highlight=<name>``, which pins that package's highlight on
load). It prints every path it wrote. Nothing here touches the network: Chromium runs with its
background networking switched off and only opens ``file://`` URLs. The test suite's own
screenshots (``tests/render/test_browser.py``) go to ``.monorepo/test-artifacts/graph/``.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from chromium import ARGS, chromium_executable

from monorepo_tools.render.html import render_html
from monorepo_tools.render.layout import layout_graph
from monorepo_tools.render.model import GraphEdge, GraphNode, GraphView
from monorepo_tools.render.svg import render_svg

PUBLISHABLE = {"stable", "supported", "incubator"}


def _view(nodes: list[GraphNode], edges: list[GraphEdge], title: str) -> GraphView:
    nodes.sort(key=lambda node: (node.level, node.name))
    edges.sort(key=lambda edge: (edge.source, edge.target, edge.kind, edge.extra or ""))
    top = max(node.level for node in nodes)
    levels = tuple(
        tuple(node.name for node in nodes if node.level == level) for level in range(top + 1)
    )
    return GraphView(nodes=tuple(nodes), edges=tuple(edges), levels=levels, title=title)


def demo_view() -> GraphView:
    """The five packages under ``packages/`` of this repository."""

    def node(name: str, status: str, level: int) -> GraphNode:
        return GraphNode(
            name=name,
            version="0.1.0",
            status=status,
            publishable=status in PUBLISHABLE,
            path=f"packages/{name}",
            level=level,
        )

    nodes = [
        node("normalized-events", "stable", 0),
        node("runner-core", "supported", 1),
        node("reporter", "supported", 1),
        node("agent-adapters", "incubator", 2),
        node("sandbox-runner", "internal", 2),
    ]
    edges = [
        GraphEdge("runner-core", "normalized-events", "runtime"),
        GraphEdge("reporter", "normalized-events", "runtime"),
        GraphEdge("agent-adapters", "runner-core", "runtime"),
        GraphEdge("agent-adapters", "normalized-events", "runtime"),
        GraphEdge("agent-adapters", "sandbox-runner", "dev", extra="test"),
        GraphEdge("sandbox-runner", "runner-core", "runtime"),
    ]
    return _view(nodes, edges, "demo monorepo")


_WORDS = [
    "auth",
    "billing",
    "cache",
    "config",
    "core",
    "crawler",
    "events",
    "export",
    "feature",
    "gateway",
    "graph",
    "ingest",
    "jobs",
    "ledger",
    "logging",
    "metrics",
    "models",
    "notify",
    "orders",
    "parser",
    "payments",
    "policy",
    "queue",
    "reports",
    "scheduler",
    "search",
    "schema",
    "session",
    "storage",
    "stream",
    "telemetry",
    "tokens",
    "users",
    "vault",
    "webhooks",
    "workflow",
]
_SUFFIXES = ("", "-api", "-client", "-sdk", "-utils", ".plugins", "-worker", "-testing")


def synthetic_view(count: int = 60, seed: int = 7) -> GraphView:
    """``count`` packages in levels, 3-6 dependencies each on lower levels, ~70% publishable.

    Publishable packages depend only on publishable ones except for two deliberate violations;
    a few dev and optional edges are sprinkled in.
    """
    rng = random.Random(seed)
    shares = (0.18, 0.22, 0.2, 0.16, 0.12, 0.08, 0.04)
    sizes = [max(1, round(count * share)) for share in shares]
    sizes[1] += count - sum(sizes)
    names: set[str] = set()
    while len(names) < count:
        name = rng.choice(_WORDS) + rng.choice(_SUFFIXES)
        if name in names and len(names) >= 200:  # the word list gives ~290 names at most
            name = f"{name}-{len(names)}"
        names.add(name)
    pool = sorted(names)
    rng.shuffle(pool)

    by_level: list[list[str]] = []
    status: dict[str, str] = {}
    start = 0
    for size in sizes:
        by_level.append(pool[start : start + size])
        start += size
    for level_names in by_level:
        for name in level_names:
            status[name] = rng.choices(
                ("stable", "supported", "incubator", "internal"), (3, 3, 1, 3)
            )[0]

    edges: list[GraphEdge] = []
    violations_left = 2
    for level in range(1, len(by_level)):
        lower = [name for names_ in by_level[:level] for name in names_]
        for name in by_level[level]:
            publishable = status[name] in PUBLISHABLE
            allowed = [dep for dep in lower if not publishable or status[dep] in PUBLISHABLE]
            previous = [dep for dep in by_level[level - 1] if dep in allowed]
            if not previous:  # keep the level honest: one dependency on the level below
                previous = by_level[level - 1]
            want = rng.randint(3, 6)
            deps = {rng.choice(previous)}
            while len(deps) < min(want, len(allowed)):
                deps.add(rng.choice(allowed))
            for dep in sorted(deps):
                violating = publishable and status[dep] not in PUBLISHABLE
                kind, extra = "runtime", None
                if rng.random() < 0.06 and not violating:
                    kind, extra = "optional", rng.choice(("cli", "fast", "s3", "viz"))
                edges.append(GraphEdge(name, dep, kind, extra, violating))
            if publishable and violations_left and level >= 2 and rng.random() < 0.3:
                internal = [dep for dep in lower if status[dep] == "internal" and dep not in deps]
                if internal:
                    edges.append(GraphEdge(name, rng.choice(internal), "runtime", None, True))
                    violations_left -= 1
    test_helpers = [name for name in by_level[0] if status[name] == "internal"][:1]
    for name in rng.sample(pool, 8):
        for helper in test_helpers:
            if helper != name:
                edges.append(GraphEdge(name, helper, "dev", "test"))

    level_of = {name: level for level, level_names in enumerate(by_level) for name in level_names}
    nodes = [
        GraphNode(
            name=name,
            version=f"{rng.randint(0, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
            status=status[name],
            publishable=status[name] in PUBLISHABLE,
            path=f"packages/{name}",
            level=level_of[name],
        )
        for name in pool
    ]
    return _view(nodes, edges, f"synthetic monorepo ({count} packages)")


def screenshot(url: str, png: Path, size: str = "1600,1000") -> None:
    chromium = chromium_executable()
    if chromium is None:
        print("chromium not found: skipping", png.name)
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *ARGS,
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={size}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(png)


def generated_view(count: int, base: Path) -> GraphView:
    """The view ``graph --format html`` draws for a ``generate.py`` repository of *count*."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import generate

    from monorepo_tools.commands.graph import graph_view
    from monorepo_tools.config import load_config
    from monorepo_tools.workspace import load_workspace

    root = base / f"repo{count}"
    if not (root / "pyproject.toml").exists():
        generate(root, count)
    return graph_view(load_workspace(load_config(root, []), use_cache=False), findings=True)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="render-"))
    out.mkdir(parents=True, exist_ok=True)
    views = {"demo": (demo_view(), "agent-adapters"), "synthetic60": (synthetic_view(), "")}
    for count in (300, 1000):
        views[f"repo{count}"] = (generated_view(count, out), "")
    for stem, (view, focus) in views.items():
        started = time.perf_counter()
        layout = layout_graph(view)
        elapsed = time.perf_counter() - started
        print(f"{stem}: layout {elapsed * 1000:.1f} ms, {layout.width:.0f}x{layout.height:.0f}")
        svg_path, html_path = out / f"{stem}.svg", out / f"{stem}.html"
        svg_path.write_text(render_svg(view, layout), encoding="utf-8")
        html_path.write_text(render_html(view), encoding="utf-8")
        print(svg_path)
        print(html_path)
        screenshot(svg_path.as_uri(), out / f"{stem}-svg.png")
        screenshot(html_path.as_uri(), out / f"{stem}-html.png")
        if not focus:
            # The busiest package of the middle level: its highlight shows both directions.
            middle = view.levels[len(view.levels) // 2]
            focus = max(
                middle,
                key=lambda name: sum(name in (e.source, e.target) for e in view.edges),
            )
        screenshot(f"{html_path.as_uri()}?highlight={focus}", out / f"{stem}-html-highlight.png")


if __name__ == "__main__":
    main()
