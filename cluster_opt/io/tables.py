"""Reading and writing tables as CSV or Parquet, chosen by file extension."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cluster_opt.io.issues import IssueCollector

EXTENSIONS = (".parquet", ".csv")


def find_table(directory: Path, name: str, issues: IssueCollector, required: bool) -> Path | None:
    """The file holding table ``name`` in ``directory`` (``name.parquet`` or ``name.csv``).

    Reports a missing required table, or an ambiguous one (both extensions present).
    """
    found = [directory / f"{name}{ext}" for ext in EXTENSIONS if (directory / f"{name}{ext}").exists()]
    if len(found) > 1:
        issues.add(str(found[0]), f"both {found[0].name} and {found[1].name} exist; keep one")
        return None
    if not found:
        if required:
            issues.add(
                str(directory / f"{name}.csv"), f"required table '{name}' (.csv or .parquet) is missing"
            )
        return None
    return found[0]


def read_table(path: Path, issues: IssueCollector) -> pd.DataFrame | None:
    """Read a table. CSV cells are read as strings (empty -> missing) so that typing errors
    can be reported per cell; Parquet keeps its column types."""
    try:
        if path.suffix == ".parquet":
            # integer columns with nulls stay integers (not float: host id 7 must not become "7.0")
            return pq.read_table(path).to_pandas(integer_object_nulls=True)
        with warnings.catch_warnings():
            # index_col=False: rows longer than the header must not shift the columns
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=True,
                index_col=False,
            )
    except pd.errors.ParserWarning:
        issues.add(str(path), "cannot be read: data rows have more fields than the header")
        return None
    except Exception as exc:  # the reader's own message is the most precise reason
        issues.add(str(path), f"cannot be read: {type(exc).__name__}: {exc}")
        return None


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write a table by extension. Parquet output is deterministic for the same frame."""
    if path.suffix == ".parquet":
        table = pa.Table.from_pandas(df, preserve_index=False)
        pq.write_table(table, path, compression="zstd")
    elif path.suffix == ".csv":
        df.to_csv(path, index=False, lineterminator="\n")
    else:
        raise ValueError(f"{path}: unsupported extension {path.suffix!r}; use .csv or .parquet")


@contextmanager
def atomic_directory(target: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; rename it to ``target`` on success.

    On any exception the temporary directory is removed, so nothing half-written is left.
    An existing ``target`` is replaced only when ``overwrite`` is true.
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another --out or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    os.chmod(target, 0o755)


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write one file through ``write(tmp_path)`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
