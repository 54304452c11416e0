"""Order bookkeeping shared by every style: client order ids, the journal before and after every
request, lost answers resolved by client order id, and what each answer means for its report.

An order request whose answer is lost is never sent again: after its ``expiresAfter`` has passed (so
it can no longer be placed late), every order of it is asked for by client order id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from hlrebal.exchange import ExchangeClient, OrderAnswerLost, OrderOutcome, OrderSpec
from hlrebal.execution.models import ExecutionReport, OrderReport
from hlrebal.execution.reconciliation import EXPIRY_MARGIN_S, resolve_orders, status_to_outcome
from hlrebal.journal import Journal, is_min_value_refusal
from hlrebal.planner import Trade

EXPIRES_AFTER_MS = 5_000
#: how often an action that is safe to repeat (set leverage, cancel) is tried when its answer is lost
IDEMPOTENT_ATTEMPTS = 3

Tif = Literal["Ioc", "Gtc", "Alo"]
#: the exchange's answer to a post-only order that would have crossed the book
POST_ONLY_CROSSED = "Post only order would have immediately matched"


@dataclass(frozen=True)
class Placement:
    """One order to place for a trade: the trade's own size and limit, or a style's (a requote)."""

    trade: Trade
    size: Decimal
    limit_price: Decimal
    tif: Tif = "Ioc"

    @classmethod
    def of(cls, trade: Trade, tif: Tif = "Ioc") -> Placement:
        return cls(trade, trade.size, trade.limit_price, tif)


class OrderDesk:
    """Places, journals and resolves the run's orders; every style sends through one desk."""

    def __init__(
        self,
        *,
        client: ExchangeClient,
        user: str,
        journal: Journal,
        report: ExecutionReport,
        run_id: str,
        progress: Callable[[str], None],
        check_stop: Callable[[str], None],
        refused_dust: dict[str, str],
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.client = client
        self.stopping = stopping
        self.user = user
        self.journal = journal
        self.report = report
        self.run_id = run_id
        self.progress = progress
        self.check_stop = check_stop
        self.refused_dust = refused_dust
        self.clock = clock
        self.sleep = sleep
        self._seq = 0

    def wait(self, seconds: float, step: float = 0.25) -> None:
        """Sleep up to ``seconds`` in short steps, returning early once the run is asked to stop
        (a Ctrl-C during a long maker wait is honoured within a step, not at the next requote)."""
        deadline = self.clock() + seconds
        while not self.stopping():
            left = deadline - self.clock()
            if left <= 0:
                return
            self.sleep(min(step, left))

    def next_cloid(self, n_round: int, phase: int) -> str:
        """The run id, round and phase in hex, then a sequence number: traceable to its run."""
        self._seq += 1
        return f"0x{self.run_id[:16]}{n_round:02x}{phase:02x}{self._seq:012x}"

    def send_trades(
        self, trades: Sequence[Trade], n_round: int, phase: int, *, style: str = "taker"
    ) -> list[OrderReport]:
        """Every trade at its planned size and limit, IOC, in one bulk request."""
        return self.send([Placement.of(t) for t in trades], n_round, phase, style=style)

    def send(
        self, placements: Sequence[Placement], n_round: int, phase: int, *, style: str = "taker"
    ) -> list[OrderReport]:
        """One bulk request for ``placements``; every order journaled before, every status after."""
        if not placements:
            return []
        self.check_stop(f"before the phase {phase} orders of round {n_round}")
        specs: list[OrderSpec] = []
        reports: list[OrderReport] = []
        for p in placements:
            t = p.trade
            cloid = self.next_cloid(n_round, phase)
            specs.append(OrderSpec(t.coin, t.asset_id, t.is_buy, p.size, p.limit_price, t.reduce_only, cloid, p.tif))
            report = OrderReport.of(t, round=n_round, phase=phase, cloid=cloid, tif=p.tif, style=style, size=p.size,
                                    limit_price=p.limit_price)  # fmt: skip
            reports.append(report)
        expires = int(self.clock() * 1000) + EXPIRES_AFTER_MS
        for spec, rep in zip(specs, reports, strict=True):
            self.journal.record(
                "order_sent",
                cloid=spec.cloid,
                round=n_round,
                phase=phase,
                coin=spec.coin,
                asset=spec.asset,
                side=rep.side,
                action=rep.action,
                size=spec.size,
                limit_price=spec.limit_px,
                reference_price=rep.reference_price,
                reduce_only=spec.reduce_only,
                dust=rep.dust,
                tif=spec.tif,
                expires_after=expires,
            )
        self.report.orders.extend(reports)
        self.progress(f"round {n_round} phase {phase}: sending {len(specs)} order(s) in one request")
        try:
            outcomes = self.client.place_orders(specs, expires_after=expires)
        except OrderAnswerLost as e:
            self.progress(f"round {n_round} phase {phase}: {e.message}; asking for each order by client id")
            self.journal.record("answer_lost", round=n_round, phase=phase, error=e.message)
            outcomes = self._recover(specs, expires)
        for rep, out in zip(reports, outcomes, strict=True):
            self.apply(rep, out)
            self.record_result(rep)
        return reports

    def record_result(self, rep: OrderReport) -> None:
        self.journal.record(
            "order_result",
            cloid=rep.cloid,
            coin=rep.coin,
            status=rep.status,
            filled_size=rep.filled_size,
            avg_price=rep.avg_price,
            oid=rep.oid,
            error=rep.error,
        )

    def _recover(self, specs: Sequence[OrderSpec], expires: int) -> list[OrderOutcome]:
        """After a lost answer: wait until the request has expired (and a margin for clocks that
        disagree), then ask for every cloid; sizes and prices come from the account's fills."""
        wait = expires / 1000 - self.clock() + EXPIRY_MARGIN_S
        if wait > 0:
            self.sleep(wait)
        return resolve_orders(self.client, self.user, [spec.cloid for spec in specs])

    def apply(self, rep: OrderReport, out: OrderOutcome) -> None:
        """What an answer says of an order; a dust close refused for its size is remembered."""
        rep.status = "partial" if out.status == "filled" and out.filled_size < rep.size else out.status
        if rep.tif == "Alo" and out.error and POST_ONLY_CROSSED in out.error:
            rep.status = "requoted"  # the touch moved while the order travelled: quote again
        rep.filled_size = out.filled_size
        rep.avg_price = out.avg_px
        rep.oid = out.oid
        rep.error = out.error
        if rep.dust and out.status == "error" and out.error and is_min_value_refusal(out.error):
            self.refused_dust[rep.coin] = format(rep.size, "f")
            self.report.warnings.append(
                f"{rep.coin}: the exchange will not close this dust position ({rep.size}) with a reduce-only "
                f"order below $10 ({out.error}); it is left as it is and not retried"
            )

    def idempotent(self, action: Callable[[], Any], what: str, *, interruptible: bool = True) -> Any:
        """Run an action that is safe to repeat (set leverage, cancel): a lost answer is retried.

        ``interruptible=False`` for the cancels that end a phase or a stopped run: they must go out
        even when the run is stopping.
        """
        for attempt in range(IDEMPOTENT_ATTEMPTS):
            try:
                return action()
            except OrderAnswerLost as e:
                if attempt == IDEMPOTENT_ATTEMPTS - 1:
                    raise
                self.progress(f"{what}: {e.message}; trying again (it is safe to repeat)")
                self.sleep(0.5 * (attempt + 1))
                if interruptible:
                    self.check_stop(f"before retrying {what}")
        return None

    # ------------------------------------------------------------------ resting orders

    def refresh(self, reports: Sequence[OrderReport]) -> None:
        """Ask the exchange what each resting order has done (orderStatus by cloid); record every
        order that is no longer resting. Sizes of maker fills are exact; their price is the limit."""
        for rep in reports:
            if rep.status != "resting":
                continue
            out = status_to_outcome(rep.cloid, self.client.order_status(self.user, rep.cloid))
            self.settle(rep, out)

    def settle(self, rep: OrderReport, out: OrderOutcome) -> None:
        """Apply a status read of a resting order; once it is final, journal its result."""
        rep.filled_size = max(rep.filled_size, out.filled_size)
        if rep.filled_size > 0 and out.avg_px is not None:
            rep.avg_price = out.avg_px
        if out.status == "resting":
            return
        if rep.filled_size >= rep.size:
            rep.status = "filled"
        elif rep.filled_size > 0:
            rep.status = "partial"
        elif out.error and ("canceled" in out.error.lower() or "scheduledcancel" in out.error.lower()):
            rep.status = "cancelled"
        else:
            rep.status, rep.error = "error", out.error
        self.record_result(rep)

    def cancel(self, reports: Sequence[OrderReport], *, interruptible: bool = True) -> list[OrderReport]:
        """Cancel the resting ones of ``reports`` in ONE request, then read what each did (a fill may
        race the cancel: the status read after it is the truth). Returns those still resting (a
        cancel whose answer was lost three times, or refused)."""
        live = [r for r in reports if r.status == "resting" and r.oid is not None]
        if not live:
            return []
        pairs = [(r.asset, int(r.oid)) for r in live if r.oid is not None]
        self.journal.record("cancel_sent", cloids=[r.cloid for r in live])
        try:
            errors = self.idempotent(
                lambda: self.client.cancel(pairs), "cancelling resting orders", interruptible=interruptible
            )
        except OrderAnswerLost as e:
            errors = [e.message] * len(live)
        self.journal.record("cancel_result", cloids=[r.cloid for r in live], errors=errors)
        self.refresh(live)
        return [r for r in live if r.status == "resting"]
