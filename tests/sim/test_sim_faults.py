"""Fault injection: status codes, dropped connections, faults after processing, latency, counts."""

from __future__ import annotations

import time

import pytest
import requests
from hyperliquid.utils.error import ClientError, ServerError
from hyperliquid.utils.types import Cloid

from hlrebal.sim import Simulator

from sim_helpers import D, funded, info, limit, statuses


def test_fail_next_429_then_recovers(sim: Simulator) -> None:
    client = info(sim)
    sim.fail_next(2, status=429)
    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            client.all_mids()
        assert caught.value.status_code == 429
    assert client.all_mids()["BTC"] == "85600.0"
    assert sim.counts["http.429"] == 2 and sim.counts["info.allMids"] == 3


def test_fail_next_500_is_a_server_error(sim: Simulator) -> None:
    sim.fail_next(1, status=502)
    with pytest.raises(ServerError) as caught:
        info(sim).meta_and_asset_ctxs()
    assert caught.value.status_code == 502


def test_fault_filters(sim: Simulator) -> None:
    client = info(sim)
    key, ex = funded(sim)
    sim.fail_next(1, status=500, info_type="clearinghouseState")
    sim.fail_next(1, status=429, action_type="cancel")
    sim.fail_next(1, status=503, endpoint="exchange")
    client.all_mids()  # not matched by any
    with pytest.raises(ServerError):
        client.user_state(key.address)
    with pytest.raises(ServerError) as caught:  # the endpoint filter matches this order
        ex.order("ETH", True, 0.1, 3000, limit("Gtc"))
    assert caught.value.status_code == 503
    oid = statuses(ex.order("ETH", True, 0.1, 3000, limit("Gtc")))[0]["resting"]["oid"]
    with pytest.raises(ClientError):
        ex.cancel("ETH", oid)
    assert statuses(ex.cancel("ETH", oid)) == ["success"]


def test_faults_are_consumed_in_order(sim: Simulator) -> None:
    client = info(sim)
    sim.fail_next(1, status=429)
    sim.fail_next(1, status=500)
    with pytest.raises(ClientError):
        client.all_mids()
    with pytest.raises(ServerError):
        client.all_mids()
    client.all_mids()


def test_custom_error_body(sim: Simulator) -> None:
    sim.fail_next(1, status=429, body='{"code": 429, "msg": "rate limited", "data": null}')
    with pytest.raises(ClientError) as caught:
        info(sim).all_mids()
    assert caught.value.error_message == "rate limited"


def test_drop_next_closes_the_connection(sim: Simulator) -> None:
    sim.drop_next(1, endpoint="info")
    with pytest.raises(requests.exceptions.ConnectionError):
        info(sim).all_mids()
    assert info(sim).all_mids()["ETH"] == "3050.4"
    assert sim.counts["http.drop"] == 1


@pytest.mark.parametrize("kind", ["fail", "drop"])
def test_fault_after_processing_places_the_order_once(sim: Simulator, kind: str) -> None:
    key, ex = funded(sim)
    cloid = Cloid.from_str("0x" + "77" * 16)
    if kind == "fail":
        sim.fail_next(1, status=500, action_type="order", when="after")
        expected: type[Exception] = ServerError
    else:
        sim.drop_next(1, action_type="order", when="after")
        expected = requests.exceptions.ConnectionError
    with pytest.raises(expected):
        ex.order("ETH", True, 0.5, 3100, limit("Ioc"), cloid=cloid)
    assert len(sim.orders) == 1 and sim.orders[0]["status"] == "filled"
    assert sim.account(key.address)["positions"]["ETH"]["szi"] == D("0.5")
    # the client can find out what happened without sending the order again
    status = info(sim).query_order_by_cloid(key.address, cloid)
    assert status["order"]["status"] == "filled"
    assert len(info(sim).user_fills(key.address)) == 1


def test_fault_before_processing_places_nothing(sim: Simulator) -> None:
    key, ex = funded(sim)
    sim.drop_next(1, action_type="order")
    with pytest.raises(requests.exceptions.ConnectionError):
        ex.order("ETH", True, 0.5, 3100, limit("Ioc"))
    assert sim.orders == [] and sim.account(key.address)["positions"] == {}


def test_latency(sim: Simulator) -> None:
    client = info(sim)
    sim.add_latency(0.3, count=1, endpoint="info")
    start = time.monotonic()
    client.all_mids()
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    client.all_mids()
    assert time.monotonic() - start < 0.3


def test_latency_makes_a_client_timeout(sim: Simulator) -> None:
    sim.add_latency(1.0, count=1)
    with pytest.raises(requests.exceptions.Timeout):
        requests.post(f"{sim.url}/info", json={"type": "allMids"}, timeout=0.2)


def test_counts_by_action_and_info_type(sim: Simulator) -> None:
    key, ex = funded(sim)
    sim.reset_counts()
    ex.order("ETH", True, 0.1, 3000, limit("Gtc"))
    ex.update_leverage(5, "ETH")
    info(sim).open_orders(key.address)
    assert sim.counts == {"exchange.order": 1, "exchange.updateLeverage": 1, "info.openOrders": 1}


def test_unknown_paths_are_404(sim: Simulator) -> None:
    assert requests.post(f"{sim.url}/nothing", json={}, timeout=5).status_code == 404
    assert requests.get(f"{sim.url}/info", timeout=5).status_code == 404
