"""Native TWAP orders through the SDK's signing: validation, slices on the sim's clock, catch-up,
cancel, the info answers (userTwapSliceFills, twapHistory) and real-time slicing."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from hlrebal.sim import ManualClock, SimConfig, Simulator

from sim_helpers import D, exchange, funded, info, limit, new_key, send_action, statuses, twap_action

ETH = 1  # asset id of ETH on the default market (mid 3050.4)


@pytest.fixture
def clocked() -> Iterator[Simulator]:
    """A sim on a manual clock with a one-second TWAP slice interval (no background ticker)."""
    with Simulator(clock=ManualClock(), config=SimConfig(twap_slice_seconds=1, tick_seconds=0)) as s:
        yield s


def _status(response: dict) -> dict:  # type: ignore[type-arg]
    assert response["status"] == "ok" and response["response"]["type"] == "twapOrder", response
    return response["response"]["data"]["status"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("sz", "minutes", "reduce_only", "message"),
    [
        ("1.0", 1, False, "Invalid TWAP duration: 1 min(s)"),
        ("1.0", 10_081, False, "Invalid TWAP duration: 10081 min(s)"),
        ("0.02", 5, False, "TWAP order value too small. Min is $100."),
        ("0.09", 30, False, "TWAP order value too small. Min is $300, which is $10 per minute."),
        ("1.0", 5, True, "Reduce-only TWAP order would increase position."),
        ("0.00001", 5, False, "Order has invalid size."),
    ],
)
def test_twap_refusals(clocked: Simulator, sz: str, minutes: int, reduce_only: bool, message: str) -> None:
    _, ex = funded(clocked)
    assert _status(send_action(ex, twap_action(ETH, True, sz, minutes, reduce_only))) == {"error": message}
    assert clocked.twaps() == []


def test_twap_slices_on_schedule_and_fills_carry_its_id(clocked: Simulator) -> None:
    key, ex = funded(clocked)
    status = _status(send_action(ex, twap_action(ETH, True, "1.0", 5)))
    twap_id = status["running"]["twapId"]
    assert isinstance(twap_id, int)
    [twap] = clocked.twaps(key.address)
    assert twap["slices"] == 10 and twap["done_slices"] == 1  # 2 a minute; the first at once
    assert clocked.account(key.address)["positions"]["ETH"]["szi"] == D("0.1")
    for _ in range(9):
        clocked.advance(1)
    [twap] = clocked.twaps(key.address)
    assert twap["status"] == "finished" and twap["executed_sz"] == 1
    assert clocked.account(key.address)["positions"]["ETH"]["szi"] == 1
    fills = info(clocked).user_twap_slice_fills(key.address)
    assert len(fills) == 10 and {f["twapId"] for f in fills} == {twap_id}
    first = fills[-1]["fill"]  # newest first
    assert first["twapId"] == twap_id and first["hash"] == "0x" + "0" * 64 and first["crossed"] is True
    assert {f["fill"]["sz"] for f in fills} == {"0.1"}
    times = sorted(f["fill"]["time"] for f in fills)
    assert [b - a for a, b in itertools.pairwise(times)] == [1000] * 9
    user_fills = info(clocked).user_fills(key.address)
    assert all(f["twapId"] == twap_id for f in user_fills)
    assert clocked.orders == []  # slices are the exchange's orders, not the account's
    history = info(clocked).post("/info", {"type": "twapHistory", "user": key.address})
    assert [h["status"]["status"] for h in history] == ["activated", "finished"]
    assert history[1]["state"]["executedSz"] == "1.0" and history[0]["state"]["executedSz"] == "0.0"
    assert history[0]["twapId"] == twap_id and history[0]["state"]["minutes"] == 5


def test_slices_stay_within_three_percent_and_catch_up_at_most_three_times(clocked: Simulator) -> None:
    key, ex = funded(clocked)
    clocked.set_book("ETH", spread=0.2)  # best ask 10% above mid: the first slices miss
    _status(send_action(ex, twap_action(ETH, True, "1.0", 5)))
    clocked.advance(1)
    assert clocked.account(key.address)["positions"] == {}
    clocked.set_book("ETH", spread=0.0002)
    clocked.advance(1)  # third slice: 0.3 due, 3 x 0.1 allowed
    assert clocked.account(key.address)["positions"]["ETH"]["szi"] == D("0.3")
    clocked.advance(1)  # fourth: 0.4 due, 0.1 to go
    assert clocked.account(key.address)["positions"]["ETH"]["szi"] == D("0.4")
    far = D("3050.4") * D("1.031")
    clocked.set_book("ETH", spread=0.07)  # best ask 3.5% above mid
    clocked.advance(1)
    assert clocked.account(key.address)["positions"]["ETH"]["szi"] == D("0.4")  # too far: missed
    assert all(D(f["px"]) < far for f in info(clocked).user_fills(key.address))


def test_twap_cancel_stops_the_slices(clocked: Simulator) -> None:
    key, ex = funded(clocked)
    twap_id = _status(send_action(ex, twap_action(ETH, False, "1.0", 5)))["running"]["twapId"]
    clocked.advance(1)
    cancel = send_action(ex, {"type": "twapCancel", "a": ETH, "t": twap_id})
    assert cancel == {"status": "ok", "response": {"type": "twapCancel", "data": {"status": "success"}}}
    clocked.advance(5)
    assert clocked.account(key.address)["positions"]["ETH"]["szi"] == D("-0.2")
    again = send_action(ex, {"type": "twapCancel", "a": ETH, "t": twap_id})
    assert again["response"]["data"]["status"] == {"error": "TWAP was never placed, already canceled, or filled."}
    other = send_action(exchange(clocked, new_key()), {"type": "twapCancel", "a": ETH, "t": twap_id})
    assert other["status"] == "err"  # a stranger has no account at all
    history = info(clocked).post("/info", {"type": "twapHistory", "user": key.address})
    assert history[-1]["status"] == {"status": "terminated"}


def test_a_reduce_only_twap_stops_at_flat(clocked: Simulator) -> None:
    key, ex = funded(clocked)
    statuses(ex.order("ETH", True, 0.25, 3100, limit("Ioc")))
    _status(send_action(ex, twap_action(ETH, False, "1.0", 5, reduce_only=True)))
    for _ in range(4):
        clocked.advance(1)
    assert "ETH" not in clocked.account(key.address)["positions"]
    [twap] = clocked.twaps(key.address)
    assert twap["status"] == "finished" and twap["executed_sz"] == D("0.25")


def test_a_slice_without_margin_ends_the_twap_in_error(clocked: Simulator) -> None:
    key, ex = funded(clocked, 200)
    # accepted (the exchange checks margin slice by slice), but the first slice, 2 ETH at 20x,
    # needs about $305 of margin
    assert "running" in _status(send_action(ex, twap_action(ETH, True, "20.0", 5)))
    [twap] = clocked.twaps(key.address)
    assert twap["status"] == "error" and twap["executed_sz"] == 0
    history = info(clocked).post("/info", {"type": "twapHistory", "user": key.address})
    assert history[-1]["status"] == {"status": "error", "description": "Insufficient margin to place order."}


def test_twap_slices_run_in_real_time_without_requests() -> None:
    with Simulator(config=SimConfig(twap_slice_seconds=0.05, tick_seconds=0.02)) as sim:
        key, ex = funded(sim)
        _status(send_action(ex, twap_action(ETH, True, "0.5", 5)))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and sim.engine.twaps[1].status == "activated":
            time.sleep(0.05)  # nothing asks the sim anything: the ticker sends the slices
        assert sim.engine.twaps[1].status == "finished"
        assert sim.account(key.address)["positions"]["ETH"]["szi"] == D("0.5")


def test_twap_state_survives_a_restart(tmp_path: object) -> None:
    from pathlib import Path

    state = Path(str(tmp_path)) / "state.json"
    clock = ManualClock()
    config = SimConfig(twap_slice_seconds=1, tick_seconds=0)
    with Simulator(clock=clock, config=config, state=state, autosave=True) as sim:
        key, ex = funded(sim)
        _status(send_action(ex, twap_action(ETH, True, "1.0", 5)))
        sim.advance(2)
    with Simulator(clock=clock, config=config, state=state) as again:
        again.advance(10)
        [twap] = again.twaps(key.address)
        assert twap["status"] == "finished" and twap["executed_sz"] == Decimal(1)


def test_a_spot_twap_buys_with_the_quote_balance_and_stops_when_it_runs_out(clocked: Simulator) -> None:
    key, ex = funded(clocked)
    clocked.fund_spot(key.address, "USDC", 150)
    assert "running" in _status(send_action(ex, twap_action(10107, True, "5.0", 5)))  # $192 of HYPE
    for _ in range(9):
        clocked.advance(1)
    [twap] = clocked.twaps(key.address)
    assert twap["status"] == "error" and 0 < twap["executed_sz"] < 5
    assert clocked.account(key.address)["spot"]["HYPE"] > 0
    refused = _status(send_action(ex, twap_action(10107, False, "5.0", 5, reduce_only=True)))
    assert refused == {"error": "Reduce-only TWAP order would increase position."}
