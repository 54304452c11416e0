"""Fault injection: failed or dropped answers, latency, and price moves between requests.

A fault is matched against each incoming request (endpoint, info type, action type) in the order
faults were added; the first match is consumed. ``when="before"`` answers without processing;
``when="after"`` processes the request (orders placed, state changed) and then loses the answer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from hlrebal.sim.datarecord import record

When = Literal["before", "after"]
Endpoint = Literal["info", "exchange"]


@record
class Fault:
    kind: Literal["fail", "drop"]
    remaining: int
    status: int = 500
    endpoint: str | None = None
    info_type: str | None = None
    action_type: str | None = None
    when: When = "before"
    body: str = ""

    def matches(self, endpoint: str, request_type: str | None) -> bool:
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        if self.info_type is not None and (endpoint != "info" or request_type != self.info_type):
            return False
        return not (self.action_type is not None and (endpoint != "exchange" or request_type != self.action_type))


@record
class Latency:
    seconds: float
    remaining: int | None
    endpoint: str | None


@record
class PriceMove:
    remaining: int
    coin: str
    mid: Decimal


@record
class RestingFill:
    """Before the next ``remaining`` /exchange requests of ``action_type`` are processed, fill
    ``fraction`` of each resting order they name (or of order ``oid``) as if a taker had just
    traded it: the race between a cancel (or modify) and a fill."""

    remaining: int
    action_type: str
    fraction: Decimal
    oid: int | None = None


class FaultPlan:
    """Pending faults, latencies, price moves and resting-order fills."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.latencies: list[Latency] = []
        self.moves: list[PriceMove] = []
        self.resting_fills: list[RestingFill] = []

    def take_resting_fill(self, action_type: str | None) -> RestingFill | None:
        """Consume and return the first resting fill waiting for this action type."""
        for item in self.resting_fills:
            if item.action_type == action_type:
                item.remaining -= 1
                if item.remaining <= 0:
                    self.resting_fills.remove(item)
                return item
        return None

    def add(self, fault: Fault) -> None:
        if fault.when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        if fault.endpoint not in (None, "info", "exchange"):
            raise ValueError("endpoint must be None, 'info' or 'exchange'")
        if fault.remaining > 0:
            self.faults.append(fault)

    def take(self, endpoint: str, request_type: str | None) -> Fault | None:
        """Consume and return the first fault matching this request."""
        for fault in self.faults:
            if fault.matches(endpoint, request_type):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def delay(self, endpoint: str) -> float:
        """Seconds to wait before answering this request (latencies add up)."""
        total = 0.0
        for latency in list(self.latencies):
            if latency.endpoint is not None and latency.endpoint != endpoint:
                continue
            total += latency.seconds
            if latency.remaining is not None:
                latency.remaining -= 1
                if latency.remaining <= 0:
                    self.latencies.remove(latency)
        return total

    def answered(self) -> list[PriceMove]:
        """Count one answered request; return the price moves now due."""
        due = []
        for move in list(self.moves):
            move.remaining -= 1
            if move.remaining <= 0:
                self.moves.remove(move)
                due.append(move)
        return due
