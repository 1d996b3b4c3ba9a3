"""``monorepo consumer-config``: what consumers paste, for each format, and its error cases."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from monorepo_tools.cli import main
from monorepo_tools.commands.consumer_config import render_consumer_config

INDEX = "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple"
PINS = [("normalized-events", "0.1.0.dev7"), ("runner-core", "0.1.0.dev7")]
ALL = ["agent-adapters", "normalized-events", "runner-core"]


def test_pip_gives_forwarding_enabled_and_disabled_lines_pinned() -> None:
    text = render_consumer_config(INDEX, PINS, "pip", ALL)
    lines = [line for line in text.splitlines() if line.startswith("pip install")]
    assert lines == [
        f'pip install --index-url "{INDEX}" normalized-events==0.1.0.dev7 runner-core==0.1.0.dev7',
        f'pip install --index-url "{INDEX}" --extra-index-url "https://pypi.org/simple" normalized-events==0.1.0.dev7 runner-core==0.1.0.dev7',
    ]
    assert "dependency confusion" in text.lower()


def test_pip_conf_is_an_ini_file_with_the_index() -> None:
    import configparser

    text = render_consumer_config(INDEX, PINS, "pip-conf", ALL)
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser["global"]["index-url"] == INDEX


def test_pdm_source_block_includes_every_publishable_package_then_pdm_add_lines() -> None:
    text = render_consumer_config(INDEX, PINS, "pdm", ALL)
    block = text[: text.index("# Then install normally:")]
    data = tomllib.loads(block)
    [source] = data["tool"]["pdm"]["source"]
    assert source == {"name": "gitlab", "url": INDEX, "include_packages": [f"{n}*" for n in ALL]}
    assert (
        "pdm add normalized-events==0.1.0.dev7" in text
        and "pdm add runner-core==0.1.0.dev7" in text
    )


def test_uv_routes_exactly_our_packages_to_an_explicit_index() -> None:
    text = render_consumer_config(INDEX, PINS, "uv", ALL)
    data = tomllib.loads(text[: text.index("# Then:")])
    assert data["tool"]["uv"]["index"] == [{"name": "gitlab", "url": INDEX, "explicit": True}]
    assert data["tool"]["uv"]["sources"] == {n: {"index": "gitlab"} for n in ALL}
    assert "uv add normalized-events==0.1.0.dev7 runner-core==0.1.0.dev7" in text


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name, status, deps in (
        ("core", "stable", []),
        ("app", "incubator", ["core"]),
        ("tool", None, []),
    ):
        folder = root / "packages" / name
        folder.mkdir(parents=True)
        table = f'\n[tool.monorepo]\nstatus = "{status}"\n' if status else ""
        folder.joinpath("pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "1.2.0"\ndependencies = {json.dumps(deps)}\n{table}'
        )
    return root


def test_cli_from_a_summary_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repo(tmp_path)
    summary = tmp_path / "summary.json"
    summary.write_text(
        json.dumps(
            {
                "snapshot_id": 5,
                "registry": {"kind": "gitlab", "index_url": INDEX},
                "packages": [
                    {"name": "core", "version": "1.2.0.dev5", "outcome": "published"},
                    {"name": "app", "version": "1.2.0.dev5", "outcome": "failed"},
                ],
            }
        )
    )
    assert (
        main(
            [
                "consumer-config",
                "--root",
                str(root),
                "--summary-json",
                str(summary),
                "--format",
                "pdm",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "pdm add core==1.2.0.dev5" in out and "pdm add app" not in out  # only what was published
    assert '"app*"' in out  # include_packages still covers every publishable package
    assert '"tool*"' not in out  # internal: never published


def test_cli_from_a_snapshot_id_uses_the_configured_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path)
    monkeypatch.setenv("MONOREPO_REPOSITORY_URL", "https://registry.example.com/")
    monkeypatch.setenv("MONOREPO_REPOSITORY_USERNAME", "u")
    monkeypatch.setenv("MONOREPO_REPOSITORY_PASSWORD", "secret-pw")
    monkeypatch.delenv("CI", raising=False)
    assert main(["consumer-config", "--root", str(root), "--snapshot-id", "9"]) == 0
    out = capsys.readouterr().out
    assert (
        'pip install --index-url "https://registry.example.com/simple/" core==1.2.0.dev9 app==1.2.0.dev9'
        in out
    )
    assert "secret-pw" not in out


def test_cli_without_any_snapshot_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo(tmp_path)
    assert main(["consumer-config", "--root", str(root)]) == 2
    assert "--snapshot-id N" in capsys.readouterr().err
    assert (
        main(
            ["consumer-config", "--root", str(root), "--summary-json", str(tmp_path / "nope.json")]
        )
        == 2
    )
    assert "no such file" in capsys.readouterr().err
    assert (
        main(["consumer-config", "--root", str(root), "--snapshot-id", "1", "--summary-json", "x"])
        == 2
    )
