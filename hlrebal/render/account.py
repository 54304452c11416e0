"""The account: its JSON document (``hlrebal account --json``) and its Rich tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from hlrebal.market import fmt_decimal
from hlrebal.render.layout import Cell, Column, key_values, table
from hlrebal.render.numbers import dec, pct, usd, weight
from hlrebal.snapshot import Snapshot


def _positions_json(snap: Snapshot) -> list[dict[str, Any]]:
    equity = snap.equity
    positions = []
    for coin, pos in sorted(snap.positions.items()):
        market = snap.assets.get(coin)
        ref = market.reference_price if market is not None else None
        value = pos.szi * ref if ref is not None else (pos.position_value if pos.szi > 0 else -pos.position_value)
        positions.append(
            {
                "coin": coin,
                "size": dec(pos.szi),
                "entry_price": dec(pos.entry_px),
                "reference_price": dec(ref),
                "notional": dec(value, Decimal("0.01")),
                "weight": weight(value / equity) if equity > 0 else None,
                "leverage": pos.leverage,
                "margin": "cross" if pos.is_cross else "isolated",
                "unrealized_pnl": dec(pos.unrealized_pnl),
                "margin_used": dec(pos.margin_used),
            }
        )
    return positions


def account_json(snap: Snapshot) -> dict[str, Any]:
    """The account as one JSON document (``hlrebal account --json``)."""
    equity = snap.equity
    return {
        "version": 1,
        "kind": "account",
        "user": snap.user,
        "network": snap.network,
        "time": snap.time,
        "equity": dec(equity),
        "empty": snap.is_empty,
        "account_mode": snap.account_mode,
        "mode_source": snap.mode_source,
        "perp_account_value": dec(snap.account_value),
        "spot": [
            {
                "token": b.token,
                "total": dec(b.total),
                "hold": dec(b.hold),
                "price": dec(snap.token_price(b.token)),
                "value": dec(b.total * p, Decimal("0.01")) if (p := snap.token_price(b.token)) is not None else None,
                "weight": weight(b.total * p / equity) if p is not None and equity > 0 else None,
            }
            for b in snap.spot_balances.values()
            if b.total != 0
        ],
        "margin_used": dec(snap.total_margin_used),
        "withdrawable": dec(snap.withdrawable),
        "positions": _positions_json(snap),
        "open_orders": [
            {"coin": o.coin, "side": o.side, "size": dec(o.size), "limit_price": dec(o.limit_px), "oid": o.oid}
            for o in snap.open_orders
        ],
    }


def _head_table(snap: Snapshot) -> RenderableType:
    rows: list[tuple[str, Cell]] = [
        ("address", f"{snap.user} ({snap.network})"),
        ("equity", usd(snap.equity)),
        ("account mode", f"{snap.account_mode} (from {snap.mode_source})"),
    ]
    if not snap.unified:
        rows.append(("perp account value", usd(snap.account_value)))
    rows += [("margin used", usd(snap.total_margin_used)), ("withdrawable", usd(snap.withdrawable))]
    return key_values("Account", rows)


def _positions_table(positions: list[dict[str, Any]]) -> RenderableType:
    columns = (
        Column("coin", card_label=""),
        Column("size", "right"),
        Column("entry", "right"),
        Column("price", "right"),
        Column("notional", "right"),
        Column("weight", "right"),
        Column("leverage", "right", card_label=""),
        Column("uPnL", "right"),
    )
    rows: list[list[Cell]] = [
        [
            p["coin"],
            p["size"],
            p["entry_price"] or "-",
            p["reference_price"] or "-",
            usd(Decimal(p["notional"])),
            pct(Decimal(p["weight"])) if p["weight"] is not None else "-",
            f"{p['leverage']}x {p['margin']}",
            usd(Decimal(p["unrealized_pnl"])),
        ]
        for p in positions
    ]
    return table(columns, rows, title="Positions")


def _spot_table(balances: list[dict[str, Any]]) -> RenderableType:
    columns = (
        Column("token", card_label=""),
        Column("total", "right"),
        Column("on hold", "right"),
        Column("price", "right"),
        Column("value", "right"),
        Column("weight", "right"),
    )
    rows: list[list[Cell]] = [
        [
            b["token"],
            b["total"],
            b["hold"],
            b["price"] or "-",
            usd(Decimal(b["value"])) if b["value"] is not None else "-",
            pct(Decimal(b["weight"])) if b["weight"] is not None else "-",
        ]
        for b in balances
    ]
    return table(columns, rows, title="Spot balances")


def _open_orders_table(snap: Snapshot) -> RenderableType:
    columns = (
        Column("coin", card_label=""),
        Column("side", card_label=""),
        Column("size", "right"),
        Column("limit", "right"),
        Column("oid", "right"),
    )
    rows: list[list[Cell]] = [
        [o.coin, o.side, fmt_decimal(o.size), fmt_decimal(o.limit_px), str(o.oid)] for o in snap.open_orders
    ]
    return table(columns, rows, title="Open orders (they hold margin and can fill during a rebalance)")


def account_renderable(snap: Snapshot) -> RenderableType:
    """The account for the terminal: equity and mode, positions, spot balances, open orders."""
    doc = account_json(snap)
    parts: list[RenderableType] = [_head_table(snap)]
    if snap.is_empty:
        parts.append(
            Text(
                "This account is empty: no equity and no positions. An API wallet's address holds "
                "nothing; use the account's own address (--address).",
                style="yellow",
            )
        )
    if doc["positions"]:
        parts.append(_positions_table(doc["positions"]))
    if doc["spot"]:
        parts.append(_spot_table(doc["spot"]))
    if snap.open_orders:
        parts.append(_open_orders_table(snap))
    return Group(*parts)
