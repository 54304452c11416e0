"""The replay: one policy over a timeline, with the planner that trades live.

At every close: perp positions are marked to the close (their PnL settled into cash), funding paid
since the last close is applied to the position held meanwhile (a long pays a positive rate), and
the band is checked. Only when some asset is outside its band is the full :func:`plan` called, on a
snapshot of the simulated account at that close; its trades fill at the close moved ``cost_bps``
against the trader, and pay the policy's fee rate (spot pairs the spot rate).

The cheap check is the planner's own rule (:mod:`hlrebal.backtest.band`), so calling the planner at
every close (``every_close=True``, the naive loop) gives the same result, only slower. Money is
Decimal throughout; the drift statistics (tracking error) are floats, for display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from hlrebal.backtest.account import Account, fill_plan
from hlrebal.backtest.band import FastBand, band_checks
from hlrebal.backtest.history import when
from hlrebal.backtest.timeline import Timeline
from hlrebal.backtest.universe import Universe
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.targets import Targets

_ZERO = Decimal(0)
_BPS = Decimal(10_000)


@dataclass(frozen=True)
class RunResult:
    """What one policy did over the whole history."""

    label: str
    policy: Policy | None
    rebalances: int
    """Closes after the start at which anything traded."""
    fills: int
    traded_notional: Decimal
    turnover: Decimal
    """Traded notional over average equity (the starting allocation is not trading)."""
    fees: Decimal
    slippage: Decimal
    funding: Decimal
    """Net funding received (negative: paid)."""
    tracking_mean: Decimal
    """Time-average over closes of the largest |weight - target|, after each close's trades
    (computed in floats: a statistic, never a decision)."""
    tracking_max: Decimal
    start_equity: Decimal
    final_equity: Decimal
    average_equity: Decimal
    stopped: str | None = None
    """Why the replay ended early (the account's equity ran out), else None."""
    equity_series: tuple[float, ...] = field(default=(), repr=False, compare=False)
    drift_series: tuple[float, ...] = field(default=(), repr=False, compare=False)

    @property
    def total_cost(self) -> Decimal:
        """Trading costs: fees and slippage (funding is carry, reported apart)."""
        return self.fees + self.slippage


class _Replay:
    """The mutable state of one replay: the account, its float mirror for the band check, totals."""

    def __init__(self, timeline: Timeline, universe: Universe, policy: Policy, equity: Decimal) -> None:
        self.timeline = timeline
        self.account = Account(universe, policy)
        self.account.start(equity, [timeline.closes[c][0] for c in universe.coins])
        self.band = FastBand(band_checks(universe, policy))
        self.fsizes: dict[str, float] = {}
        self.sync()
        self.perps = self.account.perps
        self.rebalances = self.fills = 0
        self.notional = self.fees = self.slippage = self.funding = self.equity_sum = _ZERO

    def sync(self) -> None:
        """Refresh the float sizes after trades."""
        self.fsizes = {coin: float(size) for coin, size in self.account.size.items()}

    def mark(self, i: int) -> None:
        """Settle perp PnL since the last close, and the funding paid since then, into cash."""
        size, now, before = self.account.size, self.timeline.prices[i], self.timeline.prices[i - 1]
        pnl = _ZERO
        for coin in self.perps:
            if size[coin]:
                pnl += size[coin] * (now[coin] - before[coin])
        for event in self.timeline.funding[i]:
            paid = size[event.coin] * event.price * event.rate
            pnl -= paid
            self.funding -= paid
        if pnl:
            self.account.add_perp_cash(pnl)

    def check(self, i: int, value: Decimal) -> tuple[bool, float]:
        floats = (self.fsizes, self.timeline.fprices[i], float(value))
        return self.band.check(floats, self.account.size, self.timeline.prices[i], value)

    def trade(self, i: int, targets: Targets, policy: Policy, cost: Decimal) -> bool:
        """Plan at this close and fill the plan; whether anything traded."""
        prices = self.timeline.prices[i]
        snapshot = self.account.snapshot(prices, self.timeline.times[i])
        fills = fill_plan(self.account, plan(snapshot, targets, policy), prices, cost, policy.fee_rate)
        if not fills.fills:
            return False
        self.sync()
        self.rebalances += 1
        self.fills += fills.fills
        self.notional += fills.notional
        self.fees += fills.fees
        self.slippage += fills.slippage
        return True


def replay(
    timeline: Timeline,
    universe: Universe,
    targets: Targets,
    policy: Policy,
    *,
    equity: Decimal,
    cost_bps: Decimal,
    label: str = "",
    rebalance: bool = True,
    every_close: bool = False,
) -> RunResult:
    """Replay one policy (``rebalance=False``: hold the starting allocation, never trade)."""
    state = _Replay(timeline, universe, policy, equity)
    cost = cost_bps / _BPS
    equities: list[float] = []
    drifts: list[float] = []
    stopped = None
    last = equity
    for i, close_time in enumerate(timeline.times):
        if i:
            state.mark(i)
        value = state.account.equity(timeline.prices[i])
        if value <= 0:
            stopped = f"the account's equity ran out at {when(close_time)}; the replay stops there"
            break
        out, drift = state.check(i, value)
        if rebalance and i and (out or every_close) and state.trade(i, targets, policy, cost):
            value = state.account.equity(timeline.prices[i])
            drift = state.check(i, value)[1]
        last = value
        state.equity_sum += value
        equities.append(float(value))
        drifts.append(drift)
    average = state.equity_sum / len(equities)
    return RunResult(
        label=label,
        policy=policy if rebalance else None,
        rebalances=state.rebalances,
        fills=state.fills,
        traded_notional=state.notional,
        turnover=state.notional / average,
        fees=state.fees,
        slippage=state.slippage,
        funding=state.funding,
        tracking_mean=Decimal(repr(math.fsum(drifts) / len(drifts))),
        tracking_max=Decimal(repr(max(drifts))),
        start_equity=equity,
        final_equity=last,
        average_equity=average,
        stopped=stopped,
        equity_series=tuple(equities),
        drift_series=tuple(drifts),
    )


def ideal(timeline: Timeline, universe: Universe, *, equity: Decimal) -> RunResult:
    """The same targets held exactly at every close, for free: fractional sizes, no fees, no slippage.

    Funding is still paid (it is carry, not a cost of trading). Its tracking error is zero by
    construction; its turnover is what rebalancing at every close would trade.
    """
    coins = universe.coins
    closes = [timeline.closes[c] for c in coins]
    weights = [universe.weights[c] for c in coins]
    spot = [universe.is_spot(c) for c in coins]
    held = [w * equity / series[0] for w, series in zip(weights, closes, strict=True)]
    value = equity
    equity_sum = equity
    notional = funding = _ZERO
    equities = [float(equity)]
    index = {c: k for k, c in enumerate(coins)}
    for i in range(1, len(timeline.times)):
        for k, series in enumerate(closes):
            value += held[k] * (series[i] - series[i - 1])
        for event in timeline.funding[i]:
            k = index[event.coin]
            if not spot[k]:
                paid = held[k] * event.price * event.rate
                value -= paid
                funding -= paid
        for k, series in enumerate(closes):
            new = weights[k] * value / series[i]
            notional += abs(new - held[k]) * series[i]
            held[k] = new
        equity_sum += value
        equities.append(float(value))
    average = equity_sum / len(equities)
    return RunResult(
        label="every close, no cost",
        policy=None,
        rebalances=len(equities) - 1,
        fills=0,
        traded_notional=notional,
        turnover=notional / average,
        fees=_ZERO,
        slippage=_ZERO,
        funding=funding,
        tracking_mean=_ZERO,
        tracking_max=_ZERO,
        start_equity=equity,
        final_equity=value,
        average_equity=average,
        equity_series=tuple(equities),
        drift_series=tuple(0.0 for _ in equities),
    )
