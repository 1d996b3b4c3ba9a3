from importlib.metadata import version

import pytest

import normalized_events
from normalized_events import Event, read_events


def test_version_comes_from_installed_metadata() -> None:
    assert normalized_events.__version__ == version("normalized-events")


def test_event_round_trips_through_one_json_line() -> None:
    event = Event("command.finished", {"argv": ["true"], "returncode": 0})
    line = event.to_json()
    assert "\n" not in line
    assert Event.from_json(line) == event


def test_read_events_skips_blank_lines() -> None:
    lines = [Event("a").to_json(), "", "  ", Event("b", {"x": 1}).to_json()]
    assert [e.kind for e in read_events(lines)] == ["a", "b"]


def test_from_json_rejects_non_events() -> None:
    with pytest.raises(ValueError):
        Event.from_json('{"payload": {}}')
