"""Which packages a change concerns: ``git diff REF...HEAD`` mapped onto the workspace.

Contract:

* The changed files are those of ``git diff <merge-base of REF and HEAD> HEAD`` (what
  ``git diff REF...HEAD`` shows: the changes HEAD's branch made since it left REF, not what REF
  gained meanwhile); with ``include_uncommitted`` the working tree (staged, unstaged and untracked
  files, minus ignored ones) is compared with the merge base instead. Renames count on both sides.
* A file belongs to the package whose folder is its nearest ancestor. A package with a changed
  file is *changed*; every package that depends on an affected package through an edge of one of
  ``kinds`` (runtime, optional, dev: all by default) is affected too, transitively, each with
  *why*: its changed files, or the dependency it came through (the nearest one, ties by name).
* Files that concern every package (the root ``pyproject.toml``, ``noxfile.py`` and the globs of
  ``[tool.monorepo] global-files``) affect every package.
* A package folder deleted since the merge base is reported as removed (by its old name, read from
  the merge base); packages that still name it in a requirement are affected. A folder that moved
  is the package at its new folder (same name). Nothing is ever guessed: a REF that does not name a
  commit, a shallow clone that lacks REF or the merge base (with the ``git fetch --deepen`` /
  ``--unshallow`` to run), a root outside git, are :class:`~monorepo_tools.errors.ConfigError`
  (exit 2) naming the fix.

Cost: a few ``git`` calls plus one pass over the changed files (a walk up their folders) and one
breadth-first pass over the reverse edges: linear in packages + edges + changed files.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import subprocess
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from packaging.utils import canonicalize_name

from .errors import ConfigError
from .workspace import EdgeKind, Workspace

__all__ = [
    "ALL_KINDS",
    "GLOBAL_FILES",
    "Affected",
    "AffectedPackage",
    "Changes",
    "Reason",
    "RemovedPackage",
    "affected",
    "affected_from_changes",
    "changed_files",
    "parse_kinds",
    "read_changes",
]

ALL_KINDS = frozenset(EdgeKind)
# Files of the root that concern every package, whatever [tool.monorepo] global-files says.
GLOBAL_FILES = ("pyproject.toml", "noxfile.py")
_KIND_ORDER = (EdgeKind.RUNTIME, EdgeKind.OPTIONAL, EdgeKind.DEV)
_DEEPEN = (
    "deepen the clone: `git fetch --deepen=100 origin` (repeat until it is found) or "
    "`git fetch --unshallow origin`; in GitLab CI set GIT_DEPTH: 0 (or a larger depth), in "
    "GitHub Actions actions/checkout with fetch-depth: 0"
)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a package is affected.

    ``kind``: ``changed`` (files of its folder changed), ``global`` (a file that concerns every
    package changed), ``dependency`` (it depends on an affected package: ``through``, by an edge
    of ``edge`` kind), ``removed-dependency`` (it names ``through``, a package deleted since REF).
    """

    kind: str
    files: tuple[str, ...] = ()  # root-relative POSIX paths, sorted (changed / global)
    through: str | None = None
    edge: str | None = None

    def describe(self, limit: int = 2) -> str:
        if self.kind in ("changed", "global"):
            shown = ", ".join(self.files[:limit])
            more = f" (+{len(self.files) - limit} more)" if len(self.files) > limit else ""
            prefix = "changed" if self.kind == "changed" else "global file changed"
            return f"{prefix}: {shown}{more}"
        if self.kind == "removed-dependency":
            return f"depends on {self.through}, which was removed ({self.edge})"
        return f"depends on {self.through} ({self.edge})"


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    name: str
    path: str
    publishable: bool
    reason: Reason
    depth: int  # 0: changed itself (or global); n: n dependency hops from a changed package


@dataclass(frozen=True, slots=True)
class RemovedPackage:
    """A package folder that held a pyproject.toml at the merge base and holds none now."""

    path: str
    name: str  # its normalized name at the merge base
    moved_to: str | None = None  # the folder of the package of the same name now, if any


@dataclass(frozen=True)
class Affected:
    since: str
    merge_base: str
    head: str
    kinds: frozenset[EdgeKind]
    include_uncommitted: bool
    changed_files: tuple[str, ...]  # every changed path under the root, sorted
    global_files: tuple[str, ...]  # the changed files that concern every package
    packages: tuple[AffectedPackage, ...]  # by (depth, name)
    removed: tuple[RemovedPackage, ...] = ()
    unowned: tuple[str, ...] = ()  # changed files under no package (and not global)
    total: int = 0  # packages in the workspace

    @property
    def names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.packages)

    @property
    def folders(self) -> frozenset[str]:
        """Package folders with changed files (also of packages the workspace rejected)."""
        found: set[str] = set()
        for path in self.changed_files:
            folder = posixpath.dirname(path)
            while folder:
                found.add(folder)
                folder = posixpath.dirname(folder)
        return frozenset(found)


def parse_kinds(text: str) -> frozenset[EdgeKind]:
    """``"runtime,optional"`` -> the kinds; :class:`ConfigError` for anything else."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    known = {str(k): k for k in EdgeKind}
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise ConfigError(
            f"--kinds {text!r}: expected a comma-separated list of runtime, optional, dev "
            "(e.g. --kinds runtime,optional for what a publish needs)"
        )
    return frozenset(known[n] for n in names)


# --------------------------------------------------------------------------- git


def _git(root: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LC_ALL="C", GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
    try:
        return subprocess.run(
            ["git", "-C", root, "-c", "core.quotepath=off", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise ConfigError(
            "git is not installed: `affected` compares commits with git; install git"
        ) from exc


def _checked(root: str, *args: str) -> str:
    out = _git(root, *args)
    if out.returncode != 0:
        raise ConfigError(
            f"git {' '.join(args)} failed in {root}: {out.stderr.strip() or out.returncode}"
        )
    return out.stdout


@dataclass(frozen=True, slots=True)
class _Change:
    status: str  # first letter of git's status: A, M, D, R, C, T, U, ? (untracked)
    path: str
    old_path: str | None = None  # the source of a rename or copy


@dataclass(frozen=True, slots=True)
class Changes:
    """What git says changed: the input of :func:`affected_from_changes` (and of cache keys)."""

    since: str
    merge_base: str
    head: str
    include_uncommitted: bool
    changes: tuple[_Change, ...]

    @property
    def key(self) -> tuple[str, ...]:
        """Everything the answer depends on besides the workspace files (for output caches)."""
        digest = hashlib.blake2b(digest_size=16)
        for change in self.changes:
            digest.update(f"{change.status}\0{change.path}\0{change.old_path or ''}\0".encode())
        flag = "uncommitted" if self.include_uncommitted else "committed"
        return (self.since, self.merge_base, self.head, flag, digest.hexdigest())


def read_changes(root: str, since: str, include_uncommitted: bool = False) -> Changes:
    """The changes since the merge base of *since* and HEAD (ConfigError naming the fix)."""
    probe = _git(root, "rev-parse", "--is-shallow-repository")
    if probe.returncode != 0:
        raise ConfigError(
            f"--root {root!r} is not inside a git repository ({probe.stderr.strip()}): "
            "--since/--affected-since compare commits; run it in a clone of the monorepo"
        )
    shallow = probe.stdout.strip() == "true"
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head.returncode != 0:
        raise ConfigError(f"{root}: the repository has no commit yet (HEAD); commit first")
    ref = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{since}^{{commit}}")
    if ref.returncode != 0:
        if shallow:
            raise ConfigError(
                f"--since {since!r}: not found in this shallow clone; fetch it "
                f"(e.g. `git fetch --depth=100 origin {_branch_hint(since)}`), or {_DEEPEN}"
            )
        raise ConfigError(
            f"--since {since!r} does not name a commit of this repository (git rev-parse "
            f"{since!r} fails); fix: pass a branch, tag or SHA that exists, e.g. origin/main after "
            "`git fetch origin main`"
        )
    base = _git(root, "merge-base", ref.stdout.strip(), head.stdout.strip())
    if base.returncode != 0:
        if shallow:
            raise ConfigError(
                f"--since {since!r}: this shallow clone does not reach the merge base of "
                f"{since} and HEAD, so the changes cannot be told; {_DEEPEN}"
            )
        raise ConfigError(
            f"--since {since!r} and HEAD have no common ancestor (unrelated histories); "
            "pass a REF on HEAD's history (the branch the change will be merged into)"
        )
    merge_base = base.stdout.strip()
    common = ["--relative", "--no-ext-diff", "--no-textconv", "--name-status", "-z", "-M"]
    if include_uncommitted:
        raw = _checked(root, "diff", *common, merge_base, "--")
        untracked = _checked(root, "ls-files", "--others", "--exclude-standard", "-z")
    else:
        raw = _checked(root, "diff", *common, merge_base, head.stdout.strip(), "--")
        untracked = ""
    changes = _parse_name_status(raw)
    changes += [_Change("?", p) for p in untracked.split("\0") if p]
    return Changes(since, merge_base, head.stdout.strip(), include_uncommitted, tuple(changes))


def _branch_hint(since: str) -> str:
    return since.split("/", 1)[1] if since.startswith("origin/") else since


def _parse_name_status(raw: str) -> list[_Change]:
    tokens = raw.split("\0")
    changes: list[_Change] = []
    i = 0
    while i < len(tokens) and tokens[i]:
        status = tokens[i][0]
        if status in "RC":
            changes.append(_Change(status, tokens[i + 2], tokens[i + 1]))
            i += 3
        else:
            changes.append(_Change(status, tokens[i + 1]))
            i += 2
    return changes


def changed_files(root: str, since: str, include_uncommitted: bool = False) -> tuple[str, ...]:
    """Every path under *root* changed since the merge base of *since* and HEAD, sorted."""
    return _paths(read_changes(root, since, include_uncommitted).changes)


def _paths(changes: Iterable[_Change]) -> tuple[str, ...]:
    found: set[str] = set()
    for change in changes:
        found.add(change.path)
        if change.old_path is not None and change.status == "R":
            found.add(change.old_path)
    return tuple(sorted(found))


# --------------------------------------------------------------------------- globs


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A root-relative glob: ``*``/``?``/``[...]`` within one folder, ``**`` across folders.

    A pattern without wildcards names a file, or a folder and everything under it.
    """
    pattern = pattern.rstrip("/")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    literal = not any(c in pattern for c in "*?[")
    return re.compile("".join(out) + ("(?:/.*)?" if literal else "") + r"\Z")


def is_global(path: str, globs: Sequence[str]) -> bool:
    """Whether a root-relative *path* concerns every package (a literal folder covers its files)."""
    if path in GLOBAL_FILES:
        return True
    return any(_glob_regex(g).match(path) for g in globs)


# --------------------------------------------------------------------------- the answer


def affected(
    workspace: Workspace,
    since: str,
    *,
    kinds: frozenset[EdgeKind] = ALL_KINDS,
    include_uncommitted: bool = False,
) -> Affected:
    """The packages changed since *since* (merge-base semantics) and their dependents."""
    diff = read_changes(str(workspace.root), since, include_uncommitted)
    return affected_from_changes(workspace, diff, kinds)


def affected_from_changes(
    workspace: Workspace, diff: Changes, kinds: frozenset[EdgeKind] = ALL_KINDS
) -> Affected:
    """The answer for changes already read (see :func:`read_changes`)."""
    root = str(workspace.root)
    folders: dict[str, str | None] = {p.path: p.name for p in workspace.packages.values()}
    for rejected in workspace.rejected:
        folders.setdefault(rejected.path, None)
    by_name_path = {p.name: p.path for p in workspace.packages.values()}
    globs = workspace.config.global_files

    # Package folders that lost their pyproject.toml (deleted, or moved elsewhere).
    removed: dict[str, RemovedPackage] = {}
    for change in diff.changes:
        gone = (
            change.old_path
            if change.status == "R"
            else (change.path if change.status == "D" else None)
        )
        if gone is None or posixpath.basename(gone) != "pyproject.toml":
            continue
        folder = posixpath.dirname(gone)
        if not folder or folder in folders:
            continue
        name = _name_at(root, diff.merge_base, gone, folder)
        moved = by_name_path.get(name)
        removed[folder] = RemovedPackage(folder, name, moved)

    files = _paths(diff.changes)
    changed: dict[str, list[str]] = {}
    global_changed: list[str] = []
    unowned: list[str] = []
    for path in files:
        if is_global(path, globs):
            global_changed.append(path)
            continue
        owner = _owner(path, folders, removed)
        if owner is None:
            unowned.append(path)
        elif isinstance(owner, str):
            changed.setdefault(owner, []).append(path)
        # a file of a removed folder is accounted for by the RemovedPackage

    packages = workspace.packages
    result: dict[str, AffectedPackage] = {}
    if global_changed:
        reason = Reason("global", tuple(global_changed))
        for name, package in packages.items():
            result[name] = AffectedPackage(name, package.path, package.publishable, reason, 0)
    else:
        for name in sorted(changed):
            package = packages[name]
            result[name] = AffectedPackage(
                name, package.path, package.publishable, Reason("changed", tuple(changed[name])), 0
            )
        gone_names = {r.name: r for r in removed.values() if r.moved_to is None}
        if gone_names:
            for name, package in packages.items():
                if name in result:
                    continue
                for dep in package.dependencies:
                    if dep.kind in kinds and dep.name in gone_names:
                        result[name] = AffectedPackage(
                            name,
                            package.path,
                            package.publishable,
                            Reason("removed-dependency", through=dep.name, edge=str(dep.kind)),
                            1,
                        )
                        break
        _add_dependents(workspace, result, kinds)
    ordered = tuple(sorted(result.values(), key=lambda p: (p.depth, p.name)))
    return Affected(
        since=diff.since,
        merge_base=diff.merge_base,
        head=diff.head,
        kinds=kinds,
        include_uncommitted=diff.include_uncommitted,
        changed_files=files,
        global_files=tuple(global_changed),
        packages=ordered,
        removed=tuple(sorted(removed.values(), key=lambda r: r.path)),
        unowned=tuple(unowned),
        total=len(packages),
    )


def _owner(
    path: str, folders: dict[str, str | None], removed: dict[str, RemovedPackage]
) -> str | RemovedPackage | bool | None:
    """The package name owning *path*; a RemovedPackage; False for a rejected folder; None."""
    folder = posixpath.dirname(path)
    while folder:
        if folder in folders:
            name = folders[folder]
            return name if name is not None else False
        if folder in removed:
            return removed[folder]
        folder = posixpath.dirname(folder)
    return None


def _name_at(root: str, commit: str, pyproject: str, folder: str) -> str:
    """The normalized [project].name of *pyproject* at *commit* (the folder name if unreadable)."""
    out = _git(root, "show", f"{commit}:./{pyproject}")
    if out.returncode == 0:
        try:
            name = tomllib.loads(out.stdout).get("project", {}).get("name")
        except (tomllib.TOMLDecodeError, AttributeError):
            name = None
        if isinstance(name, str) and name.strip():
            return canonicalize_name(name)
    return canonicalize_name(posixpath.basename(folder))


def _add_dependents(
    workspace: Workspace, result: dict[str, AffectedPackage], kinds: frozenset[EdgeKind]
) -> None:
    """Breadth first over the reverse edges of *kinds*: nearest dependency first, ties by name."""
    dependents: dict[str, dict[str, EdgeKind]] = {}
    for edge in workspace.edges:
        kind = edge.dependency.kind
        if kind not in kinds or edge.source == edge.target:
            continue
        known = dependents.setdefault(edge.target, {})
        previous = known.get(edge.source)
        if previous is None or _KIND_ORDER.index(kind) < _KIND_ORDER.index(previous):
            known[edge.source] = kind
    packages = workspace.packages
    frontier = sorted(result)
    depth = 0
    while frontier:
        depth += 1
        reached: dict[str, AffectedPackage] = {}
        for name in frontier:  # sorted: the first dependency (by name) to reach one is its why
            for dependent, kind in sorted(dependents.get(name, {}).items()):
                if dependent in result or dependent in reached:
                    continue
                package = packages[dependent]
                reached[dependent] = AffectedPackage(
                    dependent,
                    package.path,
                    package.publishable,
                    Reason("dependency", through=name, edge=str(kind)),
                    depth,
                )
        result.update(reached)
        frontier = sorted(reached)
