"""The safety guards a run re-checks before every request that can trade (every round, every phase,
every requote): turnover over the whole run, a single order's value, the price against the oracle;
and whether a plan still is the plan the user confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from hlrebal.errors import GuardError
from hlrebal.execution.twap import CATCH_UP, SLICES_PER_MINUTE
from hlrebal.planner import Plan, Trade
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot

MATERIAL_TURNOVER_CHANGE = Decimal("0.10")
_ZERO = Decimal(0)


class OracleGuardError(GuardError):
    """A price too far from the oracle: worth one fresh read of the oracle before refusing (the one
    a long run started with may be minutes old)."""


def check_trades(
    trades: Iterable[Trade],
    snap: Snapshot,
    policy: Policy,
    *,
    equity: Decimal,
    turnover_done: Decimal,
    order_share: Decimal = Decimal(1),
) -> None:
    """Refuse (GuardError, exit 4) when ``trades`` would break a safety limit.

    ``equity`` is the account's equity when the run started (the turnover cap is a share of it, not
    of what the run has left); ``turnover_done`` the notional the run has already filled;
    ``order_share`` the largest share of a trade one order carries (1 for taker and maker; a TWAP's
    largest slice for twap), which ``max_order_value`` caps.
    """
    trades = list(trades)
    planned = sum((t.size * t.reference_price for t in trades), _ZERO)
    turnover = (turnover_done + planned) / equity
    if turnover > policy.max_turnover:
        raise GuardError(
            f"turnover {turnover * 100:.1f}% of equity over this run would exceed max_turnover "
            f"{policy.max_turnover * 100:.1f}%",
            hint="raise --max-turnover if this much trading is intended",
        )
    for t in trades:
        largest = t.notional * order_share
        if policy.max_order_value is not None and largest > policy.max_order_value:
            sliced = f" (its largest slice about ${largest:,.2f})" if order_share < 1 else ""
            raise GuardError(
                f"{t.coin} {t.side} of ${t.notional:,.2f}{sliced} exceeds max_order_value "
                f"${policy.max_order_value:,.2f}",
                hint="raise --max-order-value, trade in smaller steps, or use --style twap with more --twap-minutes",
            )
        check_price(t.coin, t.reference_price, snap, policy)


def order_share(style: str, twap_minutes: int) -> Decimal:
    """The largest share of a trade one order of ``style`` carries: the whole trade, except under
    twap, whose slices (two a minute) may catch up to ``CATCH_UP`` normal slices."""
    if style != "twap":
        return Decimal(1)
    return min(Decimal(1), Decimal(CATCH_UP) / (SLICES_PER_MINUTE * twap_minutes))


def check_price(coin: str, price: Decimal, snap: Snapshot, policy: Policy) -> None:
    """Refuse a price further from the oracle than ``max_price_deviation``."""
    market = snap.market_of(coin)
    if market is None or market.oracle is None or market.oracle <= 0:
        return
    deviation = abs(price - market.oracle) / market.oracle
    if deviation > policy.max_price_deviation:
        raise OracleGuardError(
            f"{coin}: reference price {price} is {deviation * 100:.2f}% from the oracle "
            f"price {market.oracle} (max_price_deviation {policy.max_price_deviation * 100:.2f}%)",
            hint="the book may be thin or moving fast; wait, or raise --max-price-deviation",
        )


def materially_different(confirmed: Plan, fresh: Plan) -> str | None:
    """Why ``fresh`` is not the plan the user confirmed (a side changed, turnover moved > 10%)."""
    sides = {(t.coin, t.phase): t.side for t in confirmed.trades}
    for t in fresh.trades:
        if (t.coin, t.phase) in sides and sides[(t.coin, t.phase)] != t.side:
            return f"{t.coin} now {t.side}s instead of {sides[(t.coin, t.phase)]}ing"
    before, after = confirmed.summary.turnover, fresh.summary.turnover
    if before > 0 and abs(after - before) / before > MATERIAL_TURNOVER_CHANGE:
        return f"turnover moved from {before * 100:.2f}% to {after * 100:.2f}%"
    if before == 0 and after > 0:
        return "the confirmed plan had no trades"
    return None
