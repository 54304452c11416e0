"""Exchange rules per asset: the size grid, the price grid, the minimum order value and fees.

Everything here is ``Decimal`` and exact. The rules are Hyperliquid's (see shared/HYPERLIQUID.md):

* size: a multiple of ``10**-szDecimals``;
* price: at most 5 significant figures and at most ``6 - szDecimals`` decimals for perps
  (``8 - szDecimals`` for spot); an integer price is always allowed, whatever its digits;
* minimum order value: $10 (10 USDC on spot), measured as size x limit price;
* base-tier taker fee 0.045% on perps, 0.070% on spot.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_UP, Decimal
from enum import StrEnum

MIN_ORDER_VALUE = Decimal(10)
PERP_TAKER_FEE = Decimal("0.00045")
PERP_MAKER_FEE = Decimal("0.00015")
SPOT_TAKER_FEE = Decimal("0.0007")
SPOT_MAKER_FEE = Decimal("0.0004")
MAX_SIG_FIGS = 5
PERP_MAX_PRICE_DECIMALS = 6
SPOT_MAX_PRICE_DECIMALS = 8

_ONE = Decimal(1)
_ZERO = Decimal(0)


class Rounding(StrEnum):
    """Direction in which a value is moved onto a grid."""

    DOWN = "down"  # toward zero
    UP = "up"  # away from zero
    NEAREST = "nearest"  # half-even: error at most half a step
    FLOOR = "floor"  # toward -inf
    CEILING = "ceiling"  # toward +inf


_DECIMAL_MODES = {
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
    Rounding.NEAREST: ROUND_HALF_EVEN,
    Rounding.FLOOR: ROUND_FLOOR,
    Rounding.CEILING: ROUND_CEILING,
}

# Powers of ten are used on every call; building them once keeps the planner fast.
_POW10 = {e: Decimal(1).scaleb(e) for e in range(-30, 31)}


def pow10(exponent: int) -> Decimal:
    """``10**exponent`` as an exact Decimal."""
    cached = _POW10.get(exponent)
    return cached if cached is not None else Decimal(1).scaleb(exponent)


def lot_size(sz_decimals: int) -> Decimal:
    """The size step of an asset: ``10**-szDecimals``."""
    return pow10(-sz_decimals)


def round_to_step(value: Decimal, step: Decimal, rounding: Rounding) -> Decimal:
    """Move ``value`` onto the grid of multiples of ``step``."""
    units = (value / step).to_integral_value(rounding=_DECIMAL_MODES[rounding])
    return (units * step).normalize() if units else _ZERO


def round_size(size: Decimal, sz_decimals: int, rounding: Rounding = Rounding.NEAREST) -> Decimal:
    """Round a size onto the lot grid of an asset."""
    return round_to_step(size, lot_size(sz_decimals), rounding)


def is_valid_size(size: Decimal, sz_decimals: int) -> bool:
    """True when ``size`` is positive and a multiple of the lot size."""
    return size > 0 and (size % lot_size(sz_decimals)) == 0


def max_price_decimals(sz_decimals: int, *, spot: bool = False) -> int:
    """Most decimals a price may carry: ``6 - szDecimals`` (perps) or ``8 - szDecimals`` (spot)."""
    base = SPOT_MAX_PRICE_DECIMALS if spot else PERP_MAX_PRICE_DECIMALS
    return max(base - sz_decimals, 0)


def price_step(price: Decimal, sz_decimals: int, *, spot: bool = False) -> Decimal:
    """The finest valid price increment around ``price`` (which must be positive).

    Five significant figures give a step of ``10**(e-4)`` for a price with exponent ``e``; the decimal
    limit sets a floor of ``10**-maxDecimals``; integers are always valid, so the step never exceeds 1.
    """
    exponent = price.adjusted()  # floor(log10(price)) for a positive Decimal
    sig_step = pow10(exponent - (MAX_SIG_FIGS - 1))
    dec_step = pow10(-max_price_decimals(sz_decimals, spot=spot))
    step = sig_step if sig_step > dec_step else dec_step
    return step if step < _ONE else _ONE


def is_valid_price(price: Decimal, sz_decimals: int, *, spot: bool = False) -> bool:
    """True when ``price`` is positive and on the exchange's price grid."""
    if price <= 0:
        return False
    if price == price.to_integral_value():
        return True
    return (price % price_step(price, sz_decimals, spot=spot)) == 0


def round_price(price: Decimal, sz_decimals: int, rounding: Rounding, *, spot: bool = False) -> Decimal:
    """Move a positive price onto the valid price grid in the given direction.

    Returns 0 when no positive valid price exists in that direction (a price below the smallest
    representable tick, rounded down).
    """
    if price <= 0:
        return _ZERO
    # One rounding is always valid: a multiple of the step below the next power of ten has at most
    # five significant figures and the allowed decimals, and rounding up to that power of ten
    # (9.99995 -> 10.000) lands on a coarser grid point that is valid too. (A re-check here could
    # never fire; tests/test_market.py compares every direction with an independent search.)
    return round_to_step(price, price_step(price, sz_decimals, spot=spot), rounding)


def limit_price(
    reference: Decimal, is_buy: bool, slippage: Decimal, sz_decimals: int, *, spot: bool = False
) -> Decimal:
    """An IOC limit price ``reference x (1 +/- slippage)``, rounded onto the grid toward the reference.

    Rounding toward the reference means the slippage bound is never exceeded. Returns 0 when the
    asset's grid has no valid price on the right side (a reference too small for its decimals).
    """
    if is_buy:
        return round_price(reference * (_ONE + slippage), sz_decimals, Rounding.FLOOR, spot=spot)
    return round_price(reference * (_ONE - slippage), sz_decimals, Rounding.CEILING, spot=spot)


def order_value(size: Decimal, price: Decimal) -> Decimal:
    """An order's value as the exchange measures it for the minimum: size x limit price."""
    return size * price


def fmt_decimal(value: Decimal) -> str:
    """Plain decimal string without exponent or trailing zeros ("0.001", "85600", "-1.5")."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text
