"""Resting orders: the dead man's switch, modify/batchModify, noop, and the faults a patient
executor must survive (a lost cancel answer, a fill racing a cancel)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from hyperliquid.utils.signing import OrderType
from hyperliquid.utils.types import Cloid

from hlrebal.sim import ManualClock, SimConfig, Simulator

from sim_helpers import D, funded, info, limit, next_nonce, post, send_action, signed_body, statuses

DEFAULT = {"status": "ok", "response": {"type": "default"}}
GTC: OrderType = {"limit": {"tif": "Gtc"}}


@pytest.fixture
def clocked() -> Iterator[Simulator]:
    with Simulator(clock=ManualClock(), config=SimConfig(tick_seconds=0)) as s:
        yield s


def _rest(ex, coin: str = "ETH", is_buy: bool = True, sz: float = 0.5, px: float = 3000, cloid=None) -> int:  # type: ignore[no-untyped-def]
    [status] = statuses(ex.order(coin, is_buy, sz, px, limit("Gtc"), cloid=cloid))
    return int(status["resting"]["oid"])


# ---- scheduleCancel -------------------------------------------------------------------------


def test_schedule_cancel_fires_at_its_time_on_every_open_order(clocked: Simulator) -> None:
    key, ex = funded(clocked)
    clocked.fund_spot(key.address, "USDC", 1000)
    oids = [_rest(ex), _rest(ex, "BTC", False, 0.001, 90000), _rest(ex, "HYPE/USDC", True, 1, 30)]
    now = clocked.now
    assert ex.schedule_cancel(now + 4_999)["response"] == (
        "Scheduled cancel time too early, must be at least 5 seconds from now."
    )
    assert ex.schedule_cancel(now + 10_000) == DEFAULT
    clocked.advance(9.9)
    assert sorted(o["oid"] for o in info(clocked).open_orders(key.address)) == sorted(oids)
    clocked.advance(0.1)
    assert info(clocked).open_orders(key.address) == []
    for oid in oids:
        order = info(clocked).query_order_by_oid(key.address, oid)["order"]
        assert order["status"] == "scheduledCancel" and order["statusTimestamp"] == now + 10_000


def test_schedule_cancel_cleared_by_omitting_the_time(clocked: Simulator) -> None:
    key, ex = funded(clocked)
    oid = _rest(ex)
    assert ex.schedule_cancel(clocked.now + 6_000) == DEFAULT
    assert ex.schedule_cancel(None) == DEFAULT  # the SDK sends {"type": "scheduleCancel"}
    clocked.advance(60)
    assert [o["oid"] for o in info(clocked).open_orders(key.address)] == [oid]


def test_at_most_ten_triggers_a_day(clocked: Simulator) -> None:
    clocked.advance(86_400 - (clocked.now // 1000) % 86_400 + 60)  # one minute into a UTC day
    _, ex = funded(clocked)
    for _ in range(10):
        assert ex.schedule_cancel(clocked.now + 5_000) == DEFAULT
        clocked.advance(5)
    refused = ex.schedule_cancel(clocked.now + 5_000)
    assert refused["status"] == "err" and refused["response"].startswith("Too many scheduled cancels triggered")
    clocked.advance(86_400)  # a new UTC day resets the count
    assert ex.schedule_cancel(clocked.now + 5_000) == DEFAULT


def test_schedule_cancel_can_require_traded_volume() -> None:
    with Simulator(config=SimConfig(schedule_cancel_min_volume=1000, tick_seconds=0)) as sim:
        _, ex = funded(sim)
        refused = ex.schedule_cancel(sim.now + 10_000)
        assert refused["response"] == "Cannot set scheduled cancel time until enough volume traded. Required: $1000.00."
        statuses(ex.order("ETH", True, 0.5, 3100, limit("Ioc")))  # $1525 traded
        assert ex.schedule_cancel(sim.now + 10_000) == DEFAULT


def test_the_switch_fires_in_real_time_without_any_request() -> None:
    offset = {"ms": 0}
    config = SimConfig(tick_seconds=0.02)
    with Simulator(clock=lambda: int(time.time() * 1000) + offset["ms"], config=config) as sim:
        _, ex = funded(sim)
        _rest(ex)
        assert ex.schedule_cancel(int(time.time() * 1000) + 5_100) == DEFAULT
        offset["ms"] = 5_000  # the deadline is 0.1 s away: the ticker must fire it by itself
        deadline = time.monotonic() + 3
        while sim.engine.open_orders and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sim.engine.open_orders == {}


# ---- modify, batchModify, noop -------------------------------------------------------------


def test_modify_replaces_the_order_with_a_new_oid(sim: Simulator) -> None:
    key, ex = funded(sim)
    cloid = Cloid.from_str("0x" + "11" * 16)
    oid = _rest(ex, cloid=cloid)
    [status] = statuses(ex.modify_order(oid, "ETH", True, 0.7, 2990, GTC, cloid=cloid))
    new_oid = status["resting"]["oid"]
    assert new_oid != oid
    [order] = info(sim).open_orders(key.address)
    assert (order["oid"], order["limitPx"], order["sz"], order["cloid"]) == (new_oid, "2990.0", "0.7", cloid.to_raw())
    assert info(sim).query_order_by_oid(key.address, oid)["order"]["status"] == "canceled"
    [missing] = statuses(ex.modify_order(oid, "ETH", True, 0.7, 2980, GTC))
    assert missing == {"error": "Cannot modify canceled or filled order"}
    [by_cloid] = statuses(ex.modify_order(cloid, "ETH", True, 0.7, 2985, GTC))
    assert "resting" in by_cloid


def test_a_refused_modify_leaves_the_order_as_it_was(sim: Simulator) -> None:
    key, ex = funded(sim)
    oid = _rest(ex)
    [status] = statuses(ex.modify_order(oid, "ETH", True, 0.001, 2990, GTC))
    assert status["error"].startswith("Order must have minimum value of $10.")
    assert [o["oid"] for o in info(sim).open_orders(key.address)] == [oid]


def test_batch_modify_and_the_single_modify_action(sim: Simulator) -> None:
    key, ex = funded(sim)
    first, second = _rest(ex), _rest(ex, px=2950)
    wire = {"a": 1, "b": True, "p": "2940", "s": "0.5", "r": False, "t": {"limit": {"tif": "Gtc"}}}
    single = send_action(ex, {"type": "modify", "oid": first, "order": wire})
    assert single == DEFAULT
    both = send_action(
        ex,
        {
            "type": "batchModify",
            "modifies": [{"oid": second, "order": {**wire, "p": "2930"}}, {"oid": 999_999, "order": wire}],
        },
    )
    assert both["response"]["type"] == "order"
    ok, missing = both["response"]["data"]["statuses"]
    assert "resting" in ok and missing == {"error": "Cannot modify canceled or filled order"}
    assert sorted(o["limitPx"] for o in info(sim).open_orders(key.address)) == ["2930.0", "2940.0"]
    gone = send_action(ex, {"type": "modify", "oid": first, "order": wire})
    assert gone == {"status": "err", "response": "Cannot modify canceled or filled order"}


def test_noop_burns_the_nonce(sim: Simulator) -> None:
    key, _ = funded(sim)
    nonce = next_nonce()
    assert post(sim, "exchange", signed_body(key, {"type": "noop"}, nonce=nonce)).json() == DEFAULT
    order = {"type": "order", "orders": [], "grouping": "na"}
    again = post(sim, "exchange", signed_body(key, order, nonce=nonce)).json()
    assert again == {"status": "err", "response": f"Invalid nonce: duplicate nonce {nonce}"}


# ---- faults for resting orders --------------------------------------------------------------


def test_a_cancel_whose_answer_is_lost_was_still_done(sim: Simulator) -> None:
    key, ex = funded(sim)
    oid = _rest(ex)
    sim.drop_next(1, action_type="cancel", when="after")
    with pytest.raises(requests.exceptions.ConnectionError):
        ex.cancel("ETH", oid)
    assert info(sim).open_orders(key.address) == []
    assert statuses(ex.cancel("ETH", oid))[0]["error"].startswith("Order was never placed")


def test_a_fill_racing_the_cancel_wins(sim: Simulator) -> None:
    key, ex = funded(sim)
    oid = _rest(ex)
    sim.fill_resting_before_next("cancel")
    [answer] = statuses(ex.cancel("ETH", oid))
    assert answer == {"error": "Order was never placed, already canceled, or filled. asset=1"}
    [fill] = info(sim).user_fills(key.address)
    assert (fill["oid"], fill["sz"], fill["px"], fill["crossed"]) == (oid, "0.5", "3000.0", False)
    assert sim.account(key.address)["positions"]["ETH"]["szi"] == D("0.5")
    status = info(sim).query_order_by_oid(key.address, oid)["order"]["status"]
    assert status == "filled"


def test_a_partial_fill_racing_the_cancel_leaves_the_rest_to_cancel(sim: Simulator) -> None:
    key, ex = funded(sim)
    cloid = Cloid.from_str("0x" + "22" * 16)
    oid = _rest(ex, sz=0.5, cloid=cloid)
    sim.fill_resting_before_next("cancelByCloid", fraction=Decimal("0.4"))
    assert statuses(ex.cancel_by_cloid("ETH", cloid)) == ["success"]
    assert sim.account(key.address)["positions"]["ETH"]["szi"] == D("0.2")
    order = info(sim).query_order_by_oid(key.address, oid)["order"]
    assert order["status"] == "canceled" and order["order"]["sz"] == "0.3" and order["order"]["origSz"] == "0.5"


def test_a_fill_between_cancel_and_replace_races_a_modify_too(sim: Simulator) -> None:
    key, ex = funded(sim)
    oid = _rest(ex)
    sim.fill_resting_before_next("batchModify")
    [status] = statuses(ex.modify_order(oid, "ETH", True, 0.5, 3010, GTC))
    assert status == {"error": "Cannot modify canceled or filled order"}
    assert sim.account(key.address)["positions"]["ETH"]["szi"] == D("0.5")
    assert info(sim).open_orders(key.address) == []


def test_fill_resting_now(sim: Simulator) -> None:
    key, ex = funded(sim)
    oid = _rest(ex, is_buy=False, px=3100, sz=0.5)
    assert sim.fill_resting(oid, "0.2") == D("0.2")
    [order] = info(sim).open_orders(key.address)
    assert order["sz"] == "0.3"
