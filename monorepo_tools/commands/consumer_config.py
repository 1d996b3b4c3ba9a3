"""``monorepo consumer-config``: ready-to-paste configuration for installing a snapshot.

Pure text from three values: the registry's simple index URL (never with credentials), the
publishable packages, and their snapshot versions. Formats: ``pip`` (forwarding enabled and
disabled), ``pip-conf``, ``pdm`` (the spec's ``[[tool.pdm.source]]`` block), ``uv`` (an
explicit index that serves exactly our packages).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

__all__ = ["CONSUMER_FORMATS", "DEPENDENCY_CONFUSION_NOTE", "render_consumer_config"]

CONSUMER_FORMATS = ("pip", "pip-conf", "pdm", "uv")
PYPI = "https://pypi.org/simple"

DEPENDENCY_CONFUSION_NOTE = (
    "Note on dependency confusion: with GitLab's package forwarding on, or with pip's "
    "--extra-index-url, the installer considers every index for every name and takes the highest "
    "version it finds, so anyone who publishes one of these names on pypi.org with a higher "
    "version gets installed instead. Only a per-package route closes that door: PDM's "
    "include_packages and uv's explicit index with [tool.uv.sources] take these packages from "
    "the GitLab index alone and everything else from PyPI. With pip, prefer forwarding disabled "
    "on the registry and pin exact snapshot versions (==), as below."
)


def render_consumer_config(
    index_url: str,
    packages: Sequence[tuple[str, str]],
    fmt: str = "pip",
    all_publishable: Sequence[str] = (),
) -> str:
    """Configuration text for *packages* ((name, version) pairs) published at *index_url*.

    ``all_publishable`` lists every publishable package (for PDM's ``include_packages`` and
    uv's sources); it defaults to the names in *packages*.
    """
    names = sorted(set(all_publishable) | {name for name, _ in packages})
    pins = " ".join(f"{name}=={version}" for name, version in packages)
    credentials = (
        "Credentials: never put a token in these files. pip and uv read ~/.netrc (machine "
        "<gitlab-host> login <username> password <token>) or a keyring; PDM takes "
        "`pdm config pypi.gitlab.username/password`, or expands ${VARIABLES} written in the url."
    )
    if fmt == "pip-conf":
        body = "\n".join(
            [
                "# pip.conf (Linux: ~/.config/pip/pip.conf, or PIP_CONFIG_FILE=<this file>)",
                "[global]",
                f"index-url = {index_url}",
                "# With forwarding disabled on the registry, add PyPI explicitly for the other",
                "# dependencies (read the dependency-confusion note first):",
                f"# extra-index-url = {PYPI}",
                "",
                f"# then: pip install {pins}",
            ]
        )
    elif fmt == "pdm":
        include = "\n".join(f'  "{name}*",' for name in names)
        adds = "\n".join(f"pdm add {name}=={version}" for name, version in packages)
        body = "\n".join(
            [
                "# In the consuming project's pyproject.toml:",
                "[[tool.pdm.source]]",
                'name = "gitlab"',
                f'url = "{index_url}"',
                "include_packages = [",
                include,
                "]",
                "",
                "# Then install normally:",
                adds,
            ]
        )
    elif fmt == "uv":
        sources = "\n".join(f'{name} = {{ index = "gitlab" }}' for name in names)
        adds = " ".join(f"{name}=={version}" for name, version in packages)
        body = "\n".join(
            [
                "# In the consuming project's pyproject.toml:",
                "[[tool.uv.index]]",
                'name = "gitlab"',
                f'url = "{index_url}"',
                "explicit = true   # only the packages routed below come from this index",
                "",
                "[tool.uv.sources]",
                sources,
                "",
                "# Then:",
                f"uv add {adds}",
            ]
        )
    else:
        body = "\n".join(
            [
                "# pip, forwarding enabled on the registry (it proxies PyPI for other packages):",
                f'pip install --index-url "{index_url}" {pins}',
                "",
                "# pip, forwarding disabled (recommended explicit fallback):",
                f'pip install --index-url "{index_url}" --extra-index-url "{PYPI}" {pins}',
            ]
        )
    notes = "\n#\n".join(
        "\n".join(f"# {line}" for line in textwrap.wrap(text, 96, break_on_hyphens=False))
        for text in (credentials, DEPENDENCY_CONFUSION_NOTE)
    )
    return f"{body}\n\n{notes}\n"
