"""The version in a native build file: ``meson.build``'s ``project()``, ``Cargo.toml``'s
``[package]``. Read statically (never by running meson or cargo), and located precisely so
that staging can write the snapshot version in the same place (:mod:`...snapshot.rewrite`).

* **meson.build** (meson-python with ``dynamic = ["version"]``): the ``version:`` keyword of
  the first ``project()`` call, a string literal (``version: '1.2.0'``) or
  ``files('VERSION')`` (meson reads the first line of that file). Anything computed
  (``run_command(...)``, a variable) cannot be read without running meson.
* **Cargo.toml** (maturin with ``dynamic = ["version"]``): ``[package] version``, a semver
  string; ``version.workspace = true`` lives in the workspace's Cargo.toml and is not read.
  Cargo versions are semver, Python's are PEP 440: :func:`pep440_from_semver` and
  :func:`semver_from_pep440` convert (``0.3.0-dev.7`` ⇄ ``0.3.0.dev7``, ``1.0.0-rc.1`` ⇄
  ``1.0.0rc1``), as maturin does when it turns a Cargo version into a wheel version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

__all__ = [
    "MesonVersion",
    "meson_project_version",
    "pep440_from_semver",
    "semver_from_pep440",
]


@dataclass(frozen=True, slots=True)
class MesonVersion:
    """What ``project()`` says about the version: a literal (with its span in the text, the
    characters between the quotes), a ``files()`` reference, or why neither."""

    literal: str | None = None
    span: tuple[int, int] | None = None
    file: str | None = None
    error: str | None = None


_PROJECT = re.compile(r"project\s*\(")


def _skip_string(text: str, i: int) -> int:
    """The index after the meson string starting at *i* (``'...'`` or ``'''...'''``)."""
    if text.startswith("'''", i):
        end = text.find("'''", i + 3)
        return len(text) if end < 0 else end + 3
    j = i + 1
    while j < len(text) and text[j] not in "'\n":
        j += 2 if text[j] == "\\" else 1
    return j + 1


def _project_call(text: str) -> tuple[int, int] | None:
    """The span of the arguments of the first top-level ``project(...)`` call."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if ch == "'":
            i = _skip_string(text, i)
            continue
        match = _PROJECT.match(text, i) if ch == "p" else None
        if match and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.")):
            start = match.end()
            depth, j = 1, start
            while j < len(text):
                c = text[j]
                if c == "#":
                    end = text.find("\n", j)
                    j = len(text) if end < 0 else end
                    continue
                if c == "'":
                    j = _skip_string(text, j)
                    continue
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                    if depth == 0:
                        return start, j
                j += 1
            return None
        i += 1
    return None


def meson_project_version(text: str) -> MesonVersion:
    """The ``version:`` of ``project()`` in the meson.build *text*."""
    call = _project_call(text)
    if call is None:
        return MesonVersion(error="has no project() call")
    start, end = call
    args = text[start:end]
    # blank out strings and comments to find the keyword itself, keeping offsets
    masked = list(args)
    i = 0
    while i < len(args):
        if args[i] == "#":
            stop = args.find("\n", i)
            stop = len(args) if stop < 0 else stop
            masked[i:stop] = " " * (stop - i)
            i = stop
        elif args[i] == "'":
            stop = min(_skip_string(args, i), len(args))
            masked[i + 1 : stop - 1] = " " * max(0, stop - 1 - (i + 1))
            i = stop
        else:
            i += 1
    keyword = re.search(r"(?<![\w.])version\s*:\s*", "".join(masked))
    if keyword is None:
        return MesonVersion(error="project() sets no version:")
    value_at = keyword.end()
    literal = re.compile(r"'((?:[^'\\\n]|\\.)*)'(?!')").match(args, value_at)
    if literal is not None:
        return MesonVersion(
            literal=literal.group(1), span=(start + literal.start(1), start + literal.end(1))
        )
    files = re.compile(r"files\s*\(\s*'([^'\n]+)'\s*\)").match(args, value_at)
    if files is not None:
        return MesonVersion(file=files.group(1))
    shown = args[value_at:].split(",")[0].split("\n")[0].strip()
    return MesonVersion(
        error=f"project() computes its version ({shown}), which cannot be read without running meson"
    )


def pep440_from_semver(version: str) -> str | None:
    """The PEP 440 form of a Cargo (semver) version, or None when it has none."""
    try:
        return str(Version(version))
    except InvalidVersion:
        return None


def semver_from_pep440(version: str) -> str:
    """The semver form of a PEP 440 *version* for Cargo.toml (``1.2.0.dev7`` → ``1.2.0-dev.7``).

    >>> semver_from_pep440("1.2.0.dev7"), semver_from_pep440("1.0rc1.dev3")
    ('1.2.0-dev.7', '1.0.0-rc.1.dev.3')

    Raises ValueError when semver cannot say it (an epoch, more than three release numbers).
    """
    parsed = Version(version)
    if parsed.epoch or len(parsed.release) > 3:
        raise ValueError(f"{version} has no semver form (Cargo needs MAJOR.MINOR.PATCH)")
    release = (*parsed.release, 0, 0)[:3]
    pre: list[str] = []
    if parsed.pre is not None:
        pre += [parsed.pre[0], str(parsed.pre[1])]
    if parsed.post is not None:
        pre += ["post", str(parsed.post)]
    if parsed.dev is not None:
        pre += ["dev", str(parsed.dev)]
    out = ".".join(map(str, release))
    if pre:
        out += "-" + ".".join(pre)
    if parsed.local:
        out += "+" + parsed.local
    return out
