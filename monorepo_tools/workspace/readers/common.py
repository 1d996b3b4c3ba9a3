"""What every reader shares: requirement interning, problems, requirement lists, names."""

from __future__ import annotations

import re

from ...requirements import ParsedRequirement, parse_requirement
from ..model import Dependency, EdgeKind, Problem

__all__ = ["INTERNER", "Interner", "check_name", "collect", "problem"]

# PEP 508 names: ASCII letters and digits, with . _ - inside (the check is on the name as written).
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")


class Interner:
    """Equal requirement values are shared between all the packages read in one process.

    A monorepo writes the same strings over and over (``requests>=2``, ``runner-core>=0.1``, the
    same hatch URL from every sibling folder): each distinct string is parsed once, and equal
    :class:`ParsedRequirement` / :class:`Dependency` values are one object. That makes reading
    cheaper and the cache smaller and faster to load (its tables store each value once).
    Sharing is invisible: the values are immutable and compare by value.
    """

    __slots__ = ("by_text", "dependencies", "values")
    LIMIT = 400_000  # entries; a long-lived process starts over instead of growing forever

    def __init__(self) -> None:
        self.by_text: dict[str, ParsedRequirement] = {}
        self.values: dict[ParsedRequirement, ParsedRequirement] = {}
        self.dependencies: dict[tuple[int, EdgeKind, str | None, str], Dependency] = {}

    def requirement(self, item: str, package_dir: str) -> ParsedRequirement:
        parsed = self.by_text.get(item)
        if parsed is not None:
            return parsed
        if len(self.values) > self.LIMIT:
            self.by_text.clear()
            self.values.clear()
            self.dependencies.clear()
        parsed = parse_requirement(item, package_dir)
        parsed = self.values.setdefault(parsed, parsed)
        # package_dir only matters through placeholders and the computed path of a file URL.
        if parsed.path is None and "{root" not in item and "${" not in item:
            self.by_text[item] = parsed
        return parsed

    def dependency(
        self, parsed: ParsedRequirement, kind: EdgeKind, group: str | None, field_name: str
    ) -> Dependency:
        key = (id(parsed), kind, group, field_name)
        dep = self.dependencies.get(key)
        if dep is None:
            dep = self.dependencies[key] = Dependency(parsed, kind, group, field_name)
        return dep


INTERNER = Interner()


def problem(
    field_name: str,
    message: str,
    fix: str,
    line: int | None = None,
    column: int | None = None,
    code: str = "invalid-pyproject",
    file: str | None = None,
) -> Problem:
    return Problem(field_name, message, fix, line, column, code, file)


def check_name(
    value: object, field_name: str, fallback: str, problems: list[Problem]
) -> str | None:
    """*value* when it is a valid PEP 508 distribution name, else None with a problem."""
    table = {
        "project.name": " in [project]",
        "tool.poetry.name": " in [tool.poetry]",
        "metadata.name": " in [metadata] of setup.cfg",
    }.get(field_name, "")
    if isinstance(value, str) and _NAME.match(value):
        return value
    if value is None:
        problems.append(problem(field_name, "is missing", f'set name = "{fallback}"{table}'))
    elif not isinstance(value, str):
        problems.append(
            problem(
                field_name, f"must be a string, got {value!r}", f'set name = "{fallback}"{table}'
            )
        )
    else:
        problems.append(
            problem(
                field_name,
                f"= {value!r} is not a valid distribution name (PEP 508: ASCII letters, digits "
                "and . _ - inside; no spaces, no control characters)",
                f'rename it, e.g. name = "{fallback}"{table}',
            )
        )
    return None


def collect(
    out: list[Dependency],
    problems: list[Problem],
    value: object,
    field_name: str,
    kind: EdgeKind,
    group: str | None,
    package_dir: str,
    file: str | None = None,
) -> None:
    """Append the requirements of the list *value* (problems for whatever is not one)."""
    if value is None:
        return
    if not isinstance(value, list):
        problems.append(
            problem(
                field_name,
                f"must be a list of requirement strings, got {type(value).__name__}",
                f'write {field_name.rsplit(".", 1)[-1]} = ["name>=1.0", ...]',
                file=file,
            )
        )
        return
    for item in value:
        if not isinstance(item, str):
            problems.append(
                problem(
                    field_name,
                    f"holds {item!r}, which is not a requirement string",
                    "quote each requirement",
                    file=file,
                )
            )
            continue
        parsed = INTERNER.requirement(item, package_dir)
        if parsed.error is not None:
            problems.append(
                problem(
                    field_name,
                    parsed.error,
                    "write a PEP 508 requirement: name[extras] specifier ; marker, or name @ URL",
                    file=file,
                )
            )
            continue
        out.append(INTERNER.dependency(parsed, kind, group, field_name))
