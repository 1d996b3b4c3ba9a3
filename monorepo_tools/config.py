"""The root configuration: ``[tool.monorepo]`` of the root ``pyproject.toml`` and the command line.

Keys of the root table (all optional)::

    [tool.monorepo]
    packages = ["packages/*"]     # globs, relative to the root, of folders holding a pyproject.toml
    global-files = ["tools/**"]   # files that concern every package: a change affects them all
                                  # (`monorepo affected`; the root pyproject.toml and noxfile.py
                                  # always do). `*` stays inside one folder, `**` spans folders.

``--packages GLOB`` (repeatable) replaces ``packages`` for one run, so a command can be pointed at
any repository without editing it. Unknown keys are refused with a suggestion: a typo must not
silently change what gets published.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

__all__ = ["DEFAULT_PACKAGE_GLOBS", "STATE_DIR", "Config", "load_config"]

DEFAULT_PACKAGE_GLOBS = ("packages/*",)
# One ignored folder under the root for caches, staging and the embedded index. It ignores
# itself (a .gitignore holding "*"), so deleting it at any time is safe.
STATE_DIR = ".monorepo"
_ROOT_KEYS = (
    "packages",
    "global-files",
    "status",
    "base-version",
)  # the last two: the root is itself a package


@dataclass(frozen=True, slots=True)
class Config:
    root: Path  # absolute, resolved
    package_globs: tuple[str, ...]
    globs_from: str  # where the globs came from, for error messages
    global_files: tuple[str, ...] = ()  # [tool.monorepo].global-files globs, relative to the root

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR


def load_config(root: str | Path = ".", package_globs: Sequence[str] = ()) -> Config:
    """Read the root configuration; raise :class:`ConfigError` naming the file and the fix."""
    root_path = Path(root)
    if not root_path.is_dir():
        raise ConfigError(
            f"--root {str(root)!r} is not a directory: point --root at the monorepo's top folder "
            "(the one holding pyproject.toml and packages/)"
        )
    root_path = root_path.resolve()
    table = _root_table(root_path / "pyproject.toml")
    global_files = _global_files(table)
    if package_globs:
        return Config(root_path, tuple(package_globs), "--packages", global_files)
    globs = table.get("packages", list(DEFAULT_PACKAGE_GLOBS))
    if not isinstance(globs, list) or not globs or not all(isinstance(g, str) for g in globs):
        raise ConfigError(
            "pyproject.toml: [tool.monorepo].packages must be a non-empty list of glob strings, "
            f'got {globs!r}; fix: packages = ["packages/*"]'
        )
    source = "pyproject.toml [tool.monorepo].packages" if "packages" in table else "the default"
    return Config(root_path, tuple(globs), source, global_files)


def _global_files(table: dict[str, object]) -> tuple[str, ...]:
    globs = table.get("global-files", [])
    if not isinstance(globs, list) or not all(isinstance(g, str) and g.strip() for g in globs):
        raise ConfigError(
            "pyproject.toml: [tool.monorepo].global-files must be a list of glob strings relative "
            f'to the root, got {globs!r}; fix: global-files = ["tools/**", "requirements/*.txt"]'
        )
    return tuple(g.strip().lstrip("/") for g in globs)


def _root_table(path: Path) -> dict[str, object]:
    import os
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"pyproject.toml: cannot be read ({exc.strerror})") from exc
    if not stat.S_ISREG(st.st_mode):  # a directory, a FIFO, /dev/zero: never opened
        raise ConfigError(
            f"pyproject.toml at the root ({path}) is not a regular file; fix: replace it with "
            "a TOML file (or remove it)"
        )
    try:
        data_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"pyproject.toml: cannot be read ({exc.strerror})") from exc
    try:
        text = data_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data_bytes.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"pyproject.toml:{line}: is not UTF-8 (byte {data_bytes[exc.start]:#04x} at offset "
            f"{exc.start}); fix: save the file as UTF-8"
        ) from None
    from .workspace.readers.toml import TomlError, loads

    try:
        data = loads(text)
    except TomlError as exc:
        where = f":{exc.line}" if exc.line else ""
        where += f":{exc.column}" if exc.line and exc.column else ""
        fix = (
            "save it as UTF-8 without a byte order mark"
            if "byte order mark" in exc.reason
            else "fix the syntax at that position"
        )
        raise ConfigError(
            f"pyproject.toml{where}: not valid TOML: {exc.reason}; fix: {fix}"
        ) from None
    tool = data.get("tool", {})
    table = tool.get("monorepo", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError("pyproject.toml: [tool.monorepo] must be a table")
    for key in table:
        if key not in _ROOT_KEYS:
            hint = difflib.get_close_matches(key, _ROOT_KEYS, n=1)
            suggestion = (
                f"did you mean {hint[0]!r}?" if hint else f"known keys: {', '.join(_ROOT_KEYS)}"
            )
            raise ConfigError(f"pyproject.toml: unknown key [tool.monorepo].{key} ({suggestion})")
    return table
