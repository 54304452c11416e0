"""What became of orders whose answer never arrived: this run's lost answers, and the orders a killed
run left without a result (resolved by the next run before it plans).

Only the exchange knows: every order is asked for by client order id (``orderStatus``), and sizes
and prices come from the account's fills (``userFills``), never from the order's own sizes alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from hlrebal.errors import HlrebalError
from hlrebal.exchange import ExchangeClient, OrderOutcome
from hlrebal.journal import Journal

#: orderStatus statuses under which an order may have filled (fully or in part): it was accepted,
#: then filled, is open, or was cancelled later (by the user, the dead man's switch, a margin or
#: reduce-only check, self-trade prevention, ...); every ``...Rejected`` status filled nothing
_MAY_HAVE_FILLED = frozenset({"filled", "canceled", "open", "triggered", "scheduledCancel"})


def may_have_filled(status: str) -> bool:
    return status in _MAY_HAVE_FILLED or status.endswith("Canceled")


#: after an order request's expiresAfter, how long to wait for clocks that disagree
EXPIRY_MARGIN_S = 1.5
_ZERO = Decimal(0)


def status_to_outcome(
    cloid: str, answer: dict[str, Any], fills: dict[int, tuple[Decimal, Decimal]] | None = None
) -> OrderOutcome:
    """Turn an orderStatus answer into what the order did.

    Only an order the exchange accepted (filled, canceled after a partial fill, open) can have
    filled; every reject status (``iocCancelRejected``, ``perpMarginRejected``, ...) filled nothing,
    whatever its sizes say. The filled size and average price come from the account's fills for the
    order id (``fills``: oid -> (size, notional)) when given, as orderStatus carries no average price.
    """
    if answer.get("status") != "order":
        return OrderOutcome(cloid=cloid, status="error", error="never placed (the exchange does not know it)")
    order = answer.get("order", {})
    inner = order.get("order", {})
    status = str(order.get("status", ""))
    oid = inner.get("oid") if isinstance(inner.get("oid"), int) else None
    if not may_have_filled(status):
        return OrderOutcome(cloid=cloid, status="error", error=f"order {status or 'rejected'}", oid=oid)
    if fills is not None and oid is not None:
        size, notional = fills.get(oid, (_ZERO, _ZERO))
        avg = notional / size if size > 0 else None
    else:
        try:
            orig = Decimal(str(inner.get("origSz", "0")))
            left = Decimal(str(inner.get("sz", "0")))
        except ArithmeticError:
            orig = left = _ZERO
        size = orig - left if status != "filled" else orig
        size = max(size, _ZERO)
        px = inner.get("avgPx") or inner.get("limitPx")
        avg = Decimal(str(px)) if px is not None and size > 0 else None
    if status == "open":
        return OrderOutcome(cloid=cloid, status="resting", filled_size=size, avg_px=avg, oid=oid)
    if size > 0:
        return OrderOutcome(cloid=cloid, status="filled", filled_size=size, avg_px=avg, oid=oid)
    return OrderOutcome(cloid=cloid, status="error", error=f"order {status}, nothing filled", oid=oid)


def fills_by_oid(client: ExchangeClient, user: str) -> dict[int, tuple[Decimal, Decimal]]:
    """The account's recent fills summed per order id: oid -> (size, notional)."""
    out: dict[int, tuple[Decimal, Decimal]] = {}
    for fill in client.user_fills(user):
        oid = fill.get("oid")
        if not isinstance(oid, int):
            continue
        sz = Decimal(str(fill.get("sz", "0")))
        px = Decimal(str(fill.get("px", "0")))
        size, notional = out.get(oid, (_ZERO, _ZERO))
        out[oid] = (size + sz, notional + sz * px)
    return out


def resolve_orders(client: ExchangeClient, user: str, cloids: Sequence[str]) -> list[OrderOutcome]:
    """What became of orders whose answer was lost: orderStatus by cloid, fills from userFills."""
    answers = [client.order_status(user, cloid) for cloid in cloids]
    fills = fills_by_oid(client, user) if any(a.get("status") == "order" for a in answers) else {}
    return [status_to_outcome(cloid, answer, fills) for cloid, answer in zip(cloids, answers, strict=True)]


def reconcile(
    client: ExchangeClient,
    user: str,
    journal: Journal,
    pending: Sequence[Any],
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Resolve orders an earlier run sent without recording a result; record each answer.

    An order of a run killed a moment ago may still be on its way: wait until every pending order's
    ``expiresAfter`` has passed (it can no longer be placed) before asking about it.
    """
    latest = max((int(p.entry.get("expires_after") or 0) for p in pending), default=0)
    wait = latest / 1000 + EXPIRY_MARGIN_S - clock()
    if wait > 0:
        sleep(wait)
    cancel_resting(client, journal, pending)
    results = []
    for order, outcome in zip(pending, resolve_orders(client, user, [p.cloid for p in pending]), strict=True):
        entry = journal.record(
            "reconciled",
            cloid=order.cloid,
            coin=order.coin,
            of_run=order.run,
            status=outcome.status,
            filled_size=outcome.filled_size,
            avg_price=outcome.avg_px,
            error=outcome.error,
        )
        results.append(entry)
    return results


def cancel_resting(client: ExchangeClient, journal: Journal, pending: Sequence[Any]) -> None:
    """Cancel, by client order id, the orders of a killed run that may still rest (post-only and
    good-till-cancel ones): their fills are then final when they are asked for."""
    restable = [p for p in pending if p.entry.get("tif", "Ioc") != "Ioc" and isinstance(p.entry.get("asset"), int)]
    if not restable:
        return
    journal.record("cancel_sent", cloids=[p.cloid for p in restable], at="reconciliation")
    try:
        errors: list[str | None] = client.cancel_by_cloid([(int(p.entry["asset"]), p.cloid) for p in restable])
    except HlrebalError as e:
        errors = [e.message] * len(restable)  # the status read next still says what each order did
    journal.record("cancel_result", cloids=[p.cloid for p in restable], errors=errors)


def reconcile_twaps(
    client: ExchangeClient, user: str, journal: Journal, pending: Sequence[Any]
) -> list[dict[str, Any]]:
    """Cancel the native TWAPs a killed run left running and record what each filled.

    A TWAP whose answer never came is looked up in ``twapHistory`` (same coin, side and size,
    started since it was sent); one the exchange never started is recorded as such.
    """
    from hlrebal.execution.twap import find_twap, twap_states

    history = client.twap_history(user)
    results = []
    for p in pending:
        twap_id = p.twap_id if p.twap_id is not None else find_twap(history, p.coin, p.side, Decimal(p.size), p.sent_ms)
        status, size, notional = "never started", _ZERO, _ZERO
        if twap_id is not None:
            if twap_states(history).get(twap_id) not in ("finished", "terminated", "error"):
                error = client.twap_cancel(p.asset, twap_id)
                journal.record("twap_cancel", key=p.key, twap_id=twap_id, at="reconciliation", error=error)
            history = client.twap_history(user)
            status = twap_states(history).get(twap_id, "unknown")
            for entry in client.user_twap_slice_fills(user):
                fill = entry.get("fill") or {}
                if entry.get("twapId") == twap_id:
                    size += Decimal(str(fill.get("sz", "0")))
                    notional += Decimal(str(fill.get("sz", "0"))) * Decimal(str(fill.get("px", "0")))
        results.append(
            journal.record(
                "reconciled_twap",
                key=p.key,
                coin=p.coin,
                of_run=p.run,
                twap_id=twap_id,
                status=status,
                filled_size=size,
                avg_price=notional / size if size else None,
            )
        )
    return results
