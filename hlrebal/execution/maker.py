"""The maker style (maker-first): post-only limits at the touch, requoted as the touch moves; what is
left when patience runs out goes to the taker rounds that follow.

A phase:

1. the dead man's switch is set to cover the patience plus a margin;
2. each coin's book is read (``l2Book``) and each trade becomes ONE post-only (``Alo``) order at the
   touch, best bid for a buy, best ask for a sell (one tick inside the spread when it is wider than
   a tick, so that the order leads its queue), reduce-only for reductions: ONE bulk request;
3. every ``requote_seconds`` the resting orders' statuses and the books are read; orders the touch
   has left (a bid under the best bid, an ask over the best ask) are cancelled in ONE request, their
   final fills read, and the rest re-posted at the new touch in ONE request, after the run's guards
   have been checked on them. A post-only order that would have crossed is simply quoted again;
4. when every trade has filled, patience is out or the run is stopped, what rests is cancelled.

A coin never goes past its goal: a replacement is sized from the fills read *after* its
predecessor's cancel, so a fill that races the cancel is counted before the next order goes out.
A quote never goes beyond the arrival price +/- ``max_slippage``: past that, the order waits there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hlrebal.errors import GuardError, HlrebalError
from hlrebal.execution.models import OrderReport, WorkedTrade
from hlrebal.execution.orders import Placement
from hlrebal.execution.safety import DeadMansSwitch
from hlrebal.execution.style import PhaseJob
from hlrebal.execution_settings import ExecutionSettings
from hlrebal.market import MIN_ORDER_VALUE, Rounding, limit_price, price_step, round_price
from hlrebal.planner import Trade
from hlrebal.snapshot import AssetMarket

_ZERO = Decimal(0)


@dataclass(frozen=True)
class Touch:
    """The best bid and ask of a coin's book (None for an empty side)."""

    bid: Decimal | None
    ask: Decimal | None

    @property
    def mid(self) -> Decimal | None:
        return (self.bid + self.ask) / 2 if self.bid is not None and self.ask is not None else None


@dataclass
class _Leg(WorkedTrade):
    """One trade of the phase and the orders that have worked it."""

    trade: Trade
    market: AssetMarket
    orders: list[OrderReport] = field(default_factory=list)

    @property
    def live(self) -> OrderReport | None:
        last = self.orders[-1] if self.orders else None
        return last if last is not None and last.status == "resting" else None


def touch_of(book: dict[str, object]) -> Touch:
    """The touch of an ``l2Book`` answer."""
    levels = book.get("levels")
    sides: list[Decimal | None] = [None, None]
    if isinstance(levels, list):
        for i, side in enumerate(levels[:2]):
            if isinstance(side, list) and side and isinstance(side[0], dict):
                sides[i] = Decimal(str(side[0]["px"]))
    return Touch(sides[0], sides[1])


def quote_price(trade: Trade, market: AssetMarket, touch: Touch, max_slippage: Decimal) -> Decimal | None:
    """Where a post-only order for ``trade`` goes: at the touch, one tick inside a wide spread, never
    beyond the trade's reference price +/- ``max_slippage``; None when its side of the book is empty."""
    spot, szd = market.is_spot, market.sz_decimals
    if trade.is_buy:
        if touch.bid is None:
            return None
        price = round_price(touch.bid + price_step(touch.bid, szd, spot=spot), szd, Rounding.FLOOR, spot=spot)
        if touch.ask is not None and price >= touch.ask:
            price = touch.bid
        cap = limit_price(trade.reference_price, True, max_slippage, szd, spot=spot)
        return min(price, cap)
    if touch.ask is None:
        return None
    price = round_price(touch.ask - price_step(touch.ask, szd, spot=spot), szd, Rounding.CEILING, spot=spot)
    if touch.bid is not None and price <= touch.bid:
        price = touch.ask
    cap = limit_price(trade.reference_price, False, max_slippage, szd, spot=spot)
    return max(price, cap)


def left_behind(order: OrderReport, touch: Touch) -> bool:
    """Whether the touch has left ``order``: a better bid (ask) than its price rests in the book.
    An order at the touch is part of it (the book shows it): it keeps its place in the queue."""
    if order.is_buy:
        return touch.bid is not None and touch.bid > order.limit_price
    return touch.ask is not None and touch.ask < order.limit_price


def improves(order: OrderReport, price: Decimal) -> bool:
    """Whether ``price`` is nearer the touch than where ``order`` rests (not held back by the cap)."""
    return price > order.limit_price if order.is_buy else price < order.limit_price


class Maker:
    """Post-only at the touch first; the taker rounds finish what patience did not."""

    name = "maker"

    def __init__(self, settings: ExecutionSettings, switch: DeadMansSwitch | None = None) -> None:
        self.settings = settings
        self.switch = switch

    def work(self, job: PhaseJob) -> list[OrderReport]:
        desk = job.desk
        if self.settings.patience <= 0:
            return []
        legs = []
        for t in job.trades:
            market = job.snapshot.market_of(t.coin)
            if market is not None:
                legs.append(_Leg(t, market))
        deadline = desk.clock() + float(self.settings.patience)
        if self.switch is not None:
            self.switch.arm(deadline)
        try:
            self._work(legs, job, deadline)
        except BaseException:
            self._cancel_all(legs, job, quiet=True)
            raise
        self._cancel_all(legs, job)
        filled = sum((leg.filled for leg in legs), _ZERO)
        desk.progress(
            f"round {job.round} phase {job.phase}: post-only orders filled {sum(1 for g in legs if g.remaining <= 0)}"
            f"/{len(legs)} trade(s) ({filled.normalize():f} in size); the rest goes to taker rounds"
            if any(leg.remaining > 0 for leg in legs)
            else f"round {job.round} phase {job.phase}: every trade filled by post-only orders"
        )
        return [o for leg in legs for o in leg.orders]

    def _work(self, legs: list[_Leg], job: PhaseJob, deadline: float) -> None:
        desk = job.desk
        while True:
            self._quote(legs, job)
            if all(leg.remaining <= 0 for leg in legs):
                return
            wait = deadline - desk.clock()
            if wait <= 0:
                return
            desk.wait(min(float(self.settings.requote_seconds), wait))
            desk.check_stop(f"during the maker wait of round {job.round} phase {job.phase}")
            desk.refresh([leg.live for leg in legs if leg.live is not None])
            if all(leg.remaining <= 0 for leg in legs):
                return

    def _touches(self, legs: list[_Leg], job: PhaseJob) -> dict[str, Touch]:
        out: dict[str, Touch] = {}
        for leg in legs:
            wire = leg.market.wire or leg.market.coin
            out[leg.trade.coin] = touch_of(job.desk.client.l2_book(wire))
        return out

    def _quote(self, legs: list[_Leg], job: PhaseJob) -> None:
        """Read the books; cancel the orders the touch has left; post every remainder at the touch."""
        desk = job.desk
        working = [leg for leg in legs if leg.remaining > 0]
        if not working:
            return
        touches = self._touches(working, job)
        prices = {
            leg.trade.coin: quote_price(leg.trade, leg.market, touches[leg.trade.coin], job.policy.max_slippage)
            for leg in working
        }
        stale = []
        for leg in working:
            price, live = prices[leg.trade.coin], leg.live
            touch = touches[leg.trade.coin]
            if live is not None and price is not None and left_behind(live, touch) and improves(live, price):
                stale.append(live)
        desk.cancel(stale)  # the fills read after it size the replacements
        placements: list[Placement] = []
        for leg in working:
            price = prices[leg.trade.coin]
            if leg.live is not None or leg.remaining <= 0 or price is None:
                continue
            if leg.remaining * price < MIN_ORDER_VALUE:
                continue  # under the exchange's minimum: the taker rounds (or the band) decide
            placements.append(Placement(leg.trade, leg.remaining, price, "Alo"))
        if not placements:
            return
        self._guard(placements, legs, touches, job)
        by_trade = {id(leg.trade): leg for leg in legs}
        for p, rep in zip(placements, desk.send(placements, job.round, job.phase, style=self.name), strict=True):
            by_trade[id(p.trade)].orders.append(rep)

    def _guard(self, placements: list[Placement], legs: list[_Leg], touches: dict[str, Touch], job: PhaseJob) -> None:
        """The run's guards on the orders about to go out, at the book's mid (turnover counts what
        this phase has filled so far)."""
        trades = []
        for p in placements:
            mid = touches[p.trade.coin].mid or p.limit_price
            update = {
                "size": p.size,
                "limit_price": p.limit_price,
                "reference_price": mid,
                "notional": p.size * p.limit_price,
            }
            trades.append(p.trade.model_copy(update=update))
        filled = sum((leg.filled * leg.trade.reference_price for leg in legs), _ZERO)
        job.snapshot = job.guard(trades, job.snapshot, filled)

    def _cancel_all(self, legs: list[_Leg], job: PhaseJob, *, quiet: bool = False) -> None:
        """Cancel what rests (even when the run is stopping); ``quiet`` when another error is on its
        way out: a failure is journaled, and the dead man's switch still covers the order."""
        live = [leg.live for leg in legs if leg.live is not None]
        try:
            left = job.desk.cancel(live, interruptible=False)
        except HlrebalError as e:
            if not quiet:
                raise
            job.desk.journal.record("cancel_failed", error=e.message)
            return
        if left and not quiet:
            raise GuardError(
                f"{len(left)} post-only order(s) could not be cancelled ({', '.join(o.coin for o in left)})",
                hint="check the account's open orders; the dead man's switch cancels them at its time",
            )
