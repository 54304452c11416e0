"""Placing, filling, resting and canceling orders through the SDK, and every order rejection."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hyperliquid.utils.types import Cloid

from hlrebal.sim import Simulator

from sim_helpers import (
    DATA,
    D,
    error_of,
    exchange,
    funded,
    info,
    limit,
    new_key,
    order_action,
    post,
    signed_body,
    statuses,
)

ETH_BID, ETH_ASK = D("3050.0"), D("3050.8")  # best bid/ask of the default ETH book (mid 3050.4, 2 bps)


def test_ioc_fills_at_the_book_and_updates_the_account(sim: Simulator) -> None:
    key, ex = funded(sim, 100_000)
    [status] = statuses(ex.order("ETH", True, 1.0, 3100, limit("Ioc")))
    assert status["filled"]["totalSz"] == "1.0"
    assert D(status["filled"]["avgPx"]) == ETH_ASK
    view = sim.account(key.address)
    fee = ETH_ASK * D("0.00045")
    assert view["positions"]["ETH"]["szi"] == 1 and view["positions"]["ETH"]["entry_px"] == ETH_ASK
    assert view["usdc"] == 100_000 - ETH_ASK - fee
    assert view["account_value"] == 100_000 - ETH_ASK - fee + D("3050.4")
    [record] = sim.orders
    assert record["status"] == "filled" and record["filled_sz"] == 1 and record["avg_px"] == ETH_ASK
    assert record["fee"] == fee and record["signer"] == key.address.lower() and record["tif"] == "Ioc"


def test_gtc_rests_then_cancels(sim: Simulator) -> None:
    key, ex = funded(sim)
    [status] = statuses(ex.order("ETH", True, 0.5, 3000, limit("Gtc")))
    oid = status["resting"]["oid"]
    assert sim.account(key.address)["open_orders"] == [oid]
    assert statuses(ex.cancel("ETH", oid)) == ["success"]
    assert sim.account(key.address)["open_orders"] == []
    assert statuses(ex.cancel("ETH", oid)) == [
        {"error": "Order was never placed, already canceled, or filled. asset=1"}
    ]
    assert sim.orders[0]["status"] == "canceled"


def test_cancel_by_cloid_and_alo_rests(sim: Simulator) -> None:
    _, ex = funded(sim)
    cloid = Cloid.from_str("0x" + "42" * 16)
    [status] = statuses(ex.order("BTC", False, 0.001, 90000, limit("Alo"), cloid=cloid))
    assert "resting" in status
    assert statuses(ex.cancel_by_cloid("BTC", cloid)) == ["success"]
    assert statuses(ex.cancel_by_cloid("BTC", cloid))[0]["error"].startswith("Order was never placed")


def test_crossing_gtc_fills_like_ioc(sim: Simulator) -> None:
    _, ex = funded(sim)
    [status] = statuses(ex.order("ETH", False, 0.25, 3000, limit("Gtc")))
    assert status["filled"]["totalSz"] == "0.25" and D(status["filled"]["avgPx"]) == ETH_BID


def test_partial_fill_on_a_thin_book(sim: Simulator) -> None:
    key, ex = funded(sim)
    sim.set_book("ETH", level_notional=3100, levels=2)
    _, asks = info(sim).l2_snapshot("ETH")["levels"]
    depth = sum(D(level["sz"]) for level in asks)
    assert len(asks) == 2 and depth < 3
    [ioc] = statuses(ex.order("ETH", True, 5.0, 3200, limit("Ioc")))
    assert D(ioc["filled"]["totalSz"]) == depth
    assert sim.account(key.address)["positions"]["ETH"]["szi"] == depth
    [gtc] = statuses(ex.order("ETH", True, 5.0, 3200, limit("Gtc")))  # refill is immediate by default
    oid = gtc["resting"]["oid"]
    [order] = info(sim).open_orders(key.address)
    assert order["oid"] == oid and D(order["sz"]) == 5 - depth and order["origSz"] == "5.0"
    assert sim.account(key.address)["positions"]["ETH"]["szi"] == 2 * depth


def test_batch_is_ok_while_single_orders_fail(sim: Simulator) -> None:
    _, ex = funded(sim)
    orders = [
        {"coin": "ETH", "is_buy": True, "sz": 0.1, "limit_px": 3100, "order_type": limit("Ioc"), "reduce_only": False},
        {
            "coin": "ETH",
            "is_buy": True,
            "sz": 0.001,
            "limit_px": 3100,
            "order_type": limit("Ioc"),
            "reduce_only": False,
        },
        {"coin": "SOL", "is_buy": True, "sz": 1, "limit_px": 100, "order_type": limit("Gtc"), "reduce_only": False},
    ]
    first, second, third = statuses(ex.bulk_orders(orders))
    assert "filled" in first
    assert second == {"error": "Order must have minimum value of $10. asset=1"}
    assert "resting" in third


@pytest.mark.parametrize(
    ("coin", "is_buy", "sz", "px", "tif", "message"),
    [
        ("ETH", True, 0.00001, 3000, "Gtc", "Order has invalid size."),
        ("ETH", True, 0.1, 0, "Gtc", "Order has invalid price."),
        ("ETH", True, 0.1, 3050.12, "Gtc", "Price must be divisible by tick size."),  # 6 significant figures
        ("SOL", True, 1, 142.531, "Gtc", "Price must be divisible by tick size."),
        ("ETH", True, 0.1, 600, "Gtc", "Order price cannot be more than 80% away from the reference price"),
        ("ETH", False, 0.1, 5500, "Gtc", "Order price cannot be more than 80% away from the reference price"),
        ("ETH", True, 0.003, 3050, "Gtc", "Order must have minimum value of $10."),
        ("ETH", True, 0.1, 3000, "Ioc", "Order could not immediately match against any resting orders."),
        ("ETH", True, 0.1, 3051, "Alo", "Post only order would have immediately matched, bbo was 3050@3050.8."),
        ("ETH", False, 0.1, 3050, "Alo", "Post only order would have immediately matched, bbo was 3050@3050.8."),
    ],
)
def test_rejections_carry_the_exchange_message(
    sim: Simulator, coin: str, is_buy: bool, sz: float, px: float, tif: str, message: str
) -> None:
    _, ex = funded(sim)
    asset = info(sim).name_to_asset(coin)
    assert error_of(ex.order(coin, is_buy, sz, px, limit(tif))) == f"{message} asset={asset}"
    assert sim.orders[-1]["status"] == "error" and sim.orders[-1]["error"] == f"{message} asset={asset}"


def test_price_decimals_rule_and_integer_prices(sim: Simulator) -> None:
    _, ex = funded(sim)
    sim.set_price("HYPE", "0.5")  # HYPE perp: szDecimals 2, so at most 4 decimals
    assert (
        error_of(ex.order("HYPE", True, 100, 0.51234, limit("Gtc"))) == "Price must be divisible by tick size. asset=3"
    )
    assert "resting" in statuses(ex.order("HYPE", True, 100, 0.4123, limit("Gtc")))[0]
    sim.set_price("BTC", "123456")
    assert "resting" in statuses(ex.order("BTC", True, 0.001, 123401, limit("Gtc")))[0]  # integers always valid


def test_reduce_only_rules(sim: Simulator) -> None:
    key, ex = funded(sim)
    no_position = "Reduce only order would increase position. asset=1"
    assert error_of(ex.order("ETH", False, 0.1, 3000, limit("Ioc"), reduce_only=True)) == no_position
    statuses(ex.order("ETH", True, 0.5, 3100, limit("Ioc")))
    assert error_of(ex.order("ETH", True, 0.1, 3100, limit("Ioc"), reduce_only=True)) == no_position
    [status] = statuses(ex.order("ETH", False, 2.0, 3000, limit("Ioc"), reduce_only=True))
    assert status["filled"]["totalSz"] == "0.5"  # only up to the position
    assert sim.account(key.address)["positions"] == {}


def test_insufficient_margin(sim: Simulator) -> None:
    _, ex = funded(sim, 100)
    assert error_of(ex.order("ETH", True, 1.0, 3100, limit("Ioc"))) == "Insufficient margin to place order. asset=1"
    assert "filled" in statuses(ex.order("ETH", True, 0.5, 3100, limit("Ioc")))[0]  # 76 USDC of margin


def test_delisted_asset_refuses_increasing_orders(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(DATA / "mixed_account.json")
    _, ex = funded(s)
    message = error_of(ex.order("MATIC", True, 100, 0.22, limit("Gtc")))
    assert message.startswith("Trading is halted") and message.endswith("asset=6")


def test_unknown_asset_and_unsupported_order_type(sim: Simulator) -> None:
    key, _ = funded(sim)
    response = post(sim, "exchange", signed_body(key, order_action(99, True, "10", "1")))
    assert error_of(response.json()) == "Invalid asset. asset=99"
    trigger = order_action(1, True, "3000", "0.1")
    trigger["orders"][0]["t"] = {"trigger": {"isMarket": True, "triggerPx": "3000", "tpsl": "sl"}}
    assert "Only limit orders" in error_of(post(sim, "exchange", signed_body(key, trigger)).json())


def test_error_suffix_switch(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(error_suffix=False)
    _, ex = funded(s)
    assert error_of(ex.order("ETH", True, 0.003, 3050, limit("Gtc"))) == "Order must have minimum value of $10."


@pytest.mark.parametrize("allow", [True, False])
def test_dust_close_switch(make_sim, allow: bool) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(allow_dust_close=allow)
    key, ex = funded(s)
    statuses(ex.order("ETH", True, 0.004, 3100, limit("Ioc")))  # about 12 USD
    s.set_price("ETH", "2000")  # now about 8 USD
    assert error_of(ex.order("ETH", False, 0.002, 1900, limit("Ioc"), reduce_only=True)) == (
        "Order must have minimum value of $10. asset=1"
    )  # part of the position: never allowed
    response = ex.order("ETH", False, 1.0, 1900, limit("Ioc"), reduce_only=True)  # capped at the position
    if allow:
        assert statuses(response)[0]["filled"]["totalSz"] == "0.004"
        assert s.account(key.address)["positions"] == {}
    else:
        assert error_of(response) == "Order must have minimum value of $10. asset=1"
    # without reduce-only, a close below $10 is an ordinary small order
    if not allow:
        assert (
            error_of(ex.order("ETH", False, 0.004, 1900, limit("Ioc")))
            == "Order must have minimum value of $10. asset=1"
        )


def test_reject_order_injects_an_error_for_the_kth_order(sim: Simulator) -> None:
    key, ex = funded(sim)
    sim.reject_order(2, "Order rejected by test")
    orders = [
        {"coin": "ETH", "is_buy": True, "sz": 0.1, "limit_px": 3100, "order_type": limit("Ioc"), "reduce_only": False}
    ] * 3
    first, second, third = statuses(ex.bulk_orders(orders))
    assert "filled" in first and "filled" in third
    assert second == {"error": "Order rejected by test"}
    assert sim.account(key.address)["positions"]["ETH"]["szi"] == D("0.2")
    assert [o["status"] for o in sim.orders] == ["filled", "error", "filled"]


def test_entry_price_pnl_and_flip(sim: Simulator) -> None:
    key, ex = funded(sim, 100_000)
    statuses(ex.order("ETH", True, 1.0, 3100, limit("Ioc")))
    sim.set_price("ETH", "3150.4")
    statuses(ex.order("ETH", True, 1.0, 3200, limit("Ioc")))  # ask 3150.8 (tick 0.1, 1 bp)
    pos = sim.account(key.address)["positions"]["ETH"]
    assert pos["szi"] == 2 and pos["entry_px"] == (D("3050.8") + D("3150.8")) / 2
    entry = pos["entry_px"]
    statuses(ex.order("ETH", False, 0.5, 3100, limit("Ioc")))  # bid 3150.0
    assert sim.account(key.address)["positions"]["ETH"]["entry_px"] == entry  # unchanged on reduce
    fills = info(sim).user_fills(key.address)
    assert fills[0]["dir"] == "Close Long" and D(fills[0]["closedPnl"]) == (D("3150.0") - entry) * D("0.5")
    statuses(ex.order("ETH", False, 2.5, 3100, limit("Ioc")))  # 1.5 closes, 1.0 opens a short
    pos = sim.account(key.address)["positions"]["ETH"]
    assert pos["szi"] == -1 and pos["entry_px"] == D("3150.0")
    assert info(sim).user_fills(key.address)[0]["dir"] == "Long > Short"


def test_realised_pnl_lands_in_usdc(sim: Simulator) -> None:
    key, ex = funded(sim, 10_000)
    statuses(ex.order("SOL", True, 10, 150, limit("Ioc")))
    sim.set_price("SOL", "150")
    statuses(ex.order("SOL", False, 10, 140, limit("Ioc")))
    fills = info(sim).user_fills(key.address)
    buy, sell = fills[1], fills[0]
    pnl = (D(sell["px"]) - D(buy["px"])) * 10
    view = sim.account(key.address)
    assert view["positions"] == {}
    assert view["usdc"] == 10_000 + pnl - D(buy["fee"]) - D(sell["fee"])
    assert D(sell["closedPnl"]) == pnl


def test_market_open_and_close_through_the_sdk(sim: Simulator) -> None:
    key, ex = funded(sim)
    assert "filled" in statuses(ex.market_open("BTC", False, 0.01))[0]
    assert "filled" in statuses(ex.market_close("BTC"))[0]
    assert sim.account(key.address)["positions"] == {}


def test_isolated_only_asset_trades_isolated(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(DATA / "mixed_account.json")
    key, ex = funded(s, 1000)
    assert s.leverage(key.address, "TST") == (3, False)
    statuses(ex.order("TST", True, 100, 1.3, limit("Ioc")))
    [entry] = info(s).user_state(key.address)["assetPositions"]
    assert entry["position"]["leverage"]["type"] == "isolated" and "rawUsd" in entry["position"]["leverage"]


def test_orders_log_keeps_every_order(sim: Simulator) -> None:
    key, ex = funded(sim)
    ex.order("ETH", True, 0.003, 3050, limit("Gtc"))
    ex.order("ETH", True, 0.1, 3000, limit("Gtc"))
    first, second = sim.orders
    assert first["status"] == "error" and first["oid"] == 1 and first["coin"] == "ETH"  # refused orders get oids
    assert second["status"] == "resting" and second["px"] == D("3000") and second["sz"] == D("0.1")
    assert first["account"] == key.address.lower() and isinstance(second["nonce"], int)
    assert set(first) >= {
        "time",
        "nonce",
        "signer",
        "account",
        "asset",
        "coin",
        "is_buy",
        "px",
        "sz",
        "reduce_only",
        "tif",
        "cloid",
        "status",
        "filled_sz",
        "avg_px",
        "fee",
        "error",
    }


def test_price_moving_through_a_resting_order_fills_it_as_maker(sim: Simulator) -> None:
    key, ex = funded(sim)
    oid = statuses(ex.order("ETH", True, 1.0, 3000, limit("Gtc")))[0]["resting"]["oid"]
    sim.set_price("ETH", "2990")
    assert sim.account(key.address)["positions"]["ETH"]["szi"] == 1
    [fill] = info(sim).user_fills(key.address)
    assert fill["crossed"] is False and D(fill["fee"]) == D("3000") * D("0.00015")
    assert info(sim).query_order_by_oid(key.address, oid)["order"]["status"] == "filled"


def test_other_accounts_cannot_cancel(sim: Simulator) -> None:
    _, ex = funded(sim)
    oid = statuses(ex.order("ETH", True, 0.1, 3000, limit("Gtc")))[0]["resting"]["oid"]
    other = new_key()
    sim.fund(other.address, 10)
    assert "error" in statuses(exchange(sim, other).cancel("ETH", oid))[0]


def test_fee_rate_of_the_seeded_account(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(DATA / "mixed_account.json")
    user = s.engine.accounts["0x7a1b3f0000000000000000000000000000c0ffee"]
    assert user.taker_fee == Decimal("0.0004")
