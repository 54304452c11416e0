"""Rich renderables and JSON documents. Everything here returns values; nothing prints.

The JSON documents are a stable interface other tools read (see README "JSON output"): numbers are
decimal strings, trades are in execution order, and new keys may be added but existing ones keep
their meaning.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from hlrebal.executor import ExecutionReport
from hlrebal.market import fmt_decimal
from hlrebal.planner import Plan, Trade, Transfer
from hlrebal.snapshot import Snapshot

WEIGHT_PLACES = Decimal("1e-10")
_ZERO = Decimal(0)


def dec(value: Decimal | None, places: Decimal | None = None) -> str | None:
    """A Decimal as a plain decimal string (None stays None)."""
    if value is None:
        return None
    if places is not None:
        value = value.quantize(places)
    return fmt_decimal(value)


def weight(value: Decimal | None) -> str | None:
    return dec(value, WEIGHT_PLACES)


def trade_json(t: Trade) -> dict[str, Any]:
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
    out: dict[str, Any] = {}
    for key, value in plan.policy.model_dump().items():
        out[key] = dec(value) if isinstance(value, Decimal) else value
    return out


# --------------------------------------------------------------------------- Rich


def pct(value: Decimal | None, places: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.{places}f}%"


def usd(value: Decimal) -> str:
    return f"${value:,.2f}"


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
    if not plan.skipped:
        return None
    table = Table(title="Not traded", title_justify="left", header_style="bold")
    table.add_column("coin")
    table.add_column("reason")
    for k in plan.skipped:
        table.add_row(k.coin, k.reason)
    return table


def summary_table(plan: Plan) -> Table:
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
        ("phase 2 margin", f"{usd(s.margin_required)} needed of {usd(max(s.margin_available, _ZERO))} free"),
        ("account mode", s.account_mode),
    ]
    if s.spot_cash_required > 0:
        rows.append(
            ("spot buys", f"{usd(s.spot_cash_required)} needed of {usd(max(s.spot_cash_available, _ZERO))} spot USDC")
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


def account_json(snap: Snapshot) -> dict[str, Any]:
    """The account as one JSON document (``hlrebal account --json``)."""
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
        "positions": positions,
        "open_orders": [
            {"coin": o.coin, "side": o.side, "size": dec(o.size), "limit_price": dec(o.limit_px), "oid": o.oid}
            for o in snap.open_orders
        ],
    }


def account_renderable(snap: Snapshot) -> RenderableType:
    doc = account_json(snap)
    parts: list[RenderableType] = []
    head = Table(title="Account", title_justify="left", show_header=False)
    head.add_column("what")
    head.add_column("value", justify="right")
    head.add_row("address", f"{snap.user} ({snap.network})")
    head.add_row("equity", usd(snap.equity))
    head.add_row("account mode", f"{snap.account_mode} (from {snap.mode_source})")
    if not snap.unified:
        head.add_row("perp account value", usd(snap.account_value))
    head.add_row("margin used", usd(snap.total_margin_used))
    head.add_row("withdrawable", usd(snap.withdrawable))
    parts.append(head)
    if snap.is_empty:
        parts.append(
            Text(
                "This account is empty: no equity and no positions. An API wallet's address holds "
                "nothing; use the account's own address (--address).",
                style="yellow",
            )
        )
    if doc["positions"]:
        table = Table(title="Positions", title_justify="left", header_style="bold")
        for name in ("coin", "size", "entry", "price", "notional", "weight", "leverage", "uPnL"):
            table.add_column(name, justify="left" if name == "coin" else "right")
        for p in doc["positions"]:
            table.add_row(
                p["coin"],
                p["size"],
                p["entry_price"] or "-",
                p["reference_price"] or "-",
                usd(Decimal(p["notional"])),
                pct(Decimal(p["weight"])) if p["weight"] is not None else "-",
                f"{p['leverage']}x {p['margin']}",
                usd(Decimal(p["unrealized_pnl"])),
            )
        parts.append(table)
    if doc["spot"]:
        spot = Table(title="Spot balances", title_justify="left", header_style="bold")
        for name in ("token", "total", "on hold", "price", "value", "weight"):
            spot.add_column(name, justify="left" if name == "token" else "right")
        for b in doc["spot"]:
            spot.add_row(
                b["token"],
                b["total"],
                b["hold"],
                b["price"] or "-",
                usd(Decimal(b["value"])) if b["value"] is not None else "-",
                pct(Decimal(b["weight"])) if b["weight"] is not None else "-",
            )
        parts.append(spot)
    if snap.open_orders:
        orders = Table(title="Open orders (they hold margin and can fill during a rebalance)", title_justify="left")
        for name in ("coin", "side", "size", "limit", "oid"):
            orders.add_column(name)
        for o in snap.open_orders:
            orders.add_row(o.coin, o.side, fmt_decimal(o.size), fmt_decimal(o.limit_px), str(o.oid))
        parts.append(orders)
    return Group(*parts)


def error_json(kind: str, message: str, exit_code: int, hint: str | None = None) -> dict[str, Any]:
    """An error as a JSON document (``--json``), with the same exit code as the process."""
    doc: dict[str, Any] = {"version": 1, "kind": "error", "error": kind, "message": message, "exit_code": exit_code}
    if hint:
        doc["hint"] = hint
    return doc


# --------------------------------------------------------------------------- execution


def _final_lines(report: ExecutionReport) -> list[dict[str, Any]]:
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


def execution_json(report: ExecutionReport, plan: Plan | None = None) -> dict[str, Any]:
    """A run as one JSON document (``hlrebal execute --json``)."""
    equity = report.final_snapshot.equity if report.final_snapshot is not None else None
    return {
        "version": 1,
        "kind": "execution",
        "run": report.run_id,
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
            }
            for r in report.rounds
        ],
        "orders": [
            {
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
                "status": o.status,
                "error": o.error,
            }
            for o in report.orders
        ],
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
        "warnings": report.warnings,
    }


def execution_renderable(report: ExecutionReport) -> RenderableType:
    parts: list[RenderableType] = []
    if report.orders:
        table = Table(title="Orders", title_justify="left", header_style="bold")
        for name in ("round", "coin", "side", "size asked", "filled", "avg price", "slippage", "fee", "status"):
            table.add_column(name, justify="left" if name in ("coin", "side", "status") else "right")
        for o in report.orders:
            slip = o.slippage_bps
            status = o.status if not o.error else f"{o.status}: {o.error}"
            table.add_row(
                f"{o.round}.{o.phase}",
                o.coin,
                Text(o.side, style="green" if o.side == "buy" else "red"),
                fmt_decimal(o.size),
                fmt_decimal(o.filled_size),
                fmt_decimal(o.avg_price) if o.avg_price is not None else "-",
                f"{slip:.1f} bps" if slip is not None else "-",
                usd(o.fee) if o.fee is not None else "-",
                status,
            )
        parts.append(table)
    lines = _final_lines(report)
    if lines:
        drift = Table(title="Final weights against targets", title_justify="left", header_style="bold")
        for name in ("asset", "target", "final", "drift"):
            drift.add_column(name, justify="left" if name == "asset" else "right")
        for line in lines:
            drift.add_row(
                line["coin"],
                pct(Decimal(line["target_weight"])) if line["target_weight"] is not None else "-",
                pct(Decimal(line["final_weight"])),
                pct(Decimal(line["drift"]), 2) if line["drift"] is not None else "-",
            )
        parts.append(drift)
    equity = report.final_snapshot.equity if report.final_snapshot is not None else None
    summary = Table(show_header=False, box=None)
    summary.add_column("what")
    summary.add_column("value")
    summary.add_row("rounds", str(len(report.rounds)))
    summary.add_row(
        "orders sent / filled", f"{len(report.orders)} / {sum(1 for o in report.orders if o.filled_size > 0)}"
    )
    summary.add_row(
        "traded",
        usd(report.traded_notional) + (f" ({pct(report.traded_notional / equity, 2)} of equity)" if equity else ""),
    )
    summary.add_row("fees", usd(report.fees))
    for item in report.leverage_set:
        summary.add_row("leverage set", item)
    for item in report.transfers:
        summary.add_row("transferred", item)
    for item in report.blocked_transfers:
        summary.add_row("to do by the owner", item)
    parts.append(summary)
    for w in report.warnings:
        parts.append(Text(f"warning: {w}", style="yellow"))
    style = "bold green" if report.exit_code == 0 else "bold yellow" if report.exit_code in (4, 5) else "bold red"
    parts.append(Text(f"{report.outcome}: {report.message} (exit {int(report.exit_code)})", style=style))
    return Group(*parts)


def journal_renderable(path: Any, runs: list[dict[str, Any]]) -> RenderableType:
    if not runs:
        return Text(f"no runs recorded in {path}")
    import datetime as _dt

    table = Table(title=f"Recent runs ({path})", title_justify="left", header_style="bold")
    for name in (
        "started (UTC)",
        "run",
        "account",
        "network",
        "targets",
        "orders",
        "filled",
        "rounds",
        "exit",
        "outcome",
    ):
        table.add_column(name)
    for r in runs:
        started = r.get("started")
        when = _dt.datetime.fromtimestamp(started / 1000, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if started else "-"
        table.add_row(
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
        )
    return table


def settings_json(resolved: Any, *, private_key_set: bool) -> dict[str, Any]:
    """Effective settings with their sources; secrets are never included, only whether they are set."""
    settings = resolved.settings.model_dump(mode="json")
    policy = resolved.policy.model_dump(mode="json")
    sources = resolved.sources
    return {
        "version": 1,
        "kind": "settings",
        "config_file": str(resolved.config_path) if resolved.config_path else None,
        "profile": resolved.profile,
        "endpoint": {"url": resolved.base_url, "network": resolved.network_label},
        "settings": {k: {"value": v, "source": sources.get(k, "default")} for k, v in settings.items()},
        "private_key": {
            "value": "(set, redacted)" if private_key_set else None,
            "source": "env HLREBAL_PRIVATE_KEY" if private_key_set else "unset",
        },
        "policy": {k: {"value": v, "source": sources.get(f"policy.{k}", "default")} for k, v in policy.items()},
    }


def settings_renderable(doc: dict[str, Any]) -> RenderableType:
    table = Table(
        title=f"Effective settings (file {doc['config_file']}, profile {doc['profile'] or '-'})",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("setting")
    table.add_column("value")
    table.add_column("source")
    table.add_row("endpoint", f"{doc['endpoint']['url']} ({doc['endpoint']['network']})", "")
    for key, item in doc["settings"].items():
        table.add_row(key, "-" if item["value"] is None else str(item["value"]), item["source"])
    table.add_row("private key", doc["private_key"]["value"] or "-", doc["private_key"]["source"])
    for key, item in doc["policy"].items():
        table.add_row(f"policy.{key}", "-" if item["value"] is None else str(item["value"]), item["source"])
    return table
