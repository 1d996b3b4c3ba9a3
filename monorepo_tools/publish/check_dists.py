"""Check built files before anything is uploaded.

:func:`verify_distribution` reads what a backend actually wrote (a backend may ignore the
rewritten pyproject: a dynamic version plugin, a stale ``PKG-INFO``, a build hook that pins
something else) and compares it with the plan: the wheel's ``METADATA`` must carry the snapshot
version and pin every monorepo dependency to exactly its snapshot version; the sdist's
``PKG-INFO`` and its ``pyproject.toml`` (the rewritten one, which a later rebuild from the sdist
uses) must say the same. :func:`twine_check` runs ``twine check`` in-process (a README that
PyPI would not render, metadata twine cannot read).

Both return problems as strings, each naming the file and what is wrong; an empty list is ok.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import io
import logging
import tarfile
import threading
import tomllib
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from email.message import Message
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["twine_check", "verify_distribution"]


def _normalized_version(text: str) -> str:
    try:
        return str(Version(text))
    except InvalidVersion:
        return text.strip()


def _same_version(found: str | None, expected: str) -> bool:
    return found is not None and _normalized_version(found) == _normalized_version(expected)


def _parse_metadata(data: bytes) -> Message:
    text = data.decode("utf-8", errors="replace")
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


def _check_requirements(
    label: str,
    where: str,
    requirements: Iterable[str],
    pins: Mapping[str, str],
    unpublished: frozenset[str] = frozenset(),
) -> list[str]:
    """Every requirement on a pinned (monorepo) package must be exactly ``==<pin>``, no URL;
    one on a monorepo package this snapshot does not publish (*unpublished*) is always wrong."""
    problems: list[str] = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            problems.append(f"{label}: {where} has an unreadable requirement {text!r}: {exc}")
            continue
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            if canonicalize_name(req.name) in unpublished:
                problems.append(
                    f"{label}: {where} requires {text!r}: {req.name} is a monorepo package that "
                    "has no snapshot version in this run (it is internal, or not planned), so "
                    "the requirement could not be installed from the registry"
                )
            continue
        wanted = f"{req.name}=={pin}"
        if req.url is not None:
            problems.append(
                f"{label}: {where} requires {req.name} from a URL ({req.url}) instead of {wanted!r}"
            )
            continue
        specs = list(req.specifier)
        exact = (
            len(specs) == 1
            and specs[0].operator == "=="
            and not specs[0].version.endswith(".*")
            and _same_version(specs[0].version, pin)
        )
        if not exact:
            found = f"{req.name}{req.specifier}" if specs else f"{req.name} (no version)"
            problems.append(f"{label}: {where} requires {found!r} instead of {wanted!r}")
    return problems


def _check_metadata(
    label: str,
    where: str,
    meta: Message,
    name: str,
    version: str,
    pins: Mapping[str, str],
    unpublished: frozenset[str] = frozenset(),
) -> list[str]:
    problems: list[str] = []
    found_name = meta.get("Name")
    if found_name is None or canonicalize_name(str(found_name)) != canonicalize_name(name):
        problems.append(f"{label}: {where} has Name {found_name!r}, expected {name!r}")
    found_version = meta.get("Version")
    if not _same_version(None if found_version is None else str(found_version), version):
        problems.append(
            f"{label}: {where} has Version {found_version!r}, expected the snapshot version"
            f" {version!r} (does the build backend ignore the rewritten pyproject?)"
        )
    requirements = [str(r) for r in meta.get_all("Requires-Dist") or []]
    problems += _check_requirements(label, where, requirements, pins, unpublished)
    return problems


def _verify_wheel(
    path: Path,
    name: str,
    version: str,
    pins: Mapping[str, str],
    unpublished: frozenset[str] = frozenset(),
) -> list[str]:
    label = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            found = [
                n
                for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(found) != 1:
                return [f"{label}: expected one *.dist-info/METADATA, found {len(found)}"]
            meta = _parse_metadata(archive.read(found[0]))
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{label}: cannot read the wheel: {exc}"]
    return _check_metadata(label, found[0], meta, name, version, pins, unpublished)


def _pyproject_requirements(project: Mapping[str, Any]) -> list[str]:
    requirements = [r for r in project.get("dependencies", []) or [] if isinstance(r, str)]
    optional = project.get("optional-dependencies", {}) or {}
    if isinstance(optional, dict):
        for group in optional.values():
            if isinstance(group, list):
                requirements += [r for r in group if isinstance(r, str)]
    return requirements


def _verify_sdist(
    path: Path,
    name: str,
    version: str,
    pins: Mapping[str, str],
    unpublished: frozenset[str] = frozenset(),
    flavour: str = "pep621",
) -> list[str]:
    label = path.name
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = {m.name: m for m in archive.getmembers() if m.isfile()}
            tops = {n.split("/", 1)[0] for n in members}
            if len(tops) != 1:
                return [f"{label}: expected one top-level folder, found {len(tops)}"]
            top = tops.pop()

            def read(member: str) -> bytes | None:
                info = members.get(f"{top}/{member}")
                handle = archive.extractfile(info) if info is not None else None
                return handle.read() if handle is not None else None

            pkg_info = read("PKG-INFO")
            pyproject = read("pyproject.toml")
    except (OSError, tarfile.TarError) as exc:
        return [f"{label}: cannot read the sdist: {exc}"]
    problems: list[str] = []
    if pkg_info is None:
        problems.append(f"{label}: no {top}/PKG-INFO")
    else:
        meta = _parse_metadata(pkg_info)
        problems += _check_metadata(
            label, f"{top}/PKG-INFO", meta, name, version, pins, unpublished
        )
    if flavour not in ("pep621", "poetry"):
        return problems  # setup.cfg / setup.py: PKG-INFO is the metadata (checked above)
    if pyproject is None:
        problems.append(f"{label}: no {top}/pyproject.toml (the rewritten pyproject must ship)")
        return problems
    try:
        document = tomllib.loads(pyproject.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{label}: {top}/pyproject.toml is not valid TOML: {exc}")
        return problems
    project = document.get("project")
    if not isinstance(project, dict) and flavour == "poetry":
        poetry = document.get("tool", {}).get("poetry", {})
        project = {"version": poetry.get("version")} if isinstance(poetry, dict) else {}
    project = project if isinstance(project, dict) else {}
    found = project.get("version")
    if not isinstance(found, str) or not _same_version(found, version):
        problems.append(
            f"{label}: {top}/pyproject.toml has project.version {found!r}, expected {version!r}"
            " (the sdist must carry the rewritten pyproject)"
        )
    where = f"{top}/pyproject.toml"
    problems += _check_requirements(
        label, where, _pyproject_requirements(project), pins, unpublished
    )
    return problems


def verify_distribution(
    path: Path,
    name: str,
    version: str,
    pins: Mapping[str, str],
    unpublished: Iterable[str] = (),
    flavour: str = "pep621",
) -> list[str]:
    """Problems with the built file *path* of package *name* (empty: ok).

    Wheel: ``*.dist-info/METADATA`` Name and Version match, and every ``Requires-Dist`` on a
    package in *pins* (name → snapshot version) is exactly ``==pin`` (extras and markers are
    fine) with no URL. Sdist (``.tar.gz``): the same for ``PKG-INFO``, and its
    ``pyproject.toml`` has ``project.version == version`` and pinned monorepo requirements.
    *pins* holds every monorepo package with a snapshot version (not only the ones the package
    was read to depend on: a metadata hook may add requirements); a requirement on one of
    *unpublished* (monorepo packages without one) fails, quoted.
    """
    path = Path(path)
    normalized_pins: dict[str, str] = {canonicalize_name(k): v for k, v in pins.items()}
    others = frozenset(canonicalize_name(n) for n in unpublished) - set(normalized_pins)
    if path.name.endswith(".whl"):
        return _verify_wheel(path, name, version, normalized_pins, others)
    if path.name.endswith(".tar.gz"):
        return _verify_sdist(path, name, version, normalized_pins, others, flavour)
    return [f"{path.name}: not a wheel (.whl) or an sdist (.tar.gz)"]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_twine_lock = threading.Lock()  # twine prints through a process-wide console


def twine_check(paths: Sequence[Path]) -> list[str]:
    """``twine check`` of each file, in-process; its errors as problems (warnings pass)."""
    from twine.commands.check import check

    problems: list[str] = []
    logger = logging.getLogger("twine")
    for path in paths:
        capture = _Capture()
        output = io.StringIO()
        with _twine_lock:
            logger.addHandler(capture)
            try:
                with contextlib.redirect_stdout(output):
                    failed = check([str(path)])
            except Exception as exc:  # twine raises for files it cannot read at all
                problems.append(f"{Path(path).name}: twine check: {type(exc).__name__}: {exc}")
                continue
            finally:
                logger.removeHandler(capture)
        if failed:
            errors = [r.getMessage() for r in capture.records if r.levelno >= logging.ERROR]
            detail = " ".join(" ".join(e.split()) for e in errors) or output.getvalue().strip()
            problems.append(f"{Path(path).name}: twine check failed: {detail}")
    return problems
