"""The HTTP server: lifecycle and concurrent clients."""

from __future__ import annotations

import threading

import pytest

from hlrebal.sim import Simulator

from sim_helpers import funded, limit, post, statuses


def test_start_stop_without_with_block() -> None:
    s = Simulator()
    with pytest.raises(RuntimeError):
        _ = s.url
    s.start()
    assert s.start() is s  # idempotent
    try:
        assert post(s, "info", {"type": "allMids"}).status_code == 200
    finally:
        s.stop()
        s.stop()
    with pytest.raises(RuntimeError):
        _ = s.url


def test_concurrent_clients_are_serialised_by_the_lock(sim: Simulator) -> None:
    clients = [funded(sim, 100_000) for _ in range(6)]
    errors: list[BaseException] = []

    def trade(ex) -> None:  # type: ignore[no-untyped-def]
        try:
            for _ in range(4):
                assert "filled" in statuses(ex.order("ETH", True, 0.1, 3100, limit("Ioc")))[0]
        except BaseException as e:  # reported below, in the test thread
            errors.append(e)

    threads = [threading.Thread(target=trade, args=(ex,)) for _, ex in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sim.counts["exchange.order"] == 24 and len(sim.orders) == 24
    oids = [o["oid"] for o in sim.orders]
    assert len(set(oids)) == 24
    for key, _ in clients:
        assert str(sim.account(key.address)["positions"]["ETH"]["szi"]) == "0.4"


def test_malformed_requests_are_counted_as_invalid(sim: Simulator) -> None:
    assert post(sim, "exchange", {"nothing": 1}).status_code == 422
    assert sim.counts["exchange.invalid"] == 1
    assert sim.errors == []
