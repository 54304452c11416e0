"""Builders of small history documents and a fake exchange that answers history requests by its rules.

The fake answers ``candleSnapshot`` and ``fundingHistory`` as shared/HYPERLIQUID.md says the
exchange does: only the 5,000 most recent candles of an interval (the one still open among them),
candles that overlap the range asked, at most 500 items an answer, oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from hlrebal.backtest.history import HOUR_MS, INTERVALS
from hlrebal.demo import demo_snapshot_doc
from hlrebal.snapshot import Snapshot

START = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def candle(key: str, t: int, close: str, interval: str = "1h", wire: str | None = None) -> dict[str, Any]:
    step = INTERVALS[interval]
    return {
        "t": t,
        "T": t + step - 1,
        "s": wire or key,
        "i": interval,
        "o": close,
        "c": close,
        "h": close,
        "l": close,
        "v": "1.0",
        "n": 1,
    }


def history_doc(
    closes: Mapping[str, Sequence[str | float]],
    *,
    interval: str = "1h",
    start: int = START,
    wires: Mapping[str, str] | None = None,
    funding: Mapping[str, Sequence[tuple[int, str]]] | None = None,
    perps: Sequence[str] | None = None,
    rate: str = "0",
) -> dict[str, Any]:
    """A history with the given closes; perps (default: keys without "/") get hourly funding at
    ``rate`` unless ``funding`` lists their entries as (time, rate)."""
    step = INTERVALS[interval]
    wires = wires or {}
    doc: dict[str, Any] = {
        "version": 1,
        "interval": interval,
        "network": "demo",
        "candleSnapshot": {},
        "fundingHistory": {},
    }
    for key, series in closes.items():
        doc["candleSnapshot"][key] = [
            candle(key, start + i * step, str(c), interval, wires.get(key)) for i, c in enumerate(series)
        ]
    end = start + max(len(s) for s in closes.values()) * step
    for key in perps if perps is not None else [k for k in closes if "/" not in k]:
        entries = (funding or {}).get(key)
        if entries is None:
            entries = [(t + 27, rate) for t in range(start + HOUR_MS, end + 1, HOUR_MS)]
        doc["fundingHistory"][key] = [{"coin": key, "fundingRate": r, "premium": "0", "time": t} for t, r in entries]
    return doc


def demo_snapshot(**changes: Any) -> Snapshot:
    """The bundled demo account's snapshot (standard account, BTC ... PUMP perps, PURR and HYPE spot)."""
    doc = demo_snapshot_doc()
    doc.update(changes)
    return Snapshot.from_raw(doc)


class FakeExchange:
    """An ``info(body)`` callable with the exchange's history rules; it records every body."""

    def __init__(
        self,
        closes: Mapping[str, Sequence[str]],
        *,
        interval: str,
        first_open: int,
        funding: Mapping[str, Sequence[tuple[int, str]]] | None = None,
        page: int = 500,
        served: int = 5000,
        now_ms: int | None = None,
    ) -> None:
        self.step = INTERVALS[interval]
        self.interval = interval
        self.page = page
        self.bodies: list[dict[str, Any]] = []
        self.candles = {
            wire: [candle(wire, first_open + i * self.step, c, interval) for i, c in enumerate(series)]
            for wire, series in closes.items()
        }
        last_open = max(rows[-1]["t"] for rows in self.candles.values())
        self.now = now_ms if now_ms is not None else last_open + self.step // 2  # the last candle is open
        forming = self.now // self.step * self.step
        for wire, rows in self.candles.items():
            # only the most recent `served` candles, the one still open counted
            self.candles[wire] = [r for r in rows if forming - (served - 1) * self.step <= r["t"] <= forming]
        self.funding = {
            coin: [{"coin": coin, "fundingRate": r, "premium": "0", "time": t} for t, r in entries]
            for coin, entries in (funding or {}).items()
        }
        doc = demo_snapshot_doc()
        self.meta = doc["metaAndAssetCtxs"][0]
        self.spot_meta = doc["spotMetaAndAssetCtxs"][0]

    def __call__(self, body: dict[str, Any]) -> Any:
        self.bodies.append(body)
        kind = body["type"]
        if kind == "meta":
            return self.meta
        if kind == "spotMeta":
            return self.spot_meta
        if kind == "candleSnapshot":
            req = body["req"]
            assert req["interval"] == self.interval
            rows = self.candles.get(req["coin"], [])
            hits = [r for r in rows if r["t"] <= req["endTime"] and r["T"] >= req["startTime"]]
            return hits[: self.page]
        if kind == "fundingHistory":
            rows = self.funding.get(body["coin"], [])
            hits = [r for r in rows if body["startTime"] <= r["time"] <= body.get("endTime", 1 << 62)]
            return hits[: self.page]
        raise AssertionError(f"unexpected info request {body}")

    def asked(self, kind: str) -> list[dict[str, Any]]:
        return [b for b in self.bodies if b["type"] == kind]


def flat(n: int, price: str) -> list[str]:
    return [price] * n


def walk(n: int, start: float, step: float, seed: int = 1) -> list[str]:
    """A deterministic zig-zag random walk of ``n`` closes, each move about ``step`` (a fraction)."""
    import random

    rng = random.Random(seed)
    out, price = [], start
    for _ in range(n):
        out.append(f"{price:.6g}")
        price *= 1 + step * rng.choice((-1.0, -0.5, 0.5, 1.0, 1.5))
    return out


def dec(value: str | int) -> Decimal:
    return Decimal(value)
