"""``cluster-opt generate``: write a realistic synthetic snapshot."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from cluster_opt.cli.render import console
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io import write_snapshot

ORDER = 10
NAME = "generate"
HELP = "write a realistic synthetic cluster snapshot (same seed, same bytes)"
EXAMPLE = """example:
  cluster-opt generate --hosts 10000 --vms 100000 --regions 4 --seed 7 --out snap-10k
  cluster-opt generate --hosts 200 --vms 2000 --format csv --out small --data ../shared/data

The reference data folder (--data; default $CLUSTER_OPT_DATA, else ../shared/data when it
exists) supplies the Azure 2017 VM mix and lifetimes, Alibaba GPU shapes and SPECpower
curves; without it, built-in approximations are used and snapshot.yaml says so."""


def default_data_dir() -> Path | None:
    """$CLUSTER_OPT_DATA, else ../shared/data relative to the working directory, if present."""
    env = os.environ.get("CLUSTER_OPT_DATA")
    if env:
        return Path(env)
    guess = Path("..") / "shared" / "data"
    return guess if guess.is_dir() else None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hosts", type=int, required=True, help="number of hosts")
    p.add_argument("--vms", type=int, required=True, help="number of VMs (running + pending)")
    p.add_argument("--regions", type=int, default=3, help="number of regions (1-12, default 3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--spot-share", type=float, default=None, help="share of spot VMs (default: drawn in 0.2-0.4)"
    )
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="table format")
    p.add_argument("--data", type=Path, default=None, help="reference data folder (see below)")
    p.add_argument("--out", type=Path, required=True, help="snapshot directory to create")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def run(args: argparse.Namespace) -> int:
    data = args.data if args.data is not None else default_data_dir()
    if data is not None and not data.is_dir():
        raise FileNotFoundError(f"--data {data}: no such directory")
    out = console()
    start = time.perf_counter()
    settings = GeneratorSettings(
        hosts=args.hosts,
        vms=args.vms,
        regions=args.regions,
        seed=args.seed,
        spot_share=args.spot_share,
        data_dir=data,
    )
    tables = generate(settings)
    write_snapshot(tables, args.out, fmt=args.format, overwrite=args.force)
    meta = tables.manifest.metadata
    out.print(
        f"wrote {args.out}: {len(tables.hosts):,} hosts, {len(tables.vms):,} VMs "
        f"({meta['pending_vms']:,} pending) in {time.perf_counter() - start:.1f} s"
    )
    out.print(
        f"workload: {meta['sources']['vms']}; GPU VMs: {meta['sources']['gpu_vms']}; "
        f"power: {meta['sources']['power']}"
    )
    return 0
