"""The journal's recent runs as a Rich table (``hlrebal journal``)."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from hlrebal.render.layout import Cell, Column, table

_RUN_COLUMNS = (
    Column("started (UTC)", card_label=""),
    Column("outcome", card_label=""),
    Column("run"),
    Column("account", card_label=""),
    Column("network", card_label=""),
    Column("targets", wrap=True),
    Column("orders", "right"),
    Column("filled", "right"),
    Column("rounds", "right"),
    Column("fees", "right"),
    Column("cost", "right"),
    Column("exit", "right"),
)


def _usd(value: Any) -> str:
    return f"${Decimal(str(value)):,.2f}" if value is not None else "-"


def _bps(value: Any) -> str:
    return f"{Decimal(str(value)):.1f} bps" if value is not None else "-"


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
                # The outcome first: what a reader scans for, and never the field a card wraps away.
                str(r.get("outcome") or "-"),
                str(r.get("run", ""))[:8],
                str(r.get("account") or "-"),
                str(r.get("network") or "-"),
                str(r.get("targets") or "-"),
                str(r.get("orders_sent", 0)),
                str(r.get("orders_filled", 0)),
                str(r.get("rounds", 0)),
                _usd(r.get("cost_fees_usd")),
                _bps(r.get("cost_total_bps")),
                str(r.get("exit_code", "-")) if "exit_code" in r else "unfinished",
            ]
        )
    return table(_RUN_COLUMNS, rows, title=f"Recent runs ({path})")
