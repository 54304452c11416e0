"""Clocks for the simulator: the wall clock, and a manual one that tests move by hand.

Every timed process of the sim (TWAP slices, scheduled cancels, funding, market flow, history
replay) runs off the simulator's clock in epoch milliseconds, never off ``time.time()``
directly, so that a test can drive them deterministically: ``Simulator(clock=ManualClock())``
and ``sim.advance(seconds)``.
"""

from __future__ import annotations

import time


def wall_clock() -> int:
    """Now, in epoch milliseconds."""
    return int(time.time() * 1000)


class ManualClock:
    """A clock that stands still until moved: ``clock.advance(1.5)`` or ``clock.set(ms)``.

    Starts at ``start_ms`` (default: the wall clock at creation, so that SDK nonces, which
    are wall-clock milliseconds, stay inside the exchange's two-day window).
    """

    def __init__(self, start_ms: int | None = None) -> None:
        self.ms = start_ms if start_ms is not None else wall_clock()

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> int:
        """Move forward by ``seconds`` (never backward); returns the new time."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self.ms += round(seconds * 1000)
        return self.ms

    def set(self, ms: int) -> None:
        if ms < self.ms:
            raise ValueError("a clock only moves forward")
        self.ms = ms
