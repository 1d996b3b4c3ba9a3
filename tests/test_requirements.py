"""requirements.parse_requirement: names, extras, markers, every local-path notation, errors."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from monorepo_tools.requirements import (
    _FAST,
    expand_placeholders,
    local_path_of_url,
    parse_requirement,
)

PKG = "/m/packages/app"  # the folder of the package whose pyproject holds the requirement


# --------------------------------------------------------------------------------------------
# names, specifiers, extras, markers


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("runner-core", "runner-core"),
        ("Runner_Core", "runner-core"),
        ("runner.core", "runner-core"),
        ("RUNNER--__..core", "runner-core"),
        ("  runner-core  ", "runner-core"),
        ("runner_core>=0.1", "runner-core"),
        ("runner-core >= 0.1, <1", "runner-core"),
        ("runner-core==1.2.3", "runner-core"),
        ("runner-core~=1.2", "runner-core"),
        ("runner-core (>=1.0)", "runner-core"),
        ("a", "a"),
        ("A1", "a1"),
    ],
)
def test_name_is_normalized(raw: str, name: str) -> None:
    parsed = parse_requirement(raw, PKG)
    assert parsed.error is None
    assert parsed.name == name
    assert parsed.raw == raw  # kept as written, for messages and line lookups
    assert parsed.url is None and parsed.path is None


@pytest.mark.parametrize(
    ("raw", "specifier"),
    [
        ("runner-core", ""),
        ("runner_core>=0.1", ">=0.1"),
        ("runner-core >= 0.1, <1", "<1,>=0.1"),
        ("runner-core[cli]~=1.2; os_name == 'posix'", "~=1.2"),
    ],
)
def test_specifier_means_what_was_written(raw: str, specifier: str) -> None:
    assert SpecifierSet(parse_requirement(raw, PKG).specifier) == SpecifierSet(specifier)


def test_extras_and_marker() -> None:
    parsed = parse_requirement('Runner.Core[cli]>=0.1; python_version >= "3.11"', PKG)
    assert parsed.error is None
    assert parsed.name == "runner-core"
    assert parsed.extras == ("cli",)
    assert SpecifierSet(parsed.specifier) == SpecifierSet(">=0.1")
    assert parsed.marker == 'python_version >= "3.11"'


def test_extras_are_sorted_and_marker_normalized() -> None:
    parsed = parse_requirement("runner-core[tui, cli] ; python_version>='3.11'", PKG)
    assert parsed.extras == ("cli", "tui")
    assert parsed.marker == 'python_version >= "3.11"'
    assert parsed.specifier == ""


# --------------------------------------------------------------------------------------------
# local paths in every notation


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        # PEP 508 file URLs, absolute and relative to the package folder
        ("runner-core @ file:///m/packages/runner-core", "/m/packages/runner-core"),
        ("runner-core @ file:///m/packages/runner-core/", "/m/packages/runner-core"),
        ("runner-core @ file://localhost/m/packages/runner-core", "/m/packages/runner-core"),
        ("runner-core @ file:///m/my%20libs/runner-core", "/m/my libs/runner-core"),
        ("runner-core @ file:../runner-core", "/m/packages/runner-core"),
        ("runner-core @ file:./sub/../../runner-core", "/m/packages/runner-core"),
        ("runner-core @ file:../../vendor/runner-core", "/m/vendor/runner-core"),
        # PDM
        ("runner-core @ file:///${PROJECT_ROOT}/../runner-core", "/m/packages/runner-core"),
        ("runner-core @ file://${PROJECT_ROOT}/../runner-core", "/m/packages/runner-core"),
        # hatch context formatting
        ("runner-core @ {root:uri}/../runner-core", "/m/packages/runner-core"),
        ("runner-core @ {root:parent:uri}/runner-core", "/m/packages/runner-core"),
        ("runner-core @ {root:parent:parent:uri}/vendor/runner-core", "/m/vendor/runner-core"),
        # with extras and a marker
        (
            "Runner_Core[cli] @ file:../runner-core ; python_version >= '3.11'",
            "/m/packages/runner-core",
        ),
    ],
)
def test_local_path_notations(raw: str, path: str) -> None:
    parsed = parse_requirement(raw, PKG)
    assert parsed.error is None, parsed.error
    assert parsed.name == "runner-core"
    assert parsed.path == path
    assert parsed.url is not None
    # The URL is kept as the user wrote it (placeholders included), without the marker.
    assert parsed.url == raw.split("@", 1)[1].split(";")[0].strip()


@pytest.mark.parametrize(
    "raw",
    [
        "tool-x @ git+https://github.com/example/tool-x.git@v1.0",
        "tool-x @ https://example.com/tool_x-1.0-py3-none-any.whl",
        "tool-x @ file://fileserver/share/tool-x",  # another machine's share: not a local path
    ],
)
def test_non_local_direct_references(raw: str) -> None:
    parsed = parse_requirement(raw, PKG)
    assert parsed.error is None
    assert parsed.name == "tool-x"
    assert parsed.url == raw.split(" @ ", 1)[1]
    assert parsed.path is None


def test_expand_placeholders() -> None:
    assert expand_placeholders("{root:uri}/x", "/m/p/a") == "file:///m/p/a/x"
    assert expand_placeholders("{root:parent:uri}/x", "/m/p/a") == "file:///m/p/x"
    assert expand_placeholders("{root}/x", "/m/p/a") == "/m/p/a/x"
    assert expand_placeholders("file:///${PROJECT_ROOT}/../b", "/m/p/a") == "file:///m/p/a/../b"
    assert expand_placeholders("runner-core>=1", "/m/p/a") == "runner-core>=1"


def test_local_path_of_url() -> None:
    assert local_path_of_url("file:../b", "/m/p/a") == "/m/p/b"
    assert local_path_of_url("FILE:///srv/b", "/m") == "/srv/b"
    assert local_path_of_url("https://example.com/b.whl", "/m") is None
    assert local_path_of_url("file://server/share", "/m") is None


# --------------------------------------------------------------------------------------------
# invalid strings


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("../runner-core", "did you mean 'runner-core @ file:../runner-core'?"),
        ("../runner-core/", "did you mean 'runner-core @ file:../runner-core/'?"),
        ("./libs/Runner_Core", "did you mean 'runner-core @ file:./libs/Runner_Core'?"),
        ("/srv/libs/runner-core", "did you mean 'runner-core @ file:/srv/libs/runner-core'?"),
        ("file:../runner-core", "did you mean 'runner-core @ file:../runner-core'?"),
        ("../", "write it as 'name @ file:../'"),
    ],
)
def test_path_without_name_gets_a_hint(raw: str, hint: str) -> None:
    parsed = parse_requirement(raw, PKG)
    assert parsed.name is None and parsed.path is None and parsed.url is None
    assert parsed.error is not None
    assert parsed.error.startswith(f"{raw!r} is not a PEP 508 requirement")
    assert hint in parsed.error


@pytest.mark.parametrize(
    "raw",
    [
        "runner core",
        "requests >= = 2",
        "runner-core[cli",
        "runner-core ; python_version >>> '3'",
        "-runner-core",
        "runner-core @",
        "",
    ],
)
def test_invalid_strings_are_errors_quoting_the_string(raw: str) -> None:
    parsed = parse_requirement(raw, PKG)
    assert parsed.error is not None
    assert parsed.name is None
    assert parsed.extras == () and parsed.url is None and parsed.path is None
    assert f"{raw.strip()!r} is not a valid PEP 508 requirement" in parsed.error
    assert "did you mean" not in parsed.error


@pytest.mark.parametrize(
    "space", ["\u00a0", "\n", "\r", "\x0b", "\x0c", "\x1c", "\u2003", "\u3000"]
)
def test_fast_path_accepts_nothing_packaging_rejects(space: str) -> None:
    """The fast path must be narrower than PEP 508: odd whitespace is invalid for packaging."""
    raw = f"runner-core{space}>=1.0"
    with pytest.raises(InvalidRequirement):
        Requirement(raw)
    assert parse_requirement(raw, PKG).error is not None


# --------------------------------------------------------------------------------------------
# property: the fast path and packaging agree

_name_chars = string.ascii_letters + string.digits
names = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from(_name_chars),
    st.text(alphabet=_name_chars + "._-", max_size=12),
    st.sampled_from(_name_chars),
) | st.sampled_from(_name_chars)
versions = st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts))
)
operators = st.sampled_from(["==", "!=", ">=", "<=", "<", ">", "~=", "==="])
spaces = st.sampled_from(["", " ", "  ", "\t"])
# Whitespace PEP 508 does not allow (packaging rejects it): the fast path must reject it too.
odd_spaces = st.sampled_from(["\u00a0", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2003"])
any_spaces = spaces | odd_spaces
specifiers = st.lists(
    st.builds(
        lambda s1, op, s2, v: f"{s1}{op}{s2}{v}", any_spaces, operators, any_spaces, versions
    ),
    max_size=3,
).map(",".join)
extras = st.lists(names, max_size=3).map(lambda e: f"[{','.join(e)}]" if e else "")


@settings(
    max_examples=300, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(name=names, extra=extras, spec=specifiers, pad=spaces, gap=any_spaces)
def test_fast_path_and_packaging_agree_on_generated_requirements(
    name: str, extra: str, spec: str, pad: str, gap: str
) -> None:
    raw = f"{pad}{name}{extra}{gap}{spec}{pad}"
    try:
        reference = Requirement(raw.strip())
    except InvalidRequirement:
        assert parse_requirement(raw, PKG).error is not None
        return
    parsed = parse_requirement(raw, PKG)
    assert parsed.error is None
    assert parsed.name == canonicalize_name(reference.name) == canonicalize_name(name)
    assert set(parsed.extras) == reference.extras
    assert SpecifierSet(parsed.specifier) == reference.specifier
    fast = _FAST.fullmatch(raw.strip())
    if fast is not None:  # the regex path was taken: its name is packaging's name
        assert canonicalize_name(fast.group("name")) == canonicalize_name(reference.name)


def test_fast_path_is_exercised_by_plain_requirements() -> None:
    """Guard for the property test above: plain bounds really take the regex path."""
    assert _FAST.fullmatch("runner_core>=0.1,<2") is not None
    assert _FAST.fullmatch("runner-core[cli]>=0.1") is None


segments = st.text(alphabet=string.ascii_letters + string.digits + "-_.~%", min_size=1, max_size=8)
urls = st.one_of(
    st.lists(segments, min_size=1, max_size=4).map(lambda p: "file:///" + "/".join(p)),
    st.lists(segments, min_size=1, max_size=4).map(lambda p: "file:../" + "/".join(p)),
    st.lists(segments, min_size=1, max_size=3).map(lambda p: "https://example.com/" + "/".join(p)),
    st.tuples(segments, segments).map(lambda p: f"git+https://example.com/{p[0]}.git@{p[1]}"),
    st.tuples(segments, segments).map(lambda p: f"file://{p[0]}/{p[1]}"),  # a remote host
)
markers = st.sampled_from(["", " ; python_version >= '3.11'", '; os_name == "posix"'])


@settings(max_examples=300, database=None, deadline=None)
@given(name=names, extra=extras, url=urls, marker=markers, left=spaces, right=spaces)
def test_direct_references_agree_with_packaging(
    name: str, extra: str, url: str, marker: str, left: str, right: str
) -> None:
    raw = f"{name}{extra}{left}@{right}{url}{marker}"
    try:
        reference = Requirement(raw)
    except InvalidRequirement:
        assert parse_requirement(raw, PKG).error is not None
        return
    parsed = parse_requirement(raw, PKG)
    assert parsed.error is None
    assert parsed.name == canonicalize_name(reference.name)
    assert set(parsed.extras) == reference.extras
    assert parsed.url == reference.url == url
    assert parsed.path == local_path_of_url(url, PKG)
    assert parsed.marker == (str(reference.marker) if reference.marker else None)
    assert SpecifierSet(parsed.specifier) == reference.specifier


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_.Ä ", max_size=30))
def test_canonicalize_name_is_packagings(name: str) -> None:
    """The fast path's own canonicalize_name (it spares a cold start importing packaging's
    parser) gives exactly what packaging.utils.canonicalize_name gives."""
    from monorepo_tools.requirements import canonicalize_name as ours

    assert ours(name) == canonicalize_name(name)


def test_the_fast_paths_do_not_import_packagings_parser() -> None:
    """A cold read of ordinary requirements never imports packaging.requirements (~20 ms)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from monorepo_tools.requirements import parse_requirement\n"
        "parse_requirement('pkg-a>=1.0', '/m/p/a')\n"
        "parse_requirement('pkg-b @ file:../pkg-b', '/m/p/a')\n"
        "assert 'packaging.requirements' not in sys.modules\n"
        "parse_requirement('pkg-c[cli]>=1; python_version >= \"3.11\"', '/m/p/a')\n"
        "assert 'packaging.requirements' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
