"""Spot: the USDC-quoted pairs (``spotMetaAndAssetCtxs``) and the account's token balances
(``spotClearinghouseState``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hlrebal.snapshot.models import CASH_TOKEN, AssetMarket, SpotBalance
from hlrebal.snapshot.numbers import Bad, dec, req, whole


def parse_spot_balances(raw: Any) -> dict[str, SpotBalance]:
    """Token balances by token name ({} when the snapshot has no spot state)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not isinstance(raw.get("balances", []), list):
        raise Bad("spotClearinghouseState: expected {balances: [...]}")
    out: dict[str, SpotBalance] = {}
    for i, b in enumerate(raw.get("balances", [])):
        where = f"spotClearinghouseState.balances[{i}]"
        token = b.get("coin") if isinstance(b, dict) else None
        if not isinstance(token, str):
            raise Bad(f"{where}.coin: missing")
        out[token] = SpotBalance(
            token=token,
            total=req(b.get("total"), f"{where}.total"),
            hold=dec(b.get("hold", "0"), f"{where}.hold") or Decimal(0),
            entry_ntl=dec(b.get("entryNtl", "0"), f"{where}.entryNtl") or Decimal(0),
        )
    return out


def parse_spot_market(doc: Mapping[str, Any]) -> tuple[dict[str, AssetMarket], dict[str, str]]:
    """USDC-quoted spot pairs keyed by "BASE/USDC", with every alias ("@107") mapped to that key."""
    raw = doc.get("spotMetaAndAssetCtxs")
    if raw is None:
        return {}, {}
    if not isinstance(raw, list) or len(raw) != 2 or not isinstance(raw[0], dict):
        raise Bad("spotMetaAndAssetCtxs: expected [spotMeta, assetCtxs]")
    meta, ctxs = raw
    tokens = {}
    for i, t in enumerate(meta.get("tokens", [])):
        tokens[whole(t.get("index"), f"spotMetaAndAssetCtxs.tokens[{i}].index")] = t
    ctx_by_coin = {c.get("coin"): c for c in ctxs if isinstance(c, dict)} if isinstance(ctxs, list) else {}
    markets: dict[str, AssetMarket] = {}
    aliases: dict[str, str] = {}
    pairs = sorted(meta.get("universe", []), key=lambda u: (not u.get("isCanonical", False), u.get("index", 0)))
    for u in pairs:
        index = whole(u.get("index"), "spotMetaAndAssetCtxs.universe.index")
        where = f"spotMetaAndAssetCtxs.universe[{index}]"
        pair_tokens = u.get("tokens")
        if not isinstance(pair_tokens, list) or len(pair_tokens) != 2:
            raise Bad(f"{where}.tokens: expected [base, quote]")
        base, quote = tokens.get(pair_tokens[0]), tokens.get(pair_tokens[1])
        if base is None or quote is None:
            raise Bad(f"{where}.tokens: unknown token index")
        display = f"{base['name']}/{quote['name']}"
        wire = str(u.get("name"))
        if quote["name"] != CASH_TOKEN or display in markets:
            # hlrebal values and trades spot in USDC; a second pair of the same tokens is an alias.
            if display in markets:
                aliases.setdefault(wire, display)
            continue
        ctx = ctx_by_coin.get(wire, {})
        markets[display] = AssetMarket(
            coin=display,
            asset_id=10_000 + index,
            kind="spot",
            sz_decimals=whole(base.get("szDecimals"), f"{where} base szDecimals"),
            max_leverage=1,
            only_isolated=False,
            is_delisted=False,
            mid=dec(ctx.get("midPx"), f"{where}.midPx", optional=True),
            mark=dec(ctx.get("markPx"), f"{where}.markPx", optional=True),
            oracle=None,
            base=str(base["name"]),
            quote=str(quote["name"]),
            wire=wire,
        )
        aliases[display] = display
        aliases[wire] = display
    return markets, aliases
