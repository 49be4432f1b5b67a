"""Where Ray runs: an existing cluster (``--ray-address``, or ``RAY_ADDRESS`` inside ``ray
job submit``), else a fresh embedded instance with this machine's cores and no dashboard.

Only :mod:`cluster_opt.distributed` and the job entry points import ray.
"""

from __future__ import annotations

import os


def connect(address: str | None = None) -> bool:
    """Make sure this process is connected to Ray; True when this call started an embedded
    instance (the caller then shuts it down). ``address="local"`` forces a fresh embedded
    instance even when a ``ray start`` cluster is running on the machine."""
    import ray

    if ray.is_initialized():
        return False
    if address and address != "local":
        ray.init(address=address, log_to_driver=False)
        return False
    if not address and os.environ.get("RAY_ADDRESS"):  # inside `ray job submit`
        ray.init(log_to_driver=False)
        return False
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    return True


def cpus() -> float:
    """CPUs of the connected Ray cluster not held by others right now (a Tune trial's, a
    job's driver)."""
    import ray

    return float(ray.available_resources().get("CPU", 0.0))
