"""Seeding from snapshots: the seeded account reads back exactly as recorded."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from hlrebal.sim import Simulator
from hlrebal.sim.seed import SnapshotError

from sim_helpers import DATA, DEMO, D, info


def _snap(name: str) -> dict:  # type: ignore[type-arg]
    with open(DATA / name if name != "demo" else DEMO, encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["demo", "mixed_account.json", "legacy_account.json"])
def test_account_value_round_trip(make_sim, name: str) -> None:  # type: ignore[no-untyped-def]
    snap = _snap(name)
    s = make_sim(snap)
    state = info(s).user_state(snap["user"])
    assert D(state["marginSummary"]["accountValue"]) == D(snap["clearinghouseState"]["marginSummary"]["accountValue"])
    recorded = {p["position"]["coin"]: p["position"] for p in snap["clearinghouseState"]["assetPositions"]}
    served = {p["position"]["coin"]: p["position"] for p in state["assetPositions"]}
    assert set(served) == set(recorded)
    for coin, pos in recorded.items():
        assert D(served[coin]["szi"]) == D(pos["szi"])
        assert D(served[coin]["entryPx"]) == D(pos["entryPx"])
        assert served[coin]["leverage"]["type"] == pos["leverage"]["type"]
        assert served[coin]["leverage"]["value"] == pos["leverage"]["value"]
        assert D(served[coin]["positionValue"]) == D(pos["positionValue"])


def test_demo_snapshot_summary_matches(make_sim) -> None:  # type: ignore[no-untyped-def]
    snap = _snap("demo")
    state = info(make_sim(snap)).user_state(snap["user"])
    for name in ("accountValue", "totalNtlPos", "totalRawUsd", "totalMarginUsed"):
        assert D(state["marginSummary"][name]) == D(snap["clearinghouseState"]["marginSummary"][name]), name
    assert D(state["withdrawable"]) == D(snap["clearinghouseState"]["withdrawable"])
    assert D(state["crossMaintenanceMarginUsed"]) == D(snap["clearinghouseState"]["crossMaintenanceMarginUsed"])


def test_mixed_account_summaries_isolated_and_prices(make_sim) -> None:  # type: ignore[no-untyped-def]
    snap = _snap("mixed_account.json")
    s = make_sim(snap)
    client = info(s)
    state = client.user_state(snap["user"].lower())
    for section in ("marginSummary", "crossMarginSummary"):
        for name in ("accountValue", "totalNtlPos", "totalRawUsd", "totalMarginUsed"):
            assert D(state[section][name]) == D(snap["clearinghouseState"][section][name]), (section, name)
    tst = next(p["position"] for p in state["assetPositions"] if p["position"]["coin"] == "TST")
    assert tst["leverage"]["type"] == "isolated"
    assert D(tst["leverage"]["rawUsd"]) == D(
        next(p["position"] for p in snap["clearinghouseState"]["assetPositions"] if p["position"]["coin"] == "TST")[
            "leverage"
        ]["rawUsd"]
    ).quantize(Decimal("0.000001"))
    _, ctxs = client.meta_and_asset_ctxs()
    btc, kpepe = ctxs[0], ctxs[5]
    assert (btc["markPx"], btc["midPx"], btc["oraclePx"]) == ("97012.0", "97011.5", "97030.0")
    assert kpepe["midPx"] is None and kpepe["markPx"] == "0.012345"
    assert btc["funding"] == "0.0000125" and btc["openInterest"] == "12345.6"
    meta = client.meta()
    assert meta["universe"][4]["onlyIsolated"] is True and meta["universe"][6]["isDelisted"] is True
    assert meta["marginTables"][0][0] == 3


def test_mixed_account_spot_fees_and_open_orders(make_sim) -> None:  # type: ignore[no-untyped-def]
    snap = _snap("mixed_account.json")
    client = info(make_sim(snap))
    user = snap["user"]
    balances = {b["coin"]: b for b in client.spot_user_state(user)["balances"]}
    assert D(balances["USDC"]["total"]) == D("1523.45")
    assert D(balances["HYPE"]["total"]) == D("12.3456") and D(balances["HYPE"]["entryNtl"]) == D("400")
    assert D(balances["PURR"]["total"]) == D("1000")
    fees = client.user_fees(user)
    assert fees["userCrossRate"] == "0.0004" and fees["userSpotCrossRate"] == "0.0006"
    [order] = client.open_orders(user)
    assert order["oid"] == 777001 and order["coin"] == "ETH" and order["limitPx"] == "3400.0"
    assert client.query_user_abstraction_state(user) == "disabled"
    named = [
        p["name"] for p in client.spot_meta()["universe"] if not p["name"].startswith("@") or p["index"] in (107, 142)
    ]
    assert named == ["PURR/USDC", "@107", "@142"]  # the rest are the dense list's inert placeholders
    assert client.all_mids()["@142"] == "97003.5"


def test_legacy_snapshot_prices(make_sim) -> None:  # type: ignore[no-untyped-def]
    snap = _snap("legacy_account.json")
    s = make_sim(snap)
    _, ctxs = info(s).meta_and_asset_ctxs()
    assert ctxs[0]["markPx"] == ctxs[0]["midPx"] == ctxs[0]["oraclePx"] == "26961.2"
    # MATIC has no mid in allMids: its price is the position's value over its size
    assert D(ctxs[3]["markPx"]) == D("79.3576") / D("76.6")


def test_unified_snapshot_round_trip(make_sim) -> None:  # type: ignore[no-untyped-def]
    snap = _snap("mixed_account.json")
    snap["userAbstraction"] = "unifiedAccount"
    client = info(make_sim(snap))
    user = snap["user"]
    assert client.query_user_abstraction_state(user) == "unifiedAccount"
    state = client.user_state(user)
    assert D(state["marginSummary"]["accountValue"]) == D(snap["clearinghouseState"]["marginSummary"]["accountValue"])
    usdc = next(b for b in client.spot_user_state(user)["balances"] if b["coin"] == "USDC")
    assert D(usdc["total"]) == D("1523.45")


def test_comment_keys_are_ignored_and_no_snapshot_means_default_market() -> None:
    snap = _snap("demo")
    snap["_anything"] = {"not": "a request"}
    with Simulator(snapshot=snap) as s:
        expected = Decimal(snap["clearinghouseState"]["marginSummary"]["accountValue"])
        assert Decimal(info(s).user_state(snap["user"])["marginSummary"]["accountValue"]) == expected
    with Simulator() as s:
        assert s.engine.accounts == {}
        assert [p["name"] for p in info(s).meta()["universe"]] == ["BTC", "ETH", "SOL", "HYPE"]


def test_snapshot_without_spot_gets_default_spot_market(make_sim) -> None:  # type: ignore[no-untyped-def]
    client = info(make_sim(_snap("demo")))
    universe = client.spot_meta()["universe"]
    assert (universe[0]["name"], universe[107]["name"], len(universe)) == ("PURR/USDC", "@107", 108)


def test_bad_snapshots_are_refused() -> None:
    with pytest.raises(SnapshotError):
        Simulator(snapshot={"user": "0x" + "1" * 40})
    snap = _snap("demo")
    snap["clearinghouseState"]["assetPositions"][0]["position"]["coin"] = "NOPE"
    with pytest.raises(SnapshotError):
        Simulator(snapshot=snap)


def test_snapshot_from_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Simulator(snapshot=str(DEMO)) as s:
        assert info(s).user_state("0xDE30000000000000000000000000000000000001")["assetPositions"]
