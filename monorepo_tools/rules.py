"""Publishability rules: a workspace and its graph in, every :class:`Finding` out.

Rules never print and never stop early: ``check`` returns all findings of all packages at once,
sorted by publish level, then package name, then line, so reports are stable between runs.

Codes (stable; they are the ``code`` of JSON reports and the check name in GitLab):

=====================  ==============================================================
internal-dependency    a publishable package depends (runtime/optional) on a non-publishable one
local-path-dependency  a publishable package has a file:// or path requirement outside the monorepo
direct-reference       a publishable package has another direct URL requirement (git+https://...)
invalid-version        a publishable package has no project.version, or not a PEP 440 one
dynamic-version        a publishable package has dynamic = ["version"]
invalid-status         [tool.monorepo].status is not one of the four allowed values
unknown-setting        [tool.monorepo] has a key other than status (a typo would hide a status)
dependency-cycle       a cycle among runtime/optional edges
duplicate-name         two folders declare the same normalized name
invalid-pyproject      unreadable TOML, no [project].name, an invalid requirement string, ...
=====================  ==============================================================
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from .graph import BLOCKING_KINDS, DependencyGraph
from .workspace import STATUSES, Dependency, Package, Workspace

__all__ = ["BLOCKING_CODES", "CODES", "Finding", "check_workspace", "violating_edges"]

CODES = (
    "internal-dependency",
    "local-path-dependency",
    "direct-reference",
    "invalid-version",
    "dynamic-version",
    "invalid-status",
    "unknown-setting",
    "dependency-cycle",
    "duplicate-name",
    "invalid-pyproject",
)
# Every code blocks a snapshot: a finding means the published set would be wrong or unusable.
BLOCKING_CODES = frozenset(CODES)
BLOCKED_NAMES_SHOWN = 20  # longer lists are counted, not listed: reports stay linear in size


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, with where it is and how to fix it."""

    code: str
    package: str  # normalized name (or the folder name when the file declares none)
    file: str  # relative to the root, POSIX
    line: int | None
    message: str
    fix: str
    column: int | None = None
    related: tuple[str, ...] = ()  # other packages involved (blocked dependents, cycle, twin)
    related_count: int = 0  # len of the full list when ``related`` was truncated
    subject: str = ""  # what the finding is about (a requirement, a value): keys fingerprints

    @property
    def severity(self) -> str:
        return (
            "critical"
            if self.code in ("invalid-pyproject", "dependency-cycle", "duplicate-name")
            else "major"
        )


def violating_edges(workspace: Workspace) -> list[tuple[str, str]]:
    """(source, target) pairs where a publishable package depends on an internal one."""
    packages = workspace.packages
    return sorted(
        {
            (e.source, e.target)
            for e in workspace.edges
            if e.kind in BLOCKING_KINDS
            and packages[e.source].publishable
            and not packages[e.target].publishable
        }
    )


def check_workspace(workspace: Workspace, graph: DependencyGraph) -> list[Finding]:
    """Every finding of every package (see the module docstring for the codes)."""
    findings: list[Finding] = []
    for package in workspace.rejected:
        findings.extend(_rejected(workspace, package))
    publishable = [p.name for p in workspace.packages.values() if p.publishable]
    violations = [
        (e, workspace.packages[e.target])
        for e in workspace.edges
        if e.kind in BLOCKING_KINDS
        and workspace.packages[e.source].publishable
        and not workspace.packages[e.target].publishable
    ]
    blocked = graph.transitive_dependents(
        {e.source for e, _ in violations}, publishable, limit=BLOCKED_NAMES_SHOWN
    )
    for edge, target in violations:
        findings.append(
            _internal_dependency(
                workspace,
                edge.dependency,
                workspace.packages[edge.source],
                target,
                blocked[edge.source],
            )
        )
    for package in workspace.packages.values():
        findings.extend(_problems(workspace, package))
        findings.extend(_status(workspace, package))
        if package.publishable:
            findings.extend(_version(workspace, package))
            findings.extend(_references(workspace, package))
    for members, cycle in zip(graph.components, graph.cycles, strict=True):
        findings.append(_cycle(workspace, graph, cycle, members))
    level = graph.level_of
    findings.sort(
        key=lambda f: (
            level.get(f.package, len(graph.levels)),
            f.package,
            f.line or 0,
            f.code,
            f.message,
        )
    )
    return findings


def _where(dep: Dependency) -> str:
    table, _, rest = dep.field.partition(".")
    if dep.field.startswith("project.optional-dependencies."):
        return f"[project.optional-dependencies].{dep.group}"
    if dep.field.startswith("dependency-groups."):
        return f"[dependency-groups].{dep.group}"
    return f"[{table}].{rest}" if rest else f"[{table}]"


# Lines are looked up only for findings. ``Workspace.line_of`` finds the first quoted occurrence of
# a string anywhere in the file, which is wrong for a TOML key (unquoted, and its name may occur
# inside another string: status in name = "typo-status") and for a requirement written in two
# tables. These helpers find the key itself, and a requirement inside its own list.
_HEADER = re.compile(r"\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_ASSIGNMENT = re.compile(rf"\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")


def _dotted(text: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in re.findall(_KEY_PART, text))


def _lines(ws: Workspace, package: Package) -> list[str]:
    try:
        return (ws.root / package.pyproject).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _key_line(ws: Workspace, package: Package, key: str) -> int | None:
    """1-based line where the dotted TOML *key* (e.g. ``tool.monorepo.status``) is assigned."""
    want = tuple(key.split("."))
    table: tuple[str, ...] = ()
    for number, line in enumerate(_lines(ws, package), 1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header.group(1))
        elif (assigned := _ASSIGNMENT.match(line)) and table + _dotted(assigned.group(1)) == want:
            return number
    return None


def _string_line(ws: Workspace, package: Package, key: str, value: str) -> int | None:
    """1-based line of the quoted *value* in the list assigned to *key* (first one elsewhere)."""
    start = _key_line(ws, package, key)
    if start is not None:
        lines = _lines(ws, package)
        for number in range(start, len(lines) + 1):
            line = lines[number - 1]
            if f'"{value}"' in line or f"'{value}'" in line:
                return number
            if number > start and (_HEADER.match(line) or _ASSIGNMENT.match(line)):
                break
    return ws.line_of(package, value)


def _internal_dependency(
    ws: Workspace, dep: Dependency, source: Package, target: Package, blocked: tuple[int, list[str]]
) -> Finding:
    count, names = blocked
    statuses = ", ".join(f"{n} ({ws.packages[n].status})" for n in names)
    more = f" and {count - len(names)} more" if count > len(names) else ""
    blocked_text = (
        f" It also blocks {count} publishable package(s) that depend on {source.name}: {statuses}{more}."
        if count
        else " No other publishable package depends on it."
    )
    return Finding(
        code="internal-dependency",
        package=source.name,
        file=source.pyproject,
        line=_string_line(ws, source, dep.field, dep.raw),
        message=(
            f"{source.name} ({source.status}) depends on {target.name} ({target.status}) through "
            f"{dep.raw!r} in {_where(dep)}; {target.name} is never published, so {source.name} "
            f"could not be installed from the registry.{blocked_text}"
        ),
        fix=(
            f'publish the dependency (set status = "incubator", "supported" or "stable" under '
            f"[tool.monorepo] in {target.pyproject}), or drop the requirement from {_where(dep)} "
            f"of {source.pyproject} (a [dependency-groups] entry is fine if it is only needed "
            "for development)"
        ),
        related=tuple(names),
        related_count=count,
        subject=f"{dep.field}: {dep.raw}",  # one string may be required in two tables
    )


def _rejected(ws: Workspace, package: Package) -> list[Finding]:
    if not package.usable:
        return list(_problems(ws, package))
    twin = ws.packages[package.name]
    return [
        Finding(
            code="duplicate-name",
            package=package.name,
            file=package.pyproject,
            line=ws.line_of(package, package.declared_name or package.name),
            message=(
                f"{package.pyproject} declares name {package.declared_name!r}, which normalizes to "
                f"{package.name!r}, already declared by {twin.pyproject}; two folders cannot "
                "publish the same distribution"
            ),
            fix=(
                f"rename one of them ([project].name in {package.pyproject} or {twin.pyproject}), "
                "or remove the copy; names are compared after PEP 503 normalization "
                "(Runner_Core and runner-core are the same name)"
            ),
            related=(twin.name,),
            related_count=1,
            subject=package.path,
        )
    ]


def _problems(ws: Workspace, package: Package) -> list[Finding]:
    out = []
    for problem in package.problems:
        line = problem.line
        if line is None and problem.field not in ("(file)", "[project]", "project.name"):
            if problem.message.startswith("'"):  # an invalid requirement, quoted first
                line = _string_line(ws, package, problem.field, problem.message.split("'")[1])
            else:
                line = _key_line(ws, package, problem.field)
                line = line or ws.line_of(package, problem.field.rsplit(".", 1)[-1])
        subject = "pyproject.toml" if problem.field == "(file)" else problem.field
        out.append(
            Finding(
                code=problem.code,
                package=package.name,
                file=package.pyproject,
                line=line,
                column=problem.column,
                message=f"{subject} {problem.message}",
                fix=problem.fix,
                subject=f"{problem.field}: {problem.message}",
            )
        )
    return out


def _status(ws: Workspace, package: Package) -> list[Finding]:
    out = []
    if not package.status_valid:
        lowered = package.status.strip().strip("'\"").lower()
        close = difflib.get_close_matches(lowered, STATUSES, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        out.append(
            Finding(
                code="invalid-status",
                package=package.name,
                file=package.pyproject,
                line=_key_line(ws, package, "tool.monorepo.status")
                or ws.line_of(package, "status"),
                message=(
                    f"[tool.monorepo].status = {package.status!r} is not one of "
                    f"{', '.join(STATUSES)}{hint}; the package is neither published nor "
                    "known to be internal"
                ),
                fix=f'set status = "{close[0] if close else "internal"}" under [tool.monorepo] in {package.pyproject}',
            )
        )
    for key in package.unknown_keys:
        close = difflib.get_close_matches(key, ("status",), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else " (the only key is 'status')"
        out.append(
            Finding(
                code="unknown-setting",
                package=package.name,
                file=package.pyproject,
                line=_key_line(ws, package, f"tool.monorepo.{key}") or ws.line_of(package, key),
                message=f"[tool.monorepo].{key} is not a setting{hint}; a misspelt status leaves the package internal",
                fix=f"rename or remove {key} under [tool.monorepo] in {package.pyproject}",
            )
        )
    return out


def _version(ws: Workspace, package: Package) -> list[Finding]:
    if "version" in package.dynamic:
        return [
            Finding(
                code="dynamic-version",
                package=package.name,
                file=package.pyproject,
                line=_key_line(ws, package, "project.dynamic") or ws.line_of(package, "dynamic"),
                message=(
                    f'{package.name} ({package.status}) declares dynamic = ["version"]; a snapshot '
                    "rewrites project.version in a staging copy and needs a static base version"
                ),
                fix=(
                    f'replace "version" in dynamic with version = "X.Y.Z" in [project] of '
                    f"{package.pyproject} (and remove the version plugin settings, e.g. "
                    "[tool.hatch.version] or [tool.setuptools_scm])"
                ),
            )
        ]
    if package.version is None:
        return [
            Finding(
                code="invalid-version",
                package=package.name,
                file=package.pyproject,
                line=None,
                message=f"{package.name} ({package.status}) has no project.version; a snapshot needs a base version",
                fix=f'add version = "0.1.0" to [project] in {package.pyproject}',
            )
        ]
    try:
        Version(package.version)
    except InvalidVersion:
        return [
            Finding(
                code="invalid-version",
                package=package.name,
                file=package.pyproject,
                line=_key_line(ws, package, "project.version")
                or ws.line_of(package, package.version),
                message=f"project.version = {package.version!r} is not a PEP 440 version",
                fix=(
                    f'set a PEP 440 version in [project] of {package.pyproject}, e.g. version = "0.1.0" '
                    "(N(.N)*, optionally followed by aN/bN/rcN, .postN, .devN)"
                ),
            )
        ]
    return []


def _references(ws: Workspace, package: Package) -> list[Finding]:
    """local-path-dependency and direct-reference findings of one publishable package."""
    out: list[Finding] = []
    runtime_names: set[str] = set()
    for dep in package.dependencies:
        if dep.kind not in BLOCKING_KINDS or dep.name is None:
            continue
        runtime_names.add(dep.name)
        path = dep.requirement.path
        if ws.resolve(package, dep) is not None:
            # A monorepo package is published by version; a local path that is not its folder
            # installs something else during development: the name and the path disagree.
            if path is not None and ws.path_target(path) != dep.name:
                line = _string_line(ws, package, dep.field, dep.raw)
                out.append(_local_path(ws, package, dep.name, dep.raw, _where(dep), path, line))
            continue
        if dep.requirement.url is None:
            continue
        line = _string_line(ws, package, dep.field, dep.raw)
        if path is not None:
            out.append(_local_path(ws, package, dep.name, dep.raw, _where(dep), path, line))
        else:
            out.append(
                Finding(
                    code="direct-reference",
                    package=package.name,
                    file=package.pyproject,
                    line=line,
                    message=(
                        f"{package.name} ({package.status}) requires {dep.raw!r} in {_where(dep)}: a "
                        "direct URL reference; registries (GitLab's included) reject uploads whose "
                        "metadata holds one, and an index install cannot follow it"
                    ),
                    fix=(
                        f"publish {dep.name} to a registry and require it by version "
                        f"(e.g. '{dep.name}>=1.0'), or move its code into the monorepo as a package"
                    ),
                )
            )
    for source in package.uv_sources:
        if source.name not in runtime_names:  # a source for a dev-only requirement is harmless
            continue
        written = f"{source.name} = {{ path = {source.value!r} }}"
        if source.name in ws.packages:
            if (
                source.kind == "path"
                and source.path is not None
                and ws.path_target(source.path) != source.name
            ):
                out.append(
                    _local_path(
                        ws,
                        package,
                        source.name,
                        written,
                        "[tool.uv.sources]",
                        source.path,
                        ws.line_of(package, source.value),
                    )
                )
            continue
        line = ws.line_of(package, source.value)
        if source.kind == "path" and source.path is not None:
            out.append(
                _local_path(
                    ws, package, source.name, written, "[tool.uv.sources]", source.path, line
                )
            )
        elif source.kind == "workspace":
            out.append(
                Finding(
                    code="local-path-dependency",
                    package=package.name,
                    file=package.pyproject,
                    line=(
                        _key_line(ws, package, f"tool.uv.sources.{source.name}")
                        or ws.line_of(package, "workspace")
                    ),
                    message=(
                        f"[tool.uv.sources] takes {source.name!r} from the uv workspace, but no package "
                        "of this monorepo has that name, so the published package would require a "
                        "distribution the registry does not have"
                    ),
                    fix=f"add {source.name} to the monorepo as a package, or drop the source and require a published version",
                )
            )
        elif source.kind in ("git", "url"):
            out.append(
                Finding(
                    code="direct-reference",
                    package=package.name,
                    file=package.pyproject,
                    line=line,
                    message=(
                        f"[tool.uv.sources] takes {source.name!r} from {source.kind} {source.value!r}; the "
                        f"published metadata only says {source.name!r}, so consumers would get "
                        "whatever the registry has under that name"
                    ),
                    fix=f"publish {source.name} to a registry and require it by version, or move it into the monorepo",
                )
            )
    return out


def _local_path(
    ws: Workspace,
    package: Package,
    name: str,
    written: str,
    where: str,
    path: str,
    line: int | None,
) -> Finding:
    pointed = ws.path_target(path)
    shown = _relative(ws, path)
    if pointed is not None:
        message = (
            f"{written!r} in {where} names {name!r}, but {shown} is the monorepo package "
            f"{pointed!r}: the name and the folder disagree"
        )
        fix = f"write the requirement as '{pointed}' (or fix the path) in {package.pyproject}"
    elif name in ws.packages:
        message = (
            f"{written!r} in {where} names the monorepo package {name!r}, but {shown} is not its "
            f"folder ({ws.packages[name].path})"
        )
        fix = f"point the path at {ws.packages[name].path}, or require plain '{name}'"
    else:
        message = (
            f"{package.name} ({package.status}) requires {written!r} in {where}: a local path "
            f"({shown}) that is not a package of this monorepo; published packages cannot depend "
            "on file:// requirements"
        )
        fix = (
            f"publish {name} to the registry and require it by version (e.g. '{name}>=1.0'), or add "
            "its folder to the monorepo (a folder matched by [tool.monorepo].packages) with a "
            "publishable status"
        )
    subject = f"{where}: {written}"  # one string may be required in two tables
    return Finding(
        "local-path-dependency",
        package.name,
        package.pyproject,
        line,
        message,
        fix,
        subject=subject,
    )


def _relative(ws: Workspace, path: str) -> str:
    root = ws.root.as_posix().rstrip("/") + "/"
    return path[len(root) :] if path.startswith(root) else path


def _cycle(
    ws: Workspace, graph: DependencyGraph, cycle: tuple[str, ...], members: tuple[str, ...]
) -> Finding:
    first = ws.packages[cycle[0]]
    nxt = cycle[1] if len(cycle) > 1 else cycle[0]
    dep = graph.blocking[first.name][nxt]["edges"][0].dependency
    ring = " -> ".join((*cycle, cycle[0]))
    also = (
        f" ({len(members)} packages depend on each other: {', '.join(members)})"
        if len(members) > len(cycle)
        else ""
    )
    return Finding(
        code="dependency-cycle",
        package=first.name,
        file=first.pyproject,
        line=_string_line(ws, first, dep.field, dep.raw),
        message=(
            f"dependency cycle among runtime/optional requirements: {ring}{also}; packages in a cycle "
            "have no dependency order to publish in"
        ),
        fix=(
            "break the cycle: move one of these requirements to [dependency-groups] if it is only "
            "needed for development, or move the shared code into a package both can depend on"
        ),
        related=members,
        related_count=len(members),
        subject=ring,
    )
