"""Text that is safe to print: no control characters, no credentials inside URLs.

Every renderer passes user-controlled text (names, requirement strings, paths, messages that
quote them) through :func:`clean` before it reaches a terminal, a CI log, a report file or an
annotation:

* control characters (C0, DEL, C1, and the Unicode line/paragraph separators) are shown as
  ``\\n``/``\\x1b``-style escapes, so a name with a newline cannot start a new log line such as
  a ``::error`` workflow command, and escape sequences cannot repaint a terminal;
* the userinfo of a URL (``https://user:token@host``) is shown as ``***@``, whole, whatever the
  secret is (a short secret is never searched for as a substring).

>>> clean("p @ https://u:tok@host/x.whl")
'p @ https://***@host/x.whl'
>>> clean("a\\n::error ::x")
'a\\\\n::error ::x'
"""

from __future__ import annotations

import re

__all__ = ["clean", "mask_urls"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# scheme://userinfo@ : userinfo is everything up to the last "@" before the host part.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s@\"'<>]+)@")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    return _NAMED.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def mask_urls(text: str) -> str:
    """*text* with the userinfo of every URL replaced by ``***``."""
    if "@" not in text or "://" not in text:
        return text
    return _USERINFO.sub(r"\1***@", text)


def clean(text: str) -> str:
    """*text* without control characters (escaped) and without URL credentials."""
    text = mask_urls(text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(_escape, text)
    return text
