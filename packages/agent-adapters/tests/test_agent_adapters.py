import sys
from importlib.metadata import version

import pytest

import agent_adapters
from agent_adapters import smoke, verdict


def test_version_comes_from_installed_metadata() -> None:
    assert agent_adapters.__version__ == version("agent-adapters")


def test_smoke_passes_for_importable_modules() -> None:
    events = smoke(["json", "normalized_events"])
    assert [e.kind for e in events] == ["smoke.passed", "smoke.passed"]
    assert verdict(events)


def test_smoke_reports_a_missing_module() -> None:
    events = smoke(["json", "no_such_module_xyz"])
    assert events[1].kind == "smoke.failed"
    assert "ModuleNotFoundError" in events[1].payload["detail"]
    assert not verdict(events)
    assert not verdict([])


def test_smoke_inside_the_sandbox() -> None:
    # sandbox-runner comes from the dev dependency group; skip when only the wheel is installed.
    sandbox_runner = pytest.importorskip("sandbox_runner")
    event = sandbox_runner.run_in_sandbox(
        [sys.executable, "-c", "import agent_adapters, sys; "
         "sys.exit(0 if agent_adapters.verdict(agent_adapters.smoke(['json'])) else 1)"]
    )
    assert event.payload["returncode"] == 0, event.payload
