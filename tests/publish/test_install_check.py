"""The ``--verify`` install check against real pypiservers: environments, third-party
dependencies, and the report of every installed monorepo package.

A published package whose import writes its whole environment to a file proves what the probe
(third-party code) sees; a registry without forwarding and an upstream that stands in for PyPI
prove the third-party path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from clients import upstream_server, wheel

from monorepo_tools.publish import install_check
from monorepo_tools.publish.install_check import (
    PIP_ALLOWLIST,
    PROBE_ALLOWLIST,
    pip_env,
    probe_env,
    verify_installs,
)
from monorepo_tools.publish.local_index import LocalIndex
from monorepo_tools.publish.registry import registry_from_env

pytestmark = pytest.mark.slow

SECRETS = {
    "GITLAB_PYPI_PASSWORD": "glpat-gitlab-secret",
    "CI_JOB_TOKEN": "job-token-secret",
    "TWINE_PASSWORD": "twine-secret",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "SOME_API_TOKEN": "api-token-secret",
}


@pytest.fixture(scope="module")
def upstream(pypiserver: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """ "PyPI": holds the third-party ``tiny-thirdparty`` the published packages need."""
    server = upstream_server(pypiserver, tmp_path_factory.mktemp("upstream"))
    wheel(server.packages_dir, "tiny-thirdparty", "2.0", body="VALUE = 42\n")
    yield server
    server.stop()


def _registry(server: Any, root: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The registry as CI would configure it: the password also inside both URLs."""
    with_userinfo = f"http://{server.username}:{server.password}@{server.host}:{server.port}/"
    env = {
        "MONOREPO_REPOSITORY_URL": with_userinfo,
        "MONOREPO_INDEX_URL": f"{with_userinfo}simple/",
        "MONOREPO_REPOSITORY_USERNAME": server.username,
        "MONOREPO_REPOSITORY_PASSWORD": server.password,
        **SECRETS,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the environment of the process that runs the check
    return registry_from_env(env, root)


def test_no_credential_in_any_form_reaches_the_probe_that_imports_published_code(
    empty_pypiserver: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = tmp_path / "seen-env.json"
    body = f"import json, os\nopen({str(dump)!r}, 'w').write(json.dumps(dict(os.environ)))\n"
    wheel(empty_pypiserver.packages_dir, "env-dumper", "1.0.dev3", body=body)
    registry = _registry(empty_pypiserver, tmp_path, monkeypatch)
    [check] = verify_installs(registry, [("env-dumper", "1.0.dev3", {})])
    assert check.ok, check.message
    seen: dict[str, str] = json.loads(dump.read_text())
    text = json.dumps(seen)
    for secret in (empty_pypiserver.password, *SECRETS.values()):
        assert secret not in text
    assert "@" not in text.replace("C.UTF-8", "")  # no URL userinfo at all
    assert not any(k.startswith(("PIP_", "MONOREPO_", "UV_", "TWINE_")) for k in seen)
    allowed = PROBE_ALLOWLIST | {"HOME", "PYTHONNOUSERSITE", "PYTHONDONTWRITEBYTECODE"}
    assert set(seen) <= allowed | {k for k in seen if k.startswith("LC_")}
    assert Path(seen["HOME"]) != Path.home()  # an empty folder, not the user's


def test_pip_gets_the_index_credentials_in_its_environment_only() -> None:
    base = {
        "PATH": "/usr/bin",
        "SSL_CERT_FILE": "/etc/ssl/cert.pem",
        "MONOREPO_INDEX_URL": "https://u:p4ss@host/simple/",
        "GITLAB_PYPI_PASSWORD": "p4ss",
        "PIP_EXTRA_INDEX_URL": "file:///opt/machine/simple",
        "EVIL": "https://x:p4ss@elsewhere/",
    }
    env = pip_env(Path("/tmp/h"), "https://u:p4ss@host/simple/", None, base, secrets=["p4ss"])
    assert env["PIP_INDEX_URL"] == "https://u:p4ss@host/simple/"
    assert env["PIP_CONFIG_FILE"] and env["PIP_NO_INPUT"] == "1"
    assert env["SSL_CERT_FILE"] == "/etc/ssl/cert.pem"  # trust settings stay
    assert "PIP_EXTRA_INDEX_URL" not in env and "EVIL" not in env
    assert set(env) - {"HOME", "PYTHONNOUSERSITE"} <= PIP_ALLOWLIST | {
        "PIP_INDEX_URL",
        "PIP_CONFIG_FILE",
        "PIP_DISABLE_PIP_VERSION_CHECK",
        "PIP_NO_INPUT",
    }
    probe = probe_env(Path("/tmp/h"), {**base, "LC_ALL": "C", "TMPDIR": "/x:p4ss@y"}, ["p4ss"])
    assert probe == {
        "PATH": "/usr/bin",
        "LC_ALL": "C",
        "HOME": "/tmp/h",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def test_a_third_party_dependency_on_a_registry_without_forwarding_names_the_option(
    empty_pypiserver: Any, upstream: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel(empty_pypiserver.packages_dir, "base-lib", "1.0.dev4")
    wheel(
        empty_pypiserver.packages_dir,
        "top-app",
        "1.0.dev4",
        ["base-lib==1.0.dev4", "tiny-thirdparty>=2"],
        body="import base_lib, tiny_thirdparty\n",
    )
    registry = _registry(empty_pypiserver, tmp_path, monkeypatch)
    item = ("top-app", "1.0.dev4", {"base-lib": "1.0.dev4"})
    [failed] = verify_installs(registry, [item])
    assert not failed.ok and failed.step == "install"
    assert "tiny-thirdparty is a third-party dependency" in failed.message
    assert "--verify-extra-index-url https://pypi.org/simple" in failed.message
    assert failed.extra_index_url == "https://pypi.org/simple"  # what the install line needs
    assert empty_pypiserver.password not in failed.message

    [passed] = verify_installs(registry, [item], extra_index_url=upstream.index_url)
    assert passed.ok, passed.message
    # Every installed monorepo package is checked and reported at its pinned version.
    assert "installed with its pins: base-lib 1.0.dev4, top-app 1.0.dev4" in passed.message
    assert f"third-party dependencies from {upstream.index_url}" in passed.message


def test_every_installed_monorepo_package_must_be_at_its_snapshot_version(
    empty_pypiserver: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # mid pins base==1.0.dev4 (an older snapshot), top pins mid only: the direct pins match,
    # but base is not at this snapshot's version.
    wheel(empty_pypiserver.packages_dir, "base-lib", "1.0.dev4")
    wheel(empty_pypiserver.packages_dir, "mid-lib", "1.0.dev5", ["base-lib==1.0.dev4"])
    wheel(empty_pypiserver.packages_dir, "top-app", "1.0.dev5", ["mid-lib==1.0.dev5"])
    registry = _registry(empty_pypiserver, tmp_path, monkeypatch)
    versions = {"base-lib": "1.0.dev5", "mid-lib": "1.0.dev5", "top-app": "1.0.dev5"}
    [check] = verify_installs(
        registry, [("top-app", "1.0.dev5", {"mid-lib": "1.0.dev5"})], monorepo_versions=versions
    )
    assert not check.ok and check.step == "version"
    assert "base-lib 1.0.dev4 (expected 1.0.dev5)" in check.message


def test_the_local_index_takes_third_party_dependencies_from_pypi(
    upstream: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The local index is a folder of this monorepo's packages: it never forwards. PyPI is
    # played by the upstream server here.
    monkeypatch.setattr(install_check, "PYPI", upstream.index_url)
    registry = registry_from_env({}, tmp_path)
    assert registry.kind == "local" and registry.local_dir is not None
    built = wheel(tmp_path / "dist", "local-app", "3.0.dev1", ["tiny-thirdparty"])
    LocalIndex(registry.local_dir).add("local-app", built)
    [check] = verify_installs(registry, [("local-app", "3.0.dev1", {})])
    assert check.ok, check.message
    assert check.extra_index_url == upstream.index_url
    shutil.rmtree(registry.local_dir)
