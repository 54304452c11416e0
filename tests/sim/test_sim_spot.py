"""Spot: balances, holds, matching, fees, rules and messages; usdClassTransfer; account modes."""

from __future__ import annotations

import json

import pytest

from hlrebal.sim import Simulator

from sim_helpers import DEMO, D, error_of, exchange, funded, info, limit, new_key, statuses

HYPE_BID, HYPE_ASK = D("38.406"), D("38.414")  # default @107 book: mid 38.41, 2 bps


def spot_funded(sim: Simulator, usdc: str = "1000", hype: str | None = None):  # type: ignore[no-untyped-def]
    key = new_key()
    sim.fund_spot(key.address, "USDC", usdc)
    if hype is not None:
        sim.fund_spot(key.address, "HYPE", hype)
    return key, exchange(sim, key)


def balances(sim: Simulator, address: str) -> dict[str, dict[str, str]]:
    return {b["coin"]: b for b in info(sim).spot_user_state(address)["balances"]}


def _err(response: dict) -> str:  # type: ignore[type-arg]
    assert response["status"] == "err", response
    return response["response"]  # type: ignore[no-any-return]


def test_spot_buy_pays_the_fee_in_the_token_received(sim: Simulator) -> None:
    key, ex = spot_funded(sim)
    [status] = statuses(ex.order("HYPE/USDC", True, 2.0, 40, limit("Ioc")))
    assert status["filled"]["totalSz"] == "2.0" and D(status["filled"]["avgPx"]) == HYPE_ASK
    held = balances(sim, key.address)
    assert D(held["HYPE"]["total"]) == 2 - 2 * D("0.0007")
    assert D(held["USDC"]["total"]) == 1000 - 2 * HYPE_ASK
    assert held["HYPE"]["token"] == 150 and D(held["HYPE"]["entryNtl"]) == 2 * HYPE_ASK
    [fill] = info(sim).user_fills(key.address)
    assert fill["coin"] == "@107" and fill["dir"] == "Buy" and fill["feeToken"] == "HYPE"
    assert D(fill["fee"]) == D("0.0014")
    assert sim.account(key.address)["positions"] == {}  # spot is not a perp position


def test_spot_sell_pays_the_fee_in_usdc(sim: Simulator) -> None:
    key, ex = spot_funded(sim, usdc="0", hype="3")
    [status] = statuses(ex.order("HYPE/USDC", False, 3.0, 30, limit("Ioc")))
    assert D(status["filled"]["avgPx"]) == HYPE_BID
    fee = (3 * HYPE_BID * D("0.0007")).quantize(D("0.00000001"))
    held = balances(sim, key.address)
    assert D(held["USDC"]["total"]) == 3 * HYPE_BID - fee
    assert "HYPE" not in held
    [fill] = info(sim).user_fills(key.address)
    assert fill["feeToken"] == "USDC" and D(fill["fee"]) == fee and fill["side"] == "A"


def test_purr_pair_by_name(sim: Simulator) -> None:
    key, ex = spot_funded(sim)
    [status] = statuses(ex.order("PURR/USDC", True, 100, 0.2, limit("Ioc")))
    assert status["filled"]["totalSz"] == "100.0"
    assert sim.orders[-1]["asset"] == 10000 and sim.orders[-1]["coin"] == "PURR/USDC"
    assert D(balances(sim, key.address)["PURR"]["total"]) == D("99.93")


@pytest.mark.parametrize(
    ("is_buy", "sz", "px", "message"),
    [
        (True, 0.2, 38.5, "Order must have minimum value of 10 USDC."),
        (True, 0.001, 38.5, "Order has invalid size."),
        (True, 1, 38.4123, "Price must be divisible by tick size."),
        (True, 100, 40, "Order has insufficient spot balance to trade"),
        (False, 5, 38, "Order has insufficient spot balance to trade"),
        (True, 1, 5, "Order price cannot be more than 80% away from the reference price"),
        (True, 1, 38, "Order could not immediately match against any resting orders."),
    ],
)
def test_spot_rejections(sim: Simulator, is_buy: bool, sz: float, px: float, message: str) -> None:
    _, ex = spot_funded(sim, usdc="1000", hype="1")
    tif = "Ioc" if "immediately" in message else "Gtc"
    assert error_of(ex.order("HYPE/USDC", is_buy, sz, px, limit(tif))) == f"{message} asset=10107"


def test_spot_price_decimals_are_8_minus_base_sz_decimals(sim: Simulator) -> None:
    _, ex = spot_funded(sim, usdc="100")
    sim.set_price("@107", "0.0000125")  # HYPE szDecimals 2: at most 6 decimals
    assert error_of(ex.order("HYPE/USDC", True, 900_000, 0.0000124, limit("Gtc"))) == (
        "Price must be divisible by tick size. asset=10107"
    )
    assert "resting" in statuses(ex.order("HYPE/USDC", True, 900_000, 0.000012, limit("Gtc")))[0]
    sim.set_price("PURR/USDC", "0.00012345")  # PURR szDecimals 0: 8 decimals are fine
    assert "resting" in statuses(ex.order("PURR/USDC", True, 100_000, 0.00011111, limit("Gtc")))[0]


def test_holds_on_resting_orders(sim: Simulator) -> None:
    key, ex = spot_funded(sim, usdc="1000", hype="5")
    buy = statuses(ex.order("HYPE/USDC", True, 1.0, 35, limit("Gtc")))[0]["resting"]["oid"]
    sell = statuses(ex.order("HYPE/USDC", False, 2.0, 45, limit("Gtc")))[0]["resting"]["oid"]
    held = balances(sim, key.address)
    assert D(held["USDC"]["hold"]) == 35 and D(held["HYPE"]["hold"]) == 2
    # held tokens cannot be traded again
    assert error_of(ex.order("HYPE/USDC", False, 4.0, 30, limit("Ioc"))) == (
        "Order has insufficient spot balance to trade asset=10107"
    )
    ex.cancel("HYPE/USDC", buy)
    ex.cancel("HYPE/USDC", sell)
    held = balances(sim, key.address)
    assert D(held["USDC"]["hold"]) == 0 and D(held["HYPE"]["hold"]) == 0


def test_usd_class_transfer_both_ways(sim: Simulator) -> None:
    key, ex = funded(sim, 1000)
    assert ex.usd_class_transfer(400, to_perp=False) == {"status": "ok", "response": {"type": "default"}}
    assert D(balances(sim, key.address)["USDC"]["total"]) == 400
    assert sim.account(key.address)["usdc"] == 600
    assert ex.usd_class_transfer(150.5, to_perp=True)["status"] == "ok"
    assert D(balances(sim, key.address)["USDC"]["total"]) == D("249.5")
    assert _err(ex.usd_class_transfer(300, to_perp=True)) == "Insufficient balance for usdClassTransfer."
    assert _err(ex.usd_class_transfer(10_000, to_perp=False)) == "Insufficient balance for usdClassTransfer."
    assert sim.counts["exchange.usdClassTransfer"] == 4


def test_transfer_out_of_perp_is_limited_by_margin(sim: Simulator) -> None:
    key, ex = funded(sim, 1000)
    statuses(ex.order("ETH", True, 5.0, 3100, limit("Ioc")))  # 762 of margin at 20x
    withdrawable = D(info(sim).user_state(key.address)["withdrawable"])
    assert withdrawable < 240
    assert _err(ex.usd_class_transfer(300, to_perp=False)) == "Insufficient balance for usdClassTransfer."
    assert ex.usd_class_transfer(200, to_perp=False)["status"] == "ok"


@pytest.mark.parametrize("mode", ["unified", "portfolio"])
def test_transfers_refused_in_unified_modes(sim: Simulator, mode: str) -> None:
    key, ex = funded(sim, 1000)
    sim.set_account_mode(key.address, mode)
    assert _err(ex.usd_class_transfer(10, to_perp=False)) == "Action disabled when unified account is active"


def test_unified_account_one_balance_in_spot(sim: Simulator) -> None:
    key = new_key()
    sim.set_account_mode(key.address, "unified")
    sim.fund(key.address, 10_000)  # lands in the one (spot) USDC balance
    ex = exchange(sim, key)
    client = info(sim)
    assert D(client.spot_user_state(key.address)["balances"][0]["total"]) == 10_000
    assert client.user_state(key.address)["marginSummary"]["accountValue"] == "0.0"
    [status] = statuses(ex.order("ETH", True, 10.0, 3100, limit("Ioc")))  # 1,525 of margin from spot USDC
    assert "filled" in status
    perp = client.user_state(key.address)["marginSummary"]
    fee = 10 * D("3050.8") * D("0.00045")
    assert D(perp["accountValue"]) == 10 * (D("3050.4") - D("3050.8")) - fee  # about zero: PnL less fees
    assert D(perp["totalRawUsd"]) < 0
    usdc = client.spot_user_state(key.address)["balances"][0]
    assert D(usdc["total"]) == 10_000 + D(perp["accountValue"])
    assert D(usdc["hold"]) == D(perp["totalMarginUsed"]) == 10 * D("3050.4") / 20
    # margin draws on the spot balance: spot buys and perp orders share it
    assert error_of(ex.order("ETH", True, 60.0, 3100, limit("Ioc"))) == "Insufficient margin to place order. asset=1"
    assert error_of(ex.order("HYPE/USDC", True, 250, 40, limit("Ioc"))) == (
        "Order has insufficient spot balance to trade asset=10107"
    )
    assert "filled" in statuses(ex.order("HYPE/USDC", True, 100, 40, limit("Ioc")))[0]


def test_switching_to_unified_moves_the_perp_cash(sim: Simulator) -> None:
    key, ex = funded(sim, 5000)
    statuses(ex.order("SOL", True, 10, 150, limit("Ioc")))
    sim.set_price("SOL", "145")
    before = D(info(sim).user_state(key.address)["marginSummary"]["accountValue"])
    sim.set_account_mode(key.address, "unified")
    client = info(sim)
    perp_value = D(client.user_state(key.address)["marginSummary"]["accountValue"])
    entry = sim.account(key.address)["positions"]["SOL"]["entry_px"]
    assert perp_value == 10 * (D("145") - entry)  # only the unrealised PnL stays on the perp side
    assert D(client.spot_user_state(key.address)["balances"][0]["total"]) == before


def test_subaccount_transfer_by_its_master(sim: Simulator) -> None:
    master, sub, vault = new_key(), new_key(), new_key()
    sim.fund(master.address, 10)
    sim.fund(sub.address, 500)
    sim.fund(vault.address, 500)
    sim.set_vault_leader(sub.address, master.address, kind="subaccount")
    sim.set_vault_leader(vault.address, master.address)
    via_sub = exchange(sim, master, vault=sub.address)
    assert via_sub.usd_class_transfer(100, to_perp=False)["status"] == "ok"  # amount carries " subaccount:0x.."
    assert D(balances(sim, sub.address)["USDC"]["total"]) == 100
    assert sim.account(master.address)["spot"] == {}
    via_vault = exchange(sim, master, vault=vault.address)
    assert _err(via_vault.usd_class_transfer(100, to_perp=False)) == "Vaults cannot make usdClassTransfer."
    stranger = new_key()
    sim.fund(stranger.address, 10)
    assert _err(exchange(sim, stranger, vault=sub.address).usd_class_transfer(1, False)).endswith("does not exist.")


def test_spot_order_status_and_fills_by_cloid(sim: Simulator) -> None:
    from hyperliquid.utils.types import Cloid

    key, ex = spot_funded(sim)
    cloid = Cloid.from_str("0x" + "5a" * 16)
    statuses(ex.order("HYPE/USDC", True, 1.0, 40, limit("Ioc"), cloid=cloid))
    status = info(sim).query_order_by_cloid(key.address, cloid)
    assert status["order"]["status"] == "filled" and status["order"]["order"]["coin"] == "@107"


def test_demo_snapshot_with_a_spot_holding(make_sim) -> None:  # type: ignore[no-untyped-def]
    snap = json.loads(DEMO.read_text())
    snap["spotClearinghouseState"] = {
        "balances": [
            {"coin": "USDC", "token": 0, "total": "12.5", "hold": "0.0", "entryNtl": "0.0"},
            {"coin": "HYPE", "token": 150, "total": "100.25", "hold": "0.0", "entryNtl": "3700.0"},
        ]
    }
    s = make_sim(snap)
    held = balances(s, snap["user"])
    assert D(held["HYPE"]["total"]) == D("100.25") and D(held["USDC"]["total"]) == D("12.5")
    perp_value = D(snap["clearinghouseState"]["marginSummary"]["accountValue"])
    assert D(info(s).user_state(snap["user"])["marginSummary"]["accountValue"]) == perp_value
