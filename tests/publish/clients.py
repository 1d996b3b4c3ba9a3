"""Helpers for the tests that run real installers against real loopback registries.

* :func:`upstream_server`: a pypiserver without authentication that stands in for PyPI (the
  network reaches PyPI only through package clients, and tests stay hermetic): it holds the
  third-party distributions.
* :func:`forwarding_server`: a second pypiserver over the *same* packages folder and password
  file as an authenticated ``PypiServer`` (conftest), with ``--fallback-url`` to the upstream: a name it
  has no package for answers 303 to the upstream, as GitLab's package forwarding answers 302 to
  pypi.org. The plain server (``--disable-fallback``) is GitLab with forwarding off.
* :func:`wheel`: a minimal valid wheel with ``Requires-Dist`` lines.
* :func:`fresh_env`: the whole environment of a consumer's client: a fresh HOME, a PATH of the
  given folders and the system's, nothing else of this machine (no index variables, no user
  configuration).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")


def upstream_server(primary: Any, workdir: Path) -> Any:
    """A started pypiserver without authentication or fallback (of *primary*'s class): "PyPI"."""

    class UpstreamServer(type(primary)):  # type: ignore[misc]
        @property
        def command(self) -> list[str]:
            return [
                sys.executable, "-m", "pypiserver", "run",
                "-p", str(self.port), "-i", self.host,
                "-P", ".", "-a", ".",
                "--disable-fallback", "--backend", "simple-dir",
                str(self.packages_dir),
            ]  # fmt: skip

    server = UpstreamServer(workdir)
    server.start()
    return server


def forwarding_server(primary: Any, workdir: Path, upstream_index: str) -> Any:
    """A started pypiserver over *primary*'s packages and credentials, forwarding other names."""

    class ForwardingServer(type(primary)):  # type: ignore[misc]
        @property
        def command(self) -> list[str]:
            command: list[str] = super().command
            at = command.index("--disable-fallback")
            command[at : at + 1] = ["--fallback-url", upstream_index]
            return command

    server = ForwardingServer(workdir, primary.username)
    server.packages_dir = primary.packages_dir
    server.password = primary.password
    server.htpasswd = primary.htpasswd
    server.start()
    return server


def packaging_wheel(folder: Path) -> Path:
    """The ``packaging`` wheel (this venv's version) from PyPI, by pip, machine config dropped.

    The demo set's third-party dependency (runner-core uses it), for the upstream server.
    """
    import importlib.metadata

    version = importlib.metadata.version("packaging")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
         "-d", str(folder), f"packaging=={version}"],
        check=True, env=env, timeout=300, capture_output=True,
    )  # fmt: skip
    return next(folder.glob("packaging-*.whl"))


def wheel(
    folder: Path, name: str, version: str, requires: Sequence[str] = (), body: str = ""
) -> Path:
    """``<name>-<version>-py3-none-any.whl``: ``<module>/__init__.py`` holding *body*."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Python: >=3.8\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires) + "\n"
    files = {
        f"{module}/__init__.py": f"__version__ = {version!r}\n{body}".encode(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }

    def digest(data: bytes) -> str:
        raw = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"sha256={raw}"

    record = "".join(f"{p},{digest(d)},{len(d)}\n" for p, d in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return target


def fresh_env(home: Path, path: Iterable[str | Path] = (), **extra: str) -> dict[str, str]:
    """A consumer's environment: fresh HOME, PATH, locale; nothing else of this machine."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join([*(str(p) for p in path), *SYSTEM_PATH]),
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def base_python() -> str:
    """The interpreter this test venv was made from (clients make venvs of their own from it)."""
    candidate = getattr(sys, "_base_executable", "") or sys.executable
    return candidate if Path(candidate).exists() else (shutil.which("python3") or sys.executable)


def run(
    argv: Sequence[str] | str, *, env: dict[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run a command (a printed shell line when *argv* is a string, through bash)."""
    command = ["bash", "-c", argv] if isinstance(argv, str) else list(argv)
    return subprocess.run(
        command,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
