"""TOML documents in, dicts out: rtoml (Rust) when it is installed, tomllib as the reference.

rtoml parses a typical pyproject ~8x faster than tomllib. It has the first word, tomllib the
last: whatever rtoml refuses goes to tomllib, whose error (with line and column) is the one
reported, so an invalid file is described exactly as Python's own parser sees it. A parity test
(``tests/test_toml_parity.py``) checks that both give the same value on generated and real
documents. Inputs that neither should see are refused before parsing, each with its own
message: a UTF-8 byte order mark (tomllib calls it "Invalid statement"), and nesting deeper
than :data:`MAX_DEPTH` (tomllib raises RecursionError).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from ...errors import ConfigError

__all__ = ["MAX_DEPTH", "TomlError", "fast_loads", "loads"]

MAX_DEPTH = 100

_rtoml: Any
try:  # an optional accelerator: everything works without it
    import rtoml as _rtoml
except ImportError:  # pragma: no cover - rtoml is a dependency, but never a requirement
    _rtoml = None

_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_OPENERS = re.compile(r"[\[{]")


class TomlError(ConfigError):
    """Why a document is not TOML, with a 1-based line and column when known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


def _depth_error(text: str) -> TomlError | None:
    """A TomlError when brackets/braces nest deeper than MAX_DEPTH (cheap upper bound first)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    line = 1
    quote: str | None = None
    for index, char in enumerate(text):
        if char == "\n":
            line += 1
            if quote in ('"', "'"):
                quote = None
        elif quote is not None:
            if char == quote and text[index - 1] != "\\":
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            quote = "#"  # a comment runs to the end of the line (reset above)
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return TomlError(
                    f"nests arrays or inline tables more than {MAX_DEPTH} levels deep", line
                )
        elif char in "]}":
            depth = max(0, depth - 1)
        if quote == "#" and char == "\n":
            quote = None
    return None


def fast_loads(text: str) -> dict[str, Any] | None:
    """rtoml's reading of *text*, or None when it refuses it (or is not installed)."""
    if _rtoml is None:
        return None
    if "\r" in text:
        # tomllib reads a CRLF inside a multi-line string as LF, rtoml keeps it: the same
        # document as LF text is what tomllib means (a bare CR left over is tomllib's to judge).
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    try:
        value: dict[str, Any] = _rtoml.loads(text)
    except Exception:
        return None
    return value


def loads(text: str) -> dict[str, Any]:
    """The document *text* as a dict; :class:`TomlError` when it is not TOML."""
    if text.startswith("\ufeff"):
        raise TomlError(
            "starts with a UTF-8 byte order mark (BOM), which TOML does not allow", 1, 1
        )
    deep = _depth_error(text)
    if deep is not None:
        raise deep
    fast = fast_loads(text)
    if fast is not None:
        return fast
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        position = _POSITION.search(str(exc))
        line, column = (
            (int(position.group(1)), int(position.group(2))) if position else (None, None)
        )
        raise TomlError(_POSITION.sub("", str(exc)).strip(), line, column) from None
    except RecursionError:
        raise TomlError(f"nests more than {MAX_DEPTH} levels deep") from None
