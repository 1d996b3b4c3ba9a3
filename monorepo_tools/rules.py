"""Publishability rules: a workspace and its graph in, every :class:`Finding` out.

Rules never print and never stop early: ``check`` returns all findings of all packages at once,
sorted by publish level, then package name, then line, so reports are stable between runs.

Codes (stable; they are the ``code`` of JSON reports and the check name in GitLab):

=====================  ==============================================================
internal-dependency    a publishable package depends (runtime/optional) on a non-publishable one
local-path-dependency  a publishable package has a file:// or path requirement outside the monorepo
direct-reference       a publishable package has another direct URL requirement (git+https://...)
invalid-version        a publishable package has no base version, or not a PEP 440 one
dynamic-version        a publishable package's dynamic version cannot be read statically and
                       has no [tool.monorepo] base-version fallback
invalid-status         [tool.monorepo].status is not one of the four allowed values
unknown-setting        [tool.monorepo] has a key other than status / base-version (a typo)
dependency-cycle       a cycle among runtime requirements (extras count only with runtime ones)
duplicate-name         two folders declare the same normalized name
invalid-pyproject      unreadable TOML, an invalid name or requirement, a non-file pyproject, ...
unpinnable-metadata    a publishable package's requirements come from its backend (a metadata
                       hook, setup.py) and name monorepo packages: staging cannot pin them
metadata-unavailable   the backend's PEP 517 metadata could not be prepared for a package
=====================  ==============================================================

Not blocking (reported, exit code unaffected):

=========================  ==========================================================
optional-dependency-cycle  a cycle that closes only through optional extras (warning);
                           publish order ignores those edges, exact pins need no order
config-only                a pyproject under a glob with only tool settings (note): skipped
=========================  ==========================================================
"""

from __future__ import annotations

import difflib
import posixpath
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from .graph import BLOCKING_KINDS, DependencyGraph
from .workspace import STATUSES, Dependency, Package, Workspace
from .workspace import lines as _source_lines

__all__ = [
    "BLOCKING_CODES",
    "CODES",
    "NOTE_CODES",
    "WARNING_CODES",
    "Finding",
    "check_workspace",
    "violating_edges",
]

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
    "unpinnable-metadata",
    "metadata-unavailable",
    "optional-dependency-cycle",
    "config-only",
)
WARNING_CODES = frozenset({"optional-dependency-cycle"})
NOTE_CODES = frozenset({"config-only"})
# Every other code blocks a snapshot: the published set would be wrong or unusable.
BLOCKING_CODES = frozenset(CODES) - WARNING_CODES - NOTE_CODES
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
        if self.code in NOTE_CODES:
            return "info"
        if self.code in WARNING_CODES:
            return "minor"
        return (
            "critical"
            if self.code in ("invalid-pyproject", "dependency-cycle", "duplicate-name")
            else "major"
        )

    @property
    def blocking(self) -> bool:
        return self.code in BLOCKING_CODES


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
    published = set(publishable)
    violations = [
        (e, workspace.packages[e.target])
        for e in workspace.edges
        if e.target not in published
        and e.source in published
        and e.dependency.kind in BLOCKING_KINDS
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
        findings.extend(_metadata(workspace, package))
    for members, cycle in zip(graph.components, graph.cycles, strict=True):
        findings.append(_cycle(workspace, graph, cycle, members))
    for members, cycle in zip(graph.optional_components, graph.optional_cycles, strict=True):
        findings.append(_optional_cycle(workspace, graph, cycle, members))
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


# Lines are looked up only for findings, through the one line finder (workspace/lines.py).


def _file_of(package: Package, field_name: str) -> str:
    """The file (relative to the root) where *field_name* of *package* is written."""
    if field_name == "(file)":
        return package.pyproject
    if field_name.startswith(("options.", "metadata.")) and "setup.cfg" in package.files:
        return package.file("setup.cfg")
    if "pyproject.toml" in package.files and not field_name.startswith(("options.", "metadata.")):
        return package.file("pyproject.toml")
    return package.pyproject


def _key_line(ws: Workspace, package: Package, key: str) -> int | None:
    """1-based line where the dotted TOML/INI *key* (e.g. ``tool.monorepo.status``) is set."""
    return _source_lines.key_line(ws.root / _file_of(package, key), key)


def _string_line(ws: Workspace, package: Package, key: str, value: str) -> int | None:
    """1-based line of the quoted *value* in the list assigned to *key* (first one elsewhere)."""
    return _source_lines.string_line(ws.root / _file_of(package, key), key, value)


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
        if problem.code in ("dynamic-version", "metadata-unavailable") and not package.publishable:
            continue  # an internal package is never built at a snapshot version
        file = package.file(problem.file) if problem.file else _file_of(package, problem.field)
        line = problem.line
        if (
            line is None
            and problem.field not in ("(file)", "[project]")
            and problem.message != "is missing"
        ):
            if problem.message.startswith("'"):  # an invalid requirement, quoted first
                line = _string_line(ws, package, problem.field, problem.message.split("'")[1])
            else:
                line = _key_line(ws, package, problem.field)
                line = line or _source_lines.line_of(
                    ws.root / file, problem.field.rsplit(".", 1)[-1]
                )
        subject = posixpath.basename(file) if problem.field == "(file)" else problem.field
        message = f"{subject} {problem.message}"
        fix = problem.fix
        if problem.code == "dynamic-version":
            reason = problem.message.split("; ", 1)[-1]
            message = (
                f'{package.name} ({package.status}) declares dynamic = ["version"], and its base '
                f"version cannot be read without running the package: {reason}"
            )
            fix = (
                f'{problem.fix}; or set [tool.monorepo] base-version = "X.Y.Z" (the fallback), '
                f'or replace "version" in dynamic with version = "X.Y.Z" in [project] of '
                f"{package.pyproject}"
            )
        out.append(
            Finding(
                code=problem.code,
                package=package.name,
                file=file,
                line=line,
                column=problem.column,
                message=message,
                fix=fix,
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
        close = difflib.get_close_matches(key, ("status", "base-version"), n=1, cutoff=0.5)
        hint = (
            f" (did you mean {close[0]!r}?)"
            if close
            else " (the keys are 'status' and 'base-version')"
        )
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


def _bad_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return True
    return False


def _version(ws: Workspace, package: Package) -> list[Finding]:
    """invalid-version / dynamic-version of a publishable package (see the module docstring)."""
    if package.base_version is not None and _bad_version(package.base_version):
        return [
            Finding(
                code="invalid-version",
                package=package.name,
                file=package.file("pyproject.toml"),
                line=_key_line(ws, package, "tool.monorepo.base-version"),
                message=f"[tool.monorepo] base-version = {package.base_version!r} is not a PEP 440 version",
                fix='write a release such as base-version = "1.4.0"',
            )
        ]
    dynamic = "version" in package.dynamic
    if package.tag_pattern is not None:
        return []  # resolved from git tags when planning (base-version as the fallback)
    if package.version is None:
        if package.base_version is not None:
            return []
        if (
            any(p.code == "dynamic-version" for p in package.problems)
            or "version" in package.needs_metadata
        ):
            return []  # reported with its reason by _problems / _metadata
        if dynamic:
            return [
                Finding(
                    code="dynamic-version",
                    package=package.name,
                    file=package.pyproject,
                    line=_key_line(ws, package, "project.dynamic")
                    or ws.line_of(package, "dynamic"),
                    message=(
                        f'{package.name} ({package.status}) declares dynamic = ["version"] and '
                        "nothing this tool reads says where it comes from"
                    ),
                    fix=(
                        f'set [tool.monorepo] base-version = "X.Y.Z" in {package.pyproject}, or '
                        'a static version = "X.Y.Z" in [project]'
                    ),
                )
            ]
        table = "[tool.poetry]" if package.flavour == "poetry" else "[project]"
        return [
            Finding(
                code="invalid-version",
                package=package.name,
                file=package.pyproject,
                line=None,
                message=(
                    f"{package.name} ({package.status}) has no {table[1:-1]}.version; a snapshot "
                    "needs a base version"
                ),
                fix=(
                    f'add version = "0.1.0" to {table} in {package.pyproject} (or set '
                    '[tool.monorepo] base-version = "0.1.0")'
                ),
            )
        ]
    if not _bad_version(package.version):
        return []
    if package.version_file:
        where = package.file(package.version_file)
        return [
            Finding(
                code="invalid-version",
                package=package.name,
                file=where,
                line=_source_lines.line_of(ws.root / where, package.version),
                message=(
                    f"the version {package.version!r} read from {where} ({package.version_source}) "
                    "is not a PEP 440 version"
                ),
                fix=f'write a PEP 440 version in {where}, e.g. __version__ = "0.1.0"',
            )
        ]
    key = {"poetry": "tool.poetry.version", "setup.cfg": "metadata.version"}.get(
        package.flavour, "project.version"
    )
    return [
        Finding(
            code="invalid-version",
            package=package.name,
            file=_file_of(package, key),
            line=_key_line(ws, package, key) or ws.line_of(package, package.version),
            message=f"{key} = {package.version!r} is not a PEP 440 version",
            fix=(
                f'set a PEP 440 version ({key}) in {_file_of(package, key)}, e.g. version = "0.1.0" '
                "(N(.N)*, optionally followed by aN/bN/rcN, .postN, .devN)"
            ),
        )
    ]


def _metadata(ws: Workspace, package: Package) -> list[Finding]:
    """unpinnable-metadata: requirements only the backend knows cannot be pinned in staging."""
    if not package.publishable or not package.needs_metadata:
        return []
    internal = sorted(
        {
            d.name
            for d in package.dependencies
            if d.name is not None
            and d.name in ws.packages
            and d.name != package.name
            and d.kind in BLOCKING_KINDS
        }
    )
    if package.flavour == "setup.py":
        what = "setup.py computes its metadata"
        fix = (
            f"move the metadata of {package.pyproject} to [project] in pyproject.toml (or "
            "setup.cfg), so staging can pin its monorepo requirements; or keep it internal"
        )
    else:
        what = f"{', '.join(package.needs_metadata)} are dynamic (a metadata hook computes them)"
        fix = (
            f"declare the requirements on monorepo packages statically in [project] of "
            f"{package.pyproject} (drop them from dynamic), or template them with the snapshot "
            "version the build gets (the hook sees project.version)"
        )
    if package.flavour != "setup.py" and not internal:
        return []  # nothing of the monorepo in it: the hook's pins are its own business
    names = f" (it requires {', '.join(internal)})" if internal else ""
    return [
        Finding(
            code="unpinnable-metadata",
            package=package.name,
            file=package.pyproject,
            line=_key_line(ws, package, "project.dynamic"),
            message=(
                f"{package.name} ({package.status}): {what}{names}; staging can only pin "
                "requirements it can rewrite, and a wrong pin would publish a version that "
                "does not exist"
            ),
            fix=fix,
        )
    ]


def _references(ws: Workspace, package: Package) -> list[Finding]:
    """local-path-dependency and direct-reference findings of one publishable package."""
    out: list[Finding] = []
    runtime_names: set[str] = set()
    for dep in package.dependencies:
        if dep.kind not in BLOCKING_KINDS:
            continue
        requirement = dep.requirement
        name = requirement.name
        if name is None:
            continue
        runtime_names.add(name)
        if requirement.url is None:  # by name and version: nothing to say (a path has a URL)
            continue
        path = requirement.path
        if ws.resolve(package, dep) is not None:
            # A monorepo package is published by version; a local path that is not its folder
            # installs something else during development: the name and the path disagree.
            if path is not None and ws.path_target(path) != name:
                line = _string_line(ws, package, dep.field, dep.raw)
                out.append(_local_path(ws, package, name, dep.raw, _where(dep), path, line))
            continue
        line = _string_line(ws, package, dep.field, dep.raw)
        if path is not None:
            out.append(_local_path(ws, package, name, dep.raw, _where(dep), path, line))
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
        if source.kind == "path":
            # uv sources never reach a wheel's metadata (it says plain name + specifier), so a
            # path to a sibling outside the globs is a development convenience, not a problem.
            continue
        if source.kind == "workspace":
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


def _optional_cycle(
    ws: Workspace, graph: DependencyGraph, cycle: tuple[str, ...], members: tuple[str, ...]
) -> Finding:
    first = ws.packages[cycle[0]]
    nxt = cycle[1] if len(cycle) > 1 else cycle[0]
    data = graph.optional_cycle_edges.get((first.name, nxt))
    if data is None and graph.blocking.has_edge(first.name, nxt):
        data = graph.blocking[first.name][nxt]["edges"]
    dep = data[0].dependency if data else None
    ring = " -> ".join((*cycle, cycle[0]))
    through = ", ".join(
        sorted(
            {
                f"{e.source}[{e.dependency.group}]"
                for es in graph.optional_cycle_edges.values()
                for e in es
                if e.source in members
            }
        )
    )
    return Finding(
        code="optional-dependency-cycle",
        package=first.name,
        file=first.pyproject,
        line=_string_line(ws, first, dep.field, dep.raw) if dep else None,
        message=(
            f"dependency cycle through optional extras only: {ring} (extras: {through}); pip "
            "installs it, and exact pins do not depend on upload order, so the publish order "
            "ignores the optional edges"
        ),
        fix=(
            "nothing is required; to remove the warning, move the extra's requirement into a "
            "package both can depend on"
        ),
        related=members,
        related_count=len(members),
        subject=ring,
    )
