"""Market flow: seeded random walk of mids, Poisson takers against resting orders in
price-time priority, trade-through fills, determinism, real time and restarts."""

from __future__ import annotations

import itertools
import math
import statistics
import time
from decimal import Decimal
from pathlib import Path

from hlrebal.sim import ManualClock, SimConfig, Simulator
from hlrebal.sim.config import FlowConfig

from sim_helpers import D, funded, info, limit, statuses


def _sim(flow: FlowConfig | None, clock: ManualClock | None = None) -> Simulator:
    """A sim on a manual clock (starting at the wall clock, so SDK nonces are accepted)."""
    return Simulator(clock=clock or ManualClock(), config=SimConfig(tick_seconds=0, flow=flow))


def _path(seed: int, steps: int, coin: str = "BTC") -> list[Decimal]:
    sim = _sim(FlowConfig(seed=seed, taker_rate=0))
    out = []
    for _ in range(steps):
        sim.advance(1)
        mid = sim.mid(coin)
        assert mid is not None
        out.append(mid)
    return out


def test_without_flow_the_books_stay_fixed() -> None:
    sim = _sim(None)
    before = {c: sim.mid(c) for c in ("BTC", "ETH", "@107")}
    sim.advance(120)
    assert {c: sim.mid(c) for c in before} == before


def test_the_walk_is_deterministic_for_a_seed_and_has_its_volatility() -> None:
    first, again, other = _path(7, 300), _path(7, 300), _path(8, 300)
    assert first == again and first != other
    flow = FlowConfig(seed=3, volatility=Decimal("0.001"), taker_rate=0)
    sim = _sim(flow)
    mids = []
    for _ in range(2000):
        sim.advance(1)
        mids.append(float(sim.mid("ETH") or 0))
    returns = [math.log(b / a) for a, b in itertools.pairwise(mids)]
    assert 0.0009 < statistics.stdev(returns) < 0.0011
    assert abs(statistics.mean(returns)) < 0.0001


def test_mark_and_oracle_keep_their_gap_to_the_mid() -> None:
    sim = _sim(FlowConfig(seed=1, taker_rate=0))
    sim.set_price("ETH", "3000", mark="3003", oracle="2997")
    sim.advance(30)
    [ctx] = [c for m, c in zip(*_ctxs(sim), strict=False) if m["name"] == "ETH"]
    mid, mark, oracle = D(ctx["midPx"]), D(ctx["markPx"]), D(ctx["oraclePx"])
    assert mid != 3000
    assert abs(mark / mid - D("1.001")) < D("1e-8") and abs(oracle / mid - D("0.999")) < D("1e-8")


def _ctxs(sim: Simulator) -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
    meta, ctxs = sim.handle("info", {"type": "metaAndAssetCtxs"})[1]
    return meta["universe"], ctxs


def test_takers_fill_a_resting_bid_at_the_touch_as_maker() -> None:
    flow = FlowConfig(seed=11, volatility=Decimal(0), taker_rate=2, taker_size=Decimal(5000))
    with _sim(flow) as sim:
        sim.set_book("ETH", level_notional=2000)  # a short queue in front of us
        key, ex = funded(sim)
        [resting] = statuses(ex.order("ETH", True, 1.0, 3050.0, limit("Alo")))
        oid = resting["resting"]["oid"]
        sim.advance(60)
        fills = info(sim).user_fills(key.address)
        assert fills and all(f["oid"] == oid and f["crossed"] is False and f["px"] == "3050.0" for f in fills)
        total = sum(D(f["sz"]) for f in fills)
        assert total == 1
        assert sum(D(f["fee"]) for f in fills) == total * D("3050.0") * D("0.00015")  # the maker fee


def test_an_order_inside_the_spread_is_first_in_line_and_a_deep_one_waits() -> None:
    flow = FlowConfig(seed=5, volatility=Decimal(0), taker_rate=1, taker_size=Decimal(500))
    with _sim(flow) as sim:
        key, ex = funded(sim)
        [inside] = statuses(ex.order("ETH", False, 0.5, 3050.5, limit("Alo")))  # best ask is 3050.8
        [behind] = statuses(ex.order("ETH", False, 0.5, 3050.8, limit("Alo")))  # behind $250k of queue
        sim.advance(120)
        fills = info(sim).user_fills(key.address)
        assert {f["oid"] for f in fills} == {inside["resting"]["oid"]}
        assert [o["oid"] for o in info(sim).open_orders(key.address)] == [behind["resting"]["oid"]]


def test_a_falling_price_trades_through_a_resting_bid() -> None:
    flow = FlowConfig(seed=2, volatility=Decimal("0.002"), taker_rate=0)
    with _sim(flow) as sim:
        key, ex = funded(sim)
        [resting] = statuses(ex.order("ETH", True, 0.2, 3030.0, limit("Gtc")))
        for _ in range(600):
            sim.advance(1)
            if not info(sim).open_orders(key.address):
                break
        mid = sim.mid("ETH")
        assert mid is not None and mid < 3032
        [fill] = info(sim).user_fills(key.address)
        assert (fill["oid"], fill["px"], fill["crossed"]) == (resting["resting"]["oid"], "3030.0", False)


def test_fills_are_the_same_for_the_same_seed_and_requests() -> None:
    def run() -> list[tuple[str, str, int]]:
        flow = FlowConfig(seed=9, volatility=Decimal("0.0003"), taker_rate=3, taker_size=Decimal(20_000))
        with _sim(flow) as sim:
            sim.set_book("ETH", level_notional=20_000)
            key, ex = funded(sim)
            statuses(ex.order("ETH", True, 2.0, 3050.0, limit("Alo")))
            statuses(ex.order("ETH", False, 2.0, 3050.8, limit("Alo")))
            start = sim.now
            sim.advance(90)
            return [(f["px"], f["sz"], f["time"] - start) for f in info(sim).user_fills(key.address)]

    first = run()
    assert first and first == run()


def test_flow_runs_in_real_time_without_requests() -> None:
    flow = FlowConfig(seed=1, step_seconds=0.05, volatility=Decimal("0.001"), taker_rate=0)
    with Simulator(config=SimConfig(flow=flow, tick_seconds=0.02)) as sim:
        before = sim.engine.market.perp_by_name["BTC"].mid
        deadline = time.monotonic() + 3
        while sim.engine.market.perp_by_name["BTC"].mid == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sim.engine.market.perp_by_name["BTC"].mid != before


def test_a_restarted_sim_continues_the_same_path(tmp_path: Path) -> None:
    flow = FlowConfig(seed=4, taker_rate=1)
    straight = _sim(flow)
    straight.advance(60)
    state = tmp_path / "state.json"
    clock = ManualClock(straight.now - 60_000)
    first = Simulator(clock=clock, config=SimConfig(tick_seconds=0, flow=flow), state=state, autosave=True)
    first.advance(30)
    first.save()
    second = Simulator(clock=clock, config=SimConfig(tick_seconds=0, flow=flow), state=state)
    second.advance(30)
    assert second.mid("BTC") == straight.mid("BTC") and second.mid("@107") == straight.mid("@107")
