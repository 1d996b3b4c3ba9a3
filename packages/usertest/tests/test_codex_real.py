"""The codex agent against the real Codex CLI (npm's @openai/codex), as far as it runs without an
account: the native binary is found behind npm's node script, every flag usertest passes is one
`codex exec --help` lists, and a run without a login fails at once with a clear message (instead
of `codex exec` retrying "waiting for network" for minutes).

The CLI comes from `.ci/provision/codex.sh` (npm install -g @openai/codex). Where npm cannot
install it the tests are skipped with the reason; under CI=true they fail instead.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from agent_adapters import codex_argv, codex_login_status, find_codex, native_codex

REPO = Path(__file__).resolve().parents[3]
PROVISION = REPO / ".ci" / "provision" / "codex.sh"


@pytest.fixture(scope="module")
def codex_exe() -> str:
    done = subprocess.run(["bash", str(PROVISION)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        reason = f"the Codex CLI could not be installed: {done.stderr.strip()[-300:]}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    return find_codex()


def test_the_native_binary_is_found_behind_npms_node_script(codex_exe: str) -> None:
    assert Path(codex_exe).is_absolute()
    assert Path(codex_exe).read_bytes()[:4] == b"\x7fELF"  # not codex.js: runs without node
    assert native_codex(codex_exe) == codex_exe
    done = subprocess.run([codex_exe, "--version"], capture_output=True, text=True, env={"PATH": "/nonexistent"})
    assert done.returncode == 0 and done.stdout.startswith("codex-cli ")


def test_every_flag_usertest_passes_is_a_flag_of_codex_exec(codex_exe: str, tmp_path: Path) -> None:
    help_text = subprocess.run([codex_exe, "exec", "--help"], capture_output=True, text=True, check=True).stdout
    argv = codex_argv(codex_exe, "prompt", policy="strict", last_message=tmp_path / "last.txt")
    flags = [a for a in argv if a.startswith("--")]
    assert flags == ["--skip-git-repo-check", "--sandbox", "--ephemeral", "--output-last-message"]
    for flag in flags:
        assert flag in help_text, flag
    for mode in ("workspace-write", "read-only"):
        assert mode in help_text


def test_login_status_without_a_login(codex_exe: str, tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    ok, said = codex_login_status(codex_exe, home)
    assert ok is False and "Not logged in" in said


def test_a_codex_run_without_a_login_fails_at_once_with_what_to_do(codex_exe: str, tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_"))}
    env.update(CODEX_HOME=str(home), PATH=f"{Path(codex_exe).parent}:{env.get('PATH', '')}")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "usertest.cli", "run", "--repo-root", ".", "--repo", "pip:x==1",
         "--index-url", "http://127.0.0.1:9/simple/", "--agent", "codex"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert time.monotonic() - started < 30
    assert "Codex is not logged in" in done.stderr and "Not logged in" in done.stderr
    assert "codex login" in done.stderr and "Traceback" not in done.stderr
