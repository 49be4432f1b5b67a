"""``cluster-opt evaluate``: every objective and constraint term of a placement."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from cluster_opt.cli.render import print_evaluation, print_json
from cluster_opt.evaluate import EvaluationConfig, Problem, evaluate
from cluster_opt.io import load_snapshot, read_assignment

ORDER = 30
NAME = "evaluate"
HELP = "score a placement (the current one, or --assignment) term by term with lower bounds"
EXAMPLE = """example:
  cluster-opt evaluate examples/small
  cluster-opt evaluate snap --assignment out/assignment.csv --json
  cluster-opt evaluate snap --config profile.yaml   # weights / hard flags per term

--json prints one object: feasible, violations, objectives, lower_bounds, gaps, score,
penalty, hard, weights, units, details."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", type=Path, help="snapshot directory")
    p.add_argument("--assignment", type=Path, help="assignment file (vm,host); default: current placement")
    p.add_argument("--config", type=Path, help="evaluation config YAML (terms: {name: {weight, hard}})")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def load_config(path: Path | None) -> EvaluationConfig:
    """An EvaluationConfig from YAML; errors name the file and the key."""
    if path is None:
        return EvaluationConfig()
    data = yaml.safe_load(path.read_text()) or {}
    try:
        return EvaluationConfig.model_validate(data)
    except Exception as exc:
        raise ValueError(f"{path}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    cluster = load_snapshot(args.snapshot)
    x = read_assignment(args.assignment, cluster) if args.assignment else cluster.current_assignment()
    result = evaluate(Problem(cluster, load_config(args.config)), x)
    if args.json:
        print_json(result.to_json())
    else:
        which = args.assignment or "current placement"
        print_evaluation(result, title=f"{args.snapshot}: {which}")
    return 0
