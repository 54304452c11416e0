"""candleSnapshot and fundingHistory through the SDK (Info.candles_snapshot, funding_history):
the synthetic history, the 500-a-page and 5000-candle limits, history files and their replay."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hlrebal.sim import ManualClock, SimConfig, Simulator
from hlrebal.sim.history_file import HistoryError
from hlrebal.sim.numbers import is_valid_price

from sim_helpers import D, info, post

HOUR = 3_600_000


def _sim(**config: Any) -> Simulator:
    return Simulator(clock=ManualClock(), config=SimConfig(tick_seconds=0, **config)).start()


@pytest.fixture
def sim() -> Any:
    s = _sim()
    yield s
    s.stop()


def _all_candles(sim: Simulator, coin: str, interval: str, start: int, end: int) -> list[dict[str, Any]]:
    """Page through candleSnapshot: a candle is returned when its period overlaps the range, so
    the next page starts after the last candle's close time (T), not its open time."""
    out: list[dict[str, Any]] = []
    while True:
        page = info(sim).candles_snapshot(coin, interval, start, end)
        assert len(page) <= 500
        out += page
        if len(page) < 500:
            return out
        start = page[-1]["T"] + 1


def test_synthetic_candles_have_the_exchange_shape_and_end_at_the_current_price(sim: Simulator) -> None:
    now = sim.now
    candles = info(sim).candles_snapshot("BTC", "1h", now - 48 * HOUR, now)
    assert len(candles) == 49  # the candle open 48 h ago overlaps the range, the current one too
    for c in candles:
        assert set(c) == {"t", "T", "s", "i", "o", "c", "h", "l", "v", "n"}
        assert all(isinstance(c[k], str) for k in "ochlv") and all(type(c[k]) is int for k in ("t", "T", "n"))
        assert c["s"] == "BTC" and c["i"] == "1h" and c["T"] == c["t"] + HOUR - 1 and c["t"] % HOUR == 0
        assert D(c["l"]) <= min(D(c["o"]), D(c["c"])) <= max(D(c["o"]), D(c["c"])) <= D(c["h"])
        assert all(is_valid_price(D(c[k]), 1) for k in "ochl")
    assert [b["t"] - a["t"] for a, b in itertools.pairwise(candles)] == [HOUR] * 48
    assert candles[-1]["c"] == "85600.0" and candles[-1]["t"] <= now <= candles[-1]["T"]
    assert all(a["c"] == b["o"] for a, b in itertools.pairwise(candles))
    assert info(sim).candles_snapshot("HYPE/USDC", "1d", now - 3 * 86_400_000, now)[0]["s"] == "@107"


def test_the_history_is_seeded(sim: Simulator) -> None:
    now = sim.now
    same, other = _sim(), _sim(history_seed=1)
    try:
        mine = info(sim).candles_snapshot("ETH", "15m", now - 10 * HOUR, now)
        assert mine == info(same).candles_snapshot("ETH", "15m", now - 10 * HOUR, now)
        assert mine != info(other).candles_snapshot("ETH", "15m", now - 10 * HOUR, now)
    finally:
        same.stop()
        other.stop()


def test_500_a_page_and_only_the_5000_most_recent_candles(sim: Simulator) -> None:
    now = sim.now
    first_page = info(sim).candles_snapshot("ETH", "1h", now - 400 * 86_400_000, now)
    assert len(first_page) == 500
    again = info(sim).candles_snapshot("ETH", "1h", first_page[-1]["t"] + 1, now)
    assert again[0] == first_page[-1]  # the candle the new startTime falls in overlaps it
    everything = _all_candles(sim, "ETH", "1h", now - 400 * 86_400_000, now)
    assert len(everything) == 5000
    assert everything[0]["t"] == everything[-1]["t"] - 4999 * HOUR
    assert len({c["t"] for c in everything}) == 5000
    sim.advance(10 * 3600)  # ten hours later the ten oldest are gone (the history ends at the start)
    later = _all_candles(sim, "ETH", "1h", now - 400 * 86_400_000, sim.now)
    assert later == everything[10:]


def test_monthly_candles_follow_the_calendar(sim: Simulator) -> None:
    candles = info(sim).candles_snapshot("SOL", "1M", sim.now - 400 * 86_400_000, sim.now)
    assert 13 <= len(candles) <= 15
    for c in candles:
        opened = datetime.fromtimestamp(c["t"] / 1000, tz=UTC)
        assert (opened.day, opened.hour, opened.minute) == (1, 0, 0)


def test_funding_history_is_hourly_and_paginated(sim: Simulator) -> None:
    now = sim.now
    entries = info(sim).funding_history("BTC", now - 30 * 86_400_000, now)
    assert len(entries) == 500
    assert [b["time"] - a["time"] for a, b in itertools.pairwise(entries)] == [HOUR] * 499
    for e in entries:
        assert set(e) == {"coin", "fundingRate", "premium", "time"} and e["coin"] == "BTC"
        assert isinstance(e["fundingRate"], str) and isinstance(e["premium"], str) and type(e["time"]) is int
        assert abs(D(e["fundingRate"])) <= D("0.0005") / 8 + abs(D(e["premium"])) / 8 + D("1e-8")
    start = entries[0]["time"]
    assert info(sim).funding_history("BTC", start, start)[0]["time"] == start  # startTime inclusive
    recent = info(sim).funding_history("BTC", now - 3 * HOUR)
    assert len(recent) == 3 and recent[-1]["time"] <= now
    raw = post(sim, "info", {"type": "fundingHistory", "coin": "BTC"})
    assert raw.status_code == 422


def _history_doc(sim: Simulator, coins: dict[str, str], hours: int = 48) -> dict[str, Any]:
    """A history file as `hlrebal history fetch` writes it, from the sim's own answers."""
    now = sim.now
    start = now - hours * HOUR
    return {
        "version": 1,
        "interval": "1h",
        "network": "custom",
        "candleSnapshot": {key: _all_candles(sim, coin, "1h", start, now)[:hours] for key, coin in coins.items()},
        "fundingHistory": {
            key: info(sim).funding_history(coin, start, now) for key, coin in coins.items() if "/" not in key
        },
    }


def test_a_history_file_is_served_as_it_is_and_its_prices_replay(sim: Simulator, tmp_path: Path) -> None:
    doc = _history_doc(sim, {"BTC": "BTC", "HYPE/USDC": "@107"})
    path = tmp_path / "history.json"
    path.write_text(json.dumps(doc))
    replay = _sim(history=str(path))
    try:
        btc = doc["candleSnapshot"]["BTC"]
        first, last = btc[0]["t"], btc[-1]["T"]
        assert info(replay).candles_snapshot("BTC", "1h", first, last) == btc
        assert info(replay).candles_snapshot("@107", "1h", first, last) == doc["candleSnapshot"]["HYPE/USDC"]
        funding = [e for e in doc["fundingHistory"]["BTC"] if first <= e["time"] <= last]
        assert info(replay).funding_history("BTC", first, last) == funding
        four = info(replay).candles_snapshot("BTC", "4h", first, last)
        assert four[1]["o"] == next(c["o"] for c in btc if c["t"] == four[1]["t"])
        assert D(four[1]["v"]) == sum(D(c["v"]) for c in btc if four[1]["t"] <= c["t"] <= four[1]["T"])
        assert replay.mid("BTC") == D(btc[0]["c"]) and replay.mid("@107") == D(
            doc["candleSnapshot"]["HYPE/USDC"][0]["c"]
        )
        replay.advance(3600)
        assert replay.mid("BTC") == D(btc[1]["c"])
        ctx = replay.handle("info", {"type": "metaAndAssetCtxs"})[1][1][0]
        assert D(ctx["markPx"]) == D(ctx["oraclePx"]) == D(btc[1]["c"])
        replay.advance(100 * 3600)
        assert replay.mid("BTC") == D(btc[-1]["c"])  # past the end: the last close stays
        assert replay.mid("ETH") == D("3050.4")  # not in the file: untouched
    finally:
        replay.stop()


def test_replay_speed_and_restart(sim: Simulator, tmp_path: Path) -> None:
    doc = _history_doc(sim, {"ETH": "ETH"}, hours=24)
    clock = ManualClock()
    config = SimConfig(tick_seconds=0, history=doc, history_speed=60)  # a candle a minute
    state = tmp_path / "state.json"
    first = Simulator(clock=clock, config=config, state=state, autosave=True)
    first.advance(60)
    assert first.mid("ETH") == D(doc["candleSnapshot"]["ETH"][1]["c"])
    first.save()
    second = Simulator(clock=clock, config=config, state=state)
    second.advance(120)
    assert second.mid("ETH") == D(doc["candleSnapshot"]["ETH"][3]["c"])


def _good() -> dict[str, Any]:
    candle = {"t": 0, "T": HOUR - 1, "s": "BTC", "i": "1h", "o": "1.0", "c": "1.1", "h": "1.2", "l": "0.9", "v": "5.0"}
    return {"version": 1, "interval": "1h", "candleSnapshot": {"BTC": [{**candle, "n": 3}]}, "fundingHistory": {}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), "unsupported history file version 2"),
        (lambda d: d.update(interval="2d"), "unknown interval '2d'"),
        (lambda d: d["candleSnapshot"]["BTC"][0].update(c=1.1), "candleSnapshot.BTC[0]: c must be"),
        (lambda d: d["candleSnapshot"]["BTC"][0].pop("t"), "candleSnapshot.BTC[0]: a candle needs integer t"),
        (lambda d: d["candleSnapshot"]["BTC"].append(dict(d["candleSnapshot"]["BTC"][0])), "BTC[1]: candles must be"),
        (lambda d: d["candleSnapshot"]["BTC"][0].update(i="4h"), "BTC[0]: interval '4h'"),
        (lambda d: d.update(candleSnapshot={}), "the history file has no candles"),
        (lambda d: d.update(fundingHistory={"BTC": [{"time": "x"}]}), "fundingHistory.BTC[0]: an entry needs"),
    ],
)
def test_a_bad_history_file_is_refused_with_the_coin_and_the_place(change: Any, message: str) -> None:
    doc = _good()
    change(doc)
    with pytest.raises(HistoryError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        Simulator(config=SimConfig(history=doc, tick_seconds=0))


def test_an_unreadable_history_file(tmp_path: Path) -> None:
    bad = tmp_path / "h.json"
    bad.write_text("{not json")
    with pytest.raises(HistoryError, match="is not JSON"):
        Simulator(config=SimConfig(history=str(bad)))
    with pytest.raises(HistoryError, match="cannot read"):
        Simulator(config=SimConfig(history=str(tmp_path / "missing.json")))
