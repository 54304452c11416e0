"""Saving and loading the simulator's state as JSON (numbers as strings), written atomically."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from hlrebal.sim.accounts import Account, LeverageSetting, Position, RestingOrder
from hlrebal.sim.config import BookConfig, SimConfig
from hlrebal.sim.engine import Agent, Engine, Fill, OrderRecord, Vault
from hlrebal.sim.market import Market, PerpAsset, PerpDex, SpotPair, SpotToken
from hlrebal.sim.records import LedgerUpdate, Twap

FORMAT = 1


def _d(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _D(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _req(value: str | None) -> Decimal:
    assert value is not None
    return Decimal(value)


def dump(engine: Engine) -> dict[str, Any]:
    """The engine as a JSON-able dict."""
    return {
        "format": FORMAT,
        "market": _dump_market(engine.market),
        "accounts": [_dump_account(a) for a in engine.accounts.values()],
        "agents": {
            addr: {"account": a.account, "name": a.name, "valid_until": a.valid_until}
            for addr, a in engine.agents.items()
        },
        "vaults": {addr: {"leader": v.leader, "kind": v.kind} for addr, v in engine.vaults.items()},
        "nonces": engine.nonces.kept,
        "open_orders": [_dump_order(o) for o in engine.open_orders.values()],
        "records": [_dump_record(r) for r in engine.records],
        "fills": [{"account": f.account, "data": f.data} for f in engine.fills],
        "next_oid": engine.next_oid,
        "next_tid": engine.next_tid,
        "orders_received": engine.orders_received,
        "twaps": [_dump_twap(t) for t in engine.twaps.values()],
        "next_twap_id": engine.next_twap_id,
        "ledger": [asdict(u) for u in engine.ledger],
        "funding_log": [asdict(u) for u in engine.funding_log],
        "next_hash": engine.next_hash,
        "last_tick": engine.last_tick,
        "next_funding": engine.next_funding,
        "extra": dump_extra(engine),
    }


def _dump_market(market: Market) -> dict[str, Any]:
    """The instruments, their prices and books, as ``restore`` reads them back."""
    return {
        "perps": [_dump_perp(p) for p in market.perps],
        "dexes": [
            {
                "name": d.name,
                "info": d.info,
                "perps": [_dump_perp(p) for p in d.perps],
                "margin_tables": d.margin_tables,
                "meta_extra": d.meta_extra,
                "fee_multiplier": str(d.fee_multiplier),
            }
            for d in market.dexes
        ],
        "tokens": [
            {
                "index": t.index,
                "name": t.name,
                "sz_decimals": t.sz_decimals,
                "wei_decimals": t.wei_decimals,
                "meta": t.meta,
            }
            for t in market.tokens
        ],
        "pairs": [
            {
                "index": p.index,
                "name": p.name,
                "base": p.base.index,
                "quote": p.quote.index,
                "mark": _d(p.mark),
                "mid": _d(p.mid),
                "meta": p.meta,
                "ctx": p.ctx,
            }
            for p in market.pairs
        ],
        "margin_tables": market.margin_tables,
        "meta_extra": market.meta_extra,
        "spot_meta_extra": market.spot_meta_extra,
        "book_overrides": {
            coin: {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(b).items()}
            for coin, b in market.book_overrides.items()
        },
        "consumed": {
            coin: [{str(i): str(q) for i, q in side.items()} for side in sides]
            for coin, sides in market.consumed.items()
        },
    }


def dump_extra(engine: Engine) -> dict[str, Any]:
    """State of the optional processes (market flow, history replay)."""
    from hlrebal.sim import flow, history

    return {"flow": flow.dump(engine), "history": history.dump(engine)}


def _dump_twap(t: Twap) -> dict[str, Any]:
    data = asdict(t)
    for key in ("sz", "executed_sz", "executed_ntl"):
        data[key] = str(data[key])
    return data


def _restore_twap(t: dict[str, Any]) -> Twap:
    return Twap(**{**t, **{k: Decimal(t[k]) for k in ("sz", "executed_sz", "executed_ntl")}})


def _dump_perp(p: PerpAsset) -> dict[str, Any]:
    return {
        "index": p.index,
        "name": p.name,
        "sz_decimals": p.sz_decimals,
        "max_leverage": p.max_leverage,
        "only_isolated": p.only_isolated,
        "is_delisted": p.is_delisted,
        "mark": _d(p.mark),
        "mid": _d(p.mid),
        "oracle": _d(p.oracle),
        "meta": p.meta,
        "ctx": p.ctx,
    }


def _restore_perp(p: dict[str, Any]) -> PerpAsset:
    return PerpAsset(
        index=p["index"],
        name=p["name"],
        sz_decimals=p["sz_decimals"],
        max_leverage=p["max_leverage"],
        only_isolated=p["only_isolated"],
        is_delisted=p["is_delisted"],
        mark=_D(p["mark"]),
        mid=_D(p["mid"]),
        oracle=_D(p["oracle"]),
        meta=p["meta"],
        ctx=p["ctx"],
    )


def _dump_account(a: Account) -> dict[str, Any]:
    return {
        "address": a.address,
        "perp_raw": str(a.perp_raw),
        "mode": a.mode,
        "positions": [
            {
                "coin": p.coin,
                "szi": str(p.szi),
                "entry_px": str(p.entry_px),
                "iso_raw": str(p.iso_raw),
                "cum_funding": p.cum_funding,
            }
            for p in a.positions.values()
        ],
        "leverage": {coin: {"value": s.value, "is_cross": s.is_cross} for coin, s in a.leverage.items()},
        "spot": {t: str(v) for t, v in a.spot.items()},
        "spot_entry_ntl": {t: str(v) for t, v in a.spot_entry_ntl.items()},
        "fees": [_d(a.taker_fee), _d(a.maker_fee), _d(a.spot_taker_fee), _d(a.spot_maker_fee)],
        "scheduled_cancel": a.scheduled_cancel,
        "cancel_triggers": list(a.cancel_triggers),
        "cum_vlm": str(a.cum_vlm),
        "requests": [a.requests_used, a.requests_cap, a.requests_surplus, a.throttled_at],
        "builders": a.builders,
        "referrer": a.referrer,
        "dex": a.dex,
        "dexes": {name: _dump_account(part) for name, part in a.dexes.items()},
    }


def _restore_account(a: dict[str, Any]) -> Account:
    acct = Account(address=a["address"], perp_raw=Decimal(a["perp_raw"]), mode=a["mode"], dex=a.get("dex", ""))
    for p in a["positions"]:
        acct.positions[p["coin"]] = Position(
            coin=p["coin"],
            szi=Decimal(p["szi"]),
            entry_px=Decimal(p["entry_px"]),
            iso_raw=Decimal(p["iso_raw"]),
            cum_funding=p["cum_funding"],
        )
    acct.leverage = {c: LeverageSetting(s["value"], s["is_cross"]) for c, s in a["leverage"].items()}
    acct.spot = {t: Decimal(v) for t, v in a["spot"].items()}
    acct.spot_entry_ntl = {t: Decimal(v) for t, v in a["spot_entry_ntl"].items()}
    acct.taker_fee, acct.maker_fee, acct.spot_taker_fee, acct.spot_maker_fee = (_D(x) for x in a["fees"])
    acct.scheduled_cancel = a["scheduled_cancel"]
    day, fired = a.get("cancel_triggers") or (0, 0)
    acct.cancel_triggers = (int(day), int(fired))
    acct.cum_vlm = Decimal(a.get("cum_vlm", "0"))
    acct.requests_used, acct.requests_cap, acct.requests_surplus, acct.throttled_at = a.get(
        "requests", [0, None, 0, None]
    )
    acct.builders = dict(a.get("builders") or {})
    acct.referrer = a.get("referrer")
    acct.dexes = {name: _restore_account(part) for name, part in (a.get("dexes") or {}).items()}
    return acct


def _dump_order(o: RestingOrder) -> dict[str, Any]:
    data = asdict(o)
    for key in ("limit_px", "sz", "orig_sz", "ahead"):
        data[key] = str(data[key])
    return data


def _dump_record(r: OrderRecord) -> dict[str, Any]:
    data = asdict(r)
    for key in ("px", "sz", "filled_sz", "notional", "fee", "sz_left"):
        data[key] = _d(data[key])
    return data


def restore(data: dict[str, Any], config: SimConfig, clock: Callable[[], int]) -> Engine:
    """An engine from ``dump``'s output."""
    if data.get("format") != FORMAT:
        raise ValueError(f"unsupported sim state format {data.get('format')!r}")
    engine = Engine(_restore_market(data["market"]), config, clock)
    for a in data["accounts"]:
        acct = _restore_account(a)
        engine.accounts[acct.address] = acct
    engine.agents = {addr: Agent(**a) for addr, a in data["agents"].items()}
    engine.vaults = {addr: Vault(**v) for addr, v in data["vaults"].items()}
    engine.nonces.kept = {signer: list(ns) for signer, ns in data["nonces"].items()}
    _restore_orders(engine, data)
    engine.fills = [Fill(account=f["account"], data=f["data"]) for f in data["fills"]]
    engine.next_oid, engine.next_tid = data["next_oid"], data["next_tid"]
    engine.orders_received = data["orders_received"]
    engine.twaps = {t["twap_id"]: _restore_twap(t) for t in data.get("twaps") or []}
    engine.next_twap_id = data.get("next_twap_id", 1)
    engine.ledger = [LedgerUpdate(**u) for u in data.get("ledger") or []]
    engine.funding_log = [LedgerUpdate(**u) for u in data.get("funding_log") or []]
    engine.next_hash = data.get("next_hash", 1)
    engine.last_tick = data.get("last_tick")
    engine.next_funding = data.get("next_funding")
    restore_extra(engine, data.get("extra") or {})
    return engine


def _restore_orders(engine: Engine, data: dict[str, Any]) -> None:
    """Resting orders and every order's record, indexed by oid as the engine keeps them."""
    for o in data["open_orders"]:
        order = RestingOrder(
            **{
                **o,
                "limit_px": Decimal(o["limit_px"]),
                "sz": Decimal(o["sz"]),
                "orig_sz": Decimal(o["orig_sz"]),
                "ahead": Decimal(o.get("ahead", "0")),
            }
        )
        engine.open_orders[order.oid] = order
    for r in data["records"]:
        record = OrderRecord(
            **{
                **r,
                **{k: _D(r[k]) for k in ("px", "sz")},
                **{k: _req(r[k]) for k in ("filled_sz", "notional", "fee", "sz_left")},
            }
        )
        engine.records.append(record)
        if record.oid is not None:
            engine.records_by_oid[record.oid] = record


def _restore_market(m: dict[str, Any]) -> Market:
    """The market of ``_dump_market``'s output."""
    perps = [_restore_perp(p) for p in m["perps"]]
    dexes = [
        PerpDex(
            name=d["name"],
            position=position,
            info=d["info"],
            perps=[_restore_perp(p) for p in d["perps"]],
            margin_tables=d["margin_tables"],
            meta_extra=d["meta_extra"],
            fee_multiplier=Decimal(d["fee_multiplier"]),
        )
        for position, d in enumerate(m.get("dexes") or [], start=1)
    ]
    tokens = [SpotToken(t["index"], t["name"], t["sz_decimals"], t["wei_decimals"], t["meta"]) for t in m["tokens"]]
    by_index = {t.index: t for t in tokens}
    pairs = [
        SpotPair(
            p["index"],
            p["name"],
            by_index[p["base"]],
            by_index[p["quote"]],
            mark=_D(p["mark"]),
            mid=_D(p["mid"]),
            meta=p["meta"],
            ctx=p["ctx"],
        )
        for p in m["pairs"]
    ]
    market = Market(
        perps,
        tokens,
        pairs,
        margin_tables=m["margin_tables"],
        meta_extra=m["meta_extra"],
        spot_meta_extra=m["spot_meta_extra"],
        dexes=dexes,
    )
    for coin, b in m["book_overrides"].items():
        market.book_overrides[coin] = BookConfig(
            spread=_D(b["spread"]),
            level_notional=_D(b["level_notional"]),
            levels=b["levels"],
            level_step=_D(b["level_step"]),
        )
    for coin, sides in m["consumed"].items():
        market.consumed[coin] = (
            {int(i): Decimal(q) for i, q in sides[0].items()},
            {int(i): Decimal(q) for i, q in sides[1].items()},
        )
    return market


def restore_extra(engine: Engine, extra: dict[str, Any]) -> None:
    from hlrebal.sim import flow, history

    flow.restore(engine, extra.get("flow"))
    history.restore(engine, extra.get("history"))


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half:
    a temporary file in the same directory, flushed and fsynced, then os.replace."""
    import tempfile  # here: it loads random (and its seeding), which a read-only demo run never needs

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save(engine: Engine, path: str | Path) -> None:
    write_atomic(path, json.dumps(dump(engine), indent=1, sort_keys=True))


def load(path: str | Path, config: SimConfig, clock: Callable[[], int]) -> Engine:
    with open(path, encoding="utf-8") as handle:
        return restore(json.load(handle), config, clock)
