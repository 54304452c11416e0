"""Builders of raw, Hyperliquid-shaped snapshot documents for tests.

The documents have exactly the shape the info API returns (numbers as strings), so the same
document can seed the simulator and be parsed by :mod:`hlrebal.snapshot`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

USER = "0x1111111111111111111111111111111111111111"

# (name, szDecimals, maxLeverage, price) — real szDecimals of the exchange
MARKET: list[tuple[str, int, int, str]] = [
    ("BTC", 5, 40, "85600"),
    ("ETH", 4, 25, "3050.4"),
    ("SOL", 2, 20, "142.53"),
    ("DOGE", 0, 10, "0.16123"),
    ("kPEPE", 0, 10, "0.006123"),
    ("HYPE", 2, 10, "38.412"),
    ("ATOM", 2, 5, "3.1205"),
    ("XRP", 0, 20, "2.0512"),
]


def asset_ctx(
    price: str | Decimal | None, mark: str | Decimal | None = None, oracle: str | Decimal | None = None
) -> dict[str, Any]:
    mid = None if price is None else str(price)
    mark_s = str(mark) if mark is not None else mid
    oracle_s = str(oracle) if oracle is not None else mark_s
    return {
        "funding": "0.0000125",
        "openInterest": "1000000.0",
        "prevDayPx": mark_s,
        "dayNtlVlm": "100000000.0",
        "premium": "0.0",
        "oraclePx": oracle_s,
        "markPx": mark_s,
        "midPx": mid,
        "impactPxs": [mid, mid] if mid else None,
        "dayBaseVlm": "1000.0",
    }


def make_snapshot(
    positions: Mapping[str, str | Decimal | tuple[str | Decimal, int] | tuple[str | Decimal, int, bool]] | None = None,
    *,
    cash: str | Decimal = "100000",
    market: Sequence[tuple[str, int, int, str]] = MARKET,
    user: str = USER,
    network: str = "testnet",
    extra_meta: Mapping[str, Mapping[str, Any]] | None = None,
    prices: Mapping[str, str | None] | None = None,
    open_orders: list[dict[str, Any]] | None = None,
    time_ms: int = 1_793_000_000_000,
    spot: Mapping[str, str] | None = None,
    spot_prices: Mapping[str, str] | None = None,
    spot_hold: Mapping[str, str] | None = None,
    mode: str | None = None,
) -> dict[str, Any]:
    """A snapshot document: ``positions`` maps coin -> szi or (szi, leverage[, is_cross]).

    ``cash`` is the raw USD balance (``totalRawUsd``); accountValue = cash + sum(szi x mark).
    """
    positions = positions or {}
    prices = dict(prices or {})
    universe = []
    ctxs = []
    mark_of: dict[str, Decimal] = {}
    for name, szd, max_lev, px in market:
        entry: dict[str, Any] = {"szDecimals": szd, "name": name, "maxLeverage": max_lev, "marginTableId": max_lev}
        entry.update((extra_meta or {}).get(name, {}))
        universe.append(entry)
        price = prices.get(name, px)
        ctxs.append(asset_ctx(price, mark=px if price is None else None))
        mark_of[name] = Decimal(px if price is None else price)
    asset_positions = []
    ntl = Decimal(0)
    margin = Decimal(0)
    for coin, spec in positions.items():
        if isinstance(spec, tuple):
            szi, lev, *rest = spec
            cross = rest[0] if rest else True
        else:
            szi, lev, cross = spec, 10, True
        szi = Decimal(str(szi))
        value = abs(szi) * mark_of[coin]
        ntl += szi * mark_of[coin]
        margin += value / lev
        lev_doc: dict[str, Any] = {"type": "cross" if cross else "isolated", "value": lev}
        if not cross:
            lev_doc["rawUsd"] = str(-(szi * mark_of[coin]) + value / lev)
        asset_positions.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": coin,
                    "szi": str(szi),
                    "leverage": lev_doc,
                    "entryPx": str(mark_of[coin]),
                    "positionValue": str(value),
                    "unrealizedPnl": "0.0",
                    "returnOnEquity": "0.0",
                    "liquidationPx": None,
                    "marginUsed": str(value / lev),
                    "maxLeverage": dict((m[0], m[2]) for m in market)[coin],
                    "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"},
                },
            }
        )
    account_value = Decimal(str(cash)) + ntl
    summary = {
        "accountValue": str(account_value),
        "totalNtlPos": str(
            sum(
                (abs(Decimal(p["position"]["szi"])) * mark_of[p["position"]["coin"]] for p in asset_positions),
                Decimal(0),
            )
        ),
        "totalRawUsd": str(Decimal(str(cash))),
        "totalMarginUsed": str(margin),
    }
    doc: dict[str, Any] = {
        "version": 1,
        "user": user,
        "network": network,
        "time": time_ms,
        "clearinghouseState": {
            "marginSummary": summary,
            "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": str(margin / 2),
            "withdrawable": str(max(account_value - margin, Decimal(0))),
            "assetPositions": asset_positions,
            "time": time_ms,
        },
        "metaAndAssetCtxs": [{"universe": universe, "marginTables": [], "collateralToken": 0}, ctxs],
        "openOrders": open_orders or [],
    }
    if spot is not None:
        doc["spotClearinghouseState"] = spot_state(spot, spot_hold)
        doc["spotMetaAndAssetCtxs"] = spot_market(spot_prices)
    if mode is not None:
        doc["userAbstraction"] = mode
    return doc


SPOT_TOKENS = [("USDC", 0, 8), ("PURR", 1, 0), ("HYPE", 150, 2), ("UBTC", 197, 5)]
# (pair name on the wire, base token index, universe index, price)
SPOT_PAIRS = [("PURR/USDC", 1, 0, "0.18123"), ("@107", 150, 107, "38.41"), ("@142", 197, 142, "85590")]


def spot_state(balances: Mapping[str, str], hold: Mapping[str, str] | None = None) -> dict[str, Any]:
    index = {name: i for name, i, _ in SPOT_TOKENS}
    return {
        "balances": [
            {"coin": t, "token": index[t], "total": str(v), "hold": str((hold or {}).get(t, "0.0")), "entryNtl": "0.0"}
            for t, v in balances.items()
        ]
    }


def spot_market(prices: Mapping[str, str] | None = None) -> list[Any]:
    prices = prices or {}
    tokens = [
        {"name": n, "szDecimals": d, "weiDecimals": 8, "index": i, "tokenId": f"0x{i:032x}", "isCanonical": i < 2}
        for n, i, d in SPOT_TOKENS
    ]
    universe = [
        {"tokens": [base, 0], "name": wire, "index": idx, "isCanonical": idx == 0} for wire, base, idx, _ in SPOT_PAIRS
    ]
    ctxs = []
    for wire, _, _, px in SPOT_PAIRS:
        price = prices.get(wire, px)
        ctxs.append(
            {
                "coin": wire,
                "prevDayPx": px,
                "dayNtlVlm": "1000000.0",
                "markPx": price,
                "midPx": price,
                "circulatingSupply": "1000000.0",
            }
        )
    return [{"universe": universe, "tokens": tokens}, ctxs]


def btc_80_20() -> dict[str, Any]:
    """The seed example: $100,000 of equity, 80% in a BTC long at 10x cross, 20% USDC."""
    # 0.93458 BTC x 85,600 = 80,000.048; cash makes equity exactly 100,000.
    return make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952")


def add_dex(
    doc: dict[str, Any],
    name: str,
    market: Sequence[tuple[str, int, int, str]],
    positions: Mapping[str, str | Decimal | tuple[str | Decimal, int] | tuple[str | Decimal, int, bool]] | None = None,
    *,
    cash: str | Decimal = "0",
) -> dict[str, Any]:
    """``doc`` with a builder-deployed perp dex (HIP-3) ``name``: its market (coins named without
    the prefix) and the account's own clearinghouse there, as the snapshot reads them."""
    prefixed = [(f"{name}:{coin}", *rest) for coin, *rest in market]
    sub = make_snapshot(
        {f"{name}:{coin}": spec for coin, spec in (positions or {}).items()},
        cash=cash,
        market=prefixed,  # type: ignore[arg-type]
        user=doc["user"],
    )
    doc.setdefault("perpDexs", [None]).append({"name": name})
    doc.setdefault("dexes", {})[name] = {
        "metaAndAssetCtxs": sub["metaAndAssetCtxs"],
        "clearinghouseState": sub["clearinghouseState"],
    }
    return doc
