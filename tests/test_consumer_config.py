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


def pip_conf_files(text: str) -> list[str]:
    """The pip.conf files of ``--format pip-conf`` output: each ``[global]`` to its blank line."""
    blocks = text.split("[global]\n")[1:]
    return ["[global]\n" + block.split("\n\n")[0] + "\n" for block in blocks]


def test_pip_conf_is_one_ini_file_per_forwarding_mode() -> None:
    import configparser

    text = render_consumer_config(INDEX, PINS, "pip-conf", ALL)
    enabled, disabled = pip_conf_files(text)
    for block, extra in ((enabled, None), (disabled, "https://pypi.org/simple")):
        parser = configparser.ConfigParser()
        parser.read_string(block)
        assert parser["global"]["index-url"] == INDEX
        assert parser["global"].get("extra-index-url") == extra
        assert parser["global"]["no-input"] == "true"  # CI: a missing credential fails at once


def test_pdm_source_block_includes_every_publishable_package_then_one_pdm_add() -> None:
    text = render_consumer_config(INDEX, PINS, "pdm", ALL)
    block = text[: text.index("# Then install normally")]
    data = tomllib.loads(block)
    [source] = data["tool"]["pdm"]["source"]
    assert source == {"name": "gitlab", "url": INDEX, "include_packages": [f"{n}*" for n in ALL]}
    adds = [line for line in text.splitlines() if line.startswith("pdm add")]
    assert adds == ["pdm add normalized-events==0.1.0.dev7 runner-core==0.1.0.dev7"]
    assert "${GITLAB_PYPI_PASSWORD}" in text  # PDM's own variable expansion is named


def test_uv_asks_the_gitlab_index_first_for_every_package() -> None:
    text = render_consumer_config(INDEX, PINS, "uv", ALL)
    data = tomllib.loads(text[: text.index("# Then")])
    # Not explicit: sources route only direct dependencies; transitive ones need the lookup.
    assert data["tool"]["uv"]["index"] == [{"name": "gitlab", "url": INDEX}]
    assert data["tool"]["uv"]["index-strategy"] == "first-index"
    assert data["tool"]["uv"]["sources"] == {n: {"index": "gitlab"} for n in ALL}
    assert "uv add normalized-events==0.1.0.dev7 runner-core==0.1.0.dev7" in text
    assert f'uv pip install --index "gitlab={INDEX}" normalized-events==0.1.0.dev7' in text
    assert "UV_INDEX_GITLAB_USERNAME" in text and "UV_INDEX_GITLAB_PASSWORD" in text


@pytest.mark.parametrize("fmt", ["pip", "pip-conf", "pdm", "uv"])
def test_every_form_says_how_ci_authenticates_and_notes_dependency_confusion(fmt: str) -> None:
    text = render_consumer_config(INDEX, PINS, fmt, ALL)
    assert "printf 'machine %s login %s password %s\\n' gitlab.example.com" in text
    assert "forwards to PyPI only the names this project has no package for" in text
    assert "more specific wheel tag" in text  # what an exact pin does not stop
    if fmt.startswith("pip"):
        assert "PIP_NO_INPUT=1" in text


def test_credentials_in_the_index_url_are_never_printed() -> None:
    url = "https://deploy:glpat-SECRET1@gitlab.example.com/api/v4/projects/42/packages/pypi/simple?private_token=SECRET2"
    for fmt in ("pip", "pip-conf", "pdm", "uv"):
        text = render_consumer_config(url, PINS, fmt, ALL)
        assert "SECRET" not in text and "deploy" not in text
        assert "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple" in text


def test_an_index_url_with_shell_characters_is_quoted() -> None:
    import shlex

    url = 'https://gitlab.example.com/simple/$(touch x)"`id`'
    text = render_consumer_config(url, PINS, "pip", ALL)
    line = next(line for line in text.splitlines() if line.startswith("pip install"))
    assert shlex.split(line)[3] == url  # one word, nothing expanded


@pytest.mark.parametrize(
    ("name", "version", "why"),
    [
        ("x; rm -rf ~", "1.0", "not a distribution name"),
        ("core", "1.0 $(id)", "not a PEP 440 version"),
        ("core", None, "has no version"),
        (7, "1.0", "not a distribution name"),
    ],
)
def test_names_and_versions_from_a_summary_are_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: object, version: object, why: str
) -> None:
    root = _repo(tmp_path)
    summary = tmp_path / "summary.json"
    entry = {"name": name, "version": version, "outcome": "published"}
    summary.write_text(json.dumps({"registry": {"index_url": INDEX}, "packages": [entry]}))
    assert main(["consumer-config", "--root", str(root), "--summary-json", str(summary)]) == 2
    err = capsys.readouterr().err
    assert why in err and "packages[0]" in err and "Traceback" not in err


@pytest.mark.parametrize("document", ["[]", '"x"', '{"packages": {}}', '{"packages": ["x"]}', "{"])
def test_a_malformed_summary_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: str
) -> None:
    root = _repo(tmp_path)
    summary = tmp_path / "summary.json"
    summary.write_text(document)
    assert main(["consumer-config", "--root", str(root), "--summary-json", str(summary)]) == 2
    err = capsys.readouterr().err
    assert str(summary) in err and "Traceback" not in err


def test_a_summary_index_url_with_credentials_prints_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo(tmp_path)
    summary = tmp_path / "summary.json"
    summary.write_text(
        json.dumps(
            {
                "registry": {"index_url": "https://ci:tok3n@registry.example.com/simple/"},
                "packages": [{"name": "core", "version": "1.2.0.dev5", "outcome": "published"}],
            }
        )
    )
    assert main(["consumer-config", "--root", str(root), "--summary-json", str(summary)]) == 0
    out = capsys.readouterr().out
    assert "tok3n" not in out and "ci:" not in out
    assert 'pip install --index-url "https://registry.example.com/simple/" core==1.2.0.dev5' in out


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
