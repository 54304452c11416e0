"""Reading live accounts through the real SDK, against the simulator over HTTP (and stub servers)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.errors import ExchangeError, ExitCode
from hlrebal.exchange import ExchangeClient
from hlrebal.sim import Simulator

from factories import USER, btc_80_20, make_snapshot

ROOT = Path(__file__).resolve().parent.parent
BALANCED = str(ROOT / "sample_targets" / "balanced.json")
runner = CliRunner()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(snapshot=btc_80_20()) as s:
        yield s


def plan_live(sim: Simulator, *extra: str) -> tuple[int, str, str]:
    r = runner.invoke(app, ["plan", BALANCED, "--api-url", sim.url + "/", "--address", USER, *extra])
    return r.exit_code, r.stdout, r.stderr


def test_live_plan_reads_the_account_in_at_most_four_info_requests(sim: Simulator) -> None:
    sim.reset_counts()
    code, out, err = plan_live(sim, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [t["coin"] for t in doc["trades"]] == ["BTC", "ETH"]
    assert doc["network"] == "custom"
    info = {k: n for k, n in sim.counts.items() if k.startswith("info.")}
    assert sum(info.values()) <= 4, info
    assert all(n == 1 for n in info.values()), info  # nothing read twice, meta least of all
    assert not any(k in info for k in ("info.meta", "info.spotMeta")), info
    assert not any(k.startswith("exchange.") for k in sim.counts)


def test_live_plan_equals_plan_from_a_snapshot_saved_from_the_same_sim(sim: Simulator, tmp_path: Path) -> None:
    saved = tmp_path / "snap.json"
    r = runner.invoke(app, ["snapshot", "-o", str(saved), "--api-url", sim.url, "--address", USER])
    assert r.exit_code == 0, r.stderr
    assert "saved snapshot" in r.stderr
    raw = json.loads(saved.read_text())
    assert {"clearinghouseState", "metaAndAssetCtxs", "user", "time", "version", "network"} <= set(raw)
    _, live, _ = plan_live(sim, "--json")
    offline = runner.invoke(app, ["plan", BALANCED, "--snapshot", str(saved), "--json"])
    assert offline.exit_code == 0
    a, b = json.loads(live), json.loads(offline.stdout)
    a.pop("snapshot_time"), b.pop("snapshot_time")
    a.pop("plan_hash"), b.pop("plan_hash")  # it covers the snapshot's time
    assert a == b


def test_seeded_account_reads_back_with_its_snapshot_equity(sim: Simulator) -> None:
    client = ExchangeClient(sim.url, network="custom")
    snap = client.read_snapshot(USER)
    assert snap.equity == Decimal(btc_80_20()["clearinghouseState"]["marginSummary"]["accountValue"])
    assert snap.positions["BTC"].szi == Decimal("0.93458")


def test_reads_retry_on_429_then_succeed(sim: Simulator) -> None:
    sim.fail_next(2, status=429, endpoint="info")
    slept: list[float] = []
    client = ExchangeClient(sim.url, network="custom", sleep=slept.append)
    snap = client.read_snapshot(USER)
    assert snap.equity > 0
    assert slept == [0.25, 0.75]  # bounded backoff


def test_reads_retry_on_500_and_dropped_connections(sim: Simulator) -> None:
    sim.fail_next(1, status=500, endpoint="info")
    sim.drop_next(1, endpoint="info")
    client = ExchangeClient(sim.url, network="custom", sleep=lambda _: None)
    assert client.read_snapshot(USER).equity > 0


def test_persistent_failure_is_exit_3_with_a_clear_message(sim: Simulator) -> None:
    sim.fail_next(50, status=503, endpoint="info")
    client = ExchangeClient(sim.url, network="custom", sleep=lambda _: None)
    with pytest.raises(ExchangeError) as e:
        client.read_snapshot(USER)
    assert e.value.exit_code == ExitCode.EXCHANGE
    assert "after 4 attempts" in str(e.value) and "503" in str(e.value)


def test_a_slow_exchange_times_out_instead_of_hanging(sim: Simulator) -> None:
    sim.add_latency(1.5, count=10, endpoint="info")
    client = ExchangeClient(sim.url, network="custom", timeout=0.3, delays=(0, 0), sleep=lambda _: None)
    with pytest.raises(ExchangeError) as e:
        client.read_snapshot(USER)
    assert "no answer within 0.3 s" in str(e.value)


def test_unreachable_exchange_is_exit_3_from_the_cli() -> None:
    r = runner.invoke(app, ["plan", BALANCED, "--api-url", "http://127.0.0.1:9", "--address", USER])
    assert r.exit_code == 3, r.stderr
    assert "could not read" in r.stderr and "Traceback" not in r.stderr


class _Stub(BaseHTTPRequestHandler):
    status = 200
    body = b"<html>not json</html>"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[tuple[str, type[_Stub]]]:
    handler = type("Handler", (_Stub,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_non_json_200_is_mapped_not_parsed(stub: tuple[str, type[_Stub]]) -> None:
    url, _ = stub
    client = ExchangeClient(url, network="custom", sleep=lambda _: None)
    with pytest.raises(ExchangeError) as e:
        client.read_snapshot(USER)
    assert "not JSON" in str(e.value)


@pytest.mark.parametrize(
    ("status", "body", "fragment"),
    [
        (400, b'{"error": "bad"}', "HTTP 400"),  # JSON without code/msg: the SDK raises KeyError
        (422, b"Failed to deserialize the JSON body into the target type", "HTTP 422"),
        (400, b'{"code": 7, "msg": "User not found"}', "User not found"),
        (400, b'["a list"]', "HTTP 400"),  # the SDK raises AttributeError
    ],
)
def test_4xx_answers_of_every_shape_are_mapped(
    stub: tuple[str, type[_Stub]], status: int, body: bytes, fragment: str
) -> None:
    url, handler = stub
    handler.status, handler.body = status, body
    client = ExchangeClient(url, network="custom", sleep=lambda _: None)
    with pytest.raises(ExchangeError) as e:
        client.read_snapshot(USER)
    assert fragment in str(e.value)


def test_429_with_an_odd_body_is_still_retried(stub: tuple[str, type[_Stub]]) -> None:
    url, handler = stub
    handler.status, handler.body = 429, b'{"error": "slow down"}'
    client = ExchangeClient(url, network="custom", sleep=lambda _: None)
    with pytest.raises(ExchangeError) as e:
        client.read_snapshot(USER)
    assert "429" in str(e.value) and "attempts" in str(e.value)
    assert client.log.counts["info.metaAndAssetCtxs"] == 4


def test_empty_account_is_reported_with_the_api_wallet_hint() -> None:
    with Simulator(snapshot=btc_80_20()) as s:
        r = runner.invoke(app, ["plan", BALANCED, "--api-url", s.url, "--address", "0x" + "ab" * 20])
        assert r.exit_code == 2
        assert "no equity" in r.stderr and "API wallet" in r.stderr
        acct = runner.invoke(app, ["account", "--api-url", s.url, "--address", "0x" + "ab" * 20, "--json"])
        assert acct.exit_code == 0 and json.loads(acct.stdout)["empty"] is True


def test_open_orders_are_read_shown_and_warned(tmp_path: Path) -> None:
    with Simulator(snapshot=make_snapshot({"BTC": ("0.5", 10)}, cash="57200")) as s:
        from eth_account import Account
        from hyperliquid.exchange import Exchange

        key = Account.create()
        s.approve_agent(USER, key.address)
        ex = Exchange(key, s.url, meta={"universe": []}, spot_meta={"universe": [], "tokens": []}, account_address=USER)
        ex.info.coin_to_asset["ETH"] = 1
        ex.info.name_to_coin["ETH"] = "ETH"
        ex.info.asset_to_sz_decimals[1] = 4
        placed = ex.order("ETH", True, 1.0, 2900.0, {"limit": {"tif": "Gtc"}})
        assert "resting" in placed["response"]["data"]["statuses"][0], placed
        acct = runner.invoke(app, ["account", "--api-url", s.url, "--address", USER])
        assert acct.exit_code == 0 and "Open orders" in acct.stdout and "2900" in acct.stdout
        r = runner.invoke(app, ["plan", BALANCED, "--api-url", s.url, "--address", USER])
        assert "open order" in r.stdout


def test_address_is_required_for_live_reads_and_both_network_options_conflict(sim: Simulator) -> None:
    r = runner.invoke(app, ["plan", BALANCED, "--api-url", sim.url])
    assert r.exit_code == 2 and "no account address" in r.stderr
    r = runner.invoke(app, ["plan", BALANCED, "--api-url", sim.url, "--network", "testnet", "--address", USER])
    assert r.exit_code == 2 and "both given" in r.stderr


def test_account_command_table_and_json(sim: Simulator) -> None:
    r = runner.invoke(app, ["account", "--api-url", sim.url, "--address", USER, "--json"])
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["equity"] == "100000" and doc["positions"][0]["coin"] == "BTC"
    assert doc["positions"][0]["leverage"] == 10
    table = runner.invoke(app, ["account", "--api-url", sim.url, "--address", USER])
    assert "BTC" in table.stdout and "80.0%" in table.stdout


def test_demo_plan_runs_on_the_simulator_and_keeps_its_state(_isolated_home: Path) -> None:
    r = runner.invoke(app, ["plan", BALANCED, "--demo", "--json"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["network"] == "demo"
    demo = _isolated_home / "data" / "demo"
    assert (demo / "state.json").exists()
    key = demo / "agent.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    reset = runner.invoke(app, ["demo", "reset"])
    assert reset.exit_code == 0 and not demo.exists()
