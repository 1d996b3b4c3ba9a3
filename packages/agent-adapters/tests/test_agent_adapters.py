"""The agents on a real virtualenv with real (tiny) wheels installed by a real pip."""

import os
import stat
import sys
from importlib.metadata import version
from pathlib import Path

import agent_adapters
import pytest
from agent_adapters import (
    EX_TEMPFAIL,
    Resilience,
    codex,
    command,
    mission_prompt,
    parse_codex_verdict,
    pinned_closure,
    rate_limit_reason,
    smoke,
)
from normalized_events import AttemptRetried, CommandOutput, EventLog, Verdict
from runner_core import (
    CommandResult,
    LocalExecutor,
    VenvRunner,
    create_venv,
    create_workspace,
    install_pip,
    parse_requirement,
)
from sandbox_runner import build_wheel

COUNTER_SCRIPT = """\
import pathlib, sys
p = pathlib.Path("attempts-{name}.txt")
n = int(p.read_text()) + 1 if p.exists() else 1
p.write_text(str(n))
codes = {codes}
code = codes[n - 1] if n <= len(codes) else 0
print(f"attempt {{n}} exits {{code}}")
sys.exit(code)
"""


def test_version_comes_from_installed_metadata() -> None:
    assert agent_adapters.__version__ == version("agent-adapters")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    wheels = tmp_path_factory.mktemp("wheels")
    build_wheel(wheels, "demo-good", "1.0", {"demo_good/__init__.py": "VALUE = 1\n", "demo_good/sub.py": ""})
    build_wheel(wheels, "demo-broken", "1.0", {"demo_broken/__init__.py": "raise ImportError('demo_broken needs a missing native library')\n"})
    build_wheel(
        wheels, "demo-two", "2.0",
        {"tl_one/__init__.py": "", "tl_two.py": "import tl_one\n"},
        top_level=["tl_one", "tl_two"],
    )
    build_wheel(wheels, "demo-lib", "2.0.dev7", {"demo_lib/__init__.py": ""})
    build_wheel(wheels, "demo-mid", "2.0.dev7", {"demo_mid/__init__.py": ""}, requires=["demo-lib==2.0.dev7"])
    build_wheel(wheels, "demo-app", "2.0.dev7", {"demo_app/__init__.py": ""}, requires=["demo-mid==2.0.dev7"])
    ws = create_workspace(
        persona_id="p", persona_text="p", mission_id="m", mission_text="m", parent=tmp_path_factory.mktemp("ws")
    )
    venv = create_venv(ws.venv_path)
    result = install_pip(
        LocalExecutor(), ws, venv, ["demo-good==1.0", "demo-broken==1.0", "demo-two==2.0", "demo-app==2.0.dev7"],
        no_index=True, find_links=[str(wheels)],
    )
    assert result.ok, result.message
    return ws, venv


def runner_for(env: tuple, log: EventLog, **kwargs: object) -> VenvRunner:
    ws, venv = env
    return VenvRunner(LocalExecutor(), ws, venv, emit=log, **kwargs)  # type: ignore[arg-type]


def reqs(*texts: str) -> list:
    return [parse_requirement(t) for t in texts]


def test_smoke_passes_on_a_correct_install(env: tuple) -> None:
    log = EventLog()
    verdict = smoke(runner_for(env, log), reqs("demo-good==1.0", "Demo_Two==2.0.0"))
    assert verdict.passed and verdict.step == "version", verdict.message
    assert "3 top-level module(s) import" in verdict.message  # demo_good (RECORD), tl_one + tl_two (top_level.txt)
    assert len(log.of(CommandOutput)) == 1


def test_smoke_checks_and_reports_every_pinned_dependency_transitively(env: tuple) -> None:
    verdict = smoke(runner_for(env, EventLog()), reqs("demo-app==2.0.dev7"))
    assert verdict.passed, verdict.message
    assert "pinned dependencies at their pins (demo-lib==2.0.dev7, demo-mid==2.0.dev7)" in verdict.message


def test_pinned_closure_names_a_stale_or_missing_pin() -> None:
    met, wrong = pinned_closure({
        "demo-mid": {"pinned": "2.0.dev7", "installed": "2.0.dev7", "by": "demo-app"},
        "demo-lib": {"pinned": "2.0.dev7", "installed": "2.0.dev6", "by": "demo-mid"},
        "demo-gone": {"pinned": "1.0", "installed": None, "by": "demo-mid"},
    })
    assert met == ["demo-mid==2.0.dev7"]
    assert wrong == [
        "demo-gone==1.0 (pinned by demo-mid) is not installed",
        "demo-lib: demo-mid pins ==2.0.dev7, installed 2.0.dev6",
    ]


def test_smoke_reports_a_version_mismatch(env: tuple) -> None:
    verdict = smoke(runner_for(env, EventLog()), reqs("demo-good==2.0", "demo-two==2.0"))
    assert verdict == Verdict(passed=False, step="version", message="version mismatch: demo-good: requested ==2.0, installed 1.0")
    ranged = smoke(runner_for(env, EventLog()), reqs("demo-good<1"))
    assert not ranged.passed and ranged.step == "version"
    assert smoke(runner_for(env, EventLog()), reqs("demo-good>=0.5")).passed


def test_smoke_reports_a_broken_module(env: tuple) -> None:
    verdict = smoke(runner_for(env, EventLog()), reqs("demo-good==1.0", "demo-broken==1.0"))
    assert not verdict.passed and verdict.step == "import"
    assert "demo_broken (demo-broken): ImportError: demo_broken needs a missing native library" in verdict.message


def test_smoke_reports_a_missing_distribution(env: tuple) -> None:
    verdict = smoke(runner_for(env, EventLog()), reqs("demo-good==1.0", "never-installed==1.0"))
    assert not verdict.passed and verdict.step == "install" and "never-installed" in verdict.message


def counter_command(name: str, codes: list[int]) -> list[str]:
    return ["python", "-c", COUNTER_SCRIPT.format(name=name, codes=codes)]


def test_command_passes_after_rate_limits_within_the_budget(env: tuple) -> None:
    log, waits = EventLog(), []
    verdict = command(
        runner_for(env, log), counter_command("budget2", [EX_TEMPFAIL, EX_TEMPFAIL]),
        Resilience(rate_limit_retries=2, rate_limit_backoff_seconds=1.0, rate_limit_backoff_multiplier=2.0, followup_attempts=0),
        sleep=waits.append,
    )
    assert verdict.passed and verdict.step == "agent", verdict.message
    assert waits == [1.0, 2.0]
    assert [e.attempt for e in log.of(AttemptRetried)] == [1, 2]
    assert [e.exit_code for e in log.of(CommandOutput)] == [75, 75, 0]


def test_command_fails_when_the_rate_limit_budget_is_too_small(env: tuple) -> None:
    log, waits = EventLog(), []
    verdict = command(
        runner_for(env, log), counter_command("budget1", [EX_TEMPFAIL, EX_TEMPFAIL]),
        Resilience(rate_limit_retries=1, rate_limit_backoff_seconds=0.25, followup_attempts=2),
        sleep=waits.append,
    )
    assert not verdict.passed and verdict.step == "agent"
    assert "rate limited" in verdict.message and "--agent-rate-limit-retries 1" in verdict.message
    assert waits == [0.25]  # follow-ups are for failures, not for rate limits
    assert [e.exit_code for e in log.of(CommandOutput)] == [75, 75]


def test_rate_limit_text_in_the_output_is_retried(env: tuple) -> None:
    script = (
        "import pathlib, sys\np = pathlib.Path('attempts-text.txt')\nn = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\nif n == 1:\n    print('Error: Rate limit reached, try later', file=sys.stderr); sys.exit(1)\n"
    )
    waits: list[float] = []
    verdict = command(runner_for(env, EventLog()), ["python", "-c", script], Resilience(followup_attempts=0), sleep=waits.append)
    assert verdict.passed and waits == [1.0]


def test_a_failing_command_gets_follow_up_attempts(env: tuple) -> None:
    log = EventLog()
    verdict = command(runner_for(env, log), counter_command("followup", [3, 3]), Resilience(followup_attempts=2), sleep=lambda s: None)
    assert verdict.passed
    retried = log.of(AttemptRetried)
    assert [(e.attempt, e.wait_seconds) for e in retried] == [(1, 0.0), (2, 0.0)]
    assert all(e.reason.startswith("follow-up:") and "exit code 3" in e.reason for e in retried)

    verdict = command(runner_for(env, EventLog()), counter_command("nofollowup", [3]), Resilience(followup_attempts=0), sleep=lambda s: None)
    assert not verdict.passed and verdict.step == "agent" and "failed with exit code 3" in verdict.message


def test_command_runs_in_the_venv_with_a_scrubbed_environment(env: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    _, venv = env
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    monkeypatch.setenv("GITLAB_PYPI_PROJECT_ID", "42")
    check = (
        "import os, sys, demo_good\n"
        "assert 'SECRET_TOKEN' not in os.environ, 'leaked'\n"
        "assert os.environ['GITLAB_PYPI_PROJECT_ID'] == '42'\n"
        f"assert sys.prefix == {str(venv.path)!r}, sys.prefix\n"
    )
    verdict = command(runner_for(env, EventLog(), exec_env=("GITLAB_PYPI_PROJECT_ID",)), ["python", "-c", check], Resilience(followup_attempts=0))
    assert verdict.passed, verdict.message


def _fake_codex(folder: Path, body: str) -> str:
    """A stand-in `codex` program (the real one needs an account): it answers like codex exec."""
    path = folder / "codex"
    path.write_text(f"#!{sys.executable}\nimport sys\nargs = sys.argv[1:]\nprompt = args[-1]\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_codex_agent_protocol_with_a_stand_in_program(env: tuple, tmp_path: Path) -> None:
    exe = _fake_codex(
        tmp_path,
        "assert args[:4] == ['exec', '--skip-git-repo-check', '--sandbox', 'workspace-write'], args\n"
        "if 'follow-up attempt' not in prompt:\n    print('working...'); sys.exit(1)\n"
        "print('Imported everything.')\nprint('USERTEST VERDICT: PASS - first output in 2 minutes')\n",
    )
    prompt = mission_prompt(persona_id="quickstart_sprinter", persona_text="In a hurry.", mission_id="first_output_smoke",
                            mission_text="Print the version.", requirements=["demo-good==1.0"])
    log = EventLog()
    verdict = codex(runner_for(env, log), prompt, Resilience(followup_attempts=1), codex_exe=exe, sleep=lambda s: None)
    assert verdict == Verdict(passed=True, step="agent", message="codex: first output in 2 minutes")
    assert len(log.of(AttemptRetried)) == 1  # one follow-up after an attempt without a verdict

    failing = _fake_codex(tmp_path, "print('USERTEST VERDICT: FAIL - the README has no quick start')\n")
    verdict = codex(runner_for(env, EventLog()), prompt, codex_exe=failing, sleep=lambda s: None)
    assert verdict == Verdict(passed=False, step="agent", message="codex: the README has no quick start")


def test_codex_missing_is_a_verdict_naming_what_to_install(env: tuple, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no codex here
    verdict = codex(runner_for(env, EventLog()), "prompt")
    assert not verdict.passed and verdict.step == "agent"
    assert "npm install -g @openai/codex" in verdict.message


def test_prompt_and_verdict_parsing() -> None:
    prompt = mission_prompt(persona_id="p1", persona_text="Persona text.", mission_id="m1", mission_text="Mission text.", requirements=["a==1"])
    assert "Persona (p1): Persona text." in prompt and "Mission (m1): Mission text." in prompt and "a==1" in prompt
    assert parse_codex_verdict("x\nUSERTEST VERDICT: PASS - ok\nUSERTEST VERDICT: FAIL - no docs\n") == ("FAIL", "no docs")
    assert parse_codex_verdict("usertest verdict: pass") == ("PASS", "")
    assert parse_codex_verdict("nothing") is None


def test_rate_limit_detection() -> None:
    def result(code: int, out: str = "", err: str = "") -> CommandResult:
        return CommandResult(("x",), code, out, err, 0.0)

    assert rate_limit_reason(result(75)) == "rate limited (exit code 75)"
    assert rate_limit_reason(result(1, err="HTTP 429 Too Many Requests")) is not None
    assert rate_limit_reason(result(1, out="rate-limit exceeded")) is not None
    assert rate_limit_reason(result(1, err="boom")) is None
    assert rate_limit_reason(result(0, out="rate limit")) is None
    assert rate_limit_reason(result(9), exit_codes=(9,)) is not None
    assert os.EX_TEMPFAIL == EX_TEMPFAIL
