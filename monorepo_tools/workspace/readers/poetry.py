"""``[tool.poetry]``: Poetry 1 projects, and Poetry 2 projects that add it to ``[project]``.

* name and version from ``[tool.poetry]`` (unless ``[project]`` has them: Poetry 2);
* ``[tool.poetry.dependencies]`` (``python`` excepted) as runtime requirements, unless
  ``[project].dependencies`` is declared (then, as in poetry-core 2, the table only adds
  sources, e.g. a ``path``, to those requirements: it is still read, so that a path draws its
  edge and is pinned in staging). Values are translated to PEP 508 the way poetry-core does:
  ``^1.2`` → ``>=1.2,<2.0``, ``~1.2`` → ``>=1.2,<1.3``, ``*`` → any, ``1.2`` → ``==1.2``;
  tables with ``version``, ``extras``, ``markers``, ``python``, ``optional``, ``path``, ``git``,
  ``url``; lists of such tables (one per marker);
* optional requirements belong to the extras of ``[tool.poetry.extras]`` that list them;
* ``[tool.poetry.group.<g>.dependencies]`` and legacy ``[tool.poetry.dev-dependencies]`` are dev.

The requirement strings made here are what the wheel's metadata would say; ``Dependency.field``
is ``tool.poetry.dependencies`` so that staging knows to rewrite the table, not a string.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import Dependency, EdgeKind, Problem
from .common import INTERNER, problem

__all__ = ["poetry_constraint", "read_poetry_dependencies"]

_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)(.*)$")


def _bump(parts: list[int], index: int) -> str:
    upper = parts[: index + 1]
    upper[index] += 1
    return ".".join(map(str, upper + [0] * max(0, len(parts) - index - 1)))


def _caret(version: str) -> str:
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(version)
    parts = [int(p) for p in match.group(1).split(".")]
    rest = match.group(2)
    lower = match.group(1) + rest
    index = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
    if len(parts) == 1 or (index >= len(parts)):
        index = min(index, len(parts) - 1)
    return f">={lower},<{_bump(parts, index)}"


def _tilde(version: str) -> str:
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(version)
    parts = [int(p) for p in match.group(1).split(".")]
    lower = match.group(1) + match.group(2)
    index = 0 if len(parts) == 1 else 1
    return f">={lower},<{_bump(parts, index)}"


def poetry_constraint(text: str) -> str:
    """A Poetry version constraint as a PEP 440 specifier (ValueError when it has none).

    >>> poetry_constraint("^1.2.3"), poetry_constraint("^0.2.3"), poetry_constraint("~1.2")
    ('>=1.2.3,<2.0.0', '>=0.2.3,<0.3.0', '>=1.2,<1.3')
    >>> poetry_constraint("*"), poetry_constraint("1.4"), poetry_constraint(">=1, <2")
    ('', '==1.4', '>=1,<2')
    """
    text = text.strip()
    if text in ("", "*"):
        return ""
    if "||" in text or "|" in text:
        raise ValueError(f"{text!r} is a union ('||'), which PEP 440 cannot express")
    out = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", text):
        part = part.strip()
        if not part:
            continue
        if part.startswith("^"):
            out.append(_caret(part[1:]))
        elif part.startswith("~="):
            out.append(part.replace(" ", ""))
        elif part.startswith("~"):
            out.append(_tilde(part[1:]))
        elif part[0] in "<>=!":
            out.append(part.replace(" ", ""))
        elif part == "*":
            continue
        elif part.endswith(".*"):
            out.append("==" + part)
        else:
            out.append("==" + part)
    return ",".join(out)


def _alternatives(text: str) -> list[str]:
    """The alternatives of a Poetry union (``^1.2 || ^2.0``; ``|`` is Poetry's spelling too)."""
    return [part.strip() for part in re.split(r"\|\|?", text)]


def _requirement_constraint(text: str) -> str:
    """The PEP 440 specifier of a requirement's constraint. A union has none (PEP 440 has no
    "or"): the requirement is read by its name alone, which is all the graph needs; staging
    pins a monorepo package whatever was written, and poetry-core writes the metadata."""
    if "|" not in text:
        return poetry_constraint(text)
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    for alternative in _alternatives(text):  # each alternative must still be a constraint
        try:
            SpecifierSet(poetry_constraint(alternative))
        except InvalidSpecifier as exc:
            raise ValueError(
                f"{alternative!r} (in the union {text!r}) is not a constraint"
            ) from exc
    return ""


def _python_marker(text: str) -> str:
    """``python = "^3.8"`` as a marker; a union becomes the alternatives joined by ``or``."""
    if "|" in text:
        markers = [_python_marker(alternative) for alternative in _alternatives(text)]
        if any(not m for m in markers):
            return ""  # one alternative admits every Python
        return " or ".join(f"({m})" for m in markers)
    spec = poetry_constraint(text)
    parts = [p for p in spec.split(",") if p]
    return " and ".join(
        f'python_version {m.group(1)} "{m.group(2)}"'
        for p in parts
        if (m := re.match(r"(==|!=|>=|<=|~=|<|>)(.+)", p))
    )


def _requirement(
    name: str, spec: object, package_dir: str
) -> tuple[str, bool, tuple[str, ...]] | str:
    """(PEP 508 string, optional, extras) for one entry, or an error message."""
    if isinstance(spec, str):
        try:
            return f"{name}{_requirement_constraint(spec)}", False, ()
        except ValueError as exc:
            return f"{name} = {spec!r}: {exc}"
    if not isinstance(spec, dict):
        return f"{name} = {spec!r} is neither a version string nor a table"
    extras = spec.get("extras", [])
    extras = tuple(e for e in extras if isinstance(e, str)) if isinstance(extras, list) else ()
    head = name + (f"[{','.join(extras)}]" if extras else "")
    markers = []
    if isinstance(spec.get("markers"), str):
        markers.append(f"({spec['markers']})" if " or " in spec["markers"] else spec["markers"])
    if isinstance(spec.get("python"), str):
        try:
            python = _python_marker(spec["python"])
        except ValueError as exc:
            return f"{name}: python = {spec['python']!r}: {exc}"
        if python:
            markers.append(f"({python})" if " or " in python else python)
    if isinstance(spec.get("platform"), str):
        markers.append(f'sys_platform == "{spec["platform"]}"')
    marker = f"; {' and '.join(markers)}" if markers else ""
    if isinstance(spec.get("path"), str):
        body = f"{head} @ file:{spec['path']}"
    elif isinstance(spec.get("git"), str):
        ref = next(
            (spec[k] for k in ("rev", "tag", "branch") if isinstance(spec.get(k), str)), None
        )
        url = spec["git"] if spec["git"].startswith("git+") else f"git+{spec['git']}"
        body = f"{head} @ {url}" + (f"@{ref}" if ref else "")
    elif isinstance(spec.get("url"), str):
        body = f"{head} @ {spec['url']}"
    else:
        version = spec.get("version", "*")
        if not isinstance(version, str):
            return f"{name}: version = {version!r} must be a string"
        try:
            body = head + _requirement_constraint(version)
        except ValueError as exc:
            return f"{name} = {version!r}: {exc}"
    if marker and "@" in body:
        marker = " " + marker  # PEP 508: a space before ";" after a URL
    return body + marker, spec.get("optional") is True, extras


def read_poetry_dependencies(
    poetry: dict[str, Any],
    package_dir: str,
    problems: list[Problem],
    runtime: bool,
) -> list[Dependency]:
    """Dependencies of ``[tool.poetry]`` (runtime ones only when *runtime*), groups as dev."""
    out: list[Dependency] = []
    extras_table = poetry.get("extras", {})
    extra_of: dict[str, list[str]] = {}
    if isinstance(extras_table, dict):
        for extra, names in extras_table.items():
            if isinstance(names, list):
                for n in names:
                    if isinstance(n, str):
                        extra_of.setdefault(_norm(n), []).append(extra)

    def add(table: object, field_name: str, kind: EdgeKind, group: str | None) -> None:
        if table is None:
            return
        if not isinstance(table, dict):
            problems.append(
                problem(
                    field_name,
                    "must be a table of name = constraint",
                    "write [" + field_name + "] with one line per dependency",
                )
            )
            return
        for name, spec in table.items():
            if kind is EdgeKind.RUNTIME and name.lower() == "python":
                continue
            for entry in spec if isinstance(spec, list) else [spec]:
                made = _requirement(name, entry, package_dir)
                if isinstance(made, str):
                    problems.append(
                        problem(
                            f"{field_name}.{name}",
                            made,
                            'write a Poetry constraint such as "^1.2", ">=1,<2" or a table with version/path',
                        )
                    )
                    continue
                text, optional, _ = made
                parsed = INTERNER.requirement(text, package_dir)
                if parsed.error is not None:
                    problems.append(
                        problem(f"{field_name}.{name}", parsed.error, "fix the dependency entry")
                    )
                    continue
                if kind is EdgeKind.RUNTIME and optional:
                    for extra in extra_of.get(_norm(name), []):
                        out.append(
                            INTERNER.dependency(parsed, EdgeKind.OPTIONAL, extra, field_name)
                        )
                    continue
                out.append(INTERNER.dependency(parsed, kind, group, field_name))

    if runtime:
        add(poetry.get("dependencies"), "tool.poetry.dependencies", EdgeKind.RUNTIME, None)
    add(poetry.get("dev-dependencies"), "tool.poetry.dev-dependencies", EdgeKind.DEV, "dev")
    groups = poetry.get("group")
    if isinstance(groups, dict):
        for group, table in groups.items():
            deps = table.get("dependencies") if isinstance(table, dict) else None
            add(deps, f"tool.poetry.group.{group}.dependencies", EdgeKind.DEV, group)
    return out


def poetry_sources(poetry: dict[str, Any], package_dir: str) -> list[Dependency]:
    """Poetry 2: ``[tool.poetry.dependencies]`` entries that add a path/git/url source to a
    ``[project]`` requirement (they reach the wheel's metadata, so they are real edges)."""
    problems: list[Problem] = []
    table = poetry.get("dependencies")
    if not isinstance(table, dict):
        return []
    sources = {
        name: spec
        for name, spec in table.items()
        if isinstance(spec, dict) and any(k in spec for k in ("path", "git", "url"))
    }
    deps = read_poetry_dependencies({"dependencies": sources}, package_dir, problems, True)
    return [d for d in deps if d.kind is EdgeKind.RUNTIME]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
