"""The guards' refusals word for word, and their edges (written against the survivors of a mutation
run over hlrebal/execution/guards.py)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from hlrebal.errors import GuardError
from hlrebal.execution.guards import OracleGuardError, check_price, check_trades, materially_different
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from execution_kit import btc_80

SNAP = Snapshot.from_raw(btc_80())
PLAN = plan(SNAP, weights_from_mapping({"BTC": 0.4, "ETH": 0.3}), Policy())


def test_the_turnover_refusal_and_its_hint() -> None:
    with pytest.raises(GuardError) as e:
        check_trades(PLAN.trades, SNAP, Policy(max_turnover=D("0.5")), equity=SNAP.equity, turnover_done=D(0))
    assert e.value.message.startswith("turnover 70.0") and e.value.message.endswith("would exceed max_turnover 50.0%")
    assert e.value.hint == "raise --max-turnover if this much trading is intended"


def test_the_order_value_refusal_and_its_hint() -> None:
    with pytest.raises(GuardError) as e:
        check_trades(PLAN.trades, SNAP, Policy(max_order_value=D(1000)), equity=SNAP.equity, turnover_done=D(0))
    assert e.value.hint == (
        "raise --max-order-value, trade in smaller steps, or use --style twap with more --twap-minutes"
    )


def with_oracle(coin: str, oracle: str) -> Snapshot:
    market = SNAP.market_of(coin)
    assert market is not None
    assets = {**SNAP.assets, coin: market.model_copy(update={"oracle": D(oracle)})}
    return SNAP.model_copy(update={"assets": assets})


def test_a_price_is_judged_against_an_oracle_under_one_dollar() -> None:
    snap = with_oracle("ETH", "0.5")
    with pytest.raises(OracleGuardError, match=r"ETH: reference price 0.6 is 20.00% from the oracle price 0.5"):
        check_price("ETH", D("0.6"), snap, Policy())
    check_price("ETH", D("0.505"), snap, Policy())  # 1%: within the default 2%


def test_an_oracle_of_zero_is_no_oracle() -> None:
    check_price("ETH", D("3000"), with_oracle("ETH", "0"), Policy())  # nothing to compare with: passes


def test_a_turnover_change_is_said_in_both_percentages() -> None:
    before = PLAN.summary.turnover
    moved = PLAN.model_copy(update={"summary": PLAN.summary.model_copy(update={"turnover": before * 2})})
    assert materially_different(PLAN, moved) == f"turnover moved from {before * 100:.2f}% to {before * 200:.2f}%"


def _filled(t):  # type: ignore[no-untyped-def]
    from hlrebal.execution import OrderReport

    return OrderReport(
        round=1, phase=t.phase, cloid="0x" + "0" * 32, coin=t.coin, side=t.side, action=t.action,
        reduce_only=t.reduce_only, size=t.size, reference_price=t.reference_price, limit_price=t.limit_price,
        status="filled", filled_size=t.size,
    )  # fmt: skip


def test_a_plan_with_a_transfer_on_a_standard_account_is_re_read_after_phase_1() -> None:
    from hlrebal.execution.preparation import phase1_done_as_planned
    from hlrebal.planner import Transfer

    full = [_filled(t) for t in PLAN.phase(1)]
    assert not SNAP.unified and phase1_done_as_planned(PLAN, full, SNAP)
    moving = PLAN.model_copy(update={"transfers": (Transfer(amount=D(100), to_perp=True, reason="margin"),)})
    assert not phase1_done_as_planned(moving, full, SNAP)


def test_a_refused_dust_close_is_dropped_and_the_trades_after_it_kept() -> None:
    from hlrebal.execution.preparation import drop_refused_dust

    btc, eth = (next(t for t in PLAN.trades if t.coin == c) for c in ("BTC", "ETH"))
    dusty = PLAN.model_copy(update={"trades": (btc.model_copy(update={"dust": True}), eth)})
    warnings: list[str] = []
    kept = drop_refused_dust(dusty, {"BTC": str(btc.size)}, warnings)
    assert [t.coin for t in kept.trades] == ["ETH"]
    assert warnings == [
        f"BTC: the exchange refused to close this ${btc.notional:.2f} dust position ({btc.size}); "
        "it is reported, not retried"
    ]
