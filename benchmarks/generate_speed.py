"""Generate snapshots of several sizes (replaying every arrival and departure).

python benchmarks/generate_speed.py [--data ../shared/data] [--repeats 3]
"""

from __future__ import annotations

from common import data_or_none, machine, parser, report, timed

from cluster_opt.generate import GeneratorSettings, generate


def main() -> None:
    args = parser(__doc__).parse_args()
    data = data_or_none(args.data)
    print(f"machine: {machine()}; workload from {'the reference data' if data else 'built-in models'}")
    for hosts, vms in ((1_000, 10_000), (10_000, 100_000)):
        settings = GeneratorSettings(hosts=hosts, vms=vms, regions=4, seed=7, data_dir=data)
        tables = generate(settings)
        meta = tables.manifest.metadata
        report(
            f"generate {hosts:,} hosts / {vms:,} VMs ({meta['arrivals_replayed']:,} arrivals)",
            timed(lambda s=settings: generate(s), args.repeats),
        )


if __name__ == "__main__":
    main()
