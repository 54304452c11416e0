"""Resting orders in the book: shown by l2Book, matched by other accounts' takers in price-time
priority behind the synthetic queue, self-trades expiring the resting order, Alo's bbo."""

from __future__ import annotations

from hlrebal.sim import Simulator

from sim_helpers import D, error_of, funded, info, limit, statuses

ETH_BID, ETH_ASK = D("3050.0"), D("3050.8")  # the default ETH book's touch (mid 3050.4)


def test_a_resting_order_shows_in_the_book_and_an_inside_bid_becomes_the_touch(sim: Simulator) -> None:
    _, ex = funded(sim)
    statuses(ex.order("ETH", True, 0.5, 3050.0, limit("Alo")))  # joins the synthetic best bid
    statuses(ex.order("ETH", True, 0.25, 3050.4, limit("Alo")))  # inside the spread
    bids, _ = info(sim).l2_snapshot("ETH")["levels"]
    assert bids[0] == {"px": "3050.4", "sz": "0.25", "n": 1}
    assert bids[1]["px"] == "3050.0" and bids[1]["n"] == 2  # the synthetic queue and our order
    assert D(bids[1]["sz"]) == D("0.5") + (D(250_000) / ETH_BID).quantize(D("0.0001"), rounding="ROUND_DOWN")


def test_another_account_takes_a_resting_order_at_its_price(sim: Simulator) -> None:
    maker, maker_ex = funded(sim)
    taker, taker_ex = funded(sim)
    [resting] = statuses(maker_ex.order("ETH", True, 0.3, 3050.4, limit("Gtc")))
    oid = resting["resting"]["oid"]
    [fill] = statuses(taker_ex.order("ETH", False, 0.5, 3050.0, limit("Ioc")))
    assert fill["filled"]["totalSz"] == "0.5"
    taker_fills = info(sim).user_fills(taker.address)
    assert sorted((f["px"], f["sz"], f["crossed"]) for f in taker_fills) == [
        ("3050.0", "0.2", True),
        ("3050.4", "0.3", True),
    ]
    [maker_fill] = info(sim).user_fills(maker.address)
    assert (maker_fill["oid"], maker_fill["px"], maker_fill["crossed"]) == (oid, "3050.4", False)
    assert D(maker_fill["fee"]) == D("0.3") * D("3050.4") * D("0.00015")  # maker rate
    assert info(sim).open_orders(maker.address) == []


def test_a_resting_order_at_the_touch_waits_behind_the_synthetic_queue(sim: Simulator) -> None:
    maker, maker_ex = funded(sim)
    _, taker_ex = funded(sim, 10_000_000)
    statuses(maker_ex.order("ETH", True, 0.5, 3050.0, limit("Gtc")))
    queue = (D(250_000) / ETH_BID).quantize(D("0.0001"), rounding="ROUND_DOWN")
    statuses(taker_ex.order("ETH", False, float(queue - 1), 3050.0, limit("Ioc")))
    assert info(sim).user_fills(maker.address) == []  # the queue in front is not gone yet
    statuses(taker_ex.order("ETH", False, 1.2, 3050.0, limit("Ioc")))  # 1 to the queue, 0.2 to us
    [fill] = info(sim).user_fills(maker.address)
    assert fill["sz"] == "0.2"


def test_an_own_resting_order_expires_instead_of_trading(sim: Simulator) -> None:
    key, ex = funded(sim)
    [resting] = statuses(ex.order("ETH", True, 0.3, 3050.4, limit("Gtc")))
    oid = resting["resting"]["oid"]
    statuses(ex.order("ETH", False, 0.1, 3050.0, limit("Ioc")))
    assert info(sim).query_order_by_oid(key.address, oid)["order"]["status"] == "selfTradeCanceled"
    [fill] = info(sim).user_fills(key.address)
    assert fill["px"] == "3050.0"  # from the synthetic bid


def test_post_only_bbo_includes_resting_orders(sim: Simulator) -> None:
    _, maker_ex = funded(sim)
    _, ex = funded(sim)
    statuses(maker_ex.order("ETH", False, 0.3, 3050.5, limit("Gtc")))
    message = error_of(ex.order("ETH", True, 0.1, 3050.5, limit("Alo")))
    assert message == "Post only order would have immediately matched, bbo was 3050@3050.5. asset=1"
