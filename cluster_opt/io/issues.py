"""Validation problems, collected all at once and raised together."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem in one place of an input file.

    ``row`` is the 1-based data row (the header is not counted), ``None`` for problems that
    concern a whole file or column; ``row_id`` is the value of the row's ``id`` column when
    the row has one.
    """

    file: str
    row: int | None
    row_id: str | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.row_id is not None:
            where.append(f"(id {self.row_id})")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{' '.join(where)}: {self.reason}"


class SnapshotError(ValueError):
    """Raised when an input is invalid; carries every :class:`Issue` found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        files = Counter(i.file for i in self.issues)
        summary = ", ".join(f"{n} in {f}" for f, n in files.items())
        head = "\n".join(f"  {i}" for i in self.issues[:20])
        more = f"\n  ... and {len(self.issues) - 20} more" if len(self.issues) > 20 else ""
        super().__init__(f"{len(self.issues)} problem(s) ({summary}):\n{head}{more}")

    def __reduce__(self):
        """Pickle by the issues (Ray ships errors between processes)."""
        return (type(self), (self.issues,))


class IssueCollector:
    """Accumulates issues while a snapshot is read; :meth:`raise_if_any` ends the pass."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(
        self,
        file: str,
        reason: str,
        *,
        row: int | None = None,
        row_id: str | None = None,
        column: str | None = None,
    ) -> None:
        self.issues.append(Issue(file, row, row_id or None, column, reason))

    def add_rows(
        self,
        file: str,
        column: str | None,
        rows: list[int] | object,
        ids: object,
        reason: object,
    ) -> None:
        """Add one issue per row index (0-based) in ``rows``.

        ``ids`` maps a 0-based row to its id (any indexable, or None); ``reason`` is a string
        or a callable ``row -> str``.
        """
        for r in rows:  # type: ignore[attr-defined]
            r = int(r)
            rid = None if ids is None else str(ids[r]) or None  # type: ignore[index]
            text = reason(r) if callable(reason) else str(reason)
            self.issues.append(Issue(file, r + 1, rid, column, text))

    def __bool__(self) -> bool:
        return bool(self.issues)

    def raise_if_any(self) -> None:
        if self.issues:
            raise SnapshotError(self.issues)
