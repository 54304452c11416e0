"""Account bookkeeping of one fill: fees, positions, entry prices, raw USD, spot balances.

Pure functions on an Account: the engine decides what fills, this module decides what a fill
does to the books (see accounts.py for the raw-USD model).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hlrebal.sim.accounts import Account, LeverageSetting, Position, leverage_for
from hlrebal.sim.config import SimConfig
from hlrebal.sim.market import PerpAsset, SpotPair
from hlrebal.sim.numbers import USD_PLACES, ZERO


def fee_rate(acct: Account, config: SimConfig, spot: bool, maker: bool) -> Decimal:
    """The account's own rate (seeded from userFees) or the exchange's base tier."""
    if spot:
        own = acct.spot_maker_fee if maker else acct.spot_taker_fee
        return own if own is not None else (config.spot_maker_fee if maker else config.spot_taker_fee)
    own = acct.maker_fee if maker else acct.taker_fee
    return own if own is not None else (config.maker_fee if maker else config.taker_fee)


def apply_perp(
    acct: Account, asset: PerpAsset, is_buy: bool, qty: Decimal, px: Decimal, rate: Decimal, default_leverage: int
) -> tuple[Decimal, Decimal]:
    """Apply a perp fill; returns (fee, closed PnL). Entry price: weighted on increase,
    unchanged on reduce, the fill price after a flip."""
    fee = (qty * px * rate).quantize(USD_PLACES, rounding=ROUND_HALF_UP)
    signed = qty if is_buy else -qty
    setting = leverage_for(acct, asset, default_leverage)
    pos = acct.positions.get(asset.name)
    if pos is None:
        pos = Position(coin=asset.name, szi=ZERO, entry_px=ZERO)
        acct.positions[asset.name] = pos
        acct.leverage.setdefault(asset.name, LeverageSetting(setting.value, setting.is_cross))
    closed_pnl = ZERO
    if pos.szi != 0 and (pos.szi > 0) != is_buy:
        close = min(qty, abs(pos.szi))
        fee_close = (fee * close / qty).quantize(USD_PLACES, rounding=ROUND_HALF_UP)
        closed_pnl = close * (px - pos.entry_px) * (1 if pos.szi > 0 else -1)
        signed_close = close if is_buy else -close
        if setting.is_cross:
            acct.perp_raw -= signed_close * px + fee_close
        else:
            # the closed share of the isolated equity goes back to the cross ledger
            ratio = close / abs(pos.szi)
            equity = pos.iso_raw + pos.szi * px
            acct.perp_raw += ratio * equity - fee_close
            pos.iso_raw = (1 - ratio) * pos.iso_raw
        pos.szi += signed_close
        if pos.szi == 0:
            pos.entry_px = ZERO
            pos.iso_raw = ZERO
        remaining = qty - close
        if remaining > 0:
            _increase(acct, pos, setting, remaining if is_buy else -remaining, px, fee - fee_close)
    else:
        _increase(acct, pos, setting, signed, px, fee)
    if pos.szi == 0:
        del acct.positions[asset.name]
    return fee, closed_pnl


def _increase(
    acct: Account, pos: Position, setting: LeverageSetting, signed: Decimal, px: Decimal, fee: Decimal
) -> None:
    size = abs(signed)
    if setting.is_cross:
        acct.perp_raw -= signed * px + fee
    else:
        # an isolated position takes its initial margin (and the fee) from the cross ledger
        margin = (size * px / setting.value).quantize(USD_PLACES, rounding=ROUND_HALF_UP)
        acct.perp_raw -= margin + fee
        pos.iso_raw += margin - signed * px
    old = abs(pos.szi)
    pos.entry_px = (old * pos.entry_px + size * px) / (old + size)
    pos.szi += signed


def apply_spot(
    acct: Account, pair: SpotPair, is_buy: bool, qty: Decimal, px: Decimal, rate: Decimal
) -> tuple[Decimal, Decimal, str]:
    """Apply a spot fill; the fee is paid in the token received. Returns (fee, pnl, fee token)."""
    base, quote = pair.base.name, pair.quote.name
    if is_buy:
        fee = (qty * rate).quantize(Decimal(1).scaleb(-pair.base.wei_decimals), rounding=ROUND_HALF_UP)
        acct.spot[base] = acct.spot.get(base, ZERO) + qty - fee
        acct.spot[quote] = acct.spot.get(quote, ZERO) - qty * px
        acct.spot_entry_ntl[base] = acct.spot_entry_ntl.get(base, ZERO) + qty * px
        return fee, ZERO, base
    places = Decimal(1).scaleb(-min(pair.quote.wei_decimals, 8))
    fee = (qty * px * rate).quantize(places, rounding=ROUND_HALF_UP)
    before = acct.spot.get(base, ZERO)
    entry = acct.spot_entry_ntl.get(base, ZERO)
    cost = entry * qty / before if before > 0 else ZERO
    acct.spot[base] = before - qty
    acct.spot[quote] = acct.spot.get(quote, ZERO) + qty * px - fee
    acct.spot_entry_ntl[base] = entry - cost
    return fee, qty * px - cost, quote


def perp_dir(start: Decimal, after: Decimal) -> str:
    """userFills "dir" of a perp fill taking the position from ``start`` to ``after``."""
    if start == 0 or (start > 0 and after > start) or (start < 0 and after < start):
        return "Open Long" if after > 0 else "Open Short"
    if (start > 0 > after) or (start < 0 < after):
        return "Long > Short" if start > 0 else "Short > Long"
    return "Close Long" if start > 0 else "Close Short"
