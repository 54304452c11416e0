"""The working trade the planning steps hand to one another: how a holding's change becomes legs,
and how a leg becomes a :class:`Trade`.

A :class:`Leg` is one order in the making: built here from a holding and the size it should reach
(a perp open, increase, reduction, close or flip; a spot buy or sell within the free balance),
possibly scaled down by funding, then frozen with its weights into the plan's
:class:`~hlrebal.planner.models.Trade`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, NamedTuple

from hlrebal.market import SPOT_TAKER_FEE, Rounding, fmt_decimal, limit_price, round_size
from hlrebal.planner.models import REDUCING, Action, Trade
from hlrebal.policy import Policy
from hlrebal.snapshot import AssetMarket, PerpPosition

ZERO = Decimal(0)
ONE = Decimal(1)


class Leg(NamedTuple):
    """One order in the making (immutable: scaling makes a new leg; a tuple, as it is made often)."""

    market: AssetMarket
    action: Action
    is_buy: bool
    size: Decimal
    ref: Decimal
    limit: Decimal
    leverage: int | None
    is_cross: bool
    dust: bool = False
    """A whole-position close below the exchange's minimum order value."""

    @property
    def coin(self) -> str:
        return self.market.coin

    @property
    def notional(self) -> Decimal:
        return self.size * self.limit

    @property
    def signed(self) -> Decimal:
        return self.size if self.is_buy else -self.size

    @property
    def phase(self) -> Literal[1, 2]:
        return 1 if self.action in REDUCING else 2

    @property
    def margin(self) -> Decimal:
        """Initial margin the leg takes: size x mark / leverage, as the exchange counts it (at the
        limit when that is higher: a buy's worst fill). A sell's limit lies below the mark."""
        mark = self.market.mark if self.market.mark is not None and self.market.mark > 0 else self.ref
        return self.size * max(self.limit, mark) / self.leverage if self.leverage else ZERO

    @property
    def received(self) -> Decimal:
        """The position change the leg brings: a spot buy arrives less its fee (paid in the token)."""
        if self.market.is_spot and self.is_buy:
            return self.size * (ONE - SPOT_TAKER_FEE)
        return self.signed

    def fee_rate(self, policy: Policy) -> Decimal:
        return SPOT_TAKER_FEE if self.market.is_spot else policy.fee_rate

    def fee(self, policy: Policy) -> Decimal:
        """The taker fee of the fill, in USD: at the limit for a buy (its worst fill), at the
        reference for a sell (a sell fills at or above its limit, about the reference)."""
        return self.size * max(self.limit, self.ref) * self.fee_rate(policy)

    def resized(self, size: Decimal) -> Leg:
        return self._replace(size=size)


def freeze(leg: Leg, current: Decimal, target: Decimal | None, projected: Decimal) -> Trade:
    """The plan's trade for ``leg``, with its weights before, at target and after the plan."""
    return Trade(
        coin=leg.coin,
        asset_id=leg.market.asset_id,
        phase=leg.phase,
        action=leg.action,
        side="buy" if leg.is_buy else "sell",
        size=leg.size,
        reference_price=leg.ref,
        limit_price=leg.limit,
        notional=leg.notional,
        reduce_only=leg.phase == 1 and not leg.market.is_spot,
        dust=leg.dust,
        current_weight=current,
        target_weight=target if target is not None else ZERO,
        projected_weight=projected,
        leverage=leg.leverage,
        is_cross=leg.is_cross,
        sz_decimals=leg.market.sz_decimals,
        kind=leg.market.kind,
    )


def perp_legs(
    market: AssetMarket,
    position: PerpPosition | None,
    szi: Decimal,
    desired: Decimal,
    ref: Decimal,
    policy: Policy,
) -> list[Leg]:
    """The legs that take a perp position from ``szi`` to ``desired`` (both on the lot grid)."""
    if desired == szi:
        return []
    szd = market.sz_decimals
    slip = policy.slippage
    leverage, is_cross = open_leverage(position, market, policy)

    def leg(action: Action, is_buy: bool, size: Decimal) -> Leg:
        lev = leverage if action not in REDUCING else None
        return Leg(market, action, is_buy, size, ref, limit_price(ref, is_buy, slip, szd), lev, is_cross)

    if szi == 0:
        return [leg(Action.OPEN, desired > 0, abs(desired))]
    if desired == 0:
        return [leg(Action.CLOSE, szi < 0, abs(szi))]
    if (szi > 0) != (desired > 0):
        return [leg(Action.FLIP_CLOSE, szi < 0, abs(szi)), leg(Action.FLIP_OPEN, desired > 0, abs(desired))]
    if abs(desired) > abs(szi):
        return [leg(Action.INCREASE, desired > szi, abs(desired - szi))]
    reduction = leg(Action.REDUCE, desired > szi, abs(szi - desired))
    # A remainder too small to trade on its own would be dust nobody can reduce later: close it all.
    reopen_limit = limit_price(ref, szi > 0, slip, szd)
    if abs(desired) * reopen_limit < policy.min_trade_value:
        return [leg(Action.CLOSE, szi < 0, abs(szi))]
    return [reduction]


def spot_legs(
    market: AssetMarket, total: Decimal, free: Decimal, desired: Decimal, ref: Decimal, policy: Policy
) -> list[Leg]:
    """The order that takes a spot balance from ``total`` to ``desired`` tokens.

    Sells never exceed the free balance (rounded down to the lot); a sell that would leave less than
    the minimum behind sells everything that is free instead.
    """
    szd = market.sz_decimals
    slip = policy.slippage
    if desired > total:
        # The spot fee is paid in the token received: buy enough that what arrives is the goal.
        size = round_size((desired - total) / (ONE - SPOT_TAKER_FEE), szd, Rounding.NEAREST)
        if size <= 0:
            return []
        action = Action.OPEN if total == 0 else Action.INCREASE
        return [Leg(market, action, True, size, ref, limit_price(ref, True, slip, szd, spot=True), None, True)]
    sellable = round_size(free, szd, Rounding.DOWN)
    size = min(round_size(total - desired, szd, Rounding.NEAREST), sellable)
    if size <= 0:
        return []
    sell_limit = limit_price(ref, False, slip, szd, spot=True)
    remainder = total - size
    if desired == 0 or remainder * sell_limit < policy.min_trade_value:
        size = sellable
    action = Action.CLOSE if size == total else Action.REDUCE
    return [Leg(market, action, False, size, ref, sell_limit, None, True)]


def open_leverage(position: PerpPosition | None, market: AssetMarket, policy: Policy) -> tuple[int, bool]:
    """Leverage and margin mode an increase is margined at."""
    is_cross = position.is_cross if position is not None else not market.only_isolated
    if market.only_isolated:
        is_cross = False
    if policy.leverage is not None:
        return max(1, min(policy.leverage, market.max_leverage)), is_cross
    if position is not None:
        return max(1, position.leverage), is_cross
    return 1, is_cross


# How the planner writes numbers in its messages.


def w4(value: Decimal) -> str:
    """A weight to four decimals ("0.0500")."""
    return fmt_decimal(value.quantize(Decimal("0.0001")))


def signed_w4(value: Decimal) -> str:
    return ("+" if value >= 0 else "") + w4(value)


def usd(value: Decimal) -> str:
    return f"{value:,.2f}"


def pct(value: Decimal) -> str:
    return f"{value * 100:.1f}%"
