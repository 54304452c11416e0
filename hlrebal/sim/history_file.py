"""History files: the raw candleSnapshot and fundingHistory answers of a period, read and
checked with the sim's own code.

Format (written by ``hlrebal history fetch``; spot pairs under their pair names)::

    {"version": 1, "interval": "1h", "network": "mainnet",
     "candleSnapshot": {"BTC": [{"t": ms, "T": ms, "s": "BTC", "i": "1h", "o": "85600.0",
                                 "c": "...", "h": "...", "l": "...", "v": "...", "n": 12}, ...]},
     "fundingHistory": {"BTC": [{"coin": "BTC", "fundingRate": "0.0000125",
                                 "premium": "-0.0002", "time": ms}, ...]}}

A bad file raises ``HistoryError`` naming the coin and the entry at fault.
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hlrebal.sim.datarecord import field, record
from hlrebal.sim.numbers import parse_wire

# The exchange's candle intervals (info endpoint docs) and their lengths; "1M" is a calendar month.
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
    "1M": 2_592_000_000,  # nominal (30 days): real boundaries are calendar months
}
PRICE_KEYS = ("o", "c", "h", "l")


class HistoryError(ValueError):
    """The history file cannot be used: the message names what is wrong and where."""


@record(frozen=True)
class Candle:
    t: int
    T: int
    o: Decimal
    c: Decimal
    h: Decimal
    low: Decimal
    v: Decimal
    n: int
    raw: dict[str, Any]


@record(frozen=True)
class FundingEntry:
    time: int
    rate: Decimal
    premium: Decimal
    raw: dict[str, Any]


@record
class HistoryData:
    interval: str
    network: Any
    candles: dict[str, list[Candle]] = field(default_factory=dict)
    funding: dict[str, list[FundingEntry]] = field(default_factory=dict)

    @property
    def start(self) -> int | None:
        """Open time of the earliest candle."""
        firsts = [c[0].t for c in self.candles.values() if c]
        return min(firsts) if firsts else None


def candle_start(t: int, interval: str) -> int:
    """Open time of the candle of ``interval`` that contains ``t`` (epoch-aligned; months UTC)."""
    if interval == "1M":
        day = datetime.fromtimestamp(t / 1000, tz=UTC)
        return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp() * 1000)
    ms = INTERVALS[interval]
    return t - t % ms


def next_start(t: int, interval: str) -> int:
    """Open time of the candle after the one that opens at ``t``."""
    if interval == "1M":
        day = datetime.fromtimestamp(t / 1000, tz=UTC)
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
    return t + INTERVALS[interval]


def load(source: str | Path | dict[str, Any]) -> HistoryData:
    """Read and check a history file (a path, or the parsed document)."""
    if isinstance(source, dict):
        doc = source
    else:
        try:
            with open(source, encoding="utf-8") as handle:
                doc = json.load(handle)
        except OSError as e:
            raise HistoryError(f"cannot read the history file {source}: {e.strerror}") from e
        except ValueError as e:
            raise HistoryError(f"the history file {source} is not JSON: {e}") from e
    if not isinstance(doc, dict):
        raise HistoryError("a history file is a JSON object")
    if doc.get("version") != 1:
        raise HistoryError(f"unsupported history file version {doc.get('version')!r} (expected 1)")
    interval = doc.get("interval")
    if interval not in INTERVALS:
        raise HistoryError(f"unknown interval {interval!r}; one of {', '.join(INTERVALS)}")
    data = HistoryData(interval=str(interval), network=doc.get("network"))
    for coin, raw in _section(doc, "candleSnapshot").items():
        data.candles[coin] = _candles(coin, raw, data.interval)
    for coin, raw in _section(doc, "fundingHistory").items():
        data.funding[coin] = _funding(coin, raw)
    if not data.candles:
        raise HistoryError("the history file has no candles (candleSnapshot is empty)")
    return data


def _section(doc: dict[str, Any], key: str) -> dict[str, Any]:
    section = doc.get(key, {})
    if not isinstance(section, dict) or not all(isinstance(v, list) for v in section.values()):
        raise HistoryError(f"{key} must map each coin to a list of entries")
    return section


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _candles(coin: str, raw: list[Any], interval: str) -> list[Candle]:
    out: list[Candle] = []
    for i, entry in enumerate(raw):
        where = f"candleSnapshot.{coin}[{i}]"
        if not isinstance(entry, dict) or not _int(entry.get("t")) or not _int(entry.get("T")):
            raise HistoryError(f"{where}: a candle needs integer t and T")
        if entry.get("i", interval) != interval:
            raise HistoryError(f"{where}: interval {entry.get('i')!r}, the file says {interval!r}")
        prices = {k: parse_wire(entry.get(k)) if isinstance(entry.get(k), str) else None for k in (*PRICE_KEYS, "v")}
        bad = [k for k, v in prices.items() if v is None or v < 0]
        if bad:
            raise HistoryError(f"{where}: {', '.join(bad)} must be non-negative decimal strings")
        if not _int(entry.get("n", 0)):
            raise HistoryError(f"{where}: n must be an integer")
        o, c, h, low, v = (prices[k] for k in (*PRICE_KEYS, "v"))
        assert o is not None and c is not None and h is not None and low is not None and v is not None
        if out and entry["t"] <= out[-1].t:
            raise HistoryError(f"{where}: candles must be in time order without repeats (t={entry['t']})")
        out.append(Candle(entry["t"], entry["T"], o, c, h, low, v, int(entry.get("n", 0)), dict(entry)))
    return out


def _funding(coin: str, raw: list[Any]) -> list[FundingEntry]:
    out: list[FundingEntry] = []
    for i, entry in enumerate(raw):
        where = f"fundingHistory.{coin}[{i}]"
        if not isinstance(entry, dict) or not _int(entry.get("time")):
            raise HistoryError(f"{where}: an entry needs an integer time")
        rate, premium = parse_wire(entry.get("fundingRate")), parse_wire(entry.get("premium", "0"))
        if not isinstance(entry.get("fundingRate"), str) or rate is None or premium is None:
            raise HistoryError(f"{where}: fundingRate and premium must be decimal strings")
        if out and entry["time"] <= out[-1].time:
            raise HistoryError(f"{where}: entries must be in time order without repeats (time={entry['time']})")
        out.append(FundingEntry(entry["time"], rate, premium, dict(entry)))
    return out
