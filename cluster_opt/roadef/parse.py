"""Reading ROADEF/EURO 2012 model and assignment files.

Both are flat sequences of non-negative integers separated by any whitespace; line breaks
carry no meaning (FORMAT.md section 2.1). Values are checked against the bounds the
official checker asserts; every problem is reported as an :class:`~cluster_opt.io.Issue`
naming the file, the line (``row``), the entity (``row_id``, e.g. ``machine 3``) and the
field (``column``, e.g. ``capacity[r1]``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from cluster_opt.io.issues import IssueCollector
from cluster_opt.roadef.instance import Instance

#: Largest value of any count-free field (weights, capacities, requirements, costs).
MAX_INT = 2**31 - 1
#: Upper bounds of the count fields, as asserted by the official checker.
MAX_RESOURCES, MAX_MACHINES, MAX_SERVICES, MAX_PROCESSES, MAX_BALANCES = 20, 5000, 50000, 50000, 10
MAX_DEPENDENCIES = 5000
#: Issues reported per field before the rest are summarised in one line.
ISSUES_PER_FIELD = 20

_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[list(b" \t\n\r\x0b\x0c")] = True
_DIGIT_OR_SPACE = _WHITESPACE.copy()
_DIGIT_OR_SPACE[list(b"0123456789")] = True
_TOKEN = re.compile(rb"\S+")
_INT64_MAX = np.iinfo(np.int64).max


class _Tokens:
    """The integers of one file (-1 for a token that is not a non-negative integer; values
    beyond int64 saturate), with the token -> line and text lookups used only when a problem
    is reported."""

    def __init__(self, path: Path, issues: IssueCollector) -> None:
        self.file = str(path)
        self.issues = issues
        if not path.is_file():
            issues.add(self.file, "file does not exist")
            issues.raise_if_any()
        self.data = path.read_bytes()
        if not self.data.strip():
            self.values = np.zeros(0, dtype=np.int64)
        elif _DIGIT_OR_SPACE[np.frombuffer(self.data, dtype=np.uint8)].all():  # the fast path
            self.values = np.fromstring(self.data, dtype=np.int64, sep=" ")
        else:
            self.values = np.array(
                [min(int(t), _INT64_MAX) if t.isdigit() else -1 for t in self.data.split()], dtype=np.int64
            )
        self.pos = 0

    def __len__(self) -> int:
        return len(self.values)

    @cached_property
    def _starts(self) -> np.ndarray:
        ws = _WHITESPACE[np.frombuffer(self.data, dtype=np.uint8)]
        before = np.concatenate(([True], ws[:-1]))
        return np.flatnonzero(~ws & before)

    @cached_property
    def _newlines(self) -> np.ndarray:
        return np.flatnonzero(np.frombuffer(self.data, dtype=np.uint8) == ord("\n"))

    def line(self, token: int) -> int:
        """1-based line of token ``token`` (of the last token for one past the end)."""
        if not len(self._starts):
            return 1
        at = self._starts[min(token, len(self._starts) - 1)]
        return int(np.searchsorted(self._newlines, at)) + 1

    def text(self, token: int) -> str:
        """The token as written in the file."""
        match = _TOKEN.match(self.data, int(self._starts[token]))
        assert match is not None
        return match.group().decode(errors="replace")

    def check(
        self,
        tokens: np.ndarray,
        hi: np.ndarray | int,
        label: Callable[[int], tuple[str | None, str]],
        context: str = "",
    ) -> None:
        """Report every token (by index) whose value is not in ``[0, hi]``; ``label(k)`` names
        the entity and field of the k-th checked token, ``context`` is appended to the reason
        of a value above ``hi``. O(len(tokens))."""
        values = self.values[tokens]
        bad = np.flatnonzero((values < 0) | (values > hi))
        for k in bad[:ISSUES_PER_FIELD]:
            entity, field = label(int(k))
            t = int(tokens[k])
            limit = int(hi if np.isscalar(hi) else np.asarray(hi)[k])
            reason = (
                f"{self.text(t)!r} is not a non-negative integer"
                if values[k] < 0
                else f"{self.text(t)} is above the maximum {limit}{context}"
            )
            self.issues.add(self.file, reason, row=self.line(t), row_id=entity, column=field)
        if len(bad) > ISSUES_PER_FIELD:
            entity, field = label(int(bad[ISSUES_PER_FIELD]))
            self.issues.add(
                self.file,
                f"... and {len(bad) - ISSUES_PER_FIELD} more out-of-range values",
                row=self.line(int(tokens[bad[ISSUES_PER_FIELD]])),
                column=field,
            )

    def need(self, n: int, entity: str | None, field: str) -> None:
        """Raise (with every issue so far) if fewer than ``n`` integers are left."""
        if self.pos + n > len(self):
            self.issues.add(
                self.file,
                f"file ends after {len(self)} integers, {self.pos + n - len(self)} short",
                row=self.line(len(self)),
                row_id=entity,
                column=field,
            )
            self.issues.raise_if_any()

    def take(
        self, rows: int, fields: Sequence[str], hi: Sequence[int], entity: str | None = None
    ) -> np.ndarray:
        """int64[rows, len(fields)]: the next ``rows`` records, each column checked in
        ``[0, hi[j]]``; record i is named ``f"{entity} {i}"``. O(rows * len(fields))."""
        width = len(fields)
        first_missing = len(self) - self.pos
        if rows * width > first_missing:
            record, field = divmod(first_missing, width)
            self.need(rows * width, entity and f"{entity} {record}", fields[field])
        block = self.values[self.pos : self.pos + rows * width].reshape(rows, width)
        limit = np.asarray(hi, dtype=np.int64)
        bad = np.flatnonzero(((block < 0) | (block > limit)).ravel())
        if bad.size:
            self.check(
                self.pos + bad,
                limit[bad % width],
                lambda k: (entity and f"{entity} {bad[k] // width}", fields[bad[k] % width]),
            )
        self.pos += rows * width
        return block

    def count(self, field: str, hi: int) -> int:
        """A count that fixes the layout of what follows: a bad one stops the parse."""
        before = len(self.issues.issues)
        value = int(self.take(1, [field], [hi])[0, 0])
        if len(self.issues.issues) > before:
            self.issues.raise_if_any()
        return value


def _services(tok: _Tokens, n_services: int, n_machines: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spread_min int64[S], dependency_ptr int64[S + 1], dependency int32[D]). The record
    boundaries are found by one pass over the dependency counts. O(S + D)."""
    ptr = np.zeros(n_services + 1, dtype=np.int64)
    starts = np.zeros(n_services, dtype=np.int64)
    for s in range(n_services):
        tok.need(2, f"service {s}", "spread_min" if tok.pos >= len(tok) else "n_dependencies")
        starts[s] = tok.pos
        k = int(tok.values[tok.pos + 1])
        if not 0 <= k <= MAX_DEPENDENCIES:
            tok.check(
                np.array([tok.pos + 1]), MAX_DEPENDENCIES, lambda _, s=s: (f"service {s}", "n_dependencies")
            )
            tok.issues.raise_if_any()
        tok.pos += 2
        tok.need(k, f"service {s}", f"dependency[{len(tok) - tok.pos}]")
        tok.pos += k
        ptr[s + 1] = ptr[s] + k
    tok.check(starts, n_machines, lambda k: (f"service {k}", "spread_min"))
    owner = np.repeat(np.arange(n_services), np.diff(ptr))
    dep_tokens = np.repeat(starts + 2, np.diff(ptr)) + (
        np.arange(ptr[-1]) - np.repeat(ptr[:-1], np.diff(ptr))
    )
    tok.check(
        dep_tokens,
        n_services - 1,
        lambda k: (f"service {owner[k]}", f"dependency[{k - ptr[owner[k]]}]"),
    )
    return tok.values[starts], ptr, tok.values[dep_tokens].astype(np.int32)


def read_model(path: str | Path) -> Instance:
    """Parse a ``model_*.txt`` file (FORMAT.md section 2) into an :class:`Instance`.

    Raises :class:`~cluster_opt.io.SnapshotError` listing every problem found (a bad count
    or a truncated file stops the parse, since the rest cannot be aligned). O(file size).
    """
    path = Path(path)
    issues = IssueCollector()
    tok = _Tokens(path, issues)
    n_res = tok.count("n_resources", MAX_RESOURCES)
    res = tok.take(n_res, ["transient", "load_cost_weight"], [1, MAX_INT], "resource")
    n_mach = tok.count("n_machines", MAX_MACHINES)
    r_names = [f"r{r}" for r in range(n_res)]
    machine_fields = [
        "neighborhood",
        "location",
        *(f"capacity[{r}]" for r in r_names),
        *(f"safety_capacity[{r}]" for r in r_names),
        *(f"machine_move_cost[m{m}]" for m in range(n_mach)),
    ]
    machine_hi = [n_mach, n_mach] + [MAX_INT] * (2 * n_res + n_mach)
    mach = tok.take(n_mach, machine_fields, machine_hi, "machine")
    n_serv = tok.count("n_services", MAX_SERVICES)
    spread_min, dep_ptr, deps = _services(tok, n_serv, n_mach)
    n_proc = tok.count("n_processes", MAX_PROCESSES)
    proc_fields = ["service", *(f"requirement[{r}]" for r in r_names), "process_move_cost"]
    proc = tok.take(n_proc, proc_fields, [n_serv - 1] + [MAX_INT] * (n_res + 1), "process")
    n_bal = tok.count("n_balance_costs", MAX_BALANCES)
    bal = tok.take(
        n_bal,
        ["resource1", "resource2", "target", "weight"],
        [n_res - 1, n_res - 1, MAX_INT, MAX_INT],
        "balance",
    )
    weights = tok.take(
        1, ["process_move_weight", "service_move_weight", "machine_move_weight"], [MAX_INT] * 3
    )
    if tok.pos < len(tok):
        issues.add(
            tok.file,
            f"{len(tok) - tok.pos} integer(s) left after the machine move weight; the model must end there",
            row=tok.line(tok.pos),
        )
    issues.raise_if_any()
    r = n_res
    return Instance(
        name=path.stem.removeprefix("model_"),
        transient=res[:, 0].astype(bool),
        load_weight=res[:, 1].copy(),
        neighborhood=mach[:, 0].astype(np.int32),
        location=mach[:, 1].astype(np.int32),
        capacity=np.array(mach[:, 2 : 2 + r]),
        safety_capacity=np.array(mach[:, 2 + r : 2 + 2 * r]),
        machine_move_cost=np.array(mach[:, 2 + 2 * r :], dtype=np.int32),
        spread_min=spread_min,
        dependency_ptr=dep_ptr,
        dependency=deps,
        service=proc[:, 0].astype(np.int32),
        requirement=np.array(proc[:, 1 : 1 + r]),
        process_move_cost=proc[:, 1 + r].copy(),
        balance_resources=bal[:, :2].astype(np.int32),
        balance_target=bal[:, 2].copy(),
        balance_weight=bal[:, 3].copy(),
        process_move_weight=int(weights[0, 0]),
        service_move_weight=int(weights[0, 1]),
        machine_move_weight=int(weights[0, 2]),
    )


def read_assignment(path: str | Path, instance: Instance) -> np.ndarray:
    """int32[P] machine of every process from an assignment or solution file (FORMAT.md
    section 3): exactly P integers in ``[0, M)``. Raises
    :class:`~cluster_opt.io.SnapshotError` naming every bad value's line and process. O(P)."""
    path = Path(path)
    issues = IssueCollector()
    tok = _Tokens(path, issues)
    n = instance.n_processes
    if len(tok) != n:
        where = min(len(tok), n)
        issues.add(
            tok.file,
            f"{len(tok)} machine indices for the model's {n} processes"
            + (f"; the extra values start at process {n}" if len(tok) > n else ""),
            row=tok.line(where),
            column="machine",
        )
    m = min(len(tok), n)
    tok.check(
        np.arange(m),
        instance.n_machines - 1,
        lambda k: (f"process {k}", "machine"),
        f" (the model has {instance.n_machines} machines, numbered from 0)",
    )
    issues.raise_if_any()
    return tok.values.astype(np.int32)
