"""What counts as "the account changed since the plan": positions and tokens by the lot, cash without
the positions' value (a price move is not a deposit), on standard and unified accounts alike."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from hlrebal.approval import account_changes
from hlrebal.snapshot import Snapshot

from factories import make_snapshot


def snap(**kw: Any) -> Snapshot:
    return Snapshot.from_raw(make_snapshot(**kw))


def test_a_price_move_is_not_a_change_but_a_deposit_or_a_trade_is() -> None:
    base = dict(positions={"BTC": ("0.93458", 10)}, cash="19999.952")
    before = snap(**base)
    assert account_changes(before, snap(**base, prices={"BTC": "87000"})) == []
    assert account_changes(before, snap(positions={"BTC": ("0.93458", 10)}, cash="20500")) == [
        "perp USDC 19,999.95 -> 20,500.00"
    ]
    assert account_changes(before, snap(positions={"BTC": ("0.93457", 10)}, cash="19999.952")) == [
        "BTC position 0.93458 -> 0.93457"
    ]
    # within 0.1% of equity: funding paid since the plan is not a change
    assert account_changes(before, snap(positions={"BTC": ("0.93458", 10)}, cash="19990")) == []


def test_tokens_compare_to_the_lot() -> None:
    base = dict(positions={}, cash="1000", spot={"USDC": "5000", "HYPE": "10.004"})
    before = snap(**base)
    assert account_changes(before, snap(**{**base, "spot": {"USDC": "5000", "HYPE": "10.009"}})) == []
    assert account_changes(before, snap(**{**base, "spot": {"USDC": "5000", "HYPE": "10.02"}})) == [
        "HYPE balance 10.004 -> 10.02"
    ]


def test_a_unified_balance_moves_with_the_positions_and_is_not_a_change() -> None:
    def unified(price: str, usdc_extra: D = D(0)) -> Snapshot:
        ntl = D("0.5") * D(price)
        # the one USDC balance holds the perp side's value: it moves with the BTC price
        usdc = D("90000") + ntl - D("42800") + usdc_extra
        return snap(positions={"BTC": ("0.5", 10)}, cash=str(-ntl), spot={"USDC": str(usdc)},
                    mode="unifiedAccount", prices={"BTC": price})  # fmt: skip

    before = unified("85600")
    assert account_changes(before, unified("87000")) == []
    assert account_changes(before, unified("85600", D(1000))) == ["USDC 47,200.00 -> 48,200.00"]
