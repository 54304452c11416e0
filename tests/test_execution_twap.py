"""The twap style on the simulator with the real SDK: perp legs as native TWAPs, the rest sliced by
hlrebal, progress from slice fills, twapCancel on a guard, Ctrl-C, SIGTERM, and a successor's
reconciliation of a killed run's TWAPs. The simulator compresses a 5-minute TWAP into a second."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from hlrebal.sim import SimConfig, Simulator

from execution_kit import (
    USER,
    btc_80,
    client_for,
    journal_entries,
    run_library,
    sim_has,
    start_execute,
    twap_settings,
    wait_for,
)
from factories import make_snapshot

pytestmark = sim_has("twaps", "advance")


def weights(sim: Simulator) -> dict[str, D]:
    snap = client_for(sim).read_snapshot(USER)
    return {c: p.szi * snap.assets[c].reference_price / snap.equity for c, p in snap.positions.items()}


def run(sim: Simulator, tmp_path: Path, mapping: dict[str, float] | None = None, **kw: Any) -> Any:
    settings = kw.pop("settings", twap_settings())
    return run_library(sim, tmp_path, mapping or {"BTC": 0.4, "ETH": 0.3}, settings=settings, sleep=time.sleep, **kw)


def test_the_seed_example_converges_on_native_twaps(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80(), config=SimConfig(twap_slice_seconds=0.05)) as sim:
        report, _, journal = run(sim, tmp_path)
        twaps = sim.twaps(USER)
        w = weights(sim)
        client_orders = list(sim.orders)
    assert report.outcome == "done", report.message
    assert [(o.coin, o.tif, o.status, o.phase) for o in report.orders] == [
        ("BTC", "Twap", "filled", 1),
        ("ETH", "Twap", "filled", 2),
    ]
    assert [t["status"] for t in twaps] == ["finished", "finished"] and client_orders == []
    assert abs(w["BTC"] - D("0.4")) < D("0.002") and abs(w["ETH"] - D("0.3")) < D("0.002")
    btc = report.orders[0]
    assert btc.twap_id == twaps[0]["twap_id"] and len(btc.fills) > 1  # one fill per slice at least
    assert btc.fee == sum((f.fee_usd for f in btc.fills), D(0)) and report.costs.fees_usd == report.fees
    events = [(e["event"], e.get("coin")) for e in journal_entries(journal) if e["event"].startswith("twap")]
    assert events[:2] == [("twap_sent", "BTC"), ("twap_result", None)]
    assert sum(1 for e, _ in events if e == "twap_end") == 2


def test_legs_the_exchange_will_not_twap_are_sliced_within_a_share_of_the_book(tmp_path: Path) -> None:
    doc = make_snapshot({}, cash="0", user=USER, spot={"USDC": "100000"}, mode="unifiedAccount")
    with Simulator(snapshot=doc, config=SimConfig(twap_slice_seconds=0.05, refill="never")) as sim:
        sim.set_book("@107", level_notional=4000, levels=8)  # thin: about $16k within 0.5%
        settings = twap_settings(slice_seconds=D("0.05"), max_book_share=D("0.25"))
        report, _, _ = run(sim, tmp_path, {"BTC": 0.3, "HYPE/USDC": 0.1}, spot=True, settings=settings)
    hype = [o for o in report.orders if o.coin == "HYPE/USDC" and o.style == "twap"]
    assert len(hype) > 3 and all(o.tif == "Ioc" for o in hype)
    assert all(o.size * o.limit_price <= D(4000) * 8 * D("0.25") * D("1.01") for o in hype)
    btc = next(o for o in report.orders if o.coin == "BTC")
    assert btc.tif == "Twap"
    assert report.outcome == "done", report.message


def test_a_guard_during_a_twap_cancels_it(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80(), config=SimConfig(twap_slice_seconds=0.5)) as sim:
        real_set = sim.engine.set_price

        def keep_oracle(coin: str, mid: D, mark: D | None, oracle: D | None) -> None:
            real_set(coin, mid, mark, D("85600") if coin == "BTC" else oracle)

        sim.engine.set_price = keep_oracle  # type: ignore[method-assign]
        sim.move_price_after(8, "BTC", "81000")  # once the BTC TWAP runs: -5.4% off its oracle
        report, _, journal = run(sim, tmp_path)
        twaps = sim.twaps(USER)
    assert int(report.exit_code) == 4 and "oracle" in report.message
    assert [t["status"] for t in twaps] == ["terminated"]
    ends = [e for e in journal_entries(journal) if e["event"] == "twap_end"]
    assert [e["status"] for e in ends] == ["terminated"]


def start(sim: Simulator, tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    settings = {"HLREBAL_STYLE": "twap", "HLREBAL_TWAP_MINUTES": "5", "HLREBAL_POLL_SECONDS": "0.2"}
    return start_execute(sim, tmp_path, {**settings, **env})


def running(sim: Simulator) -> list[dict[str, Any]]:
    return [t for t in sim.twaps(USER) if t["status"] == "activated"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_a_twap_cancels_it(tmp_path: Path, sig: int) -> None:
    with Simulator(snapshot=btc_80(), config=SimConfig(twap_slice_seconds=2)) as sim:  # 20 s a TWAP
        proc = start(sim, tmp_path)
        try:
            wait_for(lambda: len(running(sim)) == 1)
            time.sleep(0.5)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
        twaps = sim.twaps(USER)
    assert proc.returncode == 130, err
    assert [t["status"] for t in twaps] == ["terminated"]
    entries = journal_entries(tmp_path / "journal.jsonl")
    assert [e["status"] for e in entries if e["event"] == "twap_end"] == ["terminated"]
    assert (entries[-1]["event"], entries[-1]["outcome"]) == ("run_end", "interrupted")
    assert json.loads(out)["outcome"] == "interrupted"


def test_a_killed_runs_twap_is_cancelled_and_counted_by_the_next_run(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80(), config=SimConfig(twap_slice_seconds=2)) as sim:
        proc = start(sim, tmp_path)
        try:
            wait_for(lambda: len(running(sim)) == 1 and running(sim)[0]["executed_sz"] > 0)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            proc.kill()
        assert len(running(sim)) == 1  # the TWAP outlives its run
        successor = start(sim, tmp_path, HLREBAL_STYLE="taker")
        out, err = successor.communicate(timeout=60)
        twaps = sim.twaps(USER)
    assert successor.returncode == 0, err
    assert "1 TWAP(s) an earlier run left running" in err
    assert [t["status"] for t in twaps] == ["terminated"]
    [rec] = [e for e in journal_entries(tmp_path / "journal.jsonl") if e["event"] == "reconciled_twap"]
    assert rec["status"] == "terminated" and D(rec["filled_size"]) == twaps[0]["executed_sz"] > 0
    # the successor sold only what the TWAP had not (to a lot or two: it plans at the new prices)
    btc = [o for o in json.loads(out)["orders"] if o["coin"] == "BTC"]
    assert abs(sum(D(o["filled_size"]) for o in btc) + D(rec["filled_size"]) - D("0.46729")) <= D("0.00002")
