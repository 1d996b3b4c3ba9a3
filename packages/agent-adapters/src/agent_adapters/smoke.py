"""The ``smoke`` agent: every top-level module of the requested distributions imports, the
installed versions are exactly the requested ones, and every distribution they pin exactly
(``==``, as a snapshot pins its monorepo dependencies), transitively, is installed at its pinned
version; the verdict reports them all."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from normalized_events import Verdict
from runner_core import Requirement, VenvRunner, versions_equal

__all__ = ["PROBE_SCRIPT", "pinned_closure", "probe", "smoke"]

_MARK = "USERTEST-PROBE:"

#: Runs inside the target virtualenv (its own interpreter): for each distribution, its version
#: and the outcome of importing each top-level module (from top_level.txt, else from RECORD).
PROBE_SCRIPT = r'''
import contextlib, importlib, importlib.metadata as md, io, json, sys, traceback

def top_levels(dist):
    text = dist.read_text("top_level.txt")
    if text and text.strip():
        names = {line.strip() for line in text.splitlines() if line.strip()}
    else:
        names = set()
        for path in dist.files or ():
            parts = path.parts
            if not parts or parts[0] in ("..", "__pycache__"):
                continue
            if parts[0].endswith((".dist-info", ".data", ".egg-info")):
                continue
            if len(parts) == 1:
                if parts[0].endswith(".py"):
                    names.add(parts[0][:-3])
                elif parts[0].endswith((".so", ".pyd")):
                    names.add(parts[0].split(".")[0])
            else:
                names.add(parts[0])
    return sorted(n for n in names if n.isidentifier() and not n.startswith("__editable__"))

report = {}
for name in json.loads(sys.argv[1]):
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        report[name] = {"installed": False}
        continue
    modules = {}
    for module in top_levels(dist):
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                importlib.import_module(module)
            modules[module] = None
        except BaseException as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
            modules[module] = "".join(traceback.format_exception_only(type(exc), exc)).strip() + where
    report[name] = {"installed": True, "version": dist.version, "modules": modules}

# Exact pins (name==version, no marker), transitively from the requested distributions.
import re
canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()
installed = {canon(d.metadata["Name"] or ""): d for d in md.distributions()}
pin = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*\(?\s*==\s*([^\s,;()*]+)\s*\)?\s*$")
pins, todo = {}, [canon(n) for n in json.loads(sys.argv[1])]
while todo:
    dist = installed.get(todo.pop())
    for line in (dist.requires or []) if dist else []:
        found = pin.match(line)
        if found and canon(found.group(1)) not in pins:
            key = canon(found.group(1))
            have = installed.get(key)
            pins[key] = {"pinned": found.group(2), "installed": have.version if have else None,
                         "by": canon(dist.metadata["Name"] or "")}
            todo.append(key)
report["__pins__"] = pins
sys.stdout.write("\n''' + _MARK + r'''" + json.dumps(report) + "\n")
'''


def probe(runner: VenvRunner, names: Sequence[str], *, timeout: float = 300) -> dict[str, Any]:
    """Run :data:`PROBE_SCRIPT` in the venv; ``{name: {"installed", "version", "modules"}}``.

    Raises :class:`RuntimeError` when the probe itself cannot run (no interpreter, crash).
    """
    result = runner.run([str(runner.venv.python), "-c", PROBE_SCRIPT, json.dumps(list(names))], timeout=timeout)
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(_MARK):
            data: dict[str, Any] = json.loads(line[len(_MARK):])
            return data
    raise RuntimeError(
        f"the import probe did not run in {runner.venv.python} (exit {result.exit_code}): "
        f"{result.stderr.strip()[-500:]}"
    )


def smoke(runner: VenvRunner, requirements: Sequence[Requirement], *, timeout: float = 300) -> Verdict:
    """Import every top-level module of each requirement's distribution and check its version.

    The verdict fails at step ``install`` (a distribution is missing), ``import`` (a module does
    not import; every failure is listed) or ``version`` (an installed version is not the
    requested one); when all pass, its step is ``version``, the last check.
    """
    try:
        report = probe(runner, [r.key for r in requirements], timeout=timeout)
    except RuntimeError as exc:
        return Verdict(passed=False, step="import", message=str(exc))
    missing = [r.key for r in requirements if not report.get(r.key, {}).get("installed")]
    if missing:
        return Verdict(passed=False, step="install", message=f"not installed in the virtualenv: {', '.join(missing)}")
    broken = [
        f"{module} ({r.key}): {error}"
        for r in requirements
        for module, error in report[r.key]["modules"].items()
        if error is not None
    ]
    if broken:
        return Verdict(passed=False, step="import", message="import failed: " + "; ".join(broken))
    mismatched = []
    for r in requirements:
        installed = report[r.key]["version"]
        pinned = r.pinned_version
        ok = versions_equal(pinned, installed) if pinned is not None else r.matches(installed)
        if not ok:
            wanted = "".join(op + v for op, v in r.specifiers)
            mismatched.append(f"{r.key}: requested {wanted}, installed {installed}")
    if mismatched:
        return Verdict(passed=False, step="version", message="version mismatch: " + "; ".join(mismatched))
    pinned, wrong = pinned_closure(report.get("__pins__", {}))
    if wrong:
        return Verdict(passed=False, step="version", message="pinned version mismatch: " + "; ".join(wrong))
    modules = sum(len(report[r.key]["modules"]) for r in requirements)
    versions = ", ".join(f"{r.key}=={report[r.key]['version']}" for r in requirements)
    also = f"; pinned dependencies at their pins ({', '.join(pinned)})" if pinned else ""
    return Verdict(
        passed=True,
        step="version",
        message=f"{modules} top-level module(s) import; installed versions are the requested ones ({versions}){also}",
    )


def pinned_closure(pins: dict[str, Any]) -> tuple[list[str], list[str]]:
    """From the probe's ``__pins__``: (``name==version`` of each exact pin met, problems)."""
    met, wrong = [], []
    for name in sorted(pins):
        entry = pins[name]
        if entry["installed"] is None:
            wrong.append(f"{name}=={entry['pinned']} (pinned by {entry['by']}) is not installed")
        elif not versions_equal(entry["pinned"], entry["installed"]):
            wrong.append(f"{name}: {entry['by']} pins =={entry['pinned']}, installed {entry['installed']}")
        else:
            met.append(f"{name}=={entry['installed']}")
    return met, wrong
