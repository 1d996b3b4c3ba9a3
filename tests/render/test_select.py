"""``focus_view``, ``reduce_view`` and ``graph --focus/--depth/--reduce`` in every format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import pyproject, write_monorepo

from monorepo_tools.render.model import GraphEdge, GraphView
from monorepo_tools.render.select import FocusError, focus_view, reduce_view

ViewBuilder = Callable[..., GraphView]
Cli = Callable[..., Any]


def _chain(make_view: ViewBuilder) -> GraphView:
    """top -> mid -> base, top -> base (implied), side -> base, mid -dev-> tool, app -> top."""
    return make_view(
        [
            ("base", "stable", 0),
            ("tool", "internal", 0),
            ("mid", "stable", 1),
            ("side", "stable", 1),
            ("top", "stable", 2),
            ("app", "stable", 3),
        ],
        [
            ("mid", "base"),
            ("side", "base"),
            ("top", "mid"),
            ("top", "base"),
            ("mid", "tool", "dev"),
            ("app", "top"),
        ],
    )


def _names(view: GraphView) -> set[str]:
    return {node.name for node in view.nodes}


def test_focus_depth_goes_both_ways_without_siblings(make_view: ViewBuilder) -> None:
    view = _chain(make_view)
    one = focus_view(view, "mid", 1)
    # mid's dependencies (base, tool) and dependents (top); side only shares base: left out.
    assert _names(one) == {"mid", "base", "tool", "top"}
    assert one.focus == ("mid", 1)
    assert all(e.source in _names(one) and e.target in _names(one) for e in one.edges)
    assert ("top", "base") in {(e.source, e.target) for e in one.edges}
    assert _names(focus_view(view, "mid", 2)) == {"mid", "base", "tool", "top", "app"}
    assert _names(focus_view(view, "mid", 0)) == {"mid"}
    # Level numbers keep their meaning: levels[i] still holds level-i packages.
    assert one.levels[3] == () and one.levels[2] == ("top",)


def test_focus_accepts_unnormalized_names_and_explains_unknown_ones(
    make_view: ViewBuilder,
) -> None:
    view = make_view([("runner-core", "stable", 0), ("reporter", "stable", 0)])
    assert focus_view(view, "Runner_Core", 1).focus == ("runner-core", 1)
    with pytest.raises(
        FocusError, match=r"no package named 'runer-core'.*did you mean runner-core"
    ):
        focus_view(view, "runer-core", 1)
    with pytest.raises(FocusError, match="--depth must be 0 or more"):
        focus_view(view, "reporter", -1)


def test_reduce_drops_implied_edges_only(make_view: ViewBuilder) -> None:
    view = _chain(make_view)
    reduced = reduce_view(view)
    pairs = {(e.source, e.target, e.kind) for e in reduced.edges}
    assert ("top", "base", "runtime") not in pairs  # implied by top -> mid -> base
    assert ("mid", "tool", "dev") in pairs  # dev edges stay
    assert len(pairs) == len(view.edges) - 1
    assert reduced.reduced


def test_reduce_keeps_violations_and_survives_cycles(make_view: ViewBuilder) -> None:
    view = make_view(
        [("a", "stable", 0), ("b", "stable", 0), ("c", "stable", 0), ("x", "internal", 0)],
        [
            ("a", "b"),
            ("b", "a"),  # a cycle
            ("b", "c"),
            GraphEdge("a", "c", "runtime"),  # a -> c and b -> c: the same step out of the cycle
            ("c", "x"),
            GraphEdge("a", "x", "runtime", violating=True),  # implied, but a violation
        ],
    )
    pairs = {(e.source, e.target) for e in reduce_view(view).edges}
    assert {("a", "b"), ("b", "a"), ("c", "x"), ("a", "x")} <= pairs
    # From the cycle {a, b} to c one edge is enough: the first by name.
    assert ("a", "c") in pairs and ("b", "c") not in pairs


# --------------------------------------------------------------------------- the CLI


def _repo(tmp_path: Path) -> Path:
    return write_monorepo(
        tmp_path / "repo",
        {
            "base": pyproject("base", "stable"),
            "helper": pyproject("helper"),  # internal
            "tool": pyproject("tool"),  # internal, nothing publishable needs it
            "mid": pyproject("mid", "stable", deps=["base"]),
            "side": pyproject("side", "stable", deps=["base"]),
            "top": pyproject("top", "supported", deps=["mid", "base", "helper"]),  # violation
            "app": pyproject("app", "incubator", deps=["top"]),
        },
    )


def _drawn(fmt: str, text: str) -> set[str]:
    """The package names a rendered graph shows."""
    if fmt == "json":
        return {node["name"] for node in json.loads(text)["nodes"]}
    if fmt == "text":
        return {line.split()[0] for line in text.splitlines() if line.startswith("  ")}
    if fmt == "dot":
        return set(re.findall(r'^  "([a-z-]+)" \[label=', text, re.MULTILINE))
    if fmt == "mermaid":
        return set(re.findall(r"<b>([a-z-]+)</b>", text))
    svg = text if fmt == "svg" else text[text.index("<svg") : text.index("</svg>") + 6]
    root = ET.fromstring(svg)
    return {
        g.get("data-name", "")
        for g in root.iter("{http://www.w3.org/2000/svg}g")
        if "node" in (g.get("class") or "").split()
    }


@pytest.mark.parametrize("fmt", ["text", "json", "dot", "mermaid", "svg", "html"])
def test_graph_focus_in_every_format(cli: Cli, tmp_path: Path, fmt: str) -> None:
    root = _repo(tmp_path)
    full = cli("graph", "--root", str(root), "--format", fmt)
    assert full.code == 0
    assert _drawn(fmt, full.out) == {"base", "helper", "tool", "mid", "side", "top", "app"}
    focused = cli("graph", "--root", str(root), "--format", fmt, "--focus", "mid")
    assert focused.code == 0, focused.err
    assert _drawn(fmt, focused.out) == {"mid", "base", "top"}
    deeper = cli("graph", "--root", str(root), "--format", fmt, "--focus", "MID", "--depth", "2")
    # top needs helper too, but that is top's neighbourhood, not mid's: left out.
    assert _drawn(fmt, deeper.out) == {"mid", "base", "top", "app"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--focus", "mdi"], "no package named 'mdi' in the graph; did you mean mid"),
        (["--focus", "mid", "--depth", "-2"], "--depth must be 0 or more"),
        (["--depth", "2"], "--depth needs --focus NAME"),
        (["--focus", "tool", "--publishable-only"], "drop --publishable-only to focus on it"),
    ],
)
def test_graph_focus_errors(cli: Cli, tmp_path: Path, args: list[str], message: str) -> None:
    result = cli("graph", "--root", str(_repo(tmp_path)), *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err and result.out == ""


def test_graph_reduce(cli: Cli, tmp_path: Path) -> None:
    root = _repo(tmp_path)
    full = json.loads(cli("graph", "--root", str(root), "--format", "json").out)
    reduced = json.loads(cli("graph", "--root", str(root), "--format", "json", "--reduce").out)
    pairs = {(e["from"], e["to"]) for e in reduced["edges"]}
    assert ("top", "base") not in pairs and ("top", "mid") in pairs
    assert ("top", "helper") in pairs  # the violation stays
    assert len(reduced["edges"]) == len(full["edges"]) - 1


def test_html_and_svg_counts_match_check(cli: Cli, tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "packages" / "broken").mkdir()
    (root / "packages" / "broken" / "pyproject.toml").write_text("[project\n", encoding="utf-8")
    check = json.loads(cli("check", "--root", str(root), "--format", "json").out)["summary"]
    assert check["findings"] >= 2  # the violation and the unreadable file
    expected = (
        f"{check['packages']} packages · {check['publishable']} publishable · "
        f"6 edges · 1 violation · {check['findings']} findings · 1 blocked"
    )
    svg = cli("graph", "--root", str(root), "--format", "svg").out
    page = cli("graph", "--root", str(root), "--format", "html").out
    assert expected in svg
    assert f'<span class="counts" id="counts">{expected}</span>' in page
    # app depends on top, which has the finding: app is blocked and marked so.
    assert re.search(r'<g class="node blocked" data-name="app"', svg)
    assert 'data-name="top"' in svg and 'data-findings="1"' in svg
