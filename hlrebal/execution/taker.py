"""The taker style (the default): every phase in ONE bulk request of IOC limit orders at the planned
limits. What does not fill is re-planned by the engine for the next round, at a wider limit."""

from __future__ import annotations

from hlrebal.execution.models import OrderReport
from hlrebal.execution.style import PhaseJob


class Taker:
    """Immediate-or-cancel limits up to the round's slippage; never leaves an order resting."""

    name = "taker"

    def work(self, job: PhaseJob) -> list[OrderReport]:
        return job.desk.send_trades(job.trades, job.round, job.phase, style=self.name)
