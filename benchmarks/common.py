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
