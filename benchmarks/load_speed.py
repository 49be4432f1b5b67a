"""Load and validate a 10,000-host / 100,000-VM snapshot (goal: under 2 s from Parquet).

python benchmarks/load_speed.py [--data ../shared/data] [--repeats 5]
"""

from __future__ import annotations

from common import data_or_none, generated_snapshot, machine, parser, report, timed

from cluster_opt.io import load_snapshot


def main() -> None:
    args = parser(__doc__).parse_args()
    data = data_or_none(args.data)
    print(f"machine: {machine()}")
    for fmt, goal in (("parquet", 2.0), ("csv", None)):
        snap = generated_snapshot(10_000, 100_000, 4, 7, data, args.cache, fmt=fmt)
        report(
            f"load+validate 10k hosts / 100k VMs ({fmt})",
            timed(lambda s=snap: load_snapshot(s), args.repeats),
            goal,
        )


if __name__ == "__main__":
    main()
