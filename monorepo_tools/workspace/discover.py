"""Discovery: the configured globs → the package folders, each with its first metadata file.

* A folder is a package candidate when it holds ``pyproject.toml``, else ``setup.cfg``, else
  ``setup.py`` (the first one found is its *primary* file and the key of its cache entry).
* ``**`` is recursive (``packages/**`` finds nested packages); hidden folders and well-known
  build/environment folders (``node_modules``, ``build``, ``dist``, ``venv``, ``site-packages``)
  are never packages.
* ``.`` is the root package (a uv workspace root that is itself a package); a root pyproject
  with only settings is skipped with a note, like any config-only pyproject.
* A glob that reaches outside the root (absolute, or ``..`` above it) is a usage error
  (:class:`~monorepo_tools.errors.ConfigError`, exit 2): nothing outside the monorepo is read
  or published.
* A primary file that is not a regular file (a directory, a FIFO, a device such as a symlink to
  /dev/zero) is never opened: its package gets a problem saying so.
"""

from __future__ import annotations

import errno
import glob
import os
import posixpath
import stat
from pathlib import Path

from ..config import Config
from ..errors import ConfigError

__all__ = ["NOT_A_PACKAGE_FOLDERS", "Found", "check_globs", "discover", "scan"]

NOT_A_PACKAGE_FOLDERS = frozenset(
    {"node_modules", "build", "dist", "venv", "site-packages", "__pycache__"}
)
PRIMARY = ("pyproject.toml", "setup.cfg", "setup.py")

Found = tuple[str, "os.stat_result | OSError"]  # (primary file name, its stat or why not)


def check_globs(config: Config) -> None:
    """ConfigError for a glob that reaches outside the root (absolute or above it with ..)."""
    for pattern in config.package_globs:
        normal = posixpath.normpath(pattern.replace("\\", "/")) if pattern else ""
        if (
            not pattern
            or os.path.isabs(pattern)
            or pattern.startswith(("/", "\\", "~"))
            or (len(pattern) > 1 and pattern[1] == ":")
            or normal == ".."
            or normal.startswith("../")
        ):
            raise ConfigError(
                f"package glob {pattern!r} (from {config.globs_from}) reaches outside the root "
                f"{config.root}; fix: use globs relative to the root, inside it (e.g. 'packages/*')"
            )


def discover(config: Config) -> list[str]:
    """Package folders (relative, POSIX, sorted) matched by the configured globs."""
    return list(scan(config))


def _not_regular(st: os.stat_result) -> OSError:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        what = "is a directory, not a file"
    elif stat.S_ISFIFO(mode):
        what = "is a FIFO (named pipe), not a file"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "is a device (e.g. a symlink to /dev/zero), not a file"
    elif stat.S_ISSOCK(mode):  # pragma: no cover - a socket named pyproject.toml
        what = "is a socket, not a file"
    else:
        what = "is not a regular file"
    return OSError(errno.EINVAL, what)


def scan(config: Config) -> dict[str, Found]:
    """Each package folder (sorted) with its primary file and that file's ``stat``, taken once.

    The stat is both the "is there a package here" test and the cache key, so a file is looked
    at once per run before it is (maybe) read.
    """
    check_globs(config)
    root = config.root
    found: dict[str, Found] = {}
    for pattern in config.package_globs:
        recursive = "**" in pattern
        for match in glob.iglob(pattern, root_dir=root, recursive=recursive):
            rel = _posix_folder(match)
            if rel == "":
                rel = "."
            if rel in found:
                continue
            if recursive and NOT_A_PACKAGE_FOLDERS.intersection(rel.split("/")):
                continue
            entry = _primary(os.path.join(root, rel))
            if entry is not None:
                found[rel] = entry
    if not found:
        raise ConfigError(
            f"no package found: the globs {list(config.package_globs)} (from {config.globs_from}) "
            f"match no folder holding a pyproject.toml under {root}; fix: set "
            "[tool.monorepo].packages in the root pyproject.toml or pass --packages 'packages/*'"
        )
    return dict(sorted(found.items()))


def _primary(folder: str) -> Found | None:
    for index, name in enumerate(PRIMARY):
        try:
            st = os.stat(os.path.join(folder, name))
        except FileNotFoundError:
            if index == 0 and os.path.islink(os.path.join(folder, name)):
                return (name, OSError(errno.ENOENT, "is a broken symlink, not a file"))
            continue
        except NotADirectoryError:  # the match is a file
            return None
        except (OSError, ValueError) as exc:
            if index == 0 and isinstance(exc, OSError):
                return (name, exc)
            continue
        if stat.S_ISREG(st.st_mode):
            return (name, st)
        if index == 0:
            return (name, _not_regular(st))
    return None


def _posix_folder(match: str) -> str:
    """``Path(match).as_posix()`` without a slash: the common case skips pathlib (10x faster)."""
    if (
        os.sep != "/"
        or "//" in match
        or match.startswith("./")
        or "/./" in match
        or match.endswith("/.")
    ):
        return Path(match).as_posix().rstrip("/")
    return match.rstrip("/")
