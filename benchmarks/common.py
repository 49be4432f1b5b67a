"""Shared pieces of the benchmark scripts: arguments, timing, cached generated snapshots."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_CACHE = ROOT / "runs" / "bench-cache"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="reference data folder (default ../shared/data)"
    )
    p.add_argument("--repeats", type=int, default=5, help="timed repetitions; the median is reported")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where generated snapshots are kept")
    return p


def data_or_none(path: Path) -> Path | None:
    return path if path.is_dir() else None


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls (after one untimed warm-up call)."""
    fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def report(name: str, seconds: list[float], goal: float | None = None) -> str:
    med = statistics.median(seconds)
    verdict = ""
    if goal is not None:
        verdict = f"  [{'meets' if med < goal else 'MISSES'} goal < {goal:g} s]"
    line = (
        f"{name:<55} median {med * 1e3:10.1f} ms   min {min(seconds) * 1e3:10.1f} ms"
        f"  (n={len(seconds)}){verdict}"
    )
    print(line, flush=True)
    return line


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def generated_snapshot(
    hosts: int, vms: int, regions: int, seed: int, data: Path | None, cache: Path, fmt: str = "parquet"
) -> Path:
    """A generated snapshot, written once into ``cache`` and reused."""
    from cluster_opt.generate import GeneratorSettings, generate
    from cluster_opt.io import write_snapshot

    tag = "data" if data else "builtin"
    out = cache / f"gen-{hosts}h-{vms}v-{regions}r-s{seed}-{tag}-{fmt}"
    if not out.exists():
        settings = GeneratorSettings(hosts=hosts, vms=vms, regions=regions, seed=seed, data_dir=data)
        write_snapshot(generate(settings), out, fmt=fmt)
    return out


#: The objective profile of the large-cluster benchmarks (it pays for switching hosts off).
ENERGY_PROFILE = ROOT / "configs" / "profiles" / "energy.yaml"


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    """--hosts/--vms/--regions/--seed of a generated cluster (default: the 10,000-host
    benchmark cluster) and --profile (default: the energy profile)."""
    p.add_argument("--hosts", type=int, default=10_000)
    p.add_argument("--vms", type=int, default=100_000)
    p.add_argument("--regions", type=int, default=4)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--profile", type=Path, default=ENERGY_PROFILE)


def cluster_problem(args: argparse.Namespace):
    """(snapshot path, Problem) of the generated cluster and profile the options name."""
    from cluster_opt.evaluate import EvaluationConfig, Problem
    from cluster_opt.io import load_snapshot
    from cluster_opt.jobs.config import load_yaml

    snap = generated_snapshot(
        args.hosts, args.vms, args.regions, args.seed, data_or_none(args.data), args.cache
    )
    return snap, Problem(load_snapshot(snap), load_yaml(args.profile, EvaluationConfig))
