"""Backtest speed: a year of hourly candles (8,760 closes) for 10 coins.

Goals (issue 14): one policy under 2 s; a 12-policy comparison under 15 s, both end to end (the
history file read and checked, the two baselines included). The baseline, measured in the same run,
is the naive loop that calls the planner at every close instead of only when a coin leaves its band.

Run: python benchmarks/bench_backtest.py [--quick]   (--quick: skip the naive baseline)
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from hlrebal.backtest import align, backtest, load_history, replay, save_history, universe_of
from hlrebal.backtest.parallel import default_workers
from hlrebal.backtest.synthetic import Walk, make_history
from hlrebal.config import resolve
from hlrebal.demo import demo_snapshot_doc
from hlrebal.snapshot import Snapshot
from hlrebal.targets import load_targets

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "sample_targets" / "equal_weight_10.json"
GRID = "band=0.02,0.05,0.1 trade_to=target,edge band_relative=off,0.25"
# hourly volatility: about 0.5% for BTC, 0.6-1% for the others
VOLATILITY = {"BTC": 0.005, "ETH": 0.006, "SOL": 0.008, "HYPE": 0.01, "XRP": 0.007, "DOGE": 0.009}


def make_file(folder: Path, snapshot: Snapshot, coins: list[str]) -> Path:
    walks = {c: Walk(float(snapshot.assets[c].reference_price or 1), VOLATILITY.get(c, 0.008)) for c in coins}
    path = folder / "year.json"
    save_history(make_history(walks, interval="1h", count=8760, seed=2026), path)
    return path


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the --compare workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, body: object, goal: float | None = None, baseline: float | None = None) -> float:
    """Run ``body`` once; print its wall and CPU time (the machine may be shared: CPU time shows
    what the work itself costs), against a goal and a baseline."""
    t0, c0 = time.perf_counter(), _cpu()
    body()  # type: ignore[operator]
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    extra = f"   goal < {goal:g} s: {'met' if seconds < goal else 'MISSED'}" if goal else ""
    if baseline:
        extra += f"   ({baseline / seconds:,.1f}x faster than the naive loop's {baseline:.2f} s)"
    print(f"  {label:<60} {seconds:7.3f} s wall {cpu:7.3f} s cpu{extra}")
    return seconds


def main() -> None:
    quick = "--quick" in sys.argv
    snapshot = Snapshot.from_raw(demo_snapshot_doc())
    targets = load_targets(TARGETS)
    resolved = resolve(flags={}, target_policy=targets.policy)
    with tempfile.TemporaryDirectory() as folder:
        path = make_file(Path(folder), snapshot, list(targets.weights))
        print(f"backtest: {len(targets.weights)} coins x 8,760 hourly closes ({path.stat().st_size / 1e6:.1f} MB file)")
        print(
            f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall times stretch on a busy machine)"
        )
        history = load_history(path)
        universe = universe_of(snapshot, targets, resolved.policy)
        timeline = align(history, universe.refs)
        policy = resolved.policy
        money = Decimal(100_000)

        def one(every_close: bool = False) -> None:
            replay(timeline, universe, targets, policy, equity=money, cost_bps=Decimal(2), every_close=every_close)

        naive = (
            None if quick else timed("naive: the planner at every close (one policy, replay only)", lambda: one(True))
        )
        timed("read and check the history file", lambda: load_history(path))
        timed("align the closes and place funding", lambda: align(history, universe.refs))
        timed("one policy, replay only (band check, planner when needed)", one, baseline=naive)

        def run(compare: str | None, workers: int | None = None) -> None:
            backtest(
                resolved, targets, history=path, compare=compare, rules=lambda: (snapshot, "demo"), workers=workers
            )

        timed("one policy, end to end (file, baselines, report)", lambda: run(None), goal=2, baseline=naive)
        naive12 = naive * 12 if naive else None
        timed("12-policy --compare, end to end, in this process", lambda: run(GRID, 1), goal=15, baseline=naive12)
        workers = default_workers(12)
        timed(
            f"12-policy --compare, end to end, {workers} worker processes", lambda: run(GRID), goal=15, baseline=naive12
        )
        if naive12:
            print(f"  (the naive loop for 12 policies: about {naive12:.0f} s, twelve times the one measured)")


if __name__ == "__main__":
    main()
