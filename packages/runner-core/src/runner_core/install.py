"""Installing a target into a virtualenv with pip or PDM, and reading back what got installed."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from normalized_events import Event, InstallFinished, InstallStarted

from .execution import CommandResult, Executor, run_command, scrubbed_env
from .redact import redact, redact_url, url_secrets
from .requirements import canonical_name, parse_requirement
from .workspace import Venv, Workspace

_TRUST_VARIABLES = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")

__all__ = [
    "DEFAULT_INCLUDE_PACKAGES",
    "INDEX_PASSWORD_VAR",
    "INDEX_USERNAME_VAR",
    "InstallResult",
    "PdmUnavailable",
    "classify_install_failure",
    "find_pdm",
    "index_status",
    "install_pdm",
    "install_pip",
    "installed_versions",
    "pdm_pyproject",
]

#: The ``include_packages`` of the consumer block in the monorepo's docs.
DEFAULT_INCLUDE_PACKAGES = (
    "normalized-events*",
    "runner-core*",
    "agent-adapters*",
    "reporter*",
    "sandbox-runner*",
)

#: The variables PDM reads the index credentials from (the URL in pyproject.toml names them).
INDEX_USERNAME_VAR = "USERTEST_INDEX_USERNAME"
INDEX_PASSWORD_VAR = "USERTEST_INDEX_PASSWORD"

_PIP_ENV = {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
_PDM_ENV = {"PDM_IGNORE_SAVED_PYTHON": "1", "PDM_NON_INTERACTIVE": "1", "PDM_CHECK_UPDATE": "false"}

_AUTH_FAILURE = re.compile(
    r"\b40[13] (?:Error|Client Error|Unauthorized|Forbidden)|Credentials not correct|\bUnauthorized\b",
    re.IGNORECASE,
)
_RESOLVE_FAILURE = re.compile(
    r"No matching distribution found|Could not find a version that satisfies|ResolutionImpossible"
    r"|ResolutionTooDeep|Unable to find candidates|conflicting dependencies|No candidates? found",
    re.IGNORECASE,
)

_VERSIONS_SCRIPT = """\
import importlib.metadata as md, json, sys
found = {}
for name in json.loads(sys.argv[1]):
    try:
        found[name] = md.version(name)
    except md.PackageNotFoundError:
        pass
print(json.dumps(found))
"""


def _discard(event: Event) -> None:
    pass


@dataclass(frozen=True, slots=True)
class InstallResult:
    """How an install went. ``step`` is ``"resolve"`` or ``"install"`` when it failed."""

    ok: bool
    resolved: dict[str, str] = field(default_factory=dict)
    step: str | None = None
    message: str = ""
    output: CommandResult | None = None


def classify_install_failure(output: str) -> tuple[str, str]:
    """``(step, message)`` for a failed install: ``resolve`` when no matching version could be
    found, else ``install`` (authentication, network, build or file errors)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "[", "error"))] or lines[-3:]
    message = " | ".join(errors[-3:])[-800:]
    if _AUTH_FAILURE.search(output):
        return "install", f"the index refused access (check the credentials): {message}"
    if _RESOLVE_FAILURE.search(output):
        return "resolve", message
    return "install", message


def index_status(index_url: str, project: str, *, timeout: float = 10.0) -> int | None:
    """The HTTP status of the index's page for *project* (credentials from the URL as basic
    auth), or None when it cannot be asked (not HTTP, no answer). Tells "the index refused us"
    (401/403) from "the index has no such version", which installers report alike."""
    parts = urllib.parse.urlsplit(index_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    path = parts.path.rstrip("/") + f"/{canonical_name(project)}/"
    url = urllib.parse.urlunsplit((parts.scheme, host, path, "", ""))
    headers = {"Accept": "text/html"}
    if parts.username is not None or parts.password is not None:
        user = urllib.parse.unquote(parts.username or "")
        password = urllib.parse.unquote(parts.password or "")
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError, ValueError):
        return None


def installed_versions(
    executor: Executor,
    venv: Venv,
    names: Iterable[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    emit: Callable[[Event], None] = _discard,
) -> dict[str, str]:
    """``{canonical name: version}`` of the distributions installed in *venv* (missing ones left out).

    Asks ``importlib.metadata`` inside the virtualenv's own interpreter, in a subprocess.
    """
    wanted = sorted({canonical_name(n) for n in names})
    if not wanted:
        return {}
    env = dict(env) if env is not None else scrubbed_env((), home=cwd, bin_dirs=[venv.bin_dir])
    done = run_command(
        executor, [str(venv.python), "-c", _VERSIONS_SCRIPT, json.dumps(wanted)], cwd=cwd, env=env, timeout=120, emit=emit
    )
    if not done.ok:
        return {}
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}
    return {canonical_name(k): str(v) for k, v in found.items()}


def _requirement_names(requirements: Sequence[str]) -> list[str]:
    return [parse_requirement(r).key for r in requirements]


def install_pip(
    executor: Executor,
    workspace: Workspace,
    venv: Venv,
    requirements: Sequence[str],
    *,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
    find_links: Sequence[str] = (),
    no_index: bool = False,
    exec_env: Iterable[str] = (),
    secrets: Iterable[str] = (),
    timeout: float = 900,
    emit: Callable[[Event], None] = _discard,
) -> InstallResult:
    """``python -m pip install reqs`` in *venv*, with a scrubbed environment and no pip config
    file. The index URLs travel in ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL``, never on the
    command line: they may carry credentials, and command lines are visible to every user."""
    secrets = [*secrets, *url_secrets(index_url or ""), *(s for u in extra_index_urls for s in url_secrets(u))]
    argv = [str(venv.python), "-m", "pip", "install", "--disable-pip-version-check",
            "--no-input", "--progress-bar", "off"]
    extra_env = dict(_PIP_ENV)
    # The scrubbed environment has no trust settings: pass the machine's CA bundle on (behind a
    # TLS-inspecting proxy nothing installs without it; it is not a secret).
    cert = next((os.environ[v] for v in _TRUST_VARIABLES if os.path.isfile(os.environ.get(v, ""))), None)
    if cert:
        argv += ["--cert", cert]
    if no_index:
        argv.append("--no-index")
    elif index_url:
        extra_env["PIP_INDEX_URL"] = index_url
    if extra_index_urls:
        extra_env["PIP_EXTRA_INDEX_URL"] = " ".join(extra_index_urls)
    for link in find_links:
        argv += ["--find-links", link]
    argv += list(requirements)
    emit(
        InstallStarted(
            installer="pip",
            requirements=tuple(requirements),
            index_url=redact_url(index_url or ("(no index)" if no_index else "")),
            extra_index_urls=tuple(redact_url(u) for u in extra_index_urls),
            venv=str(venv.path),
        )
    )
    env = scrubbed_env(exec_env, home=workspace.path, bin_dirs=[venv.bin_dir], extra=extra_env)
    started = time.monotonic()
    done = run_command(executor, argv, cwd=workspace.path, env=env, timeout=timeout, emit=emit, secrets=secrets)
    return _finish("pip", done, executor, workspace, venv, requirements, env, started, secrets, emit, index_url)


def _finish(
    installer: str,
    done: CommandResult,
    executor: Executor,
    workspace: Workspace,
    venv: Venv,
    requirements: Sequence[str],
    env: Mapping[str, str],
    started: float,
    secrets: Sequence[str],
    emit: Callable[[Event], None],
    index_url: str | None = None,
) -> InstallResult:
    resolved = installed_versions(
        executor, venv, _requirement_names(requirements), cwd=workspace.path, env=env
    ) if venv.python.exists() else {}
    emit(InstallFinished(installer=installer, ok=done.ok, resolved=resolved, duration_s=round(time.monotonic() - started, 3)))
    if done.ok:
        return InstallResult(True, resolved, output=done)
    step, message = classify_install_failure(redact(done.stdout + "\n" + done.stderr, secrets))
    if step == "resolve" and index_url and requirements:
        # pip and PDM report a refused index like an empty one: ask the index itself.
        status = index_status(index_url, _requirement_names(requirements)[0])
        if status in (401, 403):
            return InstallResult(
                False, resolved, "install",
                f"{installer} install failed: the index refused access (HTTP {status}) at "
                f"{redact_url(index_url)}: check the credentials", done,
            )
    return InstallResult(False, resolved, step, f"{installer} install failed: {message}", done)


class PdmUnavailable(RuntimeError):
    """PDM cannot be run (not importable by this interpreter and not on PATH)."""


def find_pdm() -> list[str]:
    """The command that runs PDM: this interpreter's ``-m pdm`` when importable, else ``pdm``."""
    if importlib.util.find_spec("pdm") is not None:
        return [sys.executable, "-m", "pdm"]
    exe = shutil.which("pdm")
    if exe:
        return [exe]
    raise PdmUnavailable(
        "PDM is not installed: install it next to usertest (`pip install \"pdm[locked]\"`) "
        "or put `pdm` on PATH"
    )


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _credential_template(url: str, name: str) -> tuple[str, dict[str, str]]:
    """*url* with its credentials replaced by ``${VAR}`` references PDM expands, and those values."""
    parts = urllib.parse.urlsplit(url)
    if not parts.username and not parts.password:
        return url, {}
    suffix = "" if name == "gitlab" else "_" + re.sub(r"\W", "_", name).upper()
    user_var, password_var = INDEX_USERNAME_VAR + suffix, INDEX_PASSWORD_VAR + suffix
    values = {user_var: parts.username or ""}
    userinfo = f"${{{user_var}}}"
    if parts.password is not None:
        values[password_var] = parts.password
        userinfo += f":${{{password_var}}}"
    host = parts.netloc.rsplit("@", 1)[1]
    templated = urllib.parse.urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, parts.fragment))
    return templated, values


def pdm_pyproject(
    *,
    index_url: str,
    include_packages: Sequence[str],
    extra_index_urls: Sequence[str] = (),
    requires_python: str = ">=3.11",
) -> tuple[str, dict[str, str]]:
    """The consumer ``pyproject.toml`` of a PDM workspace, and the credential variables it needs.

    The index is a ``[[tool.pdm.source]]`` named ``gitlab`` with ``include_packages``, as in the
    monorepo's consumer documentation; credentials are written as ``${VAR}`` (PDM expands them)
    so the file never holds a secret.
    """
    url, env = _credential_template(index_url, "gitlab")
    includes = ",\n".join(f"  {_toml_string(p)}" for p in include_packages)
    text = f"""[project]
name = "usertest-workspace"
version = "0.0.0"
requires-python = {_toml_string(requires_python)}
dependencies = []

[tool.pdm]
distribution = false

[[tool.pdm.source]]
name = "gitlab"
url = {_toml_string(url)}
include_packages = [
{includes},
]
"""
    for number, extra in enumerate(extra_index_urls, start=1):
        name = f"extra-{number}"
        extra_url, extra_env = _credential_template(extra, name)
        env.update(extra_env)
        text += f"""
[[tool.pdm.source]]
name = "{name}"
url = {_toml_string(extra_url)}
"""
    return text, env


def _python_minor(executor: Executor, venv: Venv, cwd: Path) -> str | None:
    done = executor.run(
        [str(venv.python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        cwd=cwd, env=scrubbed_env((), home=cwd), timeout=60,
    )
    return done.stdout.strip() if done.ok else None


def install_pdm(
    executor: Executor,
    workspace: Workspace,
    venv: Venv,
    requirements: Sequence[str],
    *,
    index_url: str,
    extra_index_urls: Sequence[str] = (),
    include_packages: Sequence[str] | None = None,
    pdm: Sequence[str] | None = None,
    exec_env: Iterable[str] = (),
    secrets: Iterable[str] = (),
    timeout: float = 900,
    emit: Callable[[Event], None] = _discard,
) -> InstallResult:
    """Install *requirements* the way a PDM consumer does, into *venv* (the workspace's ``.venv``).

    Writes the consumer ``pyproject.toml`` (see :func:`pdm_pyproject`; *include_packages*
    defaults to the documented list plus the requirement names), makes the project use its
    in-project virtualenv (``pdm config --local python.use_venv true`` / ``venv.in_project
    true``), then runs ``pdm add <requirements>``, which locks and installs.
    """
    if venv.path != workspace.venv_path:
        raise ValueError(f"PDM installs into the workspace's .venv; got {venv.path}")
    command = list(pdm) if pdm is not None else find_pdm()
    names = _requirement_names(requirements)
    includes = list(include_packages if include_packages is not None else DEFAULT_INCLUDE_PACKAGES)
    for name in names:
        if not any(re.fullmatch(p.replace("*", ".*"), name) for p in includes):
            includes.append(name)
    minor = _python_minor(executor, venv, workspace.path)
    text, credentials = pdm_pyproject(
        index_url=index_url,
        include_packages=includes,
        extra_index_urls=extra_index_urls,
        requires_python=f"=={minor}.*" if minor else ">=3.11",
    )
    (workspace.path / "pyproject.toml").write_text(text, encoding="utf-8")
    secrets = [*secrets, *credentials.values(), *url_secrets(index_url), *(s for u in extra_index_urls for s in url_secrets(u))]
    emit(
        InstallStarted(
            installer="pdm",
            requirements=tuple(requirements),
            index_url=redact_url(index_url),
            extra_index_urls=tuple(redact_url(u) for u in extra_index_urls),
            venv=str(venv.path),
        )
    )
    env = scrubbed_env(
        exec_env, home=workspace.path, bin_dirs=[venv.bin_dir], extra={**_PIP_ENV, **_PDM_ENV, **credentials}
    )
    started = time.monotonic()
    for setting in (["python.use_venv", "true"], ["venv.in_project", "true"]):
        done = run_command(
            executor, [*command, "config", "--local", *setting], cwd=workspace.path, env=env, timeout=120, emit=emit, secrets=secrets
        )
        if not done.ok:
            return _finish("pdm", done, executor, workspace, venv, requirements, env, started, secrets, emit, index_url)
    done = run_command(
        executor, [*command, "add", *requirements], cwd=workspace.path, env=env, timeout=timeout, emit=emit, secrets=secrets
    )
    return _finish("pdm", done, executor, workspace, venv, requirements, env, started, secrets, emit, index_url)

