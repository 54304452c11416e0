"""Synthetic books: grid, depth consumption, refill modes, per-coin overrides, price moves."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlrebal.sim import Simulator
from hlrebal.sim.market import ResolvedBook, build_side
from hlrebal.sim.numbers import is_on_lot_grid, is_valid_price

from sim_helpers import D, funded, info, limit, statuses

THIN = {"level_notional": 31_000, "levels": 5}  # about 10 ETH a level


def _buy_batch(ex, sizes: list[float], px: float = 3200):  # type: ignore[no-untyped-def]
    orders = [
        {"coin": "ETH", "is_buy": True, "sz": sz, "limit_px": px, "order_type": limit("Ioc"), "reduce_only": False}
        for sz in sizes
    ]
    return statuses(ex.bulk_orders(orders))


def test_never_refill_consumes_depth_across_requests(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(refill="never")
    s.set_book("ETH", **THIN)
    _, ex = funded(s, 1_000_000)
    asks = info(s).l2_snapshot("ETH")["levels"][1]
    top, second = D(asks[0]["px"]), D(asks[1]["px"])
    top_size = D(asks[0]["sz"])
    [first] = _buy_batch(ex, [float(top_size)])
    assert D(first["filled"]["avgPx"]) == top
    [after] = _buy_batch(ex, [1.0])
    assert D(after["filled"]["avgPx"]) == second
    asks = info(s).l2_snapshot("ETH")["levels"][1]
    assert D(asks[0]["px"]) == second and D(asks[0]["sz"]) < top_size  # the book shows what is left
    s.refill("ETH")
    assert D(info(s).l2_snapshot("ETH")["levels"][1][0]["px"]) == top


def test_depth_runs_out(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(refill="never")
    s.set_book("ETH", **THIN)
    _, ex = funded(s, 10_000_000)
    total = sum(D(level["sz"]) for level in info(s).l2_snapshot("ETH")["levels"][1])
    [status] = _buy_batch(ex, [100.0], px=3300)
    assert D(status["filled"]["totalSz"]) == total
    assert info(s).l2_snapshot("ETH")["levels"][1] == []
    [empty] = _buy_batch(ex, [1.0], px=3300)
    assert empty == {"error": "No liquidity available for market order. asset=1"}


def test_per_request_refill(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(refill="per_request")
    s.set_book("ETH", **THIN)
    _, ex = funded(s, 1_000_000)
    asks = info(s).l2_snapshot("ETH")["levels"][1]
    top, second, top_size = D(asks[0]["px"]), D(asks[1]["px"]), float(D(asks[0]["sz"]))
    first, again = _buy_batch(ex, [top_size, 1.0])  # same request: the second order sees the used depth
    assert D(first["filled"]["avgPx"]) == top and D(again["filled"]["avgPx"]) == second
    [next_request] = _buy_batch(ex, [1.0])
    assert D(next_request["filled"]["avgPx"]) == top


def test_immediate_refill(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(refill="immediate")
    s.set_book("ETH", **THIN)
    _, ex = funded(s, 1_000_000)
    asks = info(s).l2_snapshot("ETH")["levels"][1]
    top, top_size = D(asks[0]["px"]), float(D(asks[0]["sz"]))
    first, again = _buy_batch(ex, [top_size, 1.0])
    assert D(first["filled"]["avgPx"]) == top and D(again["filled"]["avgPx"]) == top


def test_walking_the_book_averages_the_levels(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim()
    s.set_book("ETH", **THIN)
    key, ex = funded(s, 1_000_000)
    asks = info(s).l2_snapshot("ETH")["levels"][1]
    size = D(asks[0]["sz"]) + D(asks[1]["sz"]) + D("1")
    [status] = _buy_batch(ex, [float(size)])
    cost = D(asks[0]["sz"]) * D(asks[0]["px"]) + D(asks[1]["sz"]) * D(asks[1]["px"]) + D(asks[2]["px"])
    assert D(status["filled"]["avgPx"]) == (cost / size).quantize(Decimal("0.00000001"))
    assert len(info(s).user_fills(key.address)) == 3  # one fill per level


def test_limit_stops_the_walk(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim()
    s.set_book("ETH", **THIN)
    _, ex = funded(s, 1_000_000)
    asks = info(s).l2_snapshot("ETH")["levels"][1]
    [status] = _buy_batch(ex, [50.0], px=float(D(asks[1]["px"])))
    assert D(status["filled"]["totalSz"]) == D(asks[0]["sz"]) + D(asks[1]["sz"])


def test_book_override_spread_and_set_price(sim: Simulator) -> None:
    sim.set_book("BTC", spread="0.01", levels=3, level_step="0.01")
    bids, asks = info(sim).l2_snapshot("BTC")["levels"]
    assert [b["px"] for b in bids] == ["85172.0", "84316.0", "83460.0"]
    assert [a["px"] for a in asks] == ["86028.0", "86884.0", "87740.0"]
    sim.set_price("BTC", "90000", mark="90010", oracle="90020")
    _, ctxs = info(sim).meta_and_asset_ctxs()
    assert (ctxs[0]["midPx"], ctxs[0]["markPx"], ctxs[0]["oraclePx"]) == ("90000.0", "90010.0", "90020.0")
    assert info(sim).l2_snapshot("BTC")["levels"][0][0]["px"] == "89550.0"
    assert info(sim).all_mids()["BTC"] == "90000.0"


def test_move_price_after_n_requests(sim: Simulator) -> None:
    client = info(sim)
    sim.move_price_after(2, "ETH", "3100")
    assert client.all_mids()["ETH"] == "3050.4"
    assert client.all_mids()["ETH"] == "3050.4"  # answered with the old price, then the move happens
    assert client.all_mids()["ETH"] == "3100.0"


def test_price_band_follows_the_mark(sim: Simulator) -> None:
    _, ex = funded(sim)
    sim.set_price("ETH", "3050.4", mark="1000")
    assert statuses(ex.order("ETH", True, 0.01, 1900, limit("Gtc")))[0] == {
        "error": "Order price cannot be more than 80% away from the reference price asset=1"
    }


@settings(max_examples=300, deadline=None)
@given(
    mid=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("500000"), places=6),
    sz_decimals=st.integers(min_value=0, max_value=5),
    spot=st.booleans(),
)
def test_book_levels_are_on_the_grid(mid: Decimal, sz_decimals: int, spot: bool) -> None:
    if mid <= 0:
        return
    max_decimals = (8 if spot else 6) - sz_decimals
    book = ResolvedBook(
        spread=Decimal("0.0002"), level_notional=Decimal(250_000), levels=20, level_step=Decimal("0.0005")
    )
    bids = build_side(mid, book, sz_decimals, max_decimals, is_bid=True)
    asks = build_side(mid, book, sz_decimals, max_decimals, is_bid=False)
    assert asks and len(asks) == 20
    for px, sz in bids + asks:
        assert px > 0 and is_valid_price(px, max_decimals), (mid, px)
        assert sz > 0 and is_on_lot_grid(sz, sz_decimals)
    bid_px = [px for px, _ in bids]
    ask_px = [px for px, _ in asks]
    assert bid_px == sorted(set(bid_px), reverse=True)
    assert ask_px == sorted(set(ask_px))
    if bids:
        assert bid_px[0] < ask_px[0]
        assert bid_px[0] <= mid <= ask_px[0]


def test_python_api_accepts_spot_pairs_by_base_and_quote(sim: Simulator) -> None:
    sim.set_price("HYPE/USDC", "40")
    assert sim.mid("@107") == D("40") and sim.mid("HYPE/USDC") == D("40")
    sim.set_book("HYPE/USDC", levels=3, spread=0.001)
    assert len(info(sim).l2_snapshot("HYPE/USDC")["levels"][0]) == 3
    with pytest.raises(ValueError, match="NOPE"):
        sim.set_price("NOPE", "1")
