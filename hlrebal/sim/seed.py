"""Building the simulated exchange from a snapshot file, or a small default market.

A snapshot is a JSON object whose keys are info request types and values the raw responses:
{"version": 1, "user": "0x..", "time": ms, "clearinghouseState": {...},
 "metaAndAssetCtxs": [meta, ctxs]} and optionally "spotClearinghouseState",
"spotMetaAndAssetCtxs", "allMids", "openOrders", "userFees", "userAbstraction"; older
recordings carry "meta" + "allMids" instead of metaAndAssetCtxs. Keys starting with "_" are
comments. The account named by "user" is seeded so that it reads back with exactly the
snapshot's accountValue at the marks the sim uses.

Builder-deployed (HIP-3) perp dexes: "perpDexs": [null, {"name": "xyz", ...}, ...] (the info
answer as is; it fixes each dex's place, hence its asset ids) and "dexes": {"xyz":
{"metaAndAssetCtxs": [meta, ctxs], "clearinghouseState": {...}}} (optionally "meta",
"allMids", "openOrders", and the sim's own "feeMultiplier"). A dex listed in perpDexs without
data gets an empty universe; one with data but missing from perpDexs is appended to it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from hlrebal.sim.config import DexConfig, SimConfig
from hlrebal.sim.engine import Engine
from hlrebal.sim.market import Market, PerpAsset, PerpDex, SpotPair, SpotToken
from hlrebal.sim.numbers import parse_wire
from hlrebal.sim.seed_account import seed_user
from hlrebal.sim.seed_fields import SnapshotError, dex_data, load, num, opt

PRICE_KEYS = ("markPx", "midPx", "oraclePx")

DEFAULT_PERPS: list[tuple[str, int, int, str]] = [
    ("BTC", 5, 40, "85600"),
    ("ETH", 4, 25, "3050.4"),
    ("SOL", 2, 20, "142.53"),
    ("HYPE", 2, 10, "38.412"),
]


def default_market() -> Market:
    """BTC, ETH, SOL, HYPE perps; USDC, PURR, HYPE spot tokens; PURR/USDC and HYPE/USDC (@107)."""
    perps = []
    for index, (name, sz_decimals, max_leverage, px) in enumerate(DEFAULT_PERPS):
        price = Decimal(px)
        perps.append(
            PerpAsset(
                index=index,
                name=name,
                sz_decimals=sz_decimals,
                max_leverage=max_leverage,
                mark=price,
                mid=price,
                oracle=price,
                meta={
                    "szDecimals": sz_decimals,
                    "name": name,
                    "maxLeverage": max_leverage,
                    "marginTableId": max_leverage,
                },
            )
        )
    tables = [
        [lev, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}]}]
        for lev in sorted({p.max_leverage for p in perps})
    ]
    usdc = SpotToken(0, "USDC", 8, 8, {"isCanonical": True})
    purr = SpotToken(1, "PURR", 0, 5, {"isCanonical": True})
    hype = SpotToken(150, "HYPE", 2, 8, {"isCanonical": False})
    pairs = [
        SpotPair(
            0,
            "PURR/USDC",
            purr,
            usdc,
            mark=Decimal("0.18123"),
            mid=Decimal("0.18123"),
            meta={"isCanonical": True},
        ),
        SpotPair(107, "@107", hype, usdc, mark=Decimal("38.41"), mid=Decimal("38.41"), meta={"isCanonical": False}),
    ]
    return Market(perps, [usdc, purr, hype], pairs, margin_tables=tables)


def _held_prices(state: Any) -> dict[str, Decimal]:
    """positionValue / |szi| of each held coin: the price of a coin the snapshot gives none."""
    held: dict[str, Decimal] = {}
    if not isinstance(state, dict):
        return held
    for entry in state.get("assetPositions", []):
        pos = entry.get("position", {})
        szi = num(pos.get("szi"), "szi")
        if szi != 0 and pos.get("positionValue") is not None:
            held[pos.get("coin")] = num(pos["positionValue"], "positionValue") / abs(szi)
    return held


def _meta_and_ctxs(data: dict[str, Any], where: str) -> tuple[dict[str, Any], list[Any] | None]:
    if data.get("metaAndAssetCtxs") is not None:
        pair = data["metaAndAssetCtxs"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise SnapshotError(f"{where}metaAndAssetCtxs must be [meta, ctxs]")
        meta, ctxs = pair[0], pair[1]
    elif data.get("meta") is not None:
        meta, ctxs = data["meta"], None
    else:
        raise SnapshotError(f"the snapshot has neither {where}metaAndAssetCtxs nor {where}meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("universe"), list):
        raise SnapshotError(f"{where}meta.universe is missing")
    return meta, ctxs


def _only_isolated(entry: dict[str, Any]) -> bool:
    """onlyIsolated, or a marginMode that forbids cross margin (GUESS: "strictIsolated" and
    "noCross", as later metas write it)."""
    return bool(entry.get("onlyIsolated", False)) or entry.get("marginMode") in ("strictIsolated", "noCross")


def _perps(
    meta: dict[str, Any], ctxs: list[Any] | None, mids: dict[str, Any], held: dict[str, Decimal]
) -> list[PerpAsset]:
    perps = []
    for index, entry in enumerate(meta["universe"]):
        name = entry["name"]
        ctx = dict(ctxs[index]) if ctxs is not None and index < len(ctxs) else {}
        fallback = opt(mids.get(name)) or held.get(name)
        mark = opt(ctx.get("markPx")) or fallback
        mid = opt(ctx.get("midPx")) if ctxs is not None else fallback
        if mid is None and ctxs is not None:
            mid = opt(mids.get(name))
        oracle = opt(ctx.get("oraclePx")) or mark
        perps.append(
            PerpAsset(
                index=index,
                name=name,
                sz_decimals=int(entry["szDecimals"]),
                max_leverage=int(entry["maxLeverage"]),
                only_isolated=_only_isolated(entry),
                is_delisted=bool(entry.get("isDelisted", False)),
                mark=mark,
                mid=mid,
                oracle=oracle,
                meta=dict(entry),
                ctx={k: v for k, v in ctx.items() if k not in PRICE_KEYS},
            )
        )
    return perps


def build_market(snap: dict[str, Any]) -> Market:
    mids = snap.get("allMids") or {}
    if not isinstance(mids, dict):
        raise SnapshotError("allMids must be an object")
    meta, ctxs = _meta_and_ctxs(snap, "")
    perps = _perps(meta, ctxs, mids, _held_prices(snap.get("clearinghouseState")))
    extra = {k: v for k, v in meta.items() if k not in ("universe", "marginTables")}
    market = Market(perps, [], [], margin_tables=meta.get("marginTables"), meta_extra=extra)
    _seed_spot(market, snap, mids)
    _seed_dexes(market, snap)
    return market


def _seed_dexes(market: Market, snap: dict[str, Any]) -> None:
    """The builder dexes of "perpDexs" (in its order) and "dexes", with their markets."""
    listed = snap.get("perpDexs")
    if listed is None:
        listed = [None]
    if not isinstance(listed, list) or not all(e is None or isinstance(e, dict) for e in listed):
        raise SnapshotError("perpDexs must be a list of null and objects")
    data = dex_data(snap)
    entries: list[dict[str, Any]] = [e for e in listed if e is not None]
    known = {e.get("name") for e in entries}
    entries += [{"name": name} for name in data if name not in known]
    for entry in entries:
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise SnapshotError(f"perpDexs entry without a name: {entry!r}")
        dex_snap = data.get(name) or {}
        info = {k: v for k, v in entry.items() if k != "name"}
        if not dex_snap:
            market.add_dex(PerpDex(name=name, position=0, info=info, meta_extra={"collateralToken": 0}))
            continue
        where = f"dexes.{name}."
        mids = dex_snap.get("allMids") or {}
        meta, ctxs = _meta_and_ctxs(dex_snap, where)
        perps = _perps(meta, ctxs, mids, _held_prices(dex_snap.get("clearinghouseState")))
        for asset in perps:
            if not asset.name.startswith(f"{name}:"):
                raise SnapshotError(f"{where}meta lists {asset.name!r}: a {name} coin is named {name}:COIN")
        multiplier = opt(dex_snap.get("feeMultiplier"))
        try:
            market.add_dex(
                PerpDex(
                    name=name,
                    position=0,
                    info=info,
                    perps=perps,
                    margin_tables=list(meta.get("marginTables") or []),
                    meta_extra={k: v for k, v in meta.items() if k not in ("universe", "marginTables")},
                    fee_multiplier=multiplier if multiplier is not None else Decimal(1),
                )
            )
        except ValueError as e:
            raise SnapshotError(str(e)) from e


def dex_from_config(dex: DexConfig) -> PerpDex:
    """A builder dex from ``sim.add_dex`` / ``SimConfig.dexes`` arguments."""
    perps = []
    for index, spec in enumerate(dex.assets):
        if len(spec) != 4:
            raise ValueError(f"a dex asset is (coin, szDecimals, maxLeverage, price), not {spec!r}")
        coin, sz_decimals, max_leverage, px = spec
        if not isinstance(coin, str) or not coin or ":" in coin:
            raise ValueError(f"a dex asset's coin is given without the dex prefix, not {coin!r}")
        price = parse_wire(px if not isinstance(px, float) else repr(px))
        if price is None or price <= 0:
            raise ValueError(f"invalid price for {coin}: {px!r}")
        name = f"{dex.name}:{coin}"
        perps.append(
            PerpAsset(
                index=index,
                name=name,
                sz_decimals=int(sz_decimals),
                max_leverage=int(max_leverage),
                mark=price,
                mid=price,
                oracle=price,
                meta={
                    "szDecimals": int(sz_decimals),
                    "name": name,
                    "maxLeverage": int(max_leverage),
                    "marginTableId": int(max_leverage),
                },
            )
        )
    tables = [
        [lev, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}]}]
        for lev in sorted({p.max_leverage for p in perps})
    ]
    info: dict[str, Any] = {"fullName": dex.name, "deployer": "0x" + "0" * 40, "oracleUpdater": None}
    info.update({"feeRecipient": None, "assetToStreamingOiCap": []})
    info.update(dex.info)
    return PerpDex(
        name=dex.name,
        position=0,
        info=info,
        perps=perps,
        margin_tables=tables,
        meta_extra={"collateralToken": dex.collateral_token},
        fee_multiplier=dex.fee_multiplier,
    )


def _seed_spot(market: Market, snap: dict[str, Any], mids: dict[str, Any]) -> None:
    if snap.get("spotMetaAndAssetCtxs") is not None:
        spot_meta, ctx_list = snap["spotMetaAndAssetCtxs"][0], snap["spotMetaAndAssetCtxs"][1]
    elif snap.get("spotMeta") is not None:
        spot_meta, ctx_list = snap["spotMeta"], []
    else:
        fresh = default_market()
        market.tokens, market.pairs = fresh.tokens, fresh.pairs
        market._reindex()
        return
    tokens = [
        SpotToken(int(t["index"]), t["name"], int(t["szDecimals"]), int(t["weiDecimals"]), dict(t))
        for t in spot_meta.get("tokens", [])
    ]
    by_index = {t.index: t for t in tokens}
    ctx_by_coin = {c.get("coin"): c for c in ctx_list if isinstance(c, dict)}
    pairs = []
    for position, entry in enumerate(spot_meta.get("universe", [])):
        base_index, quote_index = entry["tokens"]
        if base_index not in by_index or quote_index not in by_index:
            continue
        ctx = dict(ctx_by_coin.get(entry["name"]) or (ctx_list[position] if position < len(ctx_list) else {}))
        mark = opt(ctx.get("markPx")) or opt(mids.get(entry["name"]))
        mid = opt(ctx.get("midPx")) or opt(mids.get(entry["name"]))
        pairs.append(
            SpotPair(
                int(entry["index"]),
                entry["name"],
                by_index[base_index],
                by_index[quote_index],
                mark=mark,
                mid=mid,
                meta=dict(entry),
                ctx={k: v for k, v in ctx.items() if k not in ("markPx", "midPx", "coin")},
            )
        )
    if 0 not in by_index:
        raise SnapshotError("spotMeta has no token 0 (USDC)")
    market.tokens, market.pairs = tokens, pairs
    market.spot_meta_extra = {k: v for k, v in spot_meta.items() if k not in ("tokens", "universe")}
    market._reindex()


def build_engine(snapshot: str | Path | dict[str, Any] | None, config: SimConfig, clock: Callable[[], int]) -> Engine:
    """A fresh engine: seeded from the snapshot, or the default market with no accounts."""
    snap = load(snapshot)
    if snap is None:
        engine = Engine(default_market(), config, clock)
    else:
        engine = Engine(build_market(snap), config, clock)
        seed_user(engine, snap)
    add_config_dexes(engine.market, config)
    from hlrebal.sim import flow, history

    flow.attach(engine)
    history.attach(engine)
    if engine.history is not None and engine.history.kind == "file":
        engine.tick()  # the replayed prices from the first candle on
    return engine


def add_config_dexes(market: Market, config: SimConfig) -> None:
    """List the SimConfig's dexes that the market does not have yet (after the snapshot's)."""
    for dex in config.dexes:
        if dex.name not in market.dex_by_name:
            market.add_dex(dex_from_config(dex))


__all__ = ["SnapshotError", "build_engine", "build_market", "default_market", "load", "seed_user"]
