"""One-dimensional bin packing against proven optima (BPPLIB, ../shared/data/bpplib_1d):
bins/OPT (bins/LB on the instances still open in bounds.csv) per class for FFD, BFD, the
best construction heuristic and the search, next to the FFD baseline of
published_results/README.md section 2 (no published heuristic table exists for BPPLIB).

    python benchmarks/bpplib.py [--per-class 3] [--time 10] [--jobs 1]
        [--algos ffd,bfd,best-heuristic,auto] [--classes Hard28,Falkenauer_T] [--out runs/bpplib.csv]
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from packing_common import (
    Case,
    class_table,
    head_to_head,
    legend,
    markdown_rows,
    packing_parser,
    provenance,
    readable,
    results,
    sample,
    selected,
)

FOLDER = "bpplib_1d"


def cases(data: Path) -> dict[str, list[Case]]:
    """Every instance of bounds.csv by class, in file order: LB = best_lb, OPT = best_ub
    when the status is ``solved``, best known = best_ub. O(number of instances)."""
    out: dict[str, list[Case]] = {}
    with (data / FOLDER / "bounds.csv").open() as f:
        for row in csv.DictReader(f):
            solved = row["status"] == "solved"
            out.setdefault(row["class"], []).append(
                Case(
                    group=row["class"],
                    path=data / FOLDER / "instances" / row["class"] / f"{row['instance']}.txt",
                    n_items=int(row["n_items"]),
                    lb=int(row["best_lb"]),
                    opt=int(row["best_ub"]) if solved else None,
                    best_known=int(row["best_ub"]),
                )
            )
    return out


def published_ffd(data: Path) -> dict[str, str]:
    """Class -> "FFD = OPT on k of solved · mean FFD - OPT" from published_results/README.md
    section 2 (empty when the table is not found)."""
    path = data / "published_results" / "README.md"
    header = ("class", "instances", "solved", "FFD = OPT", "mean FFD - OPT (bins)")
    rows = markdown_rows(path.read_text(), header) if path.exists() else []
    return {r["class"]: f"{r['FFD = OPT']} of {r['solved']} · {r['mean FFD - OPT (bins)']}" for r in rows}


def excess(group: Sequence[dict], algo: str) -> str:
    """Mean bins above the reference of ``algo`` (feasible runs only)."""
    over = [int(r["bins"]) - int(r["reference"]) for r in group if r["algo"] == algo and r["feasible"]]
    return f"{np.mean(over):.2f}" if over else "-"


def main() -> None:
    args = packing_parser(__doc__).parse_args()
    print(provenance(args, sys.argv))
    every = cases(args.data)
    chosen: list[Case] = []
    skipped = 0
    for label in selected(every, args.classes):
        good, bad = readable(every[label])
        skipped += len(bad)
        for case, reason in bad:
            print(f"{label}: skipped {case.path.name}: {reason}", file=sys.stderr)
        chosen += sample(good, args.per_class, args.seed)
    rows, algos = results(chosen, [a.strip() for a in args.algos.split(",") if a.strip()], args)
    search = algos[-1]
    baseline = published_ffd(args.data)
    extra = [
        *(
            (f"{a} − ref (mean bins)", lambda label, group, a=a: excess(group, a))
            for a in ("ffd", search)
            if a in algos
        ),
        (
            f"{search} vs best known UB (better / equal / worse)",
            lambda label, group: head_to_head(group, search, lambda r: int(r["best_known"])),
        ),
        (
            "published FFD, whole class: = OPT · mean − OPT (bins)",
            lambda label, group: baseline.get(label, "-"),
        ),
    ]
    print()
    print(class_table(rows, algos, extra))
    print()
    print(legend(rows, algos, args.time))
    n = len({(r["class"], r["instance"]) for r in rows})
    print(f"Instances run: {n}; files skipped (rejected by the reader): {skipped}.")


if __name__ == "__main__":
    main()
