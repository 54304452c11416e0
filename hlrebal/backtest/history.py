"""History files: raw candle and funding answers, loaded and checked once.

A history file keeps the exchange's answers as they came, like a snapshot file::

    {"version": 1, "interval": "1h", "network": "mainnet", "time": 1793000000000,
     "candleSnapshot": {"BTC": [{"t", "T", "s", "i", "o", "c", "h", "l", "v", "n"}, ...],
                        "HYPE/USDC": [... candles whose "s" is the pair's wire name, "@107" ...]},
     "fundingHistory": {"BTC": [{"coin", "fundingRate", "premium", "time"}, ...]}}

Coins are keyed by the name the targets use: perps by name, spot pairs by pair name. A file is
refused (exit 2) with the coin and the gap named when its candles do not follow each other at the
file's interval, carry another interval, or cannot be read as prices.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hlrebal.errors import BadInputError

HISTORY_VERSION = 1
#: intervals of a fixed length the exchange serves (1M, of variable length, is left out)
INTERVALS: dict[str, int] = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}
HOUR_MS = 3_600_000
#: the longest pause between funding payments a history may have (funding was paid every 8 hours
#: before it was paid every hour)
FUNDING_GAP_MS = 8 * HOUR_MS + 30 * 60_000


class HistoryError(BadInputError):
    """A history file that cannot be replayed as written (exit 2)."""

    kind = "history"


def when(ms: int) -> str:
    """A millisecond timestamp as "2026-01-03 04:00 UTC"."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Series:
    """One coin's candles: open times and closes, contiguous at the file's interval."""

    key: str
    wire: str
    """The exchange's coin name in the candles ("BTC", "@107")."""
    times: tuple[int, ...]
    closes: tuple[Decimal, ...]


@dataclass(frozen=True)
class FundingSeries:
    """One perp's funding payments: times and rates, in time order."""

    key: str
    times: tuple[int, ...]
    rates: tuple[Decimal, ...]


@dataclass(frozen=True)
class History:
    """A parsed, checked history file."""

    source: str
    interval: str
    interval_ms: int
    network: str
    candles: Mapping[str, Series]
    funding: Mapping[str, FundingSeries]
    doc: dict[str, Any] = field(repr=False, compare=False)


def load_history(path: str | Path) -> History:
    """Read and check a history file. Raises :class:`HistoryError` (exit 2) when it cannot be used."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise HistoryError(
            f"{source}: no such history file", hint="make one with `hlrebal history fetch ... -o FILE`"
        ) from None
    except UnicodeDecodeError:
        raise HistoryError(f"{source}: is not UTF-8 text (a history file is JSON)") from None
    except OSError as e:
        raise HistoryError(f"{source}: cannot be read ({e.strerror})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise HistoryError(f"{source}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    return parse_history(doc, source)


def save_history(doc: Mapping[str, Any], path: str | Path) -> None:
    """Write a history document atomically (a temporary file beside it, then a rename)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    tmp.replace(target)


def parse_history(doc: Any, source: str = "<history>") -> History:
    """Check a history document and parse its closes and funding rates."""
    if not isinstance(doc, dict):
        raise HistoryError(f"{source}: a history file is a JSON object (see `hlrebal history fetch`)")
    version = doc.get("version")
    if version != HISTORY_VERSION:
        raise HistoryError(f"{source}: version: expected {HISTORY_VERSION}, got {version!r}")
    interval = doc.get("interval")
    if interval not in INTERVALS:
        raise HistoryError(f"{source}: interval: expected one of {', '.join(INTERVALS)}, got {interval!r}")
    network = doc.get("network", "mainnet")
    if not isinstance(network, str):
        raise HistoryError(f"{source}: network: expected a name, got {network!r}")
    raw_candles = doc.get("candleSnapshot")
    if not isinstance(raw_candles, dict) or not raw_candles:
        raise HistoryError(f"{source}: candleSnapshot: expected {{coin: [candles]}} with at least one coin")
    raw_funding = doc.get("fundingHistory", {})
    if not isinstance(raw_funding, dict):
        raise HistoryError(f"{source}: fundingHistory: expected {{coin: [entries]}}")
    step = INTERVALS[interval]
    candles = {key: _series(source, str(key), rows, interval, step) for key, rows in raw_candles.items()}
    funding = {key: _funding(source, str(key), rows) for key, rows in raw_funding.items()}
    return History(
        source=source,
        interval=interval,
        interval_ms=step,
        network=network,
        candles=candles,
        funding=funding,
        doc=doc,
    )


def _series(source: str, key: str, rows: Any, interval: str, step: int) -> Series:
    fast = _series_fast(key, rows, interval, step)
    return fast if fast is not None else _series_checked(source, key, rows, interval, step)


def _series_fast(key: str, rows: Any, interval: str, step: int) -> Series | None:
    """A well-formed list of candles, read in a few passes; None when anything is off (the checked
    reading then names the candle and the problem)."""
    try:
        if not isinstance(rows, list) or not rows:
            return None
        times = [row["t"] for row in rows]
        first = times[0]
        if type(first) is not int or times != list(range(first, first + len(rows) * step, step)):
            return None
        wires = {row["s"] for row in rows}
        if {row["i"] for row in rows} != {interval} or len(wires) != 1:
            return None
        texts = [row["c"] for row in rows]
        if set(map(type, texts)) != {str}:
            return None
        closes = list(map(Decimal, texts))
        if not all(map(Decimal.is_finite, closes)) or min(closes) <= 0:
            return None
    except (TypeError, KeyError, InvalidOperation):
        return None
    (wire,) = wires
    if not isinstance(wire, str):
        return None
    return Series(key=key, wire=wire, times=tuple(times), closes=tuple(closes))


def _series_checked(source: str, key: str, rows: Any, interval: str, step: int) -> Series:
    where = f"{source}: {key}"
    if not isinstance(rows, list) or not rows:
        raise HistoryError(f"{where}: expected a list of candles, got {_kind(rows)}")
    times: list[int] = []
    closes: list[Decimal] = []
    wire: str | None = None
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise HistoryError(f"{where}: candle {n}: expected an object {{t, T, s, i, o, c, h, l, v, n}}")
        t = row.get("t")
        if isinstance(t, bool) or not isinstance(t, int):
            raise HistoryError(f"{where}: candle {n}: t: expected the open time in ms, got {t!r}")
        if row.get("i") != interval:
            raise HistoryError(
                f"{where}: candle at {when(t)}: interval {row.get('i')!r}, but the file's interval is {interval!r}",
                hint="fetch the coin again with the file's --interval",
            )
        s = row.get("s")
        if not isinstance(s, str) or (wire is not None and s != wire):
            raise HistoryError(f"{where}: candle at {when(t)}: coin {s!r} differs from the other candles' {wire!r}")
        wire = s
        close = _price(row.get("c"))
        if close is None:
            raise HistoryError(
                f"{where}: candle at {when(t)}: c: expected a positive price as a string, got {row.get('c')!r}"
            )
        if times and t - times[-1] != step:
            raise HistoryError(_gap_message(where, key, times[-1], t, step, interval), hint=_REFETCH)
        times.append(t)
        closes.append(close)
    assert wire is not None
    return Series(key=key, wire=wire, times=tuple(times), closes=tuple(closes))


_REFETCH = "fetch the history again with `hlrebal history fetch`"


def _gap_message(where: str, key: str, previous: int, t: int, step: int, interval: str) -> str:
    at = f"{where}: candle at {when(t)}"
    if t <= previous:
        return f"{at}: not after the candle before it ({when(previous)}): candles must be in time order, once each"
    if (t - previous) % step:
        return f"{at}: {(t - previous) / 60_000:g} minutes after the one before it, not {interval}"
    missing = (t - previous) // step - 1
    span = when(previous + step) if missing == 1 else f"{when(previous + step)} to {when(t - step)}"
    return f"{where}: {missing} {interval} candle(s) missing, opening {span} (a backtest needs every close)"


def _funding(source: str, key: str, rows: Any) -> FundingSeries:
    fast = _funding_fast(key, rows)
    return fast if fast is not None else _funding_checked(source, key, rows)


def _funding_fast(key: str, rows: Any) -> FundingSeries | None:
    try:
        if not isinstance(rows, list):
            return None
        times = [row["time"] for row in rows]
        texts = [row["fundingRate"] for row in rows]
        if rows and (set(map(type, times)) != {int} or set(map(type, texts)) != {str}):
            return None
        if times != sorted(set(times)):  # strictly increasing
            return None
        rates = list(map(Decimal, texts))
        if not all(map(Decimal.is_finite, rates)):
            return None
    except (TypeError, KeyError, InvalidOperation):
        return None
    return FundingSeries(key=key, times=tuple(times), rates=tuple(rates))


def _funding_checked(source: str, key: str, rows: Any) -> FundingSeries:
    where = f"{source}: fundingHistory.{key}"
    if not isinstance(rows, list):
        raise HistoryError(f"{where}: expected a list of entries, got {_kind(rows)}")
    times: list[int] = []
    rates: list[Decimal] = []
    for n, row in enumerate(rows):
        time_ms = row.get("time") if isinstance(row, dict) else None
        if isinstance(time_ms, bool) or not isinstance(time_ms, int):
            raise HistoryError(f"{where}[{n}]: time: expected ms since the epoch, got {time_ms!r}")
        rate = _number(row.get("fundingRate"))
        if rate is None:
            raise HistoryError(f"{where}[{n}] ({when(time_ms)}): fundingRate: expected a number as a string")
        if times and time_ms <= times[-1]:
            raise HistoryError(f"{where}[{n}] ({when(time_ms)}): not after the entry before it")
        times.append(time_ms)
        rates.append(rate)
    return FundingSeries(key=key, times=tuple(times), rates=tuple(rates))


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        return None
    return out if out.is_finite() else None


def _price(value: Any) -> Decimal | None:
    out = _number(value)
    return out if out is not None and out > 0 else None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an empty list"
    return type(value).__name__
