"""A run: its JSON document (``hlrebal execute --json``) and its Rich tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from hlrebal.execution import ExecutionReport, OrderReport
from hlrebal.market import fmt_decimal
from hlrebal.planner import Plan
from hlrebal.render.layout import Cell, Column, key_values, table
from hlrebal.render.numbers import dec, pct, usd, weight
from hlrebal.render.plan import plan_json, trade_json


def _final_lines(report: ExecutionReport) -> list[dict[str, Any]]:
    """Each asset's final weight against its target, from the plan made on the account read back."""
    final = report.final_plan
    if final is None:
        return []
    out = []
    for a in final.assets:
        if a.status == "flat" and a.kind != "cash":
            continue
        out.append(
            {
                "coin": a.coin,
                "target_weight": weight(a.target_weight),
                "final_weight": weight(a.current_weight),
                "drift": weight(a.drift),
            }
        )
    return out


def _order_json(o: OrderReport) -> dict[str, Any]:
    return {
        "round": o.round,
        "phase": o.phase,
        "cloid": o.cloid,
        "coin": o.coin,
        "side": o.side,
        "action": o.action,
        "reduce_only": o.reduce_only,
        "size": dec(o.size),
        "filled_size": dec(o.filled_size),
        "avg_price": dec(o.avg_price),
        "reference_price": dec(o.reference_price),
        "limit_price": dec(o.limit_price),
        "slippage_bps": dec(o.slippage_bps, Decimal("0.01")) if o.slippage_bps is not None else None,
        "fee": dec(o.fee, Decimal("0.000001")) if o.fee is not None else None,
        "fee_estimated": o.fee_estimated,
        "tif": o.tif,
        "style": o.style,
        "status": o.status,
        "error": o.error,
    }


def execution_json(report: ExecutionReport, plan: Plan | None = None) -> dict[str, Any]:
    """A run as one JSON document (``hlrebal execute --json``)."""
    equity = report.final_snapshot.equity if report.final_snapshot is not None else None
    return {
        "version": 1,
        "kind": "execution",
        "run": report.run_id,
        "style": report.style,
        "exit_code": int(report.exit_code),
        "outcome": report.outcome,
        "message": report.message,
        "plan": plan_json(plan) if plan is not None else None,
        "rounds": [
            {
                "round": r.number,
                "slippage": dec(r.slippage),
                "planned": r.planned,
                "sent": r.sent,
                "filled": r.filled,
                "notional_filled": dec(r.notional_filled, Decimal("0.01")),
                "note": r.note.strip(),
                "style": r.style,
            }
            for r in report.rounds
        ],
        "orders": [_order_json(o) for o in report.orders],
        "leverage_set": report.leverage_set,
        "transfers": report.transfers,
        "blocked_transfers": report.blocked_transfers,
        "reconciled": report.reconciled,
        "final": {
            "equity": dec(equity),
            "assets": _final_lines(report),
            "remaining_trades": [trade_json(t) for t in report.final_plan.trades] if report.final_plan else [],
        },
        "fees": dec(report.fees, Decimal("0.000001")),
        "traded_notional": dec(report.traded_notional, Decimal("0.01")),
        "turnover": weight(report.traded_notional / equity) if equity else None,
        "costs": report.costs.as_json(),
        "requests": {
            "counts": report.requests,
            "info": report.info_requests,
            "exchange": report.exchange_requests,
            "weight": report.request_weight,
            "address_actions": report.request_actions,
        },
        "warnings": report.warnings,
    }


_ORDER_COLUMNS = (
    Column("round", "right"),
    Column("coin", card_label=""),
    Column("side", card_label=""),
    Column("size asked", "right", card_label="asked"),
    Column("filled", "right"),
    Column("avg price", "right", card_label="at"),
    Column("slippage", "right"),
    Column("fee", "right"),
    Column("status", wrap=True, card_label=""),
)


def _orders_table(report: ExecutionReport) -> RenderableType:
    rows: list[list[Cell]] = []
    for o in report.orders:
        slip = o.slippage_bps
        rows.append(
            [
                f"{o.round}.{o.phase}",
                o.coin,
                Text(o.side, style="green" if o.side == "buy" else "red"),
                fmt_decimal(o.size),
                fmt_decimal(o.filled_size),
                fmt_decimal(o.avg_price) if o.avg_price is not None else "-",
                f"{slip:.1f} bps" if slip is not None else "-",
                usd(o.fee) if o.fee is not None else "-",
                o.status if not o.error else f"{o.status}: {o.error}",
            ]
        )
    return table(_ORDER_COLUMNS, rows, title="Orders")


def _final_table(lines: list[dict[str, Any]]) -> RenderableType:
    rows: list[list[Cell]] = [
        [
            line["coin"],
            pct(Decimal(line["target_weight"])) if line["target_weight"] is not None else "-",
            pct(Decimal(line["final_weight"])),
            pct(Decimal(line["drift"]), 2) if line["drift"] is not None else "-",
        ]
        for line in lines
    ]
    columns = (
        Column("asset", card_label=""),
        Column("target", "right"),
        Column("final", "right"),
        Column("drift", "right"),
    )
    return table(columns, rows, title="Final weights against targets")


_COST_COLUMNS = (
    Column("coin", card_label=""),
    Column("traded", "right"),
    Column("arrival", "right"),
    Column("shortfall", "right"),
    Column("fees", "right"),
    Column("cost", "right"),
    Column("maker", "right"),
)


def _bps(value: Decimal | None) -> str:
    return f"{value:.1f} bps" if value is not None else "-"


def _costs_table(report: ExecutionReport) -> RenderableType:
    """Per coin: traded notional, arrival mid, shortfall and fees (USD), total in bps, maker share."""
    rows: list[list[Cell]] = [
        [
            c.coin,
            usd(c.notional),
            fmt_decimal(c.arrival_price),
            usd(c.shortfall_usd),
            usd(c.fees_usd),
            _bps(c.bps(c.total_usd)),
            pct(c.maker_share, 0),
        ]
        for c in report.costs.coins
    ]
    return table(_COST_COLUMNS, rows, title="Cost against the arrival price")


def _cost_rows(report: ExecutionReport) -> list[tuple[str, Cell]]:
    costs = report.costs
    if not costs.coins:
        return []
    rows: list[tuple[str, Cell]] = [
        (
            "cost",
            f"{usd(costs.total_usd)} ({_bps(costs.bps(costs.total_usd))}: shortfall {usd(costs.shortfall_usd)}, "
            f"fees {usd(costs.fees_usd)})",
        ),
        ("maker share", pct(costs.maker_share, 1)),
    ]
    if costs.estimated_fees is not None:
        note = " (some estimated from fee rates)" if costs.fees_estimated else ""
        rows.append(("fees vs estimate", f"{usd(costs.fees_usd)} vs {usd(costs.estimated_fees)}{note}"))
    return rows


def _sent_filled(report: ExecutionReport) -> str:
    """Orders sent and filled; resting orders cancelled unfilled (requotes, patience, the end of a
    run) are said apart, so that 5 / 3 with a maker style does not read as two failures."""
    filled = sum(1 for o in report.orders if o.filled_size > 0)
    unfilled = sum(1 for o in report.orders if o.status == "cancelled" and o.filled_size == 0)
    note = f" ({unfilled} cancelled unfilled: requoted or out of patience)" if unfilled else ""
    return f"{len(report.orders)} / {filled}{note}"


def _run_summary(report: ExecutionReport) -> RenderableType:
    equity = report.final_snapshot.equity if report.final_snapshot is not None else None
    rows: list[tuple[str, Cell]] = [
        ("rounds", str(len(report.rounds))),
        ("orders sent / filled", _sent_filled(report)),
        (
            "traded",
            usd(report.traded_notional) + (f" ({pct(report.traded_notional / equity, 2)} of equity)" if equity else ""),
        ),
        ("fees", usd(report.fees)),
        *_cost_rows(report),
    ]
    if report.requests:
        rows.append(
            (
                "requests",
                f"{report.info_requests} info, {report.exchange_requests} exchange (weight {report.request_weight})",
            )
        )
    rows += [("leverage set", item) for item in report.leverage_set]
    rows += [("transferred", item) for item in report.transfers]
    rows += [("to do by the owner", item) for item in report.blocked_transfers]
    return key_values(None, rows, box_none=True)


def execution_renderable(report: ExecutionReport) -> RenderableType:
    """The run for the terminal: orders, final weights, totals, warnings and the outcome line."""
    parts: list[RenderableType] = []
    if report.orders:
        parts.append(_orders_table(report))
    if report.costs.coins:
        parts.append(_costs_table(report))
    lines = _final_lines(report)
    if lines:
        parts.append(_final_table(lines))
    parts.append(_run_summary(report))
    for w in report.warnings:
        parts.append(Text(f"warning: {w}", style="yellow"))
    style = "bold green" if report.exit_code == 0 else "bold yellow" if report.exit_code in (4, 5) else "bold red"
    parts.append(Text(f"{report.outcome}: {report.message} (exit {int(report.exit_code)})", style=style))
    return Group(*parts)
