"""The replay: what a policy trades over a history, what it costs, and that it is the planner's doing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hlrebal.backtest import RunResult, align, parse_history, replay, universe_of
from hlrebal.backtest.engine import ideal
from hlrebal.market import SPOT_TAKER_FEE
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from backtest_helpers import START, demo_snapshot, history_doc, walk

H = 3_600_000
MILLION = Decimal(1_000_000)


def run(
    closes: dict[str, list[str]],
    weights: dict[str, float],
    policy: Policy,
    *,
    equity: Decimal = MILLION,
    cost_bps: str = "2",
    funding: dict[str, list[tuple[int, str]]] | None = None,
    snapshot: Snapshot | None = None,
    **kwargs: Any,
) -> RunResult:
    doc = history_doc(closes, wires={"HYPE/USDC": "@107"}, funding=funding)
    targets = weights_from_mapping(weights)
    universe = universe_of(snapshot or demo_snapshot(), targets, policy)
    timeline = align(parse_history(doc, "h.json"), universe.refs)
    return replay(timeline, universe, targets, policy, equity=equity, cost_bps=Decimal(cost_bps), **kwargs)


def with_pauses(series: list[str], pauses: set[int]) -> list[str]:
    """The same walk, but at the closes in ``pauses`` the price does not move."""
    out = list(series)
    for i in sorted(pauses):
        out[i] = out[i - 1]
    return out


PAUSES = {10, 11, 25, 40}
CLOSES = {
    "BTC": with_pauses(walk(60, 90_000, 0.01, seed=1), PAUSES),
    "ETH": with_pauses(walk(60, 3_000, 0.01, seed=2), PAUSES),
}
WEIGHTS = {"BTC": 0.4, "ETH": 0.3}


def band(value: str, **changes: Any) -> Policy:
    return Policy(**{"band": Decimal(value), "band_relative": None, "trade_to": "target", **changes})


def test_band_zero_trades_at_every_close_that_moved_and_has_the_most_turnover() -> None:
    zero = run(CLOSES, WEIGHTS, band("0"))
    moved = sum(1 for i in range(1, 60) if i not in PAUSES)
    assert zero.rebalances == moved == 55
    others = [run(CLOSES, WEIGHTS, band(b)) for b in ("0.005", "0.01", "0.02")]
    assert all(zero.turnover > other.turnover for other in others)
    assert zero.tracking_max < min(other.tracking_max for other in others)


def test_a_band_no_move_reaches_trades_nothing_after_the_start() -> None:
    wide = run(CLOSES, WEIGHTS, band("0.5"))
    assert (wide.rebalances, wide.fills, wide.traded_notional, wide.fees, wide.slippage) == (0, 0, 0, 0, 0)
    assert wide.turnover == 0
    hold = run(CLOSES, WEIGHTS, band("0.5"), rebalance=False)
    assert wide.final_equity == hold.final_equity and wide.equity_series == hold.equity_series


def test_edge_mode_turns_over_no_more_than_target_mode_at_the_same_band() -> None:
    for seed in (3, 4, 5):
        closes = {"BTC": walk(400, 90_000, 0.012, seed=seed), "ETH": walk(400, 3_000, 0.015, seed=seed + 10)}
        for width in ("0.01", "0.03"):
            target = run(closes, WEIGHTS, band(width))
            edge = run(closes, WEIGHTS, band(width, trade_to="edge"))
            assert target.rebalances > 0 and edge.rebalances > 0
            assert edge.turnover <= target.turnover
            assert edge.tracking_mean >= target.tracking_mean  # the price of trading less


def test_perp_fees_are_traded_notional_times_the_policys_fee_rate() -> None:
    result = run(CLOSES, WEIGHTS, band("0.01", fee_rate=Decimal("0.0003")))
    assert result.fills > 0
    assert result.fees == result.traded_notional * Decimal("0.0003")


def test_spot_fees_are_traded_notional_times_the_spot_rate() -> None:
    closes = {"HYPE/USDC": walk(60, 30, 0.02, seed=7)}
    result = run(closes, {"HYPE/USDC": 0.5}, band("0.01", fee_rate=Decimal("0.0003")))
    assert result.fills > 0
    assert result.fees == result.traded_notional * SPOT_TAKER_FEE
    assert result.funding == 0


def test_slippage_is_cost_bps_of_every_fill_against_the_trader() -> None:
    free = run(CLOSES, WEIGHTS, band("0.01"), cost_bps="0")
    assert free.slippage == 0 and free.fills > 0
    costly = run(CLOSES, WEIGHTS, band("0.01"), cost_bps="10")
    k = Decimal("0.001")
    assert abs(costly.slippage - k * costly.traded_notional) <= k * k * costly.traded_notional
    assert costly.final_equity < free.final_equity


def test_one_rebalance_by_hand() -> None:
    """BTC 0.5 of $1M at 100,000 (5 BTC); BTC rises to 105,000: sell back to 0.5 at the close less 10 bps."""
    result = run({"BTC": ["100000", "105000"]}, {"BTC": 0.5}, band("0.01"), cost_bps="10")
    equity = MILLION + 5 * Decimal(5000)
    sold = Decimal(5) - Decimal("4.88095")  # round(0.5 x 1,025,000 / 105,000) on the 0.00001 lot
    fill = Decimal(105_000) * Decimal("0.999")
    fee = sold * fill * Decimal("0.00045")
    assert (result.rebalances, result.fills) == (1, 1)
    assert result.traded_notional == sold * fill
    assert result.slippage == sold * Decimal(105)
    assert result.final_equity == equity - result.slippage - fee


def funding_run(weight: float, rate: str, closes: list[str] | None = None) -> RunResult:
    entries = [
        (START + 27, "0.5"),  # before the first close: the portfolio does not exist yet
        (START + 3 * H + 27, rate),  # between close 2 (03:00) and close 3 (04:00)
    ]
    closes = closes or ["100000", "100000", "100000", "120000", "120000", "120000"]
    return run({"BTC": closes}, {"BTC": weight}, band("0.9"), funding={"BTC": entries}, cost_bps="0")


def test_a_long_pays_a_positive_funding_rate_at_its_time() -> None:
    long = funding_run(0.5, "0.001")
    paid = 5 * Decimal(100_000) * Decimal("0.001")  # 5 BTC at the price of the last close before payment
    assert long.funding == -paid
    assert long.equity_series[:3] == (1e6, 1e6, 1e6)  # nothing paid before it is due
    assert long.equity_series[3] == float(MILLION + 5 * 20_000 - paid)
    assert long.final_equity == MILLION + 5 * 20_000 - paid


def test_a_short_receives_a_positive_rate_and_a_long_receives_a_negative_one() -> None:
    short = funding_run(-0.5, "0.001")
    assert short.funding == 5 * Decimal(100_000) * Decimal("0.001")
    assert funding_run(0.5, "-0.001").funding == 500
    assert funding_run(0.5, "0").funding == 0


def test_the_cheap_check_gives_what_calling_the_planner_at_every_close_gives() -> None:
    closes = {"BTC": walk(150, 90_000, 0.01, seed=8), "HYPE/USDC": walk(150, 30, 0.02, seed=9)}
    weights = {"BTC": 0.4, "HYPE/USDC": 0.2}
    for policy in (band("0.02"), band("0.05", band_relative=Decimal("0.25"), trade_to="edge"), band("0")):
        fast = run(closes, weights, policy)
        naive = run(closes, weights, policy, every_close=True)
        assert fast == naive and fast.equity_series == naive.equity_series
        assert fast.rebalances > 0


@pytest.mark.parametrize("mode", ["disabled", "unifiedAccount"])
def test_perps_and_spot_in_standard_and_unified_accounts(mode: str) -> None:
    closes = {"BTC": walk(120, 90_000, 0.01, seed=11), "HYPE/USDC": walk(120, 30, 0.03, seed=12)}
    snapshot = demo_snapshot(userAbstraction=mode)
    weights = {"BTC": 0.3, "HYPE/USDC": 0.5}
    result = run(closes, weights, band("0.02"), snapshot=snapshot)
    hold = run(closes, weights, band("0.02"), snapshot=snapshot, rebalance=False)
    assert result.rebalances > 5
    assert result.tracking_max < hold.tracking_max
    assert result.tracking_max < Decimal("0.05")  # spot buys got their cash (a transfer when standard)


def test_the_ideal_baseline_holds_the_targets_exactly_for_free() -> None:
    doc = history_doc({"BTC": ["100", "110", "99"]}, rate="0")
    targets = weights_from_mapping({"BTC": 0.5})
    universe = universe_of(demo_snapshot(), targets, Policy())
    best = ideal(align(parse_history(doc, "h.json"), universe.refs), universe, equity=Decimal(1000))
    assert best.final_equity == Decimal(1000) * Decimal("1.05") * Decimal("0.95")
    assert best.tracking_max == 0 and best.fees == 0
    assert best.rebalances == 2


def test_a_replay_whose_equity_runs_out_stops_and_says_when() -> None:
    closes = {"BTC": ["100000", "150000", "300000", "310000"]}
    result = run(closes, {"BTC": -0.9}, band("0.5"), cost_bps="0", rebalance=False)  # a short, held: 9 BTC
    assert result.stopped is not None and "2026-01-01 02:59 UTC" in result.stopped
    assert len(result.equity_series) == 2 and result.final_equity == MILLION - 9 * Decimal(50_000)
