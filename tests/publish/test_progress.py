"""Progress output: plain lines for CI logs, a live display on terminals; both redacted."""

from __future__ import annotations

import io

from monorepo_tools.publish.progress import Progress, RichProgress, make_progress


def test_plain_progress_prints_one_redacted_line_per_event() -> None:
    stream = io.StringIO()
    progress = Progress(stream, secrets=["hunter2"])
    progress.phase("build", 2)
    progress.event("alpha", "failed", "upload to https://ci:hunter2@example.com/ refused")
    progress.close()
    lines = stream.getvalue().splitlines()
    assert "== build: 2 package(s)" in lines[0]
    assert lines[1].endswith("alpha: failed: upload to https://***@example.com/ refused")
    assert "hunter2" not in stream.getvalue()


def test_rich_progress_prints_finished_packages_with_brackets_intact() -> None:
    stream = io.StringIO()
    progress = RichProgress(stream, secrets=["hunter2"])
    progress.phase("upload", 1)
    progress.event("alpha", "uploading")  # in-flight events only move the display
    progress.event("alpha", "failed", "[project].version hunter2")
    progress.close()
    text = stream.getvalue()
    assert "alpha: failed: [project].version ***" in text
    assert "uploading" not in text and "hunter2" not in text


def test_make_progress_picks_plain_lines_when_not_interactive() -> None:
    assert type(make_progress(False)) is Progress
    live = make_progress(True)
    try:
        assert isinstance(live, RichProgress)
    finally:
        live.close()
