"""Keep credentials out of everything a user, a log or a report sees.

:func:`redact` replaces every given secret (and its URL-encoded form) and the userinfo of any
``scheme://user:password@host`` URL with ``***``. :class:`Secret` holds a password so that
printing, formatting or ``repr``-ing it (a dataclass repr, an f-string, a traceback's locals)
shows ``***``; only :meth:`Secret.reveal` gives the value, at the one place that needs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "Secret", "redact"]

MASK = "***"

# scheme://userinfo@ — userinfo cannot hold "/", "@" or whitespace unencoded (RFC 3986).
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/@\s\"'<>]+@")


class Secret:
    """A string that never shows itself: ``str``, ``repr`` and ``format`` give ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one call that sends it (and for :func:`redact`)."""
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> Any:  # pickling must not be a way around the mask either
        raise TypeError("a Secret cannot be pickled")


def _forms(secret: str) -> set[str]:
    """The secret as it may appear in text: plain and URL-encoded (in a query or userinfo)."""
    return {secret, quote(secret, safe=""), quote_plus(secret, safe="")}


def redact(text: str, secrets: Iterable[str | Secret | None]) -> str:
    """*text* with every secret and every URL's userinfo replaced by ``***``.

    Empty secrets are ignored (replacing "" would mangle everything); longer secrets go first so
    that a secret containing another is masked whole.
    """
    forms: set[str] = set()
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            forms |= _forms(value)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
