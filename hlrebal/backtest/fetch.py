"""Reading a history from the exchange: candleSnapshot and fundingHistory, page by page.

The exchange's rules (shared/HYPERLIQUID.md, "History"): a time-range answer holds at most 500
items, so the next page starts after the last item received; only the 5,000 most recent candles
of an interval are served at all. A candle is returned when it overlaps the range asked, so the
still-open candle is left out by ending the range just before it opens.

Everything here goes through one ``info(body) -> answer`` callable (``ExchangeClient.info`` in the
CLI, a fake in tests); nothing prints.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hlrebal.backtest.history import HISTORY_VERSION, HOUR_MS, INTERVALS, HistoryError, parse_history, when
from hlrebal.errors import BadInputError, ExchangeError

PAGE_LIMIT = 500
CANDLE_LIMIT = 5000
DAY_MS = 86_400_000

InfoFn = Callable[[dict[str, Any]], Any]
#: progress(items, total_items, what): called after every page
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class FetchCoin:
    """A coin to fetch: its key in the file, its name on the wire, and whether it pays funding."""

    key: str
    wire: str
    perp: bool


@dataclass(frozen=True)
class FetchResult:
    """A fetched history document and what was said about it."""

    document: dict[str, Any] = field(repr=False)
    coins: tuple[FetchCoin, ...]
    start: int
    """Open time of the first candle asked for."""
    end: int
    """Close time of the last candle asked for (the last closed one)."""
    requests: dict[str, int]
    notes: tuple[str, ...]


def resolve_coins(info: InfoFn, names: Sequence[str]) -> tuple[FetchCoin, ...]:
    """Perps by name, spot pairs by pair name ("HYPE/USDC") or wire name ("@107"), checked against
    the exchange's listings. Raises BadInputError (exit 2) for a name it does not list."""
    if not names:
        raise BadInputError("no coins to fetch", hint="pass --coins BTC,ETH or --targets FILE")
    perps: set[str] = set()
    spot: dict[str, tuple[str, str]] | None = None  # any name -> (pair name, wire name)
    out: list[FetchCoin] = []
    for name in names:
        if ":" in name:
            raise BadInputError(f"{name}: builder-dex perps cannot be fetched for a backtest yet")
        if "/" not in name and not name.startswith("@"):
            if not perps:
                perps = _perp_names(info)
            if name not in perps:
                raise BadInputError(f"{name}: not a perp the exchange lists{_suggest(name, perps)}")
            out.append(FetchCoin(key=name, wire=name, perp=True))
            continue
        if spot is None:
            spot = _spot_names(info)
        if name not in spot:
            raise BadInputError(f"{name}: not a spot pair the exchange lists{_suggest(name, set(spot))}")
        pair, wire = spot[name]
        out.append(FetchCoin(key=pair, wire=wire, perp=False))
    keys = [c.key for c in out]
    doubled = sorted({k for k in keys if keys.count(k) > 1})
    if doubled:
        raise BadInputError(f"{', '.join(doubled)} named twice (a pair and its wire name are the same pair)")
    return tuple(out)


def _perp_names(info: InfoFn) -> set[str]:
    meta = info({"type": "meta"})
    universe = meta.get("universe") if isinstance(meta, dict) else None
    if not isinstance(universe, list):
        raise ExchangeError("the exchange's answer to meta has no universe")
    return {str(u.get("name")) for u in universe if isinstance(u, dict)}


def _spot_names(info: InfoFn) -> dict[str, tuple[str, str]]:
    meta = info({"type": "spotMeta"})
    if not isinstance(meta, dict) or not isinstance(meta.get("universe"), list):
        raise ExchangeError("the exchange's answer to spotMeta has no universe")
    tokens = {t.get("index"): t.get("name") for t in meta.get("tokens", []) if isinstance(t, dict)}
    names: dict[str, tuple[str, str]] = {}
    for u in meta["universe"]:
        pair_tokens = u.get("tokens") if isinstance(u, dict) else None
        if not isinstance(pair_tokens, list) or len(pair_tokens) != 2:
            continue
        base, quote = tokens.get(pair_tokens[0]), tokens.get(pair_tokens[1])
        pair, wire = f"{base}/{quote}", str(u.get("name"))
        if pair in names:  # a second pair of the same tokens: only its wire name points to it
            names.setdefault(wire, (wire, wire))
            continue
        names[pair] = names[wire] = (pair, wire)
    return names


def _suggest(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def check_range(interval: str, days: int | None) -> None:
    """Refuse an interval the exchange does not serve at a fixed length, or a range under a day."""
    if interval not in INTERVALS:
        raise BadInputError(f"--interval: expected one of {', '.join(INTERVALS)}, got {interval!r}")
    if days is not None and days < 1:
        raise BadInputError(f"--days: expected at least 1, got {days}")


def fetch_history(
    info: InfoFn,
    coins: Sequence[FetchCoin],
    interval: str,
    *,
    now_ms: int,
    days: int | None = None,
    network: str = "mainnet",
    progress: Progress | None = None,
) -> FetchResult:
    """Every closed candle of the range (the last ``days``, else all the exchange serves) and the
    perps' funding over it."""
    check_range(interval, days)
    step = INTERVALS[interval]
    forming = now_ms // step * step  # open time of the candle still trading
    end = forming - 1
    oldest = forming - (CANDLE_LIMIT - 1) * step
    # The range asked: whole candles back from the last closed one, or all the exchange serves.
    wanted = forming - -(-days * DAY_MS // step) * step if days else oldest
    notes = []
    if wanted < oldest:
        notes.append(
            f"the exchange serves only the {CANDLE_LIMIT:,} most recent {interval} candles (about "
            f"{(CANDLE_LIMIT * step) // DAY_MS} days): the history starts at {when(oldest)}, not {when(wanted)}; "
            "use a longer --interval for a longer history"
        )
    start = max(wanted, oldest)
    per_coin = (end + 1 - start) // step
    hours = (end + 1 - start) // HOUR_MS
    total = sum(per_coin + (hours if c.perp else 0) for c in coins)
    pager = _Pager(info, total, progress)
    doc: dict[str, Any] = {
        "version": HISTORY_VERSION,
        "interval": interval,
        "network": network,
        "time": now_ms,
        "candleSnapshot": {},
        "fundingHistory": {},
    }
    for coin in coins:
        rows = pager.candles(coin, interval, start, end, step)
        if not rows:
            raise HistoryError(f"the exchange has no {interval} candles for {coin.key} since {when(start)}")
        if rows[0]["t"] > start:
            notes.append(f"{coin.key}: candles begin at {when(rows[0]['t'])} (none served before)")
        doc["candleSnapshot"][coin.key] = rows
        if coin.perp:
            doc["fundingHistory"][coin.key] = pager.funding(coin, start, end)
    notes.extend(_gaps(doc))
    return FetchResult(
        document=doc, coins=tuple(coins), start=start, end=end, requests=pager.requests, notes=tuple(notes)
    )


def _gaps(doc: dict[str, Any]) -> list[str]:
    """What a backtest would refuse in the fetched file (candles the exchange did not serve)."""
    out = []
    for key in doc["candleSnapshot"]:
        one = {**doc, "candleSnapshot": {key: doc["candleSnapshot"][key]}, "fundingHistory": {}}
        try:
            parse_history(one, "the fetched history")
        except HistoryError as e:
            out.append(f"{e.message} (the exchange served no such candles; a backtest will refuse {key})")
    return out


class _Pager:
    """Pages through time-range answers, counting requests and reporting progress."""

    def __init__(self, info: InfoFn, total: int, progress: Progress | None) -> None:
        self.info = info
        self.total = total
        self.progress = progress
        self.requests: dict[str, int] = {}

    def _ask(self, body: dict[str, Any], what: str) -> list[dict[str, Any]]:
        kind = str(body["type"])
        self.requests[kind] = self.requests.get(kind, 0) + 1
        answer = self.info(body)
        if not isinstance(answer, list) or not all(isinstance(row, dict) for row in answer):
            raise ExchangeError(f"the exchange's answer to {kind} for {what} is not a list of entries")
        return answer

    def _advance(self, items: int, what: str) -> None:
        if self.progress is not None:
            self.progress(items, self.total, what)

    def candles(self, coin: FetchCoin, interval: str, start: int, end: int, step: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor = start
        while cursor <= end:
            req = {"coin": coin.wire, "interval": interval, "startTime": cursor, "endTime": end}
            page = self._ask({"type": "candleSnapshot", "req": req}, coin.key)
            fresh = [r for r in page if isinstance(r.get("t"), int) and cursor <= r["t"] <= end]
            if not fresh:
                break
            rows.extend(fresh)
            cursor = fresh[-1]["t"] + step
            self._advance(len(fresh), f"{coin.key} candles")
            if len(page) < PAGE_LIMIT:
                break  # a short page is the last one: no need to ask for an empty one
        return rows

    def funding(self, coin: FetchCoin, start: int, end: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor = start
        while cursor <= end:
            body = {"type": "fundingHistory", "coin": coin.wire, "startTime": cursor, "endTime": end}
            page = self._ask(body, coin.key)
            fresh = [r for r in page if isinstance(r.get("time"), int) and cursor <= r["time"] <= end]
            if not fresh:
                break
            rows.extend(fresh)
            cursor = fresh[-1]["time"] + 1
            self._advance(len(fresh), f"{coin.key} funding")
            if len(page) < PAGE_LIMIT:
                break  # a short page is the last one: no need to ask for an empty one
        return rows
