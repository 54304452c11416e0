"""History files: what loads, and every way a file is refused (exit 2, naming the coin and the gap)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from hlrebal.backtest import HistoryError, align, load_history, parse_history, save_history
from hlrebal.backtest.timeline import CoinRef
from hlrebal.errors import ExitCode

from backtest_helpers import START, history_doc

H = 3_600_000
BTC = CoinRef(coin="BTC", names=("BTC",), perp=True)
ETH = CoinRef(coin="ETH", names=("ETH",), perp=True)
HYPE = CoinRef(coin="HYPE/USDC", names=("HYPE/USDC", "@107"), perp=False)


def refused(doc: object) -> str:
    with pytest.raises(HistoryError) as info:
        parse_history(doc, "h.json")
    assert info.value.exit_code == ExitCode.BAD_INPUT
    return info.value.message


def test_a_history_file_round_trips_and_keeps_the_raw_answers(tmp_path: Path) -> None:
    doc = history_doc({"BTC": ["100", "101", "102"], "HYPE/USDC": ["30", "31", "30.5"]}, wires={"HYPE/USDC": "@107"})
    save_history(doc, tmp_path / "h.json")
    history = load_history(tmp_path / "h.json")
    assert json.loads((tmp_path / "h.json").read_text()) == doc
    assert history.interval == "1h" and history.interval_ms == H
    assert history.candles["BTC"].closes == (Decimal(100), Decimal(101), Decimal(102))
    assert history.candles["HYPE/USDC"].wire == "@107"
    assert history.funding["BTC"].rates[0] == 0
    assert "HYPE/USDC" not in history.funding


def test_a_missing_candle_is_refused_naming_the_coin_and_the_gap() -> None:
    doc = history_doc({"BTC": ["1"] * 10, "ETH": ["2"] * 10})
    del doc["candleSnapshot"]["ETH"][4:7]
    message = refused(doc)
    assert "ETH" in message
    assert "ETH: 3 1h candle(s) missing, opening 2026-01-01 04:00 UTC to 2026-01-01 06:00 UTC" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(version=2), "version: expected 1"),
        (lambda d: d.update(interval="1M"), "interval: expected one of"),
        (lambda d: d.update(candleSnapshot={}), "at least one coin"),
        (lambda d: d["candleSnapshot"].update(ETH=[]), "ETH: expected a list of candles, got an empty list"),
        (lambda d: d["candleSnapshot"]["ETH"][2].update(i="4h"), "ETH: candle at 2026-01-01 02:00 UTC: interval '4h'"),
        (lambda d: d["candleSnapshot"]["ETH"][2].update(c="abc"), "ETH: candle at 2026-01-01 02:00 UTC: c: expected"),
        (lambda d: d["candleSnapshot"]["ETH"][2].update(c="-1"), "c: expected a positive price"),
        (lambda d: d["candleSnapshot"]["ETH"][2].update(s="BTC"), "ETH: candle at 2026-01-01 02:00 UTC: coin 'BTC'"),
        (lambda d: d["candleSnapshot"]["ETH"][2].update(t="x"), "ETH: candle 2: t: expected the open time"),
        (lambda d: d["candleSnapshot"]["ETH"].insert(3, d["candleSnapshot"]["ETH"][2]), "must be in time order"),
        (lambda d: d["candleSnapshot"]["ETH"][3].update(t=START + 3 * H + 60_000), "61 minutes after"),
        (lambda d: d["fundingHistory"]["BTC"][1].update(fundingRate="x"), "fundingHistory.BTC[1]"),
        (lambda d: d["fundingHistory"]["BTC"].reverse(), "not after the entry before it"),
    ],
)
def test_malformed_files_are_refused_with_the_coin_named(change: object, expected: str) -> None:
    doc = history_doc({"BTC": ["1"] * 6, "ETH": ["2"] * 6})
    change(doc)  # type: ignore[operator]
    assert expected in refused(doc)


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="no such history file"):
        load_history(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(HistoryError, match="invalid JSON at line 1"):
        load_history(tmp_path / "bad.json")
    assert "a history file is a JSON object" in refused([1, 2])


def test_a_coin_of_the_targets_missing_from_the_history_is_named() -> None:
    history = parse_history(history_doc({"BTC": ["1"] * 5}), "h.json")
    with pytest.raises(HistoryError) as info:
        align(history, [BTC, ETH, HYPE])
    assert "no candles for ETH, HYPE/USDC, which the targets hold (the file has BTC)" in info.value.message
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_a_spot_pair_is_found_by_its_wire_name_too() -> None:
    doc = history_doc({"@107": ["30", "31"]}, perps=[])
    timeline = align(parse_history(doc, "h.json"), [HYPE])
    assert timeline.closes["HYPE/USDC"] == (Decimal(30), Decimal(31))


def test_the_replay_runs_over_the_closes_all_coins_share() -> None:
    doc = history_doc({"BTC": [str(p) for p in range(100, 110)], "ETH": [str(p) for p in range(200, 206)]})
    # ETH starts four hours later: its candles are shifted, the same length ends at the same time
    for row in doc["candleSnapshot"]["ETH"]:
        row["t"] += 4 * H
        row["T"] += 4 * H
    timeline = align(parse_history(doc, "h.json"), [BTC, ETH])
    assert len(timeline.times) == 6
    assert timeline.times[0] == START + 5 * H - 1  # the close of ETH's first candle
    assert timeline.closes["BTC"][0] == 104 and timeline.closes["ETH"][0] == 200
    assert any("starts at 2026-01-01 04:00 UTC, where the candles of ETH begin" in n for n in timeline.notes)


def test_histories_that_share_fewer_than_two_closes_are_too_short() -> None:
    doc = history_doc({"BTC": ["1"] * 3, "ETH": ["2"] * 3})
    for row in doc["candleSnapshot"]["ETH"]:
        row["t"] += 2 * H
        row["T"] += 2 * H
    with pytest.raises(HistoryError, match="share fewer than two candles"):
        align(parse_history(doc, "h.json"), [BTC, ETH])


def test_a_perp_without_funding_or_with_a_funding_gap_is_refused() -> None:
    doc = history_doc({"BTC": ["1"] * 30, "ETH": ["2"] * 30})
    del doc["fundingHistory"]["ETH"]
    with pytest.raises(HistoryError, match="no funding history for ETH"):
        align(parse_history(doc, "h.json"), [BTC, ETH])
    doc = history_doc({"BTC": ["1"] * 30})
    del doc["fundingHistory"]["BTC"][5:15]
    with pytest.raises(HistoryError) as info:
        align(parse_history(doc, "h.json"), [BTC])
    assert "BTC: no funding entries between 2026-01-01 05:00 UTC and 2026-01-01 16:00 UTC" in info.value.message


def test_funding_every_eight_hours_is_accepted() -> None:
    entries = [(START + k * 8 * H + 48, "0.0001") for k in range(1, 4)]
    doc = history_doc({"BTC": ["1"] * 30}, funding={"BTC": entries})
    timeline = align(parse_history(doc, "h.json"), [BTC])
    assert sum(len(events) for events in timeline.funding) == 3
