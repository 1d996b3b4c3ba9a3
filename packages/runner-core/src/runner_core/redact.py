"""Keep credentials out of everything a person or a report sees."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

__all__ = ["MASK", "redact", "redact_url", "url_secrets", "with_credentials"]

MASK = "***"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """*url* with the password of its userinfo (and the user name, which is often a token) masked."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{MASK}:{MASK}@{host}" + (f":{port}" if port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The password written in *url* (raw and percent-decoded), to redact in any text.

    The user name is masked inside URLs (:func:`redact_url`) but not elsewhere: it is usually
    a plain word that also appears in paths and messages.
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return []
    if not parts.password:
        return []
    return sorted({parts.password, urllib.parse.unquote(parts.password)})


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """*url* with ``username:password@`` (percent-encoded) unless it already has credentials."""
    if not username and not password:
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.username or parts.password:
        return url
    userinfo = urllib.parse.quote(username or "", safe="")
    if password:
        userinfo += ":" + urllib.parse.quote(password, safe="")
    return urllib.parse.urlunsplit(
        (parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment)
    )


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """*text* with every URL's credentials masked and every secret value replaced by ``***``.

    Secrets shorter than four characters are left alone: masking ``"1"`` everywhere would
    destroy the text and protect nothing.
    """
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
