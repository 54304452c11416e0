"""Rich renderables of a backtest report and of a fetched history. Nothing here prints."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group, RenderableType
from rich.text import Text

from hlrebal.backtest.engine import RunResult
from hlrebal.backtest.fetch import FetchResult
from hlrebal.backtest.history import when
from hlrebal.backtest.report import BacktestReport
from hlrebal.market import fmt_decimal
from hlrebal.render.layout import Cell, Column, table
from hlrebal.render.numbers import usd

_REPORT_COLUMNS = (
    Column("policy", card_label=""),
    Column("rebalances", "right"),
    Column("turnover", "right"),
    Column("fees", "right"),
    Column("slippage", "right"),
    Column("total cost", "right"),
    Column("funding", "right"),
    Column("drift avg", "right"),
    Column("drift max", "right"),
    Column("final equity", "right"),
)


def _usd(value: Decimal) -> str:
    return usd(value)


def _pct(value: Decimal) -> str:
    return f"{value * 100:.2f}%"


def _row(run: RunResult) -> list[Cell]:
    return [
        run.label,
        f"{run.rebalances:,}",
        f"{run.turnover * 100:,.1f}%",
        _usd(run.fees),
        _usd(run.slippage),
        _usd(run.total_cost),
        _usd(run.funding),
        _pct(run.tracking_mean),
        _pct(run.tracking_max),
        _usd(run.final_equity),
    ]


def report_renderable(report: BacktestReport) -> RenderableType:
    """The comparison table (one row per policy, then the baselines) and what it models."""
    head = Text(
        f"{report.targets} over {report.history}: {report.closes:,} {report.interval} closes, "
        f"{when(report.times[0])} to {when(report.times[-1])}\n"
        f"start equity {_usd(report.equity)} ({report.equity_source}); rules from {report.universe} "
        f"({report.account_mode} account); cost {fmt_decimal(report.cost_bps)} bps a fill"
    )
    title = "policies, lowest total cost first" if report.compare else "policy"
    baselines: list[list[Cell]] = [
        [Text(c, style="dim") if isinstance(c, str) else c for c in _row(r)] for r in (report.hold, report.ideal)
    ]
    rows: list[list[Cell]] = [*(_row(run) for run in report.runs), *baselines]
    policies = table(_REPORT_COLUMNS, rows, title=title)
    lines = [
        "turnover: traded notional / average equity; drift: the largest |weight - target| after each close's trades; "
        "total cost: fees + slippage (funding apart)",
        "modelled: " + "; ".join(report.modelled()),
        "not modelled: " + "; ".join(report.not_modelled()),
    ]
    lines += [f"note: {n}" for n in report.notes]
    lines += [f"stopped: {r.label}: {r.stopped}" for r in report.runs if r.stopped]
    return Group(head, policies, Text("\n".join(lines), style="dim"))


def fetch_renderable(result: FetchResult, path: str) -> RenderableType:
    """What a history fetch wrote."""
    doc = result.document
    cells: list[list[Cell]] = []
    for coin in result.coins:
        rows = doc["candleSnapshot"][coin.key]
        funding = doc["fundingHistory"].get(coin.key)
        cells.append(
            [
                coin.key if coin.key == coin.wire else f"{coin.key} ({coin.wire})",
                "perp" if coin.perp else "spot",
                f"{len(rows):,}",
                when(rows[0]["t"]),
                when(rows[-1]["t"]),
                f"{len(funding):,}" if funding is not None else "-",
            ]
        )
    columns = (
        Column("coin", card_label=""),
        Column("kind", card_label=""),
        Column("candles", "right"),
        Column("first", wrap=True),
        Column("last", wrap=True),
        Column("funding entries", "right", card_label="funding"),
    )
    written = table(columns, cells, title=f"history written to {path}")
    asked = ", ".join(f"{n} {k}" for k, n in sorted(result.requests.items()))
    lines = [f"requests: {asked}"] + [f"note: {n}" for n in result.notes]
    return Group(written, Text("\n".join(lines), style="dim"))
