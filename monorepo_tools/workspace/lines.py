"""The one source-line finder: where a key or a string is written in a package's file.

Lines are looked up only when a finding needs one, so the hot path never pays for them. Each
file is read once per version of the file (size, mtime, inode, ctime) however many findings
ask; a file that cannot be read (or is not UTF-8) has no lines.

* :func:`key_line` finds a TOML key assignment (``tool.monorepo.status``) or an INI option
  (``options.install_requires`` in ``setup.cfg``) by its table and key, not by a text search
  (which is wrong for an unquoted key whose name occurs inside another string);
* :func:`string_line` finds a quoted value inside the list assigned to a key, so a requirement
  written in two tables points at the right one;
* :func:`line_of` is the fallback: the first quoted occurrence anywhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["key_line", "line_of", "lines", "string_line", "text_of"]

_CACHE: dict[str, tuple[tuple[int, int, int, int], str | None]] = {}
_MAX_BYTES = 16 * 1024 * 1024


def text_of(path: str | Path) -> str | None:
    """The text of *path*, read once per version of the file; None when unreadable."""
    key = str(path)
    try:
        st = os.stat(key)
    except (OSError, ValueError):
        return None
    signature = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    text: str | None = None
    if os.path.isfile(key) and st.st_size <= _MAX_BYTES:  # never a FIFO or a device
        try:
            text = Path(key).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            text = None
    _CACHE[key] = (signature, text)
    return text


def lines(path: str | Path) -> list[str]:
    text = text_of(path)
    return text.splitlines() if text is not None else []


def line_of(path: str | Path, needle: str) -> int | None:
    """1-based line of the first quoted occurrence of *needle* (else unquoted) in *path*."""
    text = text_of(path)
    if text is None or not needle:
        return None
    for quoted in (f'"{needle}"', f"'{needle}'", needle):
        index = text.find(quoted)
        if index >= 0:
            return text.count("\n", 0, index) + 1
    return None


_HEADER = re.compile(r"\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:[#;].*)?$")
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_ASSIGNMENT = re.compile(rf"\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*[=:]")


def _dotted(text: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in re.findall(_KEY_PART, text))


def key_line(path: str | Path, key: str) -> int | None:
    """1-based line where the dotted *key* (``tool.monorepo.status``) is assigned in *path*."""
    want = _dotted(key) if '"' in key or "'" in key else tuple(key.split("."))
    table: tuple[str, ...] = ()
    for number, line in enumerate(lines(path), 1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header.group(1))
        elif (assigned := _ASSIGNMENT.match(line)) and table + _dotted(assigned.group(1)) == want:
            return number
    return None


def string_line(path: str | Path, key: str, value: str) -> int | None:
    """1-based line of *value* (quoted, or a whole INI line) in the list assigned to *key*."""
    start = key_line(path, key)
    if start is not None:
        all_lines = lines(path)
        for number in range(start, len(all_lines) + 1):
            line = all_lines[number - 1]
            if f'"{value}"' in line or f"'{value}'" in line:
                return number
            if number > start and line.strip() == value.strip():
                return number
            if (
                number > start
                and (_HEADER.match(line) or _ASSIGNMENT.match(line))
                and not line.startswith((" ", "\t"))
            ):
                break
        # the value may sit on the key's own line (key = value)
    return line_of(path, value)
