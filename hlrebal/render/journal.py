"""The journal's recent runs as a Rich table (``hlrebal journal``)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from hlrebal.render.layout import Cell, Column, table

_RUN_COLUMNS = (
    Column("started (UTC)", card_label=""),
    Column("run"),
    Column("account", card_label=""),
    Column("network", card_label=""),
    Column("targets", wrap=True),
    Column("orders", "right"),
    Column("filled", "right"),
    Column("rounds", "right"),
    Column("exit", "right"),
    Column("outcome", card_label=""),
)


def journal_renderable(path: Any, runs: list[dict[str, Any]]) -> RenderableType:
    """Recent runs of the journal as one table (cards on a narrow terminal; a line of text when
    there are none)."""
    if not runs:
        return Text(f"no runs recorded in {path}")
    rows: list[list[Cell]] = []
    for r in runs:
        started = r.get("started")
        when = _dt.datetime.fromtimestamp(started / 1000, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if started else "-"
        rows.append(
            [
                when,
                str(r.get("run", ""))[:8],
                str(r.get("account") or "-"),
                str(r.get("network") or "-"),
                str(r.get("targets") or "-"),
                str(r.get("orders_sent", 0)),
                str(r.get("orders_filled", 0)),
                str(r.get("rounds", 0)),
                str(r.get("exit_code", "-")) if "exit_code" in r else "unfinished",
                str(r.get("outcome") or "-"),
            ]
        )
    return table(_RUN_COLUMNS, rows, title=f"Recent runs ({path})")
