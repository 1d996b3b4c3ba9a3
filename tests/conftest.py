"""Fixtures of the engine tests (the plain helpers live in ``engine_helpers``).

The suite runs under pytest-xdist (``nox -s tests`` passes ``--numprocesses=auto``), so nothing
here may share state between processes: files go to ``tmp_path``, servers to free ports, and
hypothesis keeps no example database (by default it writes ``.hypothesis/`` into the current
directory, the checkout, from every worker at once). A failing example is printed with its
``@reproduce_failure`` blob instead; ``HYPOTHESIS_PROFILE=default`` brings the database back
for a local hunt. What hypothesis still stores (content-addressed caches of constants and the
Unicode table, written atomically, so safe to share between workers and runs) goes to the user's
cache folder, not the checkout; ``HYPOTHESIS_STORAGE_DIRECTORY`` chooses another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from engine_helpers import FIXTURES, REPO, Run, copy_fixture, snapshot_tree
from hypothesis import configuration, settings

from monorepo_tools.cli import main

settings.register_profile("monorepo-tools", database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "monorepo-tools"))
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    _cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    configuration.set_hypothesis_home_dir(_cache / "monorepo-tools" / "hypothesis")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow (end-to-end) tests first, in their order: under xdist the long modules start at
    once and the short tests fill the gaps, instead of one long module running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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


def _package_state(root: Path) -> set[str]:
    """What a tool run or a build leaves in the demo packages' folders (all of it ignored by git)."""
    left = ("*/.monorepo", "*/build", "*/dist", "*/*.egg-info", "*/src/*.egg-info")
    return {str(path.relative_to(root)) for pattern in left for path in root.glob(pattern)}


@pytest.fixture(autouse=True, scope="session")
def _packages_are_never_written() -> Iterator[None]:
    """The tests run the tool and the builds on copies of ``packages/``, never in the checkout.

    (Every xdist worker checks; a leftover would be shared by all of them and by the next run.)
    """
    before = _package_state(REPO / "packages")
    yield
    added = sorted(_package_state(REPO / "packages") - before)
    assert not added, f"a test wrote into the checkout's packages/: {', '.join(added)}"


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
