"""Every /info request the project uses, read through the real SDK over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hyperliquid.utils.error import ClientError
from hyperliquid.utils.types import Cloid

from hlrebal.sim import Simulator
from hlrebal.sim.numbers import is_valid_price

from sim_helpers import D, error_of, funded, info, limit, post, statuses


def test_meta_and_contexts(sim: Simulator) -> None:
    client = info(sim)
    meta = client.meta()
    assert [a["name"] for a in meta["universe"]] == ["BTC", "ETH", "SOL", "HYPE"]
    assert meta["universe"][0]["szDecimals"] == 5 and meta["universe"][0]["maxLeverage"] == 40
    meta2, ctxs = client.meta_and_asset_ctxs()
    assert meta2["universe"] == meta["universe"]
    assert meta2["collateralToken"] == 0
    assert len(ctxs) == 4
    assert ctxs[0]["markPx"] == "85600.0" and ctxs[0]["midPx"] == "85600.0" and ctxs[0]["oraclePx"] == "85600.0"
    assert client.perp_dexs() == [None]


def test_spot_meta_and_contexts(sim: Simulator) -> None:
    client = info(sim)
    spot = client.spot_meta()
    # dense, as on mainnet: the entry with index i at position i (the gaps are inert placeholders)
    assert [p["index"] for p in spot["universe"]] == list(range(108))
    assert [t["index"] for t in spot["tokens"]] == list(range(151))
    assert [spot["universe"][i]["name"] for i in (0, 107)] == ["PURR/USDC", "@107"]
    assert [spot["tokens"][i]["name"] for i in (0, 1, 150)] == ["USDC", "PURR", "HYPE"]
    assert spot["tokens"][2]["name"] == "SIM2" and spot["universe"][1] == {
        "tokens": [2, 0],
        "name": "@1",
        "index": 1,
        "isCanonical": False,
    }
    spot2, ctxs = client.spot_meta_and_asset_ctxs()
    assert spot2 == spot
    assert [ctxs[i]["coin"] for i in (0, 1, 107)] == ["PURR/USDC", "@1", "@107"] and len(ctxs) == 108
    assert ctxs[1]["midPx"] is None and "@1" not in client.all_mids()
    assert client.name_to_asset("HYPE/USDC") == 10107
    assert client.name_to_asset("PURR/USDC") == 10000


def test_all_mids_has_perps_and_spot_pairs(sim: Simulator) -> None:
    mids = info(sim).all_mids()
    assert mids["BTC"] == "85600.0"
    assert mids["PURR/USDC"] == "0.18123"
    assert mids["@107"] == "38.41"


@pytest.mark.parametrize("coin", ["BTC", "ETH", "SOL", "HYPE", "PURR/USDC", "HYPE/USDC"])
def test_l2_book_shape_and_grid(sim: Simulator, coin: str) -> None:
    client = info(sim)
    book = client.l2_snapshot(coin)
    bids, asks = book["levels"]
    assert len(bids) == 20 and len(asks) == 20
    bid_px = [D(lv["px"]) for lv in bids]
    ask_px = [D(lv["px"]) for lv in asks]
    assert bid_px == sorted(bid_px, reverse=True) and ask_px == sorted(ask_px)
    assert bid_px[0] < ask_px[0]
    asset = client.name_to_asset(coin)
    sz_decimals = client.asset_to_sz_decimals[asset]
    max_decimals = (8 if asset >= 10_000 else 6) - sz_decimals
    for level in bids + asks:
        assert is_valid_price(D(level["px"]), max_decimals), level
        assert D(level["sz"]) > 0 and level["n"] >= 1
    mid = D(client.all_mids()[client.name_to_coin[coin]])
    assert bid_px[0] < mid < ask_px[0]


def test_l2_book_at_most_20_levels(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(levels=30)
    bids, asks = info(s).l2_snapshot("ETH")["levels"]
    assert len(bids) == 20 and len(asks) == 20


def test_user_state_for_unknown_address_is_empty(sim: Simulator) -> None:
    state = info(sim).user_state("0x" + "12" * 20)
    assert state["assetPositions"] == []
    assert state["marginSummary"] == {
        "accountValue": "0.0",
        "totalNtlPos": "0.0",
        "totalRawUsd": "0.0",
        "totalMarginUsed": "0.0",
    }
    assert info(sim).spot_user_state("0x" + "12" * 20) == {"balances": []}


def test_user_state_after_trade_and_case_insensitive_address(sim: Simulator) -> None:
    key, ex = funded(sim, 10_000)
    [filled] = statuses(ex.market_open("ETH", True, 0.5))
    assert "filled" in filled
    client = info(sim)
    for address in (key.address, key.address.lower(), key.address.upper().replace("0X", "0x")):
        state = client.user_state(address)
        [entry] = state["assetPositions"]
        assert entry["type"] == "oneWay"
        pos = entry["position"]
        assert pos["coin"] == "ETH" and pos["szi"] == "0.5"
        assert pos["leverage"] == {"type": "cross", "value": 20}
        assert pos["maxLeverage"] == 25 and pos["liquidationPx"] is None
        assert set(pos["cumFunding"]) == {"allTime", "sinceOpen", "sinceChange"}
        for key_name in ("entryPx", "positionValue", "unrealizedPnl", "returnOnEquity", "marginUsed"):
            assert isinstance(pos[key_name], str)
    summary = client.user_state(key.address)["marginSummary"]
    value = D(summary["accountValue"])
    assert value == D(summary["totalRawUsd"]) + D("0.5") * D("3050.4")
    assert D(summary["totalMarginUsed"]) == D("0.5") * D("3050.4") / 20


def test_open_orders_frontend_orders_and_order_status(sim: Simulator) -> None:
    key, ex = funded(sim)
    cloid = Cloid.from_str("0x" + "ab" * 16)
    [resting] = statuses(ex.order("BTC", True, 0.001, 80000, limit("Gtc"), cloid=cloid))
    oid = resting["resting"]["oid"]
    client = info(sim)
    [order] = client.open_orders(key.address)
    assert order["coin"] == "BTC" and order["side"] == "B" and order["limitPx"] == "80000.0"
    assert order["sz"] == "0.001" and order["oid"] == oid and isinstance(order["timestamp"], int)
    [front] = client.frontend_open_orders(key.address)
    assert front["orderType"] == "Limit" and front["tif"] == "Gtc" and front["isTrigger"] is False
    assert front["origSz"] == "0.001" and front["reduceOnly"] is False
    by_oid = client.query_order_by_oid(key.address, oid)
    assert by_oid["status"] == "order" and by_oid["order"]["status"] == "open"
    assert by_oid["order"]["order"]["oid"] == oid and isinstance(by_oid["order"]["statusTimestamp"], int)
    by_cloid = client.query_order_by_cloid(key.address, cloid)
    assert by_cloid["order"]["order"]["cloid"] == cloid.to_raw()
    assert client.query_order_by_oid(key.address, 999_999) == {"status": "unknownOid"}
    assert client.query_order_by_oid("0x" + "34" * 20, oid) == {"status": "unknownOid"}
    ex.cancel("BTC", oid)
    assert client.query_order_by_oid(key.address, oid)["order"]["status"] == "canceled"
    assert client.open_orders(key.address) == []


def test_order_status_of_a_rejected_order_by_cloid(sim: Simulator) -> None:
    key, ex = funded(sim, 50)
    cloid = Cloid.from_str("0x" + "cd" * 16)
    assert "Insufficient margin" in error_of(ex.order("BTC", True, 0.1, 86000, limit("Ioc"), cloid=cloid))
    status = info(sim).query_order_by_cloid(key.address, cloid)
    assert status["status"] == "order" and status["order"]["status"] == "perpMarginRejected"


def test_user_fills_shape(sim: Simulator) -> None:
    key, ex = funded(sim)
    cloid = Cloid.from_str("0x" + "01" * 16)
    ex.market_open("SOL", False, 2.0, cloid=cloid)
    [fill] = info(sim).user_fills(key.address)
    assert fill["coin"] == "SOL" and fill["side"] == "A" and fill["sz"] == "2.0"
    assert fill["dir"] == "Open Short" and fill["startPosition"] == "0.0" and fill["crossed"] is True
    assert fill["feeToken"] == "USDC" and fill["cloid"] == cloid.to_raw()
    assert D(fill["fee"]) == (D(fill["px"]) * 2 * D("0.00045")).quantize(Decimal("0.000001"))
    for name in ("closedPnl", "hash", "oid", "tid", "time"):
        assert name in fill


def test_user_fees_and_abstraction(sim: Simulator) -> None:
    key, _ = funded(sim)
    client = info(sim)
    fees = client.user_fees(key.address)
    assert fees["userCrossRate"] == "0.00045" and fees["userAddRate"] == "0.00015"
    assert fees["userSpotCrossRate"] == "0.0007" and fees["userSpotAddRate"] == "0.0004"
    assert client.query_user_abstraction_state(key.address) == "default"
    sim.set_account_mode(key.address, "unified")
    assert client.query_user_abstraction_state(key.address) == "unifiedAccount"
    sim.set_account_mode(key.address, "portfolio")
    assert client.query_user_abstraction_state(key.address) == "portfolioMargin"
    sim.set_account_mode(key.address, "standard")
    assert client.query_user_abstraction_state(key.address) == "disabled"


def test_unknown_type_and_bad_bodies_are_422(sim: Simulator) -> None:
    client = info(sim)
    with pytest.raises(ClientError) as caught:
        client.post("/info", {"type": "noSuchThing"})
    assert caught.value.status_code == 422
    for body in ({"type": "clearinghouseState"}, {"type": "clearinghouseState", "user": "nope"}, [1, 2]):
        response = post(sim, "info", body)
        assert response.status_code == 422
        assert response.text == "Failed to deserialize the JSON body into the target type"
    raw = __import__("requests").post(f"{sim.url}/info", data=b"{not json", timeout=5)
    assert raw.status_code == 422


def test_dex_empty_string_accepted(sim: Simulator) -> None:
    assert post(sim, "info", {"type": "meta", "dex": ""}).status_code == 200
    assert post(sim, "info", {"type": "allMids", "dex": ""}).status_code == 200


def test_counts_by_type(sim: Simulator) -> None:
    client = info(sim)
    client.all_mids()
    client.all_mids()
    client.meta_and_asset_ctxs()
    assert sim.counts["info.allMids"] == 2 and sim.counts["info.metaAndAssetCtxs"] == 1
    sim.reset_counts()
    assert sum(sim.counts.values()) == 0
