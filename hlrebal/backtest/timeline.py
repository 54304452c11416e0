"""The closes a backtest replays: every coin's candles on one common clock, with funding placed.

A candle closes at its ``T`` (open time + interval - 1 ms). The replay starts at the first close all
coins share and ends at the last; funding paid between two closes is applied at the later one, on
the position held since the earlier one, at the price of the last close at or before its time.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from hlrebal.backtest.history import FUNDING_GAP_MS, History, HistoryError, Series, when


@dataclass(frozen=True)
class CoinRef:
    """A coin of the targets and the names it may be filed under in a history."""

    coin: str
    """The engine's name: a perp by name, a spot pair by "BASE/USDC"."""
    names: tuple[str, ...]
    """Keys to look for in the file, in order (the target's own key first)."""
    perp: bool


class FundingEvent(NamedTuple):
    """One funding payment: position x price x rate is paid by longs when the rate is positive."""

    coin: str
    time: int
    rate: Decimal
    price: Decimal


@dataclass(frozen=True)
class Timeline:
    """Aligned closes and the funding applied at each of them."""

    source: str
    interval: str
    interval_ms: int
    times: tuple[int, ...]
    """Close times (ms), one per replayed candle."""
    closes: Mapping[str, tuple[Decimal, ...]]
    prices: tuple[Mapping[str, Decimal], ...]
    """Per close: every coin's close (the same numbers as ``closes``, by close)."""
    fprices: tuple[Mapping[str, float], ...]
    """The same as floats, for the band check's first look."""
    funding: tuple[tuple[FundingEvent, ...], ...]
    """Per close: the payments made since the close before it (none at the first)."""
    notes: tuple[str, ...]

    @property
    def start(self) -> int:
        return self.times[0]

    @property
    def end(self) -> int:
        return self.times[-1]


def align(history: History, refs: Sequence[CoinRef]) -> Timeline:
    """Put the coins the targets hold on one clock. Raises HistoryError naming coins and gaps."""
    source, step = history.source, history.interval_ms
    found: dict[str, str] = {}
    missing = []
    for ref in refs:
        key = next((name for name in ref.names if name in history.candles), None)
        if key is None:
            missing.append(ref.coin)
        else:
            found[ref.coin] = key
    if missing:
        raise HistoryError(
            f"{source}: no candles for {', '.join(missing)}, which the targets hold "
            f"(the file has {', '.join(sorted(history.candles))})",
            hint="fetch them with `hlrebal history fetch --targets TARGETS ...`",
        )
    series = {coin: history.candles[key] for coin, key in found.items()}
    start = max(s.times[0] for s in series.values())
    end = min(s.times[-1] for s in series.values())
    spans = "; ".join(f"{c} {when(s.times[0])} to {when(s.times[-1])}" for c, s in series.items())
    if end <= start:
        raise HistoryError(
            f"{source}: the coins share fewer than two candles ({spans})",
            hint="fetch every coin over the same --days",
        )
    count = (end - start) // step + 1
    closes = {coin: s.closes[(start - s.times[0]) // step :][:count] for coin, s in series.items()}
    times = tuple(start + i * step + step - 1 for i in range(count))
    notes = _range_notes(series, start, end)
    funding = _place_funding(history, refs, found, times, closes)
    return Timeline(
        source=source,
        interval=history.interval,
        interval_ms=step,
        times=times,
        closes=closes,
        prices=tuple(dict(zip(closes, row, strict=True)) for row in zip(*closes.values(), strict=True)),
        fprices=tuple(dict(zip(closes, map(float, row), strict=True)) for row in zip(*closes.values(), strict=True)),
        funding=funding,
        notes=notes,
    )


def _range_notes(series: Mapping[str, Series], start: int, end: int) -> tuple[str, ...]:
    notes = []
    late = [c for c, s in series.items() if s.times[0] == start]
    if len(late) < len(series):
        notes.append(f"the replay starts at {when(start)}, where the candles of {', '.join(late)} begin")
    early = [c for c, s in series.items() if s.times[-1] == end]
    if len(early) < len(series):
        notes.append(f"the replay ends at {when(end)}, where the candles of {', '.join(early)} end")
    return tuple(notes)


def _place_funding(
    history: History,
    refs: Sequence[CoinRef],
    found: Mapping[str, str],
    times: tuple[int, ...],
    closes: Mapping[str, tuple[Decimal, ...]],
) -> tuple[tuple[FundingEvent, ...], ...]:
    per_close: list[list[FundingEvent]] = [[] for _ in times]
    first, last, step = times[0], times[-1], history.interval_ms
    for ref in refs:
        if not ref.perp:
            continue
        key = next((n for n in (found[ref.coin], *ref.names) if n in history.funding), None)
        if key is None:
            raise HistoryError(
                f"{history.source}: no funding history for {ref.coin} (a perp: funding is part of its cost)",
                hint="fetch the history again with `hlrebal history fetch`",
            )
        entries = history.funding[key]
        lo = bisect_right(entries.times, first)
        hi = bisect_right(entries.times, last)
        _check_funding_gaps(history.source, ref.coin, entries.times[lo:hi], first, last)
        prices, coin = closes[ref.coin], ref.coin
        for time_ms, rate in zip(entries.times[lo:hi], entries.rates[lo:hi], strict=True):
            i = -(-(time_ms - first) // step)  # the first close at or after the payment (closes are regular)
            at = i if times[i] == time_ms else i - 1  # the last close at or before it
            per_close[i].append(FundingEvent(coin, time_ms, rate, prices[at]))
    return tuple(tuple(events) for events in per_close)


def _check_funding_gaps(source: str, coin: str, stamps: Sequence[int], first: int, last: int) -> None:
    previous = first
    for stamp in (*stamps, last):
        if stamp - previous > FUNDING_GAP_MS:
            raise HistoryError(
                f"{source}: {coin}: no funding entries between {when(previous)} and {when(stamp)} "
                "(funding is paid every hour: the file is short)",
                hint="fetch the history again with `hlrebal history fetch`",
            )
        previous = stamp
