"""Builder-deployed perp dexes (HIP-3): each with its own market and the account's own clearinghouse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hlrebal.snapshot.models import AssetMarket, DexAccount, PerpPosition
from hlrebal.snapshot.numbers import Bad, req, whole
from hlrebal.snapshot.perp import parse_perp_market, parse_positions


def parse_dexes(
    doc: Mapping[str, Any], assets: dict[str, AssetMarket], positions: dict[str, PerpPosition]
) -> dict[str, DexAccount]:
    """Builder-deployed perp dexes: ``perpDexs`` fixes each dex's place (hence its asset ids, 100000
    + place x 10000 + index), ``dexes`` holds each dex's metaAndAssetCtxs and the account's
    clearinghouseState there. Their perps join ``assets`` and ``positions`` under "dex:COIN"."""
    listing = doc.get("perpDexs")
    states = doc.get("dexes")
    if states is None:
        return {}
    if not isinstance(states, dict) or not isinstance(listing, list):
        raise Bad("dexes: expected {name: {metaAndAssetCtxs, clearinghouseState}} with perpDexs beside it")
    places = {
        entry["name"]: place for place, entry in enumerate(listing) if isinstance(entry, dict) and "name" in entry
    }
    out: dict[str, DexAccount] = {}
    for name, state in states.items():
        where = f"dexes.{name}"
        if name not in places:
            raise Bad(f"{where}: not in perpDexs (its asset ids depend on its place there)")
        if not isinstance(state, dict):
            raise Bad(f"{where}: expected an object")
        sub = {"metaAndAssetCtxs": state.get("metaAndAssetCtxs"), "allMids": state.get("allMids") or {}}
        market = parse_perp_market(sub)
        offset = 100_000 + places[name] * 10_000
        meta = state["metaAndAssetCtxs"][0]
        for coin, m in market.items():
            if not coin.startswith(f"{name}:"):
                raise Bad(f"{where}: coin {coin!r} lacks the {name}: prefix")
            assets[coin] = m.model_copy(update={"asset_id": offset + m.asset_id, "dex": name})
        chs = state.get("clearinghouseState")
        if not isinstance(chs, dict) or not isinstance(chs.get("marginSummary"), dict):
            raise Bad(f"{where}.clearinghouseState: missing")
        positions.update(parse_positions(chs, assets))
        out[name] = DexAccount(
            name=name,
            account_value=req(chs["marginSummary"].get("accountValue"), f"{where}.marginSummary.accountValue"),
            total_margin_used=req(chs["marginSummary"].get("totalMarginUsed", "0"), f"{where}.totalMarginUsed"),
            collateral_token=whole(meta.get("collateralToken", 0), f"{where}.collateralToken"),
        )
    return out
