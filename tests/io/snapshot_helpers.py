"""Helpers shared by the snapshot I/O tests (the fixtures are in conftest.py).

Imported as a top-level module (pytest puts tests/io on sys.path); the name is unique so
that it cannot clash with helpers of other test folders.

Snapshots are mutated as text: every CSV is read with ``dtype=str`` and no NA parsing, so a
table written back is byte-for-byte the original except for the cells a test changes.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_opt.io import Issue, SnapshotError, load_snapshot
from cluster_opt.model import Cluster

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "small"


def copy_example(dst: Path) -> Path:
    shutil.copytree(EXAMPLE, dst)
    return dst


# --- text-level table edits ------------------------------------------------------------


def read_csv(snap: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(snap / f"{table}.csv", dtype=str, keep_default_na=False)


def write_csv(snap: Path, table: str, df: pd.DataFrame) -> None:
    df.to_csv(snap / f"{table}.csv", index=False, lineterminator="\n")


def _row(df: pd.DataFrame, key: str | int) -> int:
    """Positional row of ``key``: an int is a 0-based position, a str the value of the first
    column (``id`` / ``name``)."""
    if isinstance(key, int):
        return key
    hits = np.flatnonzero(df.iloc[:, 0].to_numpy() == key)
    assert hits.size == 1, f"no unique row {key!r}"
    return int(hits[0])


def set_cell(snap: Path, table: str, key: str | int, column: str, value: str) -> None:
    df = read_csv(snap, table)
    df.iloc[_row(df, key), df.columns.get_loc(column)] = value
    write_csv(snap, table, df)


def set_cells(snap: Path, table: str, keys: Iterable[str | int], column: str, value: str) -> None:
    for key in keys:
        set_cell(snap, table, key, column, value)


def drop_column(snap: Path, table: str, column: str) -> None:
    write_csv(snap, table, read_csv(snap, table).drop(columns=[column]))


def rename_column(snap: Path, table: str, old: str, new: str) -> None:
    write_csv(snap, table, read_csv(snap, table).rename(columns={old: new}))


def add_column(snap: Path, table: str, column: str, value: str) -> None:
    df = read_csv(snap, table)
    df[column] = value
    write_csv(snap, table, df)


def add_row(snap: Path, table: str, like: str | int | None = None, **cells: str) -> None:
    """Append a row: a copy of row ``like`` (or all-empty) with ``cells`` overridden."""
    df = read_csv(snap, table)
    row = df.iloc[_row(df, like)].to_dict() if like is not None else dict.fromkeys(df.columns, "")
    unknown = set(cells) - set(df.columns)
    assert not unknown, f"{table} has no columns {unknown}"
    row.update(cells)
    write_csv(snap, table, pd.concat([df, pd.DataFrame([row])], ignore_index=True))


def edit_text(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


# --- assertions --------------------------------------------------------------------------


def load_error(snap: Path) -> SnapshotError:
    """The SnapshotError raised by loading ``snap`` (fails the test if it loads)."""
    with pytest.raises(SnapshotError) as info:
        load_snapshot(snap)
    return info.value


def where(issue: Issue) -> tuple[str, int | None, str | None, str | None]:
    return Path(issue.file).name, issue.row, issue.row_id, issue.column


def find_issue(
    issues: list[Issue], file: str, row: int | None, row_id: str | None, column: str | None, reason: str
) -> Issue:
    """The issue at exactly (file basename, row, row_id, column) whose reason contains
    ``reason``; fails with the full list otherwise."""
    for issue in issues:
        if where(issue) == (file, row, row_id, column) and reason in issue.reason:
            return issue
    listing = "\n".join(f"  {where(i)} {i.reason!r}" for i in issues)
    raise AssertionError(f"no issue {(file, row, row_id, column)} ~ {reason!r} in:\n{listing}")


# --- cluster comparison ------------------------------------------------------------------


def assert_same_arrays(a: object, b: object, path: str = "cluster") -> None:
    """Recursively equal: dataclass fields, tuples, dicts and numpy arrays (values, shape and
    dtype). Use on two Clusters, or on any part of them."""
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):  # type: ignore[arg-type]
            assert_same_arrays(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), path
        assert a.dtype == b.dtype, f"{path}: dtype {a.dtype} != {b.dtype}"
        np.testing.assert_array_equal(a, b, err_msg=path, strict=True)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys {a.keys()} != {b.keys()}"
        for k in a:
            assert_same_arrays(a[k], b[k], f"{path}[{k!r}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def assert_same_cluster(a: Cluster, b: Cluster) -> None:
    """Every array and name table equal; meta equal except the source directory."""
    for f in dataclasses.fields(a):
        if f.name == "meta":
            strip = lambda m: {k: v for k, v in m.items() if k != "source"}  # noqa: E731
            assert_same_arrays(strip(a.meta), strip(b.meta), "cluster.meta")
        else:
            assert_same_arrays(getattr(a, f.name), getattr(b, f.name), f"cluster.{f.name}")
