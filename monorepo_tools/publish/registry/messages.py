"""The texts of outcomes: a file's outcome (redacted), retry accounting, the useful part of
an error body."""

from __future__ import annotations

import contextlib
import html
import json
import re
from pathlib import Path

from ..redact import redact
from .model import FileOutcome, FileStatus, Registry, RetryPolicy

_CONFLICT_FIX = (
    "Publish conflicts (`file already exists`): rerun workflow so snapshot id changes "
    "(a new pipeline or MONOREPO_SNAPSHOT_ID); a published file is never overwritten"
)


def _waited(policy: RetryPolicy, count: int) -> str:
    waits = policy.waits()[:count]
    if not waits:
        return "1 attempt (no retries: --upload-retries 0)"
    shown = " then ".join(f"{w:g} s" for w in waits)
    retries = f"{len(waits)} retr{'y' if len(waits) == 1 else 'ies'}"
    return f"{len(waits) + 1} attempts ({retries}, waited {shown})"


def _response_detail(text: str, content_type: str) -> str:
    """The useful part of an error body: GitLab's JSON ``message``, an HTML page's text."""
    text = text.strip()
    if not text:
        return ""
    if "json" in content_type or text.startswith("{"):
        with contextlib.suppress(ValueError):
            document = json.loads(text)
            if isinstance(document, dict):
                for key in ("message", "error", "detail"):
                    if document.get(key):
                        return _short(str(document[key]))
    if "<" in text:
        pre = re.search(r"<pre[^>]*>(.*?)</pre>", text, re.S | re.I)
        text = (
            pre.group(1)
            if pre
            else re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.S | re.I)
        )
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return _short(text)


def _short(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _outcome(
    registry: Registry, path: Path, status: FileStatus, message: str, output: str = ""
) -> FileOutcome:
    secrets = registry.secrets
    return FileOutcome(
        path, status, redact(f"{path.name}: {message}", secrets), redact(output, secrets)
    )


def _conflict(
    registry: Registry, path: Path, published: str, digest: str, output: str = ""
) -> FileOutcome:
    held = f"sha256 {published}" if published else "a file whose sha256 the index does not give"
    return _outcome(
        registry,
        path,
        FileStatus.CONFLICT,
        f"conflict: the registry already holds {held} under this name, this build has sha256 "
        f"{digest}. {_CONFLICT_FIX}",
        output,
    )
