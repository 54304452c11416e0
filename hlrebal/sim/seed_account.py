"""Seeding the snapshot's account: positions and leverage, USDC so that accountValue reads back
exactly, spot balances, fees, the account mode and open orders, on the main dex and each builder dex."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hlrebal.sim.accounts import Account, LeverageSetting, Position, RestingOrder
from hlrebal.sim.engine import Engine, OrderRecord
from hlrebal.sim.numbers import ZERO
from hlrebal.sim.seed_fields import MODE_FROM_WIRE, SnapshotError, dex_data, num, opt


def seed_user(engine: Engine, snap: dict[str, Any]) -> None:
    """Seed the snapshot's "user": positions, leverage, USDC (so accountValue reads back exactly),
    spot balances, fee rates, account mode and open orders; the same on each builder dex."""
    user = snap.get("user")
    state = snap.get("clearinghouseState")
    if not isinstance(user, str):
        return
    dexes = {name: d for name, d in dex_data(snap).items() if isinstance(d.get("clearinghouseState"), dict)}
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
        acct.taker_fee = opt(fees.get("userCrossRate"))
        acct.maker_fee = opt(fees.get("userAddRate"))
        acct.spot_taker_fee = opt(fees.get("userSpotCrossRate"))
        acct.spot_maker_fee = opt(fees.get("userSpotAddRate"))
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
    value = num(state.get("marginSummary", {}).get("accountValue"), f"{where}accountValue")
    raw = value
    for entry in state.get("assetPositions", []):
        pos = entry["position"]
        coin = pos["coin"]
        asset = market.perp_by_name.get(coin)
        if asset is None or asset.dex != acct.dex:
            raise SnapshotError(f"{where}position in {coin}, which the universe does not list")
        szi = num(pos["szi"], "szi")
        if szi == 0:
            continue
        lev = pos.get("leverage") or {}
        is_cross = lev.get("type", "cross") == "cross"
        setting = LeverageSetting(
            int(lev.get("value", min(engine.config.default_leverage, asset.max_leverage))), is_cross
        )
        if asset.mark is None:
            asset.mark = num(pos["positionValue"], "positionValue") / abs(szi)
        mark = asset.mark
        entry_px = opt(pos.get("entryPx")) or mark
        iso_raw = ZERO
        if not is_cross:
            raw_usd = opt(lev.get("rawUsd"))
            iso_raw = raw_usd if raw_usd is not None else num(pos.get("marginUsed"), "marginUsed") - szi * mark
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
        total = num(balance.get("total"), "total")
        if token == usdc and acct.pooled:
            total -= perp_value  # unified: the spot USDC reading includes the perp side
        acct.spot[token] = total
        entry = opt(balance.get("entryNtl"))
        if entry is not None and token != usdc:
            acct.spot_entry_ntl[token] = entry


def _seed_open_orders(engine: Engine, orders: Any, address: str) -> None:
    for order in orders or []:
        inst = engine.market.by_coin(order.get("coin", ""))
        oid = order.get("oid")
        if inst is None or not isinstance(oid, int):
            continue
        px, sz = num(order.get("limitPx"), "limitPx"), num(order.get("sz"), "sz")
        orig = opt(order.get("origSz")) or sz
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
