"""Fixtures of the publishing tests: a real pypiserver, and tiny real distributions.

``pypiserver`` (session) runs ``python -m pypiserver run`` on 127.0.0.1 with a free port,
htpasswd authentication for upload, download and listing (user ``ci``, a random password per
session), no fallback to PyPI and no overwriting, serving an empty temporary folder. It can be
stopped and started again (same port, same files) to simulate an outage. ``empty_pypiserver``
(function) is the same server with its packages folder emptied first.

Under pytest-xdist every worker has its own server (session fixtures are per worker), in its own
``tmp_path_factory`` folder, on its own free port; a port another process took between
``_free_port`` and the server's bind is replaced by a new one on the first start.

``devpi`` (session) is a second real registry: ``devpi-server`` on 127.0.0.1 with a free port,
a user ``ci`` (random password) and a **non-volatile** index ``ci/dev`` without bases (no
PyPI mirror; a non-volatile index refuses to overwrite a file), set up through devpi's HTTP API.
Both servers have the same interface (``url``, ``index_url``, ``username``, ``password``,
``authenticated_index_url``, ``files()``, ``stop()``, ``start()``), so the end-to-end tests run
unchanged against either.

``make_wheel`` / ``make_sdist`` write minimal valid distributions (twine reads their metadata,
pip installs the wheel) with ``zipfile`` / ``tarfile``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _PortTaken(Exception):
    """The server could not bind its port (another process took it after ``_free_port``)."""


class _Server:
    """What both registries share: a user with a random password, a free port on 127.0.0.1, a
    log, the server process, and the folder its files land in."""

    _stop_timeout = 10.0  # seconds between terminate and kill

    def __init__(self, workdir: Path, username: str, packages_dir: Path, log: str) -> None:
        self.workdir = workdir
        self.packages_dir = packages_dir
        self.username = username
        self.password = secrets.token_urlsafe(18)
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.log = workdir / log
        self.process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def files(self) -> dict[str, bytes]:
        """The files the server stores: name -> bytes."""
        if not self.packages_dir.exists():
            return {}
        return {
            p.name: p.read_bytes()
            for p in self.packages_dir.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }


class PypiServer(_Server):
    """A pypiserver process; ``url`` uploads, ``index_url`` is its simple index."""

    def __init__(self, workdir: Path, username: str = "ci") -> None:
        with warnings.catch_warnings():  # passlib imports the deprecated crypt module
            warnings.simplefilter("ignore", DeprecationWarning)
            from passlib.apache import HtpasswdFile

        super().__init__(workdir, username, workdir / "packages", "pypiserver.log")
        self.packages_dir.mkdir()
        self.htpasswd = workdir / "htpasswd.txt"
        passwords = HtpasswdFile(str(self.htpasswd), new=True, default_scheme="apr_md5_crypt")
        passwords.set_password(self.username, self.password)
        passwords.save()
        self._started = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def index_url(self) -> str:
        return f"{self.url}simple/"

    @property
    def authenticated_index_url(self) -> str:
        """The index URL with the credentials in it (for pip in tests only)."""
        return f"http://{self.username}:{self.password}@{self.host}:{self.port}/simple/"

    @property
    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "pypiserver", "run",
            "-p", str(self.port),
            "-i", self.host,
            "-P", str(self.htpasswd),
            "-a", "update,download,list",
            "--disable-fallback",
            "--backend", "simple-dir",  # rescans the folder on every request: no stale cache
            str(self.packages_dir),
        ]  # fmt: skip

    def start(self, timeout: float = 30.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        for _attempt in range(5):
            try:
                self._start(timeout)
            except _PortTaken:
                if self._started:  # a restart keeps its URL: the tests hold it
                    raise RuntimeError(
                        f"pypiserver cannot restart: port {self.port} was taken meanwhile"
                    ) from None
                self.port = _free_port()
            else:
                self._started = True
                return
        raise RuntimeError(f"pypiserver found no free port:\n{self.log.read_text()}")

    def _start(self, timeout: float) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYPISERVER_", "TWINE_"))}
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log.read_bytes()[offset:].decode(errors="replace")
                if "Address already in use" in output:
                    self.process = None
                    raise _PortTaken(self.port)
                raise RuntimeError(
                    f"pypiserver exited ({self.process.returncode}):\n{self.log.read_text()}"
                )
            # Ready when *this* server answers: listing needs this session's password, so
            # another worker's server that won the race for the port answers 401, not 200.
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            probe = urllib.request.Request(
                self.index_url, headers={"Authorization": f"Basic {token}"}
            )
            try:
                with urllib.request.urlopen(probe, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pypiserver did not answer within {timeout} s:\n{self.log.read_text()}")

    def clear(self) -> None:
        for child in self.packages_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()


class DevpiServer(_Server):
    """A devpi-server process with user ``ci`` and its non-volatile index ``ci/dev``."""

    _stop_timeout = 20.0

    def __init__(self, workdir: Path, username: str = "ci") -> None:
        super().__init__(workdir, username, workdir / "server" / "+files", "devpi.log")
        self.serverdir = workdir / "server"
        self.root_password = secrets.token_urlsafe(18)
        self._initialized = False

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/{self.username}/dev/"

    @property
    def index_url(self) -> str:
        return f"{self.url}+simple/"

    @property
    def authenticated_index_url(self) -> str:
        return f"http://{self.username}:{self.password}@{self.host}:{self.port}/{self.username}/dev/+simple/"

    def _bin(self, name: str) -> str:
        found = shutil.which(name, path=os.path.dirname(sys.executable))
        if found is None:
            raise RuntimeError(f"{name} is not installed next to {sys.executable}")
        return found

    def _env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith(("DEVPI", "TWINE_"))}

    def start(self, timeout: float = 180.0) -> None:
        # devpi-server needs a few seconds to start (minutes on a loaded 2-core machine).
        if self.process is not None and self.process.poll() is None:
            return
        secret = self.workdir / "secret" / "devpi.secret"
        if not self._initialized:
            subprocess.run(
                [self._bin("devpi-init"), "--serverdir", str(self.serverdir), "--no-root-pypi",
                 "--root-passwd", self.root_password],
                check=True, capture_output=True, env=self._env(),
            )  # fmt: skip
            secret.parent.mkdir(mode=0o700)
            secret.write_text(secrets.token_urlsafe(32))
            secret.chmod(0o600)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self._bin("devpi-server"), "--serverdir", str(self.serverdir), "--host",
                 self.host, "--port", str(self.port), "--secretfile", str(secret)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self._env(),
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"devpi-server exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.base}/+api", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"devpi-server did not answer within {timeout} s")
        if not self._initialized:
            self._setup()
            self._initialized = True

    def _request(self, method: str, path: str, body: object, auth: str | None = None) -> object:
        request = urllib.request.Request(
            f"{self.base}{path}", data=json.dumps(body).encode(), method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )  # fmt: skip
        if auth:
            request.add_header("X-Devpi-Auth", auth)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def _login(self, user: str, password: str) -> str:
        answer = self._request("POST", "/+login", {"user": user, "password": password})
        assert isinstance(answer, dict)
        token = answer["result"]["password"]
        return base64.b64encode(f"{user}:{token}".encode()).decode()

    def _setup(self) -> None:
        root = self._login("root", self.root_password)
        self._request("PUT", f"/{self.username}",
                      {"password": self.password, "email": "ci@example.org"}, root)  # fmt: skip
        mine = self._login(self.username, self.password)
        self._request("PUT", f"/{self.username}/dev",
                      {"type": "stage", "bases": [], "volatile": False}, mine)  # fmt: skip



@pytest.fixture(scope="session")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build-environment cache for the session, shared by the build and dist-check tests
    (the base temp folder is per xdist worker, and the cache locks its entries)."""
    return tmp_path_factory.getbasetemp() / "build-envs"


@pytest.fixture(scope="session")
def devpi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevpiServer]:
    server = DevpiServer(tmp_path_factory.mktemp("devpi"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pypiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    server = PypiServer(tmp_path_factory.mktemp("pypiserver"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def empty_pypiserver(pypiserver: PypiServer) -> PypiServer:
    """The session's server, running, with no files."""
    pypiserver.start()
    pypiserver.clear()
    return pypiserver


@pytest.fixture
def twine_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No TWINE_* variable and no ~/.pypirc can reach twine (HOME is an empty folder)."""
    for name in list(os.environ):
        if name.startswith("TWINE_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".pypirc").write_text("")
    monkeypatch.setenv("HOME", str(home))
    return home


# --------------------------------------------------------------------------- distributions


def _metadata(name: str, version: str, requires_python: str | None) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    return "\n".join(lines) + "\n\n"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def write_wheel(
    folder: Path,
    name: str,
    version: str = "1.0",
    body: str = "",
    requires_python: str | None = ">=3.8",
) -> Path:
    """``<name>-<version>-py3-none-any.whl`` with ``<name>/__init__.py`` holding *body*."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"__version__ = {version!r}\n{body}".encode(),
        f"{dist_info}/METADATA": _metadata(name, version, requires_python).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    record += f"{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record.encode()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return target


def write_sdist(folder: Path, name: str, version: str = "1.0", body: str = "") -> Path:
    """``<name>-<version>.tar.gz`` with PKG-INFO, pyproject.toml and the module."""
    module = name.replace("-", "_")
    base = f"{module}-{version}"
    files = {
        f"{base}/PKG-INFO": _metadata(name, version, ">=3.8").encode(),
        f"{base}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n'.encode(),
        f"{base}/{module}/__init__.py": f"__version__ = {version!r}\n{body}".encode(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{base}.tar.gz"
    with tarfile.open(target, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = 1577836800
            archive.addfile(info, io.BytesIO(data))
    return target


@pytest.fixture
def make_wheel(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1_000_000))

    def make(
        name: str, version: str = "1.0", body: str = "", requires_python: str | None = ">=3.8"
    ) -> Path:
        return write_wheel(tmp_path / f"dist-{next(counter)}", name, version, body, requires_python)

    return make


@pytest.fixture
def make_sdist(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1_000_000))

    def make(name: str, version: str = "1.0", body: str = "") -> Path:
        return write_sdist(tmp_path / f"sdist-{next(counter)}", name, version, body)

    return make


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """A project name no other test uses (the session server is shared)."""

    def make(prefix: str) -> str:
        return f"{prefix}-{secrets.token_hex(4)}"

    return make
