"""Review of the execution path: lost answers, reconciliation, guards, margin, journal, keys, vaults.

Every test runs the real SDK signing against the simulator over HTTP. Tests marked
``xfail(strict=True, reason="BUG: ...")`` state the correct behaviour of a defect found in review;
the others pin down behaviour that matters with real money and was not covered elsewhere.

Executor-level tests pass ``sleep=lambda _: None``: the simulator has already processed (or dropped)
the request when the fault fires, so the wait for ``expiresAfter`` can be skipped without changing
what the exchange knows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.exchange import ExchangeClient, OrderSpec
from hlrebal.execution import Executor, status_to_outcome
from hlrebal.journal import Journal, read_entries, refused_dust
from hlrebal.keys import SecretStr, SigningKey
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.sim import SimConfig, Simulator
from hlrebal.targets import weights_from_mapping

ROOT = Path(__file__).resolve().parent.parent
BALANCED = ROOT / "sample_targets" / "balanced.json"
runner = CliRunner()

OWNER_KEY = "0x" + "5e" * 32  # owns the seeded test account (a throwaway, test-only key)
USER = Account.from_key(OWNER_KEY).address.lower()
OTHER_KEY = "0x" + "6f" * 32  # a second, unrelated account with its own funds
OTHER = Account.from_key(OTHER_KEY).address.lower()
VAULT = "0x" + "ab" * 20


def _snapshot(positions: dict[str, Any], cash: str, user: str = USER) -> dict[str, Any]:
    from factories import make_snapshot

    return make_snapshot(positions, cash=cash, user=user)


def btc_80(user: str = USER) -> dict[str, Any]:
    """$100,000 of equity, 80% in a BTC long at 10x (the seed example)."""
    return _snapshot({"BTC": ("0.93458", 10)}, "19999.952", user)


@pytest.fixture
def sims() -> Iterator[Any]:
    made: list[Simulator] = []

    def make(doc: dict[str, Any], **config: Any) -> Simulator:
        s = Simulator(snapshot=doc, config=SimConfig(**config)).start()
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def key_file(tmp_path: Path, secret: str = OWNER_KEY, name: str = "owner.key") -> Path:
    path = tmp_path / name
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return path


def write_targets(tmp_path: Path, mapping: dict[str, float], name: str = "targets.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"target_allocation": mapping}))
    return path


def cli_execute(sim: Simulator, targets: Path, tmp_path: Path, *extra: str, key: Path | None = None) -> Any:
    args = [
        "execute",
        str(targets),
        "--api-url",
        sim.url,
        "--key-file",
        str(key or key_file(tmp_path)),
        "--journal",
        str(tmp_path / "journal.jsonl"),
        "--yes",
        "--json",
        *extra,
    ]
    return runner.invoke(app, args)


def client_for(sim: Simulator, secret: str = OWNER_KEY, vault: str | None = None) -> ExchangeClient:
    client = ExchangeClient(sim.url, network="custom")
    client.attach_signer(SigningKey(SecretStr(secret), "test"), vault=vault)
    return client


def run_executor(
    sim: Simulator,
    tmp_path: Path,
    mapping: dict[str, float],
    *,
    user: str = USER,
    policy: Policy | None = None,
    client: ExchangeClient | None = None,
    before_run: Any = None,
    **kw: Any,
) -> tuple[Any, Any, Path]:
    """Read, plan and execute at the library level; returns (report, start snapshot, journal path)."""
    client = client or client_for(sim)
    policy = policy or Policy()
    snap = client.read_snapshot(user)
    targets = weights_from_mapping(mapping)
    confirmed = plan(snap, targets, policy)
    if before_run is not None:
        before_run()
    path = tmp_path / "journal.jsonl"
    with Journal(path, "ab" * 8) as journal:
        journal.record("run_start", account=user, base_url=client.base_url)
        executor = Executor(
            client=client,
            user=user,
            targets=targets,
            policy=policy,
            journal=journal,
            sleep=kw.pop("sleep", lambda _: None),
            **kw,
        )
        report = executor.run(confirmed, snap)
    return report, snap, path


def position(sim: Simulator, coin: str, user: str = USER) -> D:
    pos = sim.account(user)["positions"].get(coin)
    return pos["szi"] if pos else D(0)


def orders_for(sim: Simulator, coin: str) -> list[dict[str, Any]]:
    return [o for o in sim.orders if o["coin"] == coin]


# =========================================================================== defects (xfail strict)


def test_a_successor_does_not_trade_again_while_a_killed_runs_order_is_in_flight(sims: Any, tmp_path: Path) -> None:
    sim = sims(btc_80())
    keyf = key_file(tmp_path)
    journal = tmp_path / "journal.jsonl"
    sim.add_latency(2.0, count=1, endpoint="exchange")  # the phase-1 request travels slowly
    cmd = [
        sys.executable,
        "-m",
        "hlrebal",
        "execute",
        str(BALANCED),
        "--api-url",
        sim.url,
        "--key-file",
        str(keyf),
        "--journal",
        str(journal),
        "--yes",
        "--json",
    ]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.time() + 20
    while sim.counts["exchange.order"] < 1:
        assert time.time() < deadline, "the first run never sent its order"
        time.sleep(0.01)
    sent_at = time.time()
    first.send_signal(signal.SIGKILL)  # e.g. `timeout -s KILL`, or a user's kill -9 of a hung run
    first.wait(timeout=10)
    # The user (or a wrapper script) runs again at once: the lock is free, the journal names the order.
    again = cli_execute(sim, BALANCED, tmp_path, key=keyf)
    time.sleep(max(0.0, sent_at + 2.5 - time.time()))  # let the slow request land
    btc_sells = [o for o in orders_for(sim, "BTC") if not o["is_buy"]]
    assert len(btc_sells) == 1, (again.stdout, [(o["coin"], o["sz"], o["filled_sz"]) for o in sim.orders])
    assert abs(position(sim, "BTC") - D("0.46729")) < D("0.0001")


def test_a_key_that_is_not_an_agent_of_the_address_never_trades_another_account(sims: Any, tmp_path: Path) -> None:
    sim = sims(btc_80())
    sim.fund(OTHER, 100_000)  # the signer is a real, funded account of its own
    r = cli_execute(
        sim, BALANCED, tmp_path, "--address", USER, "--max-turnover", "5", key=key_file(tmp_path, OTHER_KEY)
    )
    assert sim.account(OTHER)["positions"] == {}, "orders planned for one account were filled on another"
    assert r.exit_code != 0
    assert sim.orders == []


def test_a_read_back_that_contradicts_reported_fills_is_not_traded_on_again(sims: Any, tmp_path: Path) -> None:
    sim = sims(btc_80())
    client = client_for(sim)
    start = client.read_snapshot(USER)
    real_refresh = client.refresh_snapshot
    reads: list[bool] = []

    def lagging_read(previous: Any, **kw: Any) -> Any:
        fresh = real_refresh(previous, **kw)
        reads.append(kw.get("positions", True))
        # the read-back after round 1 still shows the account before its fills
        return start if kw.get("positions", True) else fresh

    client.refresh_snapshot = lagging_read  # type: ignore[method-assign]
    report, _, journal = run_executor(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, policy=Policy(max_turnover=D(3))
    )
    assert reads.count(True) == 2  # the read-back, and once more before giving up on it
    assert int(report.exit_code) == 5 and "does not match the fills" in report.message
    assert any(e["event"] == "inconsistent_read" for e in read_entries(journal))
    assert len(orders_for(sim, "BTC")) == 1 and len(orders_for(sim, "ETH")) == 1, [
        (o["coin"], o["sz"]) for o in sim.orders
    ]
    assert abs(position(sim, "BTC") - D("0.46729")) < D("0.0001")


def test_turnover_cap_counts_this_rounds_phase_1_fills_when_phase_2_is_replanned(sims: Any, tmp_path: Path) -> None:
    # BTC 80% (sell to 40%), SOL 10% against 14% (inside the band), ETH 0 -> 30%: 70% turnover.
    sim = sims(_snapshot({"BTC": ("0.93458", 10), "SOL": ("70.16", 5)}, "10000"))
    policy = Policy(max_turnover=D("0.72"))
    # SOL falls 20% while phase 1 is in flight: the phase-2 re-plan adds a SOL buy (~6% of equity).
    report, snap, _ = run_executor(
        sim,
        tmp_path,
        {"BTC": 0.4, "ETH": 0.3, "SOL": 0.14},
        policy=policy,
        before_run=lambda: sim.move_price_after(1, "SOL", "114"),
    )
    traded = sum((o.filled_size * o.reference_price for o in report.orders), D(0))
    assert traded / snap.equity <= policy.max_turnover, (traded / snap.equity, report.outcome)


def test_a_partly_filled_ioc_whose_answer_was_lost_is_recorded_with_its_real_fill(sims: Any, tmp_path: Path) -> None:
    sim = sims(_snapshot({}, "100000"), refill="never")
    sim.set_book("ETH", level_notional=4000, levels=4)  # about $16k of the $30k order can fill
    sim.fail_next(1, status=500, endpoint="exchange", action_type="order", when="after")
    report, _, journal = run_executor(sim, tmp_path, {"ETH": 0.3}, policy=Policy(max_rounds=1))
    eth = report.orders[0]
    real = position(sim, "ETH")
    assert D(0) < real < eth.size
    assert eth.filled_size == real
    recorded = next(e for e in read_entries(journal) if e["event"] == "order_result")
    assert D(recorded["filled_size"]) == real
    fills = [f for f in client_for(sim).user_fills(USER) if f["oid"] == eth.oid]
    vwap = sum((D(f["px"]) * D(f["sz"]) for f in fills), D(0)) / sum((D(f["sz"]) for f in fills), D(0))
    assert eth.avg_price is not None and abs(eth.avg_price - vwap) < D("0.01")


def test_rejected_order_status_shapes_are_not_fills(sims: Any) -> None:
    sim = sims(btc_80())
    client = client_for(sim)
    sim.set_book("SOL", spread=0.05)
    specs = {
        "iocCancelRejected": OrderSpec("SOL", 2, True, D("1"), D("143"), False, "0x" + "a1" * 16),
        "reduceOnlyRejected": OrderSpec("BTC", 0, True, D("0.1"), D("86000"), True, "0x" + "a2" * 16),
        "minTradeNtlRejected": OrderSpec("ETH", 1, True, D("0.001"), D("3060"), False, "0x" + "a3" * 16),
    }
    client.place_orders(list(specs.values()), expires_after=None)
    # an account with $20 cannot margin one ETH (about $150 at the default 20x)
    sim.fund(OTHER, 20)
    poor = OrderSpec("ETH", 1, True, D("1"), D("3060"), False, "0x" + "a4" * 16)
    client_for(sim, OTHER_KEY).place_orders([poor], expires_after=None)
    specs["perpMarginRejected"] = poor
    assert sim.account(USER)["positions"].keys() == {"BTC"} and sim.account(OTHER)["positions"] == {}
    seen = {}
    for expected, spec in specs.items():
        who = OTHER if spec is poor else USER
        answer = client.order_status(who, spec.cloid)
        assert answer["order"]["status"] == expected
        out = status_to_outcome(spec.cloid, answer)
        seen[expected] = (out.status, out.filled_size)
    assert seen == {k: ("error", D(0)) for k in specs}, seen


def test_an_order_rejected_behind_a_lost_answer_is_journaled_as_unfilled(sims: Any, tmp_path: Path) -> None:
    sim = sims(_snapshot({}, "100000"))
    sim.set_book("ETH", spread=0.05)  # best ask 2.5% above mid: no round's slippage reaches it
    sim.fail_next(1, status=500, endpoint="exchange", action_type="order", when="after")
    report, _, journal = run_executor(sim, tmp_path, {"ETH": 0.3})
    first = report.orders[0]
    assert (first.status, first.filled_size) == ("error", D(0))
    result = next(e for e in read_entries(journal) if e["event"] == "order_result")
    assert result["status"] == "error" and D(result["filled_size"]) == 0
    assert report.outcome == "partial" and len(report.rounds) == 1
    assert report.message.startswith("orders were sent and nothing filled")


def test_refused_round_number_dust_is_not_retried_on_the_next_run(sims: Any, tmp_path: Path) -> None:
    # 1000 kPEPE short is about $6: below $10, and this exchange refuses reduce-only dust closes.
    sim = sims(_snapshot({"kPEPE": ("-1000", 5), "BTC": ("0.5", 10)}, "57200"), allow_dust_close=False)
    targets = write_targets(tmp_path, {"BTC": 0.4})
    first = cli_execute(sim, targets, tmp_path)
    assert first.exit_code == 0, first.stdout
    assert len(orders_for(sim, "kPEPE")) == 1
    second = cli_execute(sim, targets, tmp_path)
    assert second.exit_code == 0
    assert len(orders_for(sim, "kPEPE")) == 1, "the refused dust close was sent again"


def test_a_dust_refusal_learned_through_order_status_is_remembered(sims: Any, tmp_path: Path) -> None:
    sim = sims(_snapshot({"ATOM": ("-1.5", 5), "BTC": ("0.5", 10)}, "57200"), allow_dust_close=False)
    sim.fail_next(1, status=500, endpoint="exchange", action_type="order", when="after")
    report, _, journal = run_executor(sim, tmp_path, {"BTC": 0.4})
    atom = next(o for o in report.orders if o.coin == "ATOM")
    assert atom.status == "error"
    assert "ATOM" in refused_dust(journal, USER)
    assert any("dust" in w for w in report.warnings)


def test_a_transient_error_on_update_leverage_does_not_abandon_a_flip_half_done(sims: Any, tmp_path: Path) -> None:
    sim = sims(_snapshot({"BTC": ("0.58411", 10)}, "50000"))  # about +50%
    sim.fail_next(1, status=502, endpoint="exchange", action_type="updateLeverage", when="before")
    r = cli_execute(sim, write_targets(tmp_path, {"BTC": -0.3}), tmp_path, "--leverage", "3")
    assert r.exit_code == 0, json.loads(r.stdout)["message"]
    assert position(sim, "BTC") < 0


def test_lowering_leverage_of_an_existing_position_is_counted_in_phase_2_margin(sims: Any, tmp_path: Path) -> None:
    sim = sims(btc_80())  # BTC at 10x holds 8% of equity as margin; at 1x it holds 80%
    r = cli_execute(
        sim, write_targets(tmp_path, {"BTC": 0.9, "ETH": 0.1}), tmp_path, "--leverage", "1", "--max-rounds", "1"
    )
    doc = json.loads(r.stdout)
    assert "BTC 1x cross" in doc["leverage_set"]
    errors = [o["error"] for o in doc["orders"] if o["error"]]
    assert not any("Insufficient margin" in e for e in errors), errors


def test_usage_errors_with_json_print_a_json_error_document(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hlrebal", "execute", str(BALANCED), "--json", "--max-rounds", "three"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert doc["kind"] == "error" and doc["exit_code"] == 2


def test_the_vault_leaders_key_is_not_called_an_api_wallet_of_the_vault(sims: Any, tmp_path: Path) -> None:
    sim = sims(btc_80(VAULT))
    sim.set_vault_leader(VAULT, USER)
    r = cli_execute(sim, BALANCED, tmp_path, "--vault", VAULT)
    assert r.exit_code == 0, r.stderr
    assert f"an API wallet of {VAULT}" not in r.stderr
    assert "vault" in r.stderr.split("signing with the key", 1)[1].split("\n", 1)[0]


# =========================================================================== behaviour that holds


def test_a_lost_flip_close_never_lets_the_flip_open_go_out(sims: Any, tmp_path: Path) -> None:
    sim = sims(_snapshot({"BTC": ("0.58411", 10)}, "50000"))
    sim.fail_next(1, status=500, endpoint="exchange", action_type="order", when="before")  # never processed
    report, _, journal = run_executor(sim, tmp_path, {"BTC": -0.3})
    assert sim.orders == []  # the close never reached the book, and the short was never opened
    assert [(o.action, o.status) for o in report.orders] == [("flip_close", "error")]
    assert position(sim, "BTC") == D("0.58411")
    assert int(report.exit_code) == 5
    events = [e["event"] for e in read_entries(journal)]
    assert "answer_lost" in events and events.count("order_result") == 1


def test_a_lost_phase_2_answer_is_reconciled_by_cloid_and_not_resent(sims: Any, tmp_path: Path) -> None:
    sim = sims(_snapshot({}, "100000"))
    sim.fail_next(1, status=500, endpoint="exchange", action_type="order", when="after")
    report, _, _ = run_executor(sim, tmp_path, {"ETH": 0.3, "SOL": 0.2})
    assert int(report.exit_code) == 0, report.message
    assert sim.counts["exchange.order"] == 1 and len(sim.orders) == 2
    assert {o.status for o in report.orders} == {"filled"}
    assert sim.counts["info.orderStatus"] == 2


def test_vault_trading_signs_with_the_leader_and_reconciles_a_lost_answer_by_the_vault(
    sims: Any, tmp_path: Path
) -> None:
    sim = sims(btc_80(VAULT))
    sim.set_vault_leader(VAULT, USER)
    sim.fund(USER, 1_000)
    sim.fail_next(1, status=500, endpoint="exchange", action_type="order", when="after")
    client = client_for(sim, vault=VAULT)
    report, _, _ = run_executor(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, user=VAULT, client=client)
    assert int(report.exit_code) == 0, report.message
    assert {(o["account"], o["signer"]) for o in sim.orders} == {(VAULT, USER)}
    assert len(orders_for(sim, "BTC")) == 1
    assert sim.account(USER)["positions"] == {}


def test_an_agent_of_the_vault_leader_trades_the_vault_from_the_cli(sims: Any, tmp_path: Path) -> None:
    agent = Account.create()
    sim = sims(btc_80(VAULT))
    sim.set_vault_leader(VAULT, USER)
    sim.approve_agent(USER, agent.address)
    keyf = key_file(tmp_path, "0x" + agent.key.hex().removeprefix("0x"), "agent.key")
    r = cli_execute(sim, BALANCED, tmp_path, "--vault", VAULT, "--leverage", "2", key=keyf)
    assert r.exit_code == 0, r.stdout
    assert {o["account"] for o in sim.orders} == {VAULT}
    assert sim.leverage(VAULT, "ETH") == (2, True)
    start = next(read_entries(tmp_path / "journal.jsonl"))
    assert start["account"] == VAULT and start["vault"] == VAULT


def test_the_lock_is_per_traded_account_vault_included(sims: Any, tmp_path: Path) -> None:
    from hlrebal.config import state_dir
    from hlrebal.journal import RunLock

    sim = sims(btc_80(VAULT))
    sim.set_vault_leader(VAULT, USER)
    with RunLock(state_dir(), VAULT.upper().replace("0X", "0x")):
        r = cli_execute(sim, BALANCED, tmp_path, "--vault", VAULT)
    assert r.exit_code == 4 and json.loads(r.stdout)["exit_code"] == 4
    assert sim.orders == [] and not any(k.startswith("exchange.") for k in sim.counts)


def test_nonces_rise_and_every_order_action_expires_within_seconds(sims: Any, tmp_path: Path, monkeypatch: Any) -> None:
    sim = sims(btc_80())
    owner = client_for(sim)
    rest = OrderSpec("ETH", 1, True, D("1"), D("2900"), False, "0x" + "77" * 16, tif="Gtc")
    assert owner.place_orders([rest], expires_after=None)[0].status == "resting"
    sent: list[dict[str, Any]] = []
    real = ExchangeClient._exchange

    def spy(self: ExchangeClient, kind: str, payload: dict[str, Any]) -> Any:
        sent.append(payload)
        return real(self, kind, payload)

    monkeypatch.setattr(ExchangeClient, "_exchange", spy)
    r = cli_execute(sim, BALANCED, tmp_path, "--leverage", "2", "--cancel-open-orders")
    assert r.exit_code == 0, r.stdout
    kinds = [p["action"]["type"] for p in sent]
    assert kinds[0] == "cancel" and "updateLeverage" in kinds and kinds.count("order") == 2
    nonces = [p["nonce"] for p in sent]
    assert nonces == sorted(nonces) and len(set(nonces)) == len(nonces)
    for p in sent:
        if p["action"]["type"] == "order":
            assert 0 < p["expiresAfter"] - p["nonce"] <= 10_000
            assert all(isinstance(o["c"], str) and len(o["c"]) == 34 for o in p["action"]["orders"])


def test_nonces_stay_strictly_rising_when_the_clock_stalls_or_steps_back(sims: Any) -> None:
    sim = sims(btc_80())
    ticks = iter([1000.0, 1000.0, 999.0, 1000.0005, 1000.0005])
    client = ExchangeClient(sim.url, network="custom", clock=lambda: next(ticks))
    nonces = [client.next_nonce() for _ in range(5)]
    assert nonces == [1_000_000, 1_000_001, 1_000_002, 1_000_003, 1_000_004]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (D("0.00001"), True),
        (D("85172"), True),
        (D("3065.6"), True),
        (D("123456789"), True),
        (D("0.123456789"), False),  # more than 8 decimals: the SDK would round it
        (D("1e-9"), False),
    ],
)
def test_decimals_become_floats_only_when_they_round_trip_exactly(value: D, ok: bool) -> None:
    from hlrebal.errors import BadInputError
    from hlrebal.exchange import decimal_to_wire_float

    if ok:
        assert D(str(decimal_to_wire_float(value, "x"))) == value
    else:
        with pytest.raises(BadInputError):
            decimal_to_wire_float(value, "x")


@pytest.mark.parametrize("accept", [False, True])
def test_stale_prices_that_change_the_plan_materially_ask_again(sims: Any, tmp_path: Path, accept: bool) -> None:
    sim = sims(btc_80())
    asked: list[str] = []

    def reconfirm(fresh: Any, why: str) -> bool:
        asked.append(why)
        return accept

    report, _, _ = run_executor(
        sim,
        tmp_path,
        {"BTC": 0.4, "ETH": 0.3},
        before_run=lambda: sim.set_price("BTC", "51360"),  # -40% while the user looked at the plan
        clock=lambda: time.time() + 60,
        reconfirm=reconfirm,
    )
    assert len(asked) == 1 and "turnover" in asked[0]
    if accept:
        assert int(report.exit_code) == 0, report.message
        btc = next(o for o in report.orders if o.coin == "BTC")
        assert btc.reference_price == D("51360")  # the fresh plan was traded, not the confirmed one
    else:
        assert int(report.exit_code) == 4 and report.orders == []
        assert sim.orders == []


def test_order_status_answers_of_every_shape(sims: Any) -> None:
    sim = sims(btc_80())
    client = client_for(sim)
    ids = iter(f"0x{n:032x}" for n in range(1, 100))

    def place(spec: OrderSpec) -> Any:
        client.place_orders([spec], expires_after=None)
        return status_to_outcome(spec.cloid, client.order_status(USER, spec.cloid))

    full = place(OrderSpec("ETH", 1, True, D("1"), D("3070"), False, next(ids)))
    assert (full.status, full.filled_size) == ("filled", D("1"))
    resting = place(OrderSpec("ETH", 1, True, D("1"), D("2900"), False, next(ids), tif="Gtc"))
    assert resting.status == "resting" and resting.filled_size == 0
    client.cancel([(1, int(resting.oid))])  # type: ignore[arg-type]
    canceled = status_to_outcome("c", client.order_status(USER, f"0x{2:032x}"))
    assert canceled.status == "error" and canceled.filled_size == 0 and "canceled" in (canceled.error or "")
    unknown = status_to_outcome("u", client.order_status(USER, "0x" + "99" * 16))
    assert unknown.status == "error" and "never placed" in (unknown.error or "")


@pytest.mark.parametrize(
    ("extra", "setup", "code"),
    [
        ((), None, 0),
        (("--max-turnover", "0.5"), None, 4),
        (("--max-rounds", "1"), "no_match", 5),
    ],
)
def test_run_end_closes_the_journal_with_the_process_exit_code(
    sims: Any, tmp_path: Path, extra: tuple[str, ...], setup: str | None, code: int
) -> None:
    sim = sims(btc_80())
    if setup == "no_match":
        sim.set_book("ETH", spread=0.05)
    r = cli_execute(sim, BALANCED, tmp_path, *extra)
    assert r.exit_code == code, r.stdout
    assert json.loads(r.stdout)["exit_code"] == code
    entries = list(read_entries(tmp_path / "journal.jsonl"))
    assert entries[0]["event"] == "run_start" and entries[-1]["event"] == "run_end"
    assert entries[-1]["exit_code"] == code
    assert sum(1 for e in entries if e["event"] == "run_end") == 1
    sent = {e["cloid"] for e in entries if e["event"] == "order_sent"}
    resolved = {e["cloid"] for e in entries if e["event"] == "order_result"}
    assert sent == resolved  # nothing left for a successor to reconcile


@pytest.mark.parametrize(
    "secret",
    [OWNER_KEY, OWNER_KEY[2:].upper(), "0x" + "ff" * 32, "0x" + "00" * 32],
    ids=["0x", "upper-no-0x", "above-curve-order", "zero"],
)
def test_the_key_is_absent_from_the_log_file_journal_and_output(
    sims: Any, tmp_path: Path, monkeypatch: Any, secret: str
) -> None:
    sim = sims(btc_80())
    monkeypatch.setenv("HLREBAL_PRIVATE_KEY", secret)
    log = tmp_path / "run.log"
    journal = tmp_path / "journal.jsonl"
    r = runner.invoke(
        app,
        [
            "execute",
            str(BALANCED),
            "--api-url",
            sim.url,
            "--journal",
            str(journal),
            "--yes",
            "--log-file",
            str(log),
        ],
    )
    body = secret.removeprefix("0x").lower()
    texts = [
        r.stdout,
        r.stderr,
        log.read_text() if log.exists() else "",
        journal.read_text() if journal.exists() else "",
    ]
    for text in texts:
        assert body[:32] not in text.lower() and body[-32:] not in text.lower()
    if secret in (OWNER_KEY, OWNER_KEY[2:].upper()):
        assert r.exit_code == 0, r.stderr
        assert "environment HLREBAL_PRIVATE_KEY" in log.read_text()
    else:
        assert r.exit_code == 2 and sim.orders == []


def test_objects_holding_the_key_do_not_show_it(sims: Any, tmp_path: Path) -> None:
    from hlrebal.session import Connection

    sim = sims(btc_80())
    key = SigningKey(SecretStr(OWNER_KEY), "test")
    client = client_for(sim)
    conn = Connection(user=USER, network_label="custom", client=client, key=key, signer=client.signer)
    body = OWNER_KEY[2:]
    for text in (repr(key), str(key), repr(conn), str(conn), repr(client), repr(key.secret), str(vars(conn))):
        assert body not in text.lower()


def test_request_budget_with_leverage_on_many_assets(sims: Any, tmp_path: Path) -> None:
    coins = ["BTC", "ETH", "SOL", "DOGE", "kPEPE", "HYPE", "ATOM", "XRP"]
    sim = sims(_snapshot({"BTC": ("0.5", 10), "SOL": ("-40", 5)}, "62920"))
    targets = write_targets(tmp_path, {c: round(0.9 / len(coins), 4) for c in coins})
    r = cli_execute(sim, targets, tmp_path, "--max-rounds", "1", "--max-turnover", "3", "--leverage", "2")
    assert r.exit_code == 0, r.stdout
    assert sim.counts["exchange.order"] <= 2
    assert sim.counts["exchange.updateLeverage"] <= len(coins)
    assert sim.counts.get("info.meta", 0) == 0 and sim.counts.get("info.spotMeta", 0) == 0


def test_reconciliation_at_start_records_an_earlier_runs_fill(sims: Any, tmp_path: Path) -> None:
    """A journal left with an order and no result: the next run asks for it before planning."""
    sim = sims(btc_80())
    client = client_for(sim)
    journal = tmp_path / "journal.jsonl"
    cloid = "0x" + "12" * 16
    with Journal(journal, "cd" * 8) as j:
        j.record("run_start", account=USER, base_url=client.base_url)
        j.record("order_sent", cloid=cloid, coin="BTC", size="0.46729", expires_after=0)
    client.place_orders([OrderSpec("BTC", 0, False, D("0.46729"), D("85172"), True, cloid)], expires_after=None)
    r = cli_execute(sim, BALANCED, tmp_path)
    assert r.exit_code == 0, r.stdout
    rec = [e for e in read_entries(journal) if e["event"] == "reconciled"]
    assert [(e["cloid"], e["status"]) for e in rec] == [(cloid, "filled")]
    assert len(orders_for(sim, "BTC")) == 1  # the successor did not sell BTC again
    # ...and a third run finds nothing left to reconcile
    third = cli_execute(sim, BALANCED, tmp_path)
    assert third.exit_code == 0
    assert len([e for e in read_entries(journal) if e["event"] == "reconciled"]) == 1


def test_the_phase_2_guard_refuses_a_price_that_moved_off_the_oracle_between_phases(sims: Any, tmp_path: Path) -> None:
    sim = sims(btc_80())

    def move() -> None:
        # after the phase-1 request ETH's book jumps 5% while the oracle stays
        sim.move_price_after(1, "ETH", "3202.9")

    real_set = sim.engine.set_price

    def keep_oracle(coin: str, mid: D, mark: D | None, oracle: D | None) -> None:
        real_set(coin, mid, mark, D("3050.4") if coin == "ETH" else oracle)

    sim.engine.set_price = keep_oracle  # type: ignore[method-assign]
    report, _, _ = run_executor(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, before_run=move)
    assert int(report.exit_code) == 4 and "oracle" in report.message
    assert [o["coin"] for o in sim.orders] == ["BTC"]  # phase 2 never went out
    assert os.path.exists(tmp_path / "journal.jsonl")
