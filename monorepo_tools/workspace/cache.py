"""The parse cache, the output cache, and reading many package folders through them.

* Parsed packages are cached on disk (``.monorepo/cache/workspace.marshal``), keyed by folder
  and by the signature (size, mtime, inode, ctime) of *every* file the package was read from:
  its primary file and whatever else its reader needed (``setup.cfg``, ``hatch.toml``, the
  version file). An entry whose files were modified too close to the moment the cache was
  written to be trusted (the "racy" case git knows) is checked against a content hash.
* :class:`OutputCache` keeps the whole output of a command line for exactly the same files.
* Many files are parsed by forked workers, which share the files with this process chunk by
  chunk (by how fast each really is) and stream their rows back as cache segments; the cyclic
  GC is paused while large acyclic structures are built. A caller that imports heavy modules
  right after reading (``check``: networkx, the rules, the renderers) names them as
  *prefetch*: a cold read then forks its parsers first and imports them meanwhile.

Caches are an optimisation only: a missing, stale, corrupt or unwritable cache gives the same
result, more slowly (``benchmarks/README.md`` has the numbers, ``tests/test_cache.py`` the
proofs). A cache hit imports neither networkx nor any renderer.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import marshal
import mmap
import operator
import os
import signal
import struct
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, BinaryIO

import packaging

from .._io import ensure_state_dir as _ensure_state_dir
from .._io import write_bytes_atomic
from .._version import __version__
from ..config import Config
from ..requirements import ParsedRequirement
from .discover import Found, scan
from .model import Dependency, EdgeKind, Package, Problem, UvSource, Workspace
from .readers import read_package
from .resolve import build_workspace, gc_paused

__all__ = ["OutputCache", "ensure_state_dir", "gc_paused", "load_workspace", "read_packages"]

# ---------------------------------------------------------------------------------------------
# The parse cache
#
# One file, ``.monorepo/cache/workspace.marshal``: a magic line, a 16-byte BLAKE2b of the rest,
# then a marshal payload (marshal cannot run code, unlike pickle, and loads plain tuples about
# 10x faster than pickle rebuilds frozen dataclasses)::
#
#   (format, toolchain, root, written_ns, [segment, ...])
#
# ``toolchain`` names everything a parse depends on besides the file: this tool's version and
# source files, Python, packaging. A segment is the marshal bytes of up to _SEGMENT_ROWS rows::
#
#   (requirements, dependencies, [(folder, signature, digest, package), ...])
#
# with tables of the distinct requirements and dependencies of its rows (a package refers to its
# dependencies by index). A segment whose rows are all still valid is written back byte for byte,
# so a run that re-reads one file re-encodes one segment, and the segments forked workers send
# back on a cold run go to the file as they are.
#
# A row is reused when the file's signature (size, mtime_ns, inode, ctime_ns) is unchanged and
# the file was last modified more than _RACY_NS before ``written_ns``; otherwise its content
# hash decides. ``written_ns`` is the moment the writing run *started* (before its first stat),
# so a file modified while that run was reading is re-hashed by the next one. ctime cannot be
# set by utime(), so an edit whose mtime was put back still changes the signature.

_CACHE_FORMAT = 3
_CACHE_MAGIC = b"monorepo-tools cache\n"
_DIGEST_SIZE = 16
_RACY_NS = 2_000_000_000  # a file modified this close to the cache write is re-hashed
_SEGMENT_ROWS = 500
_PARALLEL_MIN = 300  # files to parse per worker before forking one pays off
_MAX_WORKERS = 8
# With modules to import meanwhile (prefetch), one child pays off from this many files: its
# rows cost this process about a fifth of parsing them to decode (bench_check.py measures it).
_PREFETCH_MIN = 100
_CLAIM_ROWS = 50  # files the parsing processes claim at a time (see _parse_forked)

Signature = tuple[int, ...]  # size, mtime_ns, inode, ctime_ns of each file read (4 per file)
CacheEntry = tuple[Signature, bytes, Package]  # signature, blake2b digest, package
_Row = tuple[str, Signature, bytes | None, Package]  # folder, signature, digest (None: unreadable)

_REQUIREMENT_FIELDS = tuple(f.name for f in fields(ParsedRequirement))
_PACKAGE_FIELDS = tuple(f.name for f in fields(Package))
_PROBLEM_FIELDS = tuple(f.name for f in fields(Problem))
_UV_FIELDS = tuple(f.name for f in fields(UvSource))
_DEPENDENCY_FIELDS = tuple(f.name for f in fields(Dependency))
_requirement_values = operator.attrgetter(*_REQUIREMENT_FIELDS)
_package_values = operator.attrgetter(*_PACKAGE_FIELDS)
_problem_values = operator.attrgetter(*_PROBLEM_FIELDS)
_uv_values = operator.attrgetter(*_UV_FIELDS)
_P_DEPENDENCIES = _PACKAGE_FIELDS.index("dependencies")
_P_UV_SOURCES = _PACKAGE_FIELDS.index("uv_sources")
_P_PROBLEMS = _PACKAGE_FIELDS.index("problems")
_KINDS = {kind.value: kind for kind in EdgeKind}


def _signature(st: os.stat_result) -> Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_DIGEST_SIZE).digest()


_MISSING: Signature = (-1, 0, 0, 0)


def _extras(package: Package, primary: str) -> list[str]:
    """The files besides *primary* that *package* was read from."""
    return [f for f in package.files if f != primary] if len(package.files) > 1 else []


def _extra_signature(root: Path, folder: str, names: Sequence[str]) -> Signature:
    out: list[int] = []
    for name in names:
        try:
            out += _signature(os.stat(os.path.join(root, folder, name)))
        except (OSError, ValueError):
            out += _MISSING
    return tuple(out)


def _full_digest(root: Path, folder: str, data: bytes, names: Sequence[str]) -> bytes | None:
    """The digest of the primary file's *data* and of the files *names* (None: unreadable)."""
    if not names:
        return _digest(data)
    hasher = hashlib.blake2b(data, digest_size=_DIGEST_SIZE)
    for name in names:
        hasher.update(b"\0" + name.encode("utf-8", "surrogateescape") + b"\0")
        extra = _read_bytes(os.path.join(root, folder, name))
        hasher.update(b"-" if extra is None else extra)
    return hasher.digest()


@functools.cache
def _toolchain() -> str:
    """Everything a cached value depends on besides the files read: a code change is a miss."""
    fields_of = (
        _REQUIREMENT_FIELDS,
        _PACKAGE_FIELDS,
        _PROBLEM_FIELDS,
        _UV_FIELDS,
        _DEPENDENCY_FIELDS,
    )
    parts = [
        f"format {_CACHE_FORMAT}",
        f"monorepo-tools {__version__}",
        f"python {sys.version_info[0]}.{sys.version_info[1]}",
        f"packaging {packaging.__version__}",
        repr(fields_of),
    ]
    here = os.path.dirname(os.path.abspath(__file__))
    for folder, subfolders, files in os.walk(here):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    st = os.stat(path)
                    parts.append(f"{os.path.relpath(path, here)} {st.st_size} {st.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=_DIGEST_SIZE).hexdigest()


def _cache_path(config: Config) -> Path:
    return config.state_dir / "cache" / "workspace.marshal"


@dataclass
class _Segment:
    """The marshal bytes of some rows, and which (folder, package) values they hold."""

    raw: bytes
    rows: list[tuple[str, Package]]


def _encode_segment(rows: Sequence[_Row]) -> _Segment:
    """Rows to plain tuples: tables of distinct requirements and dependencies (by identity)."""
    requirement_index: dict[int, int] = {}
    requirements: list[object] = []
    dependency_index: dict[int, int] = {}
    dependencies: list[object] = []
    out: list[object] = []
    for folder, signature, digest, package in rows:
        indexes = []
        for dep in package.dependencies:
            index = dependency_index.get(id(dep))
            if index is None:
                req = dep.requirement
                req_index = requirement_index.get(id(req))
                if req_index is None:
                    req_index = requirement_index[id(req)] = len(requirements)
                    requirements.append(_requirement_values(req))
                index = dependency_index[id(dep)] = len(dependencies)
                dependencies.append((req_index, dep.kind.value, dep.group, dep.field))
            indexes.append(index)
        values = list(_package_values(package))
        values[_P_DEPENDENCIES] = tuple(indexes)
        values[_P_UV_SOURCES] = tuple(_uv_values(u) for u in package.uv_sources)
        values[_P_PROBLEMS] = tuple(_problem_values(p) for p in package.problems)
        out.append((folder, signature, digest, tuple(values)))
    # Version 2: no back-references; dumps twice as fast as 4 and loads as fast.
    raw = marshal.dumps((requirements, dependencies, out), 2)
    return _Segment(raw, [(row[0], row[3]) for row in rows])


def _encode_segments(rows: Sequence[_Row]) -> list[_Segment]:
    return [
        _encode_segment(rows[i : i + _SEGMENT_ROWS]) for i in range(0, len(rows), _SEGMENT_ROWS)
    ]


class _Decoder:
    """Segments back to values."""

    def segment(self, raw: bytes) -> tuple[list[_Row], _Segment]:
        """Rows of one segment (raises on anything malformed)."""
        requirements, dependencies, rows = marshal.loads(raw)
        reqs = [ParsedRequirement(*values) for values in requirements]
        kinds = _KINDS
        deps = [Dependency(reqs[r], kinds[k], g, f) for r, k, g, f in dependencies]
        get_dep = deps.__getitem__
        out: list[_Row] = []
        for folder, signature, digest, row in rows:
            if not isinstance(folder, str) or not signature or len(signature) % 4:
                raise ValueError("malformed segment")
            values = list(row)
            values[_P_DEPENDENCIES] = tuple(map(get_dep, row[_P_DEPENDENCIES]))
            if row[_P_UV_SOURCES]:
                values[_P_UV_SOURCES] = tuple(UvSource(*u) for u in row[_P_UV_SOURCES])
            if row[_P_PROBLEMS]:
                values[_P_PROBLEMS] = tuple(Problem(*p) for p in row[_P_PROBLEMS])
            out.append((folder, signature, digest, Package(*values)))
        return out, _Segment(raw, [(row[0], row[3]) for row in out])


def _dump_framed(payload: Any) -> bytes:
    body = marshal.dumps(payload, 2)
    return _CACHE_MAGIC + _digest(body) + body


def _load_framed(data: bytes) -> Any:
    """The payload of a framed file; ValueError when it is not one (or was damaged)."""
    head = len(_CACHE_MAGIC)
    body = data[head + _DIGEST_SIZE :]
    if not data.startswith(_CACHE_MAGIC) or data[head : head + _DIGEST_SIZE] != _digest(body):
        raise ValueError("not a monorepo-tools cache file, or a damaged one")
    return marshal.loads(body)


@dataclass
class _LoadedCache:
    written: int = 0
    entries: dict[str, CacheEntry] = field(default_factory=dict)
    segments: list[_Segment] = field(default_factory=list)


def _load_cache(path: Path, root: str) -> _LoadedCache:
    """The parse cache of the monorepo at *root*; empty when missing, stale, damaged, unreadable
    or written for another root (parsed values hold absolute paths: a moved checkout re-reads)."""
    try:
        with path.open("rb") as handle:
            fmt, toolchain, cached_root, written, raws = _load_framed(handle.read())
        if (fmt, toolchain, cached_root) != (_CACHE_FORMAT, _toolchain(), root) or not isinstance(
            written, int
        ):
            return _LoadedCache()
        decoder = _Decoder()
        loaded = _LoadedCache(written)
        for raw in raws:
            rows, segment = decoder.segment(raw)
            loaded.segments.append(segment)
            for folder, signature, digest, package in rows:
                if digest is not None:
                    loaded.entries[folder] = (signature, digest, package)
        return loaded
    except Exception:  # any unreadable cache is simply a cold start
        return _LoadedCache()


def _write_state_file(config: Config, path: Path, content: bytes) -> None:
    """Atomically replace *path* under the state folder; any failure leaves no trace."""
    with contextlib.suppress(OSError):
        ensure_state_dir(config)
        write_bytes_atomic(path, content)


def _save_cache(
    config: Config,
    path: Path,
    entries: Mapping[str, CacheEntry],
    written: int,
    segments: Iterable[_Segment] = (),
) -> None:
    """Write *entries*, reusing each of *segments* whose rows are exactly entries still."""
    raws: list[bytes] = []
    covered: set[str] = set()
    for segment in segments:
        if all(
            folder not in covered
            and (entry := entries.get(folder)) is not None
            and entry[2] is package
            for folder, package in segment.rows
        ):
            raws.append(segment.raw)
            covered.update(folder for folder, _ in segment.rows)
    rest = [(folder, *entry) for folder, entry in entries.items() if folder not in covered]
    try:
        raws += [segment.raw for segment in _encode_segments(rest)]
        content = _dump_framed((_CACHE_FORMAT, _toolchain(), str(config.root), written, raws))
    except ValueError:  # a value marshal cannot store: run without a cache
        return
    _write_state_file(config, path, content)


def ensure_state_dir(config: Config) -> Path:
    """Create the ignored state folder (it ignores itself) and return it."""
    return _ensure_state_dir(config.state_dir)


# ---------------------------------------------------------------------------------------------
# Reading many files


@dataclass
class _ReadResult:
    packages: list[Package]
    entries: dict[str, CacheEntry]  # every file read successfully this run, by folder
    complete: bool  # every folder's file could be read


def read_packages(config: Config, folders: Iterable[str], use_cache: bool = True) -> list[Package]:
    """Read every folder's pyproject, reusing cached parses whose file has not changed."""
    from .discover import _primary

    started = time.time_ns()
    stats: dict[str, Found] = {}
    for folder in folders:
        stats[folder] = _primary(os.path.join(config.root, folder)) or (
            "pyproject.toml",
            FileNotFoundError(2, "No such file or directory"),
        )
    return _read(config, stats, use_cache, started).packages


def _read(
    config: Config,
    stats: Mapping[str, Found],
    use_cache: bool,
    started: int,
    prefetch: Sequence[str] = (),
) -> _ReadResult:
    with gc_paused():
        return _read_unpaused(config, stats, use_cache, started, prefetch)


def _read_unpaused(
    config: Config,
    stats: Mapping[str, Found],
    use_cache: bool,
    started: int,
    prefetch: Sequence[str],
) -> _ReadResult:
    root = config.root
    cache_file = _cache_path(config)
    loaded = _load_cache(cache_file, str(root)) if use_cache else _LoadedCache()
    old = loaded.entries
    trusted_before = loaded.written - _RACY_NS
    settled_before = started - _RACY_NS  # what this run verifies, the next one can trust
    entries: dict[str, CacheEntry] = {}
    slots: list[Package | None] = []
    misses: list[tuple[int, str, str, Signature]] = []
    complete = True
    changed = False
    for folder, (primary, st) in stats.items():
        if isinstance(st, OSError):
            complete = False
            slots.append(_unreadable(folder, primary, st.strerror or str(st)))
            continue
        signature = _signature(st)
        entry = old.get(folder)
        if entry is not None and entry[0][:4] == signature:
            extras = _extras(entry[2], primary) if len(entry[0]) > 4 else []
            if extras:
                signature = signature + _extra_signature(root, folder, extras)
        if entry is not None and entry[0] == signature:
            if max(signature[1::4]) < trusted_before:
                entries[folder] = entry
                slots.append(entry[2])
                continue
            data = _read_bytes(os.path.join(root, folder, primary))
            if data is not None and _full_digest(root, folder, data, extras) == entry[1]:
                entries[folder] = entry
                slots.append(entry[2])
                # Verified now; once old enough, rewrite the cache so later runs skip the hash.
                changed = changed or max(signature[1::4]) < settled_before
                continue
        misses.append((len(slots), folder, primary, signature[:4]))
        slots.append(None)
    segments = loaded.segments
    if misses:
        changed = True
        parsed, new_segments = _parse_files(
            root,
            [(folder, primary, sig) for _, folder, primary, sig in misses],
            prefetch,
            encode=use_cache,
        )
        segments = [*segments, *new_segments]
        for (slot, folder, _, _), (signature, digest, package) in zip(misses, parsed, strict=True):
            slots[slot] = package
            if digest is None:
                complete = False
            else:
                entries[folder] = (signature, digest, package)
    if use_cache and (changed or len(entries) != len(old)):
        _save_cache(config, cache_file, entries, started, segments)
    packages = [p for p in slots if p is not None]
    if any(p.needs_metadata for p in packages):  # setup.py-only, dynamic requirements
        from .readers.metadata_hook import complete as complete_metadata

        packages = complete_metadata(config, packages)
    return _ReadResult(packages, entries, complete)


def _unreadable(folder: str, primary: str, reason: str) -> Package:
    from ..requirements import canonicalize_name

    name = canonicalize_name(os.path.basename(folder) if folder != "." else "root")
    if "not a file" in reason or "not a regular file" in reason:
        fix = f"replace {primary} with a regular file (or remove the folder from the globs)"
        message = reason
    else:
        fix = "check the file's permissions"
        message = f"cannot be read ({reason})"
    return Package(
        name,
        folder,
        problems=(Problem("(file)", message, fix),),
        files=(primary,),
    )


def _read_bytes(file: str) -> bytes | None:
    try:
        with open(file, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _parse_one(
    root: Path, folder: str, primary: str, signature: Signature
) -> tuple[Signature, bytes | None, Package]:
    """(full signature, digest, package) of one folder; digest None when unreadable."""
    data = _read_bytes(os.path.join(root, folder, primary))
    if data is None:
        return signature, None, _unreadable(folder, primary, "it vanished or is not readable")
    package = read_package(root, folder, data, primary)
    extras = _extras(package, primary)
    if extras:
        signature = signature[:4] + _extra_signature(root, folder, extras)
    return signature, _full_digest(root, folder, data, extras), package


_Job = tuple[str, str, Signature]  # folder, primary file, the primary file's signature
_Parsed = tuple[Signature, bytes | None, Package]  # full signature, digest, package


def _parse_files(
    root: Path, jobs: list[_Job], prefetch: Sequence[str] = (), encode: bool = False
) -> tuple[list[_Parsed], list[_Segment]]:
    """Read and parse the files of *jobs*: (signature, digest, package) for each, and the cache
    segments forked workers already encoded (when there were enough files to fork).

    *prefetch*: modules the caller imports next. When the read forks, they are imported while
    the children parse; otherwise the caller imports them as usual (nothing happens here).
    *encode*: the rows this process parses come back as segments too (for the cache save).
    """
    cpus = _cpu_count()
    workers = min(cpus, _MAX_WORKERS, len(jobs) // _PARALLEL_MIN)
    if prefetch and cpus >= 2 and len(jobs) >= _PREFETCH_MIN:
        workers = max(workers, 2)
    if workers >= 2 and _can_fork():
        return _parse_forked(root, jobs, workers, prefetch, encode)
    return [_parse_one(root, folder, primary, sig) for folder, primary, sig in jobs], []


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _can_fork() -> bool:
    # Forking is safe only without other threads (a lock held by one would stay held in the
    # child) and where fork without exec is supported (not macOS: system frameworks abort).
    return (
        hasattr(os, "fork")
        and sys.platform.startswith(("linux", "freebsd"))
        and threading.active_count() == 1
    )


def _regions(chunks: int, children: int) -> list[tuple[int, int]]:
    """Contiguous ranges of chunk indexes, one per child (a child parses its range from the
    end backwards; this process takes chunks from the front of each range in turn)."""
    size = -(-chunks // children)
    return [(i, min(i + size, chunks)) for i in range(0, chunks, size)]


def _parse_chunk(root: Path, jobs: list[_Job], start: int, end: int) -> list[_Parsed]:
    return [_parse_one(root, folder, primary, sig) for folder, primary, sig in jobs[start:end]]


_FRAME = struct.Struct("<Q")  # the length of one message from a child
_PIPE_SIZE = 1 << 20  # a child's pipe holds about two segments (Linux: F_SETPIPE_SZ)


@dataclass
class _Child:
    """A forked parser as this process sees it: its pipe, its range, what arrived so far."""

    pid: int
    fd: int
    region: tuple[int, int]
    buffer: bytearray = field(default_factory=bytearray)
    failed: bool = False  # a message did not check out: ignore the rest, parse it here
    done: bool = False  # end of the pipe reached


def _child_main(
    root: Path,
    jobs: list[_Job],
    bounds: list[tuple[int, int]],
    region: tuple[int, int],
    claims: mmap.mmap,
    write_end: int,
) -> None:
    """A child's work: claim chunks from the end of *region* backwards, parse them, and send
    them as cache segments of about _SEGMENT_ROWS rows each (with their chunk numbers), as
    they are ready, so that this process decodes them while it parses its own share."""
    with os.fdopen(write_end, "wb") as out:
        ids: list[int] = []
        rows: list[_Row] = []
        for k in range(region[1] - 1, region[0] - 1, -1):
            if claims[k]:
                break
            claims[k] = 2
            first, last = bounds[k]
            rows += [
                (jobs[i][0], *row)
                for i, row in enumerate(_parse_chunk(root, jobs, first, last), first)
            ]
            ids.append(k)
            if len(rows) >= _SEGMENT_ROWS:
                _send(out, ids, rows)
                ids, rows = [], []
        if rows:
            _send(out, ids, rows)


def _send(out: BinaryIO, ids: list[int], rows: list[_Row]) -> None:
    body = marshal.dumps((ids, _encode_segment(rows).raw), 2)
    out.write(_FRAME.pack(len(body)) + body)
    out.flush()


def _parse_forked(
    root: Path,
    jobs: list[_Job],
    workers: int,
    prefetch: Sequence[str] = (),
    encode: bool = False,
) -> tuple[list[_Parsed], list[_Segment]]:
    """Parse *jobs* in this process and ``workers - 1`` forked children that share the work.

    The jobs are cut in chunks of ``_CLAIM_ROWS``; each child owns a contiguous range of
    chunks and parses it from its end backwards, claiming each chunk in a shared byte map
    before parsing it. This process imports the *prefetch* modules first, then claims chunks
    from the front of each range until it meets one a child has claimed, and between two
    chunks decodes what the children have sent so far. So the files split themselves by how
    fast each process really is, whatever the import costs and however busy the machine is.
    Two processes that claim the same chunk at the same instant both parse it (harmless:
    this process's copy is used).

    A child that fails for any reason (killed, out of memory, a bug) costs time, never
    correctness: whatever it did not deliver is parsed here. A prefetch that fails to import
    is left to the caller's own import, which reports it. *encode*: this process's rows become
    cache segments too (the cache save then reuses them).
    """
    import fcntl  # POSIX only, like fork (see _can_fork)

    bounds = [(i, min(i + _CLAIM_ROWS, len(jobs))) for i in range(0, len(jobs), _CLAIM_ROWS)]
    claims = mmap.mmap(-1, len(bounds))  # shared with the children: 0 free, 1 here, 2 a child
    children: list[_Child] = []
    parsed: dict[int, list[_Parsed]] = {}
    segments: list[_Segment] = []
    decoder = _Decoder()
    try:
        for region in _regions(len(bounds), workers - 1):
            read_end, write_end = os.pipe()
            with contextlib.suppress(AttributeError, OSError):  # Linux: room for two segments
                fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
            pid = os.fork()
            if pid == 0:  # the child: never returns
                status = 1
                try:
                    os.close(read_end)
                    _child_main(root, jobs, bounds, region, claims, write_end)
                    status = 0
                finally:
                    os._exit(status)
            os.close(write_end)
            os.set_blocking(read_end, False)
            children.append(_Child(pid, read_end, region))
        for module in prefetch:
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
        own: list[_Row] = []
        for child in children:
            for k in range(*child.region):
                if claims[k]:
                    break
                claims[k] = 1
                first, last = bounds[k]
                parsed[k] = _parse_chunk(root, jobs, first, last)
                if encode:
                    own += [(jobs[i][0], *row) for i, row in enumerate(parsed[k], first)]
                    if len(own) >= _SEGMENT_ROWS:
                        segments.append(_encode_segment(own))
                        own = []
                for other in children:
                    _receive(other, jobs, bounds, parsed, segments, decoder)
        if own:
            segments.append(_encode_segment(own))
        while children:
            child = children.pop(0)
            os.set_blocking(child.fd, True)
            try:
                _receive(child, jobs, bounds, parsed, segments, decoder, until_end=True)
            finally:
                os.close(child.fd)
                os.waitpid(child.pid, 0)
            for k in range(*child.region):  # whatever the child did not deliver
                if k not in parsed:
                    parsed[k] = _parse_chunk(root, jobs, *bounds[k])
        return [row for k in range(len(bounds)) for row in parsed[k]], segments
    finally:
        claims.close()
        for child in children:  # only after an exception (e.g. KeyboardInterrupt)
            with contextlib.suppress(OSError):
                os.close(child.fd)
                os.kill(child.pid, signal.SIGKILL)
                os.waitpid(child.pid, 0)


def _receive(
    child: _Child,
    jobs: list[_Job],
    bounds: list[tuple[int, int]],
    parsed: dict[int, list[_Parsed]],
    segments: list[_Segment],
    decoder: _Decoder,
    until_end: bool = False,
) -> None:
    """Read what *child* has sent (all of it, to the end, with *until_end*) and take every
    complete message that checks out: its chunks into *parsed* (unless parsed here already),
    its segment into *segments*."""
    while not child.done:
        try:
            data = os.read(child.fd, _PIPE_SIZE)
        except BlockingIOError:
            break
        if not data:
            child.done = True
        child.buffer += data
        if not until_end:
            break
    buffer = child.buffer
    while not child.failed and len(buffer) >= _FRAME.size:
        (size,) = _FRAME.unpack_from(buffer)
        if len(buffer) < _FRAME.size + size:
            break
        body = bytes(buffer[_FRAME.size : _FRAME.size + size])
        del buffer[: _FRAME.size + size]
        try:
            ids, raw = marshal.loads(body)
            rows, segment = decoder.segment(raw)
            expected = [
                (folder, sig) for k in ids for folder, _, sig in jobs[bounds[k][0] : bounds[k][1]]
            ]
            lo, hi = child.region
            if not all(lo <= k < hi for k in ids) or expected != [
                (row[0], tuple(row[1][:4])) for row in rows
            ]:
                raise ValueError("a child sent rows that are not its chunks")
        except Exception:  # parse the rest of its range here
            child.failed = True
            break
        at = 0
        for k in ids:
            size = bounds[k][1] - bounds[k][0]
            parsed.setdefault(k, [row[1:] for row in rows[at : at + size]])
            at += size
        segments.append(segment)


# ---------------------------------------------------------------------------------------------
# Entry points


def load_workspace(config: Config, use_cache: bool = True) -> Workspace:
    """Discover, read and resolve: the one entry point of the pure core."""
    started = time.time_ns()
    stats = scan(config)
    return build_workspace(config, _read(config, stats, use_cache, started).packages)


class OutputCache:
    """The whole output of one command line, reused only for exactly the same inputs.

    A hit needs the same command line (arguments as given by the caller), the same resolved
    root and package globs, the same toolchain (this tool's version and source files, Python,
    packaging), and the same set of package files with the same signatures (size, mtime_ns,
    inode, ctime_ns); a file modified within _RACY_NS of the run that wrote the entry must also
    have the same content hash. Anything else is a miss, and the caller computes the output
    (through :meth:`workspace`, which reuses this object's discovery) and :meth:`put`\\ s it.

    Usage (what ``cli`` does)::

        memo = OutputCache(config, ("check", fmt), enabled=not no_cache)
        hit = memo.get()
        if hit is None:
            ...compute code and texts from memo.workspace()...
            memo.put(code, texts)
    """

    def __init__(self, config: Config, command: Sequence[str], enabled: bool = True) -> None:
        self.config = config
        self.enabled = enabled
        self.command = tuple(command)
        self._started = time.time_ns()
        self._stats = scan(config)  # raises ConfigError exactly like load_workspace
        self._read: _ReadResult | None = None
        key = "\0".join((str(config.root), *config.package_globs, "", *self.command))
        name = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
        self.path = config.state_dir / "cache" / f"output-{name}.marshal"

    def _header(self) -> tuple[object, ...]:
        return (
            _CACHE_FORMAT,
            _toolchain(),
            str(self.config.root),
            self.config.package_globs,
            self.command,
        )

    def get(self) -> tuple[int, tuple[str, ...]] | None:
        """(exit code, texts) stored for exactly this input, or None."""
        if not self.enabled:
            return None
        try:
            with self.path.open("rb") as handle:
                payload = _load_framed(handle.read())
            header, written, folders, extras, signatures, digests, code, texts = payload
        except Exception:  # a missing or damaged entry is a miss
            return None
        if header != self._header() or folders != tuple(self._stats):
            return None
        if not (
            isinstance(written, int)
            and isinstance(code, int)
            and isinstance(digests, tuple)
            and isinstance(extras, tuple)
            and len(digests) == len(folders) == len(extras)
            and isinstance(texts, tuple)
            and all(isinstance(t, str) for t in texts)
        ):
            return None
        root = self.config.root
        current = []
        for (folder, (_, st)), names in zip(self._stats.items(), extras, strict=True):
            if isinstance(st, OSError):
                return None
            signature = _signature(st)
            if names:
                signature += _extra_signature(root, folder, names)
            current.append(signature)
        if tuple(current) != signatures:
            return None
        trusted_before = written - _RACY_NS
        racy = [i for i, signature in enumerate(current) if max(signature[1::4]) >= trusted_before]
        primaries = [primary for primary, _ in self._stats.values()]
        for i in racy:
            data = _read_bytes(os.path.join(root, folders[i], primaries[i]))
            if data is None or _full_digest(root, folders[i], data, extras[i]) != digests[i]:
                return None
        if racy and max(max(current[i][1::4]) for i in racy) < self._started - _RACY_NS:
            # Verified and old enough now: store again so later runs trust the signatures.
            self._write(
                written=self._started,
                extras=extras,
                signatures=tuple(current),
                digests=digests,
                code=code,
                texts=texts,
            )
        return code, texts

    def workspace(self, prefetch: Sequence[str] = ()) -> Workspace:
        """The workspace, read through the parse cache (when enabled), reusing the discovery.

        *prefetch*: the modules the caller imports next, imported while forked parsers work
        (see :func:`_parse_files`); a caller must still import them itself."""
        self._read = _read(self.config, self._stats, self.enabled, self._started, prefetch)
        return build_workspace(self.config, self._read.packages)

    def put(self, code: int, texts: Sequence[str]) -> None:
        """Store the output computed from :meth:`workspace` (nothing when disabled)."""
        read = self._read
        if (
            not self.enabled
            or read is None
            or not read.complete
            or set(read.entries) != set(self._stats)
        ):
            return
        entries = [read.entries[folder] for folder in self._stats]
        self._write(
            written=self._started,
            extras=tuple(
                tuple(_extras(entry[2], primary))
                for entry, (primary, _) in zip(entries, self._stats.values(), strict=True)
            ),
            signatures=tuple(e[0] for e in entries),
            digests=tuple(e[1] for e in entries),
            code=code,
            texts=tuple(texts),
        )

    def _write(
        self,
        *,
        written: int,
        extras: tuple[tuple[str, ...], ...],
        signatures: tuple[Signature, ...],
        digests: tuple[bytes, ...],
        code: int,
        texts: tuple[str, ...],
    ) -> None:
        payload = (
            self._header(),
            written,
            tuple(self._stats),
            extras,
            signatures,
            digests,
            code,
            texts,
        )
        try:
            content = _dump_framed(payload)
        except ValueError:
            return
        _write_state_file(self.config, self.path, content)
