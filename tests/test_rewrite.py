"""Requirement pinning and pyproject rewriting (tomlkit keeps comments and layout)."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.requirements import Requirement

from monorepo_tools.errors import PublishError
from monorepo_tools.requirements import parse_requirement
from monorepo_tools.snapshot.plan import pin
from monorepo_tools.snapshot.rewrite import rewrite_pyproject

PYPROJECT = """\
# top comment
[project]
name = "gamma"
version = "2.0.0rc1"   # the base version
dependencies = [
  # the chain
  "beta[fast] @ {root:parent:uri}/beta ; python_version >= '3.8'",
  "Alpha>=1.0",
  "requests>=2",
]

[project.optional-dependencies]
extra = ["alpha @ file:../alpha"]

[dependency-groups]
dev = ["alpha @ file:../alpha", "pytest"]
"""


def test_rewrite_keeps_comments_layout_and_untouched_requirements() -> None:
    rewrites = {
        "beta[fast] @ {root:parent:uri}/beta ; python_version >= '3.8'": 'beta[fast]==0.2.0.dev7; python_version >= "3.8"',
        "Alpha>=1.0": "alpha==1.0.0.dev7",
        "alpha @ file:../alpha": "alpha==1.0.0.dev7",
    }
    out = rewrite_pyproject(PYPROJECT, "2.0.0.dev7", rewrites)
    data = tomllib.loads(out)
    assert data["project"]["version"] == "2.0.0.dev7"
    assert data["project"]["dependencies"] == [
        'beta[fast]==0.2.0.dev7; python_version >= "3.8"',
        "alpha==1.0.0.dev7",
        "requests>=2",
    ]
    assert data["project"]["optional-dependencies"]["extra"] == ["alpha==1.0.0.dev7"]
    # Dev groups are not published metadata: never rewritten.
    assert data["dependency-groups"]["dev"] == ["alpha @ file:../alpha", "pytest"]
    assert "# top comment" in out and "# the base version" in out and "# the chain" in out
    # Lines that were not rewritten are byte-identical.
    for line in ('name = "gamma"', '  "requests>=2",', "[dependency-groups]"):
        assert line in out.splitlines()


def test_rewrite_refuses_when_the_plan_and_the_file_disagree() -> None:
    with pytest.raises(PublishError, match="could not find the requirement"):
        rewrite_pyproject(PYPROJECT, "1.0.dev1", {"nope @ file:../nope": "nope==1.0.dev1"})


def test_rewrite_refuses_a_file_without_project_table() -> None:
    with pytest.raises(PublishError, match=r"no \[project\] table"):
        rewrite_pyproject("[tool.x]\na = 1\n", "1.0.dev1", {})


names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}([-_.][A-Za-z0-9]{1,4}){0,2}", fullmatch=True)
extras = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,4}", fullmatch=True), max_size=3, unique=True)
markers = st.sampled_from(
    [
        None,
        'python_version >= "3.8"',
        'sys_platform == "linux" and os_name == "posix"',
        "extra == 'x'",
    ]
)
spellings = st.sampled_from(["plain", "spec", "file", "hatch", "pdm"])


@given(names, extras, markers, spellings)
def test_pin_keeps_extras_and_markers_and_drops_the_location(
    name: str, extra: list[str], marker: str | None, spelling: str
) -> None:
    head = name + (f"[{','.join(extra)}]" if extra else "")
    location = {
        "plain": "",
        "spec": ">=0.1",
        "file": " @ file:../x",
        "hatch": " @ {root:parent:uri}/x",
        "pdm": " @ file:///${PROJECT_ROOT}/../x",
    }[spelling]
    raw = head + location + (f" ; {marker}" if marker else "")
    parsed = parse_requirement(raw, "/m/packages/a")
    assert parsed.error is None, parsed.error
    pinned = Requirement(pin(parsed, parsed.name or "", "1.0.dev3"))
    assert pinned.url is None
    assert str(pinned.specifier) == "==1.0.dev3"
    assert pinned.extras == set(e.lower() for e in extra) or pinned.extras == set(extra)
    expected_marker = Requirement("x; " + marker).marker if marker else None
    assert str(pinned.marker) == str(expected_marker) if marker else pinned.marker is None


def test_rewrite_handles_project_subtables_written_after_other_tables() -> None:
    text = """[project]
name = "beta"
version = "0.2.0"
dependencies = ["alpha @ file:../alpha"]

[tool.monorepo]
status = "supported"

[project.optional-dependencies]
fast = ["alpha[x] @ file:../alpha"]
"""
    out = rewrite_pyproject(
        text,
        "0.2.0.dev1",
        {
            "alpha @ file:../alpha": "alpha==1.0.dev1",
            "alpha[x] @ file:../alpha": "alpha[x]==1.0.dev1",
        },
    )
    data = tomllib.loads(out)
    assert data["project"]["version"] == "0.2.0.dev1"
    assert data["project"]["dependencies"] == ["alpha==1.0.dev1"]
    assert data["project"]["optional-dependencies"]["fast"] == ["alpha[x]==1.0.dev1"]
    assert data["tool"]["monorepo"]["status"] == "supported"
