"""Environments for the programs this tool starts (pip, uv, build backends, probes).

Two kinds:

* :func:`hermetic_env` — *the caller's environment* minus configuration files and index
  settings: no global ``pip.conf`` may add extra indexes or find-links that would make results
  depend on the machine, while the machine's *trust* settings (``PIP_CERT``, ``SSL_CERT_FILE``,
  ``REQUESTS_CA_BUNDLE``) are kept: behind a TLS-inspecting proxy nothing installs without
  them. pip's ``--isolated`` would drop both, so it is not used.
* :func:`backend_env` — an **allowlist**: what third-party code (a build backend, a package
  imported by a probe) may see. Only the variables named in :data:`BACKEND_ALLOWLIST` (and the
  prefixes in :data:`BACKEND_PREFIXES`) pass, and even those are dropped when their value holds
  a credential (a URL with ``user:password@``, or one of the *secrets* passed in). Registry
  URLs, tokens, ``*_PASSWORD``, ``CI_JOB_TOKEN`` and every other variable of the job never
  reach it, in any form. *extra* (e.g. a package's ``SETUPTOOLS_SCM_PRETEND_VERSION_FOR_X``)
  is merged last and passes as given: it is the caller's explicit choice.

Use ``backend_env(os.environ, extra={...}, secrets=[...])`` for any child process that runs
code this project does not control.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

__all__ = [
    "BACKEND_ALLOWLIST",
    "BACKEND_PREFIXES",
    "INDEX_VARIABLES",
    "PROXY_VARIABLES",
    "backend_env",
    "hermetic_env",
    "holds_credential",
]

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

#: What a build backend or an imported package may need: the process basics, locale, time,
#: temporary folders, trust settings, and the compiler / toolchain knobs native backends
#: (setuptools extensions, maturin, scikit-build) read.
BACKEND_ALLOWLIST = frozenset(
    {
        # process basics
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ",
        "TMPDIR", "TEMP", "TMP", "PWD",
        # Windows basics
        "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE",
        "APPDATA", "LOCALAPPDATA", "PROGRAMDATA", "PROGRAMFILES", "PROGRAMFILES(X86)",
        "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE",
        # reproducibility
        "SOURCE_DATE_EPOCH", "PYTHONHASHSEED",
        # trust (never credentials)
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT",
        "NIX_SSL_CERT_FILE",
        # toolchains
        "CC", "CXX", "CPP", "LD", "AR", "NM", "RANLIB", "CFLAGS", "CXXFLAGS", "CPPFLAGS",
        "LDFLAGS", "LDSHARED", "PKG_CONFIG", "PKG_CONFIG_PATH", "MAKEFLAGS", "CMAKE_GENERATOR",
        "CMAKE_ARGS", "MACOSX_DEPLOYMENT_TARGET", "ARCHFLAGS", "CARGO_HOME", "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR", "RUSTFLAGS",
        "MATURIN_PEP517_ARGS", "CCACHE_DIR", "XDG_CACHE_HOME",
    }
)  # fmt: skip
#: Variable families passed by prefix (locale categories, build-backend configuration).
BACKEND_PREFIXES = ("LC_", "SETUPTOOLS_", "HATCH_BUILD_", "PDM_BUILD_", "MATURIN_", "SKBUILD_")
#: Proxies: for installers only (they download); a build backend has no business on the network.
PROXY_VARIABLES = (
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
    "http_proxy", "https_proxy", "no_proxy", "all_proxy",
)  # fmt: skip

# Words in a variable name that say "credential" even under an allowed prefix.
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|CREDENTIAL|AUTH|_KEY\b|APIKEY", re.I)
_USERINFO_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/@\s]*:[^/@\s]*@|://[^/@\s:]+@")


def hermetic_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of *base* (default: ``os.environ``) without config files or index settings."""
    env = {
        k: v for k, v in (os.environ if base is None else base).items() if k not in INDEX_VARIABLES
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["UV_NO_CONFIG"] = "1"
    return env


def holds_credential(value: str, secrets: Iterable[str] = ()) -> bool:
    """Whether *value* carries a credential: a URL's userinfo, or one of *secrets* verbatim."""
    if _USERINFO_URL.search(value):
        return True
    return any(s and len(s) >= 4 and s in value for s in secrets)


def _allowed(name: str) -> bool:
    if name in BACKEND_ALLOWLIST:
        return True
    return name.upper().startswith(BACKEND_PREFIXES) and not _SECRET_NAME.search(name)


def backend_env(
    base: Mapping[str, str] | None = None,
    *,
    extra: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    proxies: bool = False,
) -> dict[str, str]:
    """The allowlisted environment for third-party code (see the module docstring).

    *base* defaults to ``os.environ``. With *proxies* the proxy variables pass too (for an
    installer that downloads), unless they hold a credential. *extra* is merged last.
    """
    source = os.environ if base is None else base
    known = [s for s in secrets if s]
    env: dict[str, str] = {}
    for name, value in source.items():
        if not (_allowed(name) or (proxies and name in PROXY_VARIABLES)):
            continue
        if holds_credential(value, known):
            continue
        env[name] = value
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["UV_NO_CONFIG"] = "1"
    if extra:
        env.update(extra)
    return env
