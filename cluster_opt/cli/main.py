"""``cluster-opt``: entry point and sub-command dispatch.

Exit codes: 0 success; 1 invalid input (every problem is listed); 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

import cluster_opt.cli
from cluster_opt.cli.render import console, print_issues
from cluster_opt.io import SnapshotError


def _discover() -> tuple[ModuleType, ...]:
    """Every ``cluster_opt.cli.*_cmd`` module, ordered by its ``ORDER`` (then name): adding a
    sub-command is adding one module with NAME, HELP, EXAMPLE, ORDER, add_arguments, run."""
    mods = [
        importlib.import_module(f"cluster_opt.cli.{info.name}")
        for info in pkgutil.iter_modules(cluster_opt.cli.__path__)
        if info.name.endswith("_cmd")
    ]
    return tuple(sorted(mods, key=lambda m: (m.ORDER, m.NAME)))


COMMANDS = _discover()

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cluster-opt",
        description="VM placement and rebalancing optimizer for large clusters.",
        epilog="example:\n  cluster-opt generate --hosts 1000 --vms 10000 --regions 3 --seed 1 --out snap\n"
        "  cluster-opt evaluate snap",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS:
        p = sub.add_parser(
            cmd.NAME,
            help=cmd.HELP,
            description=cmd.HELP,
            epilog=cmd.EXAMPLE,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--all", action="store_true", help="list every input problem (default: the first 200)")
        cmd.add_arguments(p)
        p.set_defaults(run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or EXIT_OK)
    except SnapshotError as exc:
        print_issues(exc.issues, show_all=args.all)
        console(stderr=True).print(
            f"[red]invalid input: {len(exc.issues)} problem(s); nothing was written[/red]"
        )
        return EXIT_INVALID
    except (FileExistsError, FileNotFoundError, ValueError, KeyError) as exc:
        console(stderr=True).print(f"[red]error:[/red] {exc}")
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
