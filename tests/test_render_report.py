"""render.report: the text, json, github and gitlab reports of hand-made findings."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from monorepo_tools.render.report import CHECK_FORMATS, CheckSummary, fingerprint, render_check
from monorepo_tools.rules import Finding

DEP = Finding(
    code="internal-dependency",
    package="service",
    file="packages/service/pyproject.toml",
    line=6,
    message="service (supported) depends on secret-core (internal) through 'secret-core'",
    fix='set status = "stable" in packages/secret-core/pyproject.toml',
    related=("frontend",),
    related_count=1,
    subject="project.dependencies: secret-core",
)
TOML = Finding(
    code="invalid-pyproject",
    package="broken",
    file="packages/broken/pyproject.toml",
    line=4,
    column=21,
    message="pyproject.toml is not valid TOML: Unclosed array",
    fix="fix the TOML syntax at that position",
)
NOLINE = Finding(
    code="invalid-version",
    package="versionless",
    file="packages/versionless/pyproject.toml",
    line=None,
    message="versionless (stable) has no project.version",
    fix='add version = "0.1.0"',
)
FINDINGS = (DEP, TOML, NOLINE)
SUMMARY = CheckSummary(packages=7, publishable=4, findings=FINDINGS)
CLEAN = CheckSummary(packages=5, publishable=4, findings=())


def test_text_report() -> None:
    text = render_check(SUMMARY, "text")
    lines = text.splitlines()
    assert lines[0] == "service (packages/service/pyproject.toml)"
    assert (
        lines[1] == f"  packages/service/pyproject.toml:6: error[internal-dependency] {DEP.message}"
    )
    assert lines[2] == f"    fix: {DEP.fix}"
    assert "  packages/broken/pyproject.toml:4:21: error[invalid-pyproject] " in text
    assert "  packages/versionless/pyproject.toml: error[invalid-version] " in text
    assert lines[-1] == (
        "error: 3 finding(s) in 3 package(s) (internal-dependency: 1, invalid-pyproject: 1, "
        "invalid-version: 1); 7 packages checked (4 publishable)"
    )
    assert render_check(CLEAN, "text") == "ok: 5 packages checked (4 publishable), no findings\n"


def test_json_report() -> None:
    document = json.loads(render_check(SUMMARY, "json"))
    assert document["ok"] is False
    assert document["summary"] == {
        "packages": 7,
        "publishable": 4,
        "findings": 3,
        "warnings": 0,
        "by_code": {"internal-dependency": 1, "invalid-pyproject": 1, "invalid-version": 1},
    }
    items = document["violations"]
    assert [(v["code"], v["package"], v["file"], v["line"]) for v in items] == [
        ("internal-dependency", "service", "packages/service/pyproject.toml", 6),
        ("invalid-pyproject", "broken", "packages/broken/pyproject.toml", 4),
        ("invalid-version", "versionless", "packages/versionless/pyproject.toml", None),
    ]
    assert items[0]["message"] == DEP.message and items[0]["fix"] == DEP.fix
    assert items[0]["related"] == ["frontend"] and items[0]["related_count"] == 1
    assert items[1]["column"] == 21 and items[1]["severity"] == "critical"
    assert items[2]["severity"] == "major"
    clean = json.loads(render_check(CLEAN, "json"))
    assert clean["ok"] is True and clean["violations"] == []


def test_github_annotations() -> None:
    lines = render_check(SUMMARY, "github").splitlines()
    assert lines[0] == (
        "::error file=packages/service/pyproject.toml,line=6,title=monorepo internal-dependency::"
        f"{DEP.message} Fix: {DEP.fix}"
    )
    assert lines[1].startswith("::error file=packages/broken/pyproject.toml,line=4,col=21,title=")
    assert lines[2].startswith("::error file=packages/versionless/pyproject.toml,title=")
    assert "line=" not in lines[2].split("::")[1]
    assert lines[3] == "monorepo check: 3 finding(s)"
    assert render_check(CLEAN, "github") == "monorepo check: ok, 5 packages (4 publishable)\n"


def test_github_escapes_data_and_properties() -> None:
    odd = Finding(
        code="invalid-pyproject",
        package="x",
        file="packages/a,b:c/pyproject.toml",
        line=1,
        message="100% broken\nsecond line\r",
        fix="fix",
    )
    (line, _) = render_check(CheckSummary(1, 0, (odd,)), "github").splitlines()
    assert line.startswith("::error file=packages/a%2Cb%3Ac/pyproject.toml,line=1,")
    # control characters are escaped as text before GitHub's own escaping: no new line at all
    assert line.endswith("::100%25 broken\\nsecond line\\r Fix: fix")


def test_gitlab_code_quality() -> None:
    issues = json.loads(render_check(SUMMARY, "gitlab"))
    assert isinstance(issues, list) and len(issues) == 3
    for issue, finding in zip(issues, FINDINGS, strict=True):
        assert issue["type"] == "issue"
        assert issue["check_name"] == f"monorepo/{finding.code}"
        assert issue["description"] == f"{finding.message} Fix: {finding.fix}"
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["severity"] == finding.severity
        assert issue["location"]["path"] == finding.file
        assert issue["location"]["lines"]["begin"] == (finding.line or 1)
        assert len(issue["fingerprint"]) == 64
    assert len({i["fingerprint"] for i in issues}) == 3
    assert json.loads(render_check(CLEAN, "gitlab")) == []


def test_fingerprints_are_about_what_not_where() -> None:
    assert fingerprint(replace(DEP, line=60, message=DEP.message + " (moved)")) == fingerprint(DEP)
    assert fingerprint(
        replace(DEP, subject="project.optional-dependencies.cli: secret-core")
    ) != fingerprint(DEP)
    assert fingerprint(replace(DEP, package="other")) != fingerprint(DEP)
    # without a subject the message is what the finding is about
    assert fingerprint(replace(NOLINE, message="changed")) != fingerprint(NOLINE)


def test_gitlab_fingerprints_are_unique_even_for_equal_findings() -> None:
    summary = CheckSummary(1, 1, (DEP, DEP, TOML))
    first = [i["fingerprint"] for i in json.loads(render_check(summary, "gitlab"))]
    assert len(set(first)) == 3
    assert first == [i["fingerprint"] for i in json.loads(render_check(summary, "gitlab"))]


@pytest.mark.parametrize("fmt", CHECK_FORMATS)
def test_reports_are_deterministic(fmt: str) -> None:
    assert render_check(SUMMARY, fmt) == render_check(CheckSummary(7, 4, tuple(FINDINGS)), fmt)
    assert render_check(SUMMARY, fmt).endswith("\n")
