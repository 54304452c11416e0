"""Execution against the simulator: the real SDK's signing, real HTTP, real signature checks."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.journal import read_entries
from hlrebal.sim import Simulator

from factories import make_snapshot

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_targets"
runner = CliRunner()

# A throwaway key that owns the seeded test accounts (it exists only for these tests).
OWNER = Account.from_key("0x" + "5e" * 32)
OWNER_KEY = "0x" + "5e" * 32
USER = OWNER.address.lower()


def seed(positions: dict[str, Any] | None = None, cash: str = "100000", **kw: Any) -> dict[str, Any]:
    return make_snapshot(positions or {}, cash=cash, user=USER, **kw)


def btc_80() -> dict[str, Any]:
    return seed({"BTC": ("0.93458", 10)}, cash="19999.952")


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "owner.key"
    path.write_text(OWNER_KEY + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "journal.jsonl"


@pytest.fixture
def sim_factory() -> Iterator[Any]:
    made: list[Simulator] = []

    def make(doc: dict[str, Any], **config: Any) -> Simulator:
        from hlrebal.sim import SimConfig

        s = Simulator(snapshot=doc, config=SimConfig(**config)).start()
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def execute(
    sim: Simulator, targets: str | Path, key_file: Path, journal: Path, *extra: str, input: str | None = None
) -> Any:
    args = [
        "execute",
        str(targets),
        "--api-url",
        sim.url,
        "--key-file",
        str(key_file),
        "--journal",
        str(journal),
        "--json",
        *extra,
    ]
    return runner.invoke(app, args, input=input)


def doc_of(result: Any) -> dict[str, Any]:
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def weights(sim: Simulator) -> dict[str, D]:
    from hlrebal.exchange import ExchangeClient

    snap = ExchangeClient(sim.url, network="custom").read_snapshot(USER)
    return {c: p.szi * snap.assets[c].reference_price / snap.equity for c, p in snap.positions.items()}


def write_targets(tmp_path: Path, mapping: dict[str, float]) -> Path:
    path = tmp_path / "targets.json"
    path.write_text(json.dumps({"target_allocation": mapping}))
    return path


def test_seed_example_converges_in_one_round(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(btc_80())
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    doc = doc_of(r)
    assert doc["outcome"] == "done" and len(doc["rounds"]) == 1
    assert [(o["coin"], o["side"], o["reduce_only"]) for o in doc["orders"]] == [
        ("BTC", "sell", True),
        ("ETH", "buy", False),
    ]
    assert all(D(o["filled_size"]) == D(o["size"]) for o in doc["orders"])
    w = weights(sim)
    assert abs(w["BTC"] - D("0.4")) < D("0.001") and abs(w["ETH"] - D("0.3")) < D("0.001")
    assert D(doc["fees"]) > 0 and all(o["fee"] is not None for o in doc["orders"])
    for line in doc["final"]["assets"]:
        assert abs(D(line["drift"])) < D("0.005")
    # one bulk request per phase, nothing sent twice
    assert sim.counts["exchange.order"] == 2
    assert len(sim.orders) == 2
    assert "signing with the key from --key-file" in r.stderr and OWNER_KEY[2:] not in r.stderr


def test_risk_off_closes_everything(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(seed({"BTC": ("0.5", 10), "ETH": ("-4.2", 5), "DOGE": ("20000", 5)}, cash="60000"))
    r = execute(sim, SAMPLES / "risk_off.json", key_file, journal, "--yes")
    assert r.exit_code == 0, r.stderr
    doc = doc_of(r)
    assert {o["coin"] for o in doc["orders"]} == {"BTC", "ETH", "DOGE"}
    assert all(o["reduce_only"] and o["phase"] == 1 for o in doc["orders"])
    assert sim.counts["exchange.order"] == 1  # every close in ONE request
    assert weights(sim) == {}


def test_long_to_short_flip(sim_factory: Any, key_file: Path, journal: Path, tmp_path: Path) -> None:
    sim = sim_factory(seed({"BTC": ("0.58411", 10)}, cash="50000"))  # about +0.5
    r = execute(sim, write_targets(tmp_path, {"BTC": -0.3}), key_file, journal, "--yes")
    assert r.exit_code == 0, r.stderr
    orders = doc_of(r)["orders"]
    # the flip's close, then (re-planned at fresh prices after the close filled) the open of the short
    assert [(o["action"], o["side"], o["reduce_only"], o["phase"]) for o in orders] == [
        ("flip_close", "sell", True, 1),
        ("flip_open", "sell", False, 2),
    ]
    assert abs(weights(sim)["BTC"] + D("0.3")) < D("0.002")


def test_thin_book_fills_partly_and_converges_within_max_rounds(
    sim_factory: Any, key_file: Path, journal: Path
) -> None:
    sim = sim_factory(btc_80(), refill="per_request")
    sim.set_book("ETH", level_notional=4000, levels=4)  # about $16k within reach per request
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes", "--max-rounds", "4")
    doc = doc_of(r)
    eth = [o for o in doc["orders"] if o["coin"] == "ETH"]
    assert len(eth) >= 2  # the first fill was partial
    assert D(eth[0]["filled_size"]) < D(eth[0]["size"])
    assert [rd["slippage"] for rd in doc["rounds"]][:2] == ["0.005", "0.0075"]  # wider each round
    assert r.exit_code == 0, doc
    assert abs(weights(sim)["ETH"] - D("0.3")) < D("0.01")


def test_ioc_with_no_match_is_exit_5_with_the_reason(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(btc_80())
    sim.set_book("ETH", spread=0.05)  # best ask 2.5% above mid: beyond 0.5% slippage
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes", "--max-rounds", "1")
    assert r.exit_code == 5, r.stderr
    doc = doc_of(r)
    eth = next(o for o in doc["orders"] if o["coin"] == "ETH")
    assert eth["status"] == "error" and "could not immediately match" in eth["error"]
    assert doc["outcome"] == "partial" and "ETH" in doc["message"]


def test_nothing_filled_at_all_is_exit_5(sim_factory: Any, key_file: Path, journal: Path, tmp_path: Path) -> None:
    sim = sim_factory(seed({}, cash="10000"))
    sim.set_book("ETH", spread=0.05)
    r = execute(sim, write_targets(tmp_path, {"ETH": 0.5}), key_file, journal, "--yes")
    assert r.exit_code == 5
    doc = doc_of(r)
    assert doc["outcome"] == "partial" and len(doc["rounds"]) == 1
    assert doc["message"].startswith("orders were sent and nothing filled; remaining: ETH buy")


def test_phase_1_rejection_does_not_overcommit_phase_2(
    sim_factory: Any, key_file: Path, journal: Path, tmp_path: Path
) -> None:
    # All equity in BTC at 2x; the BTC reduction is rejected, so the margin phase 2 counted on is not
    # freed: ETH must be scaled down to what is free, not sent in full.
    sim = sim_factory(seed({"BTC": ("1.16822", 2)}, cash="0.3"))
    sim.reject_order(1, "Order could not immediately match against any resting orders.")
    targets = write_targets(tmp_path, {"BTC": 0.5, "ETH": 0.5})
    r = execute(sim, targets, key_file, journal, "--yes", "--max-rounds", "1", "--max-leverage", "2")
    doc = doc_of(r)
    btc = next(o for o in doc["orders"] if o["coin"] == "BTC")
    assert btc["status"] == "error"
    eth = [o for o in doc["orders"] if o["coin"] == "ETH"]
    assert eth, doc
    # margin free was about $50k (BTC at 2x holds half the equity): ETH at 1x must stay under it
    assert D(eth[0]["size"]) * D(eth[0]["limit_price"]) < D("50000")
    assert any("scaled" in w for w in doc["warnings"])
    assert not any("Insufficient margin" in (o["error"] or "") for o in doc["orders"])
    assert r.exit_code == 5


def test_a_failed_reduction_never_takes_gross_exposure_past_max_leverage(
    sim_factory: Any, key_file: Path, journal: Path
) -> None:
    # 80% BTC -> 40/30/30 with the BTC reduction refused: opening the full 30% ETH would leave the
    # account 110% gross against max_leverage 1; ETH is cut to what the cap allows.
    sim = sim_factory(btc_80())
    sim.reject_order(1, "Order could not immediately match against any resting orders.")
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes", "--max-rounds", "1")
    assert r.exit_code == 5 and doc_of(r)["outcome"] == "partial"
    gross = sum(abs(w) for w in weights(sim).values())
    assert gross <= D("1.0005"), weights(sim)


def test_reads_retry_429_during_execution(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(btc_80())
    sim.fail_next(2, status=429, endpoint="info")
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes")
    assert r.exit_code == 0, r.stderr
    assert sim.counts["http.429"] == 2


def test_lost_answer_to_the_order_request_never_sends_twice(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(btc_80())
    sim.fail_next(1, status=500, endpoint="exchange", action_type="order", when="after")
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    doc = doc_of(r)
    # The phase-1 answer was lost: the order was reconciled by cloid, not sent again.
    cloids = [o["cloid"] for o in sim.orders]
    assert len(cloids) == len(set(cloids)) == 2
    assert sum(1 for o in sim.orders if o["coin"] == "BTC") == 1
    assert sim.counts["info.orderStatus"] >= 1
    btc = next(o for o in doc["orders"] if o["coin"] == "BTC")
    assert btc["status"] == "filled" and D(btc["filled_size"]) > 0
    events = [e["event"] for e in read_entries(journal)]
    assert "answer_lost" in events
    sent = [e["cloid"] for e in read_entries(journal) if e["event"] == "order_sent"]
    assert len(sent) == len(set(sent)) == 2


def test_a_second_run_is_refused_while_the_lock_is_held(
    sim_factory: Any, key_file: Path, journal: Path, _isolated_home: Path
) -> None:
    from hlrebal.config import state_dir
    from hlrebal.journal import RunLock

    sim = sim_factory(btc_80())
    with RunLock(state_dir(), USER):
        r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes")
    assert r.exit_code == 4
    assert "holds the lock" in json.loads(r.stdout)["message"]
    assert sim.orders == []


def test_no_terminal_and_no_yes_is_exit_4_without_orders(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(btc_80())
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal)
    assert r.exit_code == 4
    assert "--yes" in r.stderr
    assert sim.orders == [] and not any(k.startswith("exchange.") for k in sim.counts)


def test_interactive_confirmation(sim_factory: Any, key_file: Path, journal: Path, monkeypatch: Any) -> None:
    import hlrebal.cli.execute as cli

    sim = sim_factory(btc_80())
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    no = execute(sim, SAMPLES / "balanced.json", key_file, journal, input="n\n")
    assert no.exit_code == 4 and sim.orders == []
    yes = execute(sim, SAMPLES / "balanced.json", key_file, journal, input="y\n")
    assert yes.exit_code == 0 and len(sim.orders) == 2


def test_key_file_readable_by_others_is_refused(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(btc_80())
    key_file.chmod(0o644)
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes")
    assert r.exit_code == 2
    assert "chmod 600" in r.stderr and "0644" in r.stderr
    assert sim.orders == []


def test_an_agent_key_trades_for_its_account(sim_factory: Any, journal: Path, tmp_path: Path) -> None:
    agent = Account.create()
    sim = sim_factory(btc_80())
    sim.approve_agent(USER, agent.address)
    path = tmp_path / "agent.key"
    path.write_text(agent.key.hex())
    path.chmod(0o600)
    r = runner.invoke(
        app,
        [
            "execute",
            str(SAMPLES / "balanced.json"),
            "--api-url",
            sim.url,
            "--key-file",
            str(path),
            "--address",
            USER,
            "--journal",
            str(journal),
            "--yes",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert "an API wallet of " + USER in r.stderr
    assert {o["signer"] for o in sim.orders} == {agent.address.lower()}
    assert abs(weights(sim)["ETH"] - D("0.3")) < D("0.001")


def test_an_unapproved_key_is_refused_before_any_order(sim_factory: Any, journal: Path, tmp_path: Path) -> None:
    stranger = Account.create()
    sim = sim_factory(btc_80())
    path = tmp_path / "stranger.key"
    path.write_text(stranger.key.hex())
    path.chmod(0o600)
    r = runner.invoke(
        app,
        [
            "execute",
            str(SAMPLES / "balanced.json"),
            "--api-url",
            sim.url,
            "--key-file",
            str(path),
            "--address",
            USER,
            "--journal",
            str(journal),
            "--yes",
            "--json",
        ],
    )
    doc = json.loads(r.stdout)
    assert r.exit_code == 2
    assert "not an API wallet of " + USER in doc["message"]
    assert sim.orders == [] and not any(k.startswith("exchange.") for k in sim.counts)
    assert weights(sim)["BTC"] > D("0.79")


@pytest.mark.parametrize(
    "secret",
    [OWNER_KEY, OWNER_KEY[2:], OWNER_KEY[:-3] + "xyz", OWNER_KEY + "00"],
    ids=["0x", "no-0x", "malformed", "too-long"],
)
def test_the_private_key_never_appears_anywhere(
    sim_factory: Any, journal: Path, tmp_path: Path, monkeypatch: Any, secret: str
) -> None:
    sim = sim_factory(btc_80())
    monkeypatch.setenv("HLREBAL_PRIVATE_KEY", secret)
    log = tmp_path / "run.log"
    r = runner.invoke(
        app,
        ["execute", str(SAMPLES / "balanced.json"), "--api-url", sim.url, "--journal", str(journal), "--yes", "--json"],
    )
    texts = [r.stdout, r.stderr, journal.read_text() if journal.exists() else ""]
    if log.exists():
        texts.append(log.read_text())
    body = secret[2:] if secret.startswith("0x") else secret
    for text in texts:
        assert body[:40] not in text and body[-40:] not in text
    if secret in (OWNER_KEY, OWNER_KEY[2:]):
        assert r.exit_code == 0, r.stderr
        assert "environment HLREBAL_PRIVATE_KEY" in r.stderr
    else:
        assert r.exit_code == 2 and "64 hexadecimal digits" in r.stderr
        assert sim.orders == []


def test_execute_with_a_snapshot_is_exit_2(tmp_path: Path, key_file: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(btc_80()))
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--snapshot", str(snap), "--execute", "--yes"])
    assert r.exit_code == 2 and "never traded on" in r.stderr


def test_demo_execution_signs_for_real(_isolated_home: Path) -> None:
    r = runner.invoke(app, ["execute", str(SAMPLES / "balanced.json"), "--demo", "--yes", "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["outcome"] == "done"
    # the demo keeps its state: planning again finds nothing to do
    again = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--demo", "--json"])
    assert json.loads(again.stdout)["trades"] == []


def test_plan_execute_is_the_same_flow(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(btc_80())
    r = runner.invoke(
        app,
        [
            "plan",
            str(SAMPLES / "balanced.json"),
            "--execute",
            "--yes",
            "--api-url",
            sim.url,
            "--key-file",
            str(key_file),
            "--journal",
            str(journal),
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert "Orders" in r.stdout and "done" in r.stdout


# --------------------------------------------------------------------------- guards


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (("--max-turnover", "0.5"), "max_turnover"),
        (("--max-order-value", "20000"), "max_order_value"),
    ],
)
def test_guards_refuse_before_any_order(
    sim_factory: Any, key_file: Path, journal: Path, extra: tuple[str, ...], fragment: str
) -> None:
    sim = sim_factory(btc_80())
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes", *extra)
    assert r.exit_code == 4, r.stderr
    assert fragment in json.loads(r.stdout)["message"]
    assert sim.orders == []


def test_price_far_from_oracle_is_refused(sim_factory: Any, key_file: Path, journal: Path) -> None:
    doc = btc_80()
    doc["metaAndAssetCtxs"][1][1]["oraclePx"] = "2900"  # ETH mid 3050.4: 5% away
    sim = sim_factory(doc)
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes")
    assert r.exit_code == 4
    assert "oracle" in json.loads(r.stdout)["message"]
    assert sim.orders == []


def test_open_orders_on_traded_coins_refuse_or_are_cancelled_first(
    sim_factory: Any, key_file: Path, journal: Path
) -> None:
    from hyperliquid.exchange import Exchange

    sim = sim_factory(btc_80())
    ex = Exchange(
        OWNER,
        sim.url,
        meta={"universe": [{"name": "BTC", "szDecimals": 5}, {"name": "ETH", "szDecimals": 4}]},
        spot_meta={"universe": [], "tokens": []},
    )
    ex.order("ETH", True, 1.0, 2900.0, {"limit": {"tif": "Gtc"}})
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes")
    assert r.exit_code == 4 and "open order" in json.loads(r.stdout)["message"]
    assert sum(1 for o in sim.orders if o["tif"] == "Ioc") == 0
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes", "--cancel-open-orders")
    assert r.exit_code == 0, r.stdout
    assert sim.counts["exchange.cancel"] == 1


def test_leverage_is_set_before_increases_and_said(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(btc_80())
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes", "--leverage", "3")
    assert r.exit_code == 0, r.stderr
    doc = doc_of(r)
    assert "ETH 3x cross" in doc["leverage_set"]
    assert sim.leverage(USER, "ETH") == (3, True)
    assert "setting ETH leverage to 3x cross" in r.stderr


def test_stale_prices_are_read_again_before_sending(
    sim_factory: Any, key_file: Path, journal: Path, monkeypatch: Any
) -> None:
    import hlrebal.execution.engine as executor_mod

    sim = sim_factory(btc_80())
    real = executor_mod.Executor.__init__

    def later_clock(self: Any, **kw: Any) -> None:
        import time

        kw["clock"] = lambda: time.time() + 60  # the user took a minute at the prompt
        real(self, **kw)

    monkeypatch.setattr(executor_mod.Executor, "__init__", later_clock)
    r = execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes")
    assert "prices are" in r.stderr and "reading the account again" in r.stderr


# --------------------------------------------------------------------------- request budget


@pytest.mark.parametrize("n_assets", [2, 8])
def test_one_round_costs_at_most_two_order_requests(
    sim_factory: Any, key_file: Path, journal: Path, tmp_path: Path, n_assets: int
) -> None:
    coins = ["BTC", "ETH", "SOL", "DOGE", "kPEPE", "HYPE", "ATOM", "XRP"][:n_assets]
    sim = sim_factory(seed({"BTC": ("0.5", 10), "SOL": ("-40", 5)}, cash="62920"))
    targets = write_targets(tmp_path, {c: round(0.9 / n_assets, 4) for c in coins})
    r = execute(sim, targets, key_file, journal, "--yes", "--max-rounds", "1", "--max-turnover", "3")
    assert r.exit_code == 0, r.stdout
    assert sim.counts["exchange.order"] <= 2
    assert len(sim.orders) >= n_assets
    assert sim.counts.get("info.meta", 0) == 0 and sim.counts.get("info.spotMeta", 0) == 0
    assert sim.counts["info.metaAndAssetCtxs"] <= 3  # confirmed plan, between phases, read back


def test_journal_records_the_whole_run(sim_factory: Any, key_file: Path, journal: Path) -> None:
    sim = sim_factory(btc_80())
    execute(sim, SAMPLES / "balanced.json", key_file, journal, "--yes")
    events = [e["event"] for e in read_entries(journal)]
    assert events[0] == "run_start" and events[-1] == "run_end"
    for needed in ("plan", "order_sent", "order_result", "round"):
        assert needed in events
    start = next(read_entries(journal))
    assert start["account"] == USER and start["targets_sha256"] and start["policy"]["band"] == "0.05"
    assert (journal.stat().st_mode & 0o777) == 0o600
    r = runner.invoke(app, ["journal", "--journal", str(journal), "--json"])
    runs = json.loads(r.stdout)["runs"]
    assert runs[-1]["exit_code"] == 0 and runs[-1]["orders_sent"] == 2
    table = runner.invoke(app, ["journal", "--journal", str(journal)])
    assert "Recent runs" in table.stdout


def test_refused_dust_is_a_warning_not_a_failure_and_not_retried(
    sim_factory: Any, key_file: Path, journal: Path, tmp_path: Path
) -> None:
    sim = sim_factory(seed({"ATOM": ("-1.5", 5), "BTC": ("0.5", 10)}, cash="57200"), allow_dust_close=False)
    targets = write_targets(tmp_path, {"BTC": 0.4})
    first = execute(sim, targets, key_file, journal, "--yes")
    doc = doc_of(first)
    assert first.exit_code == 0, doc
    assert any("dust" in w for w in doc["warnings"])
    atom_orders = sum(1 for o in sim.orders if o["coin"] == "ATOM")
    assert atom_orders == 1
    second = execute(sim, targets, key_file, journal, "--yes")
    assert second.exit_code == 0
    assert sum(1 for o in sim.orders if o["coin"] == "ATOM") == 1  # not retried on the next run
    assert any("dust" in w for w in doc_of(second)["warnings"])


def test_errors_with_json_are_json_documents(sim_factory: Any, key_file: Path, journal: Path) -> None:
    r = runner.invoke(
        app,
        [
            "execute",
            str(SAMPLES / "balanced.json"),
            "--api-url",
            "http://127.0.0.1:9",
            "--key-file",
            str(key_file),
            "--journal",
            str(journal),
            "--yes",
            "--json",
        ],
    )
    assert r.exit_code == 3
    doc = json.loads(r.stdout)
    assert doc["kind"] == "error" and doc["exit_code"] == 3
    assert os.path.exists(journal)


def test_quiet_cron_run_prints_nothing_when_there_is_nothing_to_do(
    sim_factory: Any, key_file: Path, journal: Path, tmp_path: Path
) -> None:
    sim = sim_factory(btc_80())
    log = tmp_path / "cron.log"
    base = [
        "execute",
        str(SAMPLES / "balanced.json"),
        "--api-url",
        sim.url,
        "--key-file",
        str(key_file),
        "--journal",
        str(journal),
        "--yes",
        "--quiet",
        "--log-file",
        str(log),
    ]
    first = runner.invoke(app, base)
    assert first.exit_code == 0
    assert "Orders" in first.stdout and first.stderr == ""  # something was done: the report
    second = runner.invoke(app, base)
    assert second.exit_code == 0
    assert second.stdout == "" and second.stderr == ""  # nothing to do: silence
    text = log.read_text()
    assert text.count("run: targets") == 2 and "done: the account is within its bands (exit 0)" in text
    assert "done: nothing to do: the account is within its bands (exit 0)" in text
    assert (log.stat().st_mode & 0o777) == 0o600
