import socket
import sys
from importlib.metadata import version
from pathlib import Path

import sandbox_runner
from sandbox_runner import free_port, run_in_sandbox


def test_version_comes_from_installed_metadata() -> None:
    assert sandbox_runner.__version__ == version("sandbox-runner")


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_run_in_sandbox_uses_a_throwaway_directory() -> None:
    event = run_in_sandbox([sys.executable, "-c", "import os; print(os.getcwd())"])
    cwd = event.payload["stdout"].strip()
    assert Path(cwd).resolve() == Path(event.payload["sandbox"]).resolve()
    assert not Path(event.payload["sandbox"]).exists()
