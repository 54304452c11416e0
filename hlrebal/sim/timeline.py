"""The sim's clock-driven processes, run in time order up to "now".

Each process says when it is next due and runs one step at that time; ``advance`` runs the
earliest due step, again and again, until nothing is due by ``until``. Steps run with the
engine's ``now()`` set to their own time, so fills and cancels carry the time they were due,
however late the sim noticed (a request, the background ticker or ``sim.advance``). The order
at equal times: prices first (history replay, market flow), then funding, TWAP slices and
scheduled cancels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from hlrebal.sim import schedule, twap

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine


class Process(Protocol):
    def next_due(self, engine: Engine) -> int | None: ...

    def run(self, engine: Engine, t: int) -> None: ...


def processes(engine: Engine) -> list[Process]:
    """The processes of this engine, in their order of precedence."""
    from hlrebal.sim import flow, funding, history

    return [history, flow, funding, twap, schedule]


def advance(engine: Engine, until: int) -> bool:
    """Run everything due up to ``until``; returns whether anything ran."""
    ran = False
    procs = processes(engine)
    while True:
        best: tuple[int, Process] | None = None
        for proc in procs:
            due = proc.next_due(engine)
            if due is not None and due <= until and (best is None or due < best[0]):
                best = (due, proc)
        if best is None:
            break
        engine._event_time = best[0]
        try:
            best[1].run(engine, best[0])
        finally:
            engine._event_time = None
        ran = True
    engine.last_tick = until if engine.last_tick is None else max(engine.last_tick, until)
    return ran
