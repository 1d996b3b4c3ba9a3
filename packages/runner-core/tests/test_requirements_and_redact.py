import itertools

import pytest
from runner_core import (
    InvalidRequirement,
    parse_requirement,
    parse_version,
    redact,
    redact_url,
    url_secrets,
    version_matches,
    versions_equal,
    with_credentials,
)


def test_parse_a_pinned_requirement() -> None:
    r = parse_requirement(" Agent_Adapters[cli, extra2]==0.1.0.dev735192004101 ")
    assert (r.name, r.key, r.extras) == ("Agent_Adapters", "agent-adapters", ("cli", "extra2"))
    assert r.specifiers == (("==", "0.1.0.dev735192004101"),)
    assert r.pinned_version == "0.1.0.dev735192004101"
    assert str(r) == "Agent_Adapters[cli, extra2]==0.1.0.dev735192004101"


def test_ranges_are_not_pins() -> None:
    r = parse_requirement("reporter>=0.1,<1")
    assert set(r.specifiers) == {(">=", "0.1"), ("<", "1")}
    assert r.pinned_version is None
    assert r.matches("0.5") and not r.matches("1.0") and not r.matches("0.0.9")
    assert parse_requirement("reporter").matches("7")
    assert parse_requirement("reporter==1.*").pinned_version is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("foo:bar", "not a valid requirement"),
        ("pkg 1.0", "not a valid requirement"),
        ("pkg==one", "not a valid requirement"),
        ("pkg @ https://example.com/pkg.whl", "direct references"),
        ('pkg; python_version >= "3.11"', "markers"),
        ("-pkg", "Expected package name"),
        ("pkg[bad extra]", "not a valid requirement"),
    ],
)
def test_unusable_requirements_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidRequirement) as info:
        parse_requirement(text)
    assert reason in str(info.value)


def test_pep440_equality_and_order() -> None:
    assert versions_equal("1.0", "1.0.0")
    assert versions_equal("0.1.0.dev7", "0.1.0-dev7")
    assert not versions_equal("0.1.0.dev7", "0.1.0.dev8")
    assert not versions_equal("1.0+local", "1.0")
    chain = ["1.0.dev1", "1.0a1.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1.dev1", "1.0.post1", "1.1.dev0", "1!0.1"]
    keys = [parse_version(v) for v in chain]
    assert all(a < b for a, b in itertools.pairwise(keys))
    with pytest.raises(ValueError):
        parse_version("latest")


@pytest.mark.parametrize(
    ("op", "wanted", "installed", "ok"),
    [
        ("==", "1.2.*", "1.2.9", True),
        ("==", "1.2.*", "1.3", False),
        ("!=", "1.2.*", "1.3", True),
        ("~=", "1.4.2", "1.4.9", True),
        ("~=", "1.4.2", "1.5", False),
        ("==", "1.0", "1.0+build7", True),
        ("===", "1.0", "1.0", True),
        (">", "1.0", "1.0.1", True),
        ("<=", "1.0", "1.0.0", True),
    ],
)
def test_specifiers(op: str, wanted: str, installed: str, ok: bool) -> None:
    assert version_matches(op, wanted, installed) is ok


def test_credentials_are_added_encoded_and_redacted() -> None:
    url = with_credentials("https://gitlab.example.com/api/v4/projects/7/packages/pypi/simple", "deploy", "p@ss:word/1")
    assert url == "https://deploy:p%40ss%3Aword%2F1@gitlab.example.com/api/v4/projects/7/packages/pypi/simple"
    assert with_credentials(url, "other", "x") == url  # existing credentials are kept
    assert with_credentials("https://h/simple", None, None) == "https://h/simple"
    assert redact_url(url) == "https://***:***@gitlab.example.com/api/v4/projects/7/packages/pypi/simple"
    assert redact_url("http://u:p@127.0.0.1:8080/simple/") == "http://***:***@127.0.0.1:8080/simple/"
    assert set(url_secrets(url)) == {"p%40ss%3Aword%2F1", "p@ss:word/1"}
    text = f"Looking in indexes: {url}\nERROR: 401 for p@ss:word/1 and token abcd1234"
    clean = redact(text, [*url_secrets(url), "abcd1234", "x"])
    assert "p@ss" not in clean and "p%40ss" not in clean and "abcd1234" not in clean
    assert "https://***:***@gitlab.example.com" in clean
    assert "x" in clean  # secrets shorter than 4 characters are not masked everywhere
