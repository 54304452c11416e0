"""The twap style: each perp leg as a native Hyperliquid TWAP order; legs the exchange will not TWAP
(spot, builder-dex perps, anything under its minimum) sliced by hlrebal itself.

A phase (reductions first, then the increases re-planned against the margin actually freed):

1. every TWAP-able leg becomes one ``twapOrder`` (asset, side, size, reduce-only, ``twap_minutes``,
   randomize), journaled before it is sent and with its TWAP id after; the exchange sends a
   sub-order about every 30 s, each at most 3% through the mid;
2. the other legs are sliced here: ``twap_minutes x 2`` IOC slices, one every ``slice_seconds``,
   each on schedule (catching up at most 3x a normal slice) and at most ``max_book_share`` of the
   depth the book shows within the round's slippage, all due slices in ONE request;
3. every ``poll_seconds`` the slice fills (``userTwapSliceFills``) and the TWAPs' states
   (``twapHistory``) are read, progress is reported, and the price guard is checked on fresh mids;
4. Ctrl-C, SIGTERM or a guard cancel every running TWAP (``twapCancel``) before the run stops.

What a TWAP did not fill is left to the taker rounds that follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from functools import partial
from typing import Any

from hlrebal.errors import ExchangeError, HlrebalError
from hlrebal.exchange import OrderAnswerLost
from hlrebal.execution.models import OrderReport, WorkedTrade
from hlrebal.execution.orders import Placement
from hlrebal.execution.style import PhaseJob
from hlrebal.execution_settings import ExecutionSettings
from hlrebal.market import MIN_ORDER_VALUE, limit_price, lot_size
from hlrebal.planner import Trade
from hlrebal.snapshot import AssetMarket

#: the exchange's floors for a TWAP's value: $100, and $10 a minute (sim/twap.py cites the sources)
TWAP_MIN_VALUE = Decimal(100)
TWAP_MIN_PER_MINUTE = Decimal(10)
#: the exchange sends two sub-orders a minute; hlrebal's own slicing keeps the same count
SLICES_PER_MINUTE = 2
CATCH_UP = 3
ENDED = frozenset({"finished", "terminated", "error"})
_ZERO = Decimal(0)


def twap_able(trade: Trade, market: AssetMarket, minutes: int) -> bool:
    """Whether the exchange takes ``trade`` as a native TWAP: a main-dex perp worth at least $100
    and $10 a minute (spot TWAPs are unverified, builder dexes unknown: hlrebal slices those)."""
    if market.is_spot or market.dex or trade.dust:
        return False
    value = trade.size * trade.reference_price
    return value >= TWAP_MIN_VALUE and value >= TWAP_MIN_PER_MINUTE * minutes


@dataclass
class _Native:
    trade: Trade
    report: OrderReport
    status: str = "activated"


@dataclass
class _OwnLeg(WorkedTrade):
    trade: Trade
    market: AssetMarket
    slices: int
    done: int = 0
    orders: list[OrderReport] = field(default_factory=list)


def visible_depth(book: dict[str, Any], is_buy: bool, limit: Decimal) -> Decimal:
    """What the book shows on the side a taker trades against, up to ``limit``."""
    levels = book.get("levels")
    if not isinstance(levels, list) or len(levels) < 2:
        return _ZERO
    side = levels[1] if is_buy else levels[0]
    total = _ZERO
    for level in side if isinstance(side, list) else []:
        px = Decimal(str(level["px"]))
        if (is_buy and px > limit) or (not is_buy and px < limit):
            break
        total += Decimal(str(level["sz"]))
    return total


def slice_size(leg: _OwnLeg, depth: Decimal, share: Decimal, price: Decimal) -> Decimal:
    """The next own slice of ``leg``: on schedule (at most 3x a normal slice to catch up), at most
    ``share`` of the visible depth, at least the exchange's minimum value when what is left allows."""
    lot = lot_size(leg.market.sz_decimals)
    normal = leg.trade.size / leg.slices
    due = leg.trade.size * (leg.done + 1) / leg.slices - leg.filled
    size = min(due, normal * CATCH_UP, depth * share, leg.remaining)
    size = max(size, _ZERO).quantize(lot, rounding=ROUND_DOWN)
    if size * price < MIN_ORDER_VALUE and price > 0:
        floor = (MIN_ORDER_VALUE / price).quantize(lot, rounding=ROUND_UP)
        size = floor if floor <= leg.remaining else (leg.remaining if leg.trade.dust else _ZERO)
    return size


class Twap:
    """Native TWAPs where the exchange takes them, hlrebal's own slices elsewhere."""

    name = "twap"

    def __init__(self, settings: ExecutionSettings) -> None:
        self.settings = settings
        #: the last progress line said, so that a poll that changed nothing says nothing
        self._said = ""

    def work(self, job: PhaseJob) -> list[OrderReport]:
        natives: list[_Native] = []
        own: list[_OwnLeg] = []
        minutes = self.settings.twap_minutes
        for t in job.trades:
            market = job.snapshot.market_of(t.coin)
            if market is None:
                continue
            if twap_able(t, market, minutes):
                natives.append(_Native(t, self._report(t, job)))
            else:
                own.append(_OwnLeg(t, market, max(1, minutes * SLICES_PER_MINUTE)))
        try:
            for n in natives:
                self._start(n, job)
            self._follow(natives, own, job)
        except BaseException:
            self._cancel(natives, job, quiet=True)
            raise
        self._cancel(natives, job)
        return [n.report for n in natives] + [o for leg in own for o in leg.orders]

    # ------------------------------------------------------------------ native TWAPs

    def _report(self, t: Trade, job: PhaseJob) -> OrderReport:
        cloid = job.desk.next_cloid(job.round, job.phase)
        return OrderReport.of(t, round=job.round, phase=job.phase, cloid=cloid, tif="Twap", style=self.name)

    def _start(self, n: _Native, job: PhaseJob) -> None:
        """One twapOrder, journaled before and after; a lost answer is looked up, never resent."""
        desk, rep, t = job.desk, n.report, n.trade
        desk.check_stop(f"before the TWAPs of round {job.round} phase {job.phase}")
        sent_at = int(desk.clock() * 1000)
        desk.journal.record(
            "twap_sent",
            key=rep.cloid,
            round=job.round,
            phase=job.phase,
            coin=t.coin,
            asset=t.asset_id,
            side=t.side,
            size=t.size,
            reduce_only=t.reduce_only,
            minutes=self.settings.twap_minutes,
            randomize=self.settings.twap_randomize,
        )
        desk.report.orders.append(rep)
        desk.progress(
            f"round {job.round} phase {job.phase}: {t.coin} {t.side} {t.size} as a TWAP over "
            f"{self.settings.twap_minutes} min"
        )
        try:
            rep.twap_id = desk.client.twap_order(
                asset=t.asset_id,
                coin=t.coin,
                is_buy=t.is_buy,
                size=t.size,
                reduce_only=t.reduce_only,
                minutes=self.settings.twap_minutes,
                randomize=self.settings.twap_randomize,
            )
            rep.status = "running"
        except OrderAnswerLost as e:
            rep.twap_id = find_twap(desk.client.twap_history(desk.user), t.coin, t.side, t.size, sent_at)
            rep.status, rep.error = ("running", None) if rep.twap_id is not None else ("error", e.message)
        except ExchangeError as e:
            rep.status, rep.error = "error", e.message
        n.status = "activated" if rep.twap_id is not None else "error"
        desk.journal.record("twap_result", key=rep.cloid, twap_id=rep.twap_id, status=rep.status, error=rep.error)

    def _follow(self, natives: list[_Native], own: list[_OwnLeg], job: PhaseJob) -> None:
        desk = job.desk
        poll, step = float(self.settings.poll_seconds), float(self.settings.slice_seconds)
        # a safety deadline on the run's own clock: the exchange's TWAPs end by themselves
        deadline = desk.clock() + self.settings.twap_minutes * 60 + float(self.settings.switch_margin)
        next_slice = desk.clock()
        next_poll = desk.clock() + min(poll, step)
        while True:
            now = desk.clock()
            slicing = any(leg.done < leg.slices and leg.remaining > 0 for leg in own)
            if slicing and now >= next_slice:
                self._slice(own, job)
                next_slice = now + step
            running = [n for n in natives if n.status not in ENDED]
            if running and now >= next_poll:
                self._poll(natives, job)
                next_poll = now + poll
            if not [n for n in natives if n.status not in ENDED] and not any(
                leg.done < leg.slices and leg.remaining > 0 for leg in own
            ):
                return
            if now >= deadline:
                return
            # (a slice time past, once the own legs are done, is no time to wake up for: no busy wait)
            desk.wait(max(0.0, min(next_poll if running else deadline, next_slice if slicing else deadline) - now))
            desk.check_stop(f"during the TWAPs of round {job.round} phase {job.phase}")

    def _poll(self, natives: list[_Native], job: PhaseJob) -> None:
        """Slice fills and TWAP states; progress; the price guard on fresh mids."""
        desk = job.desk
        fills = desk.client.user_twap_slice_fills(desk.user)
        states = twap_states(desk.client.twap_history(desk.user))
        for n in natives:
            if n.report.twap_id is None:
                continue
            apply_slice_fills(n.report, fills)
            n.status = states.get(n.report.twap_id, n.status)
        done = sum((n.report.filled_size * n.trade.reference_price for n in natives), _ZERO)
        total = sum((n.trade.size * n.trade.reference_price for n in natives), _ZERO)
        line = f"round {job.round} phase {job.phase}: TWAPs {done / total * 100:.0f}% done" if total else ""
        if line and line != self._said:
            desk.progress(line)
            self._said = line
        self._guard(natives, job)

    def _guard(self, natives: list[_Native], job: PhaseJob) -> None:
        running = [n for n in natives if n.status not in ENDED]
        if not running:
            return
        mids = job.desk.client.info({"type": "allMids"})
        trades = []
        for n in running:
            mid = mids.get(n.trade.coin) if isinstance(mids, dict) else None
            price = Decimal(str(mid)) if mid is not None else n.trade.reference_price
            trades.append(n.trade.model_copy(update={"size": n.report.remaining, "reference_price": price}))
        filled = sum((n.report.filled_size * n.trade.reference_price for n in natives), _ZERO)
        job.snapshot = job.guard(trades, job.snapshot, filled)

    def _cancel(self, natives: list[_Native], job: PhaseJob, *, quiet: bool = False) -> None:
        """Cancel every running TWAP (even when stopping), then record what each did."""
        desk = job.desk
        try:
            for n in natives:
                if n.report.twap_id is not None and n.status not in ENDED:
                    desk.journal.record("twap_cancel", key=n.report.cloid, twap_id=n.report.twap_id)
                    cancel = partial(desk.client.twap_cancel, n.trade.asset_id, n.report.twap_id)
                    error = desk.idempotent(cancel, f"cancelling the {n.trade.coin} TWAP", interruptible=False)
                    n.status = "terminated" if error is None else n.status
            if any(n.report.twap_id is not None for n in natives):
                self._final(natives, job)
        except HlrebalError as e:
            if not quiet:
                raise
            desk.journal.record("cancel_failed", error=e.message)

    def _final(self, natives: list[_Native], job: PhaseJob) -> None:
        desk = job.desk
        fills = desk.client.user_twap_slice_fills(desk.user)
        states = twap_states(desk.client.twap_history(desk.user))
        for n in natives:
            rep = n.report
            if rep.twap_id is None:
                continue
            apply_slice_fills(rep, fills)
            n.status = states.get(rep.twap_id, n.status)
            rep.status = "filled" if rep.filled_size >= rep.size else "partial" if rep.filled_size > 0 else n.status
            desk.journal.record(
                "twap_end",
                key=rep.cloid,
                twap_id=rep.twap_id,
                status=n.status,
                filled_size=rep.filled_size,
                avg_price=rep.avg_price,
            )

    # ------------------------------------------------------------------ own slices

    def _slice(self, own: list[_OwnLeg], job: PhaseJob) -> None:
        """The due slice of every own leg, in ONE request of IOC orders."""
        desk = job.desk
        placements: list[Placement] = []
        legs: list[_OwnLeg] = []
        for leg in own:
            if leg.done >= leg.slices or leg.remaining <= 0:
                continue
            book = desk.client.l2_book(leg.market.wire or leg.market.coin)
            levels = book.get("levels") or [[], []]
            best = [Decimal(str(side[0]["px"])) for side in levels[:2] if side]
            mid = sum(best, _ZERO) / len(best) if len(best) == 2 else leg.trade.reference_price
            price = limit_price(
                mid, leg.trade.is_buy, job.policy.slippage, leg.market.sz_decimals, spot=leg.market.is_spot
            )
            size = slice_size(leg, visible_depth(book, leg.trade.is_buy, price), self.settings.max_book_share, price)
            leg.done += 1  # after its size: slice k brings the leg to k/slices of its size, not (k+1)/slices
            if size > 0:
                placements.append(Placement(leg.trade, size, price))
                legs.append(leg)
        if not placements:
            return
        trades = [p.trade.model_copy(update={"size": p.size, "limit_price": p.limit_price}) for p in placements]
        filled = sum((leg.filled * leg.trade.reference_price for leg in own), _ZERO)
        job.snapshot = job.guard(trades, job.snapshot, filled)
        for leg, rep in zip(legs, desk.send(placements, job.round, job.phase, style=self.name), strict=True):
            leg.orders.append(rep)


def twap_states(history: list[dict[str, Any]]) -> dict[int, str]:
    """The latest status of every TWAP in a ``twapHistory`` answer."""
    out: dict[int, str] = {}
    for entry in history:
        twap_id, status = entry.get("twapId"), entry.get("status")
        if isinstance(twap_id, int) and isinstance(status, dict):
            out[twap_id] = str(status.get("status"))
    return out


def find_twap(history: list[dict[str, Any]], coin: str, side: str, size: Decimal, since_ms: int) -> int | None:
    """The TWAP a lost answer was about: same coin, side and size, started since it was sent."""
    wire_side = "B" if side == "buy" else "A"
    for entry in history:
        state = entry.get("state") or {}
        if (
            state.get("coin") == coin
            and state.get("side") == wire_side
            and Decimal(str(state.get("sz", "0"))) == size
            and int(state.get("timestamp") or 0) >= since_ms - 5_000
            and isinstance(entry.get("twapId"), int)
        ):
            return int(entry["twapId"])
    return None


def apply_slice_fills(rep: OrderReport, answer: list[dict[str, Any]]) -> None:
    """A TWAP report's filled size, average price and fills from ``userTwapSliceFills``."""
    fills = [e["fill"] for e in answer if e.get("twapId") == rep.twap_id and isinstance(e.get("fill"), dict)]
    if not fills:
        return
    from hlrebal.execution.costs import parse_fill

    rep.fills = [parse_fill(rep, {**f, "oid": f.get("oid", 0)}) for f in reversed(fills)]
    size = sum((f.size for f in rep.fills), _ZERO)
    rep.filled_size = size
    rep.avg_price = sum((f.notional for f in rep.fills), _ZERO) / size if size else None
    rep.fee = sum((f.fee_usd for f in rep.fills), _ZERO)
