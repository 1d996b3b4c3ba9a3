"""usertest's command line: usage errors (exit 2) before anything is installed, and `list`."""

import json
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from usertest.cli import main
from usertest.targets import UsageError, gitlab_index_url, parse_target, resolve_index

import usertest

INDEX = ["--index-url", "http://127.0.0.1:9/simple/"]


def run_main(capsys: pytest.CaptureFixture[str], *args: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args), environ={} if environ is None else environ)
    out, err = capsys.readouterr()
    return code, out, err


def test_version_comes_from_installed_metadata() -> None:
    assert usertest.__version__ == version("usertest")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("pip:", "names no requirement"),
        ("pdm:   ", "names no requirement"),
        ("foo:bar", "is not a package target"),
        (".", "is not a package target"),
        ("pip:agent-adapters==", "invalid requirement"),
        ("pip:not a requirement!", "invalid requirement"),
        ("pip:a==1 A==2", "names a twice"),
    ],
)
def test_malformed_targets_are_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str, expected: str) -> None:
    code, out, err = run_main(capsys, "run", "--repo", target, *INDEX, "--work-dir", str(tmp_path))
    assert code == 2
    assert expected in err and err.startswith("usertest: error: ")
    assert out == "" and list(tmp_path.iterdir()) == []  # nothing was created


def test_unknown_persona_and_mission_list_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "run", "--repo", "pip:x==1", *INDEX, "--persona-id", "nobody")
    assert code == 2
    assert "unknown persona 'nobody'; known personas: quickstart_sprinter, careful_integrator, ci_automator" in err
    code, _, err = run_main(capsys, "run", "--repo", "pip:x==1", *INDEX, "--mission-id", "moonshot")
    assert code == 2
    assert "unknown mission 'moonshot'; known missions: first_output_smoke, api_tour, offline_ci_check" in err


def test_no_index_is_a_usage_error_naming_the_variables(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "run", "--repo", "pip:x==1", environ={"GITLAB_PYPI_PROJECT_ID": "7"})
    assert code == 2
    assert "no package index: pass --index-url URL, or set GITLAB_PYPI_PROJECT_ID and GITLAB_HOST" in err
    assert "not set: GITLAB_HOST" in err


def test_docker_backend_without_an_engine_fails_at_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker-engine.sock")  # never reachable
    started = time.monotonic()
    code, out, err = run_main(
        capsys, "run", "--repo-root", ".", "--repo", "pip:agent-adapters==0.1.0", *INDEX, "--agent", "smoke",
        "--exec-backend", "docker", "--work-dir", str(tmp_path / "ws"),
    )
    assert code == 2
    assert time.monotonic() - started < 30
    assert err.startswith("usertest: error: docker backend: no Docker engine reachable (docker info failed: ")
    assert err.rstrip().endswith("); use --exec-backend local")
    assert out == "" and not (tmp_path / "ws").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--agent", "command"], '--agent command needs --command "CMD"'),
        (["--command", "true"], "--command is only for --agent command"),
        (["--agent", "command", "--command", "'unterminated"], "--command: No closing quotation"),
        (["--exec-env", "NOT-A-NAME"], "--exec-env takes variable names"),
        (["--extra-index-url", "ftp://x"], "--extra-index-url must be an http(s) or file URL"),
        (["--repo-root", "/no/such/folder"], "is not a directory"),
    ],
)
def test_other_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str], expected: str) -> None:
    code, _, err = run_main(capsys, "run", "--repo", "pip:x==1", *INDEX, *args)
    assert code == 2 and expected in err


def test_codex_without_the_program_names_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run_main(capsys, "run", "--repo", "pip:x==1", *INDEX, "--agent", "codex")
    assert code == 2 and "npm install -g @openai/codex" in err


def test_codex_auth_modes_are_explicit(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "codex").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "codex").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "no-login-here"))
    code, _, err = run_main(capsys, "run", "--repo", "pip:x==1", *INDEX, "--agent", "codex")
    assert code == 2 and "host-login mode: no Codex login at" in err and "codex login" in err
    code, _, err = run_main(capsys, "run", "--repo", "pip:x==1", *INDEX, "--agent", "codex", "--exec-use-api-key-auth")
    assert code == 2 and "--exec-use-api-key-auth needs --exec-env OPENAI_API_KEY" in err
    code, _, err = run_main(capsys, "run", "--repo", "pip:x==1", *INDEX, "--agent", "codex", "--exec-use-api-key-auth",
                            "--exec-env", "OPENAI_API_KEY")
    assert code == 2 and "OPENAI_API_KEY is not set on the host" in err


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--repo", "pip:x==1", "--agent", "gpt"], environ={})
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["run", "--repo", "pip:x==1", "--agent-rate-limit-retries", "-1"], environ={})
    assert info.value.code == 2


def test_list_shows_personas_and_missions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "list")
    assert code == 0
    assert out.startswith("Personas:\n  quickstart_sprinter ")
    assert "\nMissions:\n  first_output_smoke " in out
    code, out, _ = run_main(capsys, "list", "--json")
    data = json.loads(out)
    assert [p["id"] for p in data["personas"]] == ["quickstart_sprinter", "careful_integrator", "ci_automator"]
    assert [m["id"] for m in data["missions"]] == ["first_output_smoke", "api_tour", "offline_ci_check"]
    assert all(m["success"] for m in data["missions"])


def test_the_module_runs_as_documented() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITLAB_")}
    done = subprocess.run([sys.executable, "-m", "usertest.cli", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "quickstart_sprinter" in done.stdout
    done = subprocess.run([sys.executable, "-m", "usertest.cli", "run", "--repo-root", ".", "--repo", "pip:"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and "names no requirement" in done.stderr


def test_targets() -> None:
    target = parse_target("pdm:agent-adapters==0.1.0.dev7 normalized-events==0.1.0.dev7")
    assert target.installer == "pdm"
    assert target.requirement_strings == ("agent-adapters==0.1.0.dev7", "normalized-events==0.1.0.dev7")
    assert [r.pinned_version for r in target.requirements] == ["0.1.0.dev7", "0.1.0.dev7"]
    with pytest.raises(UsageError):
        parse_target("uv:x==1")


def test_index_from_gitlab_variables_with_basic_auth() -> None:
    environ = {"GITLAB_PYPI_PROJECT_ID": "4242", "GITLAB_HOST": "gitlab.example.com",
               "GITLAB_PYPI_USERNAME": "deploy-token", "GITLAB_PYPI_PASSWORD": "gl/secret@1"}
    choice = resolve_index(None, environ)
    assert choice.url == "https://deploy-token:gl%2Fsecret%401@gitlab.example.com/api/v4/projects/4242/packages/pypi/simple"
    assert choice.source == "GitLab variables"
    assert gitlab_index_url("http://gitlab.local:8080/", "7") == "http://gitlab.local:8080/api/v4/projects/7/packages/pypi/simple"
    # --index-url wins; the GitLab credentials apply to it unless it has its own.
    assert resolve_index("https://idx.example/simple", environ).url == "https://deploy-token:gl%2Fsecret%401@idx.example/simple"
    assert resolve_index("https://u:p@idx.example/simple", environ).url == "https://u:p@idx.example/simple"
    assert resolve_index("https://idx.example/simple", {}).url == "https://idx.example/simple"
    with pytest.raises(UsageError, match="GITLAB_PYPI_PASSWORD is not set"):
        resolve_index("https://idx.example/simple", {"GITLAB_PYPI_USERNAME": "u"})
