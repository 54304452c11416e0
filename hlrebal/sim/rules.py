"""The exchange's order rules and messages, written from Hyperliquid's documentation.

Nothing here comes from hlrebal's planner: a rounding mistake on the client side must show up
as a rejected order, exactly as on the live exchange. Messages marked GUESS are not documented
anywhere the project could check; the others are the exchange's own strings.
"""

from __future__ import annotations

from decimal import Decimal

from hlrebal.sim.datarecord import record
from hlrebal.sim.market import Instrument
from hlrebal.sim.numbers import is_on_lot_grid, is_valid_price, parse_wire

DESERIALIZE = "Failed to deserialize the JSON body into the target type"
"""The exchange's 422 answer to a body it cannot read as the request type."""

# Per-order errors (documented strings; the live exchange appends " asset=N").
TICK = "Price must be divisible by tick size."
MIN_NTL_PERP = "Order must have minimum value of $10."
MIN_NTL_SPOT = "Order must have minimum value of 10 {quote}."
INVALID_PRICE = "Order has invalid price."
INVALID_SIZE = "Order has invalid size."
MARGIN = "Insufficient margin to place order."
REDUCE_ONLY = "Reduce only order would increase position."
IOC_CANCEL = "Order could not immediately match against any resting orders."
NO_LIQUIDITY = "No liquidity available for market order."
PRICE_BAND = "Order price cannot be more than 80% away from the reference price"
SPOT_BALANCE = "Order has insufficient spot balance to trade"
BAD_ALO = "Post only order would have immediately matched, bbo was {bid}@{ask}."
MISSING_ORDER = "Order was never placed, already canceled, or filled."
# GUESS: no public source for these.
UNKNOWN_ASSET = "Invalid asset."
DELISTED = "Trading is halted for this asset: only reduce-only orders are accepted."
UNSUPPORTED_ORDER_TYPE = "Only limit orders (Gtc, Ioc, Alo) are supported by the hlrebal simulator."

# Action-level errors.
CROSS_NOT_ALLOWED = "Cross margin is not allowed for this asset."
SWITCH_LEVERAGE_TYPE = "Cannot switch leverage type with open position."
UNIFIED_DISABLED = "Action disabled when unified account is active"
INVALID_LEVERAGE = "Invalid leverage value."  # GUESS
LEVERAGE_MARGIN = "Insufficient margin to update leverage."  # GUESS
TRANSFER_BALANCE = "Insufficient balance for usdClassTransfer."  # GUESS
INVALID_AMOUNT = "Invalid amount."  # GUESS
VAULT_TRANSFER = "Vaults cannot make usdClassTransfer."  # GUESS
SEND_ASSET_BALANCE = "Insufficient balance for sendAsset."  # GUESS
SEND_ASSET_DEX = "Invalid dex: {dex}"  # GUESS
SEND_ASSET_TOKEN = "Token must match the collateral token of dex {dex}: {token}"  # GUESS
SEND_ASSET_UNKNOWN_TOKEN = "Invalid token: {token}"  # GUESS
SCHEDULE_TOO_EARLY = "Scheduled cancel time too early, must be at least 5 seconds after current time."  # GUESS

BAND = Decimal("0.8")
MIN_NOTIONAL = Decimal(10)

# Reject reasons shown by orderStatus for orders refused at placement (by cloid only).
REJECT_STATUS = {
    TICK: "tickRejected",
    MIN_NTL_PERP: "minTradeNtlRejected",
    MARGIN: "perpMarginRejected",
    REDUCE_ONLY: "reduceOnlyRejected",
    IOC_CANCEL: "iocCancelRejected",
    PRICE_BAND: "oracleRejected",
    SPOT_BALANCE: "insufficientSpotBalanceRejected",
}


@record(frozen=True)
class Parsed:
    """An order's size and price once they passed the grid checks."""

    size: Decimal
    px: Decimal


def check_size_and_price(inst: Instrument, size_text: object, px_text: object) -> Parsed | str:
    """Lot grid, positive price, tick grid. Returns the parsed numbers or the error message."""
    size = parse_wire(size_text)
    if size is None or size <= 0 or not is_on_lot_grid(size, inst.sz_decimals):
        return INVALID_SIZE
    px = parse_wire(px_text)
    if px is None or px <= 0:
        return INVALID_PRICE
    if not is_valid_price(px, inst.max_price_decimals):
        return TICK
    return Parsed(size=size, px=px)


def check_price_band(inst: Instrument, px: Decimal) -> str | None:
    """More than 80% away from the reference (mark) price is refused."""
    ref = inst.reference
    if ref is None or ref <= 0:
        return None
    if abs(px - ref) > ref * BAND:
        return PRICE_BAND
    return None


def check_min_notional(inst: Instrument, size: Decimal, px: Decimal) -> str | None:
    """Order value (size x limit price) must reach 10 USD (perps) / 10 quote (spot)."""
    if size * px >= MIN_NOTIONAL:
        return None
    if inst.is_spot:
        return MIN_NTL_SPOT.format(quote=inst.quote.name)  # type: ignore[union-attr]
    return MIN_NTL_PERP


def reject_status(message: str) -> str:
    """orderStatus status for an order refused with ``message``."""
    base = message.split(" asset=")[0]
    if base.startswith("Order must have minimum value of"):
        return "minTradeNtlRejected"
    if base.startswith("Post only order would have immediately matched"):
        return "badAloPxRejected"
    return REJECT_STATUS.get(base, "rejected")
