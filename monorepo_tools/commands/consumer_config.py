"""``monorepo consumer-config``: ready-to-paste configuration for installing a snapshot.

Pure text from three values: the registry's simple index URL, the published packages with their
snapshot versions, and every publishable package of the monorepo. Formats:

* ``pip``: the two command lines of the specification, verbatim in form (forwarding enabled;
  forwarding disabled with PyPI as the explicit fallback);
* ``pip-conf``: one ``pip.conf`` per forwarding mode;
* ``pdm``: the specification's ``[[tool.pdm.source]]`` block with ``include_packages``, then one
  ``pdm add`` line (one resolve and lock, not one per package);
* ``uv``: a ``[[tool.uv.index]]`` that uv asks first for every package, transitive ones included
  (``[tool.uv.sources]`` alone routes only a project's direct dependencies), then ``uv add``.

Every form says how CI authenticates (a netrc file all three clients read, uv's
``UV_INDEX_GITLAB_USERNAME`` / ``_PASSWORD``, PDM's ``${VAR}`` expansion, pip's keyring and
``PIP_NO_INPUT``), and ends with the dependency-confusion note. Each form is tested by its real
client in a fresh folder (``tests/publish/test_consumer_clients.py``).

:func:`consumer_config` is the command: it picks those three values, from a fresh plan
(``--snapshot-id N``: versions computed from the workspace) or from a snapshot summary
(``--summary-json FILE``, by default the last complete snapshot kept under the state folder),
and renders them.

Safety: the index URL never carries credentials into the output (userinfo and secret-looking
query values are dropped), and names and versions (which may come from a summary file someone
else wrote) are validated (PEP 508 names, PEP 440 versions) and shell-quoted on command lines.
"""

from __future__ import annotations

import json
import re
import shlex
import textwrap
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import Config
    from ..workspace import Workspace

__all__ = [
    "CONSUMER_FORMATS",
    "DEPENDENCY_CONFUSION_NOTE",
    "PYPI",
    "Summary",
    "consumer_config",
    "load_summary",
    "public_index_url",
    "render_consumer_config",
]

CONSUMER_FORMATS = ("pip", "pip-conf", "pdm", "uv")
PYPI = "https://pypi.org/simple"
INDEX_NAME = "gitlab"  # the source/index name in the PDM and uv forms (UV_INDEX_GITLAB_*)

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)  # PEP 508
_SECRET_QUERY = re.compile(r"token|password|passwd|secret|key|auth|signature", re.IGNORECASE)
# Characters that keep their meaning inside "double quotes" in a POSIX shell (or bash's !).
_DOUBLE_QUOTE_SAFE = re.compile(r"^[A-Za-z0-9._~:/?#\[\]@&'()*+,;=%-]+$")

DEPENDENCY_CONFUSION_NOTE = (
    "Dependency confusion: GitLab forwards to PyPI only the names this project has no package "
    "for; a name it holds is answered from its own files. So with forwarding enabled, pip "
    "--index-url <gitlab> never takes one of these packages from PyPI, but any name GitLab does "
    "not hold (a typo, a package not published yet) comes from PyPI, whoever uploaded it. With "
    "forwarding disabled, --extra-index-url https://pypi.org/simple makes pip look up every "
    "name on both indexes and install the best candidate: the exact pins (==<snapshot "
    "version>) stop a higher version from winning, but not a squatter's upload of the same "
    "version with a more specific wheel tag (say cp311-manylinux_2_17_x86_64 against our "
    "py3-none-any), which pip prefers. PDM's include_packages (--format pdm) and uv's "
    "first-index lookup (--format uv) take these names from GitLab alone, forwarding on or "
    "off; the other names still come from PyPI."
)


@dataclass(frozen=True, slots=True)
class Summary:
    """What consumer-config needs from a snapshot summary (``--summary-json``)."""

    snapshot_id: object
    index_url: str | None
    packages: tuple[tuple[str, str], ...]  # published (name, version), in publish order


def _check_pin(name: object, version: object, where: str) -> tuple[str, str]:
    for field, value in (("name", name), ("version", version)):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ConfigError(
                f"{where} has no {field} (a non-empty string); regenerate the summary with "
                "monorepo snapshot --summary-json"
            )
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"{where}: 'name' {name!r} is not a distribution name (PEP 508: letters, digits, "
            "'.', '-', '_'); regenerate the summary with monorepo snapshot --summary-json"
        )
    if not isinstance(version, str):
        raise ConfigError(
            f"{where}: 'version' is missing or not a string; regenerate the summary with "
            "monorepo snapshot --summary-json"
        )
    try:
        Version(version)
    except InvalidVersion:
        raise ConfigError(
            f"{where}: 'version' {version!r} is not a PEP 440 version; regenerate the summary "
            "with monorepo snapshot --summary-json"
        ) from None
    return name, version


def load_summary(path: Path) -> Summary:
    """Read a summary written by ``monorepo snapshot --summary-json``; ConfigError if unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--summary-json {str(path)!r}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: not a snapshot summary ({exc})") from None
    fix = "fix: pass a file written by `monorepo snapshot --summary-json`"
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: not a snapshot summary (a JSON {type(data).__name__}, not an object); {fix}"
        )
    packages = data.get("packages", [])
    if not isinstance(packages, list):
        raise ConfigError(f'{path}: "packages" is not a list; {fix}')
    pins: list[tuple[str, str]] = []
    for number, entry in enumerate(packages):
        where = f"{path}: packages[{number}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} is not an object (name, version and outcome); {fix}")
        if entry.get("outcome") in ("published", "already published"):
            pins.append(_check_pin(entry.get("name"), entry.get("version"), where))
    registry = data.get("registry")
    index = registry.get("index_url") if isinstance(registry, dict) else None
    if index is not None and not isinstance(index, str):
        raise ConfigError(f"{path}: registry.index_url is not a string")
    return Summary(data.get("snapshot_id"), index or None, tuple(pins))


def public_index_url(url: str, source: str = "the index URL") -> str:
    """*url* without credentials: userinfo and secret-looking query values removed."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(f"{source} {url.split('@')[-1]!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https", "file") or (
        parts.scheme != "file" and not parts.hostname
    ):
        raise ConfigError(
            f"{source} must be an http(s) URL of a simple index (or file:// for the local "
            f"index), got {urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition('@')[2]))!r}"
        )
    netloc = parts.netloc.rpartition("@")[2]
    query = urllib.parse.urlencode(
        [
            (k, v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
            if not _SECRET_QUERY.search(k)
        ]
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _shell_url(url: str) -> str:
    """The URL as the specification writes it ("..."), or shell-quoted when that is not safe."""
    return f'"{url}"' if _DOUBLE_QUOTE_SAFE.match(url) else shlex.quote(url)


def _toml(text: str) -> str:
    return json.dumps(text)  # a TOML basic string (JSON's escapes are TOML's)


def _comment(text: str) -> str:
    return "\n".join(f"# {line}" for line in textwrap.wrap(text, 96, break_on_hyphens=False))


def _credentials(index_url: str, fmt: str) -> list[str]:
    """How CI authenticates, for *fmt*: comment lines (nothing for a file:// index)."""
    parts = urllib.parse.urlsplit(index_url)
    if parts.scheme == "file":
        return []
    host = parts.hostname or "<gitlab-host>"
    lines = [
        "# Credentials: never in these files, never on a command line. In CI, write a netrc file,",
        "# which pip, PDM and uv all read (printf is a bash builtin: the token is in no process's",
        '# arguments; use login gitlab-ci-token and "$CI_JOB_TOKEN" for GitLab\'s job token):',
        f'#   (umask 077; printf \'machine %s login %s password %s\\n\' {host} "$GITLAB_PYPI_USERNAME" "$GITLAB_PYPI_PASSWORD" >> ~/.netrc)',
        "#   (NETRC=<file> names another file.)",
    ]
    if fmt in ("pip", "pip-conf"):
        lines += [
            "# pip can also use a keyring (--keyring-provider import). In CI, export PIP_NO_INPUT=1",
            "# (or no-input = true in pip.conf): a missing credential then fails at once with a 401",
            "# instead of prompting (which ends in an EOFError traceback in a job).",
        ]
    elif fmt == "pdm":
        lines += [
            "# Or let PDM expand ${VARIABLES} from the environment in the source url:",
            f"#   url = {_toml(_with_userinfo(index_url, '${GITLAB_PYPI_USERNAME}', '${GITLAB_PYPI_PASSWORD}'))}",
        ]
    elif fmt == "uv":
        name = INDEX_NAME.upper()
        lines += [
            f"# Or uv's variables for the index named {INDEX_NAME!r}: UV_INDEX_{name}_USERNAME and",
            f'# UV_INDEX_{name}_PASSWORD (export UV_INDEX_{name}_USERNAME="$GITLAB_PYPI_USERNAME" ...).',
        ]
    return lines


def _with_userinfo(url: str, user: str, password: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.netloc}"))


def render_consumer_config(
    index_url: str,
    packages: Sequence[tuple[str, str]],
    fmt: str = "pip",
    all_publishable: Sequence[str] = (),
) -> str:
    """Configuration text for *packages* ((name, version) pairs) published at *index_url*.

    ``all_publishable`` lists every publishable package (PDM's ``include_packages``, uv's
    sources); it defaults to the names in *packages*. Raises :class:`ConfigError` for a name or
    version that is not valid (the summary file may come from anywhere).
    """
    index_url = public_index_url(index_url)
    packages = [_check_pin(n, v, "package") for n, v in packages]
    names = sorted(
        {canonicalize_name(n) for n in all_publishable}
        | {canonicalize_name(n) for n, _ in packages}
    )
    pins = " ".join(shlex.quote(f"{name}=={version}") for name, version in packages)
    url = _shell_url(index_url)
    if fmt == "pip-conf":
        body = [
            "# pip.conf when forwarding is ENABLED on the registry (GitLab answers the names it",
            "# has no package for from PyPI). Linux: ~/.config/pip/pip.conf, or PIP_CONFIG_FILE=<file>.",
            "[global]",
            f"index-url = {index_url}",
            "no-input = true",
            "",
            "# pip.conf when forwarding is DISABLED on the registry: PyPI explicitly for the other",
            "# dependencies (read the dependency-confusion note below).",
            "[global]",
            f"index-url = {index_url}",
            f"extra-index-url = {PYPI}",
            "no-input = true",
            "",
            f"# then, with either file: pip install {pins}",
        ]
    elif fmt == "pdm":
        body = [
            "# In the consuming project's pyproject.toml:",
            "[[tool.pdm.source]]",
            f"name = {_toml(INDEX_NAME)}",
            f"url = {_toml(index_url)}",
            "include_packages = [",
            *(f"  {_toml(name + '*')}," for name in names),
            "]",
            "",
            "# Then install normally (one resolve and lock for the whole set):",
            f"pdm add {pins}",
        ]
    elif fmt == "uv":
        body = [
            "# In the consuming project's pyproject.toml:",
            "[tool.uv]",
            'index-strategy = "first-index"  # uv\'s default: a package comes from the first index that has it',
            "",
            "[[tool.uv.index]]",
            f"name = {_toml(INDEX_NAME)}",
            f"url = {_toml(index_url)}",
            "# Not `explicit = true`: [tool.uv.sources] routes only the project's direct dependencies,",
            "# so an explicit index would never serve the monorepo packages these depend on. Listed",
            "# first, this index is asked for every package, transitive ones included, and with",
            "# first-index a name it holds is never taken from PyPI.",
            "",
            "[tool.uv.sources]",
            *(f"{name} = {{ index = {_toml(INDEX_NAME)} }}" for name in names),
            "",
            "# Then (the topmost package alone is enough: its monorepo dependencies come along):",
            f"uv add {pins}",
            "# Without a project, into an environment of your own:",
            f"uv pip install --index {_shell_url(f'{INDEX_NAME}={index_url}')} {pins}",
        ]
    elif fmt == "pip":
        body = [
            "# pip, forwarding enabled on the registry (it proxies PyPI for other packages):",
            f"pip install --index-url {url} {pins}",
            "",
            "# pip, forwarding disabled (recommended explicit fallback):",
            f'pip install --index-url {url} --extra-index-url "{PYPI}" {pins}',
        ]
    else:
        raise ConfigError(f"unknown format {fmt!r} (known: {', '.join(CONSUMER_FORMATS)})")
    notes = [*_credentials(index_url, fmt), "#", _comment(DEPENDENCY_CONFUSION_NOTE)]
    return "\n".join([*body, "", *notes]) + "\n"


def consumer_config(
    config: Config,
    workspace: Workspace,
    fmt: str,
    environ: Mapping[str, str],
    *,
    snapshot_id: str | int | None = None,
    summary_json: str | None = None,
    index_url: str | None = None,
) -> str:
    """The configuration text of one snapshot (see the module docstring).

    With *snapshot_id*, the versions of a fresh plan and the registry of *environ* (or
    *index_url*); else the summary at *summary_json* (default: the state folder's
    ``snapshots/last.json``). Raises :class:`ConfigError` when there is no summary, it names no
    registry, or nothing of it was published.
    """
    from ..publish.registry import registry_from_env
    from .plan import plan

    publishable = [n for n, p in workspace.packages.items() if p.publishable]
    index: str | None
    if snapshot_id is not None:
        planned = plan(workspace, snapshot_id, environ)
        pins = [(p.name, p.version) for p in planned.packages]
        index = index_url or registry_from_env(environ, config.root).index_url
    else:
        path = Path(summary_json) if summary_json else config.state_dir / "snapshots" / "last.json"
        if not summary_json and not path.exists():
            raise ConfigError(
                "no snapshot has been run under this root yet: pass --snapshot-id N (versions computed "
                "from the workspace) or --summary-json FILE (written by monorepo snapshot --summary-json)"
            )
        summary = load_summary(path)
        pins = list(summary.packages)
        index = index_url or summary.index_url
        if not index:
            raise ConfigError(
                f"{path}: the summary names no registry (a --dry-run?); pass --index-url URL"
            )
        if not pins:
            raise ConfigError(f"{path}: no package of snapshot {summary.snapshot_id} was published")
    return render_consumer_config(index, pins, fmt, publishable)
