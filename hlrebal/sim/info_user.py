"""Info answers about one user's history: fills by time, funding, ledger updates, historical
orders, TWAPs, the request budget, agents and builders.

Time-range rules, from the info endpoint docs: ``startTime`` and ``endTime`` are inclusive,
``endTime`` defaults to now; "Responses that take a time range will only return 500 elements
... use the last returned timestamp as the next startTime for pagination", except
userFillsByTime: "at most 2000 fills per response and only the 10000 most recent fills are
available". Orders of the answers follow the python-sdk cassettes: userFillsByTime newest
first, userFunding and userNonFundingLedgerUpdates oldest first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from hlrebal.sim import ratelimit, twap
from hlrebal.sim.records import Fill, LedgerUpdate

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine

PAGE = 500
FILLS_PAGE = 2000
FILLS_KEPT = 10_000
RECENT = 2000  # historicalOrders, userFills, userTwapSliceFills: the 2000 most recent

T = TypeVar("T")


class BadRange(Exception):
    """startTime/endTime are not integers: the server answers 422."""


def time_range(engine: Engine, body: dict[str, Any], key: str = "startTime") -> tuple[int, int]:
    """(start, end) of a time-range request; end defaults to now."""
    start, end = body.get(key), body.get("endTime")
    if isinstance(start, bool) or not isinstance(start, int):
        raise BadRange(key)
    if end is None:
        end = engine.now()
    if isinstance(end, bool) or not isinstance(end, int):
        raise BadRange("endTime")
    return start, end


def in_range(items: list[T], when: Callable[[T], int], start: int, end: int, limit: int) -> list[T]:
    """The first ``limit`` items (oldest first) with start <= time <= end."""
    picked = sorted((i for i in items if start <= when(i) <= end), key=when)
    return picked[:limit]


def user_fills_by_time(engine: Engine, user: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    start, end = time_range(engine, body)
    kept = [f for f in engine.fills if f.account == user][-FILLS_KEPT:]
    page = in_range(kept, _fill_time, start, end, FILLS_PAGE)
    return [dict(f.data) for f in reversed(page)]


def _fill_time(fill: Fill) -> int:
    return int(fill.data["time"])


def _ledger(engine: Engine, log: list[LedgerUpdate], user: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    start, end = time_range(engine, body)
    mine = [u for u in log if u.account == user]
    return [u.wire() for u in in_range(mine, lambda u: u.time, start, end, PAGE)]


def user_funding(engine: Engine, user: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    return _ledger(engine, engine.funding_log, user, body)


def non_funding_ledger(engine: Engine, user: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    return _ledger(engine, engine.ledger, user, body)


def historical_orders(engine: Engine, user: str) -> list[dict[str, Any]]:
    """The 2000 most recent orders of the account, newest first, each as orderStatus shows it."""
    from hlrebal.sim.info import order_entry

    mine = [r for r in engine.records if r.account == user and r.oid is not None]
    return [order_entry(r) for r in reversed(mine[-RECENT:])]


def extra_agents(engine: Engine, user: str) -> list[dict[str, Any]]:
    """The account's API wallets: name, address, validUntil (null: no expiry)."""
    return [
        {"name": a.name, "address": addr, "validUntil": a.valid_until}
        for addr, a in engine.agents.items()
        if a.account == user
    ]


def user_rate_limit(engine: Engine, user: str) -> dict[str, Any]:
    return ratelimit.answer(engine.account(user))


def max_builder_fee(engine: Engine, user: str, builder: Any) -> int:
    """maxBuilderFee: the approved rate in tenths of a basis point (0 when none)."""
    acct = engine.account(user)
    if acct is None or not isinstance(builder, str):
        return 0
    return acct.builders.get(builder.lower(), 0)


def approved_builders(engine: Engine, user: str) -> list[str]:
    acct = engine.account(user)
    return sorted(acct.builders) if acct is not None else []


def twap_slice_fills(engine: Engine, user: str) -> list[dict[str, Any]]:
    return twap.slice_fills(engine, user)


def twap_history(engine: Engine, user: str) -> list[dict[str, Any]]:
    return twap.history(engine, user)


def exchange_status(engine: Engine) -> dict[str, Any]:
    return {"time": engine.now(), "specialStatuses": None}


UserAnswer = Callable[["Engine", str, dict[str, Any]], Any]

# Info types answered for one "user", by type.
USER_ANSWERS: dict[str, UserAnswer] = {
    "userFillsByTime": user_fills_by_time,
    "userFunding": user_funding,
    "userNonFundingLedgerUpdates": non_funding_ledger,
    "historicalOrders": lambda e, u, b: historical_orders(e, u),
    "extraAgents": lambda e, u, b: extra_agents(e, u),
    "userRateLimit": lambda e, u, b: user_rate_limit(e, u),
    "maxBuilderFee": lambda e, u, b: max_builder_fee(e, u, b.get("builder")),
    "approvedBuilders": lambda e, u, b: approved_builders(e, u),
    "userTwapSliceFills": lambda e, u, b: twap_slice_fills(e, u),
    "twapHistory": lambda e, u, b: twap_history(e, u),
}
