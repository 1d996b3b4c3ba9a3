"""The shape of the fast paths, without a single timing assertion.

Timings belong to ``benchmarks/`` (numbers in ``benchmarks/README.md``); these tests pin what
makes them possible and must never be lost to a refactoring:

* the graph passes are linear: ``transitive_dependents`` on a 2,000-package chain (where a
  per-node descendants query would be quadratic) returns exact counts in one pass;
* a generated repository gives the same findings with and without the caches;
* every fast path returns exactly what the slow one would: the fast TOML parser (rtoml) against
  ``tomllib``, the ``name @ URL`` requirement fast path against ``packaging``;
* equal requirement values are shared, so the cache stores (and loads) each once.
"""

from __future__ import annotations

import os
import re
import sys
import time
import tomllib
from pathlib import Path

import pytest
from engine_helpers import FIXTURES, REPO
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monorepo_tools import requirements as req_module
from monorepo_tools.config import Config, load_config
from monorepo_tools.graph import build_graph
from monorepo_tools.rules import Finding, check_workspace
from monorepo_tools.workspace import Dependency, EdgeKind, Package, build_workspace, load_workspace
from monorepo_tools.workspace import cache as ws_module
from monorepo_tools.workspace.readers import toml as toml_module

sys.path.insert(0, str(REPO / "benchmarks"))
from generate import generate


def _chain(tmp_path: Path, size: int, cycle_at_end: bool = False) -> tuple[Config, list[Package]]:
    """pkg-0 <- pkg-1 <- ... <- pkg-(size-1): each package depends on the previous one."""
    config = Config(tmp_path, ("packages/*",), "test")
    packages = []
    for i in range(size):
        deps = []
        if i > 0:
            deps.append(f"pkg-{i - 1}")
        if cycle_at_end and i == 0:
            deps.append(f"pkg-{size - 1}")
        dependencies = tuple(
            Dependency(
                req_module.parse_requirement(d, str(tmp_path)),
                EdgeKind.RUNTIME,
                None,
                "project.dependencies",
            )
            for d in deps
        )
        packages.append(
            Package(
                f"pkg-{i}", f"packages/pkg-{i}", f"pkg-{i}", "stable", True, "1.0", (), dependencies
            )
        )
    return config, packages


def test_transitive_dependents_of_a_long_chain_in_one_pass(tmp_path: Path) -> None:
    size = 2000
    config, packages = _chain(tmp_path, size)
    workspace = build_workspace(config, packages)
    graph = build_graph(workspace)
    assert len(graph.levels) == size  # one package per level: the topological pass is deep
    names = list(workspace.packages)
    result = graph.transitive_dependents(names, names, limit=3)
    for i in range(size):
        count, shown = result[f"pkg-{i}"]
        assert count == size - 1 - i  # every later package depends on pkg-i, transitively
        assert len(shown) == min(3, count)
    assert graph.transitive_dependents(["pkg-0"], names)["pkg-0"][0] == size - 1
    everyone = graph.transitive_dependents(["pkg-0"], names, limit=None)["pkg-0"][1]
    assert everyone == sorted(f"pkg-{i}" for i in range(1, size))


def test_transitive_dependents_through_a_cycle(tmp_path: Path) -> None:
    """With a cycle the pass runs on the condensation: still one pass, still exact."""
    size = 500
    config, packages = _chain(tmp_path, size, cycle_at_end=True)
    graph = build_graph(build_workspace(config, packages))
    assert len(graph.components) == 1 and len(graph.components[0]) == size
    names = [f"pkg-{i}" for i in range(size)]
    result = graph.transitive_dependents(names, names, limit=2)
    assert {count for count, _ in result.values()} == {size - 1}


def test_a_generated_repo_has_the_same_findings_cold_and_warm(tmp_path: Path) -> None:
    repo = generate(tmp_path / "gen", 300, seed=11)
    past = time.time_ns() - 30 * 10**9
    for file in repo.root.rglob("pyproject.toml"):
        os.utime(file, ns=(past, past))
    config = load_config(repo.root)

    def findings(use_cache: bool) -> list[Finding]:
        workspace = load_workspace(config, use_cache=use_cache)
        return list(check_workspace(workspace, build_graph(workspace)))

    reference = findings(False)
    assert sum(1 for f in reference if f.code == "internal-dependency") == repo.violations
    assert findings(True) == reference  # cold: writes the cache
    assert findings(True) == reference  # warm: reads it
    assert (
        len(ws_module._load_cache(ws_module._cache_path(config), str(config.root)).entries) == 300
    )


def test_equal_requirements_are_one_object(tmp_path: Path) -> None:
    repo = generate(tmp_path / "gen", 200, seed=13)
    workspace = load_workspace(load_config(repo.root), use_cache=False)
    deps = [d for p in workspace.packages.values() for d in p.dependencies]
    by_value = {d.requirement for d in deps}
    assert len({id(d.requirement) for d in deps}) == len(by_value) < len(deps) / 2
    assert len({id(d) for d in deps}) == len(set(deps))


def test_cache_segments_are_bounded(tmp_path: Path) -> None:
    """The cache is written in segments of at most _SEGMENT_ROWS packages: a one-file edit
    re-encodes one segment, not the whole repository (see test_cache)."""
    root = generate(tmp_path / "gen", 120, seed=17).root
    config = load_config(root)
    load_workspace(config)
    loaded = ws_module._load_cache(ws_module._cache_path(config), str(config.root))
    assert len(loaded.entries) == 120
    assert all(len(s.rows) <= ws_module._SEGMENT_ROWS for s in loaded.segments)


# ---------------------------------------------------------------------------------------------
# the fast TOML parser (rtoml) agrees with tomllib


def _toml_files() -> list[Path]:
    return sorted(
        {
            *FIXTURES.rglob("pyproject.toml"),
            *REPO.glob("packages/*/pyproject.toml"),
            REPO / "pyproject.toml",
        }
    )


@pytest.mark.parametrize("file", _toml_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_fast_toml_matches_tomllib_on_real_files(file: Path) -> None:
    text = file.read_text(encoding="utf-8", errors="replace")
    plain = toml_module.fast_loads(text)
    if plain is not None:
        assert plain == tomllib.loads(text)


def test_fast_toml_reads_generated_pyprojects(tmp_path: Path) -> None:
    """Not vacuous: the files the benchmarks time are all read by the fast path."""
    root = generate(tmp_path / "gen", 50, seed=19).root
    for file in root.rglob("pyproject.toml"):
        text = file.read_text(encoding="utf-8")
        assert toml_module.fast_loads(text) == tomllib.loads(text)


_KEYS = st.sampled_from(["a", "b", "name", "project", "tool", "x-y", "x_y", "1", "true", "dev"])
_CHARS = st.text(
    alphabet=st.sampled_from(list("ab #=[]{},.'\"\\\t\n\r-_1ü\x00\x7f\x1f")), max_size=8
)
_SCALAR = st.one_of(
    _CHARS.map(lambda s: f'"{s}"'),
    _CHARS.map(lambda s: f"'{s}'"),
    st.sampled_from(
        [
            "true",
            "false",
            "0",
            "-0",
            "01",
            "+1",
            "1_0",
            "1.5",
            "-7",
            "12",
            "tru",
            "nan",
            "1979-05-27",
        ]
    ),
    _CHARS,
)
_ARRAY = st.lists(
    st.tuples(_SCALAR, st.sampled_from([",", ", ", ",\n", "\n,", " ", ",#c\n", "", ",,"])),
    max_size=4,
).map(lambda items: "[" + "".join(v + sep for v, sep in items) + "]")
_LINE = st.one_of(
    st.tuples(
        _KEYS, st.sampled_from(["=", " = ", "\t=\t", " =", "= "]), st.one_of(_SCALAR, _ARRAY)
    ).map("".join),
    st.lists(_KEYS, min_size=1, max_size=3).map(lambda ks: "[" + ".".join(ks) + "]"),
    st.lists(_KEYS, min_size=1, max_size=3).map(lambda ks: "[ " + " . ".join(ks) + " ]"),
    st.lists(_KEYS, min_size=1, max_size=2).map(lambda ks: "[[" + ".".join(ks) + "]]"),
    st.sampled_from(
        ["", "# comment", "   ", "\t# x", "a.b = 1", '"q" = 1', "a = {b = 1}", "a = 1 # c"]
    ),
    _CHARS,
)
_DOCUMENT = st.tuples(
    st.lists(_LINE, max_size=12), st.sampled_from(["\n", "\r\n", "\n\n"]), st.booleans()
).map(lambda t: t[1].join(t[0]) + (t[1] if t[2] else ""))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENT)
@example('[a]\nb = "x"\n[a.c]\nd = [\n  "1",\n  \'2\',\n]\n')
@example("[a.b]\n[a]\nb = 1\n")
@example("[a]\n[a]\n")
@example("a = 1\n[a]\n")
@example("a = [ , ]\n")
@example("a='''\r\na=\"\"\r\na='''")  # CRLF inside a multi-line string: tomllib reads LF
def test_fast_toml_never_disagrees_with_tomllib(document: str) -> None:
    plain = toml_module.fast_loads(document)
    if plain is None:
        return  # tomllib decides (and reports every error)
    assert _same(plain) == _same(tomllib.loads(document))  # and tomllib must accept it


def _same(value: object) -> object:
    """Comparable: NaN equals NaN, datetimes by their ISO text (rtoml's tzinfo is its own)."""
    if isinstance(value, dict):
        return {k: _same(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_same(v) for v in value]
    if isinstance(value, float) and value != value:
        return "nan"
    if hasattr(value, "isoformat"):
        return (type(value).__name__, value.isoformat())  # type: ignore[union-attr]
    return value


# ---------------------------------------------------------------------------------------------
# the "name @ URL" requirement fast path agrees with packaging


_NAME = st.text(alphabet=st.sampled_from(list("aZ0._-")), min_size=1, max_size=6)
_URL = st.one_of(
    st.sampled_from(
        [
            "file:../x",
            "{root:uri}/../x",
            "{root:parent:uri}/x",
            "file:///${PROJECT_ROOT}/../x",
            "file:///abs/x/",
            "git+https://h/x.git@v1",
            "file://server/s",
            "https://h/x.whl#sha256=1",
        ]
    ),
    st.text(alphabet=st.sampled_from(list("ab:/.%20;#@ \t{}$ü")), min_size=0, max_size=10),
)
_SPACE = st.sampled_from(["", " ", "\t", "  ", "\n"])


@settings(max_examples=1500, deadline=None)
@given(
    _NAME,
    _SPACE,
    _SPACE,
    _URL,
    st.sampled_from(["", " ", " ; python_version > '3'", ";x", "\n"]),
    st.sampled_from(["/m/packages/a", "/home/u@x/p q/a", "/m"]),
)
def test_url_fast_path_matches_packaging(
    name: str, before: str, after: str, url: str, tail: str, package_dir: str
) -> None:
    raw = f"{name}{before}@{after}{url}{tail}"
    fast = req_module.parse_requirement(raw, package_dir)
    slow_pattern = req_module._FAST_URL
    req_module._FAST_URL = re.compile(r"(?!)")  # never matches: the full parser only
    try:
        slow = req_module.parse_requirement(raw, package_dir)
    finally:
        req_module._FAST_URL = slow_pattern
    assert fast == slow
