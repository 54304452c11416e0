"""The replay: one policy over a timeline, with the planner that trades live.

At every close: perp positions are marked to the close (their PnL settled into cash), funding paid
since the last close is applied to the position held meanwhile (a long pays a positive rate), and
the band is checked. Only when some asset is outside its band is the full :func:`plan` called, on a
snapshot of the simulated account at that close; its trades fill at the close moved ``cost_bps``
against the trader, and pay the policy's fee rate (spot pairs the spot rate).

The cheap check is the planner's own rule (:func:`outside_band`), so calling the planner at every
close (``every_close=True``, the naive loop) gives the same result, only slower.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from hlrebal.backtest.account import Account, fill_plan
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
    """Time-average over closes of the largest |weight - target|, after each close's trades."""
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


Check = tuple[str, Decimal, Decimal]
"""(coin, target weight, threshold) for one coin of the band check."""


def band_checks(universe: Universe, policy: Policy) -> tuple[Check, ...]:
    """Each coin with its target and its band threshold, the planner's ``policy.threshold(target)``."""
    return tuple((coin, universe.weights[coin], policy.threshold(universe.weights[coin])) for coin in universe.coins)


def outside_band(
    checks: Sequence[Check], sizes: Mapping[str, Decimal], prices: Mapping[str, Decimal], equity: Decimal
) -> tuple[bool, Decimal]:
    """Whether the planner would look at trading any coin, and the largest |weight - target|.

    The planner's rule (planner ``_decide``): an explicit target of 0 with a position always
    trades; otherwise a coin trades when ``|size x price / equity - target|`` is strictly beyond
    its threshold. Same operations, same order, so the Decimal results are identical.
    """
    out = False
    largest = _ZERO
    for coin, target, threshold in checks:
        size = sizes[coin]
        drift = abs(size * prices[coin] / equity - target)
        if drift > largest:
            largest = drift
        if target == 0:
            if size != 0:
                out = True
        elif drift > threshold:
            out = True
    return out, largest


class _Totals:
    __slots__ = ("drift_max", "drift_sum", "equity_sum", "fees", "fills", "funding", "notional", "rebalances", "slip")

    def __init__(self) -> None:
        self.rebalances = self.fills = 0
        self.notional = self.fees = self.slip = self.funding = _ZERO
        self.equity_sum = self.drift_sum = self.drift_max = _ZERO


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
    coins = universe.coins
    account = Account(universe, policy)
    account.start(equity, [timeline.closes[c][0] for c in coins])
    checks = band_checks(universe, policy)
    cost = cost_bps / _BPS
    totals = _Totals()
    equities: list[float] = []
    drifts: list[float] = []
    stopped = None
    last = equity
    perps = [(coin, timeline.closes[coin]) for coin in account.perps]
    size = account.size
    for i, close_time in enumerate(timeline.times):
        prices = timeline.prices[i]
        if i:
            pnl = _ZERO
            for coin, series in perps:
                if size[coin]:
                    pnl += size[coin] * (series[i] - series[i - 1])
            for event in timeline.funding[i]:
                paid = size[event.coin] * event.price * event.rate
                pnl -= paid
                totals.funding -= paid
            if pnl:
                account.add_perp_cash(pnl)
        value = account.equity(prices)
        if value <= 0:
            stopped = f"the account's equity ran out at close {i} ({close_time}); the replay stops there"
            break
        out, drift = outside_band(checks, size, prices, value)
        if rebalance and i and (out or every_close):
            trades = plan(account.snapshot(prices, close_time), targets, policy)
            fills = fill_plan(account, trades, prices, cost, policy.fee_rate)
            if fills.fills:
                totals.rebalances += 1
                totals.fills += fills.fills
                totals.notional += fills.notional
                totals.fees += fills.fees
                totals.slip += fills.slippage
                value = account.equity(prices)
                drift = outside_band(checks, size, prices, value)[1]
        last = value
        totals.equity_sum += value
        totals.drift_sum += drift
        if drift > totals.drift_max:
            totals.drift_max = drift
        equities.append(float(value))
        drifts.append(float(drift))
    closes_seen = len(equities)
    average = totals.equity_sum / closes_seen
    return RunResult(
        label=label,
        policy=policy if rebalance else None,
        rebalances=totals.rebalances,
        fills=totals.fills,
        traded_notional=totals.notional,
        turnover=totals.notional / average,
        fees=totals.fees,
        slippage=totals.slip,
        funding=totals.funding,
        tracking_mean=totals.drift_sum / closes_seen,
        tracking_max=totals.drift_max,
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
