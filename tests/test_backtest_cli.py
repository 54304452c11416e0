"""`hlrebal backtest` and `hlrebal history fetch` from the command line: output, --json, exit codes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hlrebal.backtest import save_history
from hlrebal.cli import app

from backtest_helpers import START, FakeExchange, history_doc, walk

RUNNER = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    closes = {"BTC": walk(120, 90_000, 0.012, seed=41), "ETH": walk(120, 3_000, 0.015, seed=42)}
    save_history(history_doc(closes, rate="0.0000125"), tmp_path / "h.json")
    (tmp_path / "t.json").write_text(json.dumps({"BTC": 0.5, "ETH": 0.3}), encoding="utf-8")
    return tmp_path / "t.json", tmp_path / "h.json"


def backtest(files: tuple[Path, Path], *args: str) -> Any:
    targets, history = files
    return RUNNER.invoke(app, ["backtest", str(targets), "--history", str(history), "--demo", *args])


def test_a_single_run_prints_its_row_and_both_baselines(files: tuple[Path, Path]) -> None:
    result = backtest(files, "--band", "0.02", "--band-relative", "off")
    assert result.exit_code == 0, result.stderr
    assert "band=0.02 trade_to=target band_relative=off" in result.stdout
    assert "never rebalanced" in result.stdout and "every close, no cost" in result.stdout
    assert "not modelled: market impact beyond --cost-bps" in result.stdout


def test_compare_json_is_one_document(files: tuple[Path, Path]) -> None:
    result = backtest(files, "--compare", "band=0.02,0.05 trade_to=target,edge", "--json", "--cost-bps", "3")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["kind"] == "backtest" and len(doc["policies"]) == 4 and doc["cost_bps"] == "3"
    costs = [float(p["total_cost"]) for p in doc["policies"]]
    assert costs == sorted(costs)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--compare", "band=0.02,x"], "'band=0.02,x': 'x' is not a valid band"),
        (["--compare", "speed=1"], "'speed' cannot be compared"),
        (["--chart", "c.pdf"], "must end in .svg, .png, .html"),
        (["--equity", "-5"], "--equity"),
        (["--cost-bps", "lots"], "--cost-bps: expected a number"),
    ],
)
def test_bad_options_exit_2_naming_what_is_wrong(files: tuple[Path, Path], args: list[str], message: str) -> None:
    result = backtest(files, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_malformed_history_exits_2_naming_the_coin_and_the_gap(files: tuple[Path, Path]) -> None:
    doc = json.loads(files[1].read_text())
    del doc["candleSnapshot"]["ETH"][50]
    files[1].write_text(json.dumps(doc))
    result = backtest(files, "--json")
    assert result.exit_code == 2
    assert "ETH: 1 1h candle(s) missing, opening 2026-01-03 02:00 UTC" in result.stderr
    error = json.loads(result.stdout)
    assert (error["kind"], error["error"], error["exit_code"]) == ("error", "history", 2)


def test_a_coin_missing_from_the_history_exits_2(files: tuple[Path, Path], tmp_path: Path) -> None:
    (tmp_path / "t2.json").write_text(json.dumps({"BTC": 0.5, "SOL": 0.2}), encoding="utf-8")
    result = backtest((tmp_path / "t2.json", files[1]))
    assert result.exit_code == 2 and "no candles for SOL" in result.stderr


def test_the_chart_path_is_said_on_stderr(files: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = backtest(files, "--chart", str(tmp_path / "c.svg"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "c.svg").exists() and "chart written to" in result.stderr


@pytest.fixture
def endpoint() -> Iterator[tuple[str, FakeExchange]]:
    hours = 600
    fake = FakeExchange(
        {"BTC": [str(80_000 + k % 5) for k in range(hours)], "@107": ["30"] * hours},
        interval="1h",
        first_open=START,
        funding={"BTC": [(START + k * 3_600_000 + 9, "0.00001") for k in range(hours)]},
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = json.dumps(fake(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()


def test_history_fetch_writes_a_file_backtest_reads(
    endpoint: tuple[str, FakeExchange], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, fake = endpoint
    monkeypatch.setattr("time.time", lambda: fake.now / 1000)
    out = tmp_path / "h.json"
    args = ["history", "fetch", "--coins", "BTC,HYPE/USDC", "--days", "20", "-o", str(out), "--api-url", url, "--json"]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [c["candles"] for c in summary["coins"]] == [480, 480]
    assert summary["requests"] == {"candleSnapshot": 2, "fundingHistory": 1}  # 480 a coin: one page each
    (tmp_path / "t.json").write_text(json.dumps({"BTC": 0.5, "HYPE/USDC": 0.2}), encoding="utf-8")
    replayed = RUNNER.invoke(app, ["backtest", str(tmp_path / "t.json"), "--history", str(out), "--demo", "--json"])
    assert replayed.exit_code == 0, replayed.stderr
    assert json.loads(replayed.stdout)["history"]["closes"] == 480


def test_history_fetch_without_coins_exits_2(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["history", "fetch", "-o", str(tmp_path / "h.json")])
    assert result.exit_code == 2 and "--coins" in result.stderr
