"""The order book a taker meets: the synthetic depth of market.py merged with the accounts'
resting orders, in price-time priority.

At a price where the synthetic book also rests, a user order stands behind the synthetic size
that was displayed there when it was placed (``RestingOrder.ahead``, which only shrinks as
takers trade at that price); at a price of its own (inside the spread, say) it is first in
line. A taker walks the levels best first; at each it takes the synthetic queue ahead of the
first user order, that order, the queue ahead of the next one, ..., then the rest of the
synthetic size. A taker's own resting orders are not matched but expire (self-trade
prevention: the exchange cancels the resting order, status "selfTradeCanceled").

Nothing here changes state: ``sweep`` plans, the engine commits.
"""

from __future__ import annotations

from decimal import Decimal

from hlrebal.sim.accounts import RestingOrder
from hlrebal.sim.config import SimConfig
from hlrebal.sim.datarecord import field, record
from hlrebal.sim.market import Instrument, Level, Market
from hlrebal.sim.numbers import ZERO


@record(frozen=True)
class Take:
    """Part of a taker's fill: from the synthetic ``level`` or from a resting user ``order``."""

    px: Decimal
    qty: Decimal
    level: Level | None = None
    order: RestingOrder | None = None


@record
class Sweep:
    """What a taker would do: its takes in order, the own orders it expires, and the queue
    ahead of the user orders it passed without reaching them."""

    takes: list[Take] = field(default_factory=list)
    self_trades: list[RestingOrder] = field(default_factory=list)
    ahead: dict[int, Decimal] = field(default_factory=dict)

    @property
    def filled(self) -> Decimal:
        return sum((t.qty for t in self.takes), ZERO)


def resting(open_orders: dict[int, RestingOrder], coin: str, is_buy: bool) -> list[RestingOrder]:
    """User orders resting on one side of ``coin``, best price first, then oldest first."""
    side = [o for o in open_orders.values() if o.coin == coin and o.is_buy == is_buy]
    return sorted(side, key=lambda o: (-o.limit_px if is_buy else o.limit_px, o.oid))


def display(
    market: Market, config: SimConfig, open_orders: dict[int, RestingOrder], inst: Instrument
) -> tuple[list[tuple[Decimal, Decimal, int]], list[tuple[Decimal, Decimal, int]]]:
    """Bids and asks as the l2Book shows them: (px, size, number of orders), best first."""
    bids, asks = market.levels(inst, config)
    out = []
    for is_bid, synthetic in ((True, bids), (False, asks)):
        merged: dict[Decimal, list[Decimal | int]] = {lv.px: [lv.sz, 1] for lv in synthetic}
        for order in resting(open_orders, inst.coin, is_bid):
            entry = merged.setdefault(order.limit_px, [ZERO, 0])
            entry[0] = Decimal(entry[0]) + order.sz
            entry[1] = int(entry[1]) + 1
        prices = sorted(merged, reverse=is_bid)
        out.append([(px, Decimal(merged[px][0]), int(merged[px][1])) for px in prices])
    return out[0], out[1]


def touch(
    market: Market, config: SimConfig, open_orders: dict[int, RestingOrder], inst: Instrument
) -> tuple[Decimal | None, Decimal | None]:
    """Best bid and best ask, resting user orders included."""
    bids, asks = display(market, config, open_orders, inst)
    return (bids[0][0] if bids else None), (asks[0][0] if asks else None)


def sweep(
    market: Market,
    config: SimConfig,
    open_orders: dict[int, RestingOrder],
    inst: Instrument,
    taker_buy: bool,
    size: Decimal,
    limit: Decimal | None,
    taker: str | None,
) -> Sweep:
    """The takes of a taker buying (``taker_buy``) or selling ``size`` up to ``limit`` (None:
    no limit); ``taker`` is its account (None for the anonymous market flow)."""
    bids, asks = market.levels(inst, config)
    synthetic = {lv.px: lv for lv in (asks if taker_buy else bids)}
    users: dict[Decimal, list[RestingOrder]] = {}
    for order in resting(open_orders, inst.coin, not taker_buy):
        users.setdefault(order.limit_px, []).append(order)
    prices = sorted(set(synthetic) | set(users), reverse=not taker_buy)
    plan = Sweep()
    left = size
    for px in prices:
        if left <= 0 or (limit is not None and (px > limit if taker_buy else px < limit)):
            break
        left = _level(plan, px, synthetic.get(px), users.get(px, []), left, taker)
    return plan


def _level(
    plan: Sweep, px: Decimal, level: Level | None, orders: list[RestingOrder], left: Decimal, taker: str | None
) -> Decimal:
    """Walk one price level; returns the size still to take."""
    depth = level.sz if level is not None else ZERO
    taken = ZERO  # synthetic size taken at this price so far

    def take_synthetic(limit: Decimal) -> None:
        nonlocal left, taken
        qty = min(left, max(ZERO, limit - taken))
        if qty > 0:
            plan.takes.append(Take(px, qty, level=level))
            taken += qty
            left -= qty

    for order in orders:
        queue = min(order.ahead, depth)
        if taker is not None and order.account == taker:
            if left > 0:
                plan.self_trades.append(order)
            continue
        take_synthetic(queue)
        if left <= 0:
            plan.ahead[order.oid] = max(ZERO, queue - taken)
            continue
        plan.ahead[order.oid] = ZERO
        qty = min(left, order.sz)
        plan.takes.append(Take(px, qty, order=order))
        left -= qty
    take_synthetic(depth)
    return left
