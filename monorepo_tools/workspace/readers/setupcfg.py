"""``setup.cfg`` (setuptools' declarative config): ``[metadata]`` and ``[options]``, statically.

* ``metadata.name``; ``metadata.version`` as a literal, ``attr: pkg.__version__`` (the module's
  assignment, read with ``ast``) or ``file: VERSION``;
* ``options.install_requires`` (runtime) and ``[options.extras_require]`` (one extra per key):
  one requirement per line (``;``-separated on one line is read too), comments skipped.

It is read with the standard library's ``configparser`` (no interpolation); staging rewrites it
with configupdater so comments and layout survive (:mod:`monorepo_tools.snapshot.rewrite`).
"""

from __future__ import annotations

import configparser
import re

from ..model import Dependency, EdgeKind, Problem
from ..version_sources import StaticVersion, _attr_source, _file_source
from .common import collect, problem

__all__ = ["SetupCfg", "parse_setup_cfg", "requirement_lines"]

_COMMENT = re.compile(r"\s+[#;].*$")


class SetupCfg:
    def __init__(
        self,
        name: object,
        version: StaticVersion | None,
        dependencies: list[Dependency],
        has_metadata: bool,
    ) -> None:
        self.name = name
        self.version = version
        self.dependencies = dependencies
        self.has_metadata = has_metadata


def requirement_lines(value: str) -> list[str]:
    """The requirement strings of a setup.cfg list value (one per line, comments dropped)."""
    out = []
    for line in value.splitlines():
        line = _COMMENT.sub("", line).strip()
        if not line or line.startswith(("#", ";")):
            continue
        if ";" in line and not re.search(
            r";\s*(python_version|sys_platform|platform_|os_name|implementation_|extra|python_full_version)",
            line,
        ):
            out += [part.strip() for part in line.split(";") if part.strip()]
        else:
            out.append(line)
    return out


def parse_setup_cfg(text: str, package_dir: str, problems: list[Problem]) -> SetupCfg:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source="setup.cfg")
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        problems.append(
            problem(
                "(file)",
                f"is not a valid setup.cfg: {str(exc).splitlines()[0]}",
                "fix the INI syntax",
                line=line if isinstance(line, int) else None,
                file="setup.cfg",
            )
        )
        return SetupCfg(None, None, [], False)
    has_metadata = parser.has_section("metadata")
    name = parser.get("metadata", "name", fallback=None)
    version: StaticVersion | None = None
    raw_version = parser.get("metadata", "version", fallback=None)
    if raw_version is not None:
        raw_version = raw_version.strip()
        if raw_version.startswith("attr:"):
            roots = ["", "src"]
            package_dirs = parser.get("options", "package_dir", fallback="")
            for line in package_dirs.splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "" and value.strip():
                    roots.insert(0, value.strip())
            version = _attr_source(
                "setuptools attr",
                package_dir,
                raw_version[5:].strip(),
                roots,
                "setup.cfg metadata.version",
            )
        elif raw_version.startswith("file:"):
            first = raw_version[5:].split(",")[0].strip()
            version = _file_source(
                "setuptools file", package_dir, first, None, "setup.cfg metadata.version"
            )
        else:
            version = StaticVersion("setup.cfg metadata.version", version=raw_version)
    deps: list[Dependency] = []
    install = parser.get("options", "install_requires", fallback=None)
    if install is not None:
        collect(
            deps,
            problems,
            requirement_lines(install),
            "options.install_requires",
            EdgeKind.RUNTIME,
            None,
            package_dir,
            file="setup.cfg",
        )
    if parser.has_section("options.extras_require"):
        for extra, value in parser.items("options.extras_require", raw=True):
            collect(
                deps,
                problems,
                requirement_lines(value),
                f"options.extras_require.{extra}",
                EdgeKind.OPTIONAL,
                extra,
                package_dir,
                file="setup.cfg",
            )
    return SetupCfg(name, version, deps, has_metadata)
