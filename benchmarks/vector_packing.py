"""Vector bin packing against proven optima (Mommessin, Erlebach & Shakhlevich 2024
instances, ../shared/data/vector_packing_mommessin2024): bins/OPT (bins/LB where the
optimum is unknown) per class for FFD, BFD, the best construction heuristic and the search,
next to the best of the ~350 published heuristics on the same instances (``best_overall``
of ``results/*_summary_known.csv``) and on the whole class (the table of
published_results/README.md section 1a, recomputed from the same files).

Files the reader rejects (negative sizes in some Caprara triplet files) are skipped and
counted per class.

    python benchmarks/vector_packing.py [--per-class 4] [--time 10] [--jobs 1]
        [--algos ffd,bfd,best-heuristic,auto] [--classes Triplet/Falkenauer,...] [--out runs/vp.csv]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from packing_common import (
    Case,
    Stats,
    by_class,
    class_table,
    head_to_head,
    legend,
    packing_parser,
    provenance,
    readable,
    results,
    sample,
    selected,
)

FOLDER = "vector_packing_mommessin2024"
BENCHMARKS = ("Panigrahy", "New", "Triplet")


def _summary(data: Path, benchmark: str) -> dict[str, dict[str, int]]:
    """``instance_name`` -> {LB, OPT, best_overall} from the tab-separated summary file."""
    path = data / FOLDER / "results" / f"{benchmark}_summary_known.csv"
    with path.open() as f:
        return {
            row["instance_name"]: {k: int(row[k]) for k in ("LB", "OPT", "best_overall")}
            for row in csv.DictReader(f, delimiter="\t")
        }


def cases(data: Path) -> dict[str, list[Case]]:
    """Every instance file by class label (``<benchmark>/<folder>``), with its LB, OPT
    (None when the summary has -1) and the published best. O(number of files)."""
    out: dict[str, list[Case]] = {}
    for benchmark in BENCHMARKS:
        summary = _summary(data, benchmark)
        for folder in sorted(p for p in (data / FOLDER / "instances" / benchmark).iterdir() if p.is_dir()):
            group = out.setdefault(f"{benchmark}/{folder.name}", [])
            for path in sorted(folder.glob("*.vbp")):
                known = summary[path.stem]
                group.append(
                    Case(
                        group=f"{benchmark}/{folder.name}",
                        path=path,
                        n_items=int(path.stem.split("_")[1]),
                        lb=known["LB"],
                        opt=known["OPT"] if known["OPT"] > 0 else None,
                        published=known["best_overall"] if known["best_overall"] > 0 else None,
                        best_known=known["OPT"] if known["OPT"] > 0 else known["best_overall"],
                    )
                )
    return out


def published_class(group: list[Case]) -> str:
    """Mean best/OPT over the instances with a proven optimum and mean best/LB over all,
    as in published_results/README.md section 1a."""
    with_opt = [c.published / c.opt for c in group if c.opt and c.published]
    over_lb = [c.published / c.lb for c in group if c.published and c.lb]
    opt = f"{Stats.of(with_opt).mean:.3f} ({len(with_opt)} with OPT)" if with_opt else "- (no OPT)"
    return f"{opt} · {Stats.of(over_lb).mean:.3f}"


def main() -> None:
    args = packing_parser(__doc__).parse_args()
    print(provenance(args, sys.argv))
    every = cases(args.data)
    labels = selected(every, args.classes)
    chosen: list[Case] = []
    skipped: dict[str, int] = {}
    for label in labels:
        good, bad = readable(every[label])
        skipped[label] = len(bad)
        if bad:
            first = bad[0][1]
            print(f"{label}: skipped {len(bad)} files the reader rejects, e.g. {first}", file=sys.stderr)
        chosen += sample(good, args.per_class, args.seed)
    rows, algos = results(chosen, [a.strip() for a in args.algos.split(",") if a.strip()], args)
    search = algos[-1]

    def members(label: str) -> list[Case] | None:
        """The cases of a class; every case for the total line; None for other lines."""
        return [c for lab in labels for c in every[lab]] if label == "all classes" else every.get(label)

    def skipped_cell(label: str, group: list[dict]) -> str:
        found = members(label)
        return "-" if found is None else str(sum(skipped[lab] for lab in {c.group for c in found}))

    def published_same(label: str, group: list[dict]) -> str:
        first = [r for r in group if r["algo"] == algos[0]]
        return Stats.of([int(r["published"]) / int(r["reference"]) for r in first if r["published"]]).cell()

    def published_whole(label: str, group: list[dict]) -> str:
        found = members(label)
        return "-" if found is None else published_class(found)

    extra = [
        ("skipped files", skipped_cell),
        ("published best, same instances", published_same),
        (
            f"{search} vs published (better / equal / worse)",
            lambda label, group: head_to_head(
                group, search, lambda r: int(r["published"]) if r["published"] else None
            ),
        ),
        ("published best, whole class: /OPT · /LB", published_whole),
    ]
    print()
    print(class_table(rows, algos, extra))
    print()
    print(legend(rows, algos, args.time))
    where = ", ".join(f"{k} {v}" for k, v in skipped.items() if v) or "none"
    n = len({(r["class"], r["instance"]) for r in rows})
    print(f"Classes: {len(by_class(rows))}; instances run: {n}; files skipped: {where}.")


if __name__ == "__main__":
    main()
