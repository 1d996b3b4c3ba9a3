"""Write a synthetic monorepo for the benchmarks (deterministic: same arguments, same bytes).

Run from the repository root::

    python benchmarks/generate.py DIR --packages 1000 [--seed 2024]

The repository looks like a real one grown large:

* a root ``pyproject.toml`` with ``[tool.monorepo] packages = ["packages/*"]``;
* ``packages/pkg-NNNNN/pyproject.toml`` for each package: name, version, description,
  requires-python, a hatchling build-system, 3-6 internal runtime dependencies on lower-numbered
  packages written in a mix of notations (``pkg-00012>=0.1``, ``pkg-00012 @ file:../pkg-00012``,
  ``pkg-00012 @ {root:uri}/../pkg-00012``), a couple of external ones (``requests>=2``), an
  optional extra, a ``[dependency-groups] dev`` group (pytest and one internal package);
* about 70 % of the packages publishable (``[tool.monorepo] status`` incubator, supported or
  stable), the rest internal (half of those say so explicitly, half leave the default).
  Publishable packages depend on publishable ones, except for about 0.5 % of the packages which
  get one runtime dependency on an internal package: ``check`` then reports a handful of
  ``internal-dependency`` findings, so the rule path (blocked dependents, lines) is exercised.

Dependencies always point at lower numbers, so the graph is acyclic; picking them mostly among
the previous few hundred packages gives a publish order of realistic depth (tens of levels).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GeneratedRepo", "generate", "main"]

PUBLISHABLE = ("incubator", "supported", "stable")
EXTERNAL = (
    "requests>=2",
    "click>=8.1",
    "attrs>=23.1",
    "pydantic>=2.5,<3",
    "httpx>=0.27",
    "rich>=13",
    "typing-extensions>=4.8",
    "PyYAML>=6.0",
)
WINDOW = 300  # dependencies are picked among the previous WINDOW packages (then anywhere lower)


@dataclass(frozen=True)
class GeneratedRepo:
    root: Path
    packages: int
    publishable: int
    violations: int  # runtime edges publishable -> internal that were injected
    edges: int  # internal requirement strings written (runtime + optional + dev)


def _name(index: int) -> str:
    return f"pkg-{index:05d}"


def _notation(rng: random.Random, target: int) -> str:
    name = _name(target)
    roll = rng.random()
    if roll < 0.6:
        return f"{name}>=0.{target % 7}"
    if roll < 0.8:
        return f"{name} @ file:../{name}"
    return f"{name} @ {{root:uri}}/../{name}"


def _pick(rng: random.Random, pool: list[int], count: int) -> list[int]:
    """Up to *count* distinct members of *pool*, favouring the most recent ones."""
    if len(pool) <= count:
        return list(pool)
    recent = pool[-WINDOW:]
    chosen: set[int] = set()
    while len(chosen) < count:
        chosen.add(
            rng.choice(recent)
            if rng.random() < 0.85 or len(recent) == len(pool)
            else rng.choice(pool)
        )
    return sorted(chosen)


def _toml_list(items: list[str]) -> str:
    if not items:
        return "[]"
    return "[\n" + "".join(f'  "{item}",\n' for item in items) + "]"


def generate(
    root: Path, count: int, seed: int = 2024, violation_rate: float = 0.005
) -> GeneratedRepo:
    """Write a repository of *count* packages into *root* (which must not exist or be empty)."""
    rng = random.Random(seed)
    packages_dir = root / "packages"
    packages_dir.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "synthetic-monorepo"\nversion = "0"\n\n'
        '[tool.monorepo]\npackages = ["packages/*"]\n',
        encoding="utf-8",
    )
    statuses: list[str] = []
    publishable_pool: list[int] = []
    all_pool: list[int] = []
    internal_pool: list[int] = []
    # The violations: a fixed, seeded set of publishable packages past the first few.
    target_violations = max(1, round(count * violation_rate))
    violators: set[int] = set()
    candidates = list(range(20, count))
    rng.shuffle(candidates)
    violators.update(candidates[: target_violations * 2])  # about half of them are publishable
    violations = 0
    edges = 0
    for index in range(count):
        name = _name(index)
        if index < 3:
            status = "stable"
        else:
            status = "internal" if rng.random() < 0.3 else rng.choice(PUBLISHABLE)
        publishable = status != "internal"
        statuses.append(status)
        wanted = rng.randint(3, 6)
        pool = publishable_pool if publishable else all_pool
        deps = _pick(rng, pool, wanted)
        if publishable and index in violators and internal_pool and violations < target_violations:
            bad = rng.choice(internal_pool[-WINDOW:])
            if bad not in deps:
                deps = sorted([*deps, bad])
                violations += 1
        runtime = [_notation(rng, d) for d in deps]
        runtime += rng.sample(EXTERNAL, 2)
        extra_internal = (
            _pick(rng, publishable_pool if publishable else all_pool, 1)
            if rng.random() < 0.3
            else []
        )
        extra = ["rich>=13", *(f"{_name(d)}>=0.1" for d in extra_internal)]
        dev_internal = _pick(rng, all_pool, 1)
        dev = ["pytest>=8", *(_name(d) for d in dev_internal)]
        edges += len(deps) + len(extra_internal) + len(dev_internal)
        if publishable:
            monorepo = f'[tool.monorepo]\nstatus = "{status}"\n'
        elif rng.random() < 0.5:
            monorepo = '[tool.monorepo]\nstatus = "internal"\n'
        else:
            monorepo = ""
        text = (
            "[build-system]\n"
            'requires = ["hatchling>=1.21"]\n'
            'build-backend = "hatchling.build"\n'
            "\n"
            "[project]\n"
            f'name = "{name}"\n'
            f'version = "0.{index % 7}.{index % 13}"\n'
            f'description = "Synthetic package {index} of {count}: '
            'parsing, scheduling and reporting helpers."\n'
            'readme = "README.md"\n'
            'requires-python = ">=3.11"\n'
            'license = "MIT"\n'
            f"dependencies = {_toml_list(runtime)}\n"
            "\n"
            "[project.optional-dependencies]\n"
            f"cli = {_toml_list(extra)}\n"
            "\n"
            "[dependency-groups]\n"
            f"dev = {_toml_list(dev)}\n"
            "\n"
            "[tool.hatch.metadata]\n"
            "allow-direct-references = true\n"
            "\n"
            "[tool.hatch.build.targets.wheel]\n"
            f'packages = ["src/{name.replace("-", "_")}"]\n'
            "\n"
            f"{monorepo}"
        )
        folder = packages_dir / name
        folder.mkdir(exist_ok=True)
        (folder / "pyproject.toml").write_text(text, encoding="utf-8")
        all_pool.append(index)
        (publishable_pool if publishable else internal_pool).append(index)
    return GeneratedRepo(root, count, len(publishable_pool), violations, edges)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("root", type=Path, help="folder to write (replaced if --force)")
    parser.add_argument("--packages", "-n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--force", action="store_true", help="delete ROOT first if it exists")
    args = parser.parse_args(argv)
    if args.root.exists() and any(args.root.iterdir()):
        if not args.force:
            print(f"{args.root} exists and is not empty (use --force)", file=sys.stderr)
            return 2
        shutil.rmtree(args.root)
    repo = generate(args.root, args.packages, args.seed)
    print(
        f"{repo.root}: {repo.packages} packages, {repo.publishable} publishable, "
        f"{repo.edges} internal requirements, {repo.violations} injected violations"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
