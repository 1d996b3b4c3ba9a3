"""Snapshot build + upload: the naive baseline and ours, side by side, in one run.

Generates N tiny hatchling packages (a DAG of internal dependencies: pkg-01 ← pkg-02 ← ...,
every package from the fourth on also needing pkg-<k//2>), starts a local pypiserver per
measurement (loopback only), and times:

(a) naive baseline: for each package in topological order ``python -m build --sdist --wheel
    <dir>`` (isolated build env, default pip installer, ``PIP_CONFIG_FILE=/dev/null``, no
    ``PIP_*`` variables), sequentially, then one ``python -m twine upload`` per package;
(b) uv baseline: the same packages as a uv workspace, ``uv build --all-packages`` then one
    ``uv publish`` of every file (uv's own cache as found, warm after the first run of it);
(c) ours, cold / warm, **with uv on PATH**: the first run with an empty build-environment cache,
    then the same again with the cache it left;
(d) ours, cold / warm, **without uv on PATH** (every PATH entry holding a ``uv`` dropped): as a
    user runs ``venv/bin/monorepo`` without activating the venv; the tool then finds uv through
    the ``uv`` package (``uv.find_uv_bin()``).

Ratios: ours warm / naive (target <= 0.05) and ours warm / uv (target <= 0.30), uv on PATH or
not.

"Ours" is ``python -m monorepo_tools snapshot`` as a whole process (plan, stage + rewrite,
build, verify, twine check, upload) when that command is available; otherwise (or with
``--mode inprocess``) ``build_all`` + ``verify_distribution`` + ``twine_check`` + one
in-process ``twine upload`` per package, timed in this process. uv's own download cache is
used as found; ``--cold-uv-cache`` adds a run with an empty one (downloads from the index).

Usage::

    python benchmarks/bench_snapshot.py                 # 10 packages, jobs = CPU count
    python benchmarks/bench_snapshot.py --packages 4 --skip-baseline   # quick look
    python benchmarks/bench_snapshot.py --check         # exit 1 if warm/baseline > 0.10

Run from the repository root (or with monorepo-tools installed).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TARGET = 0.05  # ours warm / naive baseline
TARGET_UV = 0.30  # ours warm / uv build --all-packages + uv publish
USER = "bench"
PASSWORD = "bench-password"


# ------------------------------------------------------------------------------------------
# The packages


@dataclass(frozen=True)
class Package:
    name: str
    deps: tuple[str, ...]


def make_graph(count: int) -> list[Package]:
    """pkg-01..pkg-NN in topological order: k needs k-1, and from k=4 on also k//2."""
    packages = []
    for k in range(1, count + 1):
        deps = set()
        if k > 1:
            deps.add(k - 1)
        if k > 3:
            deps.add(k // 2)
        packages.append(Package(f"pkg-{k:02d}", tuple(f"pkg-{d:02d}" for d in sorted(deps))))
    return packages


def _write_package(
    folder: Path, package: Package, version: str, dependencies: Sequence[str], monorepo: bool
) -> None:
    module = package.name.replace("-", "_")
    (folder / "src" / module).mkdir(parents=True)
    imports = "".join(f"import {d.replace('-', '_')}  # noqa: F401\n" for d in package.deps)
    (folder / "src" / module / "__init__.py").write_text(
        f'{imports}NAME = "{package.name}"\n', encoding="utf-8"
    )
    (folder / "README.md").write_text(
        f"# {package.name}\n\nA tiny benchmark package.\n", encoding="utf-8"
    )
    deps = ", ".join(json.dumps(d) for d in dependencies)
    text = (
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{package.name}"\nversion = "{version}"\n'
        f'description = "Benchmark package {package.name}"\nreadme = "README.md"\n'
        f'requires-python = ">=3.8"\ndependencies = [{deps}]\n\n'
        f'[tool.hatch.build.targets.wheel]\npackages = ["src/{module}"]\n'
    )
    if monorepo:
        text += '\n[tool.monorepo]\nstatus = "stable"\n'
    (folder / "pyproject.toml").write_text(text, encoding="utf-8")


def write_monorepo(root: Path, packages: Sequence[Package]) -> Path:
    """A monorepo as developers keep it: base versions, internal dependencies by name."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.monorepo]\npackages = ["packages/*"]\n', encoding="utf-8"
    )
    for package in packages:
        _write_package(
            root / "packages" / package.name, package, "0.1.0", package.deps, monorepo=True
        )
    return root


def write_pinned(folder: Path, packages: Sequence[Package], snapshot_id: int) -> dict[str, Path]:
    """The packages as a snapshot publishes them: 0.1.0.devN, internal deps pinned ==0.1.0.devN."""
    version = f"0.1.0.dev{snapshot_id}"
    out = {}
    for package in packages:
        target = folder / package.name
        _write_package(
            target, package, version, [f"{d}=={version}" for d in package.deps], monorepo=False
        )
        out[package.name] = target
    return out


# ------------------------------------------------------------------------------------------
# The registry


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def pypiserver(folder: Path) -> Iterator[str]:
    """A pypiserver on 127.0.0.1 that accepts any upload (auth disabled); yields its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = shutil.which("pypi-server")
    command = [server] if server else [sys.executable, "-m", "pypiserver"]
    command += [
        "run",
        "-p",
        str(port),
        "-i",
        "127.0.0.1",
        "-a",
        ".",
        "-P",
        ".",
        "--disable-fallback",
        str(folder),
    ]
    log = open(folder.parent / f"{folder.name}.server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/simple/", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pypiserver did not start: see {log.name}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def uploaded_files(folder: Path) -> list[str]:
    return sorted(
        p.name for p in folder.rglob("*") if p.is_file() and p.name.endswith((".whl", ".tar.gz"))
    )


# ------------------------------------------------------------------------------------------
# The runs


# Every Python process the runs start (ours, python -m build, twine) keeps its bytecode here,
# as an installed toolchain has its .pyc files: with PYTHONDONTWRITEBYTECODE inherited (this
# machine sets it) and packages installed without bytecode (uv does not compile), each run
# recompiled ~600 modules, 1.5 s that no installed tool pays. The untimed first runs compile.
PYCACHE = Path(tempfile.gettempdir()) / f"bench-snapshot-pycache-{os.getuid()}"


def _clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "TWINE_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra or {})
    return env


def _run(
    command: Sequence[str], env: Mapping[str, str], what: str, cwd: Path | None = None
) -> None:
    done = subprocess.run(
        list(command), env=dict(env), cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )


@dataclass
class Timing:
    label: str
    seconds: float
    detail: str = ""


def run_baseline(workdir: Path, packages: Sequence[Package], snapshot_id: int) -> Timing:
    sources = write_pinned(workdir / "baseline-src", packages, snapshot_id)
    dist = workdir / "baseline-dist"
    env = _clean_env({"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    with pypiserver(workdir / "baseline-registry") as url:
        started = time.monotonic()
        for package in packages:
            out = dist / package.name
            _run(
                [
                    sys.executable,
                    "-m",
                    "build",
                    "--sdist",
                    "--wheel",
                    "--outdir",
                    str(out),
                    str(sources[package.name]),
                ],
                env,
                f"python -m build {package.name}",
            )
        built = time.monotonic()
        for package in packages:
            files = sorted(str(p) for p in (dist / package.name).iterdir())
            _run(
                [
                    sys.executable,
                    "-m",
                    "twine",
                    "upload",
                    "--non-interactive",
                    "--disable-progress-bar",
                    "--repository-url",
                    f"{url}/",
                    "-u",
                    USER,
                    "-p",
                    PASSWORD,
                    *files,
                ],
                env,
                f"twine upload {package.name}",
            )
        ended = time.monotonic()
    _expect_all_uploaded(workdir / "baseline-registry", packages, "baseline")
    return Timing(
        "baseline: python -m build (pip) + twine upload, sequential",
        ended - started,
        f"build {built - started:.1f} s, upload {ended - built:.1f} s",
    )


def _expect_all_uploaded(registry: Path, packages: Sequence[Package], what: str) -> None:
    """Every package's sdist and wheel is in *registry* (else the timing measured a failure)."""
    count = len(uploaded_files(registry))
    if count != 2 * len(packages):
        raise RuntimeError(f"{what}: {count} files in the registry, expected {2 * len(packages)}")


def uv_binary() -> str:
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if not found:
            raise RuntimeError("uv is needed for the uv baseline: pip install uv") from None
        return found


def path_without_uv() -> str:
    """PATH minus every folder holding a ``uv`` program."""
    kept = [
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not Path(d, "uv").exists()
    ]
    return os.pathsep.join(kept)


def run_uv_baseline(workdir: Path, packages: Sequence[Package], snapshot_id: int) -> Timing:
    """``uv build --all-packages`` + ``uv publish`` of the same packages as a uv workspace."""
    root = workdir / "uv-workspace"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n', encoding="utf-8"
    )
    write_pinned(root / "packages", packages, snapshot_id)
    uv = uv_binary()
    dist = root / "dist"
    env = _clean_env({"UV_NO_CONFIG": "1", "PIP_CONFIG_FILE": os.devnull})
    with pypiserver(workdir / "uv-registry") as url:
        started = time.monotonic()
        _run([uv, "build", "--all-packages", "--out-dir", str(dist)], env, "uv build", cwd=root)
        built = time.monotonic()
        files = sorted(str(p) for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))
        _run(
            [uv, "publish", "--publish-url", f"{url}/", "--username", USER, "--password",
             PASSWORD, *files],
            env, "uv publish", cwd=root,
        )  # fmt: skip
        ended = time.monotonic()
    _expect_all_uploaded(workdir / "uv-registry", packages, "uv baseline")
    return Timing(
        "uv baseline: uv build --all-packages + uv publish",
        ended - started,
        f"build {built - started:.2f} s, publish {ended - built:.2f} s",
    )


def snapshot_command_available() -> bool:
    """``monorepo snapshot`` exists with the options this benchmark passes, and imports."""
    done = subprocess.run(
        [sys.executable, "-m", "monorepo_tools", "snapshot", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or "--repository-url" not in done.stdout:
        return False
    probe = "import monorepo_tools.commands.snapshot, monorepo_tools.publish.run"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    return done.returncode == 0


def run_ours_process(
    workdir: Path, root: Path, label: str, snapshot_id: int, jobs: int, extra_env: Mapping[str, str]
) -> Timing:
    registry = workdir / f"registry-{snapshot_id}"
    env = _clean_env(
        {
            **extra_env,
            "MONOREPO_REPOSITORY_USERNAME": USER,
            "MONOREPO_REPOSITORY_PASSWORD": PASSWORD,
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            ),
        }
    )
    env.pop("CI", None)
    with pypiserver(registry) as url:
        command = [
            sys.executable,
            "-m",
            "monorepo_tools",
            "snapshot",
            "--root",
            str(root),
            "--repository-url",
            f"{url}/",
            "--index-url",
            f"{url}/simple/",
            "--snapshot-id",
            str(snapshot_id),
            "--jobs",
            str(jobs),
        ]
        started = time.monotonic()
        _run(command, env, "monorepo snapshot", cwd=workdir)
        seconds = time.monotonic() - started
    count = len(uploaded_files(registry))
    return Timing(label, seconds, f"python -m monorepo_tools snapshot, {count} files uploaded")


def run_ours_inprocess(
    workdir: Path,
    packages: Sequence[Package],
    label: str,
    snapshot_id: int,
    jobs: int,
    cache_dir: Path,
    extra_env: Mapping[str, str],
) -> Timing:
    from twine.commands.upload import upload
    from twine.settings import Settings

    from monorepo_tools.publish.build import BuildRequest, build_all
    from monorepo_tools.publish.check_dists import twine_check, verify_distribution

    sources = write_pinned(workdir / f"staged-{snapshot_id}", packages, snapshot_id)
    version = f"0.1.0.dev{snapshot_id}"
    registry = workdir / f"registry-{snapshot_id}"
    env = _clean_env({**extra_env, "PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1"})
    with pypiserver(registry) as url:
        started = time.monotonic()
        requests = [
            BuildRequest(p.name, sources[p.name], ("hatchling",), "hatchling.build")
            for p in packages
        ]
        results = build_all(
            requests, workdir / f"dist-{snapshot_id}", jobs=jobs, env=env, cache_dir=cache_dir
        )
        built = time.monotonic()
        settings = Settings(
            repository_url=f"{url}/",
            username=USER,
            password=PASSWORD,
            non_interactive=True,
            disable_progress_bar=True,
        )
        for package in packages:
            result = results[package.name]
            if not result.ok or result.sdist is None or result.wheel is None:
                raise RuntimeError(f"build failed: {result.error}")
            files = [result.sdist, result.wheel]
            problems = [
                p
                for f in files
                for p in verify_distribution(
                    f, package.name, version, {d: version for d in package.deps}
                )
            ]
            problems += twine_check(files)
            if problems:
                raise RuntimeError("; ".join(problems))
            with contextlib.redirect_stdout(io.StringIO()):
                upload(settings, [str(f) for f in files])
        ended = time.monotonic()
    count = len(uploaded_files(registry))
    return Timing(
        label,
        ended - started,
        f"build_all {built - started:.2f} s, verify + check + upload {ended - built:.2f} s,"
        f" {count} files",
    )


# ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mode", choices=("auto", "process", "inprocess"), default="auto")
    parser.add_argument("--skip-baseline", action="store_true", help="only time ours")
    parser.add_argument(
        "--cold-uv-cache", action="store_true", help="also a run with an empty uv cache"
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep everything here (default: a temp folder, removed)"
    )
    parser.add_argument("--json", type=Path, help="write the timings as JSON")
    parser.add_argument("--skip-uv-baseline", action="store_true", help="no uv baseline")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 if warm/naive > {TARGET} or warm/uv > {TARGET_UV} (either PATH variant)",
    )
    args = parser.parse_args(argv)
    if not args.skip_baseline and importlib.util.find_spec("build") is None:
        # pypa/build is the baseline only (the tool builds with pyproject_hooks): it lives in the
        # `bench` dependency group, not in the tool's dependencies.
        parser.error(
            "the baseline runs `python -m build`, which is not installed here: install the bench "
            "group (`pip install build`, or `nox -s bench -- benchmarks/bench_snapshot.py`), "
            "or pass --skip-baseline"
        )

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-snapshot-"))
    workdir.mkdir(parents=True, exist_ok=True)
    packages = make_graph(args.packages)
    mode = args.mode
    if mode == "auto":
        mode = "process" if snapshot_command_available() else "inprocess"
    ours = {
        "process": "python -m monorepo_tools snapshot (whole process)",
        "inprocess": "build_all + in-process twine",
    }
    print(
        f"{len(packages)} packages, jobs={args.jobs}, ours = {ours[mode]}, workdir {workdir}",
        flush=True,
    )

    timings: list[Timing] = []
    try:
        baseline = None
        if not args.skip_baseline:
            print("baseline ...", flush=True)
            baseline = run_baseline(workdir, packages, 1)
            print(f"  {baseline.seconds:.1f} s ({baseline.detail})", flush=True)
            timings.append(baseline)
        uv_base = None
        if not args.skip_uv_baseline:
            print("uv baseline ...", flush=True)
            warmup = workdir / "uv-warmup"
            warmup.mkdir()
            run_uv_baseline(warmup, packages, 1)  # fills uv's cache: its warm run is compared
            uv_base = run_uv_baseline(workdir, packages, 1)
            print(f"  {uv_base.seconds:.2f} s ({uv_base.detail})", flush=True)
            timings.append(uv_base)

        no_uv = {"PATH": path_without_uv()}
        runs: list[tuple[str, dict[str, str]]] = [
            ("ours, cold, uv on PATH (empty build-env cache)", {}),
            ("ours, warm, uv on PATH (build envs cached)", {}),
            ("ours, cold, no uv on PATH (empty build-env cache)", {**no_uv, "_root": "nopath"}),
            ("ours, warm, no uv on PATH (build envs cached)", {**no_uv, "_root": "nopath"}),
        ]
        if args.cold_uv_cache:
            runs.insert(
                0,
                (
                    "ours, cold (empty build-env and uv caches)",
                    {"UV_CACHE_DIR": str(workdir / "uv-cache")},
                ),
            )
        root = write_monorepo(workdir / "monorepo", packages) if mode == "process" else None
        roots = {"": root}
        for index, (label, options) in enumerate(runs, start=2):
            extra = {k: v for k, v in options.items() if not k.startswith("_")}
            print(f"{label} ...", flush=True)
            timing = None
            if mode == "process" and root is not None:
                name = options.get("_root", "")
                if name not in roots:  # its own root: its cold run starts with no cache
                    roots[name] = write_monorepo(workdir / f"monorepo-{name}", packages)
                run_root = roots[name] or root
                if "UV_CACHE_DIR" in extra:  # its own root: each cold run starts with no cache
                    run_root = write_monorepo(workdir / "monorepo-uvcold", packages)
                try:
                    timing = run_ours_process(workdir, run_root, label, index, args.jobs, extra)
                except RuntimeError as exc:
                    if args.mode == "process":
                        raise
                    print(f"  the snapshot command failed, timing build_all instead:\n{exc}")
                    mode = "inprocess"
            if timing is None:
                uv_cold = "UV_CACHE_DIR" in extra
                cache = workdir / ("build-envs-uvcold" if uv_cold else "build-envs")
                cache = cache.with_name(cache.name + options.get("_root", ""))
                timing = run_ours_inprocess(
                    workdir, packages, label, index, args.jobs, cache, extra
                )
            print(f"  {timing.seconds:.2f} s ({timing.detail})", flush=True)
            timings.append(timing)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    width = max(len(t.label) for t in timings)
    print()
    print(f"| {'run'.ljust(width)} | seconds | / naive | / uv |")
    print(f"| {'-' * width} | ------: | ------: | ---: |")
    for timing in timings:
        naive = f"{timing.seconds / baseline.seconds:.3f}" if baseline else "-"
        versus_uv = f"{timing.seconds / uv_base.seconds:.2f}" if uv_base else "-"
        print(f"| {timing.label.ljust(width)} | {timing.seconds:7.2f} | {naive:>7} | {versus_uv:>4} |")
    failed = False
    for warm in (t for t in timings if t.label.startswith("ours, warm")):
        if baseline:
            ratio = warm.seconds / baseline.seconds
            ok = ratio <= TARGET
            failed |= not ok
            print(f"{warm.label}: / naive = {ratio:.3f} (target <= {TARGET}): "
                  f"{'met' if ok else 'NOT met'}")  # fmt: skip
        if uv_base:
            ratio = warm.seconds / uv_base.seconds
            ok = ratio <= TARGET_UV
            failed |= not ok
            print(f"{warm.label}: / uv = {ratio:.2f} (target <= {TARGET_UV}): "
                  f"{'met' if ok else 'NOT met'}")  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps([t.__dict__ for t in timings], indent=2) + "\n", encoding="utf-8"
        )
    if args.check and failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
