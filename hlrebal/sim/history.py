"""Price history: candleSnapshot and fundingHistory answers, from a seeded synthetic history
(the default) or a history file (``SimConfig.history``), and the replay of a file's prices.

The exchange's rules (info endpoint docs): "Only the most recent 5000 candles are available"
(per interval), and a time-range answer holds at most 500 items ("use the last returned
timestamp as the next startTime"); candles are ``{t, T, s, i, o, c, h, l, v, n}`` with prices
and volume as strings, t/T/n integers; a candle is returned when its period overlaps
[startTime, endTime] (hyperliquid-python-sdk cassette test_get_candles_snapshot.yaml: the first
candle opens before startTime). Funding is hourly: ``{coin, fundingRate, premium, time}``.

Synthetic history: for each coin and interval, the 5000 candles up to the one containing the
sim's start ("the anchor"), a seeded random walk run backwards from the coin's price at the
start (so the last close is that price), 3% daily volatility, mildly mean-reverting over a year;
intervals are generated independently (a 1d candle is not the sum of the 1h ones). Candles
after the anchor are not made up: they would need the sim's own trades. Funding: an hourly
premium drawn per hour from the seed, and the exchange's formula rate = (premium +
clamp(0.01% - premium, -0.05%, 0.05%)) / 8; after the anchor, the coin's current funding.

History file: candleSnapshot answers the file's candles as they are (at most the 5000 most
recent of the file; other intervals aggregated from it when they are multiples of its own);
fundingHistory the file's entries. Its prices also replay: the sim's clock stays the wall
clock, and history time runs from the file's first candle when the sim starts
(``history_speed`` history seconds per second); at each candle boundary the mid, mark and
oracle of every coin the file has become that candle's close.
"""

from __future__ import annotations

import bisect
import math
import random
import zlib
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from hlrebal.sim.history_file import INTERVALS, HistoryData, candle_start, load, next_start
from hlrebal.sim.numbers import allowed_decimals, fmt

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine

MAX_CANDLES = 5000
PAGE = 500
HOUR_MS = 3_600_000
DAILY_VOL = 0.03
YEAR_MS = 365 * 86_400_000
FUNDING_YEARS = 2
INTEREST = 0.0001  # per 8 hours, the exchange's fixed interest component
CLAMP = 0.0005


Row = tuple[float, float, float, float, float, float]  # o, c, h, l, v, n of a generated candle


class BadRequest(Exception):
    """Not a valid candleSnapshot/fundingHistory body: the server answers 422."""


def _stable_seed(*parts: object) -> int:
    return zlib.crc32(":".join(str(p) for p in parts).encode())


def _price(x: float, max_decimals: int) -> str:
    """A generated price on the exchange's grid: 5 significant figures, capped decimals."""
    value = Decimal(repr(x))
    if value <= 0:
        return "0.0"
    return fmt(value.quantize(Decimal(1).scaleb(-allowed_decimals(value, max_decimals)), rounding=ROUND_HALF_EVEN))


class Synthetic:
    """The seeded synthetic history anchored at the sim's start."""

    kind = "synthetic"

    def __init__(self, seed: int, anchor: int, prices: dict[str, Decimal], decimals: dict[str, tuple[int, int]]):
        self.seed, self.anchor, self.prices, self.decimals = seed, anchor, prices, decimals
        self._cache: dict[tuple[str, str], tuple[list[int], list[Row]]] = {}

    def _series(self, coin: str, interval: str) -> tuple[list[int], list[Row]]:
        """Open times and (o, c, h, l, v, n) of the 5000 candles up to the anchor's."""
        key = (coin, interval)
        if key in self._cache:
            return self._cache[key]
        starts = [candle_start(self.anchor, interval)]
        while len(starts) < MAX_CANDLES:
            starts.append(candle_start(starts[-1] - 1, interval))
        starts.reverse()
        rng = random.Random(_stable_seed(self.seed, coin, interval))
        length = INTERVALS[interval]
        sigma = DAILY_VOL * math.sqrt(length / 86_400_000)
        theta = min(0.5, length / YEAR_MS)
        anchor = math.log(float(self.prices[coin]))
        closes = [anchor]
        for _ in range(MAX_CANDLES):  # backwards: one more than the candles, for the first open
            x = closes[-1]
            closes.append(x - sigma * rng.gauss(0, 1) - theta * (x - anchor))
        closes.reverse()
        rows: list[Row] = []
        usd = 2_000_000.0 * length / HOUR_MS
        for i in range(1, MAX_CANDLES + 1):
            o, c = math.exp(closes[i - 1]), math.exp(closes[i])
            h = max(o, c) * math.exp(abs(rng.gauss(0, sigma / 2)))
            low = min(o, c) * math.exp(-abs(rng.gauss(0, sigma / 2)))
            volume_usd = usd * math.exp(rng.gauss(0, 0.5))
            rows.append((o, c, h, low, volume_usd / c, float(int(volume_usd / 5000) + 1)))
        self._cache[key] = (starts, rows)
        return self._cache[key]

    def candles(self, coin: str, interval: str, start: int, end: int, now: int) -> list[dict[str, Any]]:
        if coin not in self.prices:
            return []
        starts, rows = self._series(coin, interval)
        first_visible = candle_start(now, interval)
        for _ in range(MAX_CANDLES - 1):
            first_visible = candle_start(first_visible - 1, interval)
        sz_decimals, max_decimals = self.decimals[coin]
        out: list[dict[str, Any]] = []
        lo = bisect.bisect_left(starts, max(first_visible, candle_start(max(start, 0), interval)))
        for i in range(lo, len(starts)):
            t = starts[i]
            close_time = next_start(t, interval) - 1
            if t > end or len(out) >= PAGE:
                break
            if close_time < start:
                continue
            o, c, h, low, v, n = rows[i]
            out.append(
                {
                    "t": t,
                    "T": close_time,
                    "s": coin,
                    "i": interval,
                    "o": _price(o, max_decimals),
                    "c": _price(c, max_decimals),
                    "h": _price(h, max_decimals),
                    "l": _price(low, max_decimals),
                    "v": fmt(Decimal(repr(v)).quantize(Decimal(1).scaleb(-sz_decimals))),
                    "n": int(n),
                }
            )
        return out

    def funding(self, coin: str, start: int, end: int, current: tuple[str, str] | None) -> list[dict[str, Any]]:
        """Hourly entries in [start, end]: drawn from the seed up to the anchor, then the
        coin's current rate (``current``: (fundingRate, premium))."""
        if coin not in self.prices:
            return []
        first = max(start, self.anchor - FUNDING_YEARS * YEAR_MS)
        hour = -(-first // HOUR_MS) * HOUR_MS
        out: list[dict[str, Any]] = []
        while hour <= end and len(out) < PAGE:
            if hour <= self.anchor:
                rate, premium = self._rate(coin, hour)
            elif current is not None:
                rate, premium = current
            else:
                break
            out.append({"coin": coin, "fundingRate": rate, "premium": premium, "time": hour})
            hour += HOUR_MS
        return out

    def _rate(self, coin: str, hour: int) -> tuple[str, str]:
        premium = random.Random(_stable_seed(self.seed, coin, "funding", hour)).gauss(0, 0.0003)
        rate = (premium + max(-CLAMP, min(CLAMP, INTEREST - premium))) / 8
        places = Decimal("0.00000001")
        return fmt(Decimal(repr(rate)).quantize(places)), fmt(Decimal(repr(premium)).quantize(places))

    def dump(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seed": self.seed,
            "anchor": self.anchor,
            "prices": {c: str(p) for c, p in self.prices.items()},
        }


class FileHistory:
    """A history file's candles and funding, served as they are, and its prices replayed."""

    kind = "file"

    def __init__(self, data: HistoryData, start: int, speed: float, aliases: dict[str, str]) -> None:
        self.data, self.start, self.speed, self.aliases = data, start, speed, aliases
        origin = data.start
        assert origin is not None
        self.origin = origin
        self.next_apply: int | None = start

    def key(self, coin: str) -> str | None:
        """The file's key for a coin as requested ("@107" may be filed as "HYPE/USDC")."""
        return coin if coin in self.data.candles or coin in self.data.funding else self.aliases.get(coin)

    def history_time(self, t: int) -> int:
        """History time at sim time ``t``."""
        return self.origin + int((t - self.start) * self.speed)

    def sim_time(self, h: int) -> int:
        return self.start + math.ceil((h - self.origin) / self.speed)

    def candles(self, coin: str, interval: str, start: int, end: int, now: int) -> list[dict[str, Any]]:
        key = self.key(coin)
        rows = self.data.candles.get(key, []) if key is not None else []
        rows = rows[-MAX_CANDLES:]
        if interval != self.data.interval:
            return _aggregate(rows, self.data.interval, interval, coin, start, end)
        out = [dict(c.raw) for c in rows if start <= c.T and c.t <= end]
        return out[:PAGE]

    def funding(self, coin: str, start: int, end: int) -> list[dict[str, Any]]:
        key = self.key(coin)
        entries = self.data.funding.get(key, []) if key is not None else []
        return [dict(e.raw) for e in entries if start <= e.time <= end][:PAGE]

    def close_at(self, coin: str, h: int) -> Decimal | None:
        """The close of the file's candle containing history time ``h`` (the last one after
        the end, the first one before the start)."""
        rows = self.data.candles.get(coin)
        if not rows:
            return None
        i = bisect.bisect_right([c.t for c in rows], h) - 1
        return rows[max(0, i)].c

    def rate_at(self, coin: str, h: int) -> Decimal | None:
        """The funding rate of the file's entry for the hour of history time ``h``."""
        entries = self.data.funding.get(coin)
        if not entries:
            return None
        i = bisect.bisect_right([e.time for e in entries], h) - 1
        return entries[i].rate if i >= 0 and h - entries[i].time < HOUR_MS else None

    def dump(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.start, "next_apply": self.next_apply}


def _aggregate(rows: list[Any], have: str, want: str, coin: str, start: int, end: int) -> list[dict[str, Any]]:
    """Candles of a longer interval built from the file's (when ``want`` is a multiple of ``have``)."""
    if INTERVALS[want] < INTERVALS[have] or (want != "1M" and INTERVALS[want] % INTERVALS[have]):
        return []
    groups: dict[int, list[Any]] = {}
    for candle in rows:
        groups.setdefault(candle_start(candle.t, want), []).append(candle)
    out = []
    for t in sorted(groups):
        part = groups[t]
        close_time = next_start(t, want) - 1
        if close_time < start or t > end:
            continue
        out.append(
            {
                "t": t,
                "T": close_time,
                "s": coin,
                "i": want,
                "o": fmt(part[0].o),
                "c": fmt(part[-1].c),
                "h": fmt(max(c.h for c in part)),
                "l": fmt(min(c.low for c in part)),
                "v": fmt(sum((c.v for c in part), Decimal(0))),
                "n": sum(c.n for c in part),
            }
        )
    return out[:PAGE]


History = Synthetic | FileHistory


# ---- the engine's history: set up, saved, restored ---------------------------------------


def attach(engine: Engine, saved: dict[str, Any] | None = None) -> None:
    """Give the engine its history: the configured file (prices replayed from its start) or
    the synthetic one (anchored now, or where a saved state anchored it)."""
    config = engine.config
    if config.history is not None:
        data = load(config.history)
        start = saved["start"] if saved and saved.get("kind") == "file" else engine.clock()
        source = FileHistory(data, start, config.history_speed, _aliases(engine, data))
        if saved and saved.get("kind") == "file":
            source.next_apply = saved.get("next_apply")
        engine.history = source
        return
    if saved and saved.get("kind") == "synthetic":
        kept = {c: Decimal(p) for c, p in saved["prices"].items()}
        engine.history = Synthetic(saved["seed"], saved["anchor"], kept, _decimals(engine))
        return
    prices: dict[str, Decimal] = {}
    for inst in engine.market.all_instruments():
        if inst.book_mid is not None and inst.book_mid > 0:
            prices[inst.coin] = inst.book_mid
    engine.history = Synthetic(config.history_seed, engine.clock(), prices, _decimals(engine))


def _decimals(engine: Engine) -> dict[str, tuple[int, int]]:
    return {i.coin: (i.sz_decimals, i.max_price_decimals) for i in engine.market.all_instruments()}


def _aliases(engine: Engine, data: HistoryData) -> dict[str, str]:
    """Market coin -> the file's key, for keys the market knows by another name."""
    out = {}
    for key in (*data.candles, *data.funding):
        inst = engine.market.resolve(key)
        if inst is not None and inst.coin != key:
            out[inst.coin] = key
    return out


def dump(engine: Engine) -> Any:
    return engine.history.dump() if engine.history is not None else None


def restore(engine: Engine, data: Any) -> None:
    attach(engine, data if isinstance(data, dict) else None)


# ---- the replay as a timed process -------------------------------------------------------


def next_due(engine: Engine) -> int | None:
    source = engine.history
    return source.next_apply if isinstance(source, FileHistory) else None


def run(engine: Engine, t: int) -> None:
    """Set every replayed coin to the close of its candle at history time, then wait for the
    next candle boundary (nothing more once history time is past the last candle)."""
    source = engine.history
    if not isinstance(source, FileHistory):
        return
    h = source.history_time(t)
    for key in source.data.candles:
        inst = engine.market.resolve(key)
        close = source.close_at(key, h)
        if inst is not None and close is not None and close > 0:
            engine.move_price(inst, close, close, close)
    last = max(rows[-1].t for rows in source.data.candles.values() if rows)
    if h >= last:
        source.next_apply = None
        return
    boundary = next_start(candle_start(h, source.data.interval), source.data.interval)
    source.next_apply = max(t + 1, source.sim_time(boundary))


# ---- info answers ------------------------------------------------------------------------


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def candle_snapshot(engine: Engine, body: dict[str, Any]) -> list[dict[str, Any]]:
    req = body.get("req")
    if not isinstance(req, dict) or not isinstance(req.get("coin"), str) or req.get("interval") not in INTERVALS:
        raise BadRequest("candleSnapshot req")
    start, end = req.get("startTime"), req.get("endTime", engine.now())
    if not isinstance(start, int) or not isinstance(end, int) or not _int(start) or not _int(end):
        raise BadRequest("candleSnapshot startTime/endTime")
    source = engine.history
    if source is None:
        return []
    return source.candles(req["coin"], req["interval"], start, end, engine.now())


def funding_history(engine: Engine, body: dict[str, Any]) -> list[dict[str, Any]]:
    coin, start, end = body.get("coin"), body.get("startTime"), body.get("endTime")
    end = engine.now() if end is None else end
    if not isinstance(coin, str) or not isinstance(start, int) or not isinstance(end, int) or not _int(start):
        raise BadRequest("fundingHistory")
    if not _int(end):
        raise BadRequest("fundingHistory endTime")
    source = engine.history
    if isinstance(source, FileHistory):
        return source.funding(coin, start, end)
    if source is None:
        return []
    inst = engine.market.perp_by_name.get(coin)
    current = (str(inst.ctx.get("funding", "0.0")), str(inst.ctx.get("premium", "0.0"))) if inst else None
    return source.funding(coin, start, end, current)
