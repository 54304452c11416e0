"""State save and load (atomic), autosave, and ``serve``."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import eth_account
import pytest
import requests
from hyperliquid.utils.types import Cloid

from hlrebal.sim import SimConfig, Simulator
from hlrebal.sim.serve import serve
from hlrebal.sim.state import write_atomic

from sim_helpers import (
    DEMO,
    SIGINT_DEFAULT,
    D,
    exchange,
    funded,
    info,
    limit,
    order_action,
    post,
    signed_body,
    statuses,
)


def test_state_survives_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sim.json"
    with Simulator(snapshot=DEMO) as s:
        key, ex = funded(s, 50_000)
        agent = eth_account.Account.create()
        s.approve_agent(key.address, agent.address)
        statuses(ex.order("ETH", True, 1.0, 3100, limit("Ioc")))
        cloid = Cloid.from_str("0x" + "99" * 16)
        oid = statuses(ex.order("BTC", True, 0.01, 80000, limit("Gtc"), cloid=cloid))[0]["resting"]["oid"]
        s.fund_spot(key.address, "HYPE", "3.5")
        s.set_book("SOL", level_notional=1000)
        s.set_price("ATOM", "3.5", mark="3.51")
        s.set_vault_leader("0x" + "5" * 40, key.address)
        replay = signed_body(key, order_action(1, True, "3000", "0.1"))
        assert post(s, "exchange", replay).json()["status"] == "ok"
        before_state = info(s).user_state(key.address)
        before_fills = info(s).user_fills(key.address)
        before_orders = s.orders
        s.save(path)
    assert path.exists() and not [p for p in path.parent.iterdir() if p.name != "sim.json"]
    with Simulator(state=path) as s:
        client = info(s)
        assert client.user_state(key.address)["assetPositions"] == before_state["assetPositions"]
        assert client.user_state(key.address)["marginSummary"] == before_state["marginSummary"]
        assert client.user_fills(key.address) == before_fills
        assert s.orders == before_orders
        assert client.query_order_by_cloid(key.address, cloid)["order"]["order"]["oid"] == oid
        assert {b["coin"] for b in client.spot_user_state(key.address)["balances"]} == {"HYPE"}
        assert D(client.l2_snapshot("SOL")["levels"][1][0]["sz"]) * 142 < 1100
        _, ctxs = client.meta_and_asset_ctxs()
        assert ctxs[2]["midPx"] == "3.5" and ctxs[2]["markPx"] == "3.51"
        # the used nonce is still used, the agent still trades, new oids do not collide
        assert post(s, "exchange", replay).json()["response"].startswith("Invalid nonce: duplicate nonce")
        new_oid = statuses(exchange(s, agent).order("ETH", True, 0.1, 3000, limit("Gtc")))[0]["resting"]["oid"]
        assert new_oid > oid
        assert statuses(exchange(s, key).cancel("BTC", oid)) == ["success"]
        assert s.engine.vaults["0x" + "5" * 40].leader == key.address.lower()
        # the seeded demo account came along
        seeded = json.loads(DEMO.read_text())["clearinghouseState"]["marginSummary"]["accountValue"]
        demo_user = "0xde30000000000000000000000000000000000001"
        assert D(client.user_state(demo_user)["marginSummary"]["accountValue"]) == D(seeded)


def test_state_file_wins_over_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    with Simulator(state=path, autosave=True) as s:  # no file yet: default market, written at once
        assert path.exists()
        key, _ = funded(s, 123)
    with Simulator(snapshot=DEMO, state=path) as s:
        assert s.account(key.address)["usdc"] == 123
        assert [p["name"] for p in info(s).meta()["universe"]] == ["BTC", "ETH", "SOL", "HYPE"]


def test_autosave_after_each_exchange_request(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    with Simulator(state=path, autosave=True) as s:
        key, ex = funded(s, 10_000)
        statuses(ex.order("ETH", True, 1.0, 3100, limit("Ioc")))
        saved = json.loads(path.read_text())
        [account] = [a for a in saved["accounts"] if a["address"] == key.address.lower()]
        assert account["positions"][0]["coin"] == "ETH"
        assert [p.name for p in tmp_path.iterdir()] == ["sim.json"]  # no temporary files left behind


def test_write_atomic_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    write_atomic(path, "old")

    with pytest.raises(TypeError):
        write_atomic(path, 123)  # type: ignore[arg-type]  # fails while writing the temporary file
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_serve_runs_until_stopped_and_saves(tmp_path: Path) -> None:
    path = tmp_path / "served.json"
    urls: list[str] = []
    ready = threading.Event()
    stop = threading.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    thread = threading.Thread(
        target=serve,
        kwargs={
            "port": 0,
            "snapshot": DEMO,
            "state": path,
            "ready": on_ready,
            "stop": stop,
            "config": SimConfig(taker_fee="0.0005"),
        },
    )
    thread.start()
    try:
        assert ready.wait(10)
        response = requests.post(f"{urls[0]}/info", json={"type": "userFees", "user": "0x" + "1" * 40}, timeout=5)
        assert response.json()["userCrossRate"] == "0.0005"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    saved = json.loads(path.read_text())
    assert any(a["address"] == "0xde30000000000000000000000000000000000001" for a in saved["accounts"])


def test_serve_ctrl_c_saves_and_propagates(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    path = tmp_path / "ctrl-c.json"
    code = (
        SIGINT_DEFAULT + "from hlrebal.sim.serve import serve\n"
        f"serve(port=0, state={str(path)!r}, ready=lambda url: print(url, flush=True))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert requests.post(f"{url}/info", json={"type": "allMids"}, timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    assert json.loads(path.read_text())["format"] == 1
