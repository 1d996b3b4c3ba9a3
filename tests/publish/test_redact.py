"""Secrets never show: ``redact`` masks them (and URL userinfo); ``Secret`` prints as ``***``."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from monorepo_tools.publish.redact import Secret, redact


def test_redact_masks_every_secret_and_its_url_encoded_form() -> None:
    text = "token p@ss/ w0rd! in body, p%40ss%2F%20w0rd%21 in a URL, p%40ss%2F+w0rd%21 in a form"
    out = redact(text, ["p@ss/ w0rd!"])
    assert "w0rd" not in out
    assert out.count("***") == 3


def test_redact_masks_url_userinfo_even_without_a_known_secret() -> None:
    text = "GET https://ci:hunter2@registry.example/simple/ and http://token@h:8080/x failed"
    assert (
        redact(text, [])
        == "GET https://***@registry.example/simple/ and http://***@h:8080/x failed"
    )


def test_redact_leaves_plain_urls_and_emails_alone() -> None:
    text = "see https://gitlab.example/api/v4/projects/1/packages/pypi or mail ops@example.org"
    assert redact(text, []) == text


def test_redact_ignores_empty_secrets_and_prefers_the_longest() -> None:
    assert redact("abc abcdef", ["", "abc", "abcdef"]) == "*** ***"
    assert redact("nothing here", [""]) == "nothing here"


def test_redact_accepts_secret_objects() -> None:
    assert redact("value=s3cr3t", [Secret("s3cr3t"), None]) == "value=***"


def test_secret_never_shows_itself() -> None:
    secret = Secret("s3cr3t-value")

    @dataclass(frozen=True)
    class Holder:
        password: Secret

    shown = [
        str(secret),
        repr(secret),
        f"{secret}",
        f"{secret!r}",
        "%s" % secret,  # noqa: UP031
        repr(Holder(secret)),
    ]
    assert all("s3cr3t" not in text for text in shown)
    assert secret.reveal() == "s3cr3t-value"
    assert secret == Secret("s3cr3t-value") and secret != Secret("other")
    assert bool(secret) and not Secret("")
    with pytest.raises(TypeError):
        pickle.dumps(secret)


# --------------------------------------------------------------------------- item 4: whole tokens


@pytest.mark.parametrize("secret", ["p", "8", "pypi", "api", "v4"])
def test_short_secrets_are_masked_as_whole_tokens_only(secret: str) -> None:
    text = (
        "upload to https://pypi.example:8443/api/v4/projects/18/packages/pypi failed: "
        "HTTP 403 Forbidden (3 attempts, waited 1 s then 2 s)"
    )
    assert redact(text, [secret]) == text  # nothing wrecked, nothing revealed by the pattern
    assert redact(f"password is {secret} here", [secret]) == "password is *** here"
    assert redact(f"value={secret}.", [secret]) == "value=***."


def test_credential_headers_and_assignments_are_masked_whole() -> None:
    text = (
        "Authorization: Basic Y2k6aHVudGVyMg== sent; PRIVATE-TOKEN: glpat-abc123 and "
        "JOB-TOKEN=xyz; password=hunter2, token: t0k"
    )
    out = redact(text)
    for leaked in ("Y2k6aHVudGVyMg", "glpat-abc123", "xyz", "hunter2", "t0k"):
        assert leaked not in out
    assert out.startswith("Authorization: Basic *** sent")


def test_a_secret_inside_a_longer_word_is_not_a_token() -> None:
    assert redact("tokens: abc and xabcx and abc-def", ["abc"]) == "tokens: *** and xabcx and abc-def"
