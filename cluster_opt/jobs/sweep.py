"""Parameter sweeps with Ray Tune: every combination of solver settings on every snapshot,
``repeats`` seeds each; results as a DataFrame (``results.csv``), a plot of quality against
time per setting (``quality_vs_time.svg``), and the best setting written back as a profile
(``best_profile.yaml``, loadable as the ``solver`` section of a nightly config)."""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from cluster_opt.distributed.runtime import connect
from cluster_opt.distributed.settings import EngineSettings
from cluster_opt.evaluate import EvaluationConfig, Evaluator, Problem
from cluster_opt.io import load_snapshot
from cluster_opt.jobs.config import SolverConfig, SweepConfig, load_yaml
from cluster_opt.jobs.search import search
from cluster_opt.solve.registry import solvers
from cluster_opt.solve.run import seed_solutions

#: Columns of results.csv besides the swept settings.
METRICS = ("score", "feasible", "seconds", "time_to_best_s", "active_hosts", "energy_watts", "migrations")


@functools.lru_cache(maxsize=4)
def _problem(snapshot: str, profile: str | None, pool: bool) -> tuple[Problem, np.ndarray | None]:
    """The problem and, when ``pool``, a single solver's seed pool (the engine builds its
    own start), built once per worker process and snapshot."""
    config = load_yaml(profile, EvaluationConfig) if profile else EvaluationConfig()
    problem = Problem(load_snapshot(snapshot), config)
    return problem, seed_solutions(problem) if pool else None


def solver_config(algo: str, time_s: float, settings: dict[str, Any]) -> SolverConfig:
    """The search of one trial: the swept values are engine settings for ``engine``, the
    solver's settings otherwise (checked: pydantic's ValidationError when one is wrong)."""
    if algo == "engine":
        return SolverConfig(algo=algo, time_s=time_s, engine=EngineSettings.model_validate(settings))
    if algo in solvers():
        solvers()[algo].Settings.model_validate(settings)
    return SolverConfig(algo=algo, time_s=time_s, settings=settings)


def trial(params: dict[str, Any]) -> dict[str, Any]:
    """One sweep trial: solve one snapshot with one setting and seed; the metrics row."""
    problem, seeds = _problem(params["snapshot"], params.get("profile"), params["algo"] != "engine")
    settings = {k[len("setting.") :]: v for k, v in params.items() if k.startswith("setting.")}
    config = solver_config(params["algo"], params["time_s"], settings)
    found = search(problem, config, seed=params["seed"], seeds=seeds)
    history = best_over_time(found.islands)
    values = Evaluator(problem).batch(found.best.x[None]).values
    return {
        "score": found.best.score,
        "feasible": found.best.feasible,
        "seconds": params["time_s"],
        "time_to_best_s": history[-1][0] if history else 0.0,
        "history": json.dumps(history),
        **{k: float(values[k][0]) for k in ("active_hosts", "energy_watts", "migrations") if k in values},
    }


def best_over_time(progress: pd.DataFrame | None) -> list[tuple[float, float]]:
    """(elapsed s, best score) at every improvement of the best over all islands."""
    if progress is None or not len(progress):
        return []
    rows = progress.sort_values("elapsed_s", kind="stable")
    best = rows["best_score"].cummin()
    improved = best < best.shift(fill_value=np.inf)
    return [(float(t), float(b)) for t, b in zip(rows["elapsed_s"][improved], best[improved], strict=True)]


def grid(config: SweepConfig) -> list[dict[str, Any]]:
    """Every trial's parameters: snapshots x setting combinations x repeats."""
    keys = sorted(config.grid)
    combos = list(itertools.product(*(config.grid[k] for k in keys))) or [()]
    out = []
    for snapshot, combo, rep in itertools.product(config.snapshots, combos, range(config.repeats)):
        out.append(
            {
                "snapshot": str(Path(snapshot).resolve()),
                "profile": str(Path(config.profile).resolve()) if config.profile else None,
                "algo": config.algo,
                "time_s": config.time_s,
                "seed": config.seed + rep,
                **{f"setting.{k}": v for k, v in zip(keys, combo, strict=True)},
            }
        )
    return out


def check_grid(config: SweepConfig) -> None:
    """Every combination of the grid is a valid setting of ``config.algo``: a ValueError
    naming the grid key and value otherwise, before Ray starts (not once per trial)."""
    keys = sorted(config.grid)
    if config.algo != "engine" and config.algo not in solvers():
        return  # auto and the construction heuristics take no settings
    for combo in itertools.product(*(config.grid[k] for k in keys)):
        try:
            solver_config(config.algo, config.time_s, dict(zip(keys, combo, strict=True)))
        except ValidationError as exc:
            e = exc.errors()[0]
            key = ".".join(str(p) for p in e["loc"][-1:]) or "/".join(keys)
            raise ValueError(f"grid.{key}: {e.get('input')!r}: {e['msg']} ({config.algo})") from None


def run_sweep(config: SweepConfig, out: Path, *, ray_address: str | None = None) -> pd.DataFrame:
    """Run every trial as a Ray Tune trial (at most ``max_concurrent`` at once, one CPU
    each) and write results.csv, quality_vs_time.svg and best_profile.yaml into ``out``.
    Returns the results (one row per trial)."""
    from ray import tune

    check_grid(config)
    connect(ray_address)
    engine = config.algo == "engine"
    trials = grid(config)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    # Tune searches over the trial index; each trial looks its parameters up (shipped once)
    tuner = tune.Tuner(
        # an engine trial only waits for its islands (actors with their own CPUs), one at a time
        tune.with_resources(tune.with_parameters(_indexed, trials=trials), {"cpu": 0.01 if engine else 1}),
        param_space={"index": tune.grid_search(list(range(len(trials))))},
        tune_config=tune.TuneConfig(max_concurrent_trials=1 if engine else config.max_concurrent),
        run_config=tune.RunConfig(storage_path=str(out / "tune"), name="sweep", verbose=0),
    )
    results = tuner.fit()
    if results.errors:
        raise RuntimeError(
            f"{len(results.errors)} of {len(trials)} trials failed; first: {results.errors[0]}"
        )
    frame = results.get_dataframe()
    table = _table(frame, trials)
    table.drop(columns=["history"]).to_csv(out / "results.csv", index=False)
    _plot(table, out / "quality_vs_time.svg")
    _best_profile(table, config, out / "best_profile.yaml")
    return table


def _indexed(params: dict[str, Any], trials: list[dict[str, Any]]) -> dict[str, Any]:
    return trial(trials[params["index"]])


def _table(frame: pd.DataFrame, trials: list[dict[str, Any]]) -> pd.DataFrame:
    params = pd.DataFrame(trials)
    params["index"] = range(len(trials))
    keep = ["config/index", *[c for c in (*METRICS, "history") if c in frame.columns]]
    got = frame[keep].rename(columns={"config/index": "index"})
    return params.merge(got, on="index", how="left").sort_values("index").reset_index(drop=True)


def setting_label(row: pd.Series) -> str:
    names = [c for c in row.index if c.startswith("setting.")]
    return ", ".join(f"{c[len('setting.') :]}={row[c]}" for c in names) or "defaults"


def _plot(table: pd.DataFrame, path: Path) -> None:
    """Best score against time, one line per setting (median over repeats and snapshots
    of the score normalised by each snapshot's best)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    best = table.groupby("snapshot")["score"].transform("min")
    for label, rows in table.assign(label=table.apply(setting_label, axis=1), best=best).groupby("label"):
        grid_t = np.linspace(0.0, float(rows["seconds"].max()), 50)
        curves = []
        for _, r in rows.iterrows():
            steps = json.loads(r["history"]) if isinstance(r["history"], str) else []
            if not steps:
                continue
            t, s = np.array(steps).T
            idx = np.searchsorted(t, grid_t, side="right") - 1
            curves.append(s[np.maximum(idx, 0)] / max(r["best"], 1e-12))  # before the first: the first
        if curves:
            ax.plot(grid_t, np.median(np.vstack(curves), axis=0), label=label)
    ax.set_xlabel("elapsed (s)")
    ax.set_ylabel("best score / best of the sweep (lower is better)")
    ax.set_title("quality against time per setting")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, format="svg")


def _best_profile(table: pd.DataFrame, config: SweepConfig, path: Path) -> None:
    """The setting with the lowest mean normalised score over snapshots and repeats, as a
    ``solver`` section (feasible runs only when there are any)."""
    rows = table[table["feasible"].astype(bool)] if table["feasible"].astype(bool).any() else table
    rows = rows.assign(norm=rows["score"] / rows.groupby("snapshot")["score"].transform("min"))
    names = [c for c in rows.columns if c.startswith("setting.")]
    ranked = rows.groupby(names, dropna=False)["norm"].mean().sort_values() if names else rows["norm"]
    best = ranked.index[0] if names else None
    values = best if isinstance(best, tuple) else (best,)
    settings = {n[len("setting.") :]: _plain(v) for n, v in zip(names, values, strict=False)}
    section = "engine" if config.algo == "engine" else "settings"
    profile = {"solver": {"algo": config.algo, "time_s": config.time_s, section: settings}}
    header = f"# best of {len(table)} trials (mean score / best per snapshot: {float(ranked.iloc[0]):.4f})\n"
    path.write_text(header + yaml.safe_dump(profile, sort_keys=False))


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
