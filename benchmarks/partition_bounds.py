"""What partitioning costs before any search: the sum over partitions of each partition's
own `active_hosts` bound, for several partition sizes, against the whole cluster's bound.
Partitions are cut from the engine's start (the repaired current placement, or FFD/BFD
from scratch when that places more, as ``optimize`` picks it under the profile); a
partition keeps its VMs on its own hosts, so the engine's islands cannot go below that sum
(only its global pass can).

    python benchmarks/partition_bounds.py                          # 10,000 hosts, 8/16/32 racks and zones
    python benchmarks/partition_bounds.py --hosts 1000 --vms 10000 --regions 3 --seed 1
"""

from __future__ import annotations

import time

from common import add_cluster_options, cluster_problem, parser

from cluster_opt.distributed import start_assignment
from cluster_opt.distributed.partition import partition, sub_cluster
from cluster_opt.evaluate.bounds import active_hosts_bound


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    add_cluster_options(p)
    p.add_argument("--racks", default="8,16,32,0", help="racks per partition to try (0: whole zones)")
    args = p.parse_args()
    snapshot, problem = cluster_problem(args)
    cluster = problem.cluster
    x = start_assignment(problem).x
    whole = active_hosts_bound(cluster)
    print(f"{snapshot.name}: whole-cluster active_hosts bound {whole:,}")
    print("| racks per partition | partitions | sum of partition bounds | above the whole | seconds |")
    print("|---|---:|---:|---:|---:|")
    for racks in (int(r) for r in args.racks.split(",")):
        started = time.perf_counter()
        parts = partition(cluster, x, racks or len(cluster.topology.racks))
        total = sum(active_hosts_bound(sub_cluster(cluster, part, x)) for part in parts)
        label = racks or "whole zones"
        seconds = time.perf_counter() - started
        print(f"| {label} | {len(parts)} | {total:,} | {total / whole - 1:.1%} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
