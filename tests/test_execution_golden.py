"""Every record, message and report field of the main execution paths, against documents recorded
in tests/data/execution/ (the journal a successor and a monitor read, the progress a user watches,
the --json report a script reads). Runs go through the simulator's handler (no HTTP) on a fixed
book, with a clock that moves only when hlrebal waits, so every figure is reproducible.

A change meant to change what is written regenerates the files (``REGOLD_EXECUTION=1 pytest
tests/test_execution_golden.py``) and says why in its commit.
"""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from hlrebal.exchange import OrderSpec
from hlrebal.policy import Policy
from hlrebal.render import execution_json
from hlrebal.sim import Simulator

from execution_kit import USER, btc_80, direct, journal_entries, maker_settings
from factories import make_snapshot

GOLDEN = Path(__file__).parent / "data" / "execution"


class Clock:
    """A run's one clock: it starts at a whole second of the wall clock (the simulator checks a
    dead man's switch against its own) and moves only when hlrebal waits; ``hooks`` run once their
    offset from the start has passed."""

    def __init__(self, hooks: dict[float, Any] | None = None) -> None:
        self.start = float(int(time.time()))
        self.now, self.hooks = self.start, dict(hooks or {})

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for at in sorted(h for h in self.hooks if h <= self.now - self.start):
            self.hooks.pop(at)()


def normalised(journal: Path, report: Any, progress: list[str]) -> dict[str, Any]:
    """The run as a document without what varies between runs (times, ids, the run id)."""
    cloids: dict[str, str] = {}

    def fix(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items() if k not in ("ts", "run", "time", "expires_after")}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, str) and value.startswith("0x") and len(value) == 34:
            return cloids.setdefault(value, f"cloid-{len(cloids) + 1}")
        return value

    entries = journal_entries(journal)
    sent = [e for e in entries if e["event"] == "order_sent"]
    doc = json.loads(json.dumps(execution_json(report)))
    doc.pop("run")
    # whether the endpoint answers userRateLimit depends on the simulator's version, not on the run
    doc["warnings"] = [w for w in doc["warnings"] if "userRateLimit" not in w]
    return {
        "expires_after_ms": sorted({e["expires_after"] - e["ts"] for e in sent}),
        "journal": fix(entries),
        "progress": fix(progress),
        "report": fix(doc),
    }


def check(name: str, doc: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    if os.environ.get("REGOLD_EXECUTION"):
        path.write_text(text)
    assert text == path.read_text(), f"{name}: the run wrote something else (REGOLD_EXECUTION=1 to record it)"


def golden_run(tmp_path: Path, sim: Simulator, client: Any, mapping: dict[str, float], **kw: Any) -> dict[str, Any]:
    """A library-level run on one clock (the executor's, the client's nonces, the journal's)."""
    from hlrebal.execution import Executor
    from hlrebal.journal import Journal
    from hlrebal.planner import plan
    from hlrebal.targets import weights_from_mapping

    progress: list[str] = []
    clock = kw.pop("clock", Clock())
    client.clock = clock
    policy = kw.pop("policy", Policy())
    snap = client.read_snapshot(USER, spot=kw.pop("spot", False))
    targets = weights_from_mapping(mapping)
    confirmed = plan(snap, targets, policy)
    path = tmp_path / "journal.jsonl"
    with Journal(path, "ab" * 8, clock=clock) as journal:
        journal.record("run_start", account=USER, base_url=client.base_url)
        executor = Executor(
            client=client, user=USER, targets=targets, policy=policy, journal=journal,
            progress=progress.append, clock=clock, sleep=clock.sleep, **kw,
        )  # fmt: skip
        report = executor.run(confirmed, snap)
    return normalised(path, report, progress)


def test_golden_taker_run(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    sim.set_book("ETH", level_notional=8000, levels=6)
    check("taker", golden_run(tmp_path, sim, direct(sim), {"BTC": 0.4, "ETH": 0.3}))


def test_golden_lost_answer_and_leverage(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    client.lose["exchange.order"] = 1
    client.lose["exchange.updateLeverage"] = 1
    check(
        "lost_answer_leverage", golden_run(tmp_path, sim, client, {"BTC": 0.4, "ETH": 0.3}, policy=Policy(leverage=3))
    )


def test_golden_open_orders_cancelled_and_rounds(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    sim = Simulator(snapshot=btc_80(), config=SimConfig(refill="per_request"))
    sim.set_book("ETH", level_notional=4000, levels=4)  # the ETH buy needs rounds
    client = direct(sim)
    client.place_orders([OrderSpec("ETH", 1, True, D(1), D(2900), False, "0x" + "7" * 32, "Gtc")], expires_after=None)
    check("open_orders_rounds", golden_run(tmp_path, sim, client, {"BTC": 0.4, "ETH": 0.3}, cancel_open_orders=True))


@pytest.mark.parametrize("lose", [False, True], ids=["transfer", "lost-transfer"])
def test_golden_transfers(tmp_path: Path, lose: bool) -> None:
    sim = Simulator(snapshot=make_snapshot({}, cash="100000", user=USER, spot={"USDC": "0"}))
    client = direct(sim)
    if lose:
        client.lose["exchange.usdClassTransfer"] = 1
    doc = golden_run(tmp_path, sim, client, {"BTC": 0.3, "HYPE/USDC": 0.2, "USDC": 0.5}, spot=True)
    check("lost_transfer" if lose else "transfer", doc)


def test_golden_blocked_transfer(tmp_path: Path) -> None:
    sim = Simulator(snapshot=make_snapshot({}, cash="100000", user=USER, spot={"USDC": "0"}))
    doc = golden_run(
        tmp_path, sim, direct(sim), {"BTC": 0.3, "HYPE/USDC": 0.2, "USDC": 0.5}, spot=True, can_transfer=False
    )
    check("blocked_transfer", doc)


def test_golden_maker_requote_and_patience(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    clock = Clock({0.3: lambda: sim.set_price("BTC", "85400"), 0.7: lambda: sim.set_price("BTC", "85500")})
    settings = maker_settings(patience=D(2))
    check("maker", golden_run(tmp_path, sim, direct(sim), {"BTC": 0.4, "ETH": 0.3}, settings=settings, clock=clock))


def test_golden_maker_stopped(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    stop = {"now": False}
    clock = Clock({0.5: lambda: stop.update(now=True)})
    doc = golden_run(
        tmp_path, sim, direct(sim), {"BTC": 0.4, "ETH": 0.3}, settings=maker_settings(), clock=clock,
        should_stop=lambda: stop["now"],
    )  # fmt: skip
    check("maker_stopped", doc)


def test_golden_refused_by_a_guard_after_orders(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    real_set = sim.engine.set_price

    def keep_oracle(coin: str, mid: D, mark: D | None, oracle: D | None) -> None:
        real_set(coin, mid, mark, D("3050.4") if coin == "ETH" else oracle)

    sim.engine.set_price = keep_oracle  # type: ignore[method-assign]
    client = direct(sim)
    client.before["exchange.order"] = [lambda: sim.set_price("ETH", "3202.9")]
    check("guard_after_orders", golden_run(tmp_path, sim, client, {"BTC": 0.4, "ETH": 0.3}))


def test_the_golden_runs_do_not_depend_on_the_wall_clock() -> None:
    assert time.time() > 0 and GOLDEN.is_dir()
