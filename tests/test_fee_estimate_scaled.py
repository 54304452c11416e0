"""Fees versus estimate compares like with like: the plan's estimate for the notional that traded."""

from __future__ import annotations

from decimal import Decimal as D

from hlrebal.execution.engine import _estimate_for_traded
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from execution_kit import btc_80

PLAN = plan(Snapshot.from_raw(btc_80()), weights_from_mapping({"BTC": 0.4, "ETH": 0.3}), Policy())


def test_a_run_that_traded_half_compares_its_fees_with_half_the_estimate() -> None:
    s = PLAN.summary
    assert _estimate_for_traded(PLAN, s.traded_notional) == s.estimated_fees.quantize(D("0.000001"))
    assert _estimate_for_traded(PLAN, s.traded_notional / 2) == (s.estimated_fees / 2).quantize(D("0.000001"))
    assert _estimate_for_traded(PLAN, D(0)) == 0


def test_an_empty_plan_keeps_its_estimate() -> None:
    empty = PLAN.model_copy(update={"summary": PLAN.summary.model_copy(update={"traded_notional": D(0)})})
    assert _estimate_for_traded(empty, D(100)) == PLAN.summary.estimated_fees
