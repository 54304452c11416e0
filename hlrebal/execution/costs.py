"""What a run cost: fees in USD and the implementation shortfall against the arrival price.

The arrival price of a coin is the mid in the snapshot the plan was made from. For every fill,
``shortfall = side x (fill price - arrival mid) x size`` (side +1 for a buy, -1 for a sell: positive
means paid away), plus the fee in USD. A spot fill's fee is paid in the token received: a buy of
HYPE pays it in HYPE (converted here at the fill price), a sell in USDC.

Fills come from one ``userFills`` request at the end of the run, matched to the run's orders by
order id. When that request fails, each filled order counts as one fill at its average price and
its fee is estimated from the fee rates (``fees_estimated`` says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from hlrebal.errors import HlrebalError
from hlrebal.exchange import ExchangeClient
from hlrebal.execution.models import CoinCost, CostReport, ExecutionReport, Fill, OrderReport
from hlrebal.market import PERP_MAKER_FEE, SPOT_MAKER_FEE, SPOT_TAKER_FEE
from hlrebal.policy import Policy
from hlrebal.snapshot import CASH_TOKEN, Snapshot

_ZERO = Decimal(0)


def is_spot(coin: str) -> bool:
    """Spot pairs are keyed "BASE/QUOTE" in plans and reports."""
    return "/" in coin


def fee_in_usd(order: OrderReport, fee: Decimal, price: Decimal, fee_token: str | None) -> Decimal:
    """A fill's fee in USD: spot fees paid in the base token (a buy's) are worth ``fee x price``."""
    if not is_spot(order.coin):
        return fee  # perps pay in the margin token (USDC, or a builder dex's USD-like collateral)
    base, _, quote = order.coin.partition("/")
    token = fee_token if fee_token else (base if order.is_buy else quote or CASH_TOKEN)
    return fee * price if token == base else fee


def parse_fill(order: OrderReport, raw: Mapping[str, Any]) -> Fill:
    """One ``userFills`` entry of ``order`` as a :class:`Fill` (fee in USD)."""
    price = Decimal(str(raw.get("px", "0")))
    size = Decimal(str(raw.get("sz", "0")))
    fee = Decimal(str(raw.get("fee", "0")))
    token = raw.get("feeToken")
    return Fill(
        oid=int(raw["oid"]),
        coin=order.coin,
        side=order.side,
        price=price,
        size=size,
        fee_usd=fee_in_usd(order, fee, price, token if isinstance(token, str) else None),
        maker=raw.get("crossed") is False,
        time=int(raw.get("time") or 0),
    )


def fee_rate(order: OrderReport, policy: Policy) -> Decimal:
    """The rate an order's fee is estimated at when the account's fills cannot be read."""
    maker = order.tif == "Alo"
    if is_spot(order.coin):
        return SPOT_MAKER_FEE if maker else SPOT_TAKER_FEE
    return PERP_MAKER_FEE if maker else policy.fee_rate


def attach_fills(orders: Iterable[OrderReport], raw_fills: Iterable[Mapping[str, Any]] | None, policy: Policy) -> bool:
    """Give every filled order its fills and its fee in USD; returns True when a fee was estimated."""
    by_oid: dict[int, list[Mapping[str, Any]]] = {}
    for raw in raw_fills or ():
        oid = raw.get("oid")
        if isinstance(oid, int):
            by_oid.setdefault(oid, []).append(raw)
    estimated = False
    for o in orders:
        if o.filled_size <= 0 or (o.twap_id is not None and o.fills):
            continue  # nothing filled, or a native TWAP whose slice fills it already carries
        found = by_oid.get(o.oid) if o.oid is not None else None
        if found:
            o.fills = [parse_fill(o, raw) for raw in found]
            o.fee, o.fee_estimated = sum((f.fee_usd for f in o.fills), _ZERO), False
        elif o.avg_price is not None:
            rate = fee_rate(o, policy)
            maker = o.tif == "Alo"
            o.fills = [
                Fill(o.oid or 0, o.coin, o.side, o.avg_price, o.filled_size, o.filled_size * o.avg_price * rate, maker)
            ]
            o.fee, o.fee_estimated, estimated = o.fills[0].fee_usd, True, True
    return estimated


def arrival_prices(snapshot: Snapshot) -> dict[str, Decimal]:
    """The mid (else the mark) of every market in the snapshot the plan was made from."""
    out: dict[str, Decimal] = {}
    for coin, market in [*snapshot.assets.items(), *snapshot.spot_assets.items()]:
        price = market.reference_price
        if price is not None:
            out[coin] = price
    return out


def cost_report(
    orders: Iterable[OrderReport], arrival: Mapping[str, Decimal], *, estimated_fees: Decimal | None = None
) -> CostReport:
    """Shortfall and fees per coin (in the order coins were first traded) and in total."""
    fills_by_coin: dict[str, list[Fill]] = {}
    estimated = False
    for o in orders:
        if o.fills:
            fills_by_coin.setdefault(o.coin, []).extend(o.fills)
            estimated = estimated or o.fee_estimated
    coins = []
    for coin, fills in fills_by_coin.items():
        fallback = fills[0].price  # a coin missing from the snapshot: its first fill is its arrival
        mid = arrival.get(coin, fallback)
        shortfall = sum(((f.price - mid) * f.size * (1 if f.side == "buy" else -1) for f in fills), _ZERO)
        coins.append(
            CoinCost(
                coin=coin,
                arrival_price=mid,
                filled_size=sum((f.size for f in fills), _ZERO),
                notional=sum((f.notional for f in fills), _ZERO),
                shortfall_usd=shortfall,
                fees_usd=sum((f.fee_usd for f in fills), _ZERO),
                maker_notional=sum((f.notional for f in fills if f.maker), _ZERO),
                fills=len(fills),
            )
        )
    return CostReport(coins=tuple(coins), estimated_fees=estimated_fees, fees_estimated=estimated)


def settle(
    client: ExchangeClient,
    user: str,
    report: ExecutionReport,
    policy: Policy,
    arrival: Mapping[str, Decimal],
    *,
    estimated_fees: Decimal | None = None,
) -> None:
    """Read the account's fills once, give every order its fills and USD fee, and cost the run."""
    filled = [o for o in report.orders if o.filled_size > 0]
    raw: list[dict[str, Any]] | None = None
    if any(o.oid is not None for o in filled):
        try:
            raw = client.user_fills(user)
        except HlrebalError:
            raw = None  # estimated below, and said so
    attach_fills(filled, raw, policy)
    report.costs = cost_report(report.orders, arrival, estimated_fees=estimated_fees)
