"""max_order_value caps one order: a TWAP's largest slice, not the whole TWAP; a taker sweep whole."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal as D
from pathlib import Path

import pytest

from hlrebal.errors import GuardError
from hlrebal.execution.guards import check_trades, order_share
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.sim import SimConfig, Simulator
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from execution_kit import btc_80, run_library, sim_has, twap_settings

SEED = btc_80()


def test_order_share_is_the_largest_slice_under_twap_and_the_whole_trade_otherwise() -> None:
    assert order_share("taker", 30) == 1 and order_share("maker", 5) == 1
    assert order_share("twap", 5) == D("0.3")  # 10 slices, catching up at most 3 of them
    assert order_share("twap", 30) == D(3) / 60
    assert order_share("twap", 1) == 1  # never more than the whole trade


def test_check_trades_caps_the_slice_and_says_so() -> None:
    snap = Snapshot.from_raw(SEED)
    trades = plan(snap, weights_from_mapping({"BTC": 0.4, "ETH": 0.3}), Policy()).trades
    btc = next(t for t in trades if t.coin == "BTC")
    policy = Policy(max_order_value=D(15000), max_turnover=D(2))
    with pytest.raises(GuardError, match=r"BTC sell of \$[\d,.]+ exceeds max_order_value \$15,000.00"):
        check_trades(trades, snap, policy, equity=snap.equity, turnover_done=D(0))
    check_trades(trades, snap, policy, equity=snap.equity, turnover_done=D(0), order_share=D("0.3"))
    tight = Policy(max_order_value=btc.notional * D("0.2"), max_turnover=D(2))
    with pytest.raises(GuardError, match=r"BTC sell of \$[\d,.]+ \(its largest slice about \$[\d,.]+\) exceeds"):
        check_trades(trades, snap, tight, equity=snap.equity, turnover_done=D(0), order_share=D("0.3"))


@sim_has("twaps", "advance")
def test_a_twap_run_under_max_order_value_goes_where_a_taker_run_is_refused(tmp_path: Path) -> None:
    policy = Policy(max_order_value=D(15000))
    with Simulator(snapshot=btc_80()) as sim:
        refused, _, _ = run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, policy=policy)
        assert list(sim.orders) == []  # refused before anything was sent
    assert refused.outcome == "refused" and "exceeds max_order_value" in refused.message
    with Simulator(snapshot=btc_80(), config=SimConfig(twap_slice_seconds=0.05)) as sim:
        report, _, _ = run_library(
            sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, policy=policy, settings=twap_settings(), sleep=time.sleep
        )
    assert report.outcome == "done", report.message
    assert [o.tif for o in report.orders] == ["Twap", "Twap"]


@sim_has("twaps", "advance")
def test_twap_progress_is_said_when_it_changes(tmp_path: Path) -> None:
    said: list[str] = []
    settings = twap_settings(poll_seconds=D("0.1"))  # three polls a slice: most of them see no change
    with Simulator(snapshot=btc_80(), config=SimConfig(twap_slice_seconds=0.3)) as sim:
        report, _, _ = run_library(
            sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, settings=settings, sleep=time.sleep, progress=said.append
        )
    assert report.outcome == "done", report.message
    twap_lines = [line for line in said if "TWAPs" in line]
    assert twap_lines  # (the last poll may come before or after the final slice: no claim on its figure)
    assert all(a != b for a, b in itertools.pairwise(twap_lines))
