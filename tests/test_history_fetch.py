"""`history fetch`: paging through candleSnapshot and fundingHistory by the exchange's rules."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hlrebal.backtest import FetchCoin, fetch_history, history_fetch, parse_history, resolve_coins, save_history
from hlrebal.backtest.fetch import CANDLE_LIMIT
from hlrebal.backtest.report import fetch_json
from hlrebal.config import resolve
from hlrebal.errors import BadInputError, ExitCode
from hlrebal.targets import weights_from_mapping

from backtest_helpers import START, FakeExchange

H = 3_600_000
DAY = 24 * H


def hourly_funding(coin: str, first: int, hours: int) -> list[tuple[int, str]]:
    return [(first + k * H + 31, "0.0000125") for k in range(hours)]


def exchange(hours: int = 2000, **kwargs: Any) -> FakeExchange:
    closes = {"BTC": [str(80_000 + k % 7) for k in range(hours)], "@107": [str(30 + k % 3) for k in range(hours)]}
    return FakeExchange(
        closes, interval="1h", first_open=START, funding={"BTC": hourly_funding("BTC", START, hours)}, **kwargs
    )


BTC = FetchCoin(key="BTC", wire="BTC", perp=True)
HYPE = FetchCoin(key="HYPE/USDC", wire="@107", perp=False)


def test_pages_of_500_follow_each_other_without_overlap_or_gap() -> None:
    fake = exchange()
    result = fetch_history(fake, [BTC, HYPE], "1h", now_ms=fake.now, days=60)
    rows = result.document["candleSnapshot"]["BTC"]
    assert len(rows) == 60 * 24
    assert [r["t"] for r in rows] == list(range(result.start, result.end, H))
    pages = [b["req"] for b in fake.asked("candleSnapshot") if b["req"]["coin"] == "BTC"]
    assert len(pages) == 3  # 1,440 candles, 500 a page
    assert [p["startTime"] for p in pages] == [result.start, result.start + 500 * H, result.start + 1000 * H]
    assert all(p["endTime"] == result.end for p in pages)
    # the candle still open is never asked for nor kept
    assert rows[-1]["T"] == result.end < fake.now
    funding = result.document["fundingHistory"]["BTC"]
    assert len(funding) == 60 * 24 and funding[0]["time"] >= result.start and funding[-1]["time"] <= result.end
    assert len(fake.asked("fundingHistory")) == 3
    assert result.requests == {"candleSnapshot": 6, "fundingHistory": 3}
    assert not result.notes


def test_spot_pairs_are_filed_under_their_pair_name_with_the_wire_name_in_the_candles() -> None:
    fake = exchange(100)
    refs = resolve_coins(fake, ["BTC", "HYPE/USDC", "PURR/USDC"])
    assert refs[1] == HYPE and refs[2] == FetchCoin(key="PURR/USDC", wire="PURR/USDC", perp=False)
    assert resolve_coins(fake, ["@107"]) == (HYPE,)
    result = fetch_history(fake, refs[:2], "1h", now_ms=fake.now, days=2)
    assert result.document["candleSnapshot"]["HYPE/USDC"][0]["s"] == "@107"
    assert "HYPE/USDC" not in result.document["fundingHistory"]  # spot pays no funding
    history = parse_history(result.document, "fetched")
    assert history.candles["HYPE/USDC"].wire == "@107"


def test_a_range_beyond_the_5000_most_recent_candles_is_cut_and_said() -> None:
    fake = exchange(6000)
    result = fetch_history(fake, [BTC], "1h", now_ms=fake.now, days=365)
    rows = result.document["candleSnapshot"]["BTC"]
    assert len(rows) == CANDLE_LIMIT - 1  # the 5,000 served include the one still open
    assert rows[0]["t"] == fake.candles["BTC"][0]["t"] == result.start
    assert any("only the 5,000 most recent 1h candles (about 208 days)" in n for n in result.notes)
    assert len([b for b in fake.asked("candleSnapshot")]) == 10
    # without --days: all the exchange serves, and nothing to say about it
    again = fetch_history(exchange(6000), [BTC], "1h", now_ms=fake.now)
    assert len(again.document["candleSnapshot"]["BTC"]) == CANDLE_LIMIT - 1 and not again.notes


def test_a_coin_listed_later_than_the_range_is_said() -> None:
    fake = exchange(100)
    result = fetch_history(fake, [BTC], "1h", now_ms=fake.now, days=30)
    assert any("BTC: candles begin at 2026-01-01 00:00 UTC" in n for n in result.notes)


def test_daily_candles_are_fetched_in_one_page() -> None:
    fake = FakeExchange({"ETH": [str(3000 + k) for k in range(400)]}, interval="1d", first_open=START)
    eth = FetchCoin(key="ETH", wire="ETH", perp=True)
    fake.funding = {"ETH": []}
    result = fetch_history(fake, [eth], "1d", now_ms=fake.now, days=90)
    assert len(result.document["candleSnapshot"]["ETH"]) == 90
    assert len(fake.asked("candleSnapshot")) == 1


def test_unknown_names_are_refused_with_a_suggestion() -> None:
    fake = exchange(10)
    with pytest.raises(BadInputError, match="BTX: not a perp the exchange lists \\(did you mean BTC\\?\\)"):
        resolve_coins(fake, ["BTX"])
    with pytest.raises(BadInputError, match="HYPE/USDT: not a spot pair"):
        resolve_coins(fake, ["HYPE/USDT"])
    with pytest.raises(BadInputError, match="named twice"):
        resolve_coins(fake, ["HYPE/USDC", "@107"])
    with pytest.raises(BadInputError, match="--days"):
        fetch_history(fake, [BTC], "1h", now_ms=fake.now, days=0)
    with pytest.raises(BadInputError, match="--interval"):
        fetch_history(fake, [BTC], "1M", now_ms=fake.now)


def test_history_fetch_takes_the_targets_coins() -> None:
    fake = exchange(200)
    targets = weights_from_mapping({"BTC": 0.5, "HYPE/USDC": 0.2})
    result = history_fetch(
        resolve(env={}), coins=None, targets=targets, interval="1h", days=3, info=fake, now_ms=fake.now
    )
    assert sorted(result.document["candleSnapshot"]) == ["BTC", "HYPE/USDC"]
    with pytest.raises(BadInputError, match="one of --coins"):
        history_fetch(resolve(env={}), coins="BTC", targets=targets, interval="1h", days=3, info=fake)
    with pytest.raises(BadInputError, match="an empty name") as info:
        history_fetch(resolve(env={}), coins="BTC,,ETH", targets=None, interval="1h", days=3, info=fake)
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_progress_reaches_its_total() -> None:
    fake = exchange(300)
    seen: list[tuple[int, int, str]] = []
    fetch_history(fake, [BTC, HYPE], "1h", now_ms=fake.now, days=10, progress=lambda n, t, w: seen.append((n, t, w)))
    assert sum(n for n, _, _ in seen) == seen[0][1] == 240 + 240 + 240
    assert {w for _, _, w in seen} == {"BTC candles", "BTC funding", "HYPE/USDC candles"}


@pytest.fixture
def stub_endpoint() -> Iterator[tuple[str, FakeExchange]]:
    """The fake exchange behind a real HTTP endpoint, so the SDK-backed client pages through it."""
    fake = exchange(800)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            data = json.dumps(fake(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()


def test_history_fetch_through_the_exchange_client(stub_endpoint: tuple[str, FakeExchange], tmp_path: Path) -> None:
    url, fake = stub_endpoint
    resolved = resolve(flags={"api_url": url}, env={})
    result = history_fetch(resolved, coins="BTC,HYPE/USDC", targets=None, interval="1h", days=30, now_ms=fake.now)
    assert result.document["network"] == "custom"
    assert len(result.document["candleSnapshot"]["HYPE/USDC"]) == 720
    save_history(result.document, tmp_path / "h.json")
    history = parse_history(json.loads((tmp_path / "h.json").read_text()), "h.json")
    assert len(history.candles["BTC"].closes) == 720
    assert fake.asked("meta") and fake.asked("spotMeta")
    summary = json.loads(json.dumps(fetch_json(result, "h.json")))
    assert [(c["coin"], c["wire"], c["kind"], c["candles"]) for c in summary["coins"]] == [
        ("BTC", "BTC", "perp", 720),
        ("HYPE/USDC", "@107", "spot", 720),
    ]
    assert summary["coins"][1]["funding_entries"] is None and summary["requests"]["candleSnapshot"] == 4
