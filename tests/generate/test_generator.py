"""The synthetic cluster generator: exact sizes, structure, determinism, feasibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cluster_opt.evaluate import Problem, evaluate
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io import load_snapshot, write_snapshot
from cluster_opt.io.load import cluster_from_tables


@pytest.fixture(scope="module", params=["builtin", "data"])
def generated(request, tmp_path_factory):
    data = request.getfixturevalue("shared_data") if request.param == "data" else None
    settings = GeneratorSettings(hosts=600, vms=6000, regions=3, seed=11, data_dir=data)
    tables = generate(settings)
    out = tmp_path_factory.mktemp("gen") / "snap"
    write_snapshot(tables, out)
    return settings, tables, load_snapshot(out)


def test_exact_sizes_and_regions(generated):
    settings, _, cluster = generated
    assert cluster.n_hosts == settings.hosts
    assert cluster.n_vms == settings.vms
    assert len(cluster.topology.regions) == settings.regions


def test_racks_hold_20_to_48_hosts_of_one_type(generated):
    _, tables, _ = generated
    hosts = tables.hosts
    sizes = hosts.groupby(["region", "zone", "rack"]).size()
    # every rack but the last of each region is 20-48 hosts; the last takes the remainder
    last_per_region = hosts.groupby("region")["rack"].max()
    for (region, _zone, rack), n in sizes.items():
        assert n <= 48
        if rack != last_per_region[region]:
            assert n >= 20
    assert (hosts.groupby(["region", "zone", "rack"])["type"].nunique() == 1).all()


def test_current_placement_is_feasible_but_fragmented(generated):
    _, _, cluster = generated
    result = evaluate(Problem(cluster), cluster.current_assignment())
    assert result.feasible, result.violations
    # pending VMs exist but are few
    assert 0 < result.values["unplaced"] < 0.03 * cluster.n_vms
    # first fit with departures leaves room to consolidate: well above the volume bound
    assert result.values["active_hosts"] > 1.15 * result.lower_bounds["active_hosts"]


def test_groups_spot_share_and_latency(generated):
    _, tables, cluster = generated
    vms = tables.vms
    sizes = vms[vms.anti_affinity_group != ""].groupby("anti_affinity_group").size()
    assert len(sizes) > 50
    assert sizes.min() >= 2 and sizes.max() <= 5
    assert set(vms.spread_level) <= {"host", "rack", "zone"}
    assert (vms[vms.affinity_group != ""].groupby("affinity_group").size() == 2).all()
    spot = (vms.pricing == "spot").mean()
    assert 0.15 <= spot <= 0.45  # drawn share 20-40 %, per batch
    lat = cluster.topology.latency_ms
    assert lat.shape == (3, 3) and (np.diag(lat) == 0).all() and (lat[~np.eye(3, dtype=bool)] > 10).all()
    assert (cluster.prices.unit[:, 1, 0] < cluster.prices.unit[:, 0, 0]).all()  # spot cpu < on-demand


def test_gpu_hosts_and_gpu_vms_match(generated):
    _, tables, _ = generated
    gpu_vms = tables.vms[tables.vms.gpus > 0]
    gpu_hosts = tables.hosts[tables.hosts.gpus > 0]
    if gpu_hosts.empty:
        pytest.skip("this draw has no GPU rack")
    assert len(gpu_vms) > 0
    required = set(gpu_vms.gpu_model) - {""}
    assert required <= set(gpu_hosts.gpu_model)


def test_same_seed_same_bytes(tmp_path):
    settings = GeneratorSettings(hosts=150, vms=1200, regions=2, seed=5)
    for name in ("a", "b"):
        write_snapshot(generate(settings), tmp_path / name, fmt="parquet")
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name
    other = generate(GeneratorSettings(hosts=150, vms=1200, regions=2, seed=6))
    assert not other.vms.equals(generate(settings).vms)


def test_in_memory_tables_validate():
    tables = generate(GeneratorSettings(hosts=60, vms=400, regions=1, seed=2))
    cluster = cluster_from_tables(tables)
    assert cluster.n_vms == 400
    assert isinstance(tables.vms, pd.DataFrame)


@pytest.mark.parametrize(
    "bad",
    [
        dict(hosts=0, vms=1),
        dict(hosts=5, vms=1, regions=0),
        dict(hosts=5, vms=1, regions=99),
        dict(hosts=5, vms=1, spot_share=1.5),
    ],
)
def test_bad_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        GeneratorSettings(**bad)
