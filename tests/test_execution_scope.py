"""Executing an approved plan as given: exactly its orders in round 1 (even when prices are stale),
phase 2 cut to the approved sizes, and later rounds finishing only the approved plan's own trades."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path

from hlrebal.execution.scope import Scope
from hlrebal.journal import Journal
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.sim import SimConfig, Simulator
from hlrebal.targets import weights_from_mapping

from execution_kit import USER, btc_80, client_for


def approved_run(sim: Simulator, tmp_path: Path, keep: set[str], **kw: object) -> tuple[object, object]:
    from hlrebal.execution import Executor

    client = client_for(sim)
    snap = client.read_snapshot(USER)
    targets = weights_from_mapping({"BTC": 0.4, "ETH": 0.3, "SOL": 0.1})
    full = plan(snap, targets, Policy())
    approved = full.model_copy(update={"trades": tuple(t for t in full.trades if t.coin in keep)})
    with Journal(tmp_path / "j.jsonl", "ab" * 8) as journal:
        journal.record("run_start", account=USER, base_url=client.base_url)
        executor = Executor(
            client=client, user=USER, targets=targets, policy=Policy(), journal=journal,
            sleep=lambda _: None, scope=Scope.of(approved), **kw,  # type: ignore[arg-type]
        )  # fmt: skip
        return executor.run(approved, snap), approved


def test_only_the_approved_trades_are_placed_and_finished(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80(), config=SimConfig(refill="per_request")) as sim:
        sim.set_book("BTC", level_notional=10_000, levels=3)  # round 1 sells part of the BTC
        report, approved = approved_run(sim, tmp_path, {"BTC", "SOL"})
        coins = {o["coin"] for o in sim.orders}
    assert coins == {"BTC", "SOL"}  # ETH, in the targets but not approved, is never traded
    btc = [o for o in report.orders if o.coin == "BTC"]  # type: ignore[attr-defined]
    assert len(btc) >= 2  # later rounds finished the approved BTC sale ...
    sold = sum((o.filled_size for o in btc), D(0))
    approved_btc = next(t for t in approved.trades if t.coin == "BTC")  # type: ignore[attr-defined]
    assert sold <= approved_btc.size  # ... and never beyond it
    assert all(o.side == "sell" for o in btc)


def test_an_approved_plan_goes_as_given_even_when_prices_are_stale(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        report, approved = approved_run(sim, tmp_path, {"BTC", "ETH"}, clock=lambda: time.time() + 600)
        first = next(o for o in sim.orders if o["coin"] == "BTC")
    btc = next(t for t in approved.trades if t.coin == "BTC")  # type: ignore[attr-defined]
    assert D(str(first["sz"])) == btc.size and D(str(first["px"])) == btc.limit_price
    assert not any("re-made" in w for w in report.warnings)  # type: ignore[attr-defined]


def test_scope_cuts_to_what_is_left_of_the_approved_size() -> None:
    from hlrebal.snapshot import Snapshot

    from factories import make_snapshot

    snap = Snapshot.from_raw(make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952"))
    p = plan(snap, weights_from_mapping({"BTC": 0.4, "ETH": 0.3}), Policy())
    btc = next(t for t in p.trades if t.coin == "BTC")
    scope = Scope.of(p.model_copy(update={"trades": (btc,)}))
    half = (btc.size / 2).quantize(D("0.00001"))
    cut = scope.restrict(p, {"BTC": half})
    assert [(t.coin, t.size) for t in cut.trades] == [("BTC", btc.size - half)]
    assert scope.restrict(p, {"BTC": btc.size}).trades == ()
