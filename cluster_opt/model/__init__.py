"""The cluster data model: a struct of numpy arrays with name tables at the edges."""

from cluster_opt.model.cluster import (
    AntiAffinityGroups,
    Cluster,
    Hosts,
    PowerCurves,
    Prices,
    Topology,
    Vms,
)
from cluster_opt.model.codes import (
    POWER_POINTS,
    STANDARD_RESOURCES,
    HostState,
    Pricing,
    SpreadLevel,
)

__all__ = [
    "POWER_POINTS",
    "STANDARD_RESOURCES",
    "AntiAffinityGroups",
    "Cluster",
    "HostState",
    "Hosts",
    "PowerCurves",
    "Prices",
    "Pricing",
    "SpreadLevel",
    "Topology",
    "Vms",
]
