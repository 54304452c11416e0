"""A plan says what execution's guards will refuse, before anyone tries to run it."""

from __future__ import annotations

from decimal import Decimal as D

from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from execution_kit import btc_80

SNAP = Snapshot.from_raw(btc_80())
SEED = weights_from_mapping({"BTC": 0.4, "ETH": 0.3})


def refusals(policy: Policy, targets=SEED) -> list[str]:  # type: ignore[no-untyped-def]
    return [w for w in plan(SNAP, targets, policy).warnings if w.startswith("execute will refuse")]


def test_no_warning_when_the_guards_let_the_plan_through() -> None:
    assert refusals(Policy()) == []
    turnover = plan(SNAP, SEED, Policy()).summary.turnover
    assert refusals(Policy(max_turnover=turnover)) == []  # exactly at the cap passes, as in the guard


def test_turnover_over_the_cap_is_said_with_both_figures() -> None:
    turnover = plan(SNAP, SEED, Policy()).summary.turnover
    [said] = refusals(Policy(max_turnover=D("0.5")))
    assert said == (
        f"execute will refuse this plan: turnover {turnover * 100:.1f}% of equity exceeds max_turnover 50.0% "
        "(raise --max-turnover if this much trading is intended)"
    )


def test_orders_over_max_order_value_are_named() -> None:
    trades = plan(SNAP, SEED, Policy()).trades
    btc = next(t for t in trades if t.coin == "BTC")
    eth = next(t for t in trades if t.coin == "ETH")
    cap = (min(btc.notional, eth.notional) + max(btc.notional, eth.notional)) / 2
    [said] = refusals(Policy(max_order_value=cap))
    big = btc if btc.notional > cap else eth
    assert f"above max_order_value ${cap:,.2f} ({big.coin} {big.side} ${big.notional:,.2f})" in said
    assert said.endswith("in the taker and maker styles; --style twap caps its slices instead")
    assert refusals(Policy(max_order_value=max(btc.notional, eth.notional))) == []
