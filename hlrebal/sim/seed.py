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

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from hlrebal.sim.accounts import Account, LeverageSetting, Position, RestingOrder
from hlrebal.sim.config import DexConfig, SimConfig
from hlrebal.sim.engine import Engine, OrderRecord
from hlrebal.sim.market import Market, PerpAsset, PerpDex, SpotPair, SpotToken
from hlrebal.sim.numbers import ZERO, parse_wire

MODE_FROM_WIRE = {
    "disabled": "standard",
    "unifiedAccount": "unified",
    "portfolioMargin": "portfolio",
    "default": "default",
    "dexAbstraction": "standard",
}
PRICE_KEYS = ("markPx", "midPx", "oraclePx")

DEFAULT_PERPS: list[tuple[str, int, int, str]] = [
    ("BTC", 5, 40, "85600"),
    ("ETH", 4, 25, "3050.4"),
    ("SOL", 2, 20, "142.53"),
    ("HYPE", 2, 10, "38.412"),
]


class SnapshotError(ValueError):
    """The snapshot cannot seed the sim (missing universe, unknown coin, bad numbers)."""


def load(snapshot: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    """The snapshot as a dict (read from a path, or given), comments dropped."""
    if snapshot is None:
        return None
    if isinstance(snapshot, dict):
        data = snapshot
    else:
        with open(snapshot, encoding="utf-8") as handle:
            data = json.load(handle)
    if not isinstance(data, dict):
        raise SnapshotError("a snapshot is a JSON object")
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _num(value: Any, what: str) -> Decimal:
    parsed = parse_wire(value)
    if parsed is None:
        raise SnapshotError(f"{what}: not a number: {value!r}")
    return parsed


def _opt(value: Any) -> Decimal | None:
    return parse_wire(value) if value is not None else None


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
        szi = _num(pos.get("szi"), "szi")
        if szi != 0 and pos.get("positionValue") is not None:
            held[pos.get("coin")] = _num(pos["positionValue"], "positionValue") / abs(szi)
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
        fallback = _opt(mids.get(name)) or held.get(name)
        mark = _opt(ctx.get("markPx")) or fallback
        mid = _opt(ctx.get("midPx")) if ctxs is not None else fallback
        if mid is None and ctxs is not None:
            mid = _opt(mids.get(name))
        oracle = _opt(ctx.get("oraclePx")) or mark
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


def _dex_data(snap: dict[str, Any]) -> dict[str, Any]:
    data = snap.get("dexes") or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise SnapshotError('"dexes" must map each dex name to an object')
    return data


def _seed_dexes(market: Market, snap: dict[str, Any]) -> None:
    """The builder dexes of "perpDexs" (in its order) and "dexes", with their markets."""
    listed = snap.get("perpDexs")
    if listed is None:
        listed = [None]
    if not isinstance(listed, list) or not all(e is None or isinstance(e, dict) for e in listed):
        raise SnapshotError("perpDexs must be a list of null and objects")
    data = _dex_data(snap)
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
        multiplier = _opt(dex_snap.get("feeMultiplier"))
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
        mark = _opt(ctx.get("markPx")) or _opt(mids.get(entry["name"]))
        mid = _opt(ctx.get("midPx")) or _opt(mids.get(entry["name"]))
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


def seed_user(engine: Engine, snap: dict[str, Any]) -> None:
    """Seed the snapshot's "user": positions, leverage, USDC (so accountValue reads back exactly),
    spot balances, fee rates, account mode and open orders; the same on each builder dex."""
    user = snap.get("user")
    state = snap.get("clearinghouseState")
    if not isinstance(user, str):
        return
    dexes = {name: d for name, d in _dex_data(snap).items() if isinstance(d.get("clearinghouseState"), dict)}
    if not isinstance(state, dict) and not dexes:
        return
    acct = engine.ensure_account(user)
    value = _seed_clearinghouse(engine, acct, state) if isinstance(state, dict) else ZERO
    mode = snap.get("userAbstraction")
    if isinstance(mode, str):
        acct.mode = MODE_FROM_WIRE.get(mode, "default")  # type: ignore[assignment]
    _seed_spot_balances(engine, snap, acct.address, value)
    fees = snap.get("userFees")
    if isinstance(fees, dict):
        acct.taker_fee = _opt(fees.get("userCrossRate"))
        acct.maker_fee = _opt(fees.get("userAddRate"))
        acct.spot_taker_fee = _opt(fees.get("userSpotCrossRate"))
        acct.spot_maker_fee = _opt(fees.get("userSpotAddRate"))
    _seed_open_orders(engine, snap.get("openOrders"), acct.address)
    for name, dex_snap in dexes.items():
        book = acct.clearinghouse(name)
        assert book is not None
        _seed_clearinghouse(engine, book, dex_snap["clearinghouseState"], f"dexes.{name}.")
        _seed_open_orders(engine, dex_snap.get("openOrders"), acct.address)


def _seed_clearinghouse(engine: Engine, acct: Account, state: dict[str, Any], where: str = "") -> Decimal:
    """Positions, leverage and raw USD of one clearinghouse (main, or a builder dex's) so that it
    reads back with the recorded accountValue; returns that accountValue."""
    market = engine.market
    value = _num(state.get("marginSummary", {}).get("accountValue"), f"{where}accountValue")
    raw = value
    for entry in state.get("assetPositions", []):
        pos = entry["position"]
        coin = pos["coin"]
        asset = market.perp_by_name.get(coin)
        if asset is None or asset.dex != acct.dex:
            raise SnapshotError(f"{where}position in {coin}, which the universe does not list")
        szi = _num(pos["szi"], "szi")
        if szi == 0:
            continue
        lev = pos.get("leverage") or {}
        is_cross = lev.get("type", "cross") == "cross"
        setting = LeverageSetting(
            int(lev.get("value", min(engine.config.default_leverage, asset.max_leverage))), is_cross
        )
        if asset.mark is None:
            asset.mark = _num(pos["positionValue"], "positionValue") / abs(szi)
        mark = asset.mark
        entry_px = _opt(pos.get("entryPx")) or mark
        iso_raw = ZERO
        if not is_cross:
            raw_usd = _opt(lev.get("rawUsd"))
            iso_raw = raw_usd if raw_usd is not None else _num(pos.get("marginUsed"), "marginUsed") - szi * mark
            raw -= iso_raw + szi * mark
        else:
            raw -= szi * mark
        acct.leverage[coin] = setting
        funding = pos.get("cumFunding") if isinstance(pos.get("cumFunding"), dict) else None
        position = Position(coin=coin, szi=szi, entry_px=entry_px, iso_raw=iso_raw)
        if funding:
            position.cum_funding = {k: str(v) for k, v in funding.items()}
        acct.positions[coin] = position
    acct.perp_raw = raw
    return value


def _seed_spot_balances(engine: Engine, snap: dict[str, Any], address: str, perp_value: Decimal) -> None:
    spot_state = snap.get("spotClearinghouseState")
    if not isinstance(spot_state, dict):
        return
    acct = engine.ensure_account(address)
    usdc = engine.market.usdc().name
    for balance in spot_state.get("balances", []):
        token = balance.get("coin")
        if token not in engine.market.token_by_name:
            raise SnapshotError(f"spot balance in {token}, which spotMeta does not list")
        total = _num(balance.get("total"), "total")
        if token == usdc and acct.pooled:
            total -= perp_value  # unified: the spot USDC reading includes the perp side
        acct.spot[token] = total
        entry = _opt(balance.get("entryNtl"))
        if entry is not None and token != usdc:
            acct.spot_entry_ntl[token] = entry


def _seed_open_orders(engine: Engine, orders: Any, address: str) -> None:
    for order in orders or []:
        inst = engine.market.by_coin(order.get("coin", ""))
        oid = order.get("oid")
        if inst is None or not isinstance(oid, int):
            continue
        px, sz = _num(order.get("limitPx"), "limitPx"), _num(order.get("sz"), "sz")
        orig = _opt(order.get("origSz")) or sz
        is_buy = order.get("side") == "B"
        when = int(order.get("timestamp", engine.clock()))
        cloid = order.get("cloid") if isinstance(order.get("cloid"), str) else None
        reduce_only = bool(order.get("reduceOnly", False))
        engine.orders_received += 1
        record = OrderRecord(
            seq=engine.orders_received,
            time=when,
            nonce=None,
            signer=None,
            account=address,
            asset=inst.asset_id,
            coin=inst.coin,
            is_buy=is_buy,
            px=px,
            sz=orig,
            reduce_only=reduce_only,
            tif="Gtc",
            cloid=cloid,
            status="resting",
            oid=oid,
            filled_sz=orig - sz,
            notional=(orig - sz) * px,
            sz_left=sz,
            status_time=when,
        )
        engine.records.append(record)
        engine.records_by_oid[oid] = record
        engine.open_orders[oid] = RestingOrder(
            oid=oid,
            account=address,
            coin=inst.coin,
            asset=inst.asset_id,
            is_buy=is_buy,
            limit_px=px,
            sz=sz,
            orig_sz=orig,
            reduce_only=reduce_only,
            tif="Gtc",
            cloid=cloid,
            timestamp=when,
            is_spot=inst.is_spot,
        )
        engine.next_oid = max(engine.next_oid, oid + 1)


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
