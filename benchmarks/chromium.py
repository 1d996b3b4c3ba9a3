"""Debian's headless Chromium as the benchmarks and the browser tests launch it.

One place for the executable and the flags (no sandbox as root, no GPU, nothing over the
network), shared by ``bench_render.py``, ``render_screenshots.py`` and
``tests/render/test_browser.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"  # .ci/provision/chromium.sh installs it from apt
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1600, "height": 1000}


def chromium_executable() -> str | None:
    """The Chromium to launch: Debian's, else the first ``chromium`` / ``chromium-browser`` on PATH."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")
