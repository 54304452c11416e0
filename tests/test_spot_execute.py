"""Whole-account execution against the simulator: spot orders, usdClassTransfer, unified accounts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.exchange import ExchangeClient
from hlrebal.journal import read_entries
from hlrebal.sim import Simulator

from factories import make_snapshot

runner = CliRunner()
OWNER_KEY = "0x" + "6b" * 32
USER = Account.from_key(OWNER_KEY).address.lower()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "owner.key"
    path.write_text(OWNER_KEY)
    path.chmod(0o600)
    return path


@pytest.fixture
def whole_account_targets(tmp_path: Path) -> Path:
    path = tmp_path / "whole.json"
    path.write_text('{"target_allocation": {"BTC": 0.30, "HYPE/USDC": 0.20, "USDC": 0.50}}')
    return path


@pytest.fixture
def perp_usdc_only() -> Iterator[Simulator]:
    with Simulator(snapshot=make_snapshot({}, cash="100000", user=USER, spot={"USDC": "0"})) as sim:
        yield sim


def weights(sim: Simulator) -> dict[str, D]:
    snap = ExchangeClient(sim.url, network="custom").read_snapshot(USER, spot=True)
    out = {c: p.szi * snap.assets[c].reference_price / snap.equity for c, p in snap.positions.items()}
    for token, b in snap.spot_balances.items():
        price = snap.token_price(token)
        if token != "USDC" and price is not None and b.total:
            out[f"{token}/USDC"] = b.total * price / snap.equity
    return out


def test_whole_account_target_converges_with_the_transfer_in_the_journal(
    perp_usdc_only: Simulator, key_file: Path, whole_account_targets: Path, tmp_path: Path
) -> None:
    sim = perp_usdc_only
    journal = tmp_path / "journal.jsonl"
    r = runner.invoke(
        app,
        [
            "execute",
            str(whole_account_targets),
            "--api-url",
            sim.url,
            "--key-file",
            str(key_file),
            "--journal",
            str(journal),
            "--yes",
            "--json",
        ],
    )
    assert r.exit_code == 0, (r.stdout, r.stderr)
    doc = json.loads(r.stdout)
    assert doc["outcome"] == "done"
    assert doc["transfers"] and "perp -> spot" in doc["transfers"][0]
    assert [e for e in read_entries(journal) if e["event"] == "transfer_sent"]
    assert [e["status"] for e in read_entries(journal) if e["event"] == "transfer_result"] == ["ok"]
    w = weights(sim)
    assert abs(w["BTC"] - D("0.3")) < D("0.005")
    assert abs(w["HYPE/USDC"] - D("0.2")) < D("0.005")
    assert sim.counts["exchange.usdClassTransfer"] == 1
    spot_orders = [o for o in sim.orders if o["asset"] >= 10_000]
    assert spot_orders and all(o["status"] == "filled" for o in spot_orders)
    # the plan shown before showed the transfer between the phases
    assert doc["plan"]["transfers"][0]["to_perp"] is False


def test_the_plan_table_shows_the_transfer_between_the_phases(
    perp_usdc_only: Simulator, whole_account_targets: Path
) -> None:
    r = runner.invoke(app, ["plan", str(whole_account_targets), "--api-url", perp_usdc_only.url, "--address", USER])
    assert r.exit_code == 0, r.stderr
    assert "transfer" in r.stdout and "perp -> spot" in r.stdout
    assert r.stdout.index("transfer") < r.stdout.index("HYPE/USDC")


def test_an_api_wallet_cannot_transfer_so_the_owner_is_told_and_exit_is_5(
    perp_usdc_only: Simulator, whole_account_targets: Path, tmp_path: Path
) -> None:
    sim = perp_usdc_only
    agent = Account.create()
    sim.approve_agent(USER, agent.address)
    key = tmp_path / "agent.key"
    key.write_text(agent.key.hex())
    key.chmod(0o600)
    r = runner.invoke(
        app,
        [
            "execute",
            str(whole_account_targets),
            "--api-url",
            sim.url,
            "--key-file",
            str(key),
            "--address",
            USER,
            "--journal",
            str(tmp_path / "j.jsonl"),
            "--yes",
            "--json",
        ],
    )
    assert r.exit_code == 5, r.stdout
    doc = json.loads(r.stdout)
    assert doc["blocked_transfers"] and "owner must transfer" in doc["message"]
    assert sim.counts.get("exchange.usdClassTransfer", 0) == 0
    assert abs(weights(sim)["BTC"] - D("0.3")) < D("0.005")  # what it could do, it did


def test_unified_account_trades_spot_and_perps_without_any_transfer(
    key_file: Path, whole_account_targets: Path, tmp_path: Path
) -> None:
    doc = make_snapshot({}, cash="0", user=USER, spot={"USDC": "100000"}, mode="unifiedAccount")
    with Simulator(snapshot=doc) as sim:
        acct = runner.invoke(app, ["account", "--api-url", sim.url, "--address", USER, "--json"])
        assert json.loads(acct.stdout)["account_mode"] == "unified"
        r = runner.invoke(
            app,
            [
                "execute",
                str(whole_account_targets),
                "--api-url",
                sim.url,
                "--key-file",
                str(key_file),
                "--journal",
                str(tmp_path / "j.jsonl"),
                "--yes",
                "--json",
            ],
        )
        assert r.exit_code == 0, (r.stdout, r.stderr)
        assert json.loads(r.stdout)["transfers"] == []
        assert sim.counts.get("exchange.usdClassTransfer", 0) == 0
        w = weights(sim)
        assert abs(w["BTC"] - D("0.3")) < D("0.01") and abs(w["HYPE/USDC"] - D("0.2")) < D("0.01")


def test_the_sim_refuses_transfers_in_unified_mode_which_hlrebal_never_sends() -> None:
    from hlrebal.errors import ExchangeError
    from hlrebal.keys import SecretStr, SigningKey

    doc = make_snapshot({}, cash="0", user=USER, spot={"USDC": "1000"}, mode="unifiedAccount")
    with Simulator(snapshot=doc) as sim:
        client = ExchangeClient(sim.url, network="custom")
        client.attach_signer(SigningKey(SecretStr(OWNER_KEY), "test"))
        with pytest.raises(ExchangeError) as e:
            client.usd_class_transfer(D("10"), to_perp=True)
        assert "Action disabled when unified account is active" in str(e.value)


def test_a_whole_account_read_costs_at_most_six_info_requests(perp_usdc_only: Simulator) -> None:
    sim = perp_usdc_only
    sim.fund_spot(USER, "HYPE", "10")
    sim.fund_spot(USER, "USDC", "100")
    sim.reset_counts()
    snap = ExchangeClient(sim.url, network="custom").read_snapshot(USER, spot=True)
    info = {k: v for k, v in sim.counts.items() if k.startswith("info.")}
    assert sum(info.values()) <= 6 and all(v == 1 for v in info.values()), info
    assert snap.spot_balances["HYPE"].total == D("10")
    raw = snap.to_raw()
    assert {"spotClearinghouseState", "spotMetaAndAssetCtxs", "userAbstraction"} <= set(raw)


def test_account_shows_spot_balances_and_mode(perp_usdc_only: Simulator) -> None:
    perp_usdc_only.fund_spot(USER, "HYPE", "10")
    r = runner.invoke(app, ["account", "--api-url", perp_usdc_only.url, "--address", USER])
    assert r.exit_code == 0
    assert "Spot balances" in r.stdout and "HYPE" in r.stdout and "standard" in r.stdout


def test_demo_account_is_the_seed_example_with_spot_usdc(_isolated_home: Path) -> None:
    r = runner.invoke(app, ["account", "--demo", "--json"])
    doc = json.loads(r.stdout)
    assert [(b["token"], b["total"]) for b in doc["spot"]] == [("USDC", "5000")]
    assert [(p["coin"], p["weight"]) for p in doc["positions"]] == [("BTC", "0.80000048")]
    assert doc["equity"] == "100000"
