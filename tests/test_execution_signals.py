"""Ctrl-C, SIGTERM and SIGKILL while post-only orders rest: hlrebal runs in a subprocess against a
simulator served by this process. Every wait is bounded, so nothing hangs even when this process
ignores SIGINT (the child installs its own handlers)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from hlrebal.journal import read_entries
from hlrebal.sim import Simulator

from execution_kit import USER, btc_80, start_execute, unresolved, wait_for


def start(sim: Simulator, tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    settings = {"HLREBAL_STYLE": "maker", "HLREBAL_REQUOTE_SECONDS": "0.2", "HLREBAL_PATIENCE": "60"}
    return start_execute(sim, tmp_path, {**settings, **env})


def resting(sim: Simulator) -> list[Any]:
    return sim.handle("info", {"type": "openOrders", "user": USER})[1]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_the_maker_wait_cancels_everything(sim_btc: Simulator, tmp_path: Path, sig: int) -> None:
    proc = start(sim_btc, tmp_path)
    try:
        wait_for(lambda: len(resting(sim_btc)) == 1)  # the BTC ask rests; patience is a minute
        time.sleep(0.3)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert resting(sim_btc) == []
    assert sim_btc.engine.account(USER).scheduled_cancel is None  # nothing left for the switch to do
    journal = tmp_path / "journal.jsonl"
    entries = list(read_entries(journal))
    end = entries[-1]
    assert (end["event"], end["outcome"], end["exit_code"]) == ("run_end", "interrupted", 130)
    assert unresolved(journal) == []  # the cancelled order's final result is recorded
    assert [e["status"] for e in entries if e["event"] == "order_result"] == ["resting", "cancelled"]
    assert json.loads(out)["outcome"] == "interrupted"
    assert sim_btc.account(USER)["positions"]["BTC"]["szi"] > 0  # nothing sold, nothing bought
    assert not any(o["coin"] == "ETH" for o in sim_btc.orders)


def test_sigkill_during_the_maker_wait_is_reconciled_by_the_next_run(sim_btc: Simulator, tmp_path: Path) -> None:
    proc = start(sim_btc, tmp_path)
    try:
        wait_for(lambda: len(resting(sim_btc)) == 1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert sim_btc.engine.account(USER).scheduled_cancel is not None  # the switch is armed for it
    [_order] = resting(sim_btc)
    sim_btc.set_price("BTC", "85700")  # the orphaned ask fills after its run died
    successor = start(sim_btc, tmp_path, HLREBAL_STYLE="taker")
    out, err = successor.communicate(timeout=60)
    assert successor.returncode == 0, err
    assert "resolving 1 order(s) an earlier run left without a result" in err
    journal = tmp_path / "journal.jsonl"
    reconciled = [e for e in read_entries(journal) if e["event"] == "reconciled"]
    assert [(e["status"], e["filled_size"]) for e in reconciled] == [("filled", "0.46729")]
    # the successor counted the orphan's fill: it did not sell BTC again, it only bought the ETH
    assert [o["coin"] for o in json.loads(out)["orders"]] == ["ETH"]
    assert resting(sim_btc) == [] and unresolved(journal) == []


@pytest.fixture
def sim_btc() -> Any:
    with Simulator(snapshot=btc_80()) as sim:
        yield sim
