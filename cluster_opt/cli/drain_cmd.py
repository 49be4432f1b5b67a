"""``cluster-opt drain``: empty hosts, a rack or a zone for maintenance with the fewest moves."""

from __future__ import annotations

import argparse
from pathlib import Path

from cluster_opt.cli.plan_cmd import add_plan_options, finish, prepare
from cluster_opt.cli.render import console
from cluster_opt.plan import plan_document
from cluster_opt.plan.drain import drained_hosts, plan_drain

ORDER = 61
NAME = "drain"
HELP = "empty hosts, a rack or a zone with the fewest moves, in safe waves (or say what blocks)"
EXAMPLE = """example:
  cluster-opt drain snap --hosts h0012,h0013 --out plans/drain-h12
  cluster-opt drain snap --rack us-east-1/a/r07 --out plans/rack7 --window 3600
  cluster-opt drain snap --zone eu-west-1/b --out plans/zone-b

Only the VMs on the drained hosts move; they are re-inserted elsewhere under every hard
rule (capacity, GPU model, spread, affinity), in their own zone when there is room, else
their own region, else anywhere. A rack or zone is named in full
(region/zone/rack) or by a unique suffix. plan.json gets a "drain" section: the hosts,
whether the drain is complete, and the blocking VMs with their reason.
Exit codes: 0 the plan empties the hosts; 1 invalid input or unsafe plan (nothing written);
3 the drain cannot be completed: the best partial plan is written and the VMs that block
it are listed with the capacity or rule that blocks them."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", type=Path, help="snapshot directory")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--hosts", help="comma-separated host ids")
    which.add_argument("--rack", help="rack name (region/zone/rack or a unique suffix)")
    which.add_argument("--zone", help="zone name (region/zone or a unique suffix)")
    add_plan_options(p)


def run(args: argparse.Namespace) -> int:
    cluster, problem, settings, previous = prepare(args)
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()] if args.hosts else None
    drained = drained_hosts(cluster, hosts=hosts, rack=args.rack, zone=args.zone)
    drain, plan, section = plan_drain(problem, drained, settings, previous)
    complete = section["complete"]
    doc = plan_document(plan, cluster, command="drain", snapshot=str(args.snapshot), drain=section)
    if not args.json:
        out = console()
        n = len(drain.hosts)
        verdict = "[green]can be emptied[/green]" if complete else "[red]cannot be emptied[/red]"
        out.print(f"drain of {n} host(s): {verdict}; {section['vms_to_move']:,} VMs on them")
        for line in drain.explanation:
            out.print(f"  {line}")
        for row in section["blocking_vms"][:10]:
            out.print(f"  blocking: {row['vm']} on {row['host']}: {row['reason']}")
        if len(section["blocking_vms"]) > 10:
            out.print(f"  ... and {len(section['blocking_vms']) - 10} more in plan.json")
    return finish(args, cluster, plan, doc, partial=not complete)
