"""``cluster-opt validate``: check a snapshot and list every problem."""

from __future__ import annotations

import argparse
from pathlib import Path

from cluster_opt.cli.render import console
from cluster_opt.io import load_snapshot

ORDER = 20
NAME = "validate"
HELP = "check a snapshot; list every problem with file, row, id, column and reason"
EXAMPLE = """example:
  cluster-opt validate examples/small
exit code 0 when valid, 1 when any problem was found."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", type=Path, help="snapshot directory")


def run(args: argparse.Namespace) -> int:
    cluster = load_snapshot(args.snapshot)
    out = console()
    out.print(
        f"[green]valid[/green]: {args.snapshot} — {cluster.n_hosts:,} hosts in "
        f"{len(cluster.topology.regions)} region(s), {len(cluster.topology.zones)} zone(s), "
        f"{len(cluster.topology.racks)} rack(s); {cluster.n_vms:,} VMs "
        f"({int((cluster.vms.current < 0).sum()):,} pending); resources {', '.join(cluster.resources)}"
    )
    for warning in cluster.meta.get("warnings", []):
        out.print(f"[yellow]warning:[/yellow] {warning}")
    return 0
