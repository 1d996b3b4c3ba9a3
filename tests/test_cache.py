"""The caches under ``<root>/.monorepo/cache`` change nothing but the time a run takes.

Two caches, both in ``workspace.py``:

* the parse cache (``workspace.marshal``): one parsed package per pyproject.toml, reused while
  the file's signature (size, mtime_ns, inode, ctime_ns) is unchanged; an entry whose file was
  modified within 2 s of the run that wrote it (the "racy" case) is re-checked by content hash;
* the output cache (``output-*.marshal``, :class:`OutputCache`): the whole output of one
  command line, reused only for the very same files (same set, same signatures, racy ones
  re-hashed), the same root, globs, command line and toolchain.

Every test compares against a run without any cache: a stale, missing, corrupt or unwritable
cache must give the same result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import FIXTURES, REPO, Run, copy_fixture, pyproject, write_monorepo

from monorepo_tools.config import load_config
from monorepo_tools.workspace import OutputCache, load_workspace
from monorepo_tools.workspace import cache as ws_module

sys.path.insert(0, str(REPO / "benchmarks"))
from generate import generate

CACHE = Path(".monorepo") / "cache"


def _age(root: Path, seconds: float = 30) -> None:
    """Make every pyproject older than the racy window, as files usually are."""
    past = time.time_ns() - int(seconds * 1e9)
    for file in root.rglob("pyproject.toml"):
        os.utime(file, ns=(past, past))


def _check_json(cli: Callable[..., Run], root: Path, *extra: str) -> tuple[int, str]:
    run = cli("check", "--root", str(root), "--format", "json", *extra)
    assert run.code in (0, 1), run.err
    return run.code, run.out


def _graph_json(cli: Callable[..., Run], root: Path, *extra: str) -> str:
    run = cli("graph", "--root", str(root), "--format", "json", *extra)
    assert run.code == 0, run.err
    return run.out


def _same_size_edit(file: Path, old: str, new: str) -> os.stat_result:
    """Replace *old* by *new* (same length) and put the old mtime back; the old stat."""
    assert len(old) == len(new)
    before = file.stat()
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = file.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    return before


def _repo(tmp_path: Path) -> Path:
    """app (stable) -> core (incubator), tool (internal); all files aged out of the racy window."""
    root = write_monorepo(
        tmp_path / "repo",
        {
            "core": pyproject("core", "incubator"),
            "app": pyproject("app", "stable", deps=["core>=0.1", "requests>=2"]),
            "tool": pyproject("tool", "internal", deps=["app"]),
        },
    )
    _age(root)
    return root


# ---------------------------------------------------------------------------------------------
# where the cache lives


def test_cache_lives_in_a_self_ignoring_state_folder(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    root = _repo(tmp_path)
    _check_json(cli, root)
    state = root / ".monorepo"
    assert "*" in (state / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert (root / CACHE / "workspace.marshal").is_file()
    assert all(p.is_relative_to(state) for p in root.rglob("*.marshal"))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_status_stays_clean_after_a_run(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _repo(tmp_path)

    def git(*args: str) -> str:
        return subprocess.run(
            [
                "git",
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
                *args,
            ],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "init")
    _check_json(cli, root)
    _graph_json(cli, root)
    assert (root / ".monorepo").is_dir()
    assert git("status", "--porcelain", "--ignored=no") == ""


# ---------------------------------------------------------------------------------------------
# invalidation


def test_an_ordinary_edit_is_seen(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _repo(tmp_path)
    code, _ = _check_json(cli, root)
    assert code == 0
    file = root / "packages" / "core" / "pyproject.toml"
    file.write_text(
        file.read_text(encoding="utf-8").replace('"incubator"', '"internal"'), encoding="utf-8"
    )
    code, after = _check_json(cli, root)
    assert code == 1 and "internal-dependency" in after
    assert (code, after) == _check_json(cli, root, "--no-cache")


def test_a_same_size_edit_with_the_old_mtime_is_seen(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """End to end: an edit that keeps size and mtime, right after a run (inside the racy window)."""
    root = write_monorepo(
        tmp_path / "repo",
        {"core": pyproject("core", "incubator"), "app": pyproject("app", "stable", deps=["core"])},
    )
    assert _check_json(cli, root)[0] == 0
    _same_size_edit(root / "packages" / "core" / "pyproject.toml", '"incubator"', '"Incubator"')
    code, out = _check_json(cli, root)
    assert code == 1 and "invalid-status" in out
    assert (code, out) == _check_json(cli, root, "--no-cache")


def test_the_content_hash_catches_what_the_signature_cannot(tmp_path: Path) -> None:
    """The racy rule itself. An edit that leaves the whole signature unchanged (possible with
    coarse timestamps, or a file system without ctime) is forged here by writing the new file's
    signature into the cache: inside the racy window the content hash still sees the edit, and
    the same forged cache dated long after the edit is trusted, which shows it is the hash, not
    the signature, that caught it."""
    root = write_monorepo(tmp_path / "repo", {"core": pyproject("core", "incubator")})
    config = load_config(root)
    file = root / "packages" / "core" / "pyproject.toml"
    assert load_workspace(config).packages["core"].status == "incubator"
    cache = ws_module._cache_path(config)
    loaded = ws_module._load_cache(cache, str(config.root))
    _same_size_edit(file, '"incubator"', '"supported"')
    _, digest, package = loaded.entries["packages/core"]
    forged = {"packages/core": (ws_module._signature(file.stat()), digest, package)}

    ws_module._save_cache(config, cache, forged, written=time.time_ns())  # racy: re-hashed
    assert load_workspace(config).packages["core"].status == "supported"

    ws_module._save_cache(config, cache, forged, written=time.time_ns() + 10 * 10**9)
    assert load_workspace(config).packages["core"].status == "incubator"  # trusted: stale
    assert load_workspace(config, use_cache=False).packages["core"].status == "supported"


def test_a_new_package_folder_is_picked_up(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _repo(tmp_path)
    _check_json(cli, root)
    _graph_json(cli, root)
    folder = root / "packages" / "extra"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(
        pyproject("extra", "stable", deps=["tool"]), encoding="utf-8"
    )
    code, out = _check_json(cli, root)
    assert code == 1 and '"package": "extra"' in out
    assert '"name": "extra"' in _graph_json(cli, root)
    assert (code, out) == _check_json(cli, root, "--no-cache")


def test_a_deleted_package_disappears(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _repo(tmp_path)
    _check_json(cli, root)
    assert '"name": "tool"' in _graph_json(cli, root)
    shutil.rmtree(root / "packages" / "tool")
    assert '"name": "tool"' not in _graph_json(cli, root)
    (root / "packages" / "core" / "pyproject.toml").unlink()  # the folder stays, not a package
    graph = _graph_json(cli, root)
    assert '"name": "core"' not in graph and '"name": "app"' in graph
    assert _check_json(cli, root) == _check_json(cli, root, "--no-cache")


def test_a_corrupt_cache_is_ignored_and_rewritten(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _repo(tmp_path)
    expected = _check_json(cli, root, "--no-cache")
    assert _check_json(cli, root) == expected
    cache = root / CACHE / "workspace.marshal"
    good = cache.read_bytes()
    config = load_config(root)
    for garbage in (
        b"\x00garbage\xff" * 100,
        good[: len(good) // 2],  # truncated
        good[:-1] + bytes([good[-1] ^ 1]),  # one bit flipped
        ws_module._dump_framed(("a", "valid", "frame", "of", "something else")),
        b"",
    ):
        for file in (root / CACHE).iterdir():  # the parse cache and every output entry
            file.write_bytes(garbage)
        assert _check_json(cli, root) == expected
        assert ws_module._load_cache(cache, str(config.root)).entries.keys() == {
            "packages/app",
            "packages/core",
            "packages/tool",
        }


def test_an_unwritable_state_folder_still_gives_the_result(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """Tests run as root, so permissions stop nothing: ``.monorepo`` is a *file* instead."""
    root = _repo(tmp_path)
    expected = _check_json(cli, root, "--no-cache")
    graph = _graph_json(cli, root, "--no-cache")
    (root / ".monorepo").write_text("in the way\n", encoding="utf-8")
    for _ in range(2):
        assert _check_json(cli, root) == expected
        assert _graph_json(cli, root) == graph
    assert (root / ".monorepo").read_text(encoding="utf-8") == "in the way\n"


def test_no_cache_writes_nothing(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _repo(tmp_path)
    _check_json(cli, root, "--no-cache")
    _graph_json(cli, root, "--no-cache")
    assert load_workspace(load_config(root), use_cache=False).packages
    assert not (root / ".monorepo").exists()


def test_a_moved_checkout_is_read_again(tmp_path: Path, cli: Callable[..., Run]) -> None:
    """Parsed values hold absolute paths: both caches are keyed by the root."""
    root = copy_fixture("notation-uv-path", tmp_path / "a")
    _age(root)
    before = _check_json(cli, root)
    moved = root.rename(tmp_path / "moved")
    assert _check_json(cli, moved) == before == _check_json(cli, moved, "--no-cache")
    packages = load_workspace(load_config(moved)).packages
    assert all(str(tmp_path / "a") not in repr(p) for p in packages.values())


# ---------------------------------------------------------------------------------------------
# the same results


@pytest.mark.parametrize(
    "fixture", sorted(p.name for p in FIXTURES.iterdir() if (p / "pyproject.toml").is_file())
)
def test_every_fixture_reads_the_same_from_the_cache(fixture: str, tmp_path: Path) -> None:
    """Every kind of value (problems, uv sources, extras, groups, rejected files) round-trips."""
    root = copy_fixture(fixture, tmp_path)
    _age(root)
    config = load_config(root)
    try:
        cold = load_workspace(config, use_cache=False)
    except Exception as exc:  # a fixture that is a configuration error stays one
        with pytest.raises(type(exc)):
            load_workspace(config)
        return
    first = load_workspace(config)
    warm = load_workspace(config)
    for ws in (first, warm):
        assert ws.packages == cold.packages
        assert ws.rejected == cold.rejected
        assert ws.edges == cold.edges
        assert list(ws.packages) == list(cold.packages)


def test_results_are_identical_with_and_without_the_cache(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    repo = generate(tmp_path / "gen", 150, seed=7)
    assert repo.violations >= 1
    root = repo.root
    _age(root)
    expected = _check_json(cli, root, "--no-cache")
    graph = _graph_json(cli, root, "--no-cache")
    assert expected[0] == 1 and "internal-dependency" in expected[1]
    for _ in range(3):  # cold, then warm twice
        assert _check_json(cli, root) == expected
        assert _graph_json(cli, root) == graph
    file = root / "packages" / "pkg-00042" / "pyproject.toml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("helpers.", "helpers!"), encoding="utf-8")  # not in any output
    assert _check_json(cli, root) == expected
    file.write_text(text, encoding="utf-8")
    assert _check_json(cli, root) == expected
    assert _graph_json(cli, root) == graph


# ---------------------------------------------------------------------------------------------
# forked parsing and the segments of the parse cache


def _jobs(root: Path) -> tuple[Path, list[tuple[str, str, tuple[int, ...]]]]:
    config = load_config(root)
    jobs = [
        (folder, primary, ws_module._signature(st))
        for folder, (primary, st) in ws_module.scan(config).items()
    ]
    return config.root, jobs


def _needs_fork() -> None:
    if not ws_module._can_fork() or ws_module._cpu_count() < 2:
        pytest.skip("no fork or a single CPU: parsing stays in one process")


def _folders(segments: list[ws_module._Segment]) -> set[str]:
    return {folder for s in segments for folder, _ in s.rows}


def test_forked_parsing_gives_the_same_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, jobs = _jobs(generate(tmp_path / "gen", 60, seed=3).root)
    sequential = [ws_module._parse_one(root, *job) for job in jobs]
    monkeypatch.setattr(ws_module, "_PARALLEL_MIN", 10)
    monkeypatch.setattr(ws_module, "_SEGMENT_ROWS", 7)
    monkeypatch.setattr(ws_module, "_CLAIM_ROWS", 4)
    _needs_fork()
    parsed, segments = ws_module._parse_files(root, jobs)
    assert parsed == sequential
    assert segments, "the children's rows come back as cache segments"
    assert _folders(segments) <= {job[0] for job in jobs}
    parsed, segments = ws_module._parse_files(root, jobs, encode=True)
    assert parsed == sequential
    assert _folders(segments) == {job[0] for job in jobs}, "every row is in a segment"

    def broken(rows: object) -> object:  # every child fails: the parent parses their chunks
        raise RuntimeError("child failure")

    monkeypatch.setattr(ws_module, "_encode_segment", broken)
    parsed, segments = ws_module._parse_files(root, jobs)
    assert parsed == sequential and segments == []


def test_the_processes_share_the_files_by_their_real_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow prefetch (the import of networkx, here a 0.5 s sleep) leaves the files to the
    child, which claims chunk after chunk; without one, this process takes its part."""
    root, jobs = _jobs(generate(tmp_path / "gen", 60, seed=4).root)
    sequential = [ws_module._parse_one(root, *job) for job in jobs]
    monkeypatch.setattr(ws_module, "_CLAIM_ROWS", 3)
    _needs_fork()
    imported: list[str] = []

    def slow_import(name: str) -> None:
        imported.append(name)
        time.sleep(0.5)

    monkeypatch.setattr(ws_module.importlib, "import_module", slow_import)
    parsed, segments = ws_module._parse_forked(root, jobs, 2, ("some.module",))
    assert parsed == sequential  # same packages, same order
    assert imported == ["some.module"]
    # the child parsed (nearly) everything while this process was importing
    assert len(_folders(segments)) > len(jobs) // 2


def test_a_child_that_dies_midway_costs_time_not_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child that claims two chunks, sends one and dies: that chunk is used, the one it
    claimed but never sent is parsed here, the result is the sequential one."""
    root, jobs = _jobs(generate(tmp_path / "gen", 40, seed=8).root)
    sequential = [ws_module._parse_one(root, *job) for job in jobs]
    monkeypatch.setattr(ws_module, "_CLAIM_ROWS", 5)
    _needs_fork()

    def dies_after_one_chunk(
        root_: Path, jobs_: list, bounds: list, region: tuple, claims, fd
    ) -> None:  # type: ignore[type-arg]
        k = region[1] - 1
        claims[k] = claims[k - 1] = 2  # claims two chunks, delivers one
        first, last = bounds[k]
        rows = [
            (jobs_[i][0], *r)
            for i, r in enumerate(ws_module._parse_chunk(root_, jobs_, first, last), first)
        ]
        with os.fdopen(fd, "wb") as out:
            ws_module._send(out, [k], rows)  # type: ignore[arg-type]
        os._exit(3)

    monkeypatch.setattr(ws_module, "_child_main", dies_after_one_chunk)
    parsed, segments = ws_module._parse_forked(root, jobs, 2)
    assert parsed == sequential
    assert _folders(segments) == {job[0] for job in jobs[35:]}  # the one chunk it delivered


def test_a_chunk_both_processes_parsed_keeps_this_process_copy(tmp_path: Path) -> None:
    """Two processes that claim one chunk at the same instant both parse it: the result is
    this process's copy; a message that is not the child's chunks is refused, and what it
    did not deliver is left for this process to parse."""
    root, jobs = _jobs(generate(tmp_path / "gen", 12, seed=6).root)
    _needs_fork()
    bounds = [(0, 4), (4, 8), (8, 12)]

    def rows(k: int) -> list[tuple[object, ...]]:
        first, last = bounds[k]
        return [
            (jobs[i][0], *row)
            for i, row in enumerate(ws_module._parse_chunk(root, jobs, first, last), first)
        ]

    def child_sends(*messages: tuple[list[int], list[tuple[object, ...]]]) -> ws_module._Child:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                with os.fdopen(write_end, "wb") as out:
                    for ids, message_rows in messages:
                        ws_module._send(out, ids, message_rows)  # type: ignore[arg-type]
            finally:
                os._exit(0)
        os.close(write_end)
        return ws_module._Child(pid, read_end, (0, 3))

    mine = ws_module._parse_chunk(root, jobs, 0, 4)
    parsed = {0: mine}
    segments: list[ws_module._Segment] = []
    child = child_sends(([2], rows(2)), ([0], rows(0)))
    ws_module._receive(child, jobs, bounds, parsed, segments, ws_module._Decoder(), until_end=True)
    os.close(child.fd)
    os.waitpid(child.pid, 0)
    assert parsed[0] is mine and sorted(parsed) == [0, 2] and not child.failed
    sequential = [ws_module._parse_one(root, *job) for job in jobs]
    assert parsed[2] == sequential[8:]
    assert _folders(segments) == {job[0] for job in jobs[:4] + jobs[8:]}

    # rows that are not the chunks the message names: refused, and nothing after it is taken
    parsed = {}
    child = child_sends(([1], rows(2)), ([0], rows(0)))
    ws_module._receive(child, jobs, bounds, parsed, [], ws_module._Decoder(), until_end=True)
    os.close(child.fd)
    os.waitpid(child.pid, 0)
    assert child.failed and parsed == {}


def test_a_cold_run_with_forked_workers_writes_a_complete_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = generate(tmp_path / "gen", 60, seed=5).root
    _age(root)
    config = load_config(root)
    monkeypatch.setattr(ws_module, "_PARALLEL_MIN", 10)
    monkeypatch.setattr(ws_module, "_SEGMENT_ROWS", 7)
    expected = load_workspace(config, use_cache=False)
    assert load_workspace(config) == expected  # cold: forked when the machine allows
    loaded = ws_module._load_cache(ws_module._cache_path(config), str(config.root))
    assert len(loaded.entries) == 60
    assert load_workspace(config) == expected  # warm


def test_a_one_file_edit_rewrites_one_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_module, "_SEGMENT_ROWS", 10)
    root = generate(tmp_path / "gen", 45, seed=9).root
    _age(root)
    config = load_config(root)
    cache = ws_module._cache_path(config)
    load_workspace(config)
    before = {s.raw for s in ws_module._load_cache(cache, str(config.root)).segments}
    assert len(before) == 5
    file = root / "packages" / "pkg-00013" / "pyproject.toml"
    file.write_text(
        file.read_text(encoding="utf-8").replace("helpers.", "helpers!"), encoding="utf-8"
    )
    assert load_workspace(config) == load_workspace(config, use_cache=False)
    after = ws_module._load_cache(cache, str(config.root))
    assert len(after.entries) == 45
    assert len({s.raw for s in after.segments} & before) == 4


# ---------------------------------------------------------------------------------------------
# the output cache


def _texts(
    config_root: Path, command: tuple[str, ...] = ("check", "json")
) -> tuple[OutputCache, tuple[int, tuple[str, ...]] | None]:
    memo = OutputCache(load_config(config_root), command)
    return memo, memo.get()


def _fill(root: Path, command: tuple[str, ...] = ("check", "json"), text: str = "report") -> None:
    memo, hit = _texts(root, command)
    assert hit is None
    memo.workspace()
    memo.put(1, [text, "second"])


def test_output_cache_hits_only_for_exactly_the_same_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path)
    _fill(root)
    assert _texts(root)[1] == (1, ("report", "second"))
    assert _texts(root, ("check", "text"))[1] is None  # another command line
    assert _texts(root, ("graph", "json"))[1] is None
    memo = OutputCache(load_config(root, ["packages/a*"]), ("check", "json"))
    assert memo.get() is None  # other globs

    monkeypatch.setattr(ws_module, "_toolchain", lambda: "another version of the tool")
    assert _texts(root)[1] is None
    monkeypatch.undo()
    assert _texts(root)[1] == (1, ("report", "second"))

    file = root / "packages" / "app" / "pyproject.toml"
    file.write_text(file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _texts(root)[1] is None  # an edit
    _fill(root, text="after the edit")
    assert _texts(root)[1] == (1, ("after the edit", "second"))

    (root / "packages" / "new").mkdir()
    assert _texts(root)[1] == (1, ("after the edit", "second"))  # a folder without pyproject
    (root / "packages" / "new" / "pyproject.toml").write_text(pyproject("new"), encoding="utf-8")
    assert _texts(root)[1] is None  # a new package
    _fill(root, text="with new")
    shutil.rmtree(root / "packages" / "new")
    assert _texts(root)[1] is None  # a deleted package


def test_output_cache_rehashes_racy_files(tmp_path: Path) -> None:
    """Same as the parse cache: with the signature forged to match, only the hash sees it."""
    root = write_monorepo(tmp_path / "repo", {"core": pyproject("core", "incubator")})
    _fill(root)
    memo, hit = _texts(root)
    assert hit is not None
    file = root / "packages" / "core" / "pyproject.toml"
    _same_size_edit(file, '"incubator"', '"supported"')
    payload = ws_module._load_framed(memo.path.read_bytes())
    header, written, folders, extras, _signatures, digests, code, texts = payload
    signatures = (ws_module._signature(file.stat()),)
    memo.path.write_bytes(
        ws_module._dump_framed((header, written, folders, extras, signatures, digests, code, texts))
    )
    assert _texts(root)[1] is None  # written just now: racy, re-hashed, changed
    future = written + 10 * 10**9
    memo.path.write_bytes(
        ws_module._dump_framed((header, future, folders, extras, signatures, digests, code, texts))
    )
    assert _texts(root)[1] == (1, ("report", "second"))  # trusted on its (forged) signature


def test_output_cache_disabled_reads_and_writes_nothing(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    memo = OutputCache(load_config(root), ("check", "json"), enabled=False)
    assert memo.get() is None
    memo.workspace()
    memo.put(0, ["x"])
    assert not (root / ".monorepo").exists()


def test_output_cache_survives_garbage_and_an_unwritable_state_folder(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _fill(root)
    memo, hit = _texts(root)
    assert hit is not None
    memo.path.write_bytes(b"garbage")
    assert _texts(root)[1] is None
    _fill(root, text="again")
    assert _texts(root)[1] == (1, ("again", "second"))
    shutil.rmtree(root / ".monorepo")
    (root / ".monorepo").write_text("a file\n", encoding="utf-8")
    _fill(root)  # nothing can be written: no error, and nothing cached
    assert _texts(root)[1] is None


def test_a_cache_hit_imports_neither_networkx_nor_renderers(tmp_path: Path) -> None:
    """And ``check`` on a plain repository never imports the build machinery (metadata hook)."""
    import subprocess
    import sys

    root = _repo(tmp_path)
    probe = (
        "import sys\n"
        "from monorepo_tools.cli import main\n"
        "main(sys.argv[1:])\n"
        "mods = ['networkx', 'monorepo_tools.graph', 'monorepo_tools.render.text',"
        " 'monorepo_tools.render.svg', 'monorepo_tools.publish.build']\n"
        "print('LOADED', [m for m in mods if m in sys.modules])\n"
    )
    for command in (["check"], ["graph"], ["check", "--format", "json"]):
        args = [sys.executable, "-c", probe, *command, "--root", str(root)]
        cold = subprocess.run(args, capture_output=True, text=True, check=False)
        assert "'monorepo_tools.publish.build'" not in cold.stdout, cold.stdout
        warm = subprocess.run(args, capture_output=True, text=True, check=False)
        assert warm.stdout.strip().endswith("LOADED []"), (command, warm.stdout)
