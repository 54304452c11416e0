"""`hlrebal sim serve` as people run it: a subprocess on a port, rehearsed against with the CLI."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from eth_account import Account
from typer.testing import CliRunner

from hlrebal.cli import app

from factories import btc_80_20

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
KEY = "0x" + "4d" * 32
# `python -m hlrebal`, except that a child started while the runner ignores SIGINT would inherit
# SIG_IGN and never see the Ctrl-C the test sends: give it the default handler back first.
HLREBAL = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); sys.argv[0] = 'hlrebal'\n"
    "from hlrebal.cli import main\nmain()\n"
)
OWNER = Account.from_key(KEY).address.lower()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sim_serve_runs_a_rehearsal_and_keeps_its_state(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    snapshot.write_text(json.dumps(btc_80_20()))
    state = tmp_path / "state.json"
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HLREBAL,
            "sim",
            "serve",
            "--port",
            str(port),
            "--snapshot",
            str(snapshot),
            "--state",
            str(state),
            "--fund",
            f"{OWNER}:25000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.05)
        seeded = runner.invoke(app, ["account", "--api-url", url, "--address", btc_80_20()["user"], "--json"])
        assert json.loads(seeded.stdout)["equity"] == "100000"
        key = tmp_path / "k"
        key.write_text(KEY)
        key.chmod(0o600)
        r = runner.invoke(
            app,
            [
                "execute",
                str(ROOT / "sample_targets/balanced.json"),
                "--api-url",
                url,
                "--key-file",
                str(key),
                "--journal",
                str(tmp_path / "j.jsonl"),
                "--yes",
                "--json",
            ],
        )
        assert r.exit_code == 0, r.stdout
        assert {o["coin"] for o in json.loads(r.stdout)["orders"]} == {"BTC", "ETH"}
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert f"hlrebal sim on {url}" in err
    saved = json.loads(state.read_text())
    assert OWNER in json.dumps(saved).lower()


def test_sim_serve_refuses_a_bad_fund_option() -> None:
    r = runner.invoke(app, ["sim", "serve", "--fund", "nonsense"])
    assert r.exit_code == 2 and "ADDRESS:USDC" in r.stderr
