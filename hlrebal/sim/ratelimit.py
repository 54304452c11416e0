"""The address-based request budget and ``userRateLimit``.

From the exchange's "Rate limits and user limits" page: address-based limits apply to actions
only (not info requests), per user, sub-accounts as separate users; each address starts with
10,000 requests and earns 1 per 1 USDC traded; a batched request of n orders (or cancels)
counts n; once the budget is spent, one request per 10 seconds still goes through; cancels
have a higher limit, min(limit + 100000, limit x 2); an action refused for a stale
``expiresAfter`` costs 5x. The info answer (recorded in hyperliquid-python-sdk's cassette
test_user_rate_limit.yaml) is ``{"cumVlm": "170043721737.450012207", "nRequestsUsed":
36589831368, "nRequestsCap": 170043731737}``: cap = 10000 + floor(cumVlm); newer answers add
``nRequestsSurplus`` (nktkas/hyperliquid's schema), which ``reserveRequestWeight`` buys.

The refusal text is the one clients record from the live API, e.g. "Too many cumulative
requests sent (97460 > 97456) for cumulative volume traded $87457.46. Place taker orders to
free up 1 request per USDC traded." (the second number is always cap - 1 in the recorded
examples, so the sim refuses once the count would reach the cap). Whether refused requests
count is not documented: here they do not (GUESS).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from hlrebal.sim.accounts import Account
from hlrebal.sim.numbers import ZERO, fmt

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine

CENTS = Decimal("0.01")
INITIAL = 10_000
THROTTLE_MS = 10_000
CANCEL_BONUS = 100_000
EXPIRED_FACTOR = 5
OVER = (
    "Too many cumulative requests sent ({used} > {cap}) for cumulative volume traded ${vlm}. "
    "Place taker orders to free up 1 request per USDC traded."
)
BATCH_KEYS = {"order": "orders", "cancel": "cancels", "cancelByCloid": "cancels", "batchModify": "modifies"}
CANCELS = ("cancel", "cancelByCloid")


def cap(acct: Account | None) -> int:
    """nRequestsCap: 10000 + 1 per USDC traded (or a test's fixed cap)."""
    if acct is None:
        return INITIAL
    if acct.requests_cap is not None:
        return acct.requests_cap
    return INITIAL + int(acct.cum_vlm.to_integral_value(rounding=ROUND_FLOOR))


def weight(action: dict[str, Any]) -> int:
    """How many requests an action counts: each order, cancel or modify in a batch."""
    key = BATCH_KEYS.get(str(action.get("type")))
    items = action.get(key) if key else None
    return max(1, len(items)) if isinstance(items, list) else 1


def charge(engine: Engine, acct: Account, action: dict[str, Any]) -> str | None:
    """Count the action against the account's budget; the refusal if it is spent."""
    n = weight(action)
    if not engine.config.rate_limits:
        acct.requests_used += n
        return None
    limit = cap(acct) + acct.requests_surplus
    if action.get("type") in CANCELS:
        limit = min(limit + CANCEL_BONUS, limit * 2)
    used = acct.requests_used + n
    if used < limit:
        acct.requests_used = used
        return None
    now = engine.now()
    if acct.throttled_at is None or now - acct.throttled_at >= THROTTLE_MS:
        acct.throttled_at = now  # over budget: one request every 10 seconds
        acct.requests_used = used
        return None
    return OVER.format(used=used, cap=limit - 1, vlm=format(acct.cum_vlm.quantize(CENTS, rounding=ROUND_FLOOR), "f"))


def charge_expired(acct: Account, action: dict[str, Any]) -> None:
    """An action refused for a stale expiresAfter costs 5x."""
    acct.requests_used += EXPIRED_FACTOR * weight(action)


def answer(acct: Account | None) -> dict[str, Any]:
    """userRateLimit."""
    return {
        "cumVlm": fmt(acct.cum_vlm if acct is not None else ZERO),
        "nRequestsUsed": acct.requests_used if acct is not None else 0,
        "nRequestsCap": cap(acct),
        "nRequestsSurplus": acct.requests_surplus if acct is not None else 0,
    }


def reserve(acct: Account, weight_bought: int) -> str | None:
    """reserveRequestWeight: 0.0005 USDC a request, paid from the perp balance (documented)."""
    price = Decimal("0.0005") * weight_bought
    if weight_bought <= 0:
        return "Invalid weight."  # GUESS
    if acct.perp_raw < price:
        return "Insufficient balance to reserve request weight."  # GUESS
    acct.perp_raw -= price
    acct.requests_surplus += weight_bought
    return None
