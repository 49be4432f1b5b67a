"""Shared pieces of the packing benchmarks (``vector_packing.py``, ``bpplib.py``): reference
cases with a proven optimum or a lower bound, deterministic stratified sampling, running the
algorithms on one case with an independent feasibility check, and per-class markdown tables.

A ratio is bins / OPT where the optimum is proven, else bins / LB (a valid lower bound), so
a feasible packing can never score below 1; a ratio below 1 means a checker or data bug and
is reported loudly.
"""

from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import ROOT, machine, parser

from cluster_opt.evaluate import Problem
from cluster_opt.io.issues import SnapshotError
from cluster_opt.io.packing_formats import PackingInstance, packing_cluster, packing_config, read_packing
from cluster_opt.solve import construct
from cluster_opt.solve.run import solve

BEST = "best-heuristic"
DEFAULT_ALGOS = ("ffd", "bfd", BEST, "auto")
#: Order-independent construction heuristics tried by ``best-heuristic``: every decreasing
#: and bin-centric rule with every size key. FF/BF/WF in file order are left out: the
#: triplet files list each optimal triplet consecutively, so first fit in file order
#: reproduces the generator's packing instead of solving anything.
HEURISTICS = tuple(
    f"{rule}-{key}" for rule in construct.RULES if rule.endswith("d") or "-" in rule for key in construct.KEYS
)
#: Per-instance CSV columns (``--out``).
CSV_COLUMNS = (
    "class",
    "instance",
    "n_items",
    "algo",
    "bins",
    "feasible",
    "reference",
    "ref_kind",
    "ratio",
    "published",
    "best_known",
    "seconds",
    "detail",
)


@dataclass(frozen=True)
class Case:
    """One instance file with what is known about it."""

    group: str  # class label, e.g. "Panigrahy/class1"
    path: Path
    n_items: int
    lb: int  # a valid lower bound on the number of bins
    opt: int | None  # the proven optimum, None when open
    published: int | None = None  # fewest bins of the published heuristics
    best_known: int | None = None  # best known upper bound

    @property
    def reference(self) -> int:
        return self.opt if self.opt is not None else self.lb

    @property
    def ref_kind(self) -> str:
        return "OPT" if self.opt is not None else "LB"


def packing_parser(description: str) -> argparse.ArgumentParser:
    """The common benchmark parser (``--data``) plus the packing options."""
    p = parser(description)
    p.add_argument("--per-class", type=int, default=4, help="instances sampled per class (default 4)")
    p.add_argument(
        "--time", type=float, default=10.0, help="seconds per instance for the search (default 10)"
    )
    p.add_argument(
        "--algos",
        default=",".join(DEFAULT_ALGOS),
        help=f"comma-separated heuristics, {BEST}, solvers or auto (default {','.join(DEFAULT_ALGOS)})",
    )
    p.add_argument("--jobs", type=int, default=1, help="parallel processes (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampling and of the solvers (default 0)")
    p.add_argument("--classes", help="comma-separated class labels to run (default: every class)")
    p.add_argument("--out", type=Path, help="CSV of per-instance results")
    p.add_argument(
        "--tables-from", type=Path, help="print the tables of an earlier run's --out CSV instead of running"
    )
    return p


def selected(groups: Iterable[str], classes: str | None) -> list[str]:
    """The class labels to run, in order; raises SystemExit naming unknown ones."""
    groups = list(groups)
    if not classes:
        return groups
    wanted = [c.strip() for c in classes.split(",") if c.strip()]
    unknown = sorted(set(wanted) - set(groups))
    if unknown:
        raise SystemExit(f"unknown class(es) {', '.join(unknown)}; choose from {', '.join(groups)}")
    return [g for g in groups if g in wanted]


def readable(cases: Sequence[Case]) -> tuple[list[Case], list[tuple[Case, str]]]:
    """The cases whose file the reader accepts, and the rejected ones with the reason.
    O(total file size)."""
    good, bad = [], []
    for case in cases:
        try:
            read_packing(case.path)
        except SnapshotError as err:
            bad.append((case, str(err.issues[0])))
        else:
            good.append(case)
    return good, bad


def sample(cases: Sequence[Case], per_class: int, seed: int) -> list[Case]:
    """``per_class`` cases stratified by item count: the cases sorted by (n, name) are cut
    into ``per_class`` consecutive strata and one is drawn from each, by a generator seeded
    from ``seed`` and the class label (so the sample of a class does not depend on which
    other classes run). O(n log n)."""
    ordered = sorted(cases, key=lambda c: (c.n_items, c.path.name))
    if per_class >= len(ordered):
        return ordered
    rng = np.random.default_rng([seed, zlib.crc32(ordered[0].group.encode())])
    return [ordered[int(rng.choice(s))] for s in np.array_split(np.arange(len(ordered)), per_class)]


def check(instance: PackingInstance, x: np.ndarray) -> tuple[int, bool]:
    """(bins used, feasible) of assignment ``x`` recomputed from the integer sizes: every
    item placed and every bin within capacity in every dimension. O(n d)."""
    placed = x >= 0
    bins = int(np.unique(x[placed]).size)
    if not placed.all():
        return bins, False
    load = np.zeros((int(x.max()) + 1, instance.sizes.shape[1]), dtype=np.int64)
    np.add.at(load, x, instance.sizes)
    return bins, bool((load <= instance.capacity).all())


def _best_heuristic(problem: Problem) -> tuple[np.ndarray, str]:
    """The assignment of the construction heuristic using fewest hosts (unplaced items
    count as a failure), and its name. O(sum of the heuristics' costs)."""
    best: tuple[int, int, np.ndarray, str] | None = None
    for name in HEURISTICS:
        x = construct.construct(problem, name)
        key = (int((x < 0).sum()), int(np.unique(x[x >= 0]).size))
        if best is None or key < best[:2]:
            best = (*key, x, name)
    assert best is not None
    return best[2], best[3]


def run_instance(
    instance: PackingInstance, algos: Sequence[str], seconds: float, seed: int
) -> list[tuple[str, np.ndarray, str, float]]:
    """(algorithm, assignment, detail, wall seconds) of every algorithm on ``instance``; a
    solver that returns no solution at all gets an all-unplaced assignment."""
    cluster = packing_cluster(instance)
    problem = Problem(cluster, packing_config(cluster.n_hosts))
    out = []
    for algo in algos:
        start = time.perf_counter()
        if algo == BEST:
            x, detail = _best_heuristic(problem)
        else:
            try:
                x, detail = solve(problem, algo, seconds=seconds, seed=seed)[0].x, ""
            except LookupError as err:  # a solver that ends without any solution: a failure, not a crash
                x, detail = np.full(cluster.n_vms, -1), f"no solution: {err}"
        out.append((algo, np.asarray(x), detail, time.perf_counter() - start))
    return out


def warm_up(algos: Sequence[str]) -> None:
    """Run ``algos`` briefly on two generated instances (one small enough for the exact
    model, one not) so that loading the compiled numba kernels is not charged to the first
    timed instance."""
    rng = np.random.default_rng(0)
    for n in (12, 220):
        sizes = rng.integers(10, 60, size=(n, 2))
        run_instance(PackingInstance("warm-up", sizes, np.array([100, 100])), algos, 1.0, 0)


def run_case(case: Case, algos: Sequence[str], seconds: float, seed: int) -> list[dict[str, object]]:
    """One CSV row per algorithm on ``case``."""
    instance = read_packing(case.path)
    rows = []
    for algo, x, detail, took in run_instance(instance, algos, seconds, seed):
        bins, feasible = check(instance, x)
        rows.append(
            {
                "class": case.group,
                "instance": case.path.stem,
                "n_items": len(instance.sizes),
                "algo": algo,
                "bins": bins,
                "feasible": feasible,
                "reference": case.reference,
                "ref_kind": case.ref_kind,
                "ratio": bins / case.reference if feasible else math.nan,
                "published": case.published if case.published is not None else "",
                "best_known": case.best_known if case.best_known is not None else "",
                "seconds": round(took, 3),
                "detail": detail,
            }
        )
        if feasible and bins < case.reference:
            print(
                f"BUG: {case.path}: {algo} uses {bins} bins, below the {case.ref_kind} {case.reference}",
                file=sys.stderr,
                flush=True,
            )
    return rows


def _run_star(job: tuple[Case, Sequence[str], float, int]) -> list[dict[str, object]]:
    return run_case(*job)


def run_all(cases: Sequence[Case], algos: Sequence[str], seconds: float, seed: int, jobs: int) -> list[dict]:
    """Rows of every case, in case order, over ``jobs`` processes; progress on stderr."""
    work = [(case, tuple(algos), seconds, seed) for case in cases]
    out: list[list[dict]] = [[] for _ in work]
    start = time.perf_counter()

    def note(i: int, rows: list[dict]) -> None:
        out[i] = rows
        done = sum(1 for r in out if r)
        summary = ", ".join(f"{r['algo']} {r['bins']}" for r in rows)
        print(
            f"[{done}/{len(work)} {time.perf_counter() - start:6.0f} s] {cases[i].group} "
            f"{cases[i].path.stem} ({cases[i].ref_kind} {cases[i].reference}): {summary}",
            file=sys.stderr,
            flush=True,
        )

    if jobs <= 1:
        warm_up(algos)
        for i, job in enumerate(work):
            note(i, _run_star(job))
    else:
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=warm_up, initargs=(tuple(algos),)) as pool:
            for i, rows in enumerate(pool.imap(_run_star, work)):
                note(i, rows)
    return [row for rows in out for row in rows]


def results(
    cases: Sequence[Case], algos: Sequence[str], args: argparse.Namespace
) -> tuple[list[dict], Sequence[str]]:
    """The rows and algorithms of this run: read from ``--tables-from``, or run (and
    written to ``--out``)."""
    if args.tables_from:
        with args.tables_from.open() as f:
            rows: list[dict] = list(csv.DictReader(f))
        for r in rows:
            r["feasible"] = r["feasible"] == "True"
        return rows, list(dict.fromkeys(r["algo"] for r in rows))
    rows = run_all(cases, algos, args.time, args.seed, args.jobs)
    if args.out:
        write_csv(args.out, rows)
    return rows, algos


def write_csv(path: Path, rows: Sequence[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


@dataclass(frozen=True)
class Stats:
    """Ratios of one algorithm on one set of instances."""

    n: int
    mean: float
    max: float
    hits: int  # ratio exactly 1
    infeasible: int

    @classmethod
    def of(cls, ratios: Sequence[float]) -> Stats:
        r = np.asarray(ratios, dtype=np.float64)
        ok = r[~np.isnan(r)]
        if not ok.size:
            return cls(len(r), math.nan, math.nan, 0, len(r))
        return cls(len(r), float(ok.mean()), float(ok.max()), int((ok == 1.0).sum()), int(r.size - ok.size))

    def cell(self) -> str:
        """``mean / max / hits`` (and the infeasible count when any)."""
        if not self.n:
            return "-"
        text = f"{self.mean:.3f} / {self.max:.3f} / {self.hits}"
        return text + (f" ({self.infeasible} INFEASIBLE)" if self.infeasible else "")


def by_class(rows: Sequence[dict]) -> dict[str, list[dict]]:
    """Rows grouped by class label, in first-seen order."""
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(str(row["class"]), []).append(row)
    return out


def ratios(rows: Sequence[dict], algo: str) -> list[float]:
    return [float(r["ratio"]) for r in rows if r["algo"] == algo]


def references(rows: Sequence[dict]) -> str:
    """What the ratios divide by: ``OPT``, ``LB`` or ``OPT 3, LB 1``."""
    kinds = list({(r["class"], r["instance"]): r["ref_kind"] for r in rows}.values())
    counts = {k: kinds.count(k) for k in ("OPT", "LB") if k in kinds}
    return next(iter(counts)) if len(counts) == 1 else ", ".join(f"{k} {v}" for k, v in counts.items())


def head_to_head(rows: Sequence[dict], algo: str, other: Callable[[dict], int | None]) -> str:
    """``better / equal / worse`` counts of ``algo``'s bins against ``other(row)``."""
    pairs = [(int(r["bins"]), other(r)) for r in rows if r["algo"] == algo and r["feasible"]]
    pairs = [(a, b) for a, b in pairs if b is not None]
    if not pairs:
        return "-"
    return " / ".join(str(sum(f(a, b) for a, b in pairs)) for f in (int.__lt__, int.__eq__, int.__gt__))


Column = tuple[str, Callable[[str, list[dict]], str]]


def class_table(rows: Sequence[dict], algos: Sequence[str], extra: Sequence[Column]) -> str:
    """Markdown: one line per class (instances run, what the ratio divides by, then
    ``mean / max / hits`` per algorithm and the ``extra`` columns), a line over every
    instance run and one over those with a proven optimum (when there are any)."""
    groups = by_class(rows)
    header = ["class", "run", "ratio to", *algos, *(name for name, _ in extra)]
    lines = []
    proven = [r for r in rows if r["ref_kind"] == "OPT"]
    totals = [("all classes", list(rows))] + ([("all, proven OPT only", proven)] if proven else [])
    for label, group in [*groups.items(), *totals]:
        n = len({(r["class"], r["instance"]) for r in group})
        cells = [Stats.of(ratios(group, a)).cell() for a in algos]
        lines.append([label, str(n), references(group), *cells, *(f(label, group) for _, f in extra)])
    return markdown(header, lines)


def markdown(header: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out)


def markdown_rows(text: str, header: Sequence[str]) -> list[dict[str, str]]:
    """The rows of the first markdown table in ``text`` whose header line starts with the
    cells ``header``, as dicts keyed by the header cells."""

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    lines = text.splitlines()
    for i, line in enumerate(lines):
        names = cells(line)
        if line.startswith("|") and names[: len(header)] == list(header):
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(dict(zip(names, cells(row), strict=False)))
            return rows
    return []


def provenance(args: argparse.Namespace, argv: Sequence[str]) -> str:
    """Machine, load, code version and the command, for the report (call it before the
    run)."""

    def git(*cmd: str) -> str:  # read-only: no index refresh
        try:
            run = subprocess.run(
                ["git", "--no-optional-locks", "-C", str(ROOT), *cmd], capture_output=True, text=True
            )
        except OSError:
            return ""
        return run.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " + uncommitted changes"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    run = (
        f"tables of the earlier run {args.tables_from}"
        if args.tables_from
        else f"per class {args.per_class}, {args.time:g} s per search, seed {args.seed}, {args.jobs} job(s)"
    )
    return (
        f"machine: {machine()}; load average {load}; code {commit}\ncommand: python {' '.join(argv)}\n{run}"
    )


def legend(rows: Sequence[dict], algos: Sequence[str], seconds: float) -> str:
    """What the cells mean, and the wall time each algorithm took per instance."""
    took = []
    for algo in algos:
        t = np.array([float(r["seconds"]) for r in rows if r["algo"] == algo])
        if t.size:
            took.append(f"{algo} median {np.median(t):.2f} s, max {t.max():.2f} s")
    return (
        "Cells: mean / max of bins/reference over the instances run / hits (bins = reference, "
        f"a proven optimum). {BEST} = fewest bins of {len(HEURISTICS)} construction heuristics "
        f"({', '.join(HEURISTICS)}); solvers were given {seconds:g} s per instance.\n"
        f"Wall time per instance: {'; '.join(took)}."
    )
