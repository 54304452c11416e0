"""Snapshots: parsing raw Hyperliquid info responses, price fallbacks, flags, errors, save and load."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlrebal.errors import ExitCode, SnapshotError
from hlrebal.snapshot import NETWORKS, Snapshot, load_snapshot, save_snapshot

from factories import MARKET, USER, btc_80_20, make_snapshot

DATA = Path(__file__).parent / "data" / "snapshots"
OLDER = DATA / "older_meta_allmids.json"
SRC = "snap.json"
D = Decimal

Doc = dict[str, Any]


def ctx(doc: Doc, coin: str) -> dict[str, Any]:
    universe = doc["metaAndAssetCtxs"][0]["universe"]
    index = next(i for i, e in enumerate(universe) if e["name"] == coin)
    return doc["metaAndAssetCtxs"][1][index]


def position(doc: Doc, coin: str) -> dict[str, Any]:
    return next(p["position"] for p in doc["clearinghouseState"]["assetPositions"] if p["position"]["coin"] == coin)


def bad(doc: Doc, source: str = SRC) -> str:
    with pytest.raises(SnapshotError) as info:
        Snapshot.from_raw(doc, source)
    assert info.value.exit_code == ExitCode.BAD_INPUT == 2
    message = str(info.value)
    assert source in message
    return message


# --------------------------------------------------------------------------- the current shape


class TestParseCurrentShape:
    def test_seed_account(self) -> None:
        snap = Snapshot.from_raw(btc_80_20(), SRC)
        assert snap.version == 1
        assert snap.user == USER
        assert snap.network == "testnet"
        assert snap.time == 1_793_000_000_000
        assert snap.account_value == D("100000")
        assert snap.equity == snap.account_value
        assert set(snap.positions) == {"BTC"}
        btc = snap.positions["BTC"]
        assert btc.szi == D("0.93458")
        assert btc.leverage == 10
        assert btc.is_cross is True
        assert btc.entry_px == D("85600")
        assert btc.position_value == D("0.93458") * 85600
        assert btc.margin_used == D("0.93458") * 85600 / 10

    def test_market_from_universe(self) -> None:
        snap = Snapshot.from_raw(make_snapshot(), SRC)
        assert list(snap.assets) == [m[0] for m in MARKET]
        for index, (name, szd, max_lev, px) in enumerate(MARKET):
            asset = snap.assets[name]
            assert asset.coin == name
            assert asset.asset_id == index
            assert asset.kind == "perp"
            assert asset.sz_decimals == szd
            assert asset.max_leverage == max_lev
            assert asset.mid == asset.mark == asset.oracle == D(px)
            assert asset.reference_price == D(px)
            assert not asset.only_isolated
            assert not asset.is_delisted

    def test_real_szdecimals(self) -> None:
        snap = Snapshot.from_raw(make_snapshot(), SRC)
        assert {c: snap.assets[c].sz_decimals for c in ("BTC", "ETH", "SOL", "DOGE", "kPEPE")} == {
            "BTC": 5,
            "ETH": 4,
            "SOL": 2,
            "DOGE": 0,
            "kPEPE": 0,
        }

    def test_numbers_are_exact_decimals(self) -> None:
        snap = Snapshot.from_raw(make_snapshot({"ETH": "1.2345"}, cash="1000.1"), SRC)
        assert snap.assets["ETH"].mid == D("3050.4")
        assert isinstance(snap.assets["ETH"].mid, Decimal)
        assert snap.positions["ETH"].szi == D("1.2345")
        assert snap.account_value == D("1000.1") + D("1.2345") * D("3050.4")

    def test_longs_shorts_and_isolated(self) -> None:
        doc = make_snapshot({"BTC": "0.1", "ETH": ("-2.5", 5), "SOL": ("10", 3, False)})
        snap = Snapshot.from_raw(doc, SRC)
        assert snap.positions["BTC"].szi == D("0.1")
        assert snap.positions["ETH"].szi == D("-2.5")
        assert snap.positions["ETH"].leverage == 5
        assert snap.positions["ETH"].is_cross
        assert snap.positions["SOL"].is_cross is False
        assert snap.positions["SOL"].leverage == 3

    def test_zero_size_positions_are_dropped(self) -> None:
        doc = make_snapshot({"BTC": "0.1", "ETH": "0"})
        snap = Snapshot.from_raw(doc, SRC)
        assert set(snap.positions) == {"BTC"}

    def test_margin_summary(self) -> None:
        doc = make_snapshot({"BTC": ("0.5", 10)}, cash="50000")
        snap = Snapshot.from_raw(doc, SRC)
        assert snap.total_margin_used == D("0.5") * 85600 / 10
        assert snap.total_ntl_pos == D("0.5") * 85600
        assert snap.withdrawable == snap.account_value - snap.total_margin_used

    def test_user_is_lowercased(self) -> None:
        doc = make_snapshot(user="0xABCDEF0123456789ABCDEF0123456789ABCDEF01")
        assert Snapshot.from_raw(doc, SRC).user == "0xabcdef0123456789abcdef0123456789abcdef01"

    @pytest.mark.parametrize("network", NETWORKS)
    def test_every_network(self, network: str) -> None:
        assert Snapshot.from_raw(make_snapshot(network=network), SRC).network == network

    def test_network_and_version_default(self) -> None:
        doc = make_snapshot()
        del doc["version"], doc["network"]
        snap = Snapshot.from_raw(doc, SRC)
        assert snap.version == 1
        assert snap.network == "mainnet"

    def test_optional_keys_and_unknown_keys_are_kept(self) -> None:
        doc = make_snapshot({"BTC": "0.1"})
        doc["_comment"] = "recorded by hand"
        doc["spotClearinghouseState"] = {
            "balances": [{"coin": "USDC", "token": 0, "total": "12.5", "hold": "0.0", "entryNtl": "0.0"}]
        }
        doc["spotMetaAndAssetCtxs"] = [{"tokens": [], "universe": []}, []]
        doc["l2Book"] = {
            "BTC": {
                "coin": "BTC",
                "time": 1,
                "levels": [[{"px": "85599", "sz": "1", "n": 1}], [{"px": "85601", "sz": "1", "n": 1}]],
            }
        }
        doc["perpDexStates"] = [{"future": "key"}]
        snap = Snapshot.from_raw(doc, SRC)
        assert snap.positions["BTC"].szi == D("0.1")
        raw = snap.to_raw()
        for key in ("_comment", "spotClearinghouseState", "spotMetaAndAssetCtxs", "l2Book", "perpDexStates"):
            assert raw[key] == doc[key]

    def test_empty_account(self) -> None:
        # what an API wallet's address reads as: no equity, no positions
        assert Snapshot.from_raw(make_snapshot(cash="0"), SRC).is_empty
        assert not Snapshot.from_raw(make_snapshot(cash="0.01"), SRC).is_empty
        assert not Snapshot.from_raw(btc_80_20(), SRC).is_empty

    def test_from_raw_does_not_alter_the_document(self) -> None:
        doc = make_snapshot({"BTC": "0.1"})
        before = copy.deepcopy(doc)
        Snapshot.from_raw(doc, SRC)
        assert doc == before

    def test_snapshot_is_frozen(self) -> None:
        snap = Snapshot.from_raw(make_snapshot(), SRC)
        with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
            snap.account_value = D(1)  # type: ignore[misc]

    def test_numbers_given_as_json_numbers(self) -> None:
        doc = make_snapshot({"BTC": "0.5"})
        doc["clearinghouseState"]["marginSummary"]["accountValue"] = 100000.25
        ctx(doc, "ETH")["midPx"] = 3050.5
        snap = Snapshot.from_raw(doc, SRC)
        assert snap.account_value == D("100000.25")
        assert snap.assets["ETH"].mid == D("3050.5")

    @given(
        st.dictionaries(
            st.sampled_from([m[0] for m in MARKET]),
            st.tuples(
                st.decimals(min_value=D("-1000"), max_value=D("1000"), places=2, allow_nan=False),
                st.integers(1, 5),
                st.booleans(),
            ),
            max_size=5,
        )
    )
    @settings(max_examples=50, deadline=None)
    def test_positions_round_trip(self, spec: dict[str, tuple[Decimal, int, bool]]) -> None:
        doc = make_snapshot({c: (str(s), lev, cross) for c, (s, lev, cross) in spec.items()}, cash="1000000")
        snap = Snapshot.from_raw(doc, SRC)
        assert {c: p.szi for c, p in snap.positions.items()} == {c: s for c, (s, _, _) in spec.items() if s != 0}
        for coin, pos in snap.positions.items():
            _, lev, cross = spec[coin]
            assert pos.leverage == lev
            assert pos.is_cross is cross
            assert pos.position_value == abs(pos.szi) * snap.assets[coin].mark


# --------------------------------------------------------------------------- prices


class TestPrices:
    def test_mid_null_falls_back_to_all_mids(self) -> None:
        doc = make_snapshot(prices={"ETH": None})
        doc["allMids"] = {"ETH": "3051.5", "BTC": "1"}
        snap = Snapshot.from_raw(doc, SRC)
        assert snap.assets["ETH"].mid == D("3051.5")
        assert snap.assets["ETH"].reference_price == D("3051.5")
        # a midPx that is given wins over allMids
        assert snap.assets["BTC"].mid == D("85600")

    def test_mid_null_and_no_all_mids_falls_back_to_mark(self) -> None:
        doc = make_snapshot(prices={"SOL": None})
        snap = Snapshot.from_raw(doc, SRC)
        sol = snap.assets["SOL"]
        assert sol.mid is None
        assert sol.mark == D("142.53")
        assert sol.reference_price == D("142.53")

    def test_all_mids_without_the_coin_falls_back_to_mark(self) -> None:
        doc = make_snapshot(prices={"SOL": None})
        doc["allMids"] = {"BTC": "85600"}
        assert Snapshot.from_raw(doc, SRC).assets["SOL"].reference_price == D("142.53")

    def test_mid_differs_from_mark(self) -> None:
        doc = make_snapshot()
        ctx(doc, "BTC").update(midPx="85610", markPx="85590", oraclePx="85580")
        btc = Snapshot.from_raw(doc, SRC).assets["BTC"]
        assert (btc.mid, btc.mark, btc.oracle) == (D("85610"), D("85590"), D("85580"))
        assert btc.reference_price == D("85610")

    def test_no_price_at_all(self) -> None:
        doc = make_snapshot()
        ctx(doc, "XRP").update(midPx=None, markPx=None)
        xrp = Snapshot.from_raw(doc, SRC).assets["XRP"]
        assert xrp.reference_price is None
        assert xrp.sz_decimals == 0  # still listed, with its rules

    @pytest.mark.parametrize("mark", ["0", "0.0"])
    def test_zero_price_is_not_usable(self, mark: str) -> None:
        doc = make_snapshot()
        ctx(doc, "XRP").update(midPx=None, markPx=mark)
        assert Snapshot.from_raw(doc, SRC).assets["XRP"].reference_price is None

    def test_held_coin_without_price_is_valued_at_position_value_per_unit(self) -> None:
        doc = make_snapshot({"HYPE": "-40"})
        ctx(doc, "HYPE").update(midPx=None, markPx=None)
        position(doc, "HYPE")["positionValue"] = "1536.0"
        snap = Snapshot.from_raw(doc, SRC)
        assert snap.assets["HYPE"].mark == D("38.4")
        assert snap.assets["HYPE"].reference_price == D("38.4")

    def test_held_coin_with_a_price_keeps_it(self) -> None:
        doc = make_snapshot({"HYPE": "40"})
        position(doc, "HYPE")["positionValue"] = "9999"
        assert Snapshot.from_raw(doc, SRC).assets["HYPE"].reference_price == D("38.412")


# --------------------------------------------------------------------------- the older shape


class TestOlderShape:
    def test_loads(self) -> None:
        snap = load_snapshot(OLDER)
        assert snap.version == 1
        assert snap.network == "mainnet"
        assert snap.user == "0xabcdef0123456789abcdef0123456789abcdef01"
        assert snap.account_value == D("2000.5")
        assert snap.withdrawable == D("1793.25")
        assert list(snap.assets) == ["BTC", "ETH", "ATOM", "MATIC"]
        assert [a.asset_id for a in snap.assets.values()] == [0, 1, 2, 3]
        assert snap.assets["ETH"].sz_decimals == 4

    def test_prices_from_all_mids(self) -> None:
        snap = load_snapshot(OLDER)
        assert snap.assets["BTC"].reference_price == D("30000.5")
        assert snap.assets["ETH"].reference_price == D("1900.25")

    def test_held_coin_missing_from_all_mids_uses_its_position_value(self) -> None:
        snap = load_snapshot(OLDER)
        assert snap.assets["ATOM"].reference_price == D("10")  # 45.0 / |-4.5|

    def test_unheld_coin_missing_from_all_mids_has_no_price(self) -> None:
        snap = load_snapshot(OLDER)
        assert "MATIC" not in snap.positions  # szi 0.0
        assert snap.assets["MATIC"].reference_price is None

    def test_positions(self) -> None:
        snap = load_snapshot(OLDER)
        assert {c: p.szi for c, p in snap.positions.items()} == {
            "BTC": D("-0.01"),
            "ETH": D("0.5"),
            "ATOM": D("-4.5"),
        }
        assert snap.positions["ETH"].is_cross is False
        assert snap.positions["ETH"].leverage == 5
        assert snap.positions["BTC"].leverage == 20

    def test_wrong_meta(self) -> None:
        doc = json.loads(OLDER.read_text())
        doc["meta"] = {"assets": []}
        assert "meta.universe" in bad(doc)


# --------------------------------------------------------------------------- flags, orders, fees


class TestFlagsOrdersFees:
    def test_only_isolated(self) -> None:
        doc = make_snapshot(extra_meta={"ATOM": {"onlyIsolated": True}})
        snap = Snapshot.from_raw(doc, SRC)
        assert snap.assets["ATOM"].only_isolated is True
        assert snap.assets["BTC"].only_isolated is False

    def test_strict_isolated_margin_mode(self) -> None:
        doc = make_snapshot(extra_meta={"HYPE": {"marginMode": "strictIsolated"}})
        assert Snapshot.from_raw(doc, SRC).assets["HYPE"].only_isolated is True

    def test_other_margin_mode_is_not_isolated_only(self) -> None:
        doc = make_snapshot(extra_meta={"HYPE": {"marginMode": "noCross", "onlyIsolated": False}})
        # an unknown margin mode does not make up a restriction the meta does not state
        assert Snapshot.from_raw(doc, SRC).assets["HYPE"].only_isolated is False

    def test_delisted(self) -> None:
        doc = make_snapshot(extra_meta={"XRP": {"isDelisted": True, "onlyIsolated": True}})
        snap = Snapshot.from_raw(doc, SRC)
        assert snap.assets["XRP"].is_delisted is True
        assert snap.assets["XRP"].only_isolated is True
        assert not snap.assets["BTC"].is_delisted

    def test_open_orders(self) -> None:
        orders = [
            {
                "coin": "BTC",
                "side": "B",
                "limitPx": "85000.0",
                "sz": "0.01",
                "oid": 111,
                "timestamp": 1_792_999_999_000,
            },
            {
                "coin": "kPEPE",
                "side": "A",
                "limitPx": "0.0065",
                "sz": "20000",
                "oid": 112,
                "timestamp": 1_792_999_999_500,
            },
        ]
        snap = Snapshot.from_raw(make_snapshot(open_orders=orders), SRC)
        assert len(snap.open_orders) == 2
        first, second = snap.open_orders
        assert (first.coin, first.side, first.limit_px, first.size, first.oid) == (
            "BTC",
            "buy",
            D("85000.0"),
            D("0.01"),
            111,
        )
        assert first.timestamp == 1_792_999_999_000
        assert (second.coin, second.side, second.size) == ("kPEPE", "sell", D("20000"))

    def test_no_open_orders(self) -> None:
        assert Snapshot.from_raw(make_snapshot(), SRC).open_orders == ()
        doc = make_snapshot()
        del doc["openOrders"]
        assert Snapshot.from_raw(doc, SRC).open_orders == ()

    def test_user_fees_taker_rate(self) -> None:
        doc = make_snapshot()
        doc["userFees"] = {"userCrossRate": "0.00035", "userAddRate": "0.0001", "dailyUserVlm": []}
        assert Snapshot.from_raw(doc, SRC).taker_fee == D("0.00035")

    def test_no_user_fees(self) -> None:
        assert Snapshot.from_raw(make_snapshot(), SRC).taker_fee is None

    def test_bad_user_fee(self) -> None:
        doc = make_snapshot()
        doc["userFees"] = {"userCrossRate": "cheap"}
        assert "userFees.userCrossRate" in bad(doc)


# --------------------------------------------------------------------------- bad documents


Mutation = Callable[[Doc], None]


def _pos0(d: Doc) -> dict[str, Any]:
    return d["clearinghouseState"]["assetPositions"][0]["position"]


def _summary(d: Doc) -> dict[str, Any]:
    return d["clearinghouseState"]["marginSummary"]


BAD_DOCUMENTS: list[tuple[str, Mutation, list[str]]] = [
    ("missing clearinghouseState", lambda d: d.pop("clearinghouseState"), ["clearinghouseState", "missing"]),
    ("clearinghouseState not an object", lambda d: d.update(clearinghouseState=[]), ["clearinghouseState"]),
    ("missing marginSummary", lambda d: d["clearinghouseState"].pop("marginSummary"), ["marginSummary", "missing"]),
    ("missing accountValue", lambda d: _summary(d).pop("accountValue"), ["accountValue", "missing"]),
    ("accountValue not a number", lambda d: _summary(d).update(accountValue="lots"), ["accountValue", "lots"]),
    ("accountValue NaN", lambda d: _summary(d).update(accountValue="NaN"), ["accountValue", "finite"]),
    ("accountValue Infinity", lambda d: _summary(d).update(accountValue="Infinity"), ["accountValue", "finite"]),
    ("accountValue boolean", lambda d: _summary(d).update(accountValue=True), ["accountValue"]),
    ("bad address: short", lambda d: d.update(user="0x123"), ["user", "0x123"]),
    ("bad address: no 0x", lambda d: d.update(user="11" * 21), ["user"]),
    ("bad address: missing", lambda d: d.pop("user"), ["user"]),
    ("bad address: number", lambda d: d.update(user=12345), ["user"]),
    ("unknown network", lambda d: d.update(network="devnet"), ["network", "devnet", "mainnet"]),
    ("version 2", lambda d: d.update(version=2), ["version", "2"]),
    ("version as a string", lambda d: d.update(version="1"), ["version"]),
    ("time as a string", lambda d: d.update(time="now"), ["time"]),
    ("time as a float", lambda d: d.update(time=1.5), ["time"]),
    ("non-numeric szi", lambda d: _pos0(d).update(szi="abc"), ["szi", "BTC", "abc"]),
    ("missing szi", lambda d: _pos0(d).pop("szi"), ["szi", "missing"]),
    ("boolean szi", lambda d: _pos0(d).update(szi=True), ["szi"]),
    ("list szi", lambda d: _pos0(d).update(szi=["1"]), ["szi"]),
    ("bad positionValue", lambda d: _pos0(d).update(positionValue="x"), ["positionValue"]),
    ("bad marginUsed", lambda d: _pos0(d).update(marginUsed="x"), ["marginUsed"]),
    ("position without coin", lambda d: _pos0(d).pop("coin"), ["coin"]),
    ("too few ctxs", lambda d: d["metaAndAssetCtxs"][1].pop(), ["metaAndAssetCtxs", "asset context"]),
    ("too many ctxs", lambda d: d["metaAndAssetCtxs"][1].append({}), ["metaAndAssetCtxs", "asset context"]),
    ("ctxs not a list", lambda d: d["metaAndAssetCtxs"].__setitem__(1, {}), ["metaAndAssetCtxs"]),
    ("metaAndAssetCtxs not a pair", lambda d: d.update(metaAndAssetCtxs=[{}]), ["metaAndAssetCtxs"]),
    ("metaAndAssetCtxs an object", lambda d: d.update(metaAndAssetCtxs={}), ["metaAndAssetCtxs"]),
    ("no market at all", lambda d: d.pop("metaAndAssetCtxs"), ["metaAndAssetCtxs", "meta"]),
    ("universe missing", lambda d: d["metaAndAssetCtxs"][0].pop("universe"), ["universe"]),
    ("bad markPx", lambda d: d["metaAndAssetCtxs"][1][0].update(markPx="x"), ["markPx", "BTC"]),
    ("bad midPx", lambda d: d["metaAndAssetCtxs"][1][0].update(midPx=[]), ["midPx", "BTC"]),
    ("bad oraclePx", lambda d: d["metaAndAssetCtxs"][1][0].update(oraclePx="Infinity"), ["oraclePx"]),
    ("szDecimals missing", lambda d: d["metaAndAssetCtxs"][0]["universe"][0].pop("szDecimals"), ["szDecimals"]),
    ("allMids not an object", lambda d: d.update(allMids=["1"]), ["allMids"]),
    (
        "bad allMids price",
        lambda d: (d["metaAndAssetCtxs"][1][0].update(midPx=None), d.update(allMids={"BTC": "x"})),
        ["allMids.BTC"],
    ),
    ("openOrders not a list", lambda d: d.update(openOrders={"a": 1}), ["openOrders"]),
    (
        "bad order price",
        lambda d: d.update(openOrders=[{"coin": "BTC", "side": "B", "limitPx": "x", "sz": "1", "oid": 1}]),
        ["openOrders[0].limitPx"],
    ),
    (
        "bad order size",
        lambda d: d.update(openOrders=[{"coin": "BTC", "side": "B", "limitPx": "1", "sz": None, "oid": 1}]),
        ["openOrders[0].sz"],
    ),
    ("bad withdrawable", lambda d: d["clearinghouseState"].update(withdrawable="x"), ["withdrawable"]),
    (
        "assetPositions entry null",
        lambda d: d["clearinghouseState"].update(assetPositions=[None]),
        ["not a Hyperliquid snapshot"],
    ),
]


@pytest.mark.parametrize(("mutate", "fragments"), [pytest.param(m, f, id=i) for i, m, f in BAD_DOCUMENTS])
def test_bad_document(mutate: Mutation, fragments: list[str]) -> None:
    doc = make_snapshot({"BTC": "0.5", "ETH": "-2"})
    mutate(doc)
    message = bad(doc)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


INTEGER_FIELDS: list[tuple[str, Mutation, str]] = [
    ("szDecimals text", lambda d: d["metaAndAssetCtxs"][0]["universe"][0].update(szDecimals="five"), "szDecimals"),
    ("szDecimals null", lambda d: d["metaAndAssetCtxs"][0]["universe"][0].update(szDecimals=None), "szDecimals"),
    ("szDecimals fraction", lambda d: d["metaAndAssetCtxs"][0]["universe"][0].update(szDecimals=2.5), "szDecimals"),
    ("szDecimals negative", lambda d: d["metaAndAssetCtxs"][0]["universe"][0].update(szDecimals=-1), "szDecimals"),
    ("maxLeverage text", lambda d: d["metaAndAssetCtxs"][0]["universe"][0].update(maxLeverage="x"), "maxLeverage"),
    ("leverage value text", lambda d: _pos0(d)["leverage"].update(value="x"), "leverage"),
    (
        "order oid text",
        lambda d: d.update(openOrders=[{"coin": "BTC", "side": "B", "limitPx": "1", "sz": "1", "oid": "x"}]),
        "oid",
    ),
]


@pytest.mark.parametrize(("mutate", "key"), [pytest.param(m, k, id=i) for i, m, k in INTEGER_FIELDS])
def test_bad_integer_field(mutate: Mutation, key: str) -> None:
    doc = make_snapshot({"BTC": "0.5"})
    mutate(doc)
    assert key in bad(doc)


def test_non_hex_address_refused() -> None:
    doc = make_snapshot(user="0x" + "zz" * 20)
    assert "user" in bad(doc)


def test_error_names_the_source() -> None:
    doc = make_snapshot()
    del doc["clearinghouseState"]
    assert "recordings/2026-10-01.json" in bad(doc, "recordings/2026-10-01.json")


# --------------------------------------------------------------------------- files


class TestFiles:
    def test_missing_file(self, tmp_path: Path) -> None:
        path = tmp_path / "gone.json"
        with pytest.raises(SnapshotError) as info:
            load_snapshot(path)
        assert info.value.exit_code == 2
        assert str(path) in str(info.value)
        assert "no such" in str(info.value)

    def test_directory(self, tmp_path: Path) -> None:
        with pytest.raises(SnapshotError) as info:
            load_snapshot(tmp_path)
        assert info.value.exit_code == 2
        assert str(tmp_path) in str(info.value)

    @pytest.mark.parametrize("text", ["", "{", '{"user": }', "not json", '{"a": 1} {"b": 2}'])
    def test_invalid_json(self, tmp_path: Path, text: str) -> None:
        path = tmp_path / "snap.json"
        path.write_text(text)
        with pytest.raises(SnapshotError) as info:
            load_snapshot(path)
        assert info.value.exit_code == 2
        assert str(path) in str(info.value)
        assert "invalid JSON" in str(info.value)
        assert "line" in str(info.value)

    @pytest.mark.parametrize("text", ["[]", "42", '"snapshot"', "null"])
    def test_not_an_object(self, tmp_path: Path, text: str) -> None:
        path = tmp_path / "snap.json"
        path.write_text(text)
        with pytest.raises(SnapshotError) as info:
            load_snapshot(path)
        assert "JSON object" in str(info.value)

    def test_errors_inside_the_file_name_the_file(self, tmp_path: Path) -> None:
        doc = make_snapshot()
        doc["network"] = "moon"
        path = tmp_path / "snap.json"
        path.write_text(json.dumps(doc))
        with pytest.raises(SnapshotError) as info:
            load_snapshot(path)
        assert str(path) in str(info.value)
        assert "network" in str(info.value)

    def test_utf8_bom_is_accepted(self, tmp_path: Path) -> None:
        path = tmp_path / "bom.json"
        path.write_bytes(b"\xef\xbb\xbf" + json.dumps(btc_80_20()).encode())
        assert load_snapshot(path).account_value == D("100000")

    def test_non_utf8_bytes(self, tmp_path: Path) -> None:
        path = tmp_path / "latin1.json"
        path.write_bytes(b'{"user": "\xe9"}')
        with pytest.raises(SnapshotError) as info:
            load_snapshot(path)
        assert str(path) in str(info.value)

    def test_save_then_load_gives_an_equal_snapshot(self, tmp_path: Path) -> None:
        doc = make_snapshot(
            {"BTC": ("0.5", 10), "ETH": ("-2.5", 5, False), "kPEPE": "100000"},
            extra_meta={"XRP": {"isDelisted": True}},
            prices={"SOL": None},
            open_orders=[{"coin": "BTC", "side": "B", "limitPx": "85000", "sz": "0.01", "oid": 7, "timestamp": 1}],
        )
        doc["userFees"] = {"userCrossRate": "0.0004", "userAddRate": "0.00012"}
        original = Snapshot.from_raw(doc, "original")
        path = tmp_path / "saved.json"
        save_snapshot(original, path)
        loaded = load_snapshot(path)
        assert loaded == original
        assert loaded.positions == original.positions
        assert loaded.assets == original.assets
        assert loaded.open_orders == original.open_orders
        assert loaded.taker_fee == D("0.0004")
        assert loaded.to_raw() == doc
        assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.json"]

    def test_save_keeps_the_older_shape(self, tmp_path: Path) -> None:
        original = load_snapshot(OLDER)
        path = tmp_path / "copy.json"
        save_snapshot(original, path)
        saved = json.loads(path.read_text())
        assert "meta" in saved and "allMids" in saved and "metaAndAssetCtxs" not in saved
        assert load_snapshot(path) == original

    def test_save_replaces_an_existing_file(self, tmp_path: Path) -> None:
        path = tmp_path / "snap.json"
        path.write_text("old contents that are much longer than a tiny replacement would be " * 100)
        snap = Snapshot.from_raw(btc_80_20(), SRC)
        save_snapshot(snap, path)
        assert load_snapshot(path) == snap
        assert [p.name for p in tmp_path.iterdir()] == ["snap.json"]

    def test_saved_file_is_plain_json_with_string_numbers(self, tmp_path: Path) -> None:
        path = tmp_path / "snap.json"
        save_snapshot(Snapshot.from_raw(btc_80_20(), SRC), path)
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        assert doc["version"] == 1
        value = doc["clearinghouseState"]["marginSummary"]["accountValue"]
        assert isinstance(value, str)  # as the exchange writes it: a string, never a float
        assert value == btc_80_20()["clearinghouseState"]["marginSummary"]["accountValue"]
        assert text.endswith("\n")
