"""``cluster-opt optimize``: the distributed engine on a snapshot (embedded local Ray, or
an existing cluster with ``--ray-address``)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from pathlib import Path

from rich.live import Live

from cluster_opt.cli.evaluate_cmd import load_config
from cluster_opt.cli.render import console, print_evaluation
from cluster_opt.distributed import EngineSettings, optimize
from cluster_opt.distributed.display import ProgressView
from cluster_opt.distributed.outputs import write_engine_outputs
from cluster_opt.evaluate import Problem, evaluate
from cluster_opt.io import load_snapshot
from cluster_opt.jobs.config import load_yaml, validate

ORDER = 45
NAME = "optimize"
HELP = "optimise a snapshot with island actors on Ray (partitions, elite exchange, global pass, front)"
EXAMPLE = """example:
  cluster-opt optimize snap --time 60 --islands 2 --seed 1 --out runs/opt
  cluster-opt optimize snap --time 600 --islands 8 --ray-address auto --out runs/opt8

Writes DIR/assignment.csv, evaluation.json (as `evaluate --json`, for the chosen solution),
front.csv (the Pareto front: one row per solution with its objective values), run.json
(islands started, lost and restarted, migrants exchanged, time to the first feasible
solution, partitions, events) and progress.csv (each island's objective over time).
Ctrl-C stops the search and writes the best solution found so far."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", type=Path, help="snapshot directory")
    p.add_argument("--time", type=float, default=60.0, help="time budget in seconds (default 60)")
    p.add_argument("--islands", type=int, help="island actors (default 2, or the engine file's)")
    p.add_argument("--ray-address", help="an existing Ray cluster (default: embedded local Ray)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--config", type=Path, help="evaluation config YAML (objective profile)")
    p.add_argument("--engine", type=Path, help="engine settings YAML (see docs/distributed.md)")
    p.add_argument("--mix", help="comma-separated solvers run by the islands in turn, e.g. reduce,anneal,lns")
    p.add_argument("--choose", choices=["score", "knee"], help="solution picked from the front")
    p.add_argument("--reproducible", action="store_true", help="synchronous rounds, work counted not timed")
    p.add_argument("--out", type=Path, required=True, help="output directory (must not exist unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing output directory")
    p.add_argument("--quiet", action="store_true", help="no live progress display")


def engine_settings(args: argparse.Namespace) -> EngineSettings:
    """The engine file's settings with the command line's overrides."""
    overrides = {
        "islands": args.islands,
        "mix": args.mix.split(",") if args.mix else None,
        "choose": args.choose,
        "reproducible": True if args.reproducible else None,
    }
    if args.engine:
        return load_yaml(args.engine, EngineSettings, **overrides)
    return validate(EngineSettings, {k: v for k, v in overrides.items() if v is not None}, "command line")


def run(args: argparse.Namespace) -> int:
    settings = engine_settings(args)
    problem = Problem(load_snapshot(args.snapshot), load_config(args.config))
    cancel = threading.Event()
    view = ProgressView(args.time)
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())  # Ctrl-C: stop, keep the best
    try:
        live = contextlib.nullcontext() if args.quiet else Live(view, console=console(), refresh_per_second=4)
        with live:
            result = optimize(
                problem,
                args.time,
                settings=settings,
                seed=args.seed,
                ray_address=args.ray_address,
                cancel=cancel,
                on_update=view,
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    write_engine_outputs(args.out, problem, result, overwrite=args.force)
    run_info = result.run
    print_evaluation(evaluate(problem, result.best.x), title=f"{args.snapshot}: optimize, {args.time:g} s")
    out = console()
    out.print(
        f"islands: {run_info['islands']['started']} started, {run_info['islands']['lost']} lost, "
        f"{run_info['islands']['restarted']} restarted; {run_info['migrants_exchanged']} migrants exchanged; "
        f"first feasible after {run_info['time_to_first_feasible_s']:.2f} s; "
        f"front of {run_info['front_size']}{' (cancelled)' if run_info['cancelled'] else ''}"
    )
    for note in run_info["notes"]:
        out.print(f"note: {note}")
    out.print(f"wrote {args.out}/assignment.csv, evaluation.json, front.csv, run.json, progress.csv")
    return 0 if result.best.feasible else 1
