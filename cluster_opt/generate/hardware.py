"""Host types for the generator and their power curves.

Power curves come from the SPECpower_ssj2008 measurements in
``host_power_specpower/power_models.csv`` (watts at 0 %, 10 %, ... 100 % load of a real
server), scaled by the ratio of the host type's cores to the measured server's cores, so a
64-core host is modelled as that many cores of the measured platform. GPU host types come
from the Alibaba GPU 2023 node list (shapes and models). Without the data, linear idle/peak
figures are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SPECPOWER = Path("host_power_specpower/power_models.csv")
ALIBABA_NODES = Path("traces/alibaba_gpu2023_openb/openb_node_list_all_node.csv")


@dataclass(frozen=True)
class HostType:
    """One hardware SKU."""

    name: str
    cpu: float
    mem_gb: float
    net_gbps: float
    iops: float
    gpus: float
    gpu_model: str
    numa_nodes: int
    share: float  # share of racks of this type (CPU and GPU pools normalised separately)
    spec_model: str  # SPECpower server whose curve (scaled) this type uses
    idle_watts: float  # used when the SPECpower data are absent
    peak_watts: float
    gpu_idle_watts: float = 0.0  # per GPU, added to the whole curve


#: CPU host SKUs (fields in HostType order; gpus 0, no GPU model).
CPU_TYPES: tuple[HostType, ...] = (
    HostType("gp-48", 48, 384, 50, 200_000, 0, "", 2, 0.35, "IBM x3550 (Xeon X5675)", 170, 520),
    HostType("gp-64", 64, 512, 50, 400_000, 0, "", 2, 0.35, "IBM x3550 (Xeon X5670)", 210, 680),
    HostType("mem-32", 32, 768, 25, 200_000, 0, "", 2, 0.15, "IBM x3250 (Xeon X3480)", 160, 420),
    HostType("legacy-16", 16, 128, 10, 50_000, 0, "", 1, 0.15, "IBM x3250 (Xeon X3470)", 170, 450),
)

#: GPU SKUs used when the Alibaba node list is absent.
BUILTIN_GPU_TYPES: tuple[HostType, ...] = (
    HostType("gpu-G2", 96, 384, 100, 400_000, 8, "G2", 2, 0.5, "IBM x3550 (Xeon X5670)", 400, 1400, 50),
    HostType("gpu-T4", 104, 512, 50, 400_000, 2, "T4", 2, 0.3, "IBM x3550 (Xeon X5670)", 350, 1100, 15),
    HostType("gpu-P100", 16, 120, 25, 200_000, 2, "P100", 1, 0.2, "IBM x3550 (Xeon X5675)", 200, 500, 30),
)


def gpu_types_from_alibaba(data_dir: Path, top: int = 5) -> tuple[HostType, ...] | None:
    """The ``top`` most common GPU node shapes of the Alibaba GPU 2023 cluster."""
    path = data_dir / ALIBABA_NODES
    if not path.exists():
        return None
    nodes = pd.read_csv(path)
    gpu = nodes[nodes["gpu"] > 0]
    counts = gpu.groupby(["cpu_milli", "memory_mib", "gpu", "model"]).size().sort_values(ascending=False)
    out = []
    total = counts.head(top).sum()
    for (cpu_m, mem_m, n_gpu, model), n in counts.head(top).items():
        cores = cpu_m / 1000.0
        out.append(HostType(
            name=f"gpu-{model}-{int(cores)}c", cpu=cores, mem_gb=round(mem_m / 1024.0, 1),
            net_gbps=100 if n_gpu >= 8 else 50, iops=400_000, gpus=float(n_gpu), gpu_model=str(model),
            numa_nodes=2 if cores >= 32 else 1, share=float(n / total),
            spec_model="IBM x3550 (Xeon X5670)", idle_watts=0, peak_watts=0,
            gpu_idle_watts=50.0 if n_gpu >= 8 else 30.0,
        ))  # fmt: skip
    return tuple(out)


def load_specpower(data_dir: Path) -> pd.DataFrame | None:
    """The SPECpower table (model, cpus, cores_per_cpu, p0 ... p100) or None if absent."""
    path = data_dir / SPECPOWER
    return pd.read_csv(path) if path.exists() else None


def power_curve(host_type: HostType, spec: pd.DataFrame) -> tuple[str, np.ndarray]:
    """(curve name, watts at 0..100 %) for a host type, scaled from its SPECpower server."""
    row = spec[spec["model"] == host_type.spec_model]
    if row.empty:
        raise KeyError(f"SPECpower model {host_type.spec_model!r} not in {SPECPOWER}")
    row = row.iloc[0]
    server_cores = float(row["cpus"] * row["cores_per_cpu"])
    scale = host_type.cpu / server_cores
    points = row[[f"p{10 * i}" for i in range(11)]].to_numpy(dtype=np.float64)
    watts = np.round(points * scale + host_type.gpus * host_type.gpu_idle_watts, 1)
    return f"{host_type.spec_model} x{scale:.2f}", watts
