"""The plan: its JSON document (``hlrebal plan --json``) and its Rich tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from hlrebal.market import fmt_decimal
from hlrebal.planner import Plan, Trade, Transfer
from hlrebal.render.numbers import ZERO, dec, pct, usd, weight


def trade_json(t: Trade) -> dict[str, Any]:
    """One trade of the plan as JSON."""
    return {
        "coin": t.coin,
        "asset": t.asset_id,
        "phase": t.phase,
        "action": t.action.value,
        "side": t.side,
        "size": dec(t.size),
        "reference_price": dec(t.reference_price),
        "limit_price": dec(t.limit_price),
        "notional": dec(t.notional),
        "reduce_only": t.reduce_only,
        "dust": t.dust,
        "leverage": t.leverage,
        "is_cross": t.is_cross,
        "kind": t.kind,
        "current_weight": weight(t.current_weight),
        "target_weight": weight(t.target_weight),
        "projected_weight": weight(t.projected_weight),
    }


def transfer_json(t: Transfer) -> dict[str, Any]:
    """One USDC transfer between the perp and spot sides as JSON."""
    return {
        "amount": dec(t.amount),
        "to_perp": t.to_perp,
        "direction": t.direction,
        "reason": t.reason,
        "blocked": t.blocked,
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as one JSON-ready document (the ``--json`` output of ``hlrebal plan``)."""
    s = plan.summary
    return {
        "version": plan.version,
        "kind": "plan",
        "user": plan.user,
        "network": plan.network,
        "snapshot_time": plan.snapshot_time,
        "equity": dec(plan.equity),
        "trades": [trade_json(t) for t in plan.trades],
        "transfers": [transfer_json(t) for t in plan.transfers],
        "skipped": [{"coin": k.coin, "code": k.code, "reason": k.reason} for k in plan.skipped],
        "assets": [
            {
                "coin": a.coin,
                "kind": a.kind,
                "status": a.status,
                "current_weight": weight(a.current_weight),
                "target_weight": weight(a.target_weight),
                "projected_weight": weight(a.projected_weight),
                "threshold": weight(a.threshold),
            }
            for a in plan.assets
        ],
        "summary": {
            "equity": dec(s.equity),
            "turnover": weight(s.turnover),
            "traded_notional": dec(s.traded_notional, Decimal("0.01")),
            "estimated_fees": dec(s.estimated_fees, Decimal("0.000001")),
            "worst_case_slippage": dec(s.worst_case_slippage, Decimal("0.000001")),
            "gross_before": weight(s.gross_before),
            "gross_after": weight(s.gross_after),
            "net_before": weight(s.net_before),
            "net_after": weight(s.net_after),
            "margin_available": dec(s.margin_available, Decimal("0.01")),
            "margin_required": dec(s.margin_required, Decimal("0.01")),
            "scale_factor": weight(s.scale_factor),
            "margin_scaled": s.margin_scaled,
            "gross_capped": s.gross_capped,
            "trade_count": len(plan.trades),
            "account_mode": s.account_mode,
            "spot_cash_available": dec(s.spot_cash_available, Decimal("0.01")),
            "spot_cash_required": dec(s.spot_cash_required, Decimal("0.01")),
        },
        "warnings": list(plan.warnings),
        "policy": policy_json(plan),
    }


def policy_json(plan: Plan) -> dict[str, Any]:
    """The policy the plan was made under, decimals as strings."""
    out: dict[str, Any] = {}
    for key, value in plan.policy.model_dump().items():
        out[key] = dec(value) if isinstance(value, Decimal) else value
    return out


# --------------------------------------------------------------------------- Rich


def _price(value: Decimal) -> str:
    return fmt_decimal(value)


def plan_table(plan: Plan) -> Table:
    """The ordered trades of a plan."""
    table = Table(title=f"Plan: {len(plan.trades)} trade(s)", title_justify="left", header_style="bold")
    for name, justify in (
        ("#", "right"),
        ("phase", "center"),
        ("coin", "left"),
        ("action", "left"),
        ("side", "left"),
        ("size", "right"),
        ("ref price", "right"),
        ("limit", "right"),
        ("notional", "right"),
        ("weight now → target → projected", "right"),
        ("reduce-only", "center"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    rows: list[tuple[Any, ...]] = [("trade", t) for t in plan.trades]
    # transfers sit after the sells that free the cash and before the buys that need it
    first2 = next((i for i, (_, t) in enumerate(rows) if t.phase == 2), len(rows))
    rows[first2:first2] = [("transfer", x) for x in plan.transfers]
    for i, (what, t) in enumerate(rows, 1):
        if what == "transfer":
            label = "transfer" + (" (owner must make it)" if t.blocked else "")
            table.add_row(
                str(i), "1→2", "USDC", label, t.direction, fmt_decimal(t.amount), "", "", usd(t.amount), t.reason, ""
            )
            continue
        side = Text(t.side, style="green" if t.is_buy else "red")
        action = t.action.value + (" (dust)" if t.dust else "")
        table.add_row(
            str(i),
            str(t.phase),
            t.coin,
            action,
            side,
            fmt_decimal(t.size),
            _price(t.reference_price),
            _price(t.limit_price),
            usd(t.notional),
            f"{pct(t.current_weight)} → {pct(t.target_weight)} → {pct(t.projected_weight)}",
            "yes" if t.reduce_only else "no",
        )
    return table


def skipped_table(plan: Plan) -> Table | None:
    """The assets not traded and why (None when nothing was left out)."""
    if not plan.skipped:
        return None
    table = Table(title="Not traded", title_justify="left", header_style="bold")
    table.add_column("coin")
    table.add_column("reason")
    for k in plan.skipped:
        table.add_row(k.coin, k.reason)
    return table


def summary_table(plan: Plan) -> Table:
    """Equity, turnover, costs, exposure and margin of the plan."""
    s = plan.summary
    table = Table(title="Summary", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("account", f"{plan.user} ({plan.network})"),
        ("equity", usd(s.equity)),
        ("turnover", f"{pct(s.turnover, 2)} ({usd(s.traded_notional)})"),
        ("estimated fees", usd(s.estimated_fees)),
        ("worst-case slippage", usd(s.worst_case_slippage)),
        ("gross exposure", f"{pct(s.gross_before)} → {pct(s.gross_after)}"),
        ("net exposure", f"{pct(s.net_before)} → {pct(s.net_after)}"),
        ("phase 2 margin", f"{usd(s.margin_required)} needed of {usd(max(s.margin_available, ZERO))} free"),
        ("account mode", s.account_mode),
    ]
    if s.spot_cash_required > 0:
        rows.append(
            ("spot buys", f"{usd(s.spot_cash_required)} needed of {usd(max(s.spot_cash_available, ZERO))} spot USDC")
        )
    if s.margin_scaled or s.gross_capped:
        rows.append(("phase 2 scaled to", pct(s.scale_factor)))
    for what, value in rows:
        table.add_row(what, value)
    return table


def drift_chart(plan: Plan, width: int = 30) -> Table:
    """Bars of current against target weight per asset, so the imbalance shows at a glance."""
    lines = [a for a in plan.assets if a.status != "flat" or a.kind == "cash"]
    top = max(
        [abs(a.current_weight) for a in lines]
        + [abs(a.target_weight) for a in lines if a.target_weight is not None]
        + [Decimal("0.0001")]
    )
    table = Table(title="Drift: current vs target weight", title_justify="left", show_header=False, box=None)
    table.add_column("coin")
    table.add_column("which")
    table.add_column("bar")
    table.add_column("weight", justify="right")
    for a in lines:
        for label, value, style in (
            ("now", a.current_weight, "cyan"),
            ("target", a.target_weight, "magenta"),
        ):
            if value is None:
                table.add_row(a.coin if label == "now" else "", label, Text("(kept, no target)", style="dim"), "")
                continue
            n = int((abs(value) / top * width).to_integral_value())
            bar = Text("█" * n or ("▏" if value != 0 else ""), style=style if value >= 0 else "red")
            table.add_row(a.coin if label == "now" else "", label, bar, pct(value))
    return table


def plan_renderable(plan: Plan) -> RenderableType:
    """The whole plan for the terminal: trades, not traded, summary, drift chart, warnings."""
    parts: list[RenderableType] = []
    if plan.trades:
        parts.append(plan_table(plan))
    else:
        parts.append(Text("Nothing to do: every asset is within its band.", style="bold green"))
    skipped = skipped_table(plan)
    if skipped is not None:
        parts.append(skipped)
    parts.append(summary_table(plan))
    parts.append(drift_chart(plan))
    for w in plan.warnings:
        parts.append(Text(f"warning: {w}", style="yellow"))
    return Group(*parts)
