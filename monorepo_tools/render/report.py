"""Check reports: findings in, text out (``text``, ``json``, ``github``, ``gitlab``).

Pure functions of values. Every format lists the findings in the order ``rules`` sorted them,
so two runs on the same tree produce byte-identical reports (CI diffs and GitLab Code Quality
fingerprints stay meaningful). Every text that comes from the repository goes through
:func:`~.safe.clean` first, in every format: control characters are escaped (a newline in a name
cannot forge a ``::error`` line) and URL credentials (``https://user:token@host``) are masked.
Warnings and notes (``optional-dependency-cycle``, ``config-only``) are reported with their
level and never count as failures.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .safe import clean

if TYPE_CHECKING:  # a cache hit renders nothing and must not import rules/graph/networkx
    from ..rules import Finding

__all__ = ["CHECK_FORMATS", "CheckSummary", "render_check"]

CHECK_FORMATS = ("text", "json", "github", "gitlab")


@dataclass(frozen=True, slots=True)
class CheckSummary:
    packages: int
    publishable: int
    findings: Sequence[Finding]


def _level(finding: Finding) -> str:
    if not finding.blocking:
        return "note" if finding.severity == "info" else "warning"
    return "error"


def _safe(finding: Finding) -> Finding:
    from dataclasses import replace

    return replace(
        finding,
        package=clean(finding.package),
        file=clean(finding.file),
        message=clean(finding.message),
        fix=clean(finding.fix),
        related=tuple(clean(r) for r in finding.related),
        subject=clean(finding.subject),
    )


def render_check(summary: CheckSummary, fmt: str) -> str:
    summary = CheckSummary(
        summary.packages, summary.publishable, [_safe(f) for f in summary.findings]
    )
    if fmt == "json":
        return _json(summary)
    if fmt == "github":
        return _github(summary)
    if fmt == "gitlab":
        return _gitlab(summary)
    return _text(summary)


def _text(summary: CheckSummary) -> str:
    every = summary.findings
    findings = [f for f in every if f.blocking]
    head = f"{summary.packages} packages checked ({summary.publishable} publishable)"
    lines: list[str] = []
    current = None
    for finding in every:
        if finding.package != current:
            current = finding.package
            lines.append(f"{finding.package} ({finding.file})")
        where = finding.file + (f":{finding.line}" if finding.line else "")
        if finding.column:
            where += f":{finding.column}"
        lines.append(f"  {where}: {_level(finding)}[{finding.code}] {finding.message}")
        lines.append(f"    fix: {finding.fix}")
    others = len(every) - len(findings)
    also = f", {others} warning(s)/note(s)" if others else ""
    if not findings:
        if lines:
            lines.append("")
        lines.append(f"ok: {head}, no findings{also}")
        return "\n".join(lines) + "\n"
    counts = Counter(f.code for f in findings)
    by_code = ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
    affected = len({f.package for f in findings})
    lines.append("")
    lines.append(
        f"error: {len(findings)} finding(s) in {affected} package(s) ({by_code}); {head}{also}"
    )
    return "\n".join(lines) + "\n"


def _finding_dict(finding: Finding) -> dict[str, object]:
    return {
        "code": finding.code,
        "package": finding.package,
        "file": finding.file,
        "line": finding.line,
        "column": finding.column,
        "severity": finding.severity,
        "level": _level(finding),
        "message": finding.message,
        "fix": finding.fix,
        "related": list(finding.related),
        "related_count": finding.related_count,
    }


def _json(summary: CheckSummary) -> str:
    findings = summary.findings
    document = {
        "ok": not any(f.blocking for f in findings),
        "summary": {
            "packages": summary.packages,
            "publishable": summary.publishable,
            "findings": sum(1 for f in findings if f.blocking),
            "warnings": sum(1 for f in findings if not f.blocking),
            "by_code": dict(sorted(Counter(f.code for f in findings).items())),
        },
        "violations": [_finding_dict(f) for f in findings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(summary: CheckSummary) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on its file/line."""
    lines = []
    for f in summary.findings:
        props = f"file={_escape_property(f.file)}"
        if f.line:
            props += f",line={f.line}"
        if f.column:
            props += f",col={f.column}"
        props += f",title={_escape_property(f'monorepo {f.code}')}"
        command = {"error": "error", "warning": "warning", "note": "notice"}[_level(f)]
        lines.append(f"::{command} {props}::{_escape_data(f'{f.message} Fix: {f.fix}')}")
    blocking = sum(1 for f in summary.findings if f.blocking)
    if blocking:
        lines.append(f"monorepo check: {blocking} finding(s)")
    else:
        lines.append(
            f"monorepo check: ok, {summary.packages} packages ({summary.publishable} publishable)"
        )
    return "\n".join(lines) + "\n"


def fingerprint(finding: Finding, occurrence: int = 0) -> str:
    """Stable across runs and unrelated edits: what the finding is about, not where it is.

    *occurrence* tells equal findings apart (the same invalid string written twice): GitLab
    needs one fingerprint per issue.
    """
    parts = (finding.code, finding.package, finding.file, finding.subject or finding.message)
    key = "\x1f".join(parts + ((str(occurrence),) if occurrence else ()))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _gitlab(summary: CheckSummary) -> str:
    """A GitLab Code Quality report (a JSON array), shown in the merge request widget."""
    issues = []
    seen: Counter[str] = Counter()
    for f in summary.findings:
        first = fingerprint(f)
        occurrence = seen[first]
        seen[first] += 1
        issues.append(
            {
                "type": "issue",
                "check_name": f"monorepo/{f.code}",
                "description": f"{f.message} Fix: {f.fix}",
                "categories": ["Bug Risk"],
                "severity": f.severity,
                "fingerprint": fingerprint(f, occurrence),
                "location": {"path": f.file, "lines": {"begin": f.line or 1}},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
