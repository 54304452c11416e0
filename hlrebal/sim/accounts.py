"""Accounts, positions and resting orders, and how an account is valued and margined.

Bookkeeping model (the exchange's own): an account's cross ledger is its "raw USD": USDC plus
the cash flows of every trade (buying 1 BTC at 85,000 takes 85,000 from raw USD). Then
accountValue = raw USD + sum(szi x mark), and nothing else needs to remember entry prices.
An isolated position carries its own raw USD (``iso_raw``); its margin is iso_raw + szi x mark.

Builder-deployed (HIP-3) dexes each have their own clearinghouse: ``Account.dexes[name]`` is an
Account of its own (same address, ``dex`` set), holding that dex's collateral, positions and
leverage, valued and margined alone. Resting orders count against the clearinghouse of their
coin's dex only.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Literal

from hlrebal.sim.datarecord import field, record
from hlrebal.sim.market import Market, PerpAsset
from hlrebal.sim.numbers import ZERO

Mode = Literal["default", "standard", "unified", "portfolio"]
POOLED_MODES = ("unified", "portfolio")


@record
class Position:
    coin: str
    szi: Decimal
    entry_px: Decimal
    iso_raw: Decimal = ZERO
    cum_funding: dict[str, str] = field(
        default_factory=lambda: {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"}
    )


@record
class LeverageSetting:
    value: int
    is_cross: bool


@record
class RestingOrder:
    oid: int
    account: str
    coin: str
    asset: int
    is_buy: bool
    limit_px: Decimal
    sz: Decimal
    orig_sz: Decimal
    reduce_only: bool
    tif: str
    cloid: str | None
    timestamp: int
    is_spot: bool
    # synthetic size queued ahead of this order at its price when it was placed (it only
    # shrinks as takers trade there): the order fills once the queue in front of it is gone
    ahead: Decimal = ZERO


@record
class Account:
    address: str
    perp_raw: Decimal = ZERO
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, LeverageSetting] = field(default_factory=dict)
    spot: dict[str, Decimal] = field(default_factory=dict)
    spot_entry_ntl: dict[str, Decimal] = field(default_factory=dict)
    mode: Mode = "default"
    taker_fee: Decimal | None = None
    maker_fee: Decimal | None = None
    spot_taker_fee: Decimal | None = None
    spot_maker_fee: Decimal | None = None
    scheduled_cancel: int | None = None
    # (UTC day number, scheduled cancels fired that day): at most 10 a day
    cancel_triggers: tuple[int, int] = (0, 0)
    # the address-based request budget (see ratelimit.py): volume traded, requests counted
    cum_vlm: Decimal = ZERO
    requests_used: int = 0
    requests_cap: int | None = None  # a test's fixed cap instead of 10000 + cumVlm
    requests_surplus: int = 0  # bought with reserveRequestWeight
    throttled_at: int | None = None  # last over-budget action let through (1 per 10 s)
    builders: dict[str, int] = field(default_factory=dict)  # approved builder -> max fee (0.1 bp)
    referrer: str | None = None
    dex: str = ""  # "" for the main perp clearinghouse; a builder dex's name for its own one
    dexes: dict[str, Account] = field(default_factory=dict)  # builder dex name -> clearinghouse

    @property
    def pooled(self) -> bool:
        """Unified or portfolio margin: one USDC balance, kept in spot (main clearinghouse only)."""
        return self.mode in POOLED_MODES and self.dex == ""

    def clearinghouse(self, dex: str, create: bool = True) -> Account | None:
        """The perp clearinghouse of one dex: this account for "", else its builder-dex part."""
        if dex == "":
            return self
        part = self.dexes.get(dex)
        if part is None and create:
            part = Account(address=self.address, dex=dex)
            self.dexes[dex] = part
        return part

    def clone(self) -> Account:
        return copy.deepcopy(self)


def leverage_for(account: Account, asset: PerpAsset, default_leverage: int) -> LeverageSetting:
    """The account's leverage on ``asset``: its setting, else min(default, max) cross
    (isolated on isolated-only assets)."""
    setting = account.leverage.get(asset.name)
    if setting is not None:
        return setting
    return LeverageSetting(value=min(default_leverage, asset.max_leverage), is_cross=not asset.only_isolated)


def mark_of(market: Market, coin: str, fallback: Decimal) -> Decimal:
    asset = market.perp_by_name.get(coin)
    if asset is None:
        return fallback
    px = asset.mark if asset.mark is not None else asset.book_mid
    return px if px is not None else fallback


@record
class PositionView:
    position: Position
    asset: PerpAsset
    setting: LeverageSetting
    mark: Decimal
    ntl: Decimal  # |szi| x mark
    margin_used: Decimal
    maintenance: Decimal


@record
class PerpSummary:
    """The numbers of clearinghouseState, plus what the margin check needs."""

    positions: list[PositionView]
    account_value: Decimal
    total_ntl: Decimal
    total_raw: Decimal
    margin_used: Decimal
    cross_account_value: Decimal
    cross_ntl: Decimal
    cross_raw: Decimal
    cross_margin_used: Decimal
    cross_maintenance: Decimal
    order_margin: Decimal

    @property
    def withdrawable(self) -> Decimal:
        return max(ZERO, self.cross_account_value - self.cross_margin_used - self.order_margin)


def order_margin(market: Market, account: Account, orders: list[RestingOrder], default_leverage: int) -> Decimal:
    """Margin held by resting perp orders: the part of each order that would grow the position,
    at its limit price and the account's leverage on that asset."""
    total = ZERO
    for order in orders:
        if order.is_spot or order.reduce_only:
            continue
        asset = market.perp_by_name.get(order.coin)
        if asset is None or asset.dex != account.dex:
            continue
        pos = account.positions.get(order.coin)
        szi = pos.szi if pos else ZERO
        opposite = (szi > 0 and not order.is_buy) or (szi < 0 and order.is_buy)
        growing = max(ZERO, order.sz - abs(szi)) if opposite else order.sz
        setting = leverage_for(account, asset, default_leverage)
        total += growing * order.limit_px / setting.value
    return total


def perp_summary(market: Market, account: Account, orders: list[RestingOrder], default_leverage: int) -> PerpSummary:
    """Value and margin of the account's perp side."""
    views: list[PositionView] = []
    cross_value = account.perp_raw
    cross_ntl = cross_margin = cross_maint = ZERO
    iso_value = iso_ntl = iso_raw = iso_margin = ZERO
    for coin in sorted(account.positions, key=lambda c: _order_key(market, c)):
        pos = account.positions[coin]
        asset = market.perp_by_name[coin]
        setting = leverage_for(account, asset, default_leverage)
        mark = mark_of(market, coin, pos.entry_px)
        ntl = abs(pos.szi) * mark
        maintenance = ntl / (2 * asset.max_leverage)
        if setting.is_cross:
            used = ntl / setting.value
            cross_value += pos.szi * mark
            cross_ntl += ntl
            cross_margin += used
            cross_maint += maintenance
        else:
            used = pos.iso_raw + pos.szi * mark
            iso_value += used
            iso_ntl += ntl
            iso_raw += pos.iso_raw
            iso_margin += used
        views.append(PositionView(pos, asset, setting, mark, ntl, used, maintenance))
    return PerpSummary(
        positions=views,
        account_value=cross_value + iso_value,
        total_ntl=cross_ntl + iso_ntl,
        total_raw=account.perp_raw + iso_raw,
        margin_used=cross_margin + iso_margin,
        cross_account_value=cross_value,
        cross_ntl=cross_ntl,
        cross_raw=account.perp_raw,
        cross_margin_used=cross_margin,
        cross_maintenance=cross_maint,
        order_margin=order_margin(market, account, orders, default_leverage),
    )


def _order_key(market: Market, coin: str) -> int:
    asset = market.perp_by_name.get(coin)
    return asset.index if asset else 1 << 30


def spot_holds(orders: list[RestingOrder], market: Market) -> dict[str, Decimal]:
    """Token amounts held by resting spot orders (buys hold quote, sells hold base)."""
    holds: dict[str, Decimal] = {}
    for order in orders:
        if not order.is_spot:
            continue
        pair = market.pair_by_name.get(order.coin)
        if pair is None:
            continue
        if order.is_buy:
            holds[pair.quote.name] = holds.get(pair.quote.name, ZERO) + order.sz * order.limit_px
        else:
            holds[pair.base.name] = holds.get(pair.base.name, ZERO) + order.sz
    return holds


def available_margin(market: Market, account: Account, orders: list[RestingOrder], default_leverage: int) -> Decimal:
    """What new perp exposure may still use: collateral minus margin in use and held by orders.

    Standard: collateral is the perp account value. Unified/portfolio: the one USDC balance
    (spot USDC, less what resting spot buys hold) plus the perp account value.
    """
    summary = perp_summary(market, account, orders, default_leverage)
    collateral = summary.account_value
    if account.pooled:
        usdc = market.usdc().name
        collateral += account.spot.get(usdc, ZERO) - spot_holds(orders, market).get(usdc, ZERO)
    return collateral - summary.margin_used - summary.order_margin


def free_spot(
    market: Market, account: Account, orders: list[RestingOrder], token: str, default_leverage: int
) -> Decimal:
    """Spot balance of ``token`` that an order may use (total minus holds; in unified mode USDC
    is whatever perp margin leaves free)."""
    if account.pooled and token == market.usdc().name:
        return available_margin(market, account, orders, default_leverage)
    return account.spot.get(token, ZERO) - spot_holds(orders, market).get(token, ZERO)
