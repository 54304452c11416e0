"""A grid replayed in worker processes gives exactly what replaying it here gives, in the grid's order."""

from __future__ import annotations

from decimal import Decimal

from hlrebal.backtest import align, parse_compare, parse_history, universe_of
from hlrebal.backtest.parallel import default_workers, replay_all
from hlrebal.policy import Policy
from hlrebal.targets import weights_from_mapping

from backtest_helpers import demo_snapshot, history_doc, walk


def test_worker_processes_change_nothing_but_the_wall_time() -> None:
    doc = history_doc({"BTC": walk(150, 90_000, 0.012, seed=31), "ETH": walk(150, 3_000, 0.015, seed=32)})
    targets = weights_from_mapping({"BTC": 0.4, "ETH": 0.3})
    universe = universe_of(demo_snapshot(), targets, Policy())
    timeline = align(parse_history(doc, "h.json"), universe.refs)
    jobs = [(v.policy, v.label) for v in parse_compare("band=0.01,0.02,0.05 trade_to=target,edge", Policy())]
    here = replay_all(timeline, universe, targets, jobs, equity=Decimal(10**6), cost_bps=Decimal(2), workers=1)
    there = replay_all(timeline, universe, targets, jobs, equity=Decimal(10**6), cost_bps=Decimal(2), workers=2)
    assert [r.label for r in there] == [label for _, label in jobs]
    assert there == here
    assert [r.equity_series for r in there] == [r.equity_series for r in here]
    assert 1 <= default_workers(12) <= 8 and default_workers(1) == 1
