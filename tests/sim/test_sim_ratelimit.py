"""The address-based request budget, read with the SDK's Info.user_rate_limit."""

from __future__ import annotations

from hlrebal.sim import ManualClock, SimConfig, Simulator

from sim_helpers import D, exchange, funded, info, limit, new_key, send_action, statuses


def _order_batch(ex, n: int):  # type: ignore[no-untyped-def]
    from hyperliquid.utils.signing import OrderRequest

    gtc = limit("Gtc")
    orders: list[OrderRequest] = [
        {"coin": "ETH", "is_buy": True, "sz": 0.1, "limit_px": 2900 - i, "order_type": gtc, "reduce_only": False}
        for i in range(n)
    ]
    return ex.bulk_orders(orders)


def test_a_fresh_address_has_ten_thousand_requests(sim: Simulator) -> None:
    key, _ = funded(sim)
    assert info(sim).user_rate_limit(key.address) == {
        "cumVlm": "0.0",
        "nRequestsUsed": 0,
        "nRequestsCap": 10000,
        "nRequestsSurplus": 0,
    }
    assert info(sim).user_rate_limit(new_key().address)["nRequestsCap"] == 10000


def test_each_order_and_cancel_in_a_batch_counts_and_info_requests_do_not(sim: Simulator) -> None:
    key, ex = funded(sim)
    oids = [s["resting"]["oid"] for s in statuses(_order_batch(ex, 3))]
    for _ in range(5):
        info(sim).user_state(key.address)
    assert info(sim).user_rate_limit(key.address)["nRequestsUsed"] == 3
    ex.bulk_cancel([{"coin": "ETH", "oid": oid} for oid in oids[:2]])
    ex.update_leverage(5, "ETH")
    assert info(sim).user_rate_limit(key.address)["nRequestsUsed"] == 6


def test_traded_volume_raises_the_cap_and_an_agent_spends_its_accounts_budget(sim: Simulator) -> None:
    key, _ = funded(sim)
    agent = new_key()
    sim.approve_agent(key.address, agent.address)
    statuses(exchange(sim, agent, account=key.address).order("ETH", True, 2.0, 3100, limit("Ioc")))
    answer = info(sim).user_rate_limit(key.address)
    assert answer["cumVlm"] == "6101.6"  # 2 x 3050.8
    assert answer["nRequestsCap"] == 16101 and answer["nRequestsUsed"] == 1
    assert info(sim).user_rate_limit(agent.address)["nRequestsUsed"] == 0


def test_a_spent_budget_refuses_orders_but_not_cancels_and_lets_one_through_every_ten_seconds() -> None:
    clock = ManualClock()
    with Simulator(clock=clock, config=SimConfig(tick_seconds=0)) as sim:
        key, ex = funded(sim)
        oid = statuses(_order_batch(ex, 1))[0]["resting"]["oid"]
        sim.set_rate_limit(key.address, used=10_000)
        first = _order_batch(ex, 1)
        assert "resting" in statuses(first)[0]  # over budget: one request per 10 seconds still passes
        refused = _order_batch(ex, 1)
        assert refused == {
            "status": "err",
            "response": "Too many cumulative requests sent (10002 > 9999) for cumulative volume traded $0.00. "
            "Place taker orders to free up 1 request per USDC traded.",
        }
        assert statuses(ex.cancel("ETH", oid)) == ["success"]  # cancels have a higher limit
        sim.advance(10)
        assert "resting" in statuses(_order_batch(ex, 1))[0]
        assert info(sim).user_rate_limit(key.address)["nRequestsUsed"] == 10_003


def test_reserve_request_weight_buys_surplus(sim: Simulator) -> None:
    key, ex = funded(sim, 100)
    sim.set_rate_limit(key.address, used=9_999, cap=10_000)
    assert send_action(ex, {"type": "reserveRequestWeight", "weight": 1000})["status"] == "ok"
    answer = info(sim).user_rate_limit(key.address)
    assert answer["nRequestsSurplus"] == 1000 and answer["nRequestsCap"] == 10_000
    assert sim.account(key.address)["usdc"] == D("99.5")  # 0.0005 USDC a request
    assert "resting" in statuses(_order_batch(ex, 1))[0]


def test_the_budget_can_be_switched_off() -> None:
    with Simulator(config=SimConfig(rate_limits=False, tick_seconds=0)) as sim:
        key, ex = funded(sim)
        sim.set_rate_limit(key.address, used=50_000)
        assert "resting" in statuses(_order_batch(ex, 2))[0]
        assert info(sim).user_rate_limit(key.address)["nRequestsUsed"] == 50_002
