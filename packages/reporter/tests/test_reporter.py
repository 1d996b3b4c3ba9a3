from importlib.metadata import version

import reporter
from normalized_events import Event
from reporter import render_markdown, render_text


def test_version_comes_from_installed_metadata() -> None:
    assert reporter.__version__ == version("reporter")


def test_render_text_is_one_line_per_event() -> None:
    text = render_text([Event("a", {"n": 1}), Event("b")])
    assert text == 'a: "n"=1\nb: \n'


def test_render_markdown_escapes_pipes() -> None:
    table = render_markdown([Event("cmd", {"out": "x|y"})])
    lines = table.splitlines()
    assert lines[:2] == ["| kind | details |", "| --- | --- |"]
    assert lines[2] == '| `cmd` | "out"="x\\|y" |'
