"""Reading and writing snapshots, assignments and tables (the edges of the data flow)."""

from cluster_opt.io.assignment import read_assignment, write_assignment
from cluster_opt.io.issues import Issue, SnapshotError
from cluster_opt.io.load import load_snapshot
from cluster_opt.io.write import SnapshotTables, cluster_tables, write_snapshot

__all__ = [
    "Issue",
    "SnapshotError",
    "SnapshotTables",
    "cluster_tables",
    "load_snapshot",
    "read_assignment",
    "write_assignment",
    "write_snapshot",
]
