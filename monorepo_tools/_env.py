"""Environments for the installers this tool starts (pip, uv, build backends).

"Hermetic" here means: no configuration *files* and no index settings inherited from the
machine (a global pip.conf may add extra indexes or find-links that would make results depend
on the machine), while the machine's *trust* settings (``PIP_CERT``, ``SSL_CERT_FILE``,
``REQUESTS_CA_BUNDLE``) are kept: behind a TLS-inspecting proxy nothing installs without them.
pip's ``--isolated`` would drop both, so it is not used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["INDEX_VARIABLES", "hermetic_env"]

INDEX_VARIABLES = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_FIND_LINKS",
)


def hermetic_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of *base* (default: ``os.environ``) without config files or index settings."""
    env = {
        k: v for k, v in (os.environ if base is None else base).items() if k not in INDEX_VARIABLES
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["UV_NO_CONFIG"] = "1"
    return env
