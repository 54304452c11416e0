"""Seeded synthetic histories in the exchange's shapes, for tests, benchmarks and examples.

Prices follow a random walk of log returns (the same seed gives the same file); each close is
written with five significant figures, like the exchange's prices. Funding is paid every hour
around the exchange's baseline rate (0.00125% an hour), a few milliseconds after the hour.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hlrebal.backtest.history import HISTORY_VERSION, HOUR_MS, INTERVALS


@dataclass(frozen=True)
class Walk:
    """How one coin moves: its starting price and its volatility per candle (a fraction)."""

    price: float
    volatility: float = 0.01
    wire: str | None = None
    """The candles' coin name when it differs from the key (a spot pair's "@107")."""
    perp: bool = True
    drift: float = 0.0


def _px(value: float) -> str:
    return f"{float(f'{value:.5g}'):f}".rstrip("0").rstrip(".")


def candles(key: str, walk: Walk, interval: str, start_ms: int, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` raw candles from ``start_ms`` (an open time), as candleSnapshot answers them."""
    step = INTERVALS[interval]
    out = []
    price = walk.price
    for n in range(count):
        t = start_ms + n * step
        open_px = price
        price = price * math.exp(walk.drift + walk.volatility * rng.gauss(0.0, 1.0))
        high = max(open_px, price) * (1 + walk.volatility / 4)
        low = min(open_px, price) * (1 - walk.volatility / 4)
        out.append(
            {
                "t": t,
                "T": t + step - 1,
                "s": walk.wire or key,
                "i": interval,
                "o": _px(open_px),
                "c": _px(price),
                "h": _px(high),
                "l": _px(low),
                "v": f"{rng.uniform(100, 1000):.2f}",
                "n": rng.randint(50, 5000),
            }
        )
    return out


def funding(coin: str, start_ms: int, end_ms: int, rng: random.Random, base: float = 0.0000125) -> list[dict[str, Any]]:
    """Hourly funding entries with times in [start_ms, end_ms], as fundingHistory answers them."""
    first = -(-start_ms // HOUR_MS) * HOUR_MS
    out = []
    for hour in range(first, end_ms + 1, HOUR_MS):
        stamp = hour + rng.randint(0, 400)
        if stamp > end_ms:
            break
        rate = base + rng.gauss(0.0, base)
        out.append({"coin": coin, "fundingRate": f"{rate:.8f}", "premium": f"{rate - base:.8f}", "time": stamp})
    return out


def make_history(
    walks: Mapping[str, Walk],
    *,
    interval: str = "1h",
    count: int = 200,
    start_ms: int = 1_767_225_600_000,
    seed: int = 7,
    network: str = "demo",
) -> dict[str, Any]:
    """A history document: ``count`` candles of every coin from ``start_ms``, funding for the perps."""
    rng = random.Random(seed)
    step = INTERVALS[interval]
    end = start_ms + count * step - 1
    doc: dict[str, Any] = {
        "version": HISTORY_VERSION,
        "interval": interval,
        "network": network,
        "time": end + 1,
        "candleSnapshot": {},
        "fundingHistory": {},
    }
    for key, walk in walks.items():
        doc["candleSnapshot"][key] = candles(key, walk, interval, start_ms, count, rng)
        if walk.perp:
            doc["fundingHistory"][key] = funding(walk.wire or key, start_ms, end, rng)
    return doc
