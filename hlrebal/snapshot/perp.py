"""The main dex's perps: the market (``metaAndAssetCtxs``, or the older ``meta`` plus ``allMids``),
the account's positions (``clearinghouseState``) and its resting orders (``openOrders``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hlrebal.snapshot.models import AssetMarket, OpenOrder, PerpPosition
from hlrebal.snapshot.numbers import Bad, dec, req, whole


def parse_perp_market(doc: Mapping[str, Any]) -> dict[str, AssetMarket]:
    """Every perp of the universe by coin, its asset id its place there, priced from its context."""
    if "metaAndAssetCtxs" in doc:
        pair = doc["metaAndAssetCtxs"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise Bad("metaAndAssetCtxs: expected [meta, assetCtxs]")
        meta, ctxs = pair
        where = "metaAndAssetCtxs"
    elif "meta" in doc:
        meta, ctxs = doc["meta"], None
        where = "meta"
    else:
        raise Bad("metaAndAssetCtxs: missing (or the older meta plus allMids)")
    universe = meta.get("universe") if isinstance(meta, dict) else None
    if not isinstance(universe, list):
        raise Bad(f"{where}: meta.universe missing")
    if ctxs is not None and (not isinstance(ctxs, list) or len(ctxs) != len(universe)):
        raise Bad(f"{where}: expected one asset context per universe entry")
    mids = doc.get("allMids") or {}
    if not isinstance(mids, dict):
        raise Bad("allMids: expected an object of coin -> price")

    assets: dict[str, AssetMarket] = {}
    for index, entry in enumerate(universe):
        coin = entry["name"]
        here = f"{where}.universe[{index}] ({coin})"
        ctx = ctxs[index] if ctxs is not None else {}
        mid = dec(ctx.get("midPx"), f"{here}.midPx", optional=True)
        if mid is None and coin in mids:
            mid = dec(mids[coin], f"allMids.{coin}")
        assets[coin] = AssetMarket(
            coin=coin,
            asset_id=index,
            kind="perp",
            sz_decimals=whole(entry.get("szDecimals"), f"{here}.szDecimals"),
            max_leverage=whole(entry.get("maxLeverage", 1), f"{here}.maxLeverage", minimum=1),
            only_isolated=bool(entry.get("onlyIsolated", False)) or entry.get("marginMode") == "strictIsolated",
            is_delisted=bool(entry.get("isDelisted", False)),
            mid=mid,
            mark=dec(ctx.get("markPx"), f"{here}.markPx", optional=True),
            oracle=dec(ctx.get("oraclePx"), f"{here}.oraclePx", optional=True),
        )
    return assets


def parse_positions(state: Mapping[str, Any], assets: dict[str, AssetMarket]) -> dict[str, PerpPosition]:
    """The open positions of one clearinghouse state (zero sizes dropped), by coin."""
    positions: dict[str, PerpPosition] = {}
    for i, item in enumerate(state.get("assetPositions", [])):
        pos = item["position"]
        coin = pos["coin"]
        where = f"clearinghouseState.assetPositions[{i}] ({coin})"
        szi = req(pos.get("szi"), f"{where}.szi")
        if szi == 0:
            continue
        lev = pos.get("leverage") or {}
        value = dec(pos.get("positionValue", "0"), f"{where}.positionValue") or Decimal(0)
        positions[coin] = PerpPosition(
            coin=coin,
            szi=szi,
            entry_px=dec(pos.get("entryPx"), f"{where}.entryPx", optional=True),
            leverage=whole(lev.get("value", 1), f"{where}.leverage.value", minimum=1),
            is_cross=lev.get("type", "cross") == "cross",
            margin_used=req(pos.get("marginUsed", "0"), f"{where}.marginUsed"),
            position_value=value,
            unrealized_pnl=req(pos.get("unrealizedPnl", "0"), f"{where}.unrealizedPnl"),
        )
        market = assets.get(coin)
        if market is not None and market.reference_price is None and value > 0:
            # Older recordings may lack a mid for a held coin: its own value per unit is the best
            # price the snapshot has, and it is the price the exchange valued the position at.
            assets[coin] = market.model_copy(update={"mark": value / abs(szi)})
    return positions


def parse_open_orders(raw: Any) -> tuple[OpenOrder, ...]:
    """The account's resting orders, in the order the exchange listed them."""
    if not raw:
        return ()
    if not isinstance(raw, list):
        raise Bad("openOrders: expected a list")
    out = []
    for i, o in enumerate(raw):
        where = f"openOrders[{i}]"
        out.append(
            OpenOrder(
                coin=o["coin"],
                side="buy" if o["side"] == "B" else "sell",
                limit_px=req(o.get("limitPx"), f"{where}.limitPx"),
                size=req(o.get("sz"), f"{where}.sz"),
                oid=whole(o.get("oid"), f"{where}.oid"),
                timestamp=whole(o.get("timestamp", 0), f"{where}.timestamp"),
            )
        )
    return tuple(out)
