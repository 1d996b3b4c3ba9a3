"""sandbox-runner (internal): a local, authenticated package registry for tests and nox.

::

    with PypiServer() as registry:             # pypiserver on 127.0.0.1:<free port>, with auth
        registry.upload([build_wheel(tmp, "demo-pkg", "1.0", {"demo_pkg/__init__.py": ""})])
        pip install --index-url registry.authenticated_index_url demo-pkg==1.0

Never published (no ``[tool.monorepo]`` table): publishable packages may use it only from
their ``dev`` dependency group.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from types import TracebackType

__all__ = ["PypiServer", "SandboxError", "__version__", "build_wheel", "free_port"]

__version__ = version("sandbox-runner")


class SandboxError(RuntimeError):
    """The registry could not be started, or an upload failed."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on *host* that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class PypiServer:
    """A pypiserver serving *packages_dir* on ``127.0.0.1:<port>``, authenticated by htpasswd.

    Uploads, listings and downloads all need the credentials (like a private GitLab registry).
    Start it with :meth:`start` or ``with``; :meth:`stop` terminates it (SIGTERM, then SIGKILL
    after *stop_timeout* seconds). The folder is removed on stop when this object created it.
    """

    def __init__(
        self,
        packages_dir: str | Path | None = None,
        *,
        username: str = "usertest",
        password: str | None = None,
        port: int | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.host = "127.0.0.1"  # loopback only, on purpose
        self.username = username
        self.password = password if password is not None else secrets.token_urlsafe(16)
        self.port = port
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._owned_dir: tempfile.TemporaryDirectory[str] | None = None
        if packages_dir is None:
            self._owned_dir = tempfile.TemporaryDirectory(prefix="sandbox-registry-")
            packages_dir = Path(self._owned_dir.name) / "packages"
        self.packages_dir = Path(packages_dir)
        self._state_dir = Path(tempfile.mkdtemp(prefix="sandbox-registry-state-"))
        self.log_path = self._state_dir / "pypiserver.log"
        self._process: subprocess.Popen[bytes] | None = None

    # -- addresses ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The root URL (uploads go here, as for ``twine upload --repository-url``)."""
        if self.port is None:
            raise SandboxError("the registry is not started")
        return f"http://{self.host}:{self.port}/"

    @property
    def index_url(self) -> str:
        """The PEP 503 simple index, without credentials."""
        return self.url + "simple/"

    @property
    def authenticated_index_url(self) -> str:
        """The simple index with ``user:password@`` in it (what pip needs for this server)."""
        user = urllib.parse.quote(self.username, safe="")
        password = urllib.parse.quote(self.password, safe="")
        return f"http://{user}:{password}@{self.host}:{self.port}/simple/"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- lifecycle ---------------------------------------------------------------------------

    def _write_htpasswd(self) -> Path:
        from passlib.apache import (
            HtpasswdFile,  # the runtime dependency pypiserver uses too
        )

        path = self._state_dir / "htpasswd"
        htpasswd = HtpasswdFile(str(path), new=True)
        htpasswd.set_password(self.username, self.password)
        htpasswd.save()
        return path

    def command(self) -> list[str]:
        """The pypiserver command line (this interpreter, so it is the installed pypiserver)."""
        return [
            sys.executable, "-m", "pypiserver", "run",
            "--host", self.host,
            "--port", str(self.port),
            "--passwords", str(self._state_dir / "htpasswd"),
            "--authenticate", "update,download,list",
            "--disable-fallback",
            str(self.packages_dir),
        ]

    def start(self) -> PypiServer:
        """Start the server and wait until it answers an authenticated request."""
        if self.running:
            return self
        self.packages_dir.mkdir(parents=True, exist_ok=True)
        self._write_htpasswd()
        if self.port is None:
            self.port = free_port(self.host)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYPISERVER_"))}
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise SandboxError(f"pypiserver exited with code {code} while starting:\n{self.log_tail()}")
            status = self._probe()
            if status == 200:
                return self
            if status in (401, 403):
                self.stop()
                raise SandboxError(f"pypiserver refused the sandbox credentials (HTTP {status})")
            if time.monotonic() > deadline:
                self.stop()
                raise SandboxError(
                    f"pypiserver did not answer within {self.startup_timeout:g} s:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _probe(self) -> int | None:
        request = urllib.request.Request(self.index_url, headers={"Authorization": self.basic_auth_header()})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return None

    def basic_auth_header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit in time); safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._owned_dir is not None:
            self._owned_dir.cleanup()
            self._owned_dir = None
        shutil.rmtree(self._state_dir, ignore_errors=True)

    def __enter__(self) -> PypiServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- content -----------------------------------------------------------------------------

    def upload(self, files: Iterable[str | Path], *, timeout: float = 120) -> None:
        """Upload distribution files with ``twine upload`` (twine must be installed).

        The credentials go through the environment (``TWINE_USERNAME``/``TWINE_PASSWORD``),
        never the command line.
        """
        paths = [str(p) for p in files]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "PIP_"))}
        env.update(TWINE_USERNAME=self.username, TWINE_PASSWORD=self.password, TWINE_NON_INTERACTIVE="1")
        done = subprocess.run(
            [sys.executable, "-m", "twine", "upload", "--repository-url", self.url,
             "--disable-progress-bar", *paths],
            capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL, check=False,
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).replace(self.password, "***")
            raise SandboxError(f"twine upload failed (exit {done.returncode}):\n{output[-3000:]}")

    def files(self) -> list[str]:
        """The file names the registry holds."""
        if not self.packages_dir.exists():
            return []
        return sorted(p.name for p in self.packages_dir.rglob("*") if p.is_file() and not p.name.startswith("."))


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"sha256={digest}"


def build_wheel(
    dest: str | Path,
    name: str,
    version: str,
    files: Mapping[str, str],
    *,
    requires: Sequence[str] = (),
    top_level: Sequence[str] | None = None,
) -> Path:
    """Write a minimal, valid pure-Python wheel of *name* *version* into *dest*; return its path.

    *files* maps archive paths (``"demo_pkg/__init__.py"``) to their text. The ``.dist-info``
    has METADATA, WHEEL, a RECORD with sha256 hashes, and ``top_level.txt`` when *top_level*
    is given (hatchling wheels have none; consumers then read RECORD).
    """
    normalized = re.sub(r"[-_.]+", "_", name).lower()
    dist_info = f"{normalized}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    metadata += f"Summary: A tiny test distribution ({name})\n"
    contents: dict[str, bytes] = {path: text.encode("utf-8") for path, text in files.items()}
    contents[f"{dist_info}/METADATA"] = metadata.encode()
    contents[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: sandbox-runner\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if top_level is not None:
        contents[f"{dist_info}/top_level.txt"] = "".join(f"{t}\n" for t in top_level).encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in contents.items():
        writer.writerow([path, _record_hash(data), str(len(data))])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    contents[f"{dist_info}/RECORD"] = record.getvalue().encode()
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{normalized}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
    return wheel
