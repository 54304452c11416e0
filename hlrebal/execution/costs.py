"""Fees of the run's fills."""

from __future__ import annotations

from decimal import Decimal

from hlrebal.errors import ExchangeError, HlrebalError
from hlrebal.exchange import ExchangeClient
from hlrebal.execution.models import ExecutionReport
from hlrebal.policy import Policy

_ZERO = Decimal(0)


def fill_fees(client: ExchangeClient, user: str, report: ExecutionReport, policy: Policy) -> None:
    """Realised fees from the account's fills (one request), else estimated from the fee rate."""
    filled = [o for o in report.orders if o.filled_size > 0 and o.oid is not None]
    if not filled:
        return
    by_oid: dict[int, Decimal] = {}
    try:
        for fill in client.user_fills(user):
            oid = fill.get("oid")
            if isinstance(oid, int):
                by_oid[oid] = by_oid.get(oid, _ZERO) + Decimal(str(fill.get("fee", "0")))
    except (ExchangeError, HlrebalError):
        by_oid = {}
    for o in filled:
        if o.oid in by_oid:
            o.fee = by_oid[o.oid]
        elif o.avg_price is not None:
            o.fee = o.filled_size * o.avg_price * policy.fee_rate
