"""Planner speed: plan() on synthetic accounts of 10, 100 and 1,000 assets (goal: 1,000 under 50 ms).

Run: python benchmarks/bench_planner.py
Prints the median and best wall time of plan() (snapshot parsing excluded, reported separately).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from factories import make_snapshot


def scenario(n: int, seed: int = 7) -> tuple[Snapshot, object]:
    rng = random.Random(seed)
    market = []
    for i in range(n):
        szd = rng.randint(0, 5)
        price = Decimal(rng.randint(10_000, 99_999)) * Decimal(10) ** (rng.randint(-3, 1) + 4 - szd - 4)
        market.append((f"C{i:04d}", szd, 20, str(price.normalize())))
    equity = Decimal(10_000_000)
    positions = {}
    invested = Decimal(0)
    for name, szd, _, px in market[: n // 2]:
        w = Decimal(rng.randint(-100, 200)) / Decimal(100 * n)
        size = (w * equity / Decimal(px)).quantize(Decimal(10) ** -szd)
        if size:
            positions[name] = (str(size), 5)
            invested += size * Decimal(px)
    doc = make_snapshot(positions, cash=str(equity - invested), market=market)
    weights = {name: Decimal(1) / Decimal(n + 1) for name, *_ in market}
    return Snapshot.from_raw(doc), weights_from_mapping({k: round(v, 8) for k, v in weights.items()})


def main() -> None:
    print("planner: plan() wall time (median / best of runs)")
    for n in (10, 100, 1000):
        t0 = time.perf_counter()
        snap, targets = scenario(n)
        parse_ms = (time.perf_counter() - t0) * 1000
        policy = Policy(band=Decimal("0.0001"))
        runs = 30 if n < 1000 else 15
        times = []
        result = None
        for _ in range(runs):
            t = time.perf_counter()
            result = plan(snap, targets, policy)  # type: ignore[arg-type]
            times.append((time.perf_counter() - t) * 1000)
        assert result is not None
        print(
            f"  {n:>5} assets: median {statistics.median(times):7.2f} ms  best {min(times):7.2f} ms  "
            f"({len(result.trades)} trades; building the snapshot took {parse_ms:.1f} ms)"
        )
    print("  goal: 1,000 assets under 50 ms")


if __name__ == "__main__":
    main()
