"""Requirement strings and versions, parsed by ``packaging`` (PEP 508 / PEP 440).

A usertest target names released distributions: ``name[extras] specifiers``, such as
``agent-adapters==0.1.0.dev7``, ``normalized-events>=0.1,<1``, ``reporter[cli]~=0.1``. URLs
(``name @ url``) and environment markers (``; python_version >= "3.11"``) are refused with a
clear message. Parsing, ordering and specifier matching are ``packaging``'s; this module only
keeps the small, frozen value usertest passes around and the messages it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.requirements import InvalidRequirement as _PackagingInvalidRequirement
from packaging.requirements import Requirement as _PackagingRequirement
from packaging.specifiers import InvalidSpecifier, Specifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = [
    "InvalidRequirement",
    "Requirement",
    "canonical_name",
    "parse_requirement",
    "parse_version",
    "version_matches",
    "versions_equal",
]


class InvalidRequirement(ValueError):
    """A requirement string usertest cannot use."""


def canonical_name(name: str) -> str:
    """The PEP 503 normalized form of a distribution name (``Agent_Adapters`` -> ``agent-adapters``)."""
    return str(canonicalize_name(name))


def parse_version(text: str) -> Version:
    """Parse a PEP 440 version; :class:`ValueError` when it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        raise ValueError(f"not a PEP 440 version: {text!r}") from None


def versions_equal(a: str, b: str) -> bool:
    """True when *a* and *b* are the same version (``1.0`` and ``1.0.0`` are; local labels count)."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a.strip() == b.strip()


def version_matches(op: str, wanted: str, installed: str) -> bool:
    """Whether *installed* satisfies ``<op><wanted>`` (pre-releases included: these are snapshots)."""
    try:
        specifier = Specifier(f"{op}{wanted}")
    except InvalidSpecifier as exc:
        raise ValueError(f"invalid specifier {op}{wanted}: {exc}") from None
    return specifier.contains(installed, prereleases=True)


@dataclass(frozen=True, slots=True)
class Requirement:
    """A parsed requirement: ``name`` (as written), ``extras`` and ``specifiers`` ((op, version))."""

    text: str
    name: str
    extras: tuple[str, ...] = ()
    specifiers: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """The normalized distribution name."""
        return canonical_name(self.name)

    @property
    def pinned_version(self) -> str | None:
        """The version of an exact pin (``==1.2`` or ``===1.2``), else None."""
        if len(self.specifiers) == 1:
            op, wanted = self.specifiers[0]
            if op in ("==", "===") and not wanted.endswith(".*"):
                return wanted
        return None

    def matches(self, installed: str) -> bool:
        """Whether an installed version satisfies every specifier (no specifier: any version)."""
        return all(version_matches(op, wanted, installed) for op, wanted in self.specifiers)

    def __str__(self) -> str:
        return self.text


def parse_requirement(text: str) -> Requirement:
    """Parse one requirement; :class:`InvalidRequirement` with the reason when it is not usable."""
    stripped = text.strip()
    if not stripped:
        raise InvalidRequirement("empty requirement")
    try:
        parsed = _PackagingRequirement(stripped)
    except _PackagingInvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise InvalidRequirement(
            f"{text!r} is not a valid requirement ({reason}); expected name[extras]<op>version, e.g. pkg==1.0"
        ) from None
    if parsed.url:
        raise InvalidRequirement(f"{text!r}: direct references (name @ url) are not supported; name a version")
    if parsed.marker is not None:
        raise InvalidRequirement(f"{text!r}: environment markers are not supported in a target")
    specifiers = tuple(sorted((s.operator, s.version) for s in parsed.specifier))
    return Requirement(text=stripped, name=parsed.name, extras=tuple(sorted(parsed.extras)), specifiers=specifiers)
