"""The maker style on the simulator with the real SDK: post-only at the touch, requoted as the touch
moves, never past a coin's goal, patience handing the rest to taker rounds, guards at every requote,
nothing left resting. Timers are tenths of seconds."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from hlrebal.execution.orders import POST_ONLY_CROSSED
from hlrebal.sim import Simulator

from execution_kit import (
    USER,
    PriceMover,
    btc_80,
    client_for,
    journal_entries,
    maker_settings,
    run_library,
    sim_fills,
    unresolved,
)

TARGETS = {"BTC": 0.4, "ETH": 0.3}


def weights(sim: Simulator) -> dict[str, D]:
    snap = client_for(sim).read_snapshot(USER)
    return {c: p.szi * snap.assets[c].reference_price / snap.equity for c, p in snap.positions.items()}


def run(sim: Simulator, tmp_path: Path, **kw: Any) -> Any:
    settings = kw.pop("settings", maker_settings())
    return run_library(sim, tmp_path, kw.pop("mapping", TARGETS), settings=settings, sleep=time.sleep, **kw)


def assert_nothing_rests(sim: Simulator, journal: Path) -> None:
    assert sim.handle("info", {"type": "openOrders", "user": USER})[1] == []
    assert unresolved(journal) == []  # every order's final result is in the journal


def test_the_seed_example_converges_on_maker_fills_at_the_maker_fee(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim, PriceMover(sim, {"BTC": "85700", "ETH": "3040"}):
        report, _, journal = run(sim, tmp_path)
        fills = sim_fills(sim)
        w = weights(sim)
        assert report.outcome == "done", report.message
        assert_nothing_rests(sim, journal)
        assert sim.engine.account(USER).scheduled_cancel is None  # the switch was cleared
        counts = dict(sim.counts)
    assert abs(w["BTC"] - D("0.4")) < D("0.002") and abs(w["ETH"] - D("0.3")) < D("0.002")
    assert [(o.coin, o.tif, o.status, o.reduce_only) for o in report.orders] == [
        ("BTC", "Alo", "filled", True),
        ("ETH", "Alo", "filled", False),
    ]
    assert fills and all(f["crossed"] is False for f in fills)
    notional = sum((f["px"] * f["sz"] for f in fills), D(0))
    assert report.costs.maker_share == 1
    assert abs(report.fees - notional * D("0.00015")) < D("0.01")  # the maker rate, not the taker's 0.045%
    assert counts["exchange.order"] == 2 and counts["exchange.scheduleCancel"] == 3  # set, set, cleared
    events = [e["event"] for e in journal_entries(journal)]
    assert events.index("switch_set") < events.index("order_sent")  # armed before anything rests


def test_patience_expiry_cancels_what_rests_and_taker_rounds_finish(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim:  # nothing moves: no post-only order fills
        started = time.monotonic()
        report, _, journal = run(sim, tmp_path, settings=maker_settings(patience=D("0.8")))
        elapsed = time.monotonic() - started
        assert report.outcome == "done", report.message
        assert_nothing_rests(sim, journal)
        w = weights(sim)
    assert [(r.number, r.style) for r in report.rounds] == [(1, "maker"), (2, "taker")]
    assert report.rounds[1].slippage == D("0.005")  # the first taker round starts at the base slippage
    maker = [o for o in report.orders if o.round == 1]
    taker = [o for o in report.orders if o.round == 2]
    assert {(o.coin, o.status) for o in maker} == {("BTC", "cancelled"), ("ETH", "cancelled")}
    assert {(o.coin, o.tif, o.status) for o in taker} == {("BTC", "Ioc", "filled"), ("ETH", "Ioc", "filled")}
    assert abs(w["ETH"] - D("0.3")) < D("0.002")
    assert 1.6 <= elapsed < 8  # two phases of 0.8 s patience, then one quick taker round
    assert report.costs.maker_share == 0


def test_orders_the_touch_left_are_requoted_and_a_coin_never_passes_its_goal(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        sim.move_price_after(7, "BTC", "85400")  # once the BTC ask rests: the touch falls away from it
        with PriceMover(sim, {"ETH": "3040"}):
            report, _snap, journal = run(sim, tmp_path, mapping=TARGETS, settings=maker_settings(patience=D("1.5")))
        assert_nothing_rests(sim, journal)
        sold = -sum((f["sz"] for f in sim_fills(sim) if f["coin"] == "BTC" and f["side"] == "A"), D(0))
    btc = [o for o in report.orders if o.coin == "BTC" and o.round == 1]
    assert len(btc) >= 2 and btc[0].status == "cancelled"
    assert btc[1].limit_price < btc[0].limit_price  # re-posted at the new, lower ask
    planned = next(t for t in report.final_plan.trades if t.coin == "BTC").size if report.final_plan.trades else None
    goal = D("0.46729")
    assert -sold <= goal and sum((o.filled_size for o in report.orders if o.coin == "BTC"), D(0)) == -sold
    assert planned is None or planned <= goal
    # every requote: at most one cancel request and one order request, whatever the number of coins
    cancels = [e for e in journal_entries(journal) if e["event"] == "cancel_sent"]
    assert all(len(e["cloids"]) <= 2 for e in cancels)


def test_a_fill_racing_the_cancel_is_counted_before_any_replacement(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        client = client_for(sim)
        real_cancel = client.cancel
        raced: list[Any] = []

        def cancel_after_a_fill(cancels: Any) -> Any:
            if not raced:  # the order fills in full just before the cancel reaches the exchange
                raced.append(cancels)
                sim.set_price("BTC", "85700")
            return real_cancel(cancels)

        client.cancel = cancel_after_a_fill  # type: ignore[method-assign]
        sim.move_price_after(7, "BTC", "85400")  # the touch leaves the BTC ask: a requote cancels it
        with PriceMover(sim, {"ETH": "3040"}):
            report, _, journal = run(sim, tmp_path, client=client, settings=maker_settings(patience=D("1.5")))
        assert_nothing_rests(sim, journal)
        btc_fills = [f for f in sim_fills(sim) if f["coin"] == "BTC"]
    assert raced
    btc = [o for o in report.orders if o.coin == "BTC"]
    assert [o.status for o in btc] == ["filled"]  # no replacement went out for what had filled
    assert sum((f["sz"] for f in btc_fills), D(0)) == D("0.46729")
    assert report.outcome == "done", report.message


def test_a_post_only_order_that_would_cross_is_quoted_again(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim, PriceMover(sim, {"BTC": "85700", "ETH": "3040"}):
        sim.reject_order(1, f"{POST_ONLY_CROSSED}, bbo was 85591@85609.")
        report, _, journal = run(sim, tmp_path)
        assert_nothing_rests(sim, journal)
    btc = [o for o in report.orders if o.coin == "BTC"]
    assert [o.status for o in btc] == ["requoted", "filled"]
    assert report.outcome == "done" and not any(o.status == "error" for o in report.orders)


def test_the_guards_hold_at_every_requote(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        real_set = sim.engine.set_price

        def keep_oracle(coin: str, mid: D, mark: D | None, oracle: D | None) -> None:
            real_set(coin, mid, mark, D("3050.4") if coin == "ETH" else oracle)

        sim.engine.set_price = keep_oracle  # type: ignore[method-assign]
        with PriceMover(sim, {"BTC": "85700"}):
            # once the ETH bid rests, ETH jumps 5% while its oracle stays: the requote is refused
            sim.move_price_after(16, "ETH", "3202.9")
            report, _, journal = run(sim, tmp_path, settings=maker_settings(patience=D(2)))
        assert_nothing_rests(sim, journal)
    assert int(report.exit_code) == 4 and "oracle" in report.message
    eth = [o for o in report.orders if o.coin == "ETH"]
    assert [o.status for o in eth] == ["cancelled"]  # the first bid, never replaced at the far price
