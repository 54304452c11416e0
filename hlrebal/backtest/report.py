"""The backtest report: every policy's row, the two baselines, what is modelled, and its JSON form.

The JSON document follows the conventions of ``plan --json``: numbers are decimal strings, money
to the cent, ratios to eight decimals; keys may be added later but keep their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hlrebal.backtest.engine import RunResult
from hlrebal.backtest.fetch import FetchResult
from hlrebal.market import SPOT_TAKER_FEE, fmt_decimal
from hlrebal.policy import Policy

REPORT_VERSION = 1
_CENT = Decimal("0.01")
_RATIO = Decimal("1e-8")
#: policy options a row shows (those a grid may vary)
ROW_POLICY_KEYS = ("band", "band_relative", "trade_to", "min_trade_value", "fee_rate", "slippage", "leverage")


@dataclass(frozen=True)
class BacktestReport:
    """Everything a backtest found, ready to render or to write as JSON."""

    targets: str
    targets_sha256: str
    history: str
    interval: str
    network: str
    times: tuple[int, ...] = field(repr=False)
    universe: str
    """Where the exchange rules came from: "snapshot FILE", "demo" or "live NETWORK"."""
    account_mode: str
    equity: Decimal
    equity_source: str
    cost_bps: Decimal
    compare: str | None
    runs: tuple[RunResult, ...]
    """One per policy; sorted by total cost when comparing."""
    hold: RunResult
    ideal: RunResult
    notes: tuple[str, ...] = ()

    @property
    def closes(self) -> int:
        return len(self.times)

    def modelled(self) -> tuple[str, ...]:
        """The costs the replay charges, in words."""
        rates = sorted({str(r.policy.fee_rate) for r in self.runs if r.policy is not None})
        return (
            f"taker fees at the policy's fee_rate ({', '.join(rates)} perps) and {SPOT_TAKER_FEE} on spot",
            f"slippage of {fmt_decimal(self.cost_bps)} bps against the trader on every fill (--cost-bps)",
            "funding from the history, on perps only: longs pay a positive rate, at each funding time",
            "the exchange's lot sizes, $10 minimum order and the planner's own band, edge and margin rules",
        )

    @staticmethod
    def not_modelled() -> tuple[str, ...]:
        """What the replay leaves out, so nobody mistakes it for a promise."""
        return (
            "market impact beyond --cost-bps (large orders move the book more than that)",
            "fills away from the close: prices inside a candle are never seen",
            "maker orders and rebates, TWAP, partial fills, rejected orders, outages",
            "liquidations and margin calls; spot funding (spot pays none)",
        )


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _money(value: Decimal) -> str:
    return fmt_decimal(value.quantize(_CENT))


def _ratio(value: Decimal) -> str:
    return fmt_decimal(value.quantize(_RATIO))


def policy_json(policy: Policy) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ROW_POLICY_KEYS:
        value = getattr(policy, key)
        out[key] = fmt_decimal(value) if isinstance(value, Decimal) else value
    return out


def run_json(run: RunResult) -> dict[str, Any]:
    """One row: a policy (or a baseline) and what it did."""
    growth = run.final_equity / run.start_equity - 1
    return {
        "label": run.label,
        "policy": policy_json(run.policy) if run.policy is not None else None,
        "rebalances": run.rebalances,
        "fills": run.fills,
        "traded_notional": _money(run.traded_notional),
        "turnover": _ratio(run.turnover),
        "fees": _money(run.fees),
        "slippage": _money(run.slippage),
        "total_cost": _money(run.total_cost),
        "funding": _money(run.funding),
        "tracking_error": {"mean": _ratio(run.tracking_mean), "max": _ratio(run.tracking_max)},
        "average_equity": _money(run.average_equity),
        "final_equity": _money(run.final_equity),
        "return": _ratio(growth),
        "stopped": run.stopped,
    }


def report_json(report: BacktestReport) -> dict[str, Any]:
    """The whole report as one JSON document."""
    return {
        "version": REPORT_VERSION,
        "kind": "backtest",
        "targets": {"file": report.targets, "sha256": report.targets_sha256},
        "history": {
            "file": report.history,
            "interval": report.interval,
            "network": report.network,
            "start": _iso(report.times[0]),
            "end": _iso(report.times[-1]),
            "closes": report.closes,
        },
        "universe": {"source": report.universe, "account_mode": report.account_mode},
        "equity": _money(report.equity),
        "equity_source": report.equity_source,
        "cost_bps": fmt_decimal(report.cost_bps),
        "compare": report.compare,
        "costs": {"modelled": list(report.modelled()), "not_modelled": list(report.not_modelled())},
        "policies": [run_json(r) for r in report.runs],
        "baselines": {"never_rebalanced": run_json(report.hold), "every_close_no_cost": run_json(report.ideal)},
        "notes": list(report.notes),
    }


def fetch_json(result: FetchResult, path: str) -> dict[str, Any]:
    """What ``history fetch`` wrote, as one JSON document (the history itself is in the file)."""
    doc = result.document
    coins = []
    for coin in result.coins:
        rows = doc["candleSnapshot"][coin.key]
        funding = doc["fundingHistory"].get(coin.key)
        coins.append(
            {
                "coin": coin.key,
                "wire": coin.wire,
                "kind": "perp" if coin.perp else "spot",
                "candles": len(rows),
                "first": _iso(rows[0]["t"]),
                "last": _iso(rows[-1]["t"]),
                "funding_entries": len(funding) if funding is not None else None,
            }
        )
    return {
        "version": REPORT_VERSION,
        "kind": "history",
        "file": path,
        "interval": doc["interval"],
        "network": doc["network"],
        "start": _iso(result.start),
        "end": _iso(result.end),
        "coins": coins,
        "requests": dict(sorted(result.requests.items())),
        "notes": list(result.notes),
    }
