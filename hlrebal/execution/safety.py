"""Safety for orders that rest: the dead man's switch and the sweep that ends every patient run.

* Before the first resting order of a phase, the switch (``scheduleCancel``) is set to a time that
  covers the phase's patience plus a margin: if hlrebal dies, the exchange cancels every open order
  of the account at that time, so a crash leaves nothing resting for long. A run that ends normally
  clears it. (The switch cancels *all* the account's open orders, not only hlrebal's.)
* On every exit path the engine cancels what the run still has resting and checks with
  ``openOrders`` that none of its orders remain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import partial

from hlrebal.errors import ExchangeError, HlrebalError
from hlrebal.exchange import ExchangeClient
from hlrebal.execution.models import OrderReport
from hlrebal.execution.orders import OrderDesk
from hlrebal.journal import Journal

#: the exchange refuses a switch time less than 5 s ahead; a little more covers the request's trip
MIN_AHEAD_S = 6.0


class DeadMansSwitch:
    """``scheduleCancel`` armed before orders rest, pushed out per phase, cleared at the end."""

    def __init__(
        self,
        client: ExchangeClient,
        journal: Journal,
        *,
        margin: Decimal,
        clock: Callable[[], float],
        progress: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.margin = float(margin)
        self.clock = clock
        self.progress = progress
        self.armed_until: int | None = None

    def arm(self, until_s: float) -> int:
        """Set the switch to ``until_s`` plus the margin (at least 6 s ahead); returns the time (ms)."""
        at = int(max(until_s + self.margin, self.clock() + MIN_AHEAD_S) * 1000)
        self.journal.record("switch_set", time=at)
        self.client.schedule_cancel(at)  # safe to repeat: the last time wins
        self.armed_until = at
        return at

    def clear(self) -> None:
        """Clear the switch after a normal end; a failure is recorded (the switch still fires)."""
        if self.armed_until is None:
            return
        try:
            self.client.schedule_cancel(None)
        except ExchangeError as e:
            self.journal.record("switch_clear_failed", error=e.message)
            self.progress(f"could not clear the dead man's switch ({e.message}); it fires at its time")
            return
        self.journal.record("switch_cleared")
        self.armed_until = None


def still_open(
    client: ExchangeClient, user: str, oids: Iterable[int], dexes: Iterable[str] = ("",)
) -> list[dict[str, object]]:
    """Those of ``oids`` that the exchange still lists among the account's open orders."""
    wanted = set(oids)
    found: list[dict[str, object]] = []
    for dex in dexes:
        found += [o for o in client.open_orders(user, dex) if o.get("oid") in wanted]
    return found


def end_resting(desk: OrderDesk, orders: Sequence[OrderReport], switch: DeadMansSwitch, dexes: Sequence[str]) -> bool:
    """End a run that rested orders: cancel those of ``orders`` the exchange still lists (even when
    the run is stopping), check again, and clear the switch once none remain. False when that could
    not be confirmed (the switch is then left to fire)."""
    mine = {o.oid: o for o in orders if o.oid is not None}
    try:
        for _attempt in range(3):
            left = still_open(desk.client, desk.user, mine, dexes)
            if not left:
                switch.clear()
                return True
            cancels = [(mine[int(str(o["oid"]))].asset, int(str(o["oid"]))) for o in left]
            desk.journal.record("cancel_sent", oids=[oid for _, oid in cancels], at="end of run")
            desk.idempotent(
                partial(desk.client.cancel, cancels), "cancelling the run's resting orders", interruptible=False
            )
            desk.refresh([mine[oid] for _, oid in cancels])
    except HlrebalError as e:
        desk.journal.record("end_check_failed", error=e.message)
    return False
