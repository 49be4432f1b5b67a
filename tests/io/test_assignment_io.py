"""Assignment files: one row per VM (vm, host); read_assignment checks them against a cluster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from snapshot_helpers import where

from cluster_opt.io import SnapshotError, read_assignment, write_assignment
from cluster_opt.model import Cluster


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_write_then_read(example_cluster: Cluster, tmp_path: Path, ext: str) -> None:
    assignment = example_cluster.current_assignment()
    assignment[0] = 13  # web-1 -> h14
    assignment[1] = -1  # web-2 unplaced
    assignment[-1] = 4  # new-2 -> h05
    path = tmp_path / f"plan.{ext}"
    write_assignment(path, example_cluster, assignment)
    back = read_assignment(path, example_cluster)
    assert back.dtype == np.int32
    np.testing.assert_array_equal(back, assignment)
    assert [p.name for p in tmp_path.iterdir()] == [f"plan.{ext}"]


def test_written_csv_text(example_cluster: Cluster, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    write_assignment(path, example_cluster, example_cluster.current_assignment())
    lines = path.read_text().splitlines()
    assert lines[:3] == ["vm,host", "web-1,h01", "web-2,h02"]
    assert lines[-2:] == ["new-1,", "new-2,"]
    assert len(lines) == 31


def test_rows_in_any_order(example_cluster: Cluster, tmp_path: Path) -> None:
    ids = list(example_cluster.vms.ids)
    hosts = [str(example_cluster.hosts.ids[h]) if h >= 0 else "" for h in example_cluster.vms.current]
    pd.DataFrame({"host": hosts[::-1], "vm": ids[::-1]}).to_csv(tmp_path / "a.csv", index=False)
    back = read_assignment(tmp_path / "a.csv", example_cluster)
    np.testing.assert_array_equal(back, example_cluster.vms.current)


def _assignment_csv(cluster: Cluster, path: Path, edit) -> Path:
    hosts = [str(cluster.hosts.ids[h]) if h >= 0 else "" for h in cluster.vms.current]
    df = pd.DataFrame({"vm": list(cluster.vms.ids), "host": hosts})
    df = edit(df)
    df.to_csv(path, index=False)
    return path


def _set(df: pd.DataFrame, row: int, col: str, value: str) -> pd.DataFrame:
    df.loc[row, col] = value
    return df


CASES = [
    pytest.param(
        lambda df: _set(df, 3, "vm", "ghost"),
        [
            ((4, "ghost", "vm"), "unknown VM 'ghost'"),
            ((None, None, "vm"), "1 VM(s) of the snapshot are not listed: db-1"),
        ],
        id="unknown-vm",
    ),
    pytest.param(
        lambda df: _set(df, 1, "host", "h99"),
        [((2, "web-2", "host"), "unknown host 'h99'")],
        id="unknown-host",
    ),
    pytest.param(
        lambda df: df.drop(index=[2, 29]),
        [((None, None, "vm"), "2 VM(s) of the snapshot are not listed: web-3, new-2")],
        id="vm-missing",
    ),
    pytest.param(
        lambda df: _set(df, 2, "vm", "web-2"),
        [
            ((3, "web-2", "vm"), "duplicate id 'web-2' (first seen in row 2)"),
            ((None, None, "vm"), "1 VM(s) of the snapshot are not listed: web-3"),
        ],
        id="duplicate-vm",
    ),
    pytest.param(
        lambda df: df.iloc[:1],
        [
            (
                (None, None, "vm"),
                "29 VM(s) of the snapshot are not listed: web-2, web-3, db-1, db-2, db-3, "
                "cache-1, app-1, batch-1, batch-2, batch-3 and 19 more",
            )
        ],
        id="most-vms-missing",
    ),
    pytest.param(
        lambda df: df.rename(columns={"vm": "vm_id"}),
        [
            ((None, None, "vm_id"), "unknown column 'vm_id'"),
            ((None, None, "vm"), "required column is missing"),
            ((None, None, "vm"), "30 VM(s) of the snapshot are not listed"),
        ],
        id="no-vm-column",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), CASES)
def test_invalid_assignment(example_cluster: Cluster, tmp_path: Path, edit, expected) -> None:
    path = _assignment_csv(example_cluster, tmp_path / "bad.csv", edit)
    with pytest.raises(SnapshotError) as info:
        read_assignment(path, example_cluster)
    issues = info.value.issues
    assert [where(i) for i in issues] == [("bad.csv", *place) for place, _ in expected]
    for issue, (_, reason) in zip(issues, expected, strict=True):
        assert issue.reason.startswith(reason), issue.reason


def test_all_problems_of_an_assignment_at_once(example_cluster: Cluster, tmp_path: Path) -> None:
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[0, "vm"] = "ghost"
        df.loc[5, "host"] = "nowhere"
        df.loc[6, "vm"] = "db-3"
        return df.drop(index=[29])

    path = _assignment_csv(example_cluster, tmp_path / "bad.csv", edit)
    with pytest.raises(SnapshotError) as info:
        read_assignment(path, example_cluster)
    assert [(i.row, i.row_id, i.column, i.reason) for i in info.value.issues] == [
        (7, "db-3", "vm", "duplicate id 'db-3' (first seen in row 6)"),
        (1, "ghost", "vm", "unknown VM 'ghost'"),
        (6, "db-3", "host", "unknown host 'nowhere'"),
        (None, None, "vm", "3 VM(s) of the snapshot are not listed: web-1, cache-1, new-2"),
    ]


def test_missing_assignment_file(example_cluster: Cluster, tmp_path: Path) -> None:
    with pytest.raises(SnapshotError) as info:
        read_assignment(tmp_path / "none.csv", example_cluster)
    assert [(where(i), i.reason) for i in info.value.issues] == [
        (("none.csv", None, None, None), "assignment file does not exist")
    ]
