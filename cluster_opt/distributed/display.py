"""A live view of a running engine (rich): one row per island, the run's clock and the
search's objective, redrawn a few times a second by ``rich.live.Live``."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cluster_opt.distributed.engine import Engine


class ProgressView:
    """Pass it as ``on_update`` to the engine and as the renderable of a ``Live``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.engine: Engine | None = None

    def __call__(self, engine: Engine) -> None:
        self.engine = engine

    def __rich__(self) -> Group | Text:
        e = self.engine
        if e is None or not e.archives:
            return Text("starting: partitioning and starting the islands ...")
        elapsed = e.elapsed()
        head = Text(
            f"{elapsed:5.1f} s elapsed, {max(self.seconds - elapsed, 0):5.1f} s left | "
            f"{len(e.parts)} partitions, {e.units} units, {e.migrants} migrants exchanged | "
            f"objective (sum of partition bests) {e.estimate():,.2f} from {e.start_estimate:,.2f}"
        )
        table = Table(box=None, pad_edge=False)
        for name in ("island", "solver", "status", "units", "busy s", "improved", "migrants in", "objective"):
            table.add_column(name, justify="left" if name in ("solver", "status") else "right")
        for r in e.islands:
            table.add_row(
                str(r.index),
                r.algo,
                r.status if not r.deaths else f"{r.status} (lost {r.deaths}x)",
                str(r.units),
                f"{r.busy_s:.1f}",
                str(r.improvements),
                str(r.migrants_received),
                f"{r.objective:,.2f}" if r.units else "-",
            )
        return Group(head, table)
