"""Builder-deployed (HIP-3) perp dexes: perpDexs, per-dex info, asset ids, separate clearinghouses,
margin per dex, fees, seeding, state; read and traded through the real SDK over HTTP."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.error import ServerError

from hlrebal.sim import DexConfig, SimConfig, Simulator
from hlrebal.sim.seed import SnapshotError

from sim_helpers import DEMO, TIMEOUT, D, error_of, limit, new_key, post, statuses

XYZ = [("XYZ100", 4, 20, "25000"), ("TSLA", 3, 10, "250.5")]
ABC = [("FOO", 1, 5, "12.34")]
TAKER = D("0.00045")
XYZ100_ASK = D("25003")  # 25000 + 1 bp, rounded up to 5 significant figures


@pytest.fixture
def dsim() -> Iterator[Simulator]:
    """The default market plus two builder dexes: xyz (XYZ100, TSLA) and abc (FOO)."""
    with Simulator() as s:
        s.add_dex("xyz", XYZ, info={"fullName": "XYZ markets", "deployer": "0x" + "88" * 20})
        s.add_dex("abc", ABC)
        yield s


def all_dexes(sim: Simulator) -> list[str]:
    """ "" and every builder dex's name, read without HTTP."""
    return ["", *(d["name"] for d in sim.handle("info", {"type": "perpDexs"})[1][1:])]


def dex_info(sim: Simulator) -> Info:
    return Info(sim.url, skip_ws=True, perp_dexs=all_dexes(sim), timeout=TIMEOUT)


def dex_exchange(sim: Simulator, key: LocalAccount) -> Exchange:
    return Exchange(key, sim.url, perp_dexs=all_dexes(sim), timeout=TIMEOUT)


def trader(sim: Simulator, main: Any = 0, xyz: Any = 0) -> tuple[LocalAccount, Exchange]:
    key = new_key()
    sim.fund(key.address, main)
    if xyz:
        sim.fund(key.address, xyz, dex="xyz")
    return key, dex_exchange(sim, key)


def test_perp_dexs_lists_main_as_null_then_builder_dexes(dsim: Simulator) -> None:
    dexes = dex_info(dsim).perp_dexs()
    assert dexes[0] is None and [d["name"] for d in dexes[1:]] == ["xyz", "abc"]
    xyz = dexes[1]
    assert xyz["fullName"] == "XYZ markets" and xyz["deployer"] == "0x" + "88" * 20
    assert {"oracleUpdater", "feeRecipient"} <= set(xyz)


def test_meta_ctxs_and_mids_answer_per_dex(dsim: Simulator) -> None:
    client = dex_info(dsim)
    meta = client.meta(dex="xyz")
    assert [a["name"] for a in meta["universe"]] == ["xyz:XYZ100", "xyz:TSLA"]
    assert meta["universe"][0]["szDecimals"] == 4 and meta["universe"][0]["maxLeverage"] == 20
    assert meta["collateralToken"] == 0
    assert [a["name"] for a in client.meta()["universe"]] == ["BTC", "ETH", "SOL", "HYPE"]
    meta2, ctxs = post(dsim, "info", {"type": "metaAndAssetCtxs", "dex": "xyz"}).json()
    assert meta2 == meta and [c["markPx"] for c in ctxs] == ["25000.0", "250.5"]
    assert len(client.meta_and_asset_ctxs()[1]) == 4  # the main dex's, as before
    assert client.all_mids("xyz") == {"xyz:XYZ100": "25000.0", "xyz:TSLA": "250.5"}
    assert "xyz:XYZ100" not in client.all_mids() and "BTC" in client.all_mids()
    every = post(dsim, "info", {"type": "allPerpMetas"}).json()
    assert [m["universe"][0]["name"] for m in every] == ["BTC", "xyz:XYZ100", "abc:FOO"]
    book = client.l2_snapshot("xyz:XYZ100")
    assert D(book["levels"][1][0]["px"]) == XYZ100_ASK


def test_unknown_dex_is_an_error_or_null(dsim: Simulator, make_sim: Any) -> None:
    user = "0x" + "12" * 20
    for body in (
        {"type": "meta", "dex": "nope"},
        {"type": "metaAndAssetCtxs", "dex": "nope"},
        {"type": "clearinghouseState", "user": user, "dex": "nope"},
        {"type": "openOrders", "user": user, "dex": "nope"},
        {"type": "allMids", "dex": "nope"},
    ):
        answer = post(dsim, "info", body)
        assert (answer.status_code, answer.text) == (500, ""), body
    with pytest.raises(ServerError):
        dex_info(dsim).user_state(user, dex="nope")
    assert post(dsim, "info", {"type": "userFills", "user": user, "dex": "nope"}).json() == []
    nulls = make_sim(unknown_dex="null")
    assert post(nulls, "info", {"type": "meta", "dex": "xyz"}).json() is None


def test_asset_ids_follow_perp_dexs_order(dsim: Simulator) -> None:
    client = dex_info(dsim)
    assert client.name_to_asset("xyz:XYZ100") == 110000
    assert client.name_to_asset("xyz:TSLA") == 110001
    assert client.name_to_asset("abc:FOO") == 120000
    assert client.name_to_asset("BTC") == 0 and client.name_to_asset("HYPE/USDC") == 10107
    assert dsim.add_dex("late", [("BAR", 2, 3, "7")]) == [130000]


def test_dex_order_fills_in_that_dex_clearinghouse_only(dsim: Simulator) -> None:
    key, ex = trader(dsim, main=10_000, xyz=1_000)
    [status] = statuses(ex.order("xyz:XYZ100", True, 0.02, 25500, limit("Ioc")))
    assert status["filled"]["totalSz"] == "0.02" and D(status["filled"]["avgPx"]) == XYZ100_ASK
    client = dex_info(dsim)
    dex_state = client.user_state(key.address, dex="xyz")
    [pos] = [p["position"] for p in dex_state["assetPositions"]]
    assert pos["coin"] == "xyz:XYZ100" and pos["szi"] == "0.02" and pos["leverage"] == {"type": "cross", "value": 20}
    fee = (D("0.02") * XYZ100_ASK * TAKER).quantize(D("0.000001"))
    expected = 1_000 - D("0.02") * (XYZ100_ASK - 25000) - fee
    assert D(dex_state["marginSummary"]["accountValue"]) == expected
    main = client.user_state(key.address)
    assert main["assetPositions"] == [] and D(main["marginSummary"]["accountValue"]) == 10_000
    assert client.user_state(key.address, dex="abc")["assetPositions"] == []
    [fill] = client.user_fills(key.address)
    assert fill["coin"] == "xyz:XYZ100" and D(fill["fee"]) == fee and fill["feeToken"] == "USDC"
    assert client.query_order_by_oid(key.address, status["filled"]["oid"])["order"]["status"] == "filled"
    view = dsim.account(key.address)
    assert view["positions"] == {} and view["account_value"] == 10_000
    assert view["dexes"]["xyz"]["positions"]["xyz:XYZ100"]["szi"] == D("0.02")
    assert view["dexes"]["xyz"]["account_value"] == expected


def test_dex_resting_orders_cancels_and_open_orders(dsim: Simulator) -> None:
    key, ex = trader(dsim, main=10_000, xyz=1_000)
    oid = statuses(ex.order("xyz:TSLA", False, 1.0, 260, limit("Gtc")))[0]["resting"]["oid"]
    main_oid = statuses(ex.order("ETH", True, 0.1, 3000, limit("Gtc")))[0]["resting"]["oid"]
    client = dex_info(dsim)
    assert [o["oid"] for o in client.open_orders(key.address, dex="xyz")] == [oid]
    assert [o["oid"] for o in client.frontend_open_orders(key.address, dex="xyz")] == [oid]
    assert [o["oid"] for o in client.open_orders(key.address)] == [main_oid]
    assert dsim.account(key.address)["dexes"]["xyz"]["available"] == 1_000 - D(260) / 10
    assert dsim.account(key.address)["available"] == 10_000 - D(300) / 20
    assert statuses(ex.cancel("xyz:TSLA", oid)) == ["success"]
    assert client.open_orders(key.address, dex="xyz") == []
    assert dsim.account(key.address)["dexes"]["xyz"]["available"] == 1_000


def test_margin_is_checked_per_dex(dsim: Simulator) -> None:
    key, ex = trader(dsim, main=1_000_000)  # rich on the main dex, nothing on xyz
    assert error_of(ex.order("xyz:XYZ100", True, 0.2, 25500, limit("Ioc"))) == (
        "Insufficient margin to place order. asset=110000"
    )
    dsim.fund(key.address, 200, dex="xyz")  # 0.2 x 25000 / 20 = 250 of margin needed
    assert error_of(ex.order("xyz:XYZ100", True, 0.2, 25500, limit("Ioc"))) == (
        "Insufficient margin to place order. asset=110000"
    )
    assert "filled" in statuses(ex.order("xyz:XYZ100", True, 0.1, 25500, limit("Ioc")))[0]
    dsim.fund(key.address, 100, dex="xyz")
    assert "filled" in statuses(ex.order("xyz:XYZ100", True, 0.1, 25500, limit("Ioc")))[0]
    assert dsim.account(key.address)["available"] == 1_000_000  # the main account is untouched
    # reducing a dex position is allowed whatever its margin
    dsim.set_price("xyz:XYZ100", "15000")
    assert dsim.account(key.address)["dexes"]["xyz"]["available"] < 0
    assert "filled" in statuses(ex.order("xyz:XYZ100", False, 0.2, 14000, limit("Ioc"), reduce_only=True))[0]
    assert dsim.account(key.address)["dexes"]["xyz"]["positions"] == {}


def test_dex_orders_follow_the_same_rules(dsim: Simulator) -> None:
    _, ex = trader(dsim, xyz=10_000)
    asset = 110001  # xyz:TSLA, szDecimals 3: prices up to 3 decimals and 5 significant figures
    assert error_of(ex.order("xyz:TSLA", True, 0.0001, 251, limit("Ioc"))) == f"Order has invalid size. asset={asset}"
    assert error_of(ex.order("xyz:TSLA", True, 1.0, 251.0001, limit("Gtc"))) == (
        f"Price must be divisible by tick size. asset={asset}"
    )
    assert error_of(ex.order("xyz:TSLA", True, 0.039, 251, limit("Ioc"))) == (
        f"Order must have minimum value of $10. asset={asset}"
    )
    assert error_of(ex.order("xyz:TSLA", True, 1.0, 460, limit("Ioc"))) == (
        f"Order price cannot be more than 80% away from the reference price asset={asset}"
    )
    assert "filled" in statuses(ex.order("xyz:TSLA", True, 0.04, 251, limit("Ioc")))[0]


def test_update_leverage_and_isolated_margin_on_a_dex(dsim: Simulator) -> None:
    key, ex = trader(dsim, main=1_000, xyz=1_000)
    assert ex.update_leverage(5, "xyz:TSLA", is_cross=False)["status"] == "ok"
    assert dsim.leverage(key.address, "xyz:TSLA") == (5, False)
    assert dsim.leverage(key.address, "ETH") == (20, True)
    statuses(ex.order("xyz:TSLA", True, 2.0, 260, limit("Ioc")))
    [pos] = dex_info(dsim).user_state(key.address, dex="xyz")["assetPositions"]
    assert pos["position"]["leverage"]["type"] == "isolated" and pos["position"]["leverage"]["value"] == 5
    assert ex.update_leverage(3, "xyz:TSLA", is_cross=True)["response"] == (
        "Cannot switch leverage type with open position."
    )
    assert ex.update_leverage(11, "xyz:TSLA")["response"] == "Invalid leverage value."
    assert dsim.account(key.address)["account_value"] == 1_000


def test_fee_multiplier_and_resting_fill_on_price_move(make_sim: Any) -> None:
    sim = make_sim(dexes=(DexConfig("xyz", XYZ, fee_multiplier=2),))
    key, ex = trader(sim, xyz=5_000)
    statuses(ex.order("xyz:XYZ100", True, 0.02, 25500, limit("Ioc")))
    [fill] = dex_info(sim).user_fills(key.address)
    assert D(fill["fee"]) == (D("0.02") * XYZ100_ASK * TAKER * 2).quantize(D("0.000001"))
    statuses(ex.order("xyz:TSLA", True, 1.0, 240, limit("Gtc")))
    sim.set_price("xyz:TSLA", "230")  # the book moves through the resting bid: it fills as maker
    maker = dex_info(sim).user_fills(key.address)[0]
    assert maker["coin"] == "xyz:TSLA" and maker["crossed"] is False and maker["px"] == "240.0"
    assert D(maker["fee"]) == (D(240) * D("0.00015") * 2).quantize(D("0.000001"))
    assert sim.account(key.address)["dexes"]["xyz"]["positions"]["xyz:TSLA"]["szi"] == 1


def test_send_asset_moves_collateral_between_dexes(dsim: Simulator) -> None:
    key, ex = trader(dsim, main=1_000)
    assert ex.send_asset(key.address, "", "xyz", "USDC", 300.0)["status"] == "ok"
    view = dsim.account(key.address)
    assert view["account_value"] == 700 and view["dexes"]["xyz"]["account_value"] == 300
    assert ex.send_asset(key.address, "xyz", "", "USDC", 301.0)["response"] == "Insufficient balance for sendAsset."
    assert ex.send_asset(key.address, "xyz", "spot", "USDC", 100.0)["status"] == "ok"
    assert dsim.account(key.address)["spot"] == {"USDC": 100}
    assert ex.send_asset(key.address, "", "nope", "USDC", 1.0)["status"] == "err"
    assert ex.send_asset(key.address, "", "xyz", "HYPE", 1.0)["status"] == "err"


# ---- seeding and state ------------------------------------------------------------------------

XYZ_META = {
    "universe": [
        {"szDecimals": 4, "name": "xyz:XYZ100", "maxLeverage": 20, "marginTableId": 20},
        {"szDecimals": 3, "name": "xyz:TSLA", "maxLeverage": 10, "marginTableId": 10, "onlyIsolated": True},
    ],
    "marginTables": [[10, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": 10}]}]],
    "collateralToken": 0,
}
XYZ_CTXS = [
    {"funding": "0.00001", "openInterest": "12.5", "markPx": "25010.0", "midPx": "25011.5", "oraclePx": "25005.0"},
    {"funding": "0.0", "openInterest": "300.0", "markPx": "251.2", "midPx": None, "oraclePx": "251.0"},
]
XYZ_STATE = {
    "marginSummary": {
        "accountValue": "1834.123456",
        "totalNtlPos": "1752.9",
        "totalRawUsd": "1.0",
        "totalMarginUsed": "100.0",
    },
    "crossMarginSummary": {
        "accountValue": "1281.483456",
        "totalNtlPos": "1250.5",
        "totalRawUsd": "1.0",
        "totalMarginUsed": "62.525",
    },
    "withdrawable": "1218.958456",
    "assetPositions": [
        {
            "type": "oneWay",
            "position": {
                "coin": "xyz:XYZ100",
                "szi": "0.05",
                "leverage": {"type": "cross", "value": 20},
                "entryPx": "24800.0",
                "positionValue": "1250.5",
                "unrealizedPnl": "10.5",
                "marginUsed": "62.525",
                "maxLeverage": 20,
            },
        },
        {
            "type": "oneWay",
            "position": {
                "coin": "xyz:TSLA",
                "szi": "-2.0",
                "leverage": {"type": "isolated", "value": 10, "rawUsd": "1055.04"},
                "entryPx": "255.0",
                "positionValue": "502.4",
                "unrealizedPnl": "7.6",
                "marginUsed": "552.64",
                "maxLeverage": 10,
            },
        },
    ],
}


def dex_snapshot() -> dict[str, Any]:
    snap = json.loads(DEMO.read_text())
    snap["perpDexs"] = [
        None,
        {"name": "xyz", "fullName": "XYZ", "deployer": "0x" + "88" * 20, "oracleUpdater": None, "feeRecipient": None},
        {"name": "flx", "fullName": "Felix", "deployer": "0x" + "77" * 20, "oracleUpdater": None, "feeRecipient": None},
    ]
    snap["dexes"] = {
        "xyz": {
            "metaAndAssetCtxs": [copy.deepcopy(XYZ_META), copy.deepcopy(XYZ_CTXS)],
            "clearinghouseState": copy.deepcopy(XYZ_STATE),
            "openOrders": [
                {"coin": "xyz:XYZ100", "side": "B", "limitPx": "24000.0", "sz": "0.01", "oid": 9001, "timestamp": 1}
            ],
        }
    }
    return snap


def test_seeded_dex_reads_back_as_recorded(make_sim: Any) -> None:
    snap = dex_snapshot()
    sim = make_sim(snap)
    user = snap["user"]
    client = dex_info(sim)
    assert client.name_to_asset("xyz:TSLA") == 110001
    assert [d["name"] for d in client.perp_dexs()[1:]] == ["xyz", "flx"]
    assert client.meta(dex="flx")["universe"] == []
    state = client.user_state(user, dex="xyz")
    assert D(state["marginSummary"]["accountValue"]) == D("1834.123456")
    served = {p["position"]["coin"]: p["position"] for p in state["assetPositions"]}
    for entry in XYZ_STATE["assetPositions"]:
        recorded = entry["position"]
        mine = served[recorded["coin"]]
        for field in ("szi", "entryPx", "positionValue"):
            assert D(mine[field]) == D(recorded[field]), (recorded["coin"], field)
        assert mine["leverage"]["type"] == recorded["leverage"]["type"]
        assert mine["leverage"]["value"] == recorded["leverage"]["value"]
    assert D(served["xyz:TSLA"]["leverage"]["rawUsd"]) == D("1055.04")
    main = client.user_state(user)
    assert D(main["marginSummary"]["accountValue"]) == D(snap["clearinghouseState"]["marginSummary"]["accountValue"])
    assert not any(p["position"]["coin"].startswith("xyz:") for p in main["assetPositions"])
    _, ctxs = post(sim, "info", {"type": "metaAndAssetCtxs", "dex": "xyz"}).json()
    assert (ctxs[0]["markPx"], ctxs[0]["midPx"], ctxs[0]["oraclePx"]) == ("25010.0", "25011.5", "25005.0")
    assert ctxs[1]["midPx"] is None and ctxs[0]["openInterest"] == "12.5"
    assert [o["oid"] for o in client.open_orders(user, dex="xyz")] == [9001]
    assert client.meta(dex="xyz")["universe"][1]["onlyIsolated"] is True


def test_seed_rejects_a_dex_coin_without_its_prefix(make_sim: Any) -> None:
    snap = dex_snapshot()
    snap["dexes"]["xyz"]["metaAndAssetCtxs"][0]["universe"][0]["name"] = "XYZ100"
    with pytest.raises(SnapshotError, match="xyz:COIN"):
        Simulator(snapshot=snap)


def test_state_save_and_load_keeps_dexes(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    with Simulator(snapshot=dex_snapshot(), config=SimConfig(dexes=(DexConfig("abc", tuple(ABC)),))) as sim:
        key, ex = trader(sim, main=1_000, xyz=2_000)
        statuses(ex.order("xyz:XYZ100", True, 0.02, 25500, limit("Ioc")))
        assert error_of(ex.order("abc:FOO", True, 10.0, 11, limit("Gtc"))).startswith("Insufficient margin")
        sim.fund(key.address, 50, dex="abc")
        oid = statuses(ex.order("abc:FOO", True, 10.0, 11, limit("Gtc")))[0]["resting"]["oid"]
        ex.update_leverage(3, "xyz:XYZ100")
        sim.set_price("xyz:TSLA", "260")
        client = dex_info(sim)
        before = {d: client.user_state(key.address, dex=d) for d in ("", "xyz", "abc")}
        before_dexes, before_fills = client.perp_dexs(), client.user_fills(key.address)
        before_view = sim.account(key.address)
        sim.save(path)
    with Simulator(state=path, config=SimConfig(dexes=(DexConfig("abc", tuple(ABC)),))) as sim:
        client = dex_info(sim)
        assert client.perp_dexs() == before_dexes
        for d in ("", "xyz", "abc"):
            after = client.user_state(key.address, dex=d)
            assert (
                after["marginSummary"] == before[d]["marginSummary"]
                and after["assetPositions"] == (before[d]["assetPositions"])
            ), d
        assert client.user_fills(key.address) == before_fills
        assert sim.account(key.address) == before_view
        assert client.all_mids("xyz")["xyz:TSLA"] == "260.0"
        assert client.name_to_asset("abc:FOO") == 130000
        assert statuses(dex_exchange(sim, key).cancel("abc:FOO", oid)) == ["success"]


def test_add_dex_validates_its_arguments(dsim: Simulator) -> None:
    with pytest.raises(ValueError):
        dsim.add_dex("xyz", [("OTHER", 2, 5, "1")])  # listed already
    with pytest.raises(ValueError):
        dsim.add_dex("new", [("new:BAR", 2, 5, "1")])  # the coin goes without its prefix
    with pytest.raises(ValueError):
        dsim.fund("0x" + "12" * 20, 10, dex="nope")
    assert Decimal(dsim.mid("xyz:TSLA") or 0) == D("250.5")
