"""`hlrebal history fetch` end to end against the sim's synthetic history, and the file it
writes served back (and replayed) by a sim started with it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.sim import ManualClock, SimConfig, Simulator

from sim_helpers import D, info


def test_history_fetch_reads_the_sim_and_the_file_serves_and_replays(tmp_path: Path) -> None:
    out = tmp_path / "history.json"
    with Simulator(config=SimConfig(tick_seconds=0)) as sim:
        args = ["history", "fetch", "--coins", "BTC,HYPE/USDC", "--interval", "1h", "--days", "30"]
        result = CliRunner().invoke(app, [*args, "-o", str(out), "--api-url", sim.url, "--json"])
        assert result.exit_code == 0, result.output
        asked = sim.counts
    doc = json.loads(out.read_text())
    btc = doc["candleSnapshot"]["BTC"]
    assert 700 <= len(btc) <= 722 and asked["info.candleSnapshot"] >= 4  # 30 days of hours, 500 a page
    assert len({c["t"] for c in btc}) == len(btc)
    assert doc["fundingHistory"]["BTC"] and "HYPE/USDC" in doc["candleSnapshot"]
    with Simulator(clock=ManualClock(), config=SimConfig(tick_seconds=0, history=str(out))) as replay:
        served = info(replay).candles_snapshot("BTC", "1h", btc[0]["t"], btc[-1]["T"])
        assert served == btc[:500]
        assert replay.mid("BTC") == D(btc[0]["c"])
        replay.advance(3 * 3600)
        assert replay.mid("BTC") == D(btc[3]["c"])
        assert replay.mid("@107") == D(doc["candleSnapshot"]["HYPE/USDC"][3]["c"])
