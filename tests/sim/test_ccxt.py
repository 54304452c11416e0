"""A client nobody on this project wrote: ccxt's ``hyperliquid`` class against the sim (sandbox
mode, which signs the testnet way, with its API urls pointed at the sim): markets, balances,
positions, books, orders placed, edited and canceled, fills, candles, funding, builder fees."""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from typing import Any

import pytest

ccxt = pytest.importorskip("ccxt", reason="ccxt is not installed (pip install ccxt) to test the sim with it")

from hlrebal.sim import Simulator  # noqa: E402

from sim_helpers import D, info, new_key  # noqa: E402

CCXT_BUILDER = "0x6530512A6c89C7cfCEbC3BA7fcD9aDa5f30827a6"  # ccxt's default builder address


@pytest.fixture(autouse=True)
def _decimal_context() -> Iterator[None]:
    """ccxt sets the calling thread's decimal rounding to ROUND_HALF_UP (decimal_to_precision):
    put the context back so that no later test computes with it."""
    saved = decimal.getcontext().copy()
    yield
    decimal.setcontext(saved)


def _client(sim: Simulator, key: Any) -> Any:
    # no client-side throttle: ccxt spaces its requests for the real API's weights
    ex = ccxt.hyperliquid({"walletAddress": key.address, "privateKey": key.key.hex(), "enableRateLimit": False})
    ex.set_sandbox_mode(True)
    ex.urls["api"] = {"public": sim.url, "private": sim.url}
    return ex


@pytest.fixture
def pair(sim: Simulator) -> Iterator[tuple[Simulator, Any, Any]]:
    key = new_key()
    sim.fund(key.address, 100_000)
    sim.fund_spot(key.address, "USDC", 5_000)
    yield sim, key, _client(sim, key)


def test_ccxt_loads_every_market_and_reads_the_account(pair: tuple[Simulator, Any, Any]) -> None:
    sim, _, ex = pair
    markets = ex.load_markets()
    for symbol in ("BTC/USDC:USDC", "ETH/USDC:USDC", "SOL/USDC:USDC", "HYPE/USDC:USDC", "PURR/USDC", "HYPE/USDC"):
        assert symbol in markets, symbol
    ids = {m["id"] for m in markets.values()}
    assert {p.name for p in sim.engine.market.pairs} <= ids  # every spot pair of the sim
    assert markets["HYPE/USDC"]["id"] == "@107" and markets["HYPE/USDC"]["baseId"] == "10107"
    assert ex.fetch_balance()["USDC"]["total"] == 100_000
    assert ex.fetch_balance({"type": "spot"})["USDC"]["total"] == 5_000
    book = ex.fetch_order_book("BTC/USDC:USDC")
    assert book["bids"][0][0] < book["asks"][0][0] and len(book["bids"]) == 20
    candles = ex.fetch_ohlcv("BTC/USDC:USDC", "1h", limit=5)
    assert len(candles) == 5 and candles[-1][4] == 85600
    assert ex.fetch_funding_rate_history("BTC/USDC:USDC", limit=3)


def test_ccxt_places_edits_cancels_and_reads_its_fills(pair: tuple[Simulator, Any, Any]) -> None:
    sim, key, ex = pair
    ex.load_markets()
    placed = ex.create_order("ETH/USDC:USDC", "limit", "buy", 0.5, 3000)
    edited = ex.edit_order(placed["id"], "ETH/USDC:USDC", "limit", "buy", 0.6, 2990)
    assert edited["id"] != placed["id"]  # a modify is a new order on Hyperliquid
    [open_order] = ex.fetch_open_orders("ETH/USDC:USDC")
    assert (open_order["id"], open_order["price"], open_order["amount"]) == (edited["id"], 2990, 0.6)
    ex.cancel_order(open_order["id"], "ETH/USDC:USDC")
    assert ex.fetch_open_orders("ETH/USDC:USDC") == []
    ex.create_order("ETH/USDC:USDC", "market", "buy", 0.5, 3050)
    ex.create_order("HYPE/USDC", "limit", "buy", 1, 39)
    [position] = ex.fetch_positions(["ETH/USDC:USDC"])
    assert position["contracts"] == 0.5 and position["side"] == "long"
    [trade] = ex.fetch_my_trades("ETH/USDC:USDC")
    assert (trade["price"], trade["amount"], trade["side"]) == (3050.8, 0.5, "buy")
    assert sim.account(key.address)["spot"]["HYPE"] == D("0.9993")  # 1 HYPE less the fee in HYPE
    assert sim.counts["exchange.setReferrer"] == 1 and sim.errors == []


def test_ccxt_pays_its_builder_once_the_builder_can_be_approved(pair: tuple[Simulator, Any, Any]) -> None:
    sim, key, ex = pair
    sim.fund(CCXT_BUILDER, 100)  # a builder needs 100 USDC of perps value to be approved
    ex.load_markets()
    ex.create_order("ETH/USDC:USDC", "market", "buy", 1, 3050)
    assert info(sim).post("/info", {"type": "maxBuilderFee", "user": key.address, "builder": CCXT_BUILDER}) == 10
    [fill] = info(sim).user_fills(key.address)
    assert fill["builderFee"] == "0.30508"  # ccxt's 1 bp on 3050.8
