"""`hlrebal sim serve` with the patient-execution flags: market flow, a short TWAP slice, the
demo account's key, a history file (and a bad one)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import eth_account
import requests
from hyperliquid.exchange import Exchange
from typer.testing import CliRunner

from hlrebal.cli import app

from sim_helpers import hlrebal_command, send_action, twap_action

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_flow_fast_twaps_and_a_demo_key(tmp_path: Path) -> None:
    key_file, port = tmp_path / "demo.key", _free_port()
    args = ["--port", str(port), "--market-flow", "--seed", "3", "--twap-slice-seconds", "0.05"]
    proc = subprocess.Popen(
        hlrebal_command("sim", "serve", *args, "--demo-key", str(key_file)), stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        first = proc.stderr.readline()  # type: ignore[union-attr]
        assert first.startswith(f"hlrebal sim on {url}"), first
        lines = [proc.stderr.readline() for _ in range(3)]  # type: ignore[union-attr]
        key = key_file.read_text().strip()
        address = eth_account.Account.from_key(key).address.lower()
        assert any(f"the demo account {address} signs with the key in {key_file}" in line for line in lines)
        mids = requests.post(f"{url}/info", json={"type": "allMids"}, timeout=5).json()
        ex = Exchange(eth_account.Account.from_key(key), url, timeout=10)
        twap_id = send_action(ex, twap_action(0, True, "0.01", 5))["response"]["data"]["status"]["running"]["twapId"]
        deadline = time.time() + 10
        while time.time() < deadline:
            history = requests.post(f"{url}/info", json={"type": "twapHistory", "user": address}, timeout=5).json()
            if history[-1]["status"]["status"] == "finished":
                break
            time.sleep(0.1)
        assert history[-1] == {**history[-1], "twapId": twap_id, "status": {"status": "finished"}}
        deadline = time.time() + 5
        while time.time() < deadline:  # the market moves by itself, a step a second
            later = requests.post(f"{url}/info", json={"type": "allMids"}, timeout=5).json()
            if later["BTC"] != mids["BTC"]:
                break
            time.sleep(0.1)
        assert later["BTC"] != mids["BTC"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
        finally:
            proc.kill()
    assert proc.returncode == 130


def test_serve_refuses_a_bad_history_file(tmp_path: Path) -> None:
    bad = tmp_path / "history.json"
    bad.write_text(json.dumps({"version": 1, "interval": "1h", "candleSnapshot": {"BTC": [{"t": "x"}]}}))
    result = CliRunner().invoke(app, ["sim", "serve", "--port", str(_free_port()), "--history", str(bad)])
    assert result.exit_code == 2
    assert "candleSnapshot.BTC[0]: a candle needs integer t and T" in result.stderr and str(bad) in result.stderr
