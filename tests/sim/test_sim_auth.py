"""Signatures, agents, vaults, expiry and nonces."""

from __future__ import annotations

import time

import pytest
from hyperliquid.utils.signing import sign_l1_action

from hlrebal.sim import Simulator
from hlrebal.sim.auth import KEPT_NONCES, ONE_DAY_MS, TWO_DAYS_MS, NonceBook

from sim_helpers import D, error_of, exchange, funded, info, limit, new_key, order_action, post, signed_body, statuses


def _err(response: dict) -> str:  # type: ignore[type-arg]
    assert response["status"] == "err", response
    return response["response"]  # type: ignore[no-any-return]


def test_a_signature_from_an_unknown_key_is_refused(sim: Simulator) -> None:
    wrong = new_key()
    response = exchange(sim, wrong).order("ETH", True, 0.1, 3100, limit("Ioc"))
    assert _err(response) == f"User or API Wallet {wrong.address.lower()} does not exist."
    assert sim.orders == []


def test_a_tampered_action_recovers_another_address_and_is_refused(sim: Simulator) -> None:
    key, _ = funded(sim)
    body = signed_body(key, order_action(1, True, "3100", "0.1", "Ioc"))
    body["action"]["orders"][0]["s"] = "0.2"  # changed after signing
    message = _err(post(sim, "exchange", body).json())
    assert message.startswith("User or API Wallet 0x") and key.address.lower() not in message


def test_signed_for_mainnet_is_refused_on_the_sim(sim: Simulator) -> None:
    key, _ = funded(sim)
    action = order_action(1, True, "3100", "0.1", "Ioc")
    nonce = int(time.time() * 1000)
    signature = sign_l1_action(key, action, None, nonce, None, True)
    body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
    assert _err(post(sim, "exchange", body).json()).endswith("does not exist.")


def test_garbage_signature_is_refused(sim: Simulator) -> None:
    key, _ = funded(sim)
    body = signed_body(key, order_action(1, True, "3100", "0.1", "Ioc"))
    body["signature"] = {"r": "0x1", "s": "0x2", "v": 99}
    response = post(sim, "exchange", body)
    assert response.status_code == 200 and response.json()["status"] == "err"


def test_approved_agent_trades_for_its_account(sim: Simulator) -> None:
    owner, owner_ex = funded(sim)
    result, agent_key = owner_ex.approve_agent("bot")
    assert result == {"status": "ok", "response": {"type": "default"}}
    import eth_account

    agent = eth_account.Account.from_key(agent_key)
    agent_ex = exchange(sim, agent, account=owner.address)
    assert "filled" in statuses(agent_ex.order("ETH", True, 0.1, 3100, limit("Ioc")))[0]
    assert sim.account(owner.address)["positions"]["ETH"]["szi"] == D("0.1")
    assert sim.account(agent.address)["exists"] is False  # nothing lands on the agent's address
    assert sim.orders[-1]["signer"] == agent.address.lower()
    assert sim.orders[-1]["account"] == owner.address.lower()
    # the SDK reads with account_address: market_close works for the owner's position
    assert "filled" in statuses(agent_ex.market_close("ETH"))[0]


def test_unnamed_agent_approval_without_name_key(sim: Simulator) -> None:
    _, owner_ex = funded(sim)
    result, agent_key = owner_ex.approve_agent()  # the SDK drops agentName from the body
    assert result["status"] == "ok"
    import eth_account

    agent = eth_account.Account.from_key(agent_key)
    assert "filled" in statuses(exchange(sim, agent).order("ETH", True, 0.1, 3100, limit("Ioc")))[0]
    # a second unnamed approval replaces the first agent
    _, second_key = owner_ex.approve_agent()
    assert _err(exchange(sim, agent).order("ETH", True, 0.1, 3100, limit("Ioc"))).endswith("does not exist.")
    second = eth_account.Account.from_key(second_key)
    assert "filled" in statuses(exchange(sim, second).order("ETH", True, 0.1, 3100, limit("Ioc")))[0]


def test_agent_approved_through_the_python_api(sim: Simulator) -> None:
    owner, agent = new_key(), new_key()
    sim.fund(owner.address, 10_000)
    sim.approve_agent(owner.address.upper().replace("0X", "0x"), agent.address)
    assert "filled" in statuses(exchange(sim, agent).order("SOL", True, 1, 150, limit("Ioc")))[0]
    assert "SOL" in sim.account(owner.address)["positions"]


def test_an_agent_cannot_approve_agents_or_transfer(sim: Simulator) -> None:
    owner, agent = new_key(), new_key()
    sim.fund(owner.address, 10_000)
    sim.approve_agent(owner.address, agent.address)
    agent_ex = exchange(sim, agent)
    result, _ = agent_ex.approve_agent()
    assert _err(result) == f"Must deposit before performing actions. User: {agent.address.lower()}"
    assert _err(agent_ex.usd_class_transfer(10, False)).startswith("Must deposit before performing actions.")


def test_unfunded_owner_cannot_approve(sim: Simulator) -> None:
    stranger = new_key()
    result, _ = exchange(sim, stranger).approve_agent()
    assert _err(result) == f"Must deposit before performing actions. User: {stranger.address.lower()}"


def test_vault_trading_by_leader_and_leader_agent(sim: Simulator) -> None:
    leader, agent, vault = new_key(), new_key(), new_key()
    sim.fund(vault.address, 50_000)
    sim.fund(leader.address, 1)
    sim.set_vault_leader(vault.address, leader.address)
    sim.approve_agent(leader.address, agent.address)
    by_leader = exchange(sim, leader, vault=vault.address)
    assert "filled" in statuses(by_leader.order("ETH", True, 1.0, 3100, limit("Ioc")))[0]
    by_agent = exchange(sim, agent, vault=vault.address)
    assert "filled" in statuses(by_agent.order("ETH", True, 1.0, 3100, limit("Ioc")))[0]
    assert sim.account(vault.address)["positions"]["ETH"]["szi"] == 2
    assert sim.account(leader.address)["positions"] == {}
    outsider = new_key()
    sim.fund(outsider.address, 100)
    response = exchange(sim, outsider, vault=vault.address).order("ETH", True, 1.0, 3100, limit("Ioc"))
    assert _err(response) == f"User or API Wallet {outsider.address.lower()} does not exist."
    response = exchange(sim, leader, vault=new_key().address).order("ETH", True, 1.0, 3100, limit("Ioc"))
    assert _err(response).startswith("Vault not registered")


def test_expires_after(sim: Simulator) -> None:
    _, ex = funded(sim)
    ex.set_expires_after(int(time.time() * 1000) - 1000)
    assert _err(ex.order("ETH", True, 0.1, 3100, limit("Ioc"))) == "Action already expired"
    ex.set_expires_after(int(time.time() * 1000) + 60_000)
    assert "filled" in statuses(ex.order("ETH", True, 0.1, 3100, limit("Ioc")))[0]


def test_duplicate_nonce_over_http(sim: Simulator) -> None:
    key, _ = funded(sim)
    body = signed_body(key, order_action(1, True, "3000", "0.1"))
    assert "resting" in statuses(post(sim, "exchange", body).json())[0]
    assert _err(post(sim, "exchange", body).json()) == f"Invalid nonce: duplicate nonce {body['nonce']}"
    assert len(sim.orders) == 1


def test_nonce_window_over_http() -> None:
    now = 1_800_000_000_000
    with Simulator(clock=lambda: now) as s:
        key, _ = funded(s)
        old = signed_body(key, order_action(1, True, "3000", "0.1"), nonce=now - TWO_DAYS_MS)
        assert _err(post(s, "exchange", old).json()).startswith("Invalid nonce: nonce too low")
        future = signed_body(key, order_action(1, True, "3000", "0.1"), nonce=now + ONE_DAY_MS)
        assert _err(post(s, "exchange", future).json()).startswith("Invalid nonce: nonce too high")
        edge = signed_body(key, order_action(1, True, "3000", "0.1"), nonce=now - TWO_DAYS_MS + 1)
        assert post(s, "exchange", edge).json()["status"] == "ok"


def test_auto_create_accounts_switch(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(auto_create_accounts=True)
    stranger = new_key()
    assert error_of(exchange(s, stranger).order("ETH", True, 0.1, 3100, limit("Ioc"))) == (
        "Insufficient margin to place order. asset=1"
    )
    assert s.account(stranger.address)["exists"] is True


def test_malformed_exchange_bodies_are_422(sim: Simulator) -> None:
    key, _ = funded(sim)
    good = signed_body(key, order_action(1, True, "3000", "0.1"))
    broken = [
        {},
        {**good, "nonce": "123"},
        {**good, "signature": "0x00"},
        {**good, "action": {"type": "order", "orders": [{"a": 1}]}},
        {**good, "vaultAddress": "nope"},
        [good],
    ]
    for body in broken:
        response = post(sim, "exchange", body)
        assert response.status_code == 422, body
        assert response.text == "Failed to deserialize the JSON body into the target type"


def test_unsupported_action_type(sim: Simulator) -> None:
    key, _ = funded(sim)
    body = signed_body(key, {"type": "vaultTransfer", "vaultAddress": key.address, "isDeposit": True, "usd": 1})
    assert "not supported" in _err(post(sim, "exchange", body).json())


def test_update_leverage_rules(make_sim) -> None:  # type: ignore[no-untyped-def]
    from sim_helpers import DATA

    s = make_sim(DATA / "mixed_account.json")
    key, ex = funded(s, 10_000)
    assert ex.update_leverage(7, "ETH", is_cross=False)["status"] == "ok"
    assert s.leverage(key.address, "ETH") == (7, False)
    assert _err(ex.update_leverage(3, "TST", is_cross=True)) == "Cross margin is not allowed for this asset."
    assert ex.update_leverage(2, "TST", is_cross=False)["status"] == "ok"
    assert _err(ex.update_leverage(26, "ETH")) == "Invalid leverage value."
    assert _err(ex.update_leverage(0, "ETH")) == "Invalid leverage value."
    statuses(ex.order("ETH", True, 0.1, 3700, limit("Ioc")))
    assert _err(ex.update_leverage(5, "ETH", is_cross=True)) == "Cannot switch leverage type with open position."
    assert ex.update_leverage(3, "ETH", is_cross=False)["status"] == "ok"
    assert info(s).user_state(key.address)["assetPositions"][0]["position"]["leverage"]["value"] == 3


def test_schedule_cancel() -> None:
    offset = {"ms": 0}
    with Simulator(clock=lambda: int(time.time() * 1000) + offset["ms"]) as s:
        key, ex = funded(s)
        statuses(ex.order("ETH", True, 0.1, 3000, limit("Gtc")))
        assert _err(ex.schedule_cancel(int(time.time() * 1000) + 1000)).startswith("Scheduled cancel time too early")
        assert ex.schedule_cancel(int(time.time() * 1000) + 10_000) == {"status": "ok", "response": {"type": "default"}}
        assert len(info(s).open_orders(key.address)) == 1
        offset["ms"] = 11_000
        assert info(s).open_orders(key.address) == []
        assert s.orders[0]["status"] == "scheduledCancel"  # the exchange's status for these cancels


# ---- the nonce book on its own -------------------------------------------------------------

NOW = 1_800_000_000_000


def test_nonce_duplicate() -> None:
    book = NonceBook()
    assert book.check("0xa", NOW, NOW) is None
    book.use("0xa", NOW)
    assert book.check("0xa", NOW, NOW) == f"Invalid nonce: duplicate nonce {NOW}"
    assert book.check("0xA", NOW, NOW) == f"Invalid nonce: duplicate nonce {NOW}"  # signer case-insensitive
    assert book.check("0xb", NOW, NOW) is None  # per signer


def test_nonce_time_window() -> None:
    book = NonceBook()
    assert book.check("0xa", NOW - TWO_DAYS_MS, NOW) is not None
    assert book.check("0xa", NOW - TWO_DAYS_MS + 1, NOW) is None
    assert book.check("0xa", NOW + ONE_DAY_MS - 1, NOW) is None
    assert book.check("0xa", NOW + ONE_DAY_MS, NOW) is not None


def test_nonce_out_of_order_is_fine_until_100_are_kept() -> None:
    book = NonceBook()
    for i in range(KEPT_NONCES):
        book.use("0xa", NOW + 1000 + i)
    assert book.check("0xa", NOW + 500, NOW) is not None  # below the smallest of the 100 kept
    assert book.check("0xa", NOW + 1000, NOW) == f"Invalid nonce: duplicate nonce {NOW + 1000}"
    assert book.check("0xa", NOW + 5000, NOW) is None
    book.use("0xa", NOW + 5000)  # pushes NOW + 1000 out
    assert book.check("0xa", NOW + 1000, NOW) == f"Invalid nonce: nonce too low {NOW + 1000} < {NOW + 1002}"
    assert len(book.kept["0xa"]) == KEPT_NONCES


def test_nonce_below_highest_accepted_while_fewer_than_100() -> None:
    book = NonceBook()
    book.use("0xa", NOW + 10)
    assert book.check("0xa", NOW + 5, NOW) is None


@pytest.mark.parametrize("missing", ["r", "s", "v"])
def test_signature_missing_parts_is_refused(sim: Simulator, missing: str) -> None:
    key, _ = funded(sim)
    body = signed_body(key, order_action(1, True, "3000", "0.1"))
    del body["signature"][missing]
    assert post(sim, "exchange", body).json()["status"] == "err"


def test_is_mainnet_switch(make_sim) -> None:  # type: ignore[no-untyped-def]
    s = make_sim(is_mainnet=True)
    key, ex = funded(s)
    # the SDK signs as testnet for any URL but the mainnet one: refused by a mainnet sim
    assert _err(ex.order("ETH", True, 0.1, 3100, limit("Ioc"))).endswith("does not exist.")
    action = order_action(1, True, "3100", "0.1", "Ioc")
    nonce = int(time.time() * 1000)
    body = {
        "action": action,
        "nonce": nonce,
        "signature": sign_l1_action(key, action, None, nonce, None, True),
        "vaultAddress": None,
    }
    assert "filled" in post(s, "exchange", body).json()["response"]["data"]["statuses"][0]
