"""Fixtures of the engine tests (the plain helpers live in ``engine_helpers``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from engine_helpers import FIXTURES, Run, copy_fixture, snapshot_tree

from monorepo_tools.cli import main


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Callable[[str], Path]:
    """``fixture_repo("clean")``: a fresh copy of a fixture monorepo in tmp_path."""

    def make(name: str) -> Path:
        return copy_fixture(name, tmp_path)

    return make


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """``cli("check", "--root", ...)``: ``monorepo_tools.cli.main`` in-process."""

    def run(*args: str) -> Run:
        capsys.readouterr()  # drop anything printed before
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def unchanged_tree() -> Callable[[Path], Callable[[], None]]:
    """Snapshot a tree now; the returned callable asserts it is byte-identical later."""

    def take(root: Path) -> Callable[[], None]:
        before = snapshot_tree(root)

        def verify() -> None:
            after = snapshot_tree(root)
            added = sorted(set(after) - set(before))
            removed = sorted(set(before) - set(after))
            changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
            assert (added, removed, changed) == ([], [], []), "the working tree was modified"

        return verify

    return take


@pytest.fixture(autouse=True, scope="session")
def _fixtures_are_never_modified() -> Iterator[None]:
    """The tool only ever runs on copies: tests/fixtures is byte-identical after the session."""
    before = snapshot_tree(FIXTURES)
    yield
    after = snapshot_tree(FIXTURES)
    assert after == before, "a test modified tests/fixtures (run the tool on a copy)"
    assert not list(FIXTURES.rglob(".monorepo")), "a test ran the tool on tests/fixtures in place"


@pytest.fixture(autouse=True, scope="session")
def _shared_build_envs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One folder of build environments per test process (the metadata hook of setup.py-only
    packages and dynamic requirements uses them; creation is locked, so sharing is safe)."""
    import os

    if os.environ.get("MONOREPO_BUILD_ENV_DIR"):
        yield
        return
    os.environ["MONOREPO_BUILD_ENV_DIR"] = str(tmp_path_factory.getbasetemp() / "build-envs")
    try:
        yield
    finally:
        os.environ.pop("MONOREPO_BUILD_ENV_DIR", None)
