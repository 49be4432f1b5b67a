"""The distributed engine: partitions, island actors on Ray, elite exchange, merge.

Only this package and the job entry points import ray (lazily, inside functions), so the
rest of the library runs and is tested without it.
"""

from cluster_opt.distributed.engine import Engine, EngineResult, optimize, start_assignment
from cluster_opt.distributed.merge import FRONT_OBJECTIVES, Front
from cluster_opt.distributed.partition import Partition, partition, sub_cluster
from cluster_opt.distributed.settings import EngineSettings

__all__ = [
    "FRONT_OBJECTIVES",
    "Engine",
    "EngineResult",
    "EngineSettings",
    "Front",
    "Partition",
    "optimize",
    "partition",
    "start_assignment",
    "sub_cluster",
]
