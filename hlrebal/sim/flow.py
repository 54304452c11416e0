"""Market flow: a seeded random walk of each mid and Poisson taker arrivals (SimConfig.flow).

Every ``step_seconds`` of the sim's clock, for each moving coin in a fixed order:
1. the mid takes a log-normal step, ``mid x exp(volatility x sqrt(step) x Z)``, and the mark
   and oracle move by the same factor (their gap to the mid is kept); the synthetic book is
   rebuilt around the new mid, and resting orders the new book crosses fill at their limit
   price as makers (the price traded through them);
2. ``Poisson(taker_rate x step)`` anonymous takers arrive, each selling or buying (even odds)
   ``Exponential(taker_size)`` USD at market against the book: the synthetic depth and the
   accounts' resting orders, in price-time priority (book.py: the synthetic size displayed at
   a resting order's price when it was placed is the queue ahead of it). Resting orders they
   reach fill as makers, at the maker fee.

The random numbers depend only on the seed and the number of steps taken, so a run is
deterministic for a seed and the same sequence of requests and time steps (drive time with
``ManualClock`` and ``sim.advance``); with the wall clock it runs in real time.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hlrebal.sim import book as orderbook
from hlrebal.sim.config import FlowConfig
from hlrebal.sim.datarecord import record
from hlrebal.sim.market import Instrument, PerpAsset
from hlrebal.sim.numbers import ZERO, round_size_down

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine

SIG_DIGITS = 10


@record
class FlowState:
    config: FlowConfig
    rng: random.Random
    next_step: int | None = None
    steps: int = 0

    @property
    def step_ms(self) -> int:
        return max(1, round(self.config.step_seconds * 1000))


def state_of(engine: Engine) -> FlowState | None:
    return engine.flow_state


def attach(engine: Engine) -> None:
    """Give the engine its flow state when the config asks for market flow."""
    config = engine.config.flow
    if config is None:
        engine.flow_state = None
        return
    engine.flow_state = FlowState(config, random.Random(config.seed))
    engine.flow_state.next_step = engine.clock() + engine.flow_state.step_ms


def next_due(engine: Engine) -> int | None:
    state = state_of(engine)
    if state is None:
        return None
    now = engine.clock()
    if state.next_step is None:
        state.next_step = now + state.step_ms
    behind = (now - state.next_step) // state.step_ms
    if behind > state.config.max_catch_up_steps:  # a long pause: skip, do not replay it all
        state.next_step += (behind - state.config.max_catch_up_steps) * state.step_ms
    return state.next_step


def run(engine: Engine, t: int) -> None:
    state = state_of(engine)
    if state is None:
        return
    state.next_step = t + state.step_ms
    state.steps += 1
    for inst in moving(engine, state.config):
        _walk(engine, state, inst)
        _arrivals(engine, state, inst)


def moving(engine: Engine, config: FlowConfig) -> list[Instrument]:
    """The coins the flow moves, in a fixed order (perps, spot pairs, builder-dex perps)."""
    coins = set(config.coins) if config.coins is not None else None
    out = []
    for inst in engine.market.all_instruments():
        if inst.book_mid is not None and (coins is None or inst.coin in coins):
            out.append(inst)
    return out


def _scale(value: Decimal | None, factor: Decimal) -> Decimal | None:
    if value is None:
        return None
    return round_sig(value * factor)


def round_sig(value: Decimal) -> Decimal:
    """``value`` to 10 significant digits (mids need no more)."""
    if value == 0:
        return value
    return value.quantize(Decimal(1).scaleb(value.adjusted() - SIG_DIGITS + 1))


def _walk(engine: Engine, state: FlowState, inst: Instrument) -> None:
    sigma = float(state.config.volatilities.get(inst.coin, state.config.volatility))
    z = state.rng.gauss(0.0, 1.0)
    factor = Decimal(repr(math.exp(sigma * math.sqrt(state.config.step_seconds) * z)))
    centre = _scale(inst.book_mid, factor)
    assert centre is not None
    mark = _scale(inst.mark, factor) or centre
    oracle = (_scale(inst.oracle, factor) if isinstance(inst, PerpAsset) else None) or mark
    # a coin without a mid (its book centred on the mark) keeps no mid
    engine.move_price(inst, _scale(inst.mid, factor), mark, oracle)


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: fine for the small rates of one step."""
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _arrivals(engine: Engine, state: FlowState, inst: Instrument) -> None:
    config = state.config
    count = _poisson(state.rng, config.taker_rate * config.step_seconds)
    mean = float(config.taker_size)
    for _ in range(count):
        is_buy = state.rng.random() < 0.5
        notional = Decimal(repr(state.rng.expovariate(1 / mean))) if mean > 0 else ZERO
        mid = inst.book_mid
        if mid is None or mid <= 0:
            return
        take(engine, inst, is_buy, round_size_down(notional / mid, inst.sz_decimals))


def take(engine: Engine, inst: Instrument, is_buy: bool, size: Decimal) -> Decimal:
    """An anonymous market order of ``size``: consumes synthetic depth and fills the resting
    orders it reaches as makers. Returns what it traded."""
    if size <= 0:
        return ZERO
    plan = orderbook.sweep(engine.market, engine.config, engine.open_orders, inst, is_buy, size, None, None)
    now = engine.now()
    for oid, ahead in plan.ahead.items():
        if oid in engine.open_orders:
            engine.open_orders[oid].ahead = ahead
    traded = ZERO
    for part in plan.takes:
        if part.order is not None:
            traded += engine.fill_resting(part.order, part.qty, part.px, now)
        elif part.level is not None:
            engine.market.consume(inst.coin, not is_buy, part.level.rank, part.qty)
            traded += part.qty
    return traded


def dump(engine: Engine) -> Any:
    state = state_of(engine)
    if state is None:
        return None
    version, internal, gauss = state.rng.getstate()
    return {"rng": [version, list(internal), gauss], "next_step": state.next_step, "steps": state.steps}


def restore(engine: Engine, data: Any) -> None:
    """Resume the flow where a saved state left it (same seed path), if the config has flow."""
    attach(engine)
    state = state_of(engine)
    if state is None or not isinstance(data, dict):
        return
    version, internal, gauss = data["rng"]
    state.rng.setstate((version, tuple(internal), gauss))
    state.next_step, state.steps = data.get("next_step"), data.get("steps", 0)
