"""The dead man's switch: ``scheduleCancel``.

From the exchange's documentation (Exchange endpoint, "Schedule cancel"): "Not including time
will remove the scheduled cancel operation. The time must be at least 5 seconds after the
current time. Once the time comes, all open orders will be canceled and a trigger count will
be incremented. The max number of triggers per day is 10. This trigger count is reset at
00:00 UTC." Orders it cancels end with status "scheduledCancel" (the exchange's order-status
list). The exchange also refuses a schedule from an address that has not traded enough
("Cannot set scheduled cancel time until enough volume traded. Required: $..."); the amount
is not published, so the sim asks for ``SimConfig.schedule_cancel_min_volume`` (default 0).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from hlrebal.sim.accounts import Account

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine

CENTS = Decimal("0.01")
DAY_MS = 86_400_000
MIN_LEAD_MS = 5_000
MAX_TRIGGERS = 10
# nktkas/hyperliquid's tests record this text from the testnet API.
TOO_EARLY = "Scheduled cancel time too early, must be at least 5 seconds from now."
# The exchange's binary strings show these prefixes; the tails are GUESSES.
TOO_MANY = "Too many scheduled cancels triggered for the day. Limit is {limit}."
NEEDS_VOLUME = "Cannot set scheduled cancel time until enough volume traded. Required: ${required}."


def set_schedule(engine: Engine, acct: Account, when: int | None) -> str | None:
    """Arm (``when``) or clear (None) the account's switch; returns the refusal, if any."""
    if when is None:
        acct.scheduled_cancel = None
        return None
    now = engine.now()
    needed = engine.config.schedule_cancel_min_volume
    if acct.cum_vlm < needed:
        return NEEDS_VOLUME.format(required=format(needed.quantize(CENTS), "f"))
    if when < now + MIN_LEAD_MS:
        return TOO_EARLY
    day, fired = acct.cancel_triggers
    if day == now // DAY_MS and fired >= MAX_TRIGGERS:
        return TOO_MANY.format(limit=MAX_TRIGGERS)
    acct.scheduled_cancel = when
    return None


def next_due(engine: Engine) -> int | None:
    """The earliest armed switch."""
    times = [a.scheduled_cancel for a in engine.accounts.values() if a.scheduled_cancel is not None]
    return min(times) if times else None


def run(engine: Engine, t: int) -> None:
    """Fire every switch due at ``t``: cancel all of the account's open orders."""
    for acct in engine.accounts.values():
        if acct.scheduled_cancel is not None and acct.scheduled_cancel <= t:
            fire(engine, acct, t)


def fire(engine: Engine, acct: Account, t: int) -> None:
    acct.scheduled_cancel = None
    for order in sorted(engine.orders_of(acct.address), key=lambda o: o.oid):
        engine.cancel_order(order, t, "scheduledCancel")
    day, fired = acct.cancel_triggers
    today = t // DAY_MS
    acct.cancel_triggers = (today, fired + 1 if day == today else 1)
