"""runner-core: workspaces, isolated virtualenvs, installs and scrubbed command runs for usertest.

A usertest run with runner-core, step by step::

    log = normalized_events.EventLog()
    ws = create_workspace(persona_id=..., persona_text=..., mission_id=..., mission_text=..., emit=log)
    venv = create_venv(ws.venv_path, emit=log)                      # uv venv --seed, or python -m venv
    result = install_pip(LocalExecutor(), ws, venv, ["pkg==1.0"], index_url=URL, emit=log)
    runner = VenvRunner(LocalExecutor(), ws, venv, exec_env=("TOKEN",), emit=log)
    runner.run(["python", "-c", "import pkg"])                      # scrubbed environment

Every step reports :mod:`normalized_events` records through the ``emit`` callback.
"""

from __future__ import annotations

from importlib.metadata import version

from .execution import (
    MINIMAL_PATH,
    CommandResult,
    DockerExecutor,
    DockerUnavailable,
    Executor,
    LocalExecutor,
    docker_engine_status,
    run_command,
    scrubbed_env,
)
from .install import (
    DEFAULT_INCLUDE_PACKAGES,
    INDEX_PASSWORD_VAR,
    INDEX_USERNAME_VAR,
    InstallResult,
    PdmUnavailable,
    classify_install_failure,
    find_pdm,
    index_status,
    install_pdm,
    install_pip,
    installed_versions,
    pdm_pyproject,
)
from .redact import MASK, redact, redact_url, url_secrets, with_credentials
from .requirements import (
    InvalidRequirement,
    Requirement,
    canonical_name,
    parse_requirement,
    parse_version,
    version_matches,
    versions_equal,
)
from .retry import RetryPolicy, retry
from .runner import VenvRunner
from .workspace import Venv, Workspace, create_venv, create_workspace, hermetic_tool_env

__all__ = [
    "DEFAULT_INCLUDE_PACKAGES",
    "INDEX_PASSWORD_VAR",
    "INDEX_USERNAME_VAR",
    "MASK",
    "MINIMAL_PATH",
    "CommandResult",
    "DockerExecutor",
    "DockerUnavailable",
    "Executor",
    "InstallResult",
    "InvalidRequirement",
    "LocalExecutor",
    "PdmUnavailable",
    "Requirement",
    "RetryPolicy",
    "Venv",
    "VenvRunner",
    "Workspace",
    "__version__",
    "canonical_name",
    "classify_install_failure",
    "create_venv",
    "create_workspace",
    "docker_engine_status",
    "find_pdm",
    "hermetic_tool_env",
    "index_status",
    "install_pdm",
    "install_pip",
    "installed_versions",
    "parse_requirement",
    "parse_version",
    "pdm_pyproject",
    "redact",
    "redact_url",
    "retry",
    "run_command",
    "scrubbed_env",
    "url_secrets",
    "version_matches",
    "versions_equal",
    "with_credentials",
]

__version__ = version("runner-core")
