"""Requirement strings and versions, stdlib only (the subset of PEP 508 / PEP 440 usertest needs).

A requirement is ``name[extras] specifiers``: ``agent-adapters==0.1.0.dev7``,
``normalized-events>=0.1,<1``, ``reporter[cli]~=0.1``. URLs (``name @ url``) and environment
markers (``; python_version >= "3.11"``) are refused with a clear message: a usertest target
names released distributions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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


_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_REQUIREMENT = re.compile(
    rf"^\s*(?P<name>{_NAME})\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<specs>[^;@]*?)\s*$"
)
_SPECIFIER = re.compile(r"^\s*(?P<op>===|==|!=|<=|>=|~=|<|>)\s*(?P<version>[^\s,;]+)\s*$")
_EXTRA = re.compile(rf"^{_NAME}$")

# The canonical PEP 440 pattern (as published in the PEP's appendix).
_VERSION = re.compile(
    r"""^\s*v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
    (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)

_PRE_ORDER = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


def canonical_name(name: str) -> str:
    """The PEP 503 normalized form of a distribution name (``Agent_Adapters`` -> ``agent-adapters``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True, slots=True)
class Version:
    """A parsed PEP 440 version; compares like the standard says (local labels ignored)."""

    text: str
    key: tuple[Any, ...]
    release: tuple[int, ...]
    local: str | None

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __le__(self, other: Version) -> bool:
        return self.key <= other.key

    def __gt__(self, other: Version) -> bool:
        return self.key > other.key

    def __ge__(self, other: Version) -> bool:
        return self.key >= other.key


def parse_version(text: str) -> Version:
    """Parse a PEP 440 version; :class:`ValueError` when it is not one."""
    match = _VERSION.match(text)
    if match is None:
        raise ValueError(f"not a PEP 440 version: {text!r}")
    release = tuple(int(part) for part in match.group("release").split("."))
    trimmed = list(release)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
    epoch = int(match.group("epoch") or 0)
    pre_l = match.group("pre_l")
    pre = (_PRE_ORDER[pre_l.lower()], int(match.group("pre_n") or 0)) if pre_l else None
    post_n = match.group("post_n1") or match.group("post_n2")
    post = int(post_n or 0) if match.group("post") else None
    dev = int(match.group("dev_n") or 0) if match.group("dev") else None
    # Sort keys with the same sentinels as PEP 440's ordering: X.devN < X.aN < X < X.postN.
    if pre is None and post is None and dev is not None:
        pre_key: tuple[Any, ...] = (-1,)  # a bare dev release sorts before pre-releases
    elif pre is None:
        pre_key = (3,)  # a final release sorts after pre-releases
    else:
        pre_key = (pre[0], pre[1])
    post_key = (-1,) if post is None else (post,)
    dev_key = (float("inf"),) if dev is None else (dev,)
    key = (epoch, tuple(trimmed), pre_key, post_key, dev_key)
    local = match.group("local")
    return Version(text=text.strip(), key=key, release=release, local=local.lower() if local else None)


def versions_equal(a: str, b: str) -> bool:
    """True when *a* and *b* are the same version (``1.0`` and ``1.0.0`` are; local labels count)."""
    try:
        va, vb = parse_version(a), parse_version(b)
    except ValueError:
        return a.strip() == b.strip()
    return va.key == vb.key and va.local == vb.local


def _prefix_match(candidate: Version, pattern: str) -> bool:
    """``==1.2.*``: the release of *candidate* starts with 1.2 (pre/post/dev of 1.2.x included)."""
    prefix = parse_version(pattern[:-2])
    padded = candidate.release + (0,) * max(0, len(prefix.release) - len(candidate.release))
    return candidate.key[0] == prefix.key[0] and padded[: len(prefix.release)] == prefix.release


def version_matches(op: str, wanted: str, installed: str) -> bool:
    """Whether *installed* satisfies ``<op><wanted>`` (PEP 440, without the pre-release rules)."""
    if op == "===":
        return installed.strip().lower() == wanted.strip().lower()
    have = parse_version(installed)
    if op in ("==", "!=") and wanted.endswith(".*"):
        result = _prefix_match(have, wanted)
        return result if op == "==" else not result
    want = parse_version(wanted)
    if op in ("==", "!="):
        # A specifier without a local label matches any local label of that version.
        same = have.key == want.key and (want.local is None or have.local == want.local)
        return same if op == "==" else not same
    if op == ">=":
        return have >= want
    if op == "<=":
        return have <= want
    if op == ">":
        return have > want
    if op == "<":
        return have < want
    if op == "~=":
        if len(want.release) < 2:
            raise ValueError(f"~= needs at least two release segments: ~={wanted}")
        prefix = ".".join(str(p) for p in want.release[:-1]) + ".*"
        return have >= want and _prefix_match(have, prefix)
    raise ValueError(f"unknown operator {op!r}")


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
    if ";" in stripped:
        raise InvalidRequirement(f"{text!r}: environment markers are not supported in a target")
    if "@" in stripped:
        raise InvalidRequirement(f"{text!r}: direct references (name @ url) are not supported; name a version")
    match = _REQUIREMENT.match(stripped)
    if match is None:
        raise InvalidRequirement(f"{text!r} is not a requirement (expected name[extras]<op>version, e.g. pkg==1.0)")
    extras: tuple[str, ...] = ()
    if match.group("extras") is not None:
        extras = tuple(e.strip() for e in match.group("extras").split(",") if e.strip())
        bad = [e for e in extras if not _EXTRA.match(e)]
        if bad:
            raise InvalidRequirement(f"{text!r}: invalid extra name(s) {', '.join(bad)}")
    specifiers: list[tuple[str, str]] = []
    specs = match.group("specs").strip()
    if specs:
        for chunk in specs.split(","):
            spec = _SPECIFIER.match(chunk)
            if spec is None:
                raise InvalidRequirement(f"{text!r}: invalid version specifier {chunk.strip()!r}")
            op, wanted = spec.group("op"), spec.group("version")
            if op != "===":
                base = wanted[:-2] if wanted.endswith(".*") and op in ("==", "!=") else wanted
                try:
                    parse_version(base)
                except ValueError:
                    raise InvalidRequirement(f"{text!r}: {wanted!r} is not a PEP 440 version") from None
            specifiers.append((op, wanted))
    return Requirement(text=stripped, name=match.group("name"), extras=extras, specifiers=tuple(specifiers))
