"""Safety with resting orders on the simulator: partial fills and fills racing a cancel never take a
coin past its goal; a lost cancel answer is retried without doubling anything; SIGKILL leaves
nothing resting after the dead man's switch fires; the rate-limit preflight refuses a run over
budget and says what would fit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.sim import Simulator

from execution_kit import (
    BALANCED,
    ROOT,
    USER,
    PriceMover,
    btc_80,
    journal_entries,
    key_file,
    maker_settings,
    run_library,
    sim_fills,
    sim_has,
    unresolved,
)

pytestmark = sim_has("fill_resting", "fill_resting_before_next", "set_rate_limit")
GOAL = D("0.46729")  # the BTC the seed example sells
runner = CliRunner()


def resting(sim: Simulator) -> list[dict[str, Any]]:
    return sim.handle("info", {"type": "openOrders", "user": USER})[1]


def btc_sold(sim: Simulator) -> D:
    return sum((f["sz"] for f in sim_fills(sim) if f["coin"] == "BTC" and f["side"] == "A"), D(0))


class Script(threading.Thread):
    """Runs ``steps`` one after the other, each when the n-th BTC ask of the run rests."""

    def __init__(self, sim: Simulator, steps: list[Any]) -> None:
        super().__init__(daemon=True)
        self.sim, self.steps, self.seen = sim, steps, 0
        self.stop = threading.Event()

    def run(self) -> None:
        done: set[int] = set()
        while not self.stop.is_set() and self.steps:
            for order in list(self.sim.engine.open_orders.values()):
                if order.coin == "BTC" and order.oid not in done:
                    done.add(order.oid)
                    time.sleep(0.1)
                    self.steps.pop(0)(order.oid)
                    break
            time.sleep(0.02)


def test_a_partly_filled_post_only_order_is_requoted_for_the_rest_only(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim, PriceMover(sim, {"ETH": "3040"}):
        script = Script(
            sim,
            [
                lambda oid: (sim.fill_resting(oid, "0.2"), sim.set_price("BTC", "85400")),  # part, then away
                lambda oid: sim.set_price("BTC", "85500"),  # the replacement fills
            ],
        )
        script.start()
        report, _, journal = run_library(
            sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, settings=maker_settings(), sleep=time.sleep
        )
        script.stop.set()
        sold = btc_sold(sim)
        assert resting(sim) == [] and unresolved(journal) == []
    btc = [o for o in report.orders if o.coin == "BTC"]
    assert [(o.status, o.size, o.filled_size) for o in btc] == [
        ("partial", GOAL, D("0.2")),
        ("filled", GOAL - D("0.2"), GOAL - D("0.2")),
    ]
    assert btc[1].limit_price < btc[0].limit_price and sold == GOAL
    assert report.outcome == "done", report.message


def test_a_fill_racing_the_cancel_never_takes_a_coin_past_its_goal(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim, PriceMover(sim, {"ETH": "3040"}):
        script = Script(
            sim,
            [
                # half the ask fills just before the requote's cancel reaches the exchange
                lambda oid: (sim.fill_resting_before_next("cancel", fraction="0.5"), sim.set_price("BTC", "85400")),
                lambda oid: sim.set_price("BTC", "85500"),
            ],
        )
        script.start()
        report, _, journal = run_library(
            sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, settings=maker_settings(), sleep=time.sleep
        )
        script.stop.set()
        sold = btc_sold(sim)
        assert resting(sim) == [] and unresolved(journal) == []
    first, second = (o for o in report.orders if o.coin == "BTC")
    assert first.status == "partial" and D(0) < first.filled_size < GOAL
    assert second.size == GOAL - first.filled_size  # sized from the fill read after the cancel
    assert sold == GOAL and report.outcome == "done"


def test_a_cancel_whose_answer_is_lost_is_asked_again_and_nothing_doubles(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim, PriceMover(sim, {"ETH": "3040"}):
        script = Script(
            sim,
            [
                lambda oid: (
                    sim.drop_next(1, endpoint="exchange", action_type="cancel", when="after"),
                    sim.set_price("BTC", "85400"),
                ),
                lambda oid: sim.set_price("BTC", "85500"),
            ],
        )
        script.start()
        report, _, journal = run_library(
            sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, settings=maker_settings(), sleep=time.sleep
        )
        script.stop.set()
        sold = btc_sold(sim)
        assert resting(sim) == [] and unresolved(journal) == []
        cancels = sim.counts["exchange.cancel"]
    assert [o.status for o in report.orders if o.coin == "BTC"] == ["cancelled", "filled"]
    assert sold == GOAL and cancels >= 2  # the lost cancel was sent again (it is safe to repeat)


def test_sigkill_during_the_maker_wait_leaves_nothing_resting_after_the_switch(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    env = {**os.environ, "HLREBAL_HOME": str(tmp_path / "home"), "HLREBAL_STYLE": "maker"}
    env |= {"HLREBAL_REQUOTE_SECONDS": "0.2", "HLREBAL_PATIENCE": "3", "HLREBAL_SWITCH_MARGIN": "1"}
    cmd = [sys.executable, "-m", "hlrebal", "execute", str(BALANCED), "--key-file", str(key_file(tmp_path))]
    cmd += ["--journal", str(journal), "--yes", "--json"]
    with Simulator(snapshot=btc_80()) as sim:
        proc = subprocess.Popen(
            [*cmd, "--api-url", sim.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env
        )
        try:
            deadline = time.monotonic() + 30
            while not resting(sim):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            proc.kill()
        switch = next(e["time"] for e in journal_entries(journal) if e["event"] == "switch_set")
        assert resting(sim) and switch - time.time() * 1000 < 10_000
        time.sleep(max(0.0, switch / 1000 - time.time() + 0.5))
        assert resting(sim) == []  # the exchange cancelled it at the switch's time
        taker = {**env, "HLREBAL_STYLE": "taker"}
        successor = subprocess.run(
            [*cmd, "--api-url", sim.url], capture_output=True, text=True, cwd=ROOT, env=taker, timeout=60
        )
        assert successor.returncode == 0, successor.stderr
        rec = [e for e in journal_entries(journal) if e["event"] == "reconciled"]
        assert [(e["status"], D(e["filled_size"])) for e in rec] == [("error", D(0))]
        assert "scheduledCancel" in rec[0]["error"]
        assert btc_sold(sim) == GOAL  # sold once, by the successor


def test_the_preflight_refuses_a_run_over_the_request_budget_and_says_what_fits(tmp_path: Path) -> None:
    def execute(sim: Simulator, *extra: str) -> Any:
        args = ["execute", str(BALANCED), "--api-url", sim.url, "--key-file", str(key_file(tmp_path))]
        args += ["--journal", str(tmp_path / "journal.jsonl"), "--yes", "--json", "--style", "maker", *extra]
        return runner.invoke(app, args)

    with Simulator(snapshot=btc_80()) as sim:
        sim.set_rate_limit(USER, used=9_950, cap=10_000)  # 50 requests left
        refused = execute(sim, "--patience", "120", "--requote-seconds", "5")
        assert refused.exit_code == 4, refused.stdout
        message = json.loads(refused.stdout)["message"]
        assert "requests against the address budget, which has 50 left" in message
        assert not any(k.startswith("exchange.") for k in sim.counts)  # nothing was sent, not even the switch
        seconds = int(message.split("raise --requote-seconds to ")[1].split()[0])
        with PriceMover(sim, {"BTC": "85700", "ETH": "3040"}):
            fits = execute(sim, "--patience", "120", "--requote-seconds", str(seconds))
        assert fits.exit_code == 0, fits.stdout
