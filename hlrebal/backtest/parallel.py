"""Replaying the policies of a ``--compare`` grid side by side, one worker process per core.

Each policy's replay is independent of the others and deterministic, so running them in worker
processes changes nothing but the wall time: the results come back in the grid's order. The
timeline is handed to each worker once (inherited on fork, pickled otherwise). Workers ignore
Ctrl-C: the parent gets it, stops the pool and lets the interruption propagate.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from typing import Any

from hlrebal.backtest.engine import RunResult, replay
from hlrebal.backtest.timeline import Timeline
from hlrebal.backtest.universe import Universe
from hlrebal.policy import Policy
from hlrebal.targets import Targets

MAX_WORKERS = 8
_shared: dict[str, Any] = {}


def default_workers(jobs: int) -> int:
    """As many workers as there are cores this process may use (at most one per job)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cores = os.cpu_count() or 1
    return max(1, min(jobs, cores, MAX_WORKERS))


def _start(timeline: Timeline, universe: Universe, targets: Targets, equity: Decimal, cost_bps: Decimal) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _shared.update(timeline=timeline, universe=universe, targets=targets, equity=equity, cost_bps=cost_bps)


def _one(job: tuple[Policy, str]) -> RunResult:
    policy, label = job
    s = _shared
    return replay(
        s["timeline"], s["universe"], s["targets"], policy, equity=s["equity"], cost_bps=s["cost_bps"], label=label
    )


def replay_all(
    timeline: Timeline,
    universe: Universe,
    targets: Targets,
    jobs: Sequence[tuple[Policy, str]],
    *,
    equity: Decimal,
    cost_bps: Decimal,
    workers: int | None = None,
) -> list[RunResult]:
    """Every (policy, label) replayed, in order; ``workers=1`` replays them here, one after another."""
    count = default_workers(len(jobs)) if workers is None else max(1, min(workers, len(jobs)))
    if count == 1:
        return [
            replay(timeline, universe, targets, policy, equity=equity, cost_bps=cost_bps, label=label)
            for policy, label in jobs
        ]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=context,
        initializer=_start,
        initargs=(timeline, universe, targets, equity, cost_bps),
    )
    try:
        return list(pool.map(_one, jobs))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
