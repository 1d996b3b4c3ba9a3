"""Every form ``monorepo consumer-config`` prints, pasted into a fresh folder and run by its real
client (pip, PDM, uv) against an authenticated pypiserver, with forwarding off and on.

The published set is this repository's own demo packages (``usertest`` on top, ``runner-core``
needing ``packaging`` from "PyPI"), snapshotted once per module with ``--verify``. Registries:

* ``disabled``: pypiserver with ``--disable-fallback`` (GitLab with package forwarding off);
  PyPI is then the consumer's explicit second index;
* ``enabled``: a second pypiserver over the same files and password with ``--fallback-url``: a
  name it has no package for answers 303 to the upstream, as GitLab answers 302 to pypi.org.

"PyPI" is a loopback pypiserver holding the ``packaging`` wheel (downloaded once from PyPI by
pip), so the tests stay hermetic: where a printed form names ``https://pypi.org/simple`` the
test substitutes that URL; PDM's and uv's implicit default index is pointed at it with
``PDM_PYPI_URL`` / ``UV_DEFAULT_INDEX``. Every client runs with a fresh HOME and an environment
of PATH and locale only; credentials come from the printed netrc line (or the printed
``UV_INDEX_GITLAB_*`` / PDM ``${VAR}`` alternatives), never from a command line.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from clients import (
    base_python,
    forwarding_server,
    fresh_env,
    packaging_wheel,
    run,
    upstream_server,
)
from engine_helpers import copy_demo

from monorepo_tools.publish.install_check import make_venv

REPO = Path(__file__).resolve().parents[2]
PYPI = "https://pypi.org/simple"
DEMO = ("normalized-events", "runner-core", "reporter", "agent-adapters", "usertest")
MODES = ("disabled", "enabled")

pytestmark = pytest.mark.slow


def _uv() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def _pdm() -> str:
    found = shutil.which("pdm") or str(Path(sys.executable).with_name("pdm"))
    assert Path(found).exists(), "PDM is in the test dependency group"
    return found


def tool_dir(folder: Path, *programs: str) -> Path:
    """A folder holding only *programs* (symlinks): PATH gets the client, not this test venv's
    python (PDM and uv would take a venv on PATH as the project's environment)."""
    folder.mkdir(parents=True, exist_ok=True)
    for program in programs:
        (folder / Path(program).name).symlink_to(program)
    return folder


@pytest.fixture(scope="module")
def demo(pypiserver: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo packages snapshotted to a registry of this module's own, with --verify."""
    work = tmp_path_factory.mktemp("consumers")
    upstream = upstream_server(pypiserver, _mkdir(work / "upstream"))
    packaging_wheel(upstream.packages_dir)
    primary = type(pypiserver)(_mkdir(work / "primary"))
    primary.start()
    forwarding = forwarding_server(primary, _mkdir(work / "forwarding"), upstream.index_url)
    root = copy_demo(work / "monorepo")
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.email=t@e", "-c", "user.name=t",
                                                 "commit", "-qm", "demo"]):  # fmt: skip
        subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True)
    snapshot_id = str(800_000 + os.getpid() % 100_000)
    summary = work / "summary.json"

    def snapshot(*extra: str, index_url: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITLAB_", "CI", "GITHUB_", "MONOREPO_", "TWINE_", "PIP_"))
        }
        env.update(
            PYTHONPATH=str(REPO),
            PIP_CONFIG_FILE=os.devnull,
            MONOREPO_BUILD_ENV_DIR=str(tmp_path_factory.getbasetemp() / "build-envs"),
            MONOREPO_REPOSITORY_URL=primary.url,
            MONOREPO_INDEX_URL=index_url or primary.index_url,
            MONOREPO_REPOSITORY_USERNAME=primary.username,
            MONOREPO_REPOSITORY_PASSWORD=primary.password,
        )
        return subprocess.run(
            [sys.executable, "-m", "monorepo_tools", "snapshot", "--root", str(root),
             "--snapshot-id", snapshot_id, "--verify", *extra],
            capture_output=True, text=True, env=env, timeout=900,
        )  # fmt: skip

    result = snapshot(
        "--verify-extra-index-url", upstream.index_url, "--summary-json", str(summary)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(summary.read_text())
    versions = {p["name"]: p["version"] for p in data["packages"]}
    assert set(versions) == set(DEMO)

    class Demo:
        pass

    d: Any = Demo()
    d.work, d.root, d.summary, d.data, d.versions = work, root, summary, data, versions
    d.primary, d.forwarding, d.upstream, d.snapshot, d.output = (
        primary, forwarding, upstream, snapshot, result.stdout,
    )  # fmt: skip
    yield d
    for server in (forwarding, primary, upstream):
        server.stop()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def consumer_config(demo: Any, fmt: str, mode: str) -> str:
    """What ``monorepo consumer-config`` prints for *mode*'s registry (its real CLI)."""
    index = demo.primary.index_url if mode == "disabled" else demo.forwarding.index_url
    result = subprocess.run(
        [sys.executable, "-m", "monorepo_tools", "consumer-config", "--root", str(demo.root),
         "--summary-json", str(demo.summary), "--format", fmt, "--index-url", index],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )  # fmt: skip
    assert demo.primary.password not in result.stdout
    return result.stdout


def netrc_line(text: str) -> str:
    [line] = [line for line in text.splitlines() if "printf 'machine" in line]
    return line.lstrip("# ").strip()


def write_netrc(demo: Any, text: str, env: dict[str, str], cwd: Path) -> None:
    """Run the printed netrc line as CI would: the credentials in CI variables."""
    creds = {
        "GITLAB_PYPI_USERNAME": demo.primary.username,
        "GITLAB_PYPI_PASSWORD": demo.primary.password,
    }
    done = run(netrc_line(text), env={**env, **creds}, cwd=cwd)
    assert done.returncode == 0, done.stderr
    netrc = Path(env["HOME"]) / ".netrc"
    assert oct(netrc.stat().st_mode & 0o777) == "0o600"


def assert_installed(python: Path, demo: Any, names: tuple[str, ...] = DEMO) -> None:
    """Every monorepo package at its snapshot version, packaging present, usertest imports."""
    probe = (
        "import importlib.metadata as m, json, sys, usertest, runner_core;"
        "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    )
    done = subprocess.run(
        [str(python), "-c", probe, *names, "packaging"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert {n: found[n] for n in names} == {n: demo.versions[n] for n in names}
    assert found["packaging"] == importlib.metadata.version("packaging")


def pip_conf_files(text: str) -> list[str]:
    blocks = text.split("[global]\n")[1:]
    return ["[global]\n" + block.split("\n\n")[0] + "\n" for block in blocks]


def line_starting(text: str, prefix: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(prefix))


# --------------------------------------------------------------------------- the published set


def test_verify_reports_every_installed_monorepo_package_at_its_version(demo: Any) -> None:
    by_name = {p["name"]: p for p in demo.data["packages"]}
    assert all(p["verified"] for p in by_name.values())
    message = by_name["usertest"]["verification"]
    for name in DEMO:
        assert f"{name} {demo.versions[name]}" in message
    # The install line fits the registry: it carries the extra index the set needed.
    assert f"--extra-index-url {demo.upstream.index_url}" in demo.output.split("install with:")[1]


def test_verify_without_forwarding_or_extra_index_names_the_option(demo: Any) -> None:
    # runner-core (which needs packaging) alone: same id, so "already published", then the check.
    failed = demo.snapshot("--package", "runner-core")
    assert failed.returncode == 1
    assert "--verify-extra-index-url https://pypi.org/simple" in failed.stdout
    assert "packaging is a third-party dependency" in failed.stdout
    install = failed.stdout.split("install with:")[1]
    assert "--extra-index-url https://pypi.org/simple" in install
    assert demo.primary.password not in failed.stdout + failed.stderr
    # The same set against the registry with forwarding: no extra index needed.
    passed = demo.snapshot("--package", "runner-core", index_url=demo.forwarding.index_url)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "--extra-index-url" not in passed.stdout.split("install with:")[1]


# --------------------------------------------------------------------------- pip


@pytest.mark.parametrize("mode", MODES)
def test_pip_command_line(demo: Any, mode: str, tmp_path: Path) -> None:
    text = consumer_config(demo, "pip", mode)
    enabled, disabled = [line for line in text.splitlines() if line.startswith("pip install")]
    line = enabled if mode == "enabled" else disabled.replace(PYPI, demo.upstream.index_url)
    python = make_venv(tmp_path / "venv")
    # PIP_CONFIG_FILE: this machine's /etc pip configuration must not take part.
    env = fresh_env(
        tmp_path / "home", [python.parent], PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1"
    )
    write_netrc(demo, text, env, tmp_path)
    done = run(line, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_installed(python, demo)


def test_pip_without_credentials_fails_at_once_without_a_prompt_or_traceback(
    demo: Any, tmp_path: Path
) -> None:
    text = consumer_config(demo, "pip", "disabled")
    line = line_starting(text, "pip install")
    python = make_venv(tmp_path / "venv")
    env = fresh_env(
        tmp_path / "home", [python.parent], PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1"
    )
    done = run(line, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr and "EOFError" not in done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_pip_conf(demo: Any, mode: str, tmp_path: Path) -> None:
    import configparser

    text = consumer_config(demo, "pip-conf", mode)
    enabled, disabled = pip_conf_files(text)
    conf = enabled if mode == "enabled" else disabled.replace(PYPI, demo.upstream.index_url)
    configparser.ConfigParser().read_string(conf)
    python = make_venv(tmp_path / "venv")
    home = tmp_path / "home"
    env = fresh_env(home, [python.parent])
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text(conf)  # where the printed text says
    write_netrc(demo, text, env, tmp_path)
    line = line_starting(text, "# then, with either file: ").split(": ", 1)[1]
    done = run(line, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_installed(python, demo)


# --------------------------------------------------------------------------- PDM


CONSUMER = """[project]
name = "consumer"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = []

"""


@pytest.mark.parametrize("mode", MODES)
def test_pdm_source_block_and_one_pdm_add(demo: Any, mode: str, tmp_path: Path) -> None:
    text = consumer_config(demo, "pdm", mode)
    block = text[text.index("[[tool.pdm.source]]") : text.index("# Then install normally")]
    project = tmp_path / "project"
    project.mkdir()
    # PDM finds the interpreter on PATH and makes the project's .venv from it.
    env = fresh_env(
        tmp_path / "home",
        [tool_dir(tmp_path / "bin", _pdm()), Path(base_python()).parent],
        PDM_PYPI_URL=demo.upstream.index_url,  # PDM's default source, standing in for PyPI
        PDM_NON_INTERACTIVE="1",
        PDM_CHECK_UPDATE="false",
    )
    if mode == "enabled":
        write_netrc(demo, text, env, tmp_path)
    else:  # the printed alternative: PDM expands ${VARIABLES} in the url
        [alternative] = re.findall(r"^#   url = (.+)$", text, re.MULTILINE)
        block = re.sub(r"^url = .+$", f"url = {alternative}", block, count=1, flags=re.MULTILINE)
        env.update(
            GITLAB_PYPI_USERNAME=demo.primary.username, GITLAB_PYPI_PASSWORD=demo.primary.password
        )
    (project / "pyproject.toml").write_text(
        CONSUMER + "[tool.pdm]\ndistribution = false\n\n" + block
    )
    tomllib.loads((project / "pyproject.toml").read_text())
    adds = [line for line in text.splitlines() if line.startswith("pdm add")]
    assert len(adds) == 1  # one resolve and lock for the whole set
    done = run(adds[0], env=env, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_installed(project / ".venv" / "bin" / "python", demo)
    assert demo.primary.password not in (project / "pdm.lock").read_text()
    assert demo.primary.password not in (project / "pyproject.toml").read_text()


# --------------------------------------------------------------------------- uv


@pytest.mark.parametrize("mode", MODES)
def test_uv_add_of_the_topmost_package_alone_then_sync_and_pip_install(
    demo: Any, mode: str, tmp_path: Path
) -> None:
    text = consumer_config(demo, "uv", mode)
    block = text[text.index("[tool.uv]") : text.index("# Then")]
    uv = _uv()
    env = fresh_env(
        tmp_path / "home",
        # uv finds the interpreter on PATH. Never UV_PYTHON: `uv pip install` would take that
        # interpreter's own environment as the target.
        [tool_dir(tmp_path / "bin", uv), Path(base_python()).parent],
        UV_DEFAULT_INDEX=demo.upstream.index_url,  # uv's default index, standing in for PyPI
        UV_PYTHON_DOWNLOADS="never",
    )
    if mode == "enabled":
        write_netrc(demo, text, env, tmp_path)
    else:  # the printed alternative: uv's own variables for the index named "gitlab"
        env.update(
            UV_INDEX_GITLAB_USERNAME=demo.primary.username,
            UV_INDEX_GITLAB_PASSWORD=demo.primary.password,
        )
    index = demo.primary.index_url if mode == "disabled" else demo.forwarding.index_url

    # 1. uv add <topmost>==<v> alone: every transitive monorepo package comes from GitLab.
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(CONSUMER + block)
    done = run([uv, "add", f"usertest=={demo.versions['usertest']}"], env=env, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    lock = tomllib.loads((project / "uv.lock").read_text())
    sources = {p["name"]: p["source"].get("registry") for p in lock["package"]}
    assert {n: sources[n] for n in DEMO} == dict.fromkeys(DEMO, index)
    assert demo.primary.password not in (project / "uv.lock").read_text()
    assert_installed(project / ".venv" / "bin" / "python", demo)
    # The printed uv add line (every published package) in the same project.
    done = run(line_starting(text, "uv add "), env=env, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr

    # 2. uv sync in a fresh checkout of that project (its pyproject.toml and uv.lock).
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(project / name, checkout / name)
    done = run([uv, "sync", "--locked"], env=env, cwd=checkout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_installed(checkout / ".venv" / "bin" / "python", demo)

    # 3. The printed uv pip install line, into an environment of one's own (no project).
    plain = tmp_path / "plain"
    plain.mkdir()
    venv = plain / "venv"
    assert run([uv, "venv", "--quiet", str(venv)], env=env, cwd=plain).returncode == 0
    done = run(
        line_starting(text, "uv pip install"), env={**env, "VIRTUAL_ENV": str(venv)}, cwd=plain
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "environment at: venv" in done.stderr  # the venv of VIRTUAL_ENV, nothing else
    assert_installed(venv / "bin" / "python", demo)
