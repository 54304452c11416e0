"""Market-wide /info answers: meta, asset contexts, spotMeta, perpDexs, allMids, l2Book, and
the fee schedule, in the exchange's shapes (numbers as strings).

Shapes follow the exchange's docs, the python-sdk cassettes and nktkas/hyperliquid's response
types (which its tests check against the live API): every meta entry has a ``marginTableId``
(an id under 50 is a flat table at that leverage, df-hyperliquid-core documents); spotMeta's
tokens and universe are dense (the token with index i at position i, the pair with index i at
position i, as on mainnet, where clients such as ccxt look them up by position), the gaps of a
small market filled with inert placeholders (``SIM<i>`` tokens and their ``@<i>`` pairs, not
tradable); tokens carry ``deployerTradingFeeShare``; spot contexts ``totalSupply`` and
``dayBaseVlm``, perp contexts ``dayBaseVlm``; ``impactPxs`` are the average prices of a market
buy and sell of the impact notional (20,000 USD for BTC and ETH, 6,000 otherwise: the funding
docs) on the sim's book.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hlrebal.sim import book as orderbook
from hlrebal.sim.market import Instrument, Market, PerpAsset, PerpDex, SpotPair
from hlrebal.sim.numbers import ZERO, fmt, fmt_places

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine

IMPACT_LARGE = Decimal(20_000)
IMPACT_SMALL = Decimal(6_000)


def px(value: Decimal | None) -> str | None:
    return fmt(value) if value is not None else None


def meta(market: Market, dex: str = "") -> dict[str, Any]:
    builder = market.dex_by_name[dex] if dex else None
    universe = []
    for asset in market.dex_perps(dex):
        entry = dict(asset.meta) if asset.meta else {}
        entry.setdefault("szDecimals", asset.sz_decimals)
        entry.setdefault("name", asset.name)
        entry.setdefault("maxLeverage", asset.max_leverage)
        entry.setdefault("marginTableId", asset.max_leverage)  # a flat table at its max leverage
        if asset.only_isolated:
            entry["onlyIsolated"] = True
        if asset.is_delisted:
            entry["isDelisted"] = True
        universe.append(entry)
    tables = builder.margin_tables if builder is not None else market.margin_tables
    extra = builder.meta_extra if builder is not None else market.meta_extra
    out: dict[str, Any] = {"universe": universe, "marginTables": tables}
    out.update({k: v for k, v in extra.items() if k not in out})
    out.setdefault("collateralToken", 0)
    return out


def perp_dexs(market: Market) -> list[dict[str, Any] | None]:
    """perpDexs: null for the main dex, then one entry per builder dex."""
    return [None, *(perp_dex_entry(d) for d in market.dexes)]


def perp_dex_entry(dex: PerpDex) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": dex.name,
        "fullName": dex.name,
        "deployer": "0x" + "0" * 40,
        "oracleUpdater": None,
        "feeRecipient": None,
        "assetToStreamingOiCap": [],
    }
    entry.update(dex.info)
    entry["name"] = dex.name
    return entry


def impact_prices(engine: Engine, inst: Instrument) -> list[str] | None:
    """[impact bid, impact ask]: average fill prices of a market sell and buy of the impact
    notional on the current book; None when a side is empty."""
    mid = inst.book_mid
    if mid is None or mid <= 0:
        return None
    notional = IMPACT_LARGE if inst.coin in ("BTC", "ETH") else IMPACT_SMALL
    size = notional / mid
    out = []
    for is_buy in (False, True):
        plan = orderbook.sweep(engine.market, engine.config, engine.open_orders, inst, is_buy, size, None, None)
        filled = plan.filled
        if filled <= 0:
            return None
        out.append(fmt_places(sum((t.qty * t.px for t in plan.takes), ZERO) / filled, inst.max_price_decimals))
    return out


def perp_ctx(engine: Engine, asset: PerpAsset) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "funding": "0.0",
        "openInterest": "0.0",
        "prevDayPx": px(asset.mark) or "0.0",
        "dayNtlVlm": "0.0",
        "premium": "0.0",
        "dayBaseVlm": "0.0",
    }
    ctx.update(asset.ctx)
    ctx["oraclePx"] = px(asset.oracle if asset.oracle is not None else asset.mark)
    ctx["markPx"] = px(asset.mark)
    ctx["midPx"] = px(asset.mid)
    ctx["impactPxs"] = impact_prices(engine, asset)
    return ctx


def _token_entry(index: int, meta: dict[str, Any], name: str, sz: int, wei: int) -> dict[str, Any]:
    entry = dict(meta)
    entry.setdefault("name", name)
    entry.setdefault("szDecimals", sz)
    entry.setdefault("weiDecimals", wei)
    entry.setdefault("index", index)
    entry.setdefault("tokenId", "0x" + format(index, "032x"))
    entry.setdefault("isCanonical", False)
    entry.setdefault("evmContract", None)
    entry.setdefault("fullName", None)
    entry.setdefault("deployerTradingFeeShare", "0.0")
    return entry


def placeholder_token(index: int) -> dict[str, Any]:
    """An inert token filling a gap of a small market's dense token list."""
    return _token_entry(index, {}, f"SIM{index}", 0, 5)


def spot_meta(market: Market) -> dict[str, Any]:
    """spotMeta with dense tokens and universe (gaps filled with inert placeholders)."""
    by_index = {t.index: t for t in market.tokens}
    top = max(by_index, default=-1)
    tokens = []
    for index in range(top + 1):
        token = by_index.get(index)
        if token is None:
            tokens.append(placeholder_token(index))
        else:
            tokens.append(_token_entry(index, token.meta, token.name, token.sz_decimals, token.wei_decimals))
    universe = []
    pairs = {p.index: p for p in market.pairs}
    for index in range(max(pairs, default=-1) + 1):
        pair = pairs.get(index)
        if pair is None:
            universe.append(_placeholder_pair(index, top))
            continue
        entry = dict(pair.meta)
        entry.setdefault("tokens", [pair.base.index, pair.quote.index])
        entry.setdefault("name", pair.name)
        entry.setdefault("index", pair.index)
        entry.setdefault("isCanonical", pair.name == "PURR/USDC")
        universe.append(entry)
    out: dict[str, Any] = {"universe": universe, "tokens": tokens}
    out.update({k: v for k, v in market.spot_meta_extra.items() if k not in out})
    return out


def _placeholder_pair(index: int, top: int) -> dict[str, Any]:
    """A gap in the universe: an inert pair of a placeholder token (or of USDC against itself
    when the token list has no placeholder to give)."""
    base = index + 1 if index + 1 <= top else 0
    return {"tokens": [base, 0], "name": f"@{index}", "index": index, "isCanonical": False}


def spot_ctx(pair: SpotPair) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "prevDayPx": px(pair.mark) or "0.0",
        "dayNtlVlm": "0.0",
        "circulatingSupply": "0.0",
        "totalSupply": "0.0",
        "dayBaseVlm": "0.0",
    }
    ctx.update(pair.ctx)
    ctx["coin"] = pair.name
    ctx["markPx"] = px(pair.mark)
    ctx["midPx"] = px(pair.mid)
    return ctx


def spot_ctxs(market: Market) -> list[dict[str, Any]]:
    """Contexts in universe order, placeholders included (mark 1, no mid: not tradable)."""
    pairs = {p.index: p for p in market.pairs}
    out = []
    for index in range(max(pairs, default=-1) + 1):
        pair = pairs.get(index)
        if pair is not None:
            out.append(spot_ctx(pair))
        else:
            out.append(
                {
                    "coin": f"@{index}",
                    "prevDayPx": "1.0",
                    "dayNtlVlm": "0.0",
                    "markPx": "1.0",
                    "midPx": None,
                    "circulatingSupply": "0.0",
                    "totalSupply": "0.0",
                    "dayBaseVlm": "0.0",
                }
            )
    return out


def all_mids(market: Market, dex: str = "") -> dict[str, str]:
    """Mids of one dex's perps; the main dex's answer also carries the spot pairs."""
    instruments: list[Any] = [*market.perps, *market.pairs] if dex == "" else list(market.dex_perps(dex))
    mids: dict[str, str] = {}
    for inst in instruments:
        mid = inst.book_mid
        if mid is not None:
            mids[inst.coin] = fmt(mid)
    return mids


def l2_book(engine: Engine, coin: str) -> dict[str, Any] | None:
    inst = engine.market.by_coin(coin)
    if inst is None:
        return None
    bids, asks = orderbook.display(engine.market, engine.config, engine.open_orders, inst)
    side = [[{"px": fmt(p), "sz": fmt(sz), "n": n} for p, sz, n in levels[:20]] for levels in (bids, asks)]
    return {"coin": coin, "time": engine.now(), "levels": side}


# The fee schedule of the exchange's Fees page: VIP tiers by 14-day weighted volume (perps taker,
# maker; spot taker, maker), maker rebates by share of maker volume, staking discounts.
VIP_TIERS = (
    ("5000000.0", "0.0004", "0.00012", "0.0006", "0.0003"),
    ("25000000.0", "0.00035", "0.00008", "0.0005", "0.0002"),
    ("100000000.0", "0.0003", "0.00004", "0.0004", "0.0001"),
    ("500000000.0", "0.00028", "0.0", "0.00035", "0.0"),
    ("2000000000.0", "0.00026", "0.0", "0.0003", "0.0"),
    ("7000000000.0", "0.00024", "0.0", "0.00025", "0.0"),
)
MM_TIERS = (("0.005", "-0.00001"), ("0.015", "-0.00002"), ("0.03", "-0.00003"))
# HYPE staked (of a 1e9 max supply, in bps) and the discount: >10, >100, ... >500,000 HYPE.
STAKING_TIERS = (
    ("0.0001", "0.05"),
    ("0.001", "0.1"),
    ("0.01", "0.15"),
    ("0.1", "0.2"),
    ("1.0", "0.3"),
    ("5.0", "0.4"),
)


def fee_schedule(engine: Engine) -> dict[str, Any]:
    cfg = engine.config
    return {
        "cross": fmt(cfg.taker_fee),
        "add": fmt(cfg.maker_fee),
        "spotCross": fmt(cfg.spot_taker_fee),
        "spotAdd": fmt(cfg.spot_maker_fee),
        "tiers": {
            "vip": [
                {"ntlCutoff": n, "cross": c, "add": a, "spotCross": sc, "spotAdd": sa} for n, c, a, sc, sa in VIP_TIERS
            ],
            "mm": [{"makerFractionCutoff": f, "add": a} for f, a in MM_TIERS],
        },
        "referralDiscount": "0.04",
        "stakingDiscountTiers": [{"bpsOfMaxSupply": b, "discount": d} for b, d in STAKING_TIERS],
    }
