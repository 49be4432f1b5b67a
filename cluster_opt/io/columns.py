"""Typed, vectorised parsing of table columns with per-cell error reporting."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from cluster_opt.io.issues import IssueCollector
from cluster_opt.io.schema import Column

_TRUE = frozenset(("true", "t", "yes", "y", "1"))
_FALSE = frozenset(("false", "f", "no", "n", "0"))


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_text(raw: pd.Series) -> bool:
    return raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype)


def _text(raw: pd.Series) -> pd.Series:
    """Cells as whitespace-stripped strings; missing cells become ''."""
    if raw.dtype == object or not pd.api.types.is_string_dtype(raw.dtype):
        raw = raw.astype(object).where(raw.notna(), "").astype(str)
    return raw.fillna("").str.strip()


def _missing(raw: pd.Series) -> np.ndarray:
    """Cells that are empty: NaN/None, or blank strings."""
    if _is_text(raw):
        return _text(raw).eq("").to_numpy(dtype=bool)
    return raw.isna().to_numpy()


class TableParser:
    """Parses one table (a DataFrame read from ``file``) against its column specs.

    All problems go to ``issues``; :meth:`parse` returns one numpy array per column in
    ``columns`` (defaults filled in) even when problems were found, so that later checks can
    still run and report everything in one pass. Complexity O(rows x columns).
    """

    def __init__(
        self,
        file: str,
        df: pd.DataFrame,
        columns: tuple[Column, ...],
        issues: IssueCollector,
        report_unknown: bool = True,
    ):
        self.file = file
        self.df = df
        self.columns = columns
        self.issues = issues
        self.report_unknown = report_unknown
        self.n = len(df)
        self.id_column = next((c.name for c in columns if c.kind == "id"), None)
        ids = df[self.id_column] if self.id_column in df.columns else None
        self.row_ids = None
        if ids is not None:  # as parsed (stripped); a missing id is "" (Issue.row_id None)
            self.row_ids = _text(ids).to_numpy(dtype=object)

    def parse(self) -> dict[str, np.ndarray]:
        self._check_headers()
        out: dict[str, np.ndarray] = {}
        for col in self.columns:
            out[col.name] = self._parse_column(col)
        if self.id_column is not None and self.n:
            self._check_unique_ids(out[self.id_column])
        return out

    def _check_headers(self) -> None:
        known = [c.name for c in self.columns]
        for name in self.df.columns if self.report_unknown else ():
            if name not in known:
                hint = difflib.get_close_matches(str(name), known, n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else ""
                self.issues.add(self.file, f"unknown column '{name}'{extra}", column=str(name))
        for col in self.columns:
            if col.required and col.name not in self.df.columns:
                self.issues.add(self.file, "required column is missing", column=col.name)

    def _report(self, col: Column, mask: np.ndarray, reason: object) -> None:
        rows = np.flatnonzero(mask)
        if rows.size:
            self.issues.add_rows(self.file, col.name, rows, self.row_ids, reason)

    def _parse_column(self, col: Column) -> np.ndarray:
        if col.name not in self.df.columns:
            return self._default_array(col)
        raw = self.df[col.name]
        missing = _missing(raw)
        if col.required:
            self._report(col, missing, "missing value")
        if col.kind in ("str", "id"):
            default = "" if col.default is None else str(col.default)
            values = _text(raw).to_numpy(dtype=object)
            values[missing] = default
            return values
        if col.kind == "enum":
            return self._parse_enum(col, raw, missing)
        if col.kind == "bool":
            return self._parse_bool(col, raw, missing)
        return self._parse_number(col, raw, missing)

    def _default_array(self, col: Column) -> np.ndarray:
        if col.kind in ("str", "id"):
            return np.full(self.n, "" if col.default is None else col.default, dtype=object)
        if col.kind == "enum":
            return np.full(self.n, col.choices.index(str(col.default)), dtype=np.int8)
        if col.kind == "bool":
            return np.full(self.n, bool(col.default), dtype=bool)
        if col.kind == "int":
            return np.full(self.n, 0 if col.default is None else int(col.default), dtype=np.int64)
        return np.full(self.n, np.nan if col.default is None else float(col.default), dtype=np.float64)

    def _parse_number(self, col: Column, raw: pd.Series, missing: np.ndarray) -> np.ndarray:
        if pd.api.types.is_bool_dtype(raw.dtype):
            values = raw.to_numpy(dtype=np.float64)
        else:
            values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        nan = np.isnan(values)
        literal_nan = np.zeros(self.n, dtype=bool)
        suspect = np.flatnonzero(nan & ~missing)
        if suspect.size and _is_text(raw):
            text = _text(raw.iloc[suspect]).str.lower().to_numpy()
            literal_nan[suspect] = np.isin(text, ("nan", "-nan", "+nan"))
        bad = nan & ~missing & ~literal_nan
        self._report(col, bad, lambda r: f"not a number: {_show(raw.iloc[r])}")
        self._report(col, literal_nan, "NaN is not a value")
        finite = ~nan
        inf = finite & ~np.isfinite(np.where(finite, values, 0.0))
        self._report(col, inf, "not finite")
        if col.minimum is not None:
            low = finite & ~inf & (values < col.minimum)
            reason = "negative" if col.minimum == 0 else f"below the minimum {col.minimum:g}"
            self._report(col, low, lambda r: f"{reason}: {values[r]:g}")
        if col.kind == "int":
            frac = finite & ~inf & (np.floor(values) != values)
            self._report(col, frac, lambda r: f"not an integer: {values[r]:g}")
        fill = self._default_array(col)
        ok = finite & ~inf
        if col.kind == "int":
            out = fill.copy()
            out[ok] = values[ok].astype(np.int64)
            return out
        return np.where(ok, values, fill)

    def _parse_enum(self, col: Column, raw: pd.Series, missing: np.ndarray) -> np.ndarray:
        text = _text(raw).str.lower().to_numpy(dtype=object)
        text = np.where(missing, str(col.default), text)
        codes = np.full(self.n, col.choices.index(str(col.default)), dtype=np.int8)
        bad = np.ones(self.n, dtype=bool)
        for i, choice in enumerate(col.choices):
            hit = text == choice
            codes[hit] = i
            bad &= ~hit
        allowed = ", ".join(col.choices)
        self._report(col, bad, lambda r: f"unknown value {_show(raw.iloc[r])}; allowed: {allowed}")
        return codes

    def _parse_bool(self, col: Column, raw: pd.Series, missing: np.ndarray) -> np.ndarray:
        if pd.api.types.is_bool_dtype(raw.dtype):
            return raw.fillna(bool(col.default)).to_numpy(dtype=bool)
        text = _text(raw).str.lower().to_numpy(dtype=object)
        is_true = np.isin(text, tuple(_TRUE))
        is_false = np.isin(text, tuple(_FALSE))
        bad = ~missing & ~is_true & ~is_false
        self._report(col, bad, lambda r: f"not a boolean: {_show(raw.iloc[r])} (use true/false)")
        return np.where(missing | bad, bool(col.default), is_true)

    def _check_unique_ids(self, ids: np.ndarray) -> None:
        series = pd.Series(ids)
        dup = series.duplicated(keep="first").to_numpy() & (ids != "")
        if dup.any():
            first = {}
            for i, v in enumerate(ids):
                first.setdefault(v, i)
            self.issues.add_rows(
                self.file,
                self.id_column,
                np.flatnonzero(dup),
                self.row_ids,
                lambda r: f"duplicate id {ids[r]!r} (first seen in row {first[ids[r]] + 1})",
            )
