"""ray_cluster.yaml is a valid Ray cluster launcher config (checked with Ray's own schema and
config preparation; nothing is started and no cloud API is called)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "ray_cluster.yaml"

jsonschema = pytest.importorskip("jsonschema")
autoscaler = pytest.importorskip("ray.autoscaler")


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load(CONFIG.read_text())


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads((Path(autoscaler.__file__).parent / "ray-schema.json").read_text())


def test_matches_rays_schema(config, schema):
    jsonschema.validate(config, schema)


def test_ray_prepares_and_validates_it(config):
    from ray.autoscaler._private.util import prepare_config, validate_config

    prepared = prepare_config(config)  # merges the provider defaults, as `ray up` does
    validate_config(prepared)
    types = prepared["available_node_types"]
    assert prepared["head_node_type"] == "head" and types["head"]["max_workers"] == 0
    workers = {name: t for name, t in types.items() if name != "head"}
    assert workers and all(t["max_workers"] > 0 for t in workers.values())
    assert sum(t["min_workers"] for t in workers.values()) <= prepared["max_workers"]
    # our commands replace the provider defaults (which would install a Ray nightly)
    assert prepared["setup_commands"] == config["setup_commands"]
    assert "ray-wheels" not in " ".join(prepared["head_setup_commands"] + prepared["worker_setup_commands"])


def test_no_global_min_workers(config, schema):
    assert "min_workers" not in config
    with pytest.raises(jsonschema.ValidationError, match="'min_workers' was unexpected"):
        jsonschema.validate({**config, "min_workers": 1}, schema)  # the schema is strict


def test_setup_installs_the_mounted_checkout(config):
    mounts = config["file_mounts"]
    remote = next(r for r, local in mounts.items() if (CONFIG.parent / local).resolve() == ROOT)
    assert (ROOT / "pyproject.toml").is_file()
    installs = [c for c in config["setup_commands"] if c.startswith("pip install") and remote in c]
    assert installs, f"no setup command installs {remote}"


def test_image_python_satisfies_the_package():
    config = yaml.safe_load(CONFIG.read_text())
    tag = re.fullmatch(r"rayproject/ray:(\d+\.\d+\.\d+)-py3(\d+)-\w+", config["docker"]["image"])
    assert tag, config["docker"]["image"]
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = int(re.search(r">=\s*3\.(\d+)", required).group(1))
    assert int(tag.group(2)) >= minimum


def test_start_commands_start_ray(config):
    head = " ".join(config["head_start_ray_commands"])
    worker = " ".join(config["worker_start_ray_commands"])
    assert "ray start --head" in head and "--autoscaling-config=~/ray_bootstrap_config.yaml" in head
    assert "ray start --address=$RAY_HEAD_IP:6379" in worker
