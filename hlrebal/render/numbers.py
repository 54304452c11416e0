"""How numbers are written: decimal strings for JSON, percentages and dollars for tables."""

from __future__ import annotations

from decimal import Decimal

from hlrebal.market import fmt_decimal

WEIGHT_PLACES = Decimal("1e-10")
ZERO = Decimal(0)


def dec(value: Decimal | None, places: Decimal | None = None) -> str | None:
    """A Decimal as a plain decimal string (None stays None)."""
    if value is None:
        return None
    if places is not None:
        value = value.quantize(places)
    return fmt_decimal(value)


def weight(value: Decimal | None) -> str | None:
    """A weight as a decimal string at ten places."""
    return dec(value, WEIGHT_PLACES)


def pct(value: Decimal | None, places: int = 1) -> str:
    """A fraction as a percentage ("-" for none)."""
    if value is None:
        return "-"
    return f"{value * 100:.{places}f}%"


def usd(value: Decimal) -> str:
    """Dollars with thousands separators and cents; a loss as -$0.22, the way traders write it."""
    text = f"{abs(value):,.2f}"
    return f"-${text}" if value < 0 and text.strip("0.,") else f"${text}"
