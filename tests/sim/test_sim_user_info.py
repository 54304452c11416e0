"""The user-history info types through the SDK's own methods: userFillsByTime, userFunding
(with hourly funding applied), userNonFundingLedgerUpdates, historicalOrders, extraAgents,
userFees; builder fees and the referrer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hlrebal.sim import ManualClock, SimConfig, Simulator

from sim_helpers import D, error_of, funded, info, limit, new_key, statuses

HOUR = 3_600_000


@pytest.fixture
def clocked() -> Iterator[Simulator]:
    with Simulator(clock=ManualClock(), config=SimConfig(tick_seconds=0, funding=True)) as s:
        yield s


def test_user_fills_by_time_is_inclusive_newest_first_and_2000_a_page(sim: Simulator) -> None:
    key, ex = funded(sim, 10_000_000)
    start = sim.now
    statuses(ex.order("ETH", True, 0.1, 3100, limit("Ioc")))
    sim.set_book("SOL", level_notional=20, levels=2100, level_step=0.0001)  # one order, 2100 fills
    statuses(ex.order("SOL", True, 300.0, 200, limit("Ioc")))
    fills = info(sim).user_fills_by_time(key.address, start)
    assert len(fills) == 2000
    times = [f["time"] for f in fills]
    assert times == sorted(times, reverse=True)
    assert fills[-1]["coin"] == "ETH"  # the oldest 2000 from startTime, newest of them first
    eth_time = fills[-1]["time"]
    assert [f["coin"] for f in info(sim).user_fills_by_time(key.address, eth_time, eth_time)] == ["ETH"]
    assert info(sim).user_fills_by_time(key.address, eth_time + 10**9) == []
    assert len(info(sim).user_fills(key.address)) == 2000  # userFills: the 2000 most recent


def test_hourly_funding_is_paid_and_listed(clocked: Simulator) -> None:
    key, ex = funded(clocked, 100_000)
    statuses(ex.order("ETH", True, 2.0, 3100, limit("Ioc")))
    statuses(ex.order("BTC", False, 0.1, 80_000, limit("Ioc")))
    clocked.set_funding_rate("ETH", "0.0001")
    clocked.set_funding_rate("BTC", "0.0001")
    before = clocked.account(key.address)["usdc"]
    start = clocked.now
    clocked.advance(2 * 3600)
    entries = info(clocked).user_funding_history(key.address, start, clocked.now)
    assert len(entries) == 4 and all(e["time"] % HOUR == 0 for e in entries)
    eth = [e["delta"] for e in entries if e["delta"]["coin"] == "ETH"]
    btc = [e["delta"] for e in entries if e["delta"]["coin"] == "BTC"]
    assert eth[0] == {
        "type": "funding",
        "coin": "ETH",
        "usdc": "-0.61008",  # 2 x 3050.4 (oracle) x 0.0001, paid by the long
        "szi": "2.0",
        "fundingRate": "0.0001",
        "nSamples": None,
    }
    assert btc[0]["usdc"] == "0.856" and btc[0]["szi"] == "-0.1"  # the short receives
    assert clocked.account(key.address)["usdc"] == before - 2 * D("0.61008") + 2 * D("0.856")
    position = info(clocked).user_state(key.address)["assetPositions"][0]["position"]
    assert position["coin"] == "BTC" and position["cumFunding"]["allTime"] == "-1.712"
    first = entries[0]["time"]
    assert len(info(clocked).user_funding_history(key.address, first, first)) == 2  # both ends inclusive


def test_ledger_updates_for_deposits_and_transfers(sim: Simulator) -> None:
    key, ex = funded(sim, 1_000)
    other = new_key()
    sim.fund(other.address, 1)
    assert ex.usd_class_transfer(100, to_perp=False)["status"] == "ok"
    assert ex.send_asset(other.address, "spot", "spot", "USDC", 25)["status"] == "ok"
    updates = info(sim).user_non_funding_ledger_updates(key.address, 0)
    deltas = [u["delta"] for u in updates]
    assert [d["type"] for d in deltas] == ["deposit", "accountClassTransfer", "send"]
    assert deltas[0] == {"type": "deposit", "usdc": "1000.0"}
    assert deltas[1] == {"type": "accountClassTransfer", "usdc": "100.0", "toPerp": False}
    send = deltas[2]
    assert send["user"] == key.address.lower() and send["destination"] == other.address.lower()
    assert (send["token"], send["amount"], send["sourceDex"], send["destinationDex"]) == (
        "USDC",
        "25.0",
        "spot",
        "spot",
    )
    assert all(isinstance(u["time"], int) and u["hash"].startswith("0x") for u in updates)
    assert [u["delta"]["type"] for u in info(sim).user_non_funding_ledger_updates(other.address, 0)] == [
        "deposit",
        "send",
    ]
    assert info(sim).user_non_funding_ledger_updates(key.address, updates[-1]["time"] + 1) == []


def test_historical_orders_list_every_order_with_its_status(sim: Simulator) -> None:
    key, ex = funded(sim)
    statuses(ex.order("ETH", True, 0.1, 3100, limit("Ioc")))
    error_of(ex.order("ETH", True, 0.1, 3000, limit("Ioc")))  # nothing to match
    [resting] = statuses(ex.order("ETH", True, 0.1, 3000, limit("Gtc")))
    [other] = statuses(ex.order("ETH", True, 0.1, 2990, limit("Gtc")))
    statuses(ex.cancel("ETH", other["resting"]["oid"]))
    history = info(sim).historical_orders(key.address)
    assert [h["status"] for h in history] == ["canceled", "open", "iocCancelRejected", "filled"]
    oids = [h["order"]["oid"] for h in history]
    assert oids == sorted(oids, reverse=True) and all(isinstance(o, int) for o in oids)
    rejected = history[2]["order"]
    assert rejected["sz"] == rejected["origSz"] == "0.1" and rejected["tif"] == "Ioc" and rejected["cloid"] is None
    assert history[1]["order"]["oid"] == resting["resting"]["oid"] and history[3]["order"]["sz"] == "0.0"


def test_extra_agents(sim: Simulator) -> None:
    key, ex = funded(sim)
    answer, _ = ex.approve_agent("bot")
    assert answer["status"] == "ok"
    answer, _ = ex.approve_agent("night valid_until 1900000000000")
    [bot, night] = sorted(info(sim).extra_agents(key.address), key=lambda a: a["name"])
    assert bot["name"] == "bot" and bot["validUntil"] is None and bot["address"].startswith("0x")
    assert night == {"name": "night", "address": night["address"], "validUntil": 1900000000000}


def test_user_fees_has_the_fee_schedule_and_staking_fields(sim: Simulator) -> None:
    key, _ = funded(sim)
    fees = info(sim).user_fees(key.address)
    assert fees["userCrossRate"] == "0.00045" and fees["userAddRate"] == "0.00015"
    schedule = fees["feeSchedule"]
    assert schedule["tiers"]["vip"][0] == {
        "ntlCutoff": "5000000.0",
        "cross": "0.0004",
        "add": "0.00012",
        "spotCross": "0.0006",
        "spotAdd": "0.0003",
    }
    assert schedule["tiers"]["mm"][0] == {"makerFractionCutoff": "0.005", "add": "-0.00001"}
    assert fees["activeStakingDiscount"] == {"bpsOfMaxSupply": "0.0", "discount": "0.0"}
    assert fees["feeTrialEscrow"] == "0.0" and fees["stakingLink"] is None


def test_a_builder_must_be_approved_and_its_fee_is_charged(sim: Simulator) -> None:
    key, ex = funded(sim)
    builder = new_key().address.lower()
    assert ex.approve_builder_fee(builder, "0.01%") == {
        "status": "err",
        "response": "Builder has insufficient balance to be approved.",
    }
    named = {"b": builder, "f": 10}
    refused = ex.order("ETH", True, 1.0, 3100, limit("Ioc"), builder=named)  # type: ignore[arg-type]
    assert refused == {"status": "err", "response": "Builder fee has not been approved."}
    sim.fund(builder, 100)
    assert ex.approve_builder_fee(builder, "0.01%")["status"] == "ok"
    assert info(sim).post("/info", {"type": "maxBuilderFee", "user": key.address, "builder": builder}) == 10
    assert info(sim).post("/info", {"type": "approvedBuilders", "user": key.address}) == [builder]
    too_high = ex.order("ETH", True, 1.0, 3100, limit("Ioc"), builder={"b": builder, "f": 11})  # type: ignore[arg-type]
    assert too_high["response"] == "Builder fee has not been approved."
    before = sim.account(key.address)["usdc"]
    statuses(ex.order("ETH", True, 1.0, 3100, limit("Ioc"), builder=named))  # type: ignore[arg-type]
    [fill] = info(sim).user_fills(key.address)
    assert fill["builderFee"] == "0.30508"  # 3050.8 x 1 bp
    fee = D(fill["fee"])
    assert sim.account(key.address)["usdc"] == before - D("3050.8") - fee - D("0.30508")


def test_set_referrer_is_accepted(sim: Simulator) -> None:
    key, ex = funded(sim)
    assert ex.set_referrer("CCXT1") == {"status": "ok", "response": {"type": "default"}}
    assert sim.engine.accounts[key.address.lower()].referrer == "CCXT1"
