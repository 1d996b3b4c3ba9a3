#!/usr/bin/env python3
"""Bootstrap for a fresh machine: ``python3 dev.py SESSION [ARGS...]`` runs ``nox -s SESSION``.

The only prerequisite is Python 3.11+ and access to the package index. The first run makes
``.venv-dev/`` (the noxfile's own dependencies from its PEP 723 header, and this project,
editable); later runs reuse it until ``pyproject.toml``, that header or this file change. ARGS are
forwarded to the session (nox posargs), with or without a leading ``--``::

    python3 dev.py tests                      # the whole suite (what CI runs)
    python3 dev.py tests --durations=40       # pytest options for the tool's suite
    python3 dev.py tests -- --durations=40    # the same
    python3 dev.py quick -k registry          # inner loop: no slow end-to-end tests
    python3 dev.py --list                     # every session

Everything runs hermetically: pip and uv ignore machine- and user-level configuration files and
index variables (extra indexes, find-links), so results do not depend on the machine. The rules
are the tool's own (``monorepo_tools/_env.py``), loaded from that file: the venv may not exist
yet, so the package (and its dependencies) cannot be imported here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv-dev"
NOXFILE = ROOT / "noxfile.py"
ENV_MODULE = ROOT / "monorepo_tools" / "_env.py"

# PEP 723's reference expression for an inline script metadata block.
_SCRIPT_BLOCK = re.compile(
    r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$"
)


def _load_env_module() -> ModuleType:
    """``monorepo_tools/_env.py`` by path (stdlib only), without the package ``__init__``."""
    spec = importlib.util.spec_from_file_location("_monorepo_tools_env", ENV_MODULE)
    if spec is None or spec.loader is None:  # pragma: no cover - the file is in the checkout
        raise SystemExit(f"dev.py: cannot load {ENV_MODULE}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hermetic_env() -> dict[str, str]:
    """This process's environment without pip/uv config files or index variables."""
    env: dict[str, str] = _load_env_module().hermetic_env()
    return env


def _script_block(path: Path) -> str:
    """The PEP 723 ``script`` block of *path* (comment markers removed)."""
    matches = [m for m in _SCRIPT_BLOCK.finditer(path.read_text()) if m["type"] == "script"]
    if len(matches) != 1:
        raise SystemExit(f"dev.py: {path.name} needs exactly one '# /// script' block (PEP 723)")
    return "".join(
        line[2:] if line.startswith("# ") else line[1:]
        for line in matches[0]["content"].splitlines(keepends=True)
    )


def tools() -> list[str]:
    """What the noxfile needs to load (its PEP 723 ``dependencies``): one list, in one place."""
    import tomllib  # 3.11+: imported after main() checked the version

    dependencies = tomllib.loads(_script_block(NOXFILE)).get("dependencies", [])
    return [str(d) for d in dependencies]


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def _stamp() -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", Path(__file__)):
        digest.update(path.read_bytes())
    digest.update(_script_block(NOXFILE).encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv(env: dict[str, str]) -> None:
    stamp = VENV / ".dev-stamp"
    if stamp.exists() and stamp.read_text() == _stamp() and _bin("nox").exists():
        return
    print(f"dev.py: preparing {VENV.name}/ (nox, uv, monorepo-tools)", file=sys.stderr)
    uv = shutil.which("uv")
    if uv:  # 0.02 s instead of 4-6 s for python -m venv
        subprocess.run(
            [uv, "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(VENV)],
            check=True,
            env=env,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, env=env)
        subprocess.run(
            [str(_bin("python")), "-m", "pip", "install", "--quiet", "uv>=0.5"],
            check=True,
            env=env,
        )
        uv = str(_bin("uv"))
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(_bin("python")), *tools(), "-e", str(ROOT)],
        check=True,
        env=env,
    )
    stamp.write_text(_stamp())


def nox_command(argv: list[str]) -> list[str]:
    """The nox command line for ``dev.py`` *argv* (``SESSION [--] [ARGS...]`` or ``--list``)."""
    nox = str(_bin("nox"))
    if argv[0] in ("--list", "-l"):
        return [nox, "--list"]
    session, rest = argv[0], argv[1:]
    if rest[:1] == ["--"]:  # `dev.py tests -- -x`: the user's separator, not a posarg
        rest = rest[1:]
    return [nox, "-s", session, *(["--", *rest] if rest else [])]


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        print("dev.py: Python 3.11 or newer is required", file=sys.stderr)
        return 2
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        print("sessions: python3 dev.py --list")
        return 0 if argv else 2
    env = hermetic_env()
    ensure_venv(env)
    env["PATH"] = f"{_bin('python').parent}{os.pathsep}{env.get('PATH', '')}"
    try:
        return subprocess.call(nox_command(argv), cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
