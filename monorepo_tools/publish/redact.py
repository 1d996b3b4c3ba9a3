"""Keep credentials out of everything a user, a log or a report sees.

:func:`redact` masks *credential-bearing tokens*, each as a whole, with ``***``:

* the userinfo of any ``scheme://user:password@host`` URL (``https://***@host/…``);
* the value of a credential header or assignment (``Authorization: Basic …``, ``Bearer …``,
  ``PRIVATE-TOKEN: …``, ``JOB-TOKEN: …``, ``Deploy-Token: …``, ``password=…``, ``token: …``);
* every known secret value (plain, URL-encoded or form-encoded), **only where it stands as a
  whole token**: not adjacent to a letter, digit or one of ``_-~+/%`` (a ``.`` counts as part
  of the token only when another token character follows it, so a secret ending a sentence is
  still masked).

So a one-letter password ``p`` masks ``p`` where it stands alone but leaves ``https://`` and
``pypi`` intact: the message stays readable and the mask does not reveal the secret by the
pattern of what it replaced.

:class:`Secret` holds a password so that printing, formatting or ``repr``-ing it (a dataclass
repr, an f-string, a traceback's locals) shows ``***``; only :meth:`Secret.reveal` gives the
value, at the one place that needs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from ..render.safe import mask_urls

__all__ = ["MASK", "Secret", "redact"]

MASK = "***"

# Credential headers and assignments: the value (up to whitespace or a quote) is a token.
_HEADER = re.compile(
    r"(?P<name>\b(?:authorization|proxy-authorization)\s*[:=]\s*(?:basic|bearer|token)?\s*"
    r"|\b(?:private-token|job-token|deploy-token|x-api-key|x-devpi-auth)\s*[:=]\s*"
    r"|\b(?:password|passwd|token|secret)\s*[=:]\s*)"
    r"(?P<value>(?!\*\*\*)[^\s\"'<>,;]+)",
    re.IGNORECASE,
)
_TOKEN_CHARS = r"A-Za-z0-9_\-~+/%"
_BEFORE = rf"(?<![{_TOKEN_CHARS}.])"
_AFTER = rf"(?![{_TOKEN_CHARS}]|\.[{_TOKEN_CHARS}])"


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


def redact(text: str, secrets: Iterable[str | Secret | None] = ()) -> str:
    """*text* with every credential-bearing token replaced by ``***`` (see the module docstring).

    Empty secrets are ignored; longer secrets go first so that a secret containing another is
    masked whole.
    """
    forms: set[str] = set()
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            forms |= _forms(value)
    if forms:
        alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        text = re.sub(f"{_BEFORE}(?:{alternatives}){_AFTER}", MASK, text)
    text = mask_urls(text)  # URL userinfo, whole (one definition: render.safe)
    return _HEADER.sub(lambda m: f"{m.group('name')}{MASK}", text)
