"""Margin on its own (engine level, no HTTP): several positions, leverage, isolated, PnL, fees."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest

from hlrebal.sim import SimConfig, Simulator

from sim_helpers import D

USER = "0x" + "aa" * 20


def place(
    s: Simulator,
    coin: str,
    is_buy: bool,
    sz: Any,
    px: Any,
    tif: str = "Ioc",
    reduce_only: bool = False,
    user: str = USER,
) -> dict[str, Any]:
    engine = s.engine
    acct = engine.ensure_account(user)
    asset = engine.market.by_coin(coin).asset_id  # type: ignore[union-attr]
    wire = {"a": asset, "b": is_buy, "p": str(px), "s": str(sz), "r": reduce_only, "t": {"limit": {"tif": tif}}}
    return engine.place_orders(acct, None, None, [wire])[0]


def ask(s: Simulator, coin: str) -> Decimal:
    inst = s.engine.market.by_coin(coin)
    return s.engine.market.levels(inst, s.config)[1][0].px  # type: ignore[arg-type]


@pytest.fixture
def deep() -> Simulator:
    """No HTTP; books deep enough that every order fills at the best level."""
    s = Simulator(config=SimConfig(level_notional=Decimal(50_000_000)))
    s.fund(USER, 10_000)
    return s


def available(s: Simulator) -> Decimal:
    return s.account(USER)["available"]  # type: ignore[no-any-return]


def test_cross_margin_over_several_positions_at_their_own_leverage(deep: Simulator) -> None:
    acct = deep.engine.ensure_account(USER)
    assert deep.engine.update_leverage(acct, 0, True, 10) is None  # BTC 10x
    assert deep.engine.update_leverage(acct, 1, True, 5) is None  # ETH 5x
    assert "filled" in place(deep, "BTC", True, "0.3", "90000")
    assert "filled" in place(deep, "ETH", False, "5", "3000")
    view = deep.account(USER)
    btc_ntl, eth_ntl = D("0.3") * D("85600"), D("5") * D("3050.4")
    assert view["margin_used"] == btc_ntl / 10 + eth_ntl / 5
    assert view["available"] == view["account_value"] - btc_ntl / 10 - eth_ntl / 5
    assert view["withdrawable"] == view["available"]


def max_size(s: Simulator, coin: str, leverage: int, sz_decimals: int) -> Decimal:
    """Largest buy that keeps available >= 0, from the rules: spread cost, taker fee, margin at mark."""
    a = ask(s, coin)
    mark = s.engine.market.by_coin(coin).mark  # type: ignore[union-attr]
    per_unit = mark / leverage + (a - mark) + a * D("0.00045")
    return (available(s) / per_unit).quantize(Decimal(1).scaleb(-sz_decimals), rounding=ROUND_DOWN)


def test_margin_limit_includes_spread_and_fees(deep: Simulator) -> None:
    place(deep, "BTC", True, "0.5", "90000")  # uses 2,140 of margin at 20x
    size = max_size(deep, "SOL", 20, 2)
    too_big = size + D("0.01")
    assert place(deep, "SOL", True, too_big, "150") == {"error": "Insufficient margin to place order. asset=2"}
    assert "filled" in place(deep, "SOL", True, size, "150")
    assert D(0) <= available(deep) < D("0.01") * 150 / 20 + 1


def test_fee_can_be_what_tips_an_order_over(deep: Simulator) -> None:
    size = max_size(deep, "ETH", 20, 4)
    a = ask(deep, "ETH")
    without_fee = (available(deep) / (D("3050.4") / 20 + (a - D("3050.4")))).quantize(D("0.0001"), ROUND_DOWN)
    assert without_fee > size  # this size would pass if fees were forgotten
    assert "error" in place(deep, "ETH", True, without_fee, "3100")
    assert "filled" in place(deep, "ETH", True, size, "3100")


def test_unrealised_pnl_counts(deep: Simulator) -> None:
    place(deep, "ETH", True, "10", "3100")
    before = available(deep)
    deep.set_price("ETH", "3100.4")
    gain = D(10) * 50
    assert available(deep) == before + gain - gain / 20  # PnL adds, margin at the new mark grows
    deep.set_price("ETH", "2900.4")
    assert available(deep) < before


def test_isolated_position_carries_its_own_margin(deep: Simulator) -> None:
    acct = deep.engine.ensure_account(USER)
    assert deep.engine.update_leverage(acct, 1, False, 5) is None
    before = available(deep)
    a = ask(deep, "ETH")
    place(deep, "ETH", True, "2", "3100")
    margin = (2 * a / 5).quantize(D("0.000001"))
    fee = (2 * a * D("0.00045")).quantize(D("0.000001"))
    view = deep.account(USER)
    assert view["positions"]["ETH"]["is_cross"] is False
    assert view["available"] == before - margin - fee
    assert view["positions"]["ETH"]["iso_raw"] == margin - 2 * a
    deep.set_price("ETH", "2500")  # isolated loss stays inside the isolated margin
    assert available(deep) == before - margin - fee
    assert deep.account(USER)["account_value"] < view["account_value"]
    place(deep, "ETH", False, "2", "2000")  # closing returns what is left of the isolated margin
    assert deep.account(USER)["positions"] == {}
    assert available(deep) < before


def test_reducing_orders_are_always_allowed(deep: Simulator) -> None:
    size = max_size(deep, "ETH", 20, 4)
    place(deep, "ETH", True, size, "3100")
    deep.set_price("ETH", "2950")
    assert available(deep) < 0
    assert place(deep, "ETH", True, "0.01", "3000") == {"error": "Insufficient margin to place order. asset=1"}
    assert place(deep, "BTC", False, "0.001", "80000") == {"error": "Insufficient margin to place order. asset=0"}
    assert "filled" in place(deep, "ETH", False, "1", "2900")  # plain reduce
    assert "filled" in place(deep, "ETH", False, "1", "2900", reduce_only=True)


def test_flip_beyond_the_position_needs_margin(deep: Simulator) -> None:
    size = max_size(deep, "ETH", 20, 4)
    place(deep, "ETH", True, size, "3100")
    flip = size * 3  # closes the long and opens twice as large a short
    assert place(deep, "ETH", False, flip, "3000") == {"error": "Insufficient margin to place order. asset=1"}


def test_resting_orders_hold_margin(deep: Simulator) -> None:
    before = available(deep)
    status = place(deep, "ETH", True, "10", "2900", tif="Gtc")
    oid = status["resting"]["oid"]
    assert available(deep) == before - D(10) * 2900 / 20
    acct = deep.engine.ensure_account(USER)
    assert deep.engine.cancel(acct, 1, oid) == "success"
    assert available(deep) == before
    # a resting order larger than the account can carry is refused
    assert place(deep, "ETH", True, "100", "2900", tif="Gtc") == {
        "error": "Insufficient margin to place order. asset=1"
    }


def test_leverage_change_needs_margin_for_open_positions(deep: Simulator) -> None:
    acct = deep.engine.ensure_account(USER)
    place(deep, "ETH", True, "50", "3100")  # 152,520 notional at 20x: 7,626 margin
    assert deep.engine.update_leverage(acct, 1, True, 2) == "Insufficient margin to update leverage."
    assert deep.engine.update_leverage(acct, 1, True, 19) is None
    assert deep.account(USER)["margin_used"] == D(50) * D("3050.4") / 19


def test_default_leverage_is_capped_at_max(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(default_leverage=30)
    assert s.leverage(USER, "BTC") == (30, True)
    assert s.leverage(USER, "ETH") == (25, True)
    assert s.leverage(USER, "HYPE") == (10, True)
