"""Job configs: the shipped files parse into their models, every bad input is a ValueError
naming the file and the key path, relative paths follow the config's folder, and
command-line overrides win."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cluster_opt.cli import nightly_cmd
from cluster_opt.cli.main import build_parser
from cluster_opt.evaluate import EvaluationConfig, Problem
from cluster_opt.io import load_snapshot
from cluster_opt.jobs.config import (
    MigrationConfig,
    NightlyConfig,
    SweepConfig,
    load_yaml,
    parse_duration,
)
from cluster_opt.jobs.sweep import check_grid
from tests.jobs.conftest import CONFIGS, ROOT, cli

SHIPPED = {"nightly.yaml": NightlyConfig, "migration.yaml": MigrationConfig, "sweep.yaml": SweepConfig}
PROFILES = sorted((CONFIGS / "profiles").glob("*.yaml"))


def write(folder: Path, text: str, name: str = "job.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_every_config_file_is_covered():
    assert sorted(p.name for p in CONFIGS.glob("*.yaml")) == sorted(SHIPPED)
    assert [p.stem for p in PROFILES] == ["balanced", "energy", "stable"]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_configs_parse(name):
    config = load_yaml(CONFIGS / name, SHIPPED[name])
    assert isinstance(config, SHIPPED[name])
    if isinstance(config, NightlyConfig | MigrationConfig):
        assert config.profile == CONFIGS / "profiles" / "balanced.yaml"  # relative to configs/
        assert config.evaluation().terms["migrations"].weight == 0.04


def test_shipped_nightly_values():
    config = load_yaml(CONFIGS / "nightly.yaml", NightlyConfig)
    assert config.periodic.every == 3600.0  # "1h"
    assert config.plan.window_seconds == 14400
    assert config.plan.concurrency.global_ == 500


def test_shipped_sweep_grid_is_valid_for_its_algorithm():
    config = load_yaml(CONFIGS / "sweep.yaml", SweepConfig)
    assert config.snapshots == [CONFIGS / ".." / "examples" / "small"]
    assert config.snapshots[0].resolve() == ROOT / "examples" / "small"
    check_grid(config)  # raises on a setting the algorithm does not take
    with pytest.raises(ValueError, match=r"^grid\.cooling: 'bogus': Input should be"):
        check_grid(config.model_copy(update={"grid": {**config.grid, "cooling": ["adaptive", "bogus"]}}))
    with pytest.raises(ValueError, match=r"^grid\.coolng: 1: Extra inputs are not permitted \(anneal\)"):
        check_grid(config.model_copy(update={"grid": {"coolng": [1]}}))


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_profiles_parse_and_build_a_problem(profile, snapshot):
    config = load_yaml(profile, EvaluationConfig)
    assert config.terms
    problem = Problem(load_snapshot(snapshot), config)  # every term name is known
    weights = dict(zip(problem.term_names, problem.weights, strict=True))
    for name, term in config.terms.items():
        if term.weight is not None:
            assert weights[name] == term.weight


BAD = [
    # (model, yaml text, key path, reason fragment)
    (NightlyConfig, "solvr: {}\n", "solvr", "Extra inputs are not permitted"),
    (NightlyConfig, "solver: {algo: anneal, time: 5}\n", "solver.time", "Extra inputs"),
    (NightlyConfig, "solver: {time_s: -1}\n", "solver.time_s", "greater than 0"),
    (NightlyConfig, "seed: one\n", "seed", "valid integer"),
    (NightlyConfig, "plan: {concurrency: {per_host: 0}}\n", "plan.concurrency.per_host", "greater than"),
    (NightlyConfig, "plan: {window_seconds: 1h}\n", "plan.window_seconds", "valid number"),
    (NightlyConfig, "periodic: {every: 1 fortnight}\n", "periodic.every", "not a duration"),
    (NightlyConfig, "periodic: {every: 0s}\n", "periodic.every", "greater than 0"),
    (NightlyConfig, "periodic: {min_benefit: -1}\n", "periodic.min_benefit", "greater than or equal"),
    (
        NightlyConfig,
        "objective: {terms: {energy_watts: {weight: -1}}}\n",
        "objective.terms.energy_watts.weight",
        "greater than or equal",
    ),
    (
        NightlyConfig,
        "objective: {terms: {energy_wats: {weight: 1}}}\n",
        "objective.terms.energy_wats",
        "unknown term",
    ),
    (NightlyConfig, "profile: profiles/none.yaml\n", "profile", "does not point to a file"),
    (NightlyConfig, "profile: p.yaml\nobjective: {}\n", "(top)", "either 'profile'"),
    (MigrationConfig, "seed: 1\n", "(top)", "exactly one of 'drain' or 'target'"),
    (MigrationConfig, "drain: {rack: a, zone: b}\n", "drain", "exactly one of hosts, rack or zone"),
    (MigrationConfig, "target: absent.csv\n", "target", "does not point to a file"),
    (SweepConfig, "snapshots: []\n", "snapshots", "at least 1 item"),
    (
        SweepConfig,
        "snapshots: [s]\ngrid: {cooling: []}\n",
        "grid",
        "grid entries without values: ['cooling']",
    ),
    (SweepConfig, "snapshots: [s]\nrepeats: 0\n", "repeats", "greater than or equal to 1"),
    (EvaluationConfig, "terms: {energy_watts: {weight: -1}}\n", "terms.energy_watts.weight", "greater than"),
    (EvaluationConfig, "terms: {energy_wats: {weight: 1}}\n", "terms.energy_wats", "unknown term"),
    (EvaluationConfig, "terms: {energy_watts: {wieght: 1}}\n", "terms.energy_watts.wieght", "Extra inputs"),
]


@pytest.mark.parametrize(
    ("model", "text", "key", "reason"), BAD, ids=[f"{b[0].__name__}:{b[2]}" for b in BAD]
)
def test_bad_key_or_value_names_the_file_and_the_key(tmp_path, model, text, key, reason):
    write(tmp_path, "terms: {}\n", "p.yaml")
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match="^" + re.escape(str(path))) as info:
        load_yaml(path, model)
    message = str(info.value)
    assert f"{path}: {key}: " in message or f"; {key}: " in message, message
    assert reason in message


def test_every_bad_key_is_listed_at_once(tmp_path):
    path = write(tmp_path, "seed: x\nsolver: {time_s: 0}\nextra: 1\n")
    with pytest.raises(ValueError) as info:
        load_yaml(path, NightlyConfig)
    for key in ("seed: ", "solver.time_s: ", "extra: "):
        assert key in str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(ValueError, match="^" + re.escape(f"{path}: cannot read the config: No such file")):
        load_yaml(path, NightlyConfig)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("solver: [time_s: 1\n", "not valid YAML"), ("- a\n- b\n", "expected a mapping at the top level")],
)
def test_bad_yaml(tmp_path, text, reason):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match="^" + re.escape(f"{path}: {reason}")):
        load_yaml(path, NightlyConfig)


def test_bad_profile_file_is_named_when_used(tmp_path):
    write(tmp_path, "terms: {hourly_cost: {weight: x}}\n", "p.yaml")
    config = load_yaml(write(tmp_path, "profile: p.yaml\n"), NightlyConfig)
    with pytest.raises(
        ValueError, match="^" + re.escape(f"{tmp_path / 'p.yaml'}: terms.hourly_cost.weight: ")
    ):
        config.evaluation()


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [(90, 90.0), ("90", 90.0), ("90s", 90.0), ("15m", 900.0), ("1h", 3600.0), ("1.5d", 129600.0)],
)
def test_durations(duration, seconds):
    assert parse_duration(duration) == seconds


@pytest.mark.parametrize("bad", ["", "1w", "h", "-5m", "1h30m"])
def test_bad_durations(bad):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(bad)


def test_relative_paths_follow_the_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "conf"
    folder.mkdir()
    write(folder, "terms: {}\n", "p.yaml")
    text = "snapshot: snap\nprevious: ../runs/last\nprofile: p.yaml\nperiodic: {snapshots: incoming}\n"
    monkeypatch.chdir(tmp_path)  # not the config's folder
    config = load_yaml(Path("conf") / write(folder, text).name, NightlyConfig)
    assert config.snapshot.resolve() == folder / "snap"
    assert config.previous.resolve() == tmp_path / "runs" / "last"
    assert config.profile.resolve() == folder / "p.yaml"
    assert config.periodic.snapshots.resolve() == folder / "incoming"
    absolute = load_yaml(write(folder, f"snapshot: {tmp_path / 'elsewhere'}\n", "abs.yaml"), NightlyConfig)
    assert absolute.snapshot == tmp_path / "elsewhere"


def test_sweep_and_migration_overrides_win(tmp_path):
    sweep = load_yaml(CONFIGS / "sweep.yaml", SweepConfig, snapshots=["a", "b"], time_s=1.5, algo=None)
    assert sweep.snapshots == [Path("a"), Path("b")]  # relative to the working directory, as typed
    assert (sweep.time_s, sweep.algo, sweep.repeats) == (1.5, "anneal", 2)
    migration = load_yaml(CONFIGS / "migration.yaml", MigrationConfig, snapshot=str(tmp_path))
    assert migration.snapshot == tmp_path
    assert migration.drain.rack == "us-east/a/r001"


def test_nightly_command_line_overrides_win(tmp_path):
    args = build_parser().parse_args(
        [
            "nightly",
            "--config",
            str(CONFIGS / "nightly.yaml"),
            "--snapshot",
            str(tmp_path),
            "--time",
            "3",
            "--algo",
            "anneal",
            "--seed",
            "7",
            "--every",
            "15m",
            "--max-runs",
            "2",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    config = nightly_cmd.config_from_args(args)
    assert (config.snapshot, config.seed) == (tmp_path, 7)
    assert (config.solver.algo, config.solver.time_s) == ("anneal", 3.0)
    assert (config.periodic.every, config.periodic.max_runs) == (900.0, 2)
    # what the command line does not name comes from the file
    assert config.profile == CONFIGS / "profiles" / "balanced.yaml"
    assert config.plan.window_seconds == 14400 and config.plan.concurrency.global_ == 500
    assert config.periodic.min_benefit == 1.0


def test_nightly_without_config_uses_the_defaults(tmp_path):
    args = build_parser().parse_args(["nightly", "--snapshot", str(tmp_path), "--out", str(tmp_path / "o")])
    assert nightly_cmd.config_from_args(args) == NightlyConfig(snapshot=tmp_path)


@pytest.mark.parametrize(
    ("command", "text", "key"),
    [
        ("nightly", "solver: {time_s: 0}\n", "solver.time_s"),
        ("migrate", "drain: {rack: a, hosts: [h]}\n", "drain"),
        ("sweep", "snapshots: [s]\nmax_concurrent: 0\n", "max_concurrent"),
    ],
)
def test_a_bad_config_is_exit_1_and_writes_nothing(tmp_path, command, text, key):
    path = write(tmp_path, text)
    out = tmp_path / "out"
    result = cli(command, "--config", path, "--out", out)
    assert result.code == 1
    assert str(path) in result.err and key in result.err
    assert not out.exists()


def test_a_bad_duration_on_the_command_line_is_exit_1(tmp_path):
    result = cli("nightly", "--snapshots", tmp_path, "--every", "soon", "--out", tmp_path / "out")
    assert result.code == 1
    assert "'soon' is not a duration" in result.err
