"""The plan: its JSON document (``hlrebal plan --json``) and its Rich tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from hlrebal.digest import sha256_hex
from hlrebal.market import fmt_decimal
from hlrebal.planner import Plan, Trade, Transfer
from hlrebal.render.drawn import DrawnTable, Justify
from hlrebal.render.layout import Cell, Column, key_values, table
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


#: keys of a plan document that its hash does not cover (the hash itself; what a plan file adds)
UNHASHED_KEYS = frozenset({"plan_hash", "basis"})


def plan_hash(doc: Mapping[str, Any]) -> str:
    """SHA-256 over a plan document's canonical form: its JSON with keys sorted, no spaces, UTF-8,
    without ``plan_hash`` itself (and the ``basis`` a plan file adds). Any change to a trade, a
    weight, the policy or a warning changes it."""
    body = {k: v for k, v in doc.items() if k not in UNHASHED_KEYS}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_hex(canonical)


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as one JSON-ready document (the ``--json`` output of ``hlrebal plan``), with its
    ``plan_hash`` (see :func:`plan_hash`)."""
    doc = _plan_doc(plan)
    doc["plan_hash"] = plan_hash(doc)
    return doc


def _plan_doc(plan: Plan) -> dict[str, Any]:
    s = plan.summary
    return {
        "version": plan.version,
        "kind": "plan",
        "strategy": plan.strategy,
        "document": plan.document,
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

_TRADE_COLUMNS = (
    Column("#", "right", card_label=""),
    Column("phase", "center"),
    Column("coin", card_label=""),
    Column("action", card_label=""),
    Column("side", card_label=""),
    Column("size", "right"),
    Column("ref price", "right", card_label="ref"),
    Column("limit", "right"),
    Column("notional", "right"),
    Column("weight now → target → projected", "right", wrap=True, card_label="weight"),
    Column("reduce-only", "center"),
)
#: shown only when the plan has transfers: why each one is made
_NOTE = Column("note", wrap=True, card_label="")


def _price(value: Decimal) -> str:
    return fmt_decimal(value)


def plan_title(plan: Plan) -> str:
    """ "Plan: 2 trade(s)", and the transfers beside them (they are steps, not trades)."""
    title = f"Plan: {len(plan.trades)} trade(s)"
    if plan.transfers:
        title += f" and {len(plan.transfers)} transfer(s)"
    return title


def plan_table(plan: Plan) -> RenderableType:
    """The ordered trades of a plan, with the cash transfers between the phases (a table, or cards
    on a narrow terminal)."""
    rows: list[list[Cell]] = []
    first2 = next((i for i, t in enumerate(plan.trades) if t.phase == 2), len(plan.trades))
    for i, t in enumerate(plan.trades):
        if i == first2:
            # transfers sit after the sells that free the cash and before the buys that need it
            rows.extend(_transfer_row(x) for x in plan.transfers)
        number = i + 1
        side = Text(t.side, style="green" if t.is_buy else "red")
        action = t.action.value + (" (dust)" if t.dust else "")
        row: list[Cell] = [
            str(number),
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
        ]
        rows.append([*row, ""] if plan.transfers else row)
    if first2 == len(plan.trades):
        rows.extend(_transfer_row(x) for x in plan.transfers)
    columns = (*_TRADE_COLUMNS, _NOTE) if plan.transfers else _TRADE_COLUMNS
    return table(columns, rows, title=plan_title(plan))


def _transfer_row(t: Transfer) -> list[Cell]:
    label = "transfer" + (" (owner must make it)" if t.blocked else "")
    return ["·", "1→2", "USDC", label, t.direction, fmt_decimal(t.amount), "", "", usd(t.amount), "", "", t.reason]


def skipped_table(plan: Plan) -> RenderableType | None:
    """The assets not traded and why (None when nothing was left out)."""
    if not plan.skipped:
        return None
    return table(
        (Column("coin", card_label=""), Column("reason", wrap=True, card_label="")),
        ([k.coin, k.reason] for k in plan.skipped),
        title="Not traded",
    )


def summary_table(plan: Plan) -> RenderableType:
    """Equity, turnover, costs, exposure and margin of the plan."""
    s = plan.summary
    rows = [
        ("account", f"{plan.user} ({plan.network})"),
        ("equity", usd(s.equity)),
        ("turnover", f"{pct(s.turnover, 2)} ({usd(s.traded_notional)})"),
        ("estimated fees", usd(s.estimated_fees)),
        ("worst-case slippage", usd(s.worst_case_slippage)),
        ("gross exposure", f"{pct(s.gross_before)} → {pct(s.gross_after)}"),
        ("net exposure", f"{pct(s.net_before)} → {pct(s.net_after)}"),
        ("phase 2 margin", _margin_line(plan)),
        ("account mode", s.account_mode),
        ("plan hash", plan_hash(_plan_doc(plan))[:16]),
    ]
    if s.spot_cash_required > 0:
        rows.append(
            ("spot buys", f"{usd(s.spot_cash_required)} needed of {usd(max(s.spot_cash_available, ZERO))} spot USDC")
        )
    if s.margin_scaled or s.gross_capped:
        rows.append(("phase 2 scaled to", pct(s.scale_factor)))
    return key_values("Summary", rows)


def _margin_line(plan: Plan) -> str:
    """Phase 2's margin against what is free, the plan's own transfer to the perp side said apart
    (free is counted before it, so the line must say where the rest comes from)."""
    s = plan.summary
    line = f"{usd(s.margin_required)} needed of {usd(max(s.margin_available, ZERO))} free"
    moved = sum((t.amount for t in plan.transfers if t.to_perp and not t.blocked), ZERO)
    return line + (f" + {usd(moved)} moved from spot" if moved > 0 else "")


class DriftChart:
    """Bars of current against target weight per asset, so the imbalance shows at a glance; the
    bars are as long as the terminal allows (at most 30 cells)."""

    def __init__(self, plan: Plan, width: int = 30) -> None:
        self.lines = [a for a in plan.assets if a.status != "flat" or a.kind == "cash"]
        self.width = width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        coin_width = max((len(a.coin) for a in self.lines), default=4)
        room = options.max_width - coin_width - len("target") - len("-100.0%") - 6
        width = max(4, min(self.width, room))
        yield DrawnTable(
            self.COLUMNS,
            self.rows(width),
            title=self.TITLE,
            show_header=False,
            box_none=True,
            fallback=lambda: self.table(width),
        )

    TITLE = "Drift: current vs target weight"
    COLUMNS: tuple[tuple[str, Justify], ...] = (
        ("coin", "left"),
        ("which", "left"),
        ("bar", "left"),
        ("weight", "right"),
    )

    def rows(self, width: int) -> list[list[Cell]]:
        """Two rows per asset (now, target): the coin, which, a bar ``width`` cells at most, the weight."""
        lines = self.lines
        top = max(
            [abs(a.current_weight) for a in lines]
            + [abs(a.target_weight) for a in lines if a.target_weight is not None]
            + [Decimal("0.0001")]
        )
        rows: list[list[Cell]] = []
        for a in lines:
            for label, value, style in (("now", a.current_weight, "cyan"), ("target", a.target_weight, "magenta")):
                if value is None:
                    rows.append([a.coin if label == "now" else "", label, Text("(kept, no target)", style="dim"), ""])
                    continue
                n = int((abs(value) / top * width).to_integral_value())
                bar = Text("█" * n or ("▏" if value != 0 else ""), style=style if value >= 0 else "red")
                rows.append([a.coin if label == "now" else "", label, bar, pct(value)])
        return rows

    def table(self, width: int) -> Table:
        chart = Table(title=self.TITLE, title_justify="left", show_header=False, box=None)
        for name, justify in self.COLUMNS:
            chart.add_column(name, justify=justify, no_wrap=True)
        for row in self.rows(width):
            chart.add_row(*row)
        return chart


def drift_chart(plan: Plan, width: int = 30) -> Table:
    """The drift chart at a fixed bar width (see :class:`DriftChart` for the one that adapts)."""
    return DriftChart(plan, width).table(width)


def nothing_to_do(plan: Plan) -> str:
    """Why an empty plan is empty (:meth:`Plan.empty_reason`), as the plan view says it."""
    code, reason = plan.empty_reason()
    pointer = "" if code in ("no_action", "at_targets", "within_bands") else "; see Not traded"
    return f"Nothing to do: {reason}{pointer}."


def plan_header(plan: Plan) -> Text | None:
    """ "Strategy: balanced-growth" above the trades (and what the plan was made from, when it was
    made from direct actions); None for a plain target file."""
    if plan.strategy is None and plan.document == "targets":
        return None
    text = Text()
    if plan.strategy is not None:
        text.append("Strategy: ", style="bold").append(plan.strategy)
    if plan.document == "actions":
        text.append(" (from direct actions)" if plan.strategy is not None else "From direct actions", style="dim")
    return text


def plan_renderable(plan: Plan) -> RenderableType:
    """The whole plan for the terminal: trades, not traded, summary, drift chart, warnings."""
    parts: list[RenderableType] = []
    header = plan_header(plan)
    if header is not None:
        parts.append(header)
    if plan.trades:
        parts.append(plan_table(plan))
    else:
        parts.append(Text(nothing_to_do(plan), style="bold green"))
    skipped = skipped_table(plan)
    if skipped is not None:
        parts.append(skipped)
    parts.append(summary_table(plan))
    parts.append(DriftChart(plan))
    for w in plan.warnings:
        parts.append(Text(f"warning: {w}", style="yellow"))
    return Group(*parts)
