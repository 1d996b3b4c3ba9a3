import base64
import csv
import hashlib
import io
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
import sandbox_runner
from sandbox_runner import PypiServer, SandboxError, build_wheel, free_port


def test_version_comes_from_installed_metadata() -> None:
    assert sandbox_runner.__version__ == version("sandbox-runner")


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_build_wheel_writes_a_valid_record(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "Demo.Pkg", "1.0.dev3", {"demo_pkg/__init__.py": "X = 1\n"}, requires=["six"], top_level=["demo_pkg"])
    assert wheel.name == "demo_pkg-1.0.dev3-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {"demo_pkg/__init__.py", "demo_pkg-1.0.dev3.dist-info/METADATA", "demo_pkg-1.0.dev3.dist-info/top_level.txt"} <= names
        metadata = archive.read("demo_pkg-1.0.dev3.dist-info/METADATA").decode()
        assert "Name: Demo.Pkg\nVersion: 1.0.dev3\n" in metadata and "Requires-Dist: six" in metadata
        rows = list(csv.reader(io.StringIO(archive.read("demo_pkg-1.0.dev3.dist-info/RECORD").decode())))
        for path, digest, size in rows:
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data)
        assert {row[0] for row in rows} == names


def _get(url: str, auth: str | None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": auth} if auth else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_registry_serves_uploads_to_authenticated_clients_only(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist", "sandbox-demo", "0.1.0", {"sandbox_demo/__init__.py": "VALUE = 42\n"})
    with PypiServer(tmp_path / "packages") as registry:
        assert registry.running
        assert registry.url == f"http://127.0.0.1:{registry.port}/"
        assert registry.index_url == registry.url + "simple/"
        assert f"{registry.username}:{registry.password}@127.0.0.1:{registry.port}" in registry.authenticated_index_url
        assert _get(registry.index_url, None) == 401
        assert _get(registry.index_url, registry.basic_auth_header()) == 200
        registry.upload([wheel])
        assert registry.files() == [wheel.name]
        # A client reads the simple index and downloads the file with the credentials.
        request = urllib.request.Request(registry.index_url + "sandbox-demo/", headers={"Authorization": registry.basic_auth_header()})
        with urllib.request.urlopen(request, timeout=5) as response:
            page = response.read().decode()
        href = re.search(r'href="([^"]+)"', page)
        assert href is not None and wheel.name in href.group(1)
        link = urllib.parse.urljoin(registry.index_url + "sandbox-demo/", href.group(1))
        request = urllib.request.Request(link, headers={"Authorization": registry.basic_auth_header()})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.read() == wheel.read_bytes()
        assert _get(link, None) == 401
        process = registry._process
    assert not registry.running
    assert process is not None and process.poll() is not None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", registry.port)) != 0  # nothing listens any more
    registry.stop()  # a second stop is harmless


def test_upload_with_wrong_credentials_fails_without_leaking_them(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "sandbox-demo", "0.2.0", {"sandbox_demo/__init__.py": ""})
    registry = PypiServer(password="the-right-password").start()
    try:
        registry.password = "a-wrong-password"
        with pytest.raises(SandboxError) as info:
            registry.upload([wheel])
        assert "a-wrong-password" not in str(info.value)
        assert "twine upload failed" in str(info.value)
    finally:
        registry.stop()
    assert not registry.packages_dir.exists()  # its own temporary folder is removed


def test_a_server_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        registry = PypiServer(tmp_path / "packages", port=busy.getsockname()[1], startup_timeout=20)
        with pytest.raises(SandboxError) as info:
            registry.start()
    assert "pypiserver" in str(info.value)
    assert not registry.running
