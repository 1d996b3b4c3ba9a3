"""Snapshot ids (the spec's priority) and snapshot versions (PEP 440, properties)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from monorepo_tools.errors import ConfigError
from monorepo_tools.snapshot.versions import base_release, resolve_snapshot_id, snapshot_version


def clock() -> float:
    return 1_700_000_000.9


@pytest.mark.parametrize(
    ("cli", "env", "expected", "source"),
    [
        (
            "42",
            {"MONOREPO_SNAPSHOT_ID": "7", "GITHUB_RUN_ID": "5", "CI_PIPELINE_ID": "3"},
            42,
            "--snapshot-id",
        ),
        (
            None,
            {"MONOREPO_SNAPSHOT_ID": "7", "GITHUB_RUN_ID": "5", "CI_PIPELINE_ID": "3"},
            7,
            "MONOREPO_SNAPSHOT_ID",
        ),
        (
            None,
            {"GITHUB_RUN_ID": "5", "GITHUB_RUN_ATTEMPT": "3", "CI_PIPELINE_ID": "3"},
            503,
            "GITHUB_RUN_ID * 100 + GITHUB_RUN_ATTEMPT",
        ),
        (
            None,
            {"GITHUB_RUN_ID": "5", "CI_PIPELINE_ID": "3"},
            501,
            "GITHUB_RUN_ID * 100 + GITHUB_RUN_ATTEMPT",
        ),
        (None, {"CI_PIPELINE_ID": "3"}, 3, "CI_PIPELINE_ID"),
        (None, {}, 1_700_000_000, "time.time()"),
    ],
)
def test_snapshot_id_priority(
    cli: str | None, env: dict[str, str], expected: int, source: str
) -> None:
    result = resolve_snapshot_id(cli, env, clock)
    assert (result.value, result.source) == (expected, source)
    assert result.warnings == ()


def test_non_numeric_values_are_skipped_with_a_warning_naming_them() -> None:
    env = {"MONOREPO_SNAPSHOT_ID": "abc", "GITHUB_RUN_ID": "x1", "CI_PIPELINE_ID": "12"}
    result = resolve_snapshot_id(None, env, clock)
    assert (result.value, result.source) == (12, "CI_PIPELINE_ID")
    assert any("MONOREPO_SNAPSHOT_ID='abc'" in w for w in result.warnings)
    assert any("GITHUB_RUN_ID='x1'" in w for w in result.warnings)
    result = resolve_snapshot_id(None, {"CI_PIPELINE_ID": "main"}, clock)
    assert result.source == "time.time()"
    assert "CI_PIPELINE_ID='main'" in result.warnings[0]


def test_bad_cli_snapshot_id_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="--snapshot-id 'x'"):
        resolve_snapshot_id("x", {}, clock)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("0.1.0", "0.1.0.dev9"),
        ("1.2.0rc1", "1.2.0.dev9"),
        ("2!0.1.0", "2!0.1.0.dev9"),
        ("1.0.post3", "1.0.dev9"),
        ("1.0+local.7", "1.0.dev9"),
        ("1.0.0.dev3", "1.0.0.dev9"),
        ("v1.4", "1.4.dev9"),
    ],
)
def test_snapshot_version(base: str, expected: str) -> None:
    assert snapshot_version(base, 9) == expected


def test_invalid_base_version_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not a PEP 440 version"):
        snapshot_version("one point oh", 1)


versions = st.builds(
    lambda epoch, release, pre, post, local: (
        (f"{epoch}!" if epoch else "")
        + ".".join(map(str, release))
        + (f"{pre[0]}{pre[1]}" if pre else "")
        + (f".post{post}" if post is not None else "")
        + (f"+{local}" if local else "")
    ),
    st.integers(0, 3),
    st.lists(st.integers(0, 50), min_size=1, max_size=4),
    st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 9)),
    st.none() | st.integers(0, 9),
    st.none() | st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True),
)


@given(versions, st.integers(0, 10**15))
def test_snapshot_versions_are_dev_releases_of_the_base_release(
    base: str, snapshot_id: int
) -> None:
    result = Version(snapshot_version(base, snapshot_id))
    parsed = Version(base)
    assert result.is_devrelease and result.dev == snapshot_id
    assert (result.epoch, result.release) == (parsed.epoch, parsed.release)
    assert result.local is None and result.pre is None and result.post is None
    # It sorts before the release it leads to, and before that release's pre-releases.
    assert result < Version(base_release(base))
    assert result < Version(base_release(base) + "a0")


@given(versions, st.integers(0, 10**12), st.integers(1, 10**6))
def test_a_later_snapshot_sorts_after_an_earlier_one(
    base: str, snapshot_id: int, step: int
) -> None:
    assert Version(snapshot_version(base, snapshot_id)) < Version(
        snapshot_version(base, snapshot_id + step)
    )
