"""VM workload models for the generator: sizes, tenant batches and lifetimes.

With the reference data present, sizes, tenant batches and lifetimes come from the Azure 2017
VM arrival trace (traces/azure2017_vm_arrivals_bergsma, the ``v1.dev`` part with lifetimes)
and GPU VM shapes from the Alibaba GPU 2023 pod list (traces/alibaba_gpu2023_openb). Without
the data a built-in approximation is used (flavour sizes from the public Azure size table,
frequencies and lifetimes roughly matched to the trace), and the snapshot says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

AZURE_DIR = Path("traces/azure2017_vm_arrivals_bergsma")
ALIBABA_PODS = Path("traces/alibaba_gpu2023_openb/openb_pod_list_gpuspec33.csv")

#: Public Azure 2017 flavour sizes (cores, GB); used only when the trace is absent.
_BUILTIN_FLAVOURS = {
    "a": (1, 0.75, 27882), "b": (1, 1.75, 512172), "c": (1, 2, 300), "d": (16, 112, 300),
    "e": (2, 14, 300), "f": (2, 16, 300), "g": (2, 3.5, 334058), "h": (2, 4, 300),
    "i": (4, 28, 300), "j": (4, 32, 300), "k": (4, 7, 135875), "l": (4, 8, 300),
    "m": (8, 14, 134230), "n": (8, 16, 300), "o": (8, 56, 55497), "p": (8, 64, 300),
}  # fmt: skip


@dataclass(frozen=True)
class BatchPool:
    """Tenant batches to draw from: VM ``i`` belongs to batch ``batch[i]`` (batches are
    contiguous), has ``cores[i]``, ``mem_gb[i]`` and lifetime bounds in seconds
    ``[life_lo[i], life_hi[i]]`` (``censored[i]``: still running when observed)."""

    batch_start: np.ndarray  # int64[B + 1]
    cores: np.ndarray
    mem_gb: np.ndarray
    life_lo: np.ndarray
    life_hi: np.ndarray
    censored: np.ndarray
    source: str

    @property
    def n_batches(self) -> int:
        return len(self.batch_start) - 1


@dataclass(frozen=True)
class GpuShapes:
    """GPU VM shapes to draw from: cores, mem_gb, gpus and a required model ('' = any)."""

    cores: np.ndarray
    mem_gb: np.ndarray
    gpus: np.ndarray
    model: np.ndarray
    source: str


def _bin_bounds(interval_map: Path) -> dict[int, tuple[float, float]]:
    table = pd.read_csv(interval_map, sep=" ", header=None, names=["secs", "bin"])
    grouped = table.groupby("bin")["secs"]
    lo, hi = grouped.min(), grouped.max()
    return {int(b): (float(lo[b]), float(hi[b]) + 300.0) for b in lo.index}


def load_azure_batches(data_dir: Path) -> BatchPool | None:
    """Parse the Azure v1.dev flavour and lifetime traces into tenant batches.

    Each 5-minute line lists VM flavours; ``|`` closes a tenant batch. The lifetime file has
    the same tokens as ``U<bin>`` (ended) or ``C<bin>`` (still running). O(VMs).
    """
    base = data_dir / AZURE_DIR
    flav_path, life_path = base / "v1.dev.txt", base / "v1.dev.c2100000.txt"
    map_path, bins_path = base / "maps" / "flav_map.txt", base / "maps" / "v1.interval_map.txt"
    if not all(p.exists() for p in (flav_path, life_path, map_path, bins_path)):
        return None
    flavours = {}  # lines "<cores>,<GB> <letter>"
    for row in map_path.read_text().splitlines():
        if row.strip():
            size, letter = row.split()
            cores, gb = size.split(",")
            flavours[letter] = (float(cores), float(gb))
    bounds = _bin_bounds(bins_path)
    cores, mem, lo, hi, cens, starts = [], [], [], [], [], [0]
    for fl_line, lf_line in zip(
        flav_path.read_text().splitlines(), life_path.read_text().splitlines(), strict=True
    ):
        fl_tokens = fl_line.split(" ", 1)[1].split(",") if " " in fl_line else []
        lf_tokens = lf_line.split(" ", 1)[1].split(",") if " " in lf_line else []
        for f, life in zip(fl_tokens, lf_tokens, strict=True):
            if f == "|":
                if len(cores) > starts[-1]:
                    starts.append(len(cores))
                continue
            if not f:
                continue
            c, g = flavours[f]
            b0, b1 = bounds[int(life[1:])]
            cores.append(c)
            mem.append(g)
            lo.append(b0)
            hi.append(b1)
            cens.append(life[0] == "C")
    if len(cores) > starts[-1]:
        starts.append(len(cores))
    return BatchPool(
        batch_start=np.asarray(starts, dtype=np.int64),
        cores=np.asarray(cores),
        mem_gb=np.asarray(mem),
        life_lo=np.asarray(lo),
        life_hi=np.asarray(hi),
        censored=np.asarray(cens),
        source=str(AZURE_DIR / "v1.dev.txt"),
    )


def builtin_batches(rng: np.random.Generator, n_batches: int = 20000) -> BatchPool:
    """A synthetic stand-in for the Azure batches: geometric batch sizes (mean ~4),
    flavour frequencies of the trace, log-uniform lifetimes from 5 minutes to 30 days with
    a third of the VMs long-running."""
    letters = sorted(_BUILTIN_FLAVOURS)
    weights = np.array([_BUILTIN_FLAVOURS[f][2] for f in letters], dtype=np.float64)
    sizes = rng.geometric(0.25, size=n_batches)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    n = int(starts[-1])
    batch_flavour = rng.choice(len(letters), size=n_batches, p=weights / weights.sum())
    flav = np.repeat(batch_flavour, sizes)
    cores = np.array([_BUILTIN_FLAVOURS[letters[i]][0] for i in flav], dtype=np.float64)
    mem = np.array([_BUILTIN_FLAVOURS[letters[i]][1] for i in flav], dtype=np.float64)
    life = np.exp(rng.uniform(np.log(300.0), np.log(30 * 86400.0), size=n))
    censored = rng.random(n) < 0.33
    return BatchPool(starts.astype(np.int64), cores, mem, life, life, censored, "builtin")


def load_gpu_shapes(data_dir: Path) -> GpuShapes | None:
    """GPU pods of the Alibaba GPU 2023 trace as whole-GPU VM shapes (a fractional GPU
    request rounds up to one GPU); a single allowed GPU model becomes the VM's required
    model, several allowed models mean 'any'."""
    path = data_dir / ALIBABA_PODS
    if not path.exists():
        return None
    pods = pd.read_csv(path)
    pods = pods[pods["num_gpu"] >= 1]
    spec = pods["gpu_spec"].fillna("").astype(str)
    model = np.where(spec.str.contains(r"\|"), "", spec)
    return GpuShapes(
        cores=np.maximum(np.round(pods["cpu_milli"].to_numpy() / 1000.0), 1.0),
        mem_gb=np.maximum(np.round(pods["memory_mib"].to_numpy() / 1024.0, 1), 0.5),
        gpus=pods["num_gpu"].to_numpy().astype(np.float64),
        model=model.astype(object),
        source=str(ALIBABA_PODS),
    )


def builtin_gpu_shapes() -> GpuShapes:
    """A small stand-in for the Alibaba GPU shapes (1, 2, 4, 8 GPUs)."""
    gpus = np.array([1, 1, 1, 1, 1, 1, 2, 4, 8], dtype=np.float64)
    return GpuShapes(
        cores=gpus * 10.0,
        mem_gb=gpus * 32.0,
        gpus=gpus,
        model=np.array(["", "T4", "", "G2", "", "P100", "", "V100M32", "G2"], dtype=object),
        source="builtin",
    )
