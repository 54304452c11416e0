"""Decimal helpers: parsing, wire formatting and the exchange's price grid.

Hyperliquid sends every number as a string. The sim keeps exact Decimals internally and formats
on the way out: USD amounts to 6 decimals, sizes and prices as they are, always with a decimal
point ("85600.0", "0.0"), never in exponent form.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)
USD_PLACES = Decimal("0.000001")
MAX_SIG_FIGS = 5


def to_decimal(value: object) -> Decimal:
    """Decimal from str, int, float or Decimal (floats go through their shortest repr)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError("a bool is not a number")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation as e:
            raise ValueError(f"not a number: {value!r}") from e
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise TypeError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def parse_wire(text: object) -> Decimal | None:
    """A number sent by a client as a string (or int); None if it is not a finite number."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def fmt(value: Decimal) -> str:
    """Wire form of a number: plain notation, trailing zeros removed, at least one decimal."""
    if value == 0:
        return "0.0"
    text = format(value.normalize(), "f")
    if "." not in text:
        text += ".0"
    return text


def fmt_usd(value: Decimal) -> str:
    """Wire form of a USD amount: rounded to 6 decimals like the exchange's summaries."""
    return fmt(value.quantize(USD_PLACES, rounding=ROUND_HALF_EVEN))


def fmt_places(value: Decimal, places: int) -> str:
    """Wire form rounded to ``places`` decimals."""
    return fmt(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def decimals_of(value: Decimal) -> int:
    """Number of decimals actually used by ``value`` (0 for integers, 2 for 1.25)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def sig_figs(value: Decimal) -> int:
    """Significant figures of a non-zero value (123.40 -> 4)."""
    return len(value.normalize().as_tuple().digits)


def is_on_lot_grid(size: Decimal, sz_decimals: int) -> bool:
    """True if ``size`` is a multiple of 10^-sz_decimals."""
    return decimals_of(size) <= sz_decimals


def is_valid_price(px: Decimal, max_decimals: int) -> bool:
    """The exchange's tick rule: integers always; else <= 5 significant figures and
    <= max_decimals decimals (6 - szDecimals on perps, 8 - szDecimals on spot)."""
    if px == px.to_integral_value():
        return True
    return sig_figs(px) <= MAX_SIG_FIGS and decimals_of(px) <= max_decimals


def allowed_decimals(px: Decimal, max_decimals: int) -> int:
    """Decimals a price of this magnitude may carry under the 5-significant-figure rule."""
    magnitude = px.adjusted()  # floor(log10(px)) for px > 0
    return max(0, min(max_decimals, MAX_SIG_FIGS - 1 - magnitude))


def tick_at(px: Decimal, max_decimals: int) -> Decimal:
    """Smallest price step at ``px``."""
    return Decimal(1).scaleb(-allowed_decimals(px, max_decimals))


def round_price(px: Decimal, max_decimals: int, up: bool) -> Decimal:
    """Round a positive price onto the grid, up (asks) or down (bids)."""
    places = allowed_decimals(px, max_decimals)
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    result = px.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    if not is_valid_price(result, max_decimals):  # crossed a power of ten: round again
        result = result.quantize(Decimal(1).scaleb(-allowed_decimals(result, max_decimals)), rounding=rounding)
    return result


def round_size_down(size: Decimal, sz_decimals: int) -> Decimal:
    """Round a size down onto the lot grid."""
    return size.quantize(Decimal(1).scaleb(-sz_decimals), rounding=ROUND_DOWN)
