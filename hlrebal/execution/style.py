"""The one interface every execution style implements.

A style is handed one phase's trades (all reductions, or all increases) with the round they belong
to, and works them until they are done, its time is up or the run is stopped; it returns a report
per order it placed. Everything a style shares with the others (placing, journaling, cancelling,
guards, the read-back) lives outside it, in the :class:`~hlrebal.execution.orders.OrderDesk` and the
engine, so that adding a style touches no other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from hlrebal.execution.models import OrderReport
from hlrebal.execution.orders import OrderDesk
from hlrebal.planner import Trade
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot


def _no_guard(trades: Sequence[Trade], snap: Snapshot, filled: Decimal) -> Snapshot:
    return snap


@dataclass
class PhaseJob:
    """One phase of one round: the trades, where they were planned, and the run's shared parts."""

    trades: Sequence[Trade]
    round: int
    phase: int
    snapshot: Snapshot
    """The snapshot the trades were planned on (prices, markets, oracles)."""
    policy: Policy
    desk: OrderDesk
    guard: Callable[[Sequence[Trade], Snapshot, Decimal], Snapshot] = field(default=_no_guard)
    """Re-checks the run's guards for trades about to be (re)sent at fresh prices, with the notional
    (at reference prices) this phase has already filled; raises GuardError. Returns the snapshot
    to go on with: a price off the oracle is checked again on a fresh read of the markets."""


class Style(Protocol):
    """An execution algorithm: how one phase's trades become orders."""

    #: the name users choose it by (``--style``)
    name: str

    def work(self, job: PhaseJob) -> list[OrderReport]:
        """Work ``job.trades`` until done, timed out or stopped; return a report per order placed."""
        ...
