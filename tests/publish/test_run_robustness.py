"""Items 14-16 of issue 8: concurrent runs, snapshot ids, and clear errors instead of tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import Run

from monorepo_tools.errors import ConfigError
from monorepo_tools.publish.registry import registry_from_env
from monorepo_tools.publish.run import snapshot_lock
from monorepo_tools.snapshot.versions import MAX_ID_DIGITS, resolve_snapshot_id

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "snapshot-repo"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "monorepo"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture(scope="session")
def build_env_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build-envs-robust")


def module(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monorepo_tools", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def clean_env(build_env_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITLAB_", "CI", "GITHUB_", "MONOREPO_", "TWINE_"))
    }
    env.update(PYTHONPATH=str(REPO), PIP_CONFIG_FILE=os.devnull,
               MONOREPO_BUILD_ENV_DIR=str(build_env_dir))  # fmt: skip
    env.update(extra)
    return env


# --------------------------------------------------------------------------- 14: one lock per id


@pytest.mark.slow
def test_a_second_run_of_the_same_id_waits_saying_who_holds_the_lock(
    repo: Path, build_env_dir: Path
) -> None:
    state = repo / ".monorepo"
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with snapshot_lock(state, 77):
            held.set()
            release.wait(60)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    log = repo.parent / "second-run.err"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monorepo_tools", "snapshot", "--root", str(repo),
             "--dry-run", "--snapshot-id", "77"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=clean_env(build_env_dir),
        )  # fmt: skip
        deadline = time.monotonic() + 120  # start-up takes long on a loaded machine
        while "waiting" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        time.sleep(1)
        assert proc.poll() is None  # it waits for the lock, it does not fail or go ahead
        assert not list((repo / ".monorepo" / "dist").glob("77/*.whl"))  # nothing built yet
        release.set()
        thread.join()
        out, _ = proc.communicate(timeout=300)
    err = log.read_text()
    assert proc.returncode == 0, out + err
    assert "snapshot 77 is being run under this root by pid" in err and "waiting" in err
    assert str(os.getpid()) in err


@pytest.mark.slow
def test_concurrent_runs_of_the_same_id_all_succeed(repo: Path, build_env_dir: Path) -> None:
    env = clean_env(build_env_dir)
    command = [sys.executable, "-m", "monorepo_tools", "snapshot", "--root", str(repo),
               "--dry-run", "--snapshot-id", "78"]  # fmt: skip
    procs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(3)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], results
    # each run staged in its own folder, removed afterwards
    assert list((repo / ".monorepo" / "staging" / "78").iterdir()) == []


# --------------------------------------------------------------------------- 15: snapshot ids


@pytest.mark.parametrize("digits", [31, 300, 5000])
def test_an_overlong_snapshot_id_is_a_usage_error(digits: int) -> None:
    with pytest.raises(ConfigError, match=f"more than {MAX_ID_DIGITS}"):
        resolve_snapshot_id("9" * digits, {})
    with pytest.raises(ConfigError, match="MONOREPO_SNAPSHOT_ID"):
        resolve_snapshot_id(None, {"MONOREPO_SNAPSHOT_ID": "1" * digits})


def test_an_overlong_id_on_the_command_line_exits_2(cli: Callable[..., Run], repo: Path) -> None:
    result = cli("plan", "--root", str(repo), "--snapshot-id", "7" * 300)
    assert result.code == 2 and "digits" in result.err and "Traceback" not in result.err


def test_github_run_attempt_zero_is_not_accepted() -> None:
    chosen = resolve_snapshot_id(
        None, {"GITHUB_RUN_ID": "123", "GITHUB_RUN_ATTEMPT": "0", "CI_PIPELINE_ID": "9"}
    )
    assert (chosen.value, chosen.source) == (9, "CI_PIPELINE_ID")
    assert any("GITHUB_RUN_ATTEMPT='0'" in w for w in chosen.warnings)


def test_the_time_fallback_in_ci_is_warned_about_loudly() -> None:
    chosen = resolve_snapshot_id(None, {"CI": "true"}, clock=lambda: 1_700_000_000.5)
    assert chosen.value == 1_700_000_000 and chosen.source == "time.time()"
    (warning,) = chosen.warnings
    assert warning.startswith("WARNING") and "sort BEFORE" in warning
    assert resolve_snapshot_id(None, {}, clock=lambda: 5.0).warnings == ()  # not in CI


# --------------------------------------------------------------------------- 16: clear errors


def test_state_folder_is_a_file(cli: Callable[..., Run], repo: Path) -> None:
    (repo / ".monorepo").write_text("not a folder\n")
    result = cli("snapshot", "--root", str(repo), "--dry-run", "--snapshot-id", "3")
    assert result.code == 2, result.err
    assert ".monorepo is a file" in result.err and "Traceback" not in result.err


def test_state_folder_is_a_dangling_symlink(cli: Callable[..., Run], repo: Path) -> None:
    (repo / ".monorepo").symlink_to(repo / "gone")
    result = cli("snapshot", "--root", str(repo), "--dry-run", "--snapshot-id", "3")
    assert result.code == 2, result.err
    assert "is a symlink to" in result.err and "not a folder" in result.err


def test_state_folder_cannot_be_written(cli: Callable[..., Run], repo: Path) -> None:
    # A folder even root cannot create folders in (the tests run as root, so chmod would not
    # stop them): /proc/self stands in for a read-only root.
    (repo / ".monorepo").symlink_to("/proc/self")
    result = cli("snapshot", "--root", str(repo), "--dry-run", "--snapshot-id", "3")
    assert result.code == 2, result.err
    assert "cannot create" in result.err and "writable" in result.err
    assert "Traceback" not in result.err


def test_root_longer_than_a_file_name_can_be(cli: Callable[..., Run]) -> None:
    result = cli("check", "--root", "/tmp/" + "x" * 300)
    assert result.code == 2 and "longer than 255" in result.err


@pytest.mark.parametrize(
    "option, value",
    [
        ("--upload-backoff-seconds", "-1"),
        ("--upload-backoff-seconds", "nan"),
        ("--upload-backoff-seconds", "inf"),
        ("--upload-backoff-seconds", "1e9"),
        ("--upload-backoff-multiplier", "1e300"),
        ("--upload-backoff-multiplier", "0.5"),
        ("--upload-retries", "1000000"),
        ("--upload-retries", "-1"),
    ],
)
def test_absurd_retry_options_are_refused_when_parsing(
    cli: Callable[..., Run], repo: Path, option: str, value: str
) -> None:
    started = time.monotonic()
    result = cli("snapshot", "--root", str(repo), "--dry-run", option, value)
    assert result.code == 2 and option in result.err
    assert not (repo / ".monorepo").exists()  # nothing was built first
    assert time.monotonic() - started < 5


def test_a_malformed_repository_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError) as info:
        registry_from_env(
            {"MONOREPO_REPOSITORY_URL": "http://[::1", "MONOREPO_REPOSITORY_PASSWORD": "x"},
            Path("/r"),
        )
    assert "MONOREPO_REPOSITORY_URL" in str(info.value) and "not a valid URL" in str(info.value)


def test_a_malformed_repository_url_on_the_cli_exits_2(cli: Callable[..., Run], repo: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("MONOREPO_REPOSITORY_URL", "http://u:pw@[::1")
    result = cli("snapshot", "--root", str(repo), "--snapshot-id", "4")
    assert result.code == 2 and "not a valid URL" in result.err and ":pw@" not in result.err


@pytest.mark.parametrize(
    "document, expected",
    [
        ([], "a JSON list, not an object"),
        ("x", "a JSON str, not an object"),
        ({"packages": {"a": 1}}, '"packages" is not a list'),
        ({"packages": ["a"]}, "packages[0] is not an object"),
        ({"packages": [{"name": "a", "outcome": "published"}]}, "packages[0] has no version"),
        ({"packages": [{"version": "1", "outcome": "published"}]}, "packages[0] has no name"),
    ],
)
def test_a_malformed_summary_json_is_a_clear_error(
    cli: Callable[..., Run], repo: Path, tmp_path: Path, document: object, expected: str
) -> None:
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(document))
    result = cli("consumer-config", "--root", str(repo), "--summary-json", str(summary))
    assert result.code == 2 and expected in result.err, result.err
    assert str(summary) in result.err


def _interrupted_run(repo: Path, module_name: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as `python -m`, with a Ctrl-C arriving while *module_name* is imported."""
    code = (
        "import builtins, runpy, sys\n"
        "real = builtins.__import__\n"
        "def imp(name, *args, **kwargs):\n"
        f"    if name == {module_name!r}:\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = imp\n"
        f"sys.argv = ['monorepo', 'check', '--root', {str(repo)!r}]\n"
        "runpy.run_module('monorepo_tools', run_name='__main__', alter_sys=True)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("module_name", ["networkx", "argparse", "tomllib"])
def test_ctrl_c_during_start_up_exits_130_without_a_traceback(repo: Path, module_name: str) -> None:
    done = _interrupted_run(repo, module_name)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "interrupted" in done.stderr


# --------------------------------------------------------------------------- last.json


@pytest.mark.slow
def test_last_json_is_not_replaced_by_a_dry_or_failed_run(repo: Path, build_env_dir: Path) -> None:
    env = clean_env(build_env_dir)
    good = module("snapshot", "--root", str(repo), "--snapshot-id", "100", env=env)
    assert good.returncode == 0, good.stderr
    last = repo / ".monorepo" / "snapshots" / "last.json"
    assert json.loads(last.read_text())["snapshot_id"] == 100
    dry = module("snapshot", "--root", str(repo), "--dry-run", "--snapshot-id", "101", env=env)
    assert dry.returncode == 0
    gamma = repo / "packages" / "gamma" / "pyproject.toml"
    gamma.write_text(gamma.read_text().replace("[build-system]", "[build-system]\nbroken = ["))
    failed = module("snapshot", "--root", str(repo), "--snapshot-id", "102", env=env)
    assert failed.returncode != 0
    assert json.loads(last.read_text())["snapshot_id"] == 100
    assert (repo / ".monorepo" / "snapshots" / "101.json").exists()  # kept, just not "last"
