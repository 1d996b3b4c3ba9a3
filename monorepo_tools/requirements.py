"""Reading the dependency notations a monorepo uses, without trusting any of them.

One requirement string becomes a :class:`ParsedRequirement`: its normalized name, extras,
marker, and, for a direct reference, the URL and (when the URL points at the local file system)
the absolute path it means. Local paths are understood in every spelling found in the wild:

* PEP 508 file URLs: ``runner-core @ file:///abs/runner-core``, ``runner-core @ file:../runner-core``
  (relative file URLs are read relative to the package folder, as PDM and hatch do);
* PDM: ``runner-core @ file:///${PROJECT_ROOT}/../runner-core``;
* hatch context formatting: ``runner-core @ {root:uri}/../runner-core``, ``{root:parent:uri}``.

Placeholders are expanded before parsing, so a string is valid exactly when its build backend
would accept it. Parsing is pure: paths are computed, never touched.

>>> r = parse_requirement("Runner_Core[cli]>=0.1; python_version >= '3.11'", "/m/packages/a")
>>> (r.name, r.extras, r.marker, r.url)
('runner-core', ('cli',), 'python_version >= "3.11"', None)
>>> parse_requirement("runner-core @ {root:uri}/../runner-core", "/m/packages/a").path
'/m/packages/runner-core'
>>> parse_requirement("runner-core @ file:///${PROJECT_ROOT}/../runner-core", "/m/p/a").path
'/m/p/runner-core'
>>> parse_requirement("x @ git+https://example.com/x.git", "/m").path is None
True
>>> parse_requirement("../runner-core", "/m").error
"'../runner-core' is not a PEP 508 requirement (did you mean 'runner-core @ file:../runner-core'?)"
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from packaging.requirements import InvalidRequirement

__all__ = [
    "ParsedRequirement",
    "canonicalize_name",
    "expand_placeholders",
    "local_path_of_url",
    "parse_requirement",
]


def canonicalize_name(name: str) -> str:
    """The PEP 503 normal form of *name*: ``packaging.utils.canonicalize_name``, exactly.

    Written out because importing ``packaging.utils`` also imports ``packaging.tags`` (logging,
    platform, sysconfig) and, with :mod:`packaging.requirements`, its whole parser: ~20 ms of
    every cold start, before any file is read. Requirements the fast paths below cannot read
    still go to packaging's parser, imported then. ``tests/test_requirements.py`` checks this
    against packaging on generated names.

    >>> canonicalize_name("Runner_Core..x")
    'runner-core-x'
    """
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value


# The common case, a bare name with plain version bounds, is matched without packaging's parser
# (the benchmark repo has 45,000 such strings). The pattern is deliberately narrower than PEP 508
# so that everything it accepts packaging accepts too (only spaces and tabs, PEP 508's whitespace,
# not \s, which also matches newlines and Unicode spaces); everything else takes the full parser.
_FAST = re.compile(
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"(?:[ \t]*(?:==|!=|>=|<=|<|>)[ \t]*[0-9]+(?:\.[0-9]+)*"
    r"(?:[ \t]*,[ \t]*(?:==|!=|>=|<=|<|>)[ \t]*[0-9]+(?:\.[0-9]+)*)*)?"
)
# ``name @ URL`` with nothing after the URL (checked on the expanded string): packaging's grammar
# reads exactly this as name + URL (its URL token is "[^ \t]+", and it does not validate URLs),
# so the result is the same without building a Requirement (15 us -> 3 us a string).
_FAST_URL = re.compile(
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)[ \t]*@[ \t]*(?P<url>[^\s;]+)"
)
_HATCH_ROOT = re.compile(r"\{root((?::parent)*)(?::(uri|real))?\}")
_PDM_ROOT = "${PROJECT_ROOT}"
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


@dataclass(frozen=True, slots=True)
class ParsedRequirement:
    """What one requirement string says. ``error`` is set (and the rest empty) when invalid."""

    raw: str
    name: str | None = None  # normalized (PEP 503)
    extras: tuple[str, ...] = ()
    specifier: str = ""
    marker: str | None = None
    url: str | None = None  # the direct reference as written (placeholders kept)
    path: str | None = None  # absolute POSIX path when the URL is a local file/folder
    error: str | None = None


def expand_placeholders(text: str, package_dir: str) -> str:
    """Expand hatch's ``{root...}`` and PDM's ``${PROJECT_ROOT}`` for the package in *package_dir*.

    >>> expand_placeholders("{root:parent:uri}/b", "/m/p/a")
    'file:///m/p/b'
    >>> expand_placeholders("file:///${PROJECT_ROOT}/../b", "/m/p/a")
    'file:///m/p/a/../b'
    """

    def hatch(match: re.Match[str]) -> str:
        base = package_dir
        for _ in range(match.group(1).count(":parent")):
            base = posixpath.dirname(base)
        return "file://" + base if match.group(2) == "uri" else base

    if "{root" in text:
        text = _HATCH_ROOT.sub(hatch, text)
    if _PDM_ROOT in text:
        # PDM writes "file:///${PROJECT_ROOT}/.." : the third slash belongs to the variable.
        text = text.replace("file:///" + _PDM_ROOT, "file://" + package_dir)
        text = text.replace(_PDM_ROOT, package_dir)
    return text


def local_path_of_url(url: str, package_dir: str) -> str | None:
    """The absolute path a ``file:`` URL names (relative ones against *package_dir*), else None.

    >>> local_path_of_url("file:../b", "/m/p/a")
    '/m/p/b'
    >>> local_path_of_url("file:///srv/b/", "/m")
    '/srv/b'
    >>> local_path_of_url("https://x/b.whl", "/m") is None
    True
    """
    if not url.lower().startswith("file:"):
        return None
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.netloc not in ("", "localhost"):  # file://server/share: not a path of this machine
        return None
    return posixpath.normpath(posixpath.join(package_dir, path))


def parse_requirement(raw: str, package_dir: str) -> ParsedRequirement:
    """Parse *raw* as written in the pyproject of the package in *package_dir* (absolute)."""
    text = raw.strip()
    fast = _FAST.fullmatch(text)
    if fast is not None:
        return ParsedRequirement(
            raw=raw, name=canonicalize_name(fast.group("name")), specifier=text[fast.end("name") :]
        )
    expanded = expand_placeholders(text, package_dir)
    direct = _FAST_URL.fullmatch(expanded)
    if direct is not None:
        return ParsedRequirement(
            raw=raw,
            name=canonicalize_name(direct.group("name")),
            url=text[text.find("@") + 1 :].split(";")[0].strip(),
            path=local_path_of_url(direct.group("url"), package_dir),
        )
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(expanded)
    except InvalidRequirement as exc:
        return ParsedRequirement(raw=raw, error=_explain_invalid(text, exc))
    path = local_path_of_url(req.url, package_dir) if req.url else None
    url = None
    if req.url:
        # Keep the notation the user wrote (placeholders included) for messages.
        at = text.find("@")
        url = text[at + 1 :].split(";")[0].strip() if at >= 0 else req.url
    return ParsedRequirement(
        raw=raw,
        name=canonicalize_name(req.name),
        extras=tuple(sorted(req.extras)),
        specifier=str(req.specifier),
        marker=str(req.marker) if req.marker is not None else None,
        url=url,
        path=path,
    )


def _explain_invalid(text: str, exc: InvalidRequirement) -> str:
    first_line = str(exc).splitlines()[0] if str(exc) else "invalid"
    looks_like_path = text.startswith((".", "/", "~")) or text.lower().startswith("file:")
    if looks_like_path:
        tail = text.rstrip("/").rsplit("/", 1)[-1]
        url = text if text.lower().startswith("file:") else "file:" + text
        if _NAME.fullmatch(tail):
            return (
                f"{text!r} is not a PEP 508 requirement "
                f"(did you mean '{canonicalize_name(tail)} @ {url}'?)"
            )
        return f"{text!r} is not a PEP 508 requirement (write it as 'name @ {url}')"
    return f"{text!r} is not a valid PEP 508 requirement: {first_line}"
