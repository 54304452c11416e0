"""Answers to /info requests, in the exchange's shapes (numbers as strings)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hlrebal.sim import info_user
from hlrebal.sim.accounts import Account, perp_summary, spot_holds
from hlrebal.sim.engine import Engine, OrderRecord
from hlrebal.sim.info_market import all_mids, fee_schedule, l2_book, meta, perp_ctx, perp_dexs, spot_ctxs, spot_meta
from hlrebal.sim.market import Market
from hlrebal.sim.numbers import ZERO, fmt, fmt_places, fmt_usd
from hlrebal.sim.rules import reject_status

MODE_WIRE = {
    "default": "default",
    "standard": "disabled",
    "unified": "unifiedAccount",
    "portfolio": "portfolioMargin",
}


# Info types that answer for one perp dex, chosen by the body's "dex" ("" or absent: the main
# dex). Other types ignore "dex" (userFills is reported to return every dex's fills whatever it
# says).
DEX_TYPES = ("meta", "metaAndAssetCtxs", "clearinghouseState", "openOrders", "frontendOpenOrders", "allMids")


class BadRequest(Exception):
    """The body does not describe a known request: the server answers 422."""


class UnknownDex(Exception):
    """A dex-scoped request names a dex that perpDexs does not list."""


def _summary_dict(value: Decimal, ntl: Decimal, raw: Decimal, used: Decimal) -> dict[str, str]:
    return {
        "accountValue": fmt_usd(value),
        "totalNtlPos": fmt_usd(ntl),
        "totalRawUsd": fmt_usd(raw),
        "totalMarginUsed": fmt_usd(used),
    }


def clearinghouse_state(engine: Engine, user: str, dex: str = "") -> dict[str, Any]:
    owner = engine.account(user)
    acct = owner.clearinghouse(dex, create=False) if owner is not None else None
    acct = acct or Account(address=user.lower(), dex=dex)
    summary = perp_summary(engine.market, acct, engine.orders_of(acct.address), engine.config.default_leverage)
    positions = []
    for view in summary.positions:
        pos, setting = view.position, view.setting
        upnl = pos.szi * (view.mark - pos.entry_px)
        initial = abs(pos.szi) * pos.entry_px / setting.value
        leverage: dict[str, Any] = {
            "type": "cross" if setting.is_cross else "isolated",
            "value": setting.value,
        }
        if not setting.is_cross:
            leverage["rawUsd"] = fmt_usd(pos.iso_raw)
        positions.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": pos.coin,
                    "szi": fmt(pos.szi),
                    "leverage": leverage,
                    "entryPx": fmt_places(pos.entry_px, 8),
                    "positionValue": fmt_usd(view.ntl),
                    "unrealizedPnl": fmt_usd(upnl),
                    "returnOnEquity": fmt_places(upnl / initial, 8) if initial > 0 else "0.0",
                    "liquidationPx": None,
                    "marginUsed": fmt_usd(view.margin_used),
                    "maxLeverage": view.asset.max_leverage,
                    "cumFunding": dict(pos.cum_funding),
                },
            }
        )
    return {
        "marginSummary": _summary_dict(
            summary.account_value, summary.total_ntl, summary.total_raw, summary.margin_used
        ),
        "crossMarginSummary": _summary_dict(
            summary.cross_account_value, summary.cross_ntl, summary.cross_raw, summary.cross_margin_used
        ),
        "crossMaintenanceMarginUsed": fmt_usd(summary.cross_maintenance),
        "withdrawable": fmt_usd(summary.withdrawable),
        "assetPositions": positions,
        "time": engine.clock(),
    }


def spot_clearinghouse_state(engine: Engine, user: str) -> dict[str, Any]:
    acct = engine.account(user)
    if acct is None:
        return {"balances": []}
    market = engine.market
    orders = engine.orders_of(acct.address)
    holds = spot_holds(orders, market)
    totals = dict(acct.spot)
    usdc = market.usdc().name
    if acct.pooled:
        summary = perp_summary(market, acct, orders, engine.config.default_leverage)
        totals[usdc] = totals.get(usdc, ZERO) + summary.account_value
        holds[usdc] = holds.get(usdc, ZERO) + summary.margin_used + summary.order_margin
    balances = []
    for token in market.tokens:
        total = totals.get(token.name, ZERO)
        hold = holds.get(token.name, ZERO)
        if total == 0 and hold == 0 and not (token.name == usdc and token.name in acct.spot):
            continue
        places = min(token.wei_decimals, 8)
        balances.append(
            {
                "coin": token.name,
                "token": token.index,
                "total": fmt_places(total, places),
                "hold": fmt_places(hold, places),
                "entryNtl": fmt_usd(acct.spot_entry_ntl.get(token.name, ZERO)) if token.name != usdc else "0.0",
            }
        )
    return {"balances": balances}


def _order_wire(record: OrderRecord, frontend: bool) -> dict[str, Any]:
    """An order as openOrders (``frontend`` False) or frontendOpenOrders, orderStatus and
    historicalOrders show it. openOrders omits ``cloid`` when the order has none and
    ``reduceOnly`` unless true; the frontend form always has both (cloid null), as in the
    exchange's docs and recorded answers."""
    data: dict[str, Any] = {
        "coin": record.coin,
        "side": "B" if record.is_buy else "A",
        "limitPx": fmt(record.px) if record.px is not None else "0.0",
        "sz": fmt(record.sz_left),
        "oid": record.oid,
        "timestamp": record.time,
        "origSz": fmt(record.sz) if record.sz is not None else "0.0",
    }
    if not frontend:
        if record.reduce_only:
            data["reduceOnly"] = True
        if record.cloid is not None:
            data["cloid"] = record.cloid
        return data
    data.update(
        {
            "triggerCondition": "N/A",
            "isTrigger": False,
            "triggerPx": "0.0",
            "children": [],
            "isPositionTpsl": False,
            "reduceOnly": record.reduce_only,
            "orderType": "Limit",
            "tif": record.tif,
            "cloid": record.cloid,
        }
    )
    return data


def order_entry(record: OrderRecord) -> dict[str, Any]:
    """{"order": ..., "status": ..., "statusTimestamp": ...} of orderStatus and historicalOrders."""
    status = {"resting": "open", "error": None}.get(record.status, record.status)
    if status is None:
        status = reject_status(record.error or "")
    return {
        "order": _order_wire(record, frontend=True),
        "status": status,
        "statusTimestamp": record.status_time or record.time,
    }


def _order_dex(market: Market, coin: str) -> str:
    asset = market.perp_by_name.get(coin)
    return asset.dex if asset is not None else ""


def open_orders(engine: Engine, user: str, frontend: bool, dex: str = "") -> list[dict[str, Any]]:
    """Resting orders on one dex (the main dex's answer also lists spot orders)."""
    orders = sorted(
        (o for o in engine.orders_of(user) if _order_dex(engine.market, o.coin) == dex), key=lambda o: -o.oid
    )
    out = []
    for order in orders:
        record = engine.records_by_oid[order.oid]
        out.append(_order_wire(record, frontend))
    return out


def order_status(engine: Engine, user: str, oid: Any) -> dict[str, Any]:
    key = user.lower()
    record: OrderRecord | None = None
    if isinstance(oid, int) and not isinstance(oid, bool):
        found = engine.records_by_oid.get(oid)
        record = found if found is not None and found.account == key else None
    elif isinstance(oid, str):
        for candidate in reversed(engine.records):
            if candidate.account == key and candidate.cloid is not None and candidate.cloid.lower() == oid.lower():
                record = candidate
                break
    else:
        raise BadRequest("oid")
    if record is None:
        return {"status": "unknownOid"}
    return {"status": "order", "order": order_entry(record)}


def user_fills(engine: Engine, user: str) -> list[dict[str, Any]]:
    key = user.lower()
    return [dict(f.data) for f in reversed(engine.fills) if f.account == key][:2000]


def user_fees(engine: Engine, user: str) -> dict[str, Any]:
    acct = engine.account(user)
    cfg = engine.config

    def rate(own: Decimal | None, default: Decimal) -> str:
        return fmt(own if own is not None else default)

    return {
        "dailyUserVlm": [],
        "feeSchedule": fee_schedule(engine),
        "userCrossRate": rate(acct.taker_fee if acct else None, cfg.taker_fee),
        "userAddRate": rate(acct.maker_fee if acct else None, cfg.maker_fee),
        "userSpotCrossRate": rate(acct.spot_taker_fee if acct else None, cfg.spot_taker_fee),
        "userSpotAddRate": rate(acct.spot_maker_fee if acct else None, cfg.spot_maker_fee),
        "activeReferralDiscount": "0.0",
        "trial": None,
        "feeTrialEscrow": "0.0",
        "nextTrialAvailableTimestamp": None,
        "stakingLink": None,
        "activeStakingDiscount": {"bpsOfMaxSupply": "0.0", "discount": "0.0"},
    }


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    if not isinstance(user, str) or not user.startswith("0x") or len(user) != 42:
        raise BadRequest("user")
    return user.lower()


def request_dex(market: Market, body: dict[str, Any]) -> str:
    """The dex a body asks about: "" (main) when absent; UnknownDex when perpDexs lacks it."""
    dex = body.get("dex")
    if dex is None:
        return ""
    if not isinstance(dex, str):
        raise BadRequest("dex")
    if body.get("type") in DEX_TYPES and not market.has_dex(dex):
        raise UnknownDex(dex)
    return dex


def answer(engine: Engine, body: dict[str, Any]) -> Any:
    """The response to one /info body; raises BadRequest for an unknown or malformed one and
    UnknownDex for a dex-scoped one naming a dex perpDexs does not list."""
    kind = body.get("type")
    market = engine.market
    dex = request_dex(market, body) if kind in DEX_TYPES else ""
    if kind == "meta":
        return meta(market, dex)
    if kind == "metaAndAssetCtxs":
        return [meta(market, dex), [perp_ctx(engine, a) for a in market.dex_perps(dex)]]
    if kind == "allPerpMetas":
        return [meta(market, d) for d in ("", *(x.name for x in market.dexes))]
    if kind == "spotMeta":
        return spot_meta(market)
    if kind == "spotMetaAndAssetCtxs":
        return [spot_meta(market), spot_ctxs(market)]
    if kind == "allMids":
        return all_mids(market, dex)
    if kind == "perpDexs":
        return perp_dexs(market)
    if kind == "l2Book":
        coin = body.get("coin")
        if not isinstance(coin, str):
            raise BadRequest("coin")
        return l2_book(engine, coin)
    if kind == "clearinghouseState":
        return clearinghouse_state(engine, _user(body), dex)
    if kind == "spotClearinghouseState":
        return spot_clearinghouse_state(engine, _user(body))
    if kind == "openOrders":
        return open_orders(engine, _user(body), frontend=False, dex=dex)
    if kind == "frontendOpenOrders":
        return open_orders(engine, _user(body), frontend=True, dex=dex)
    if kind == "orderStatus":
        return order_status(engine, _user(body), body.get("oid"))
    if kind == "userFills":
        return user_fills(engine, _user(body))
    if kind == "userFees":
        return user_fees(engine, _user(body))
    if kind == "userAbstraction":
        acct = engine.account(_user(body))
        return MODE_WIRE[acct.mode] if acct is not None else "default"
    if kind == "userRole":
        return user_role(engine, _user(body))
    if kind == "exchangeStatus":
        return info_user.exchange_status(engine)
    if kind in ("candleSnapshot", "fundingHistory"):
        from hlrebal.sim import history  # candles and funding: only clients that ask pay for them

        try:
            if kind == "candleSnapshot":
                return history.candle_snapshot(engine, body)
            return history.funding_history(engine, body)
        except history.BadRequest as e:
            raise BadRequest(str(e)) from e
    handler = info_user.USER_ANSWERS.get(str(kind))
    if handler is not None:
        try:
            return handler(engine, _user(body), body)
        except info_user.BadRange as e:
            raise BadRequest(str(e)) from e
    raise BadRequest(f"unknown info type {kind!r}")


def user_role(engine: Engine, user: str) -> dict[str, Any]:
    """``userRole``: what an address is: an API wallet (with the account it signs for), a vault,
    a sub-account (with its master), a user, or missing."""
    agent = engine.agents.get(user)
    if agent is not None:
        return {"role": "agent", "data": {"user": agent.account}}
    vault = engine.vaults.get(user)
    if vault is not None:
        if vault.kind == "subaccount":
            return {"role": "subAccount", "data": {"master": vault.leader}}
        return {"role": "vault"}
    if engine.account(user) is not None:
        return {"role": "user"}
    return {"role": "missing"}
